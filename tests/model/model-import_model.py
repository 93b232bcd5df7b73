#!/usr/bin/env python3
"""model-import: an independent Python model of the member object, POLICY.md
§11.2 (with docs/wire.md "The member line" and docs/state.md "Import"), of an
imported member's first stage (§8), and of the first events after an import,
under apparel.yaml, grocery.yaml and minimal.yaml (hard-coded below, written
from the spec and the docs, never from lib/).

What it aims at:
  - the member object: every field, its JSON types and forms (`id`, `joined`,
    `birthday` date or null, `tags`, `tier`, `tier_since`, `points` lots,
    the four `*_by_month` objects, `orders`, `last_order`, `gifts_given` per
    gift kind, `paid`), numbers as for events (not an integer / negative:
    LOY_E_INVALID_MEMBER; outside int64: LOY_E_OVERFLOW), unknown fields at
    every level, entries that do not fit the policy (an unknown tier:
    LOY_E_UNKNOWN_TIER, in `tier` or in `gifts_given.upgrade`; an unknown
    plan: LOY_E_UNKNOWN_PLAN; a surprise entry in the wrong form for its
    `once`, a spend entry in the wrong form for its `period`, an unknown gift
    id, `orders` below the sum of `orders_by_month`, a bad date or month:
    LOY_E_INVALID_MEMBER), sums that leave int64 (lots, a metric's months):
    LOY_E_OVERFLOW;
  - which code wins when two things are wrong (docs/wire.md: an unknown
    field first, then the JSON types of the whole object, then the member
    layer's calls in the order init, birthday, tags, tier, lots, months,
    orders, last_order, gifts, plan); only pairs in different fields are
    generated, so the order inside one field is not assumed, and two faults
    of the JSON types are paired only when they give the same code (the
    docs do not order those checks among themselves);
  - a refused member line: exit 2 and `{"event": null, "error": {...}}`;
  - the starting stage (§8: as of the later of `joined` and `last_order`, no
    event), seen in the first result (a change is reported against it), e.g.
    a `last_order` more than a year before `joined` (dormant at once), or
    four orders in the last 12 imported months (loyal);
  - the first events: reviews due from `tier_since` (several in one event,
    the 12-month hold, one_level and to_qualified on the imported months),
    an upgrade on imported months with the upgrade gifts the imported ledger
    blocks (apparel: once: lifetime; grocery: every_time), expiry of imported
    lots (one effect per last day, lots with the same day merged), the end of
    an imported plan (its fee paid once, no savings; savings of later orders
    count) and its extension by a join (no `from`), a plan conflict, birthday
    gifts blocked by imported years, surprise gifts blocked by imported
    entries (per_year and lifetime), spend gifts blocked by imported months
    and order ids; order points with the tier multipliers of the imported
    tier; redemptions taking imported lots soonest-expiring first (their
    refusals in the order of §4.5), seen in later expiry; the lifetime
    totals (minimal.yaml: lifetime window on imported months; lifecycle
    orders_at_least on imported `orders`);
  - benefit queries (§11.4) on the imported member;
  - `--state-out` then `--state-in` against one run, cut at a random line.

Run:  python3 tests/model/model-import_model.py BIN FIRST_SEED LAST_SEED [SCRATCH]
  e.g. python3 tests/model/model-import_model.py build-model-import/loyalty 0 400
(POLICIES=dir overrides the policies folder, default ../shared/spec/policies.)
Failing histories are kept in SCRATCH as bad-SEED.jsonl.
Also: actions after an import (limit counters start empty, §11.2: a
`signup` once is still open), and imported months after the first event's
month (outside N_months and calendar_year windows until reached, inside the
lifetime totals at once).
Not modelled (never generated): returns, profile events, channels other
than pos, mixed offsets, invalid events, policy changes; a `tier` and its
`tier_since` (or a plan and its `until`) both wrong; gifts_given under
minimal.yaml other than unknown gift ids.
"""
import calendar, copy, datetime as dt, json, os, random, subprocess, sys
from fractions import Fraction as F
import xxhash

D = dt.date
ONE = dt.timedelta(days=1)
I64 = 2**63 - 1

from modelkit import PD, addm, eom, ym, mback, norm, replay_args
def ymstr(k): return '%04d-%02d' % k

# ------------------------------------------------------------------ policies
POL = {
  'apparel': dict(
    levels=['member', 'silver', 'gold', 'platinum'],
    at=[0, 100000, 300000, 500000], keep=[0, 100000, 250000, 400000],
    metric='spend', window=('months', 12), review='anniversary', down='one_level', hold=12,
    tx={'gift_card'}, px={'gift_card', 'shipping'}, min_order=1000,
    rate=(100, 1), rounding='floor', scope='order', stacking='multiply',
    cap_order=20000, cap_day=30000, pending=7, expiry=('after', 12),
    upgrade={'silver': {'points': 200}, 'gold': {'points': 500, 'coupons': ['GOLD-WELCOME-100']},
             'platinum': {'coupons': ['PLAT-WELCOME-300'], 'items': ['SCARF-CASHMERE']}},
    up_once='lifetime', skipped='each',
    bday=dict(window='month', min_days=30, feb29='feb28',
              by_tier={'member': {'coupons': ['BDAY-20']}, 'gold': {'coupons': ['BDAY-100'], 'points': 300},
                       'platinum': {'coupons': ['BDAY-200'], 'points': 800, 'items': ['CAKE-VOUCHER']}}),
    surprise=[('crab-season', 'per_year'), ('new-fabric-trial', 'lifetime')],
    spend=[('monthly-credit', 'calendar_month', 200000, {'credit': 5000})],
    plans={}, growth=None,
    stages=[('dormant', ('dsl', 365)), ('loyal', ('oim', 12, 4)), ('repeat', ('oal', 2)), ('first', ('oal', 1)), ('registered', None)]),
  'grocery': dict(
    levels=['regular', 'silver', 'gold', 'platinum', 'black'],
    at=[0, 600, 2000, 6000, 15000], keep=[0, 600, 2000, 6000, 15000],
    metric='growth', window=('calendar_year',), review='calendar_year', down='to_qualified', hold=0,
    tx=set(), px={'bags', 'deposit'}, min_order=0,
    rate=(1000, 1), rounding='nearest', scope='line', stacking='add',
    cap_order=2000, cap_day=None, pending=0, expiry=('eoy', 1),
    upgrade={'silver': {'coupons': ['UP-SILVER-5']}, 'gold': {'coupons': ['UP-GOLD-10'], 'points': 50},
             'platinum': {'coupons': ['UP-PLAT-20'], 'points': 200},
             'black': {'items': ['PREMIUM-FRUIT-BOX'], 'points': 500}},
    up_once='every_time', skipped='highest',
    bday=dict(window=(3, 7), min_days=0, feb29='mar1',
              by_tier={'silver': {'coupons': ['BDAY-SILVER']}, 'gold': {'coupons': ['BDAY-GOLD'], 'items': ['FRUIT-CAKE']}}),
    surprise=[], spend=[('big-basket', 'order', 19900, {'coupons': ['NEXT-ORDER-5']})],
    plans={'annual': (19900, 12, True), 'monthly': (1900, 1, False)},
    growth=dict(amount=100, growth=1, per_order=5),
    stages=[('dormant', ('dsl', 90)), ('loyal', ('oim', 3, 4)), ('trying', ('oal', 1)), ('registered', None)]),
  'minimal': dict(
    levels=['member', 'vip'], at=[0, 50000], keep=[0, 50000],
    metric='spend', window=('lifetime',), review='never', down='one_level', hold=0,
    tx=set(), px=set(), min_order=0,
    rate=(100, 1), rounding='floor', scope='order', stacking='multiply',
    cap_order=None, cap_day=None, pending=0, expiry=None,
    upgrade={}, up_once='lifetime', skipped='each', bday=None, surprise=[], spend=[],
    plans={}, growth=None, stages=None),
}
METRICS = ['spend', 'growth', 'orders', 'pe']
MFIELD = {'spend': 'spend_by_month', 'growth': 'growth_by_month', 'orders': 'orders_by_month', 'pe': 'points_earned_by_month'}

# ------------------------------------------------------------------ the member state
class Err(Exception):
    def __init__(self, code): self.code = code

def lot_last(P, d):
    e = P['expiry']
    if e is None: return None
    if e[0] == 'after': return eom(addm(D(d.year, d.month, 1), e[1]))
    return D(d.year + e[1], 12, 31)

def bday_in(P, b, y):
    if b.month == 2 and b.day == 29 and not calendar.isleap(y):
        return D(y, 2, 28) if P['bday'] is None or P['bday']['feb29'] == 'feb28' else D(y, 3, 1)
    return D(y, b.month, b.day)

def tot(st, metric, k0, k1):          # months k0..k1 inclusive
    return sum(v[metric] for k, v in st['months'].items() if k0 <= k <= k1)

def metric_asof(P, st, d):
    m = P['metric']; w = P['window']
    if w[0] == 'lifetime': return st['life'][m]
    if w[0] == 'months': return max(0, tot(st, m, mback(ym(d), w[1] - 1), ym(d)))
    return tot(st, m, (d.year, 1), ym(d))

def lvl_for(P, v):
    i = 0
    for j, a in enumerate(P['at']):
        if a <= v: i = j
    return i

def stage_of(P, st, d):
    if P['stages'] is None: return None
    for sid, c in P['stages']:
        if c is None: return sid
        if c[0] == 'dsl':
            ref = st['last_order'] or st['joined']
            if (d - ref).days >= c[1]: return sid
        elif c[0] == 'oim':
            if tot(st, 'orders', mback(ym(d), c[1] - 1), ym(d)) >= c[2]: return sid
        elif c[0] == 'oal':
            if st['orders'] >= c[1]: return sid

def summary(st):
    return {'tier': st['P']['levels'][st['tier']],
            'points': {'available': sum(l['pts'] for l in st['lots'] if l['pu'] is None),
                       'pending': sum(l['pts'] for l in st['lots'] if l['pu'] is not None)},
            'stage': st['stage']}

def credit(st, pts, d, eff, src):
    P = st['P']; last = lot_last(P, d)
    e = {'type': 'points', 'delta': pts, 'source': src}
    if last: e['expires'] = last.isoformat()
    eff.append(e)
    for l in st['lots']:
        if l['pu'] is None and l['last'] == last: l['pts'] += pts; return
    st['lots'].append({'pts': pts, 'last': last, 'pu': None, 'oid': None})

def step2(st, d, eff):
    P = st['P']
    for l in list(st['lots']):
        if l['pu'] is not None and l['pu'] <= d:
            eff.append({'type': 'points_released', 'points': l['pts'], 'order': l['oid']})
            l['pu'] = None; l['oid'] = None
    # merge released lots into available lots of the same last day
    merged = []
    for l in st['lots']:
        if l['pu'] is None:
            for m in merged:
                if m['pu'] is None and m['last'] == l['last']: m['pts'] += l['pts']; break
            else: merged.append(l)
        else: merged.append(l)
    st['lots'] = merged
    exp = sorted({l['last'] for l in st['lots'] if l['last'] is not None and l['last'] < d})
    for x in exp:
        n = sum(l['pts'] for l in st['lots'] if l['last'] == x)
        eff.append({'type': 'points', 'delta': -n, 'source': 'expiry', 'expires': x.isoformat()})
        st['lots'] = [l for l in st['lots'] if l['last'] != x]
    pl = st['plan']
    if pl and pl['until'] < d:
        fee, months, g = P['plans'][pl['id']]
        eff.append({'type': 'paid_ended', 'plan': pl['id'], 'until': pl['until'].isoformat(),
                    'refund': max(0, pl['fees'] - pl['savings']) if g else 0})
        st['plan'] = None
    # reviews
    while st['tier'] > 0 and P['review'] != 'never':
        ts, lr = st['ts'], st['lr']
        if P['review'] == 'anniversary':
            k = 1
            while addm(ts, 12 * k) <= ts or (lr and addm(ts, 12 * k) <= lr): k += 1
            R = addm(ts, 12 * k)
        else:
            base = max(ts, lr) if lr else ts
            R = D(base.year + 1, 1, 1)
        if R > d: break
        st['lr'] = R
        if R < addm(ts, P['hold']): continue
        v = metric_asof(P, st, R - ONE)
        if v >= P['keep'][st['tier']]: continue
        new = st['tier'] - 1 if P['down'] == 'one_level' else min(lvl_for(P, v), st['tier'] - 1)
        eff.append({'type': 'tier_changed', 'from': P['levels'][st['tier']], 'to': P['levels'][new],
                    'reason': 'review', 'review_date': R.isoformat()})
        st['tier'] = new; st['ts'] = R

def bump(st, d, metric, v):
    k = ym(d); st['months'].setdefault(k, dict.fromkeys(METRICS, 0))[metric] += v
    st['life'][metric] += v

def plan_active(st, d): return st['plan'] is not None and st['plan']['until'] >= d

def order(st, ev, d, eff):
    P = st['P']; lines = ev.get('lines', [])
    elig = [l for l in lines if l['category'] not in P['px']]
    E = sum(l['amount'] for l in elig)
    tier = P['levels'][st['tier']]
    def mults(l):
        out = []
        if P is POL['apparel']:
            tb = {'silver': F(6, 5), 'gold': F(3, 2), 'platinum': F(2)}
            if tier in tb: out.append(('tier_bonus', tb[tier]))
            if d.day in (8, 18, 28): out.append(('member_day', F(2)))
            if st['birthday'] and bday_in(P, st['birthday'], d.year).month == d.month: out.append(('birthday_month', F(2)))
            if l['category'] == 'coats' and D(2026, 10, 1) <= d <= D(2026, 12, 31): out.append(('new_season', F(3, 2)))
        elif P is POL['grocery']:
            tb = {'gold': F(5, 4), 'platinum': F(3, 2), 'black': F(2)}
            if tier in tb: out.append(('tier_bonus', tb[tier]))
            if plan_active(st, d): out.append(('paid_bonus', F(2)))
            if d.weekday() == 3: out.append(('member_day', F(2)))
        return out
    pts = 0; rules = set()
    if E >= P['min_order'] and P['rate']:
        raws = []
        for l in elig:
            ms = mults(l); rules |= {m[0] for m in ms}
            if P['stacking'] == 'multiply':
                f = F(1)
                for m in ms: f *= m[1]
            else:
                f = max(F(0), 1 + sum(m[1] - 1 for m in ms))
            raws.append(F(l['amount'] * P['rate'][1], P['rate'][0]) * f)
        rnd = {'floor': lambda x: x.numerator // x.denominator,
               'nearest': lambda x: (x + F(1, 2)).numerator // (x + F(1, 2)).denominator}[P['rounding']]
        pts = rnd(sum(raws, F(0))) if P['scope'] == 'order' else sum(rnd(x) for x in raws)
        if P['cap_order'] is not None: pts = min(pts, P['cap_order'])
        if P['cap_day'] is not None:
            used = st['day'].get(d, 0); pts = max(0, min(pts, P['cap_day'] - used))
            st['day'][d] = used + pts
    order_names = {'apparel': ['tier_bonus', 'member_day', 'birthday_month', 'new_season'],
                   'grocery': ['tier_bonus', 'afternoon_tea', 'paid_bonus', 'member_day']}.get(st['pname'], [])
    if pts > 0:
        last = lot_last(P, d)
        e = {'type': 'points', 'delta': pts, 'source': 'order'}
        if P['pending']:
            pu = d + dt.timedelta(days=P['pending']); e['pending_until'] = pu.isoformat()
        if last: e['expires'] = last.isoformat()
        e['rules'] = [r for r in order_names if r in rules]
        eff.append(e)
        if P['pending']: st['lots'].append({'pts': pts, 'last': last, 'pu': pu, 'oid': ev['id']})
        else:
            for l in st['lots']:
                if l['pu'] is None and l['last'] == last: l['pts'] += pts; break
            else: st['lots'].append({'pts': pts, 'last': last, 'pu': None, 'oid': None})
    q = sum(l['amount'] for l in lines if l['category'] not in P['tx'])
    bump(st, d, 'spend', q); bump(st, d, 'orders', 1); bump(st, d, 'pe', pts)
    if P['growth']:
        g = P['growth']; bump(st, d, 'growth', q * g['growth'] // g['amount'] + g['per_order'])
    st['orders'] += 1; st['last_order'] = d
    if plan_active(st, d): st['plan']['savings'] += ev.get('savings', 0)
    return q

def apply(st, ev):
    """One event; returns the result object (the state is changed only when accepted)."""
    d = D.fromisoformat(ev['at'][:10])
    if ev['id'] in st['ids']:
        return {'event': ev['id'], 'error': {'code': 'LOY_E_DUPLICATE'}}
    new = copy.deepcopy(st); new['P'] = st['P']; P = st['P']
    eff = []
    step2(new, d, eff)
    q = None
    if ev['type'] == 'order': q = order(new, ev, d, eff)
    elif ev['type'] == 'action':
        A = {'apparel': {'signup': (100, 'once', 0), 'review': (10, 'month', 5), 'share': (5, 'day', 3)},
             'grocery': {'check_in': (1, 'day', 1), 'review': (2, 'week', 10), 'referral': (100, 'year', 20)}}.get(st['pname'], {})
        G = {'check_in': 1, 'review': 3} if st['pname'] == 'grocery' else {}
        k = ev['kind']; counted = k not in A
        if k in A:
            pts, per, cnt = A[k]
            pk = {'once': 'once', 'day': d, 'week': d - dt.timedelta(days=d.weekday()), 'month': ym(d), 'year': d.year}[per]
            used = new['lim'].get((k, pk), 0)
            if used < (1 if per == 'once' else cnt):
                new['lim'][(k, pk)] = used + 1; counted = True
                if pts:
                    credit(new, pts, d, eff, 'action'); eff[-1]['kind'] = k
                    bump(new, d, 'pe', pts)
                cov('action-counted')
            else: cov('action-over-limit')
        if counted and k in G: bump(new, d, 'growth', G[k])
    elif ev['type'] == 'redeem':
        RD = {'apparel': (100, 100, 100, 100, F(3, 10)), 'grocery': (10, 100, 10, 10, F(1, 2))}.get(st['pname'])
        if RD is None: return {'event': ev['id'], 'error': {'code': 'LOY_E_REDEEM_DISABLED'}}
        rp, ra, mn, step, share = RD; n = ev['points']
        avail = summary(new)['points']['available']
        val = n * ra // rp
        code = ('LOY_E_INSUFFICIENT_POINTS' if n > avail else 'LOY_E_BELOW_MIN_POINTS' if n < mn else
                'LOY_E_NOT_STEP_MULTIPLE' if n % step else 'LOY_E_OVER_ORDER_SHARE' if val > share * ev['order_amount'] else None)
        if code: return {'event': ev['id'], 'error': {'code': code}}
        left = n      # soonest-expiring lots first, never-expiring last
        for l in sorted([l for l in new['lots'] if l['pu'] is None], key=lambda l: (l['last'] is None, l['last'] or D.max)):
            t = min(left, l['pts']); l['pts'] -= t; left -= t
        new['lots'] = [l for l in new['lots'] if l['pts'] > 0]
        eff.append({'type': 'points', 'delta': -n, 'source': 'redeem', 'value': val})
        cov('redeem-ok')
    elif ev['type'] == 'join_paid':
        if ev['plan'] not in P['plans']: return {'event': ev['id'], 'error': {'code': 'LOY_E_UNKNOWN_PLAN'}}
        fee, months, g = P['plans'][ev['plan']]
        pl = new['plan']
        if pl and pl['id'] != ev['plan']: return {'event': ev['id'], 'error': {'code': 'LOY_E_PLAN_CONFLICT'}}
        if pl:
            pl['until'] = addm(pl['until'] + ONE, months) - ONE; pl['fees'] += fee
            e = {'type': 'paid_started', 'plan': pl['id']}
            if pl['from']: e['from'] = pl['from'].isoformat()
            e['until'] = pl['until'].isoformat(); e['extended'] = True; eff.append(e)
        else:
            new['plan'] = {'id': ev['plan'], 'from': d, 'until': addm(d, months) - ONE, 'fees': fee, 'savings': 0}
            eff.append({'type': 'paid_started', 'plan': ev['plan'], 'from': d.isoformat(), 'until': new['plan']['until'].isoformat()})
    # step 4
    v = metric_asof(P, new, d); nl = lvl_for(P, v)
    if nl > new['tier']:
        old = new['tier']
        eff.append({'type': 'tier_changed', 'from': P['levels'][old], 'to': P['levels'][nl], 'reason': 'upgrade'})
        new['tier'] = nl; new['ts'] = d
        rng = range(old + 1, nl + 1) if P['skipped'] == 'each' else [nl]
        for i in rng:
            t = P['levels'][i]
            if t not in P['upgrade']: continue
            if P['up_once'] == 'lifetime' and t in new['g_up']: continue
            new['g_up'].add(t)
            eff.append({'type': 'gift', 'gift': 'upgrade', 'tier': t, 'reward': P['upgrade'][t]})
            if 'points' in P['upgrade'][t]: credit(new, P['upgrade'][t]['points'], d, eff, 'upgrade')
    # step 5: birthday
    B = P['bday']
    if B and new['birthday'] and (d - new['joined']).days >= B['min_days']:
        occ = None
        for y in (d.year - 1, d.year, d.year + 1):
            if not 1 <= y <= 9999: continue
            bd = bday_in(P, new['birthday'], y)
            if B['window'] == 'month': hit = (bd.year, bd.month) == ym(d)
            else: hit = bd - dt.timedelta(days=B['window'][0]) <= d <= bd + dt.timedelta(days=B['window'][1])
            if hit: occ = y; break
        if occ is not None and occ not in new['g_bd']:
            gt = None
            for i in range(new['tier'], -1, -1):
                if P['levels'][i] in B['by_tier']: gt = P['levels'][i]; break
            if gt:
                new['g_bd'].add(occ); r = B['by_tier'][gt]
                eff.append({'type': 'gift', 'gift': 'birthday', 'tier': gt, 'year': occ, 'reward': r})
                if 'points' in r: credit(new, r['points'], d, eff, 'birthday')
    # surprise (apparel only)
    for gid, once in P['surprise']:
        if gid == 'crab-season':
            ok = new['tier'] >= 3 and D(2026, 11, 1) <= d <= D(2026, 11, 11); T = 10000; r = {'items': ['HAIRY-CRAB-BOX']}
        else:
            ok = new['tier'] >= 1 and d.month == 3; T = 500; r = {'coupons': ['TRIAL-LINEN']}
        key = (gid, d.year if once == 'per_year' else 0)
        if not ok or key in new['g_sur']: continue
        if xxhash.xxh3_64_intdigest((new['id'] + ':' + gid).encode()) % 10000 >= T: continue
        new['g_sur'].add(key)
        eff.append({'type': 'gift', 'gift': 'surprise', 'id': gid, 'reward': r})
    if ev['type'] == 'order':
        for gid, per, at_least, r in P['spend']:
            if per == 'order': val, key = q, ev['id']
            else: val, key = tot(new, 'spend', ym(d), ym(d)), ymstr(ym(d))
            if val >= at_least and (gid, key) in new['g_sp'] and ev['id'] not in new['ids']: cov('spend-gift-blocked-' + per)
            if val >= at_least and (gid, key) not in new['g_sp']:
                new['g_sp'].add((gid, key))
                e = {'type': 'gift', 'gift': 'spend', 'id': gid}
                if per != 'order': e['period'] = key
                e['reward'] = r; eff.append(e)
    # step 6
    s = stage_of(P, new, d)
    if s != new['stage']:
        eff.append({'type': 'stage_changed', 'from': new['stage'], 'to': s}); new['stage'] = s
    new['ids'].add(ev['id'])
    st.clear(); st.update(new)
    return {'event': ev['id'], 'effects': eff, 'member': summary(st)}

# ------------------------------------------------------------------ benefit queries
def benefits(st, at):
    d = D.fromisoformat(at[:10]); P = st['P']
    c = copy.deepcopy(st); c['P'] = P
    step2(c, d, [])
    tier = c['tier']; L = P['levels']; out = []
    def tal(t): return tier >= L.index(t)
    if st['pname'] == 'apparel':
        pts = summary(c)['points']['available']
        emp = 'employee' in c['tags']; vip = 'vip-list' in c['tags']
        spec = [('member-price', 'purchase', [] if tal('silver') else [{'tier_at_least': 'silver'}]),
                ('free-shipping', 'service', [] if tal('gold') else [{'tier_at_least': 'gold'}]),
                ('alteration', 'service', [] if tal('gold') else [{'tier_at_least': 'gold'}]),
                ('stylist', 'service', [] if tal('platinum') else [{'tier_at_least': 'platinum'}]),
                ('designer-salon', 'activity', ([] if tal('platinum') else [{'tier_at_least': 'platinum'}]) +
                                               ([] if pts >= 1000 else [{'points_at_least': 1000}])),
                ('preview-launch', 'product', [] if (tal('gold') or vip) else [{'any': [{'tier_at_least': 'gold'}, {'tags': ['vip-list']}]}]),
                ('staff-discount', 'purchase', [] if emp else [{'tags': ['employee']}])]
        vals = {'silver': 0.95, 'gold': 0.9, 'platinum': 0.85}
        for bid, kind, rs in spec:
            e = {'id': bid, 'kind': kind, 'open': not rs}
            if rs: e['reasons'] = rs
            if bid == 'member-price':
                for i in range(tier, -1, -1):
                    if L[i] in vals: e['value'] = vals[L[i]]; break
            out.append(e)
    elif st['pname'] == 'grocery':
        pa = plan_active(c, d); pid = c['plan']['id'] if c['plan'] else None
        thu = d.weekday() == 3
        spec = [('tasting', 'product', [] if tal('gold') else [{'tier_at_least': 'gold'}]),
                ('monthly-coupons', 'purchase', [] if pa else [{'paid': 'active'}]),
                ('pickup-coupon', 'purchase', ([] if pa else [{'paid': 'active'}]) + [{'channel': ['mini_program']}]),
                ('free-veg', 'gift', ([] if pa else [{'paid': 'active'}]) + ([] if thu else [{'weekday': ['thu']}])),
                ('delivery-priority', 'service', [] if (pid == 'annual' and pa) or L[tier] == 'black'
                                                  else [{'any': [{'paid': ['annual']}, {'tier': ['black']}]}])]
        for bid, kind, rs in spec:
            e = {'id': bid, 'kind': kind, 'open': not rs}
            if rs: e['reasons'] = rs
            out.append(e)
    return {'query': 'benefits', 'at': at, 'benefits': out, 'member': summary(c)}

# ------------------------------------------------------------------ import (the model of §11.2)
FIELDS = ['id', 'joined', 'birthday', 'tags', 'tier', 'tier_since', 'points', 'spend_by_month', 'growth_by_month',
          'orders_by_month', 'points_earned_by_month', 'orders', 'last_order', 'gifts_given', 'paid']

def pdate(s):
    if not (isinstance(s, str) and len(s) == 10 and s[4] == '-' and s[7] == '-' and s[:4].isdigit() and s[5:7].isdigit() and s[8:].isdigit()):
        raise Err('LOY_E_INVALID_MEMBER')
    try: return D(int(s[:4]), int(s[5:7]), int(s[8:]))
    except ValueError: raise Err('LOY_E_INVALID_MEMBER')

def num(v):
    """a JSON number given as int, or RawNum (text) for the forms Python cannot hold."""
    if isinstance(v, bool) or not isinstance(v, (int, RawNum)): raise Err('LOY_E_INVALID_MEMBER')
    if isinstance(v, RawNum): raise Err('LOY_E_INVALID_MEMBER')   # 1.5, 1e2, 1.0: not integers
    if v < 0: raise Err('LOY_E_INVALID_MEMBER')
    if v > I64: raise Err('LOY_E_OVERFLOW')
    return v

class RawNum(str): pass

def check_types(m):
    for k in m:
        if k not in FIELDS: raise Err('LOY_E_INVALID_MEMBER')
    def nes(v):
        if not isinstance(v, str) or v == '': raise Err('LOY_E_INVALID_MEMBER')
    def s(v):
        if not isinstance(v, str): raise Err('LOY_E_INVALID_MEMBER')
    for f in ('id', 'joined'):
        if f not in m: raise Err('LOY_E_INVALID_MEMBER')
    for f in FIELDS:
        if f not in m: continue
        v = m[f]
        if f == 'id': nes(v)
        elif f in ('joined', 'tier', 'tier_since', 'last_order'): s(v)
        elif f == 'birthday':
            if v is not None: s(v)
        elif f == 'tags':
            if not isinstance(v, list): raise Err('LOY_E_INVALID_MEMBER')
            for t in v: nes(t)
        elif f == 'points':
            if not isinstance(v, list): raise Err('LOY_E_INVALID_MEMBER')
            for l in v:
                if not isinstance(l, dict) or 'points' not in l or any(k not in ('points', 'expires') for k in l):
                    raise Err('LOY_E_INVALID_MEMBER')
                num(l['points'])
                if 'expires' in l: s(l['expires'])
        elif f.endswith('_by_month'):
            if not isinstance(v, dict): raise Err('LOY_E_INVALID_MEMBER')
            for x in v.values(): num(x)
        elif f == 'orders': num(v)
        elif f == 'gifts_given':
            if not isinstance(v, dict): raise Err('LOY_E_INVALID_MEMBER')
            for k, lst in v.items():
                if k not in ('upgrade', 'birthday', 'surprise', 'spend') or not isinstance(lst, list): raise Err('LOY_E_INVALID_MEMBER')
                for x in lst:
                    if k == 'birthday': num(x)
                    else: s(x)
        elif f == 'paid':
            if not isinstance(v, dict) or set(v) != {'plan', 'until'}: raise Err('LOY_E_INVALID_MEMBER')
            s(v['plan']); s(v['until'])

def do_import(pname, m):
    P = POL[pname]
    check_types(m)
    st = {'P': P, 'pname': pname, 'id': m['id'], 'joined': pdate(m['joined'])}
    st['birthday'] = pdate(m['birthday']) if m.get('birthday') is not None else None
    st['tags'] = list(m.get('tags', []))
    if 'tier' in m:
        if m['tier'] not in P['levels']: raise Err('LOY_E_UNKNOWN_TIER')
        st['tier'] = P['levels'].index(m['tier'])
    else: st['tier'] = 0
    st['ts'] = pdate(m['tier_since']) if 'tier_since' in m else st['joined']
    st['lr'] = None
    st['lots'] = []
    total = 0
    for l in m.get('points', []):
        last = pdate(l['expires']) if 'expires' in l else None
        total += l['points']
        if total > I64: raise Err('LOY_E_OVERFLOW')
        if l['points'] == 0: continue
        for x in st['lots']:
            if x['last'] == last: x['pts'] += l['points']; break
        else: st['lots'].append({'pts': l['points'], 'last': last, 'pu': None, 'oid': None})
    st['months'] = {}; st['life'] = dict.fromkeys(METRICS, 0)
    for mt in METRICS:
        for k, v in m.get(MFIELD[mt], {}).items():
            if not (len(k) == 7 and k[4] == '-' and k[:4].isdigit() and k[5:].isdigit() and 1 <= int(k[5:]) <= 12):
                raise Err('LOY_E_INVALID_MEMBER')
            key = (int(k[:4]), int(k[5:]))
            st['life'][mt] += v
            if st['life'][mt] > I64: raise Err('LOY_E_OVERFLOW')
            st['months'].setdefault(key, dict.fromkeys(METRICS, 0))[mt] = v
    osum = st['life']['orders']
    if 'orders' in m:
        if m['orders'] < osum: raise Err('LOY_E_INVALID_MEMBER')
        st['orders'] = m['orders']
    else: st['orders'] = osum
    st['last_order'] = pdate(m['last_order']) if 'last_order' in m else None
    st['g_up'], st['g_bd'], st['g_sur'], st['g_sp'] = set(), set(), set(), set()
    gg = m.get('gifts_given', {})
    for kind in ('upgrade', 'birthday', 'surprise', 'spend'):
        for x in gg.get(kind, []):
            if kind == 'upgrade':
                if x not in P['levels']: raise Err('LOY_E_UNKNOWN_TIER')
                st['g_up'].add(x)
            elif kind == 'birthday':
                if x > 9999: raise Err('LOY_E_INVALID_MEMBER')
                st['g_bd'].add(x)
            elif kind == 'surprise':
                gid, sep, rest = x.partition(':')
                once = dict(P['surprise']).get(gid)
                if once is None: raise Err('LOY_E_INVALID_MEMBER')
                if once == 'lifetime':
                    if sep: raise Err('LOY_E_INVALID_MEMBER')
                    st['g_sur'].add((gid, 0))
                else:
                    if not (sep and len(rest) == 4 and rest.isdigit()): raise Err('LOY_E_INVALID_MEMBER')
                    st['g_sur'].add((gid, int(rest)))
            else:
                gid, sep, rest = x.partition(':')
                per = {g[0]: g[1] for g in P['spend']}.get(gid)
                if per is None or not sep: raise Err('LOY_E_INVALID_MEMBER')
                if per == 'calendar_month':
                    if not (len(rest) == 7 and rest[4] == '-' and rest[:4].isdigit() and rest[5:].isdigit() and 1 <= int(rest[5:]) <= 12):
                        raise Err('LOY_E_INVALID_MEMBER')
                elif per == 'calendar_year':
                    if not (len(rest) == 4 and rest.isdigit()): raise Err('LOY_E_INVALID_MEMBER')
                elif rest == '': raise Err('LOY_E_INVALID_MEMBER')
                st['g_sp'].add((gid, rest))
    st['plan'] = None
    if 'paid' in m:
        if m['paid']['plan'] not in P['plans']: raise Err('LOY_E_UNKNOWN_PLAN')
        u = pdate(m['paid']['until'])
        st['plan'] = {'id': m['paid']['plan'], 'from': None, 'until': u, 'fees': P['plans'][m['paid']['plan']][0], 'savings': 0}
    st['day'] = {}; st['ids'] = set(); st['lim'] = {}
    a = max(st['joined'], st['last_order']) if st['last_order'] else st['joined']
    st['stage'] = stage_of(P, st, a)
    return st

# ------------------------------------------------------------------ generator
COV = {}
def cov(k): COV[k] = COV.get(k, 0) + 1

def rdate(r, a, b): return a + dt.timedelta(days=r.randrange((b - a).days + 1))

def oid_of(n, kind):
    """order ids: plain, with a ':' (an entry splits at its first ':'), CJK, a ':' inside CJK"""
    return ['O-%d', 'O:%d', '订单-%d', '订单:%d:x'][kind] % n

def gen_member(r, pname, first, seed_kind=0):
    """A valid member object (dict) whose fields are all plausible for `pname`."""
    P = POL[pname]
    m = {'id': 'M-%d' % r.randrange(10**6), 'joined': rdate(r, D(2022, 1, 1), first).isoformat()}
    if r.random() < 0.2: m['joined'] = rdate(r, first, first + dt.timedelta(days=40)).isoformat(); cov('joined-after-first-event')
    if r.random() < 0.6:
        b = rdate(r, D(1960, 1, 1), D(2005, 12, 31))
        if r.random() < 0.1: b = D(r.choice([1988, 1992, 2000]), 2, 29)
        if r.random() < 0.4: b = D(b.year, first.month, min(b.day, 28))
        m['birthday'] = b.isoformat()
    elif r.random() < 0.2: m['birthday'] = None
    if r.random() < 0.4: m['tags'] = r.sample(['employee', 'vip-list', 'wholesale', '会员'], r.randrange(0, 3))
    if r.random() < 0.7:
        m['tier'] = r.choice(P['levels'])
        if r.random() < 0.8: m['tier_since'] = rdate(r, first - dt.timedelta(days=1300), first).isoformat()
        elif r.random() < 0.3: m['tier_since'] = rdate(r, first, first + dt.timedelta(days=400)).isoformat(); cov('tier-since-after-first-event')
    elif r.random() < 0.2: m['tier_since'] = rdate(r, D(2022, 1, 1), first).isoformat()
    if r.random() < 0.6:
        m['points'] = []
        for _ in range(r.randrange(1, 5)):
            l = {'points': r.choice([0, 1, 50, 999, 1000, 2500, r.randrange(1, 40000)])}
            if r.random() < 0.8:
                l['expires'] = rdate(r, first - dt.timedelta(days=200), first + dt.timedelta(days=500)).isoformat()
                if m['points'] and r.random() < 0.25 and 'expires' in m['points'][-1]: l['expires'] = m['points'][-1]['expires']
            m['points'].append(l)
    fk = ym(first)
    for mt in METRICS:
        if r.random() < (0.7 if mt in ('spend', 'orders') or (mt == 'growth' and pname == 'grocery') else 0.25):
            o = {}
            for _ in range(r.randrange(1, 8)):
                k = mback(fk, r.randrange(0, 26) if r.random() < 0.8 else r.randrange(26, 50) if r.random() < 0.6 else -r.randrange(1, 8))
                big = {'spend': [50000, 120000, 300000, 600000], 'growth': [100, 600, 2500, 9000],
                       'orders': [1, 2, 5], 'pe': [100, 5000]}[mt]
                o[ymstr(k)] = r.choice([0, r.choice(big), r.randrange(0, 2 * max(big))])
            m[MFIELD[mt]] = o
    if r.random() < 0.4:
        s = sum(m.get('orders_by_month', {}).values())
        m['orders'] = s + r.choice([0, 0, 1, 3, 40])
    if r.random() < 0.6:
        j = D.fromisoformat(m['joined'])
        m['last_order'] = rdate(r, j - dt.timedelta(days=800), first).isoformat()
        if r.random() < 0.3: m['last_order'] = rdate(r, j - dt.timedelta(days=800), j).isoformat(); cov('last-order-before-joined')
    if pname != 'minimal' and r.random() < 0.6:
        g = {}
        if r.random() < 0.6: g['upgrade'] = r.sample(P['levels'], r.randrange(0, len(P['levels']) + 1))
        if r.random() < 0.5: g['birthday'] = [r.choice([first.year - 1, first.year, first.year + 1]) for _ in range(r.randrange(0, 3))]
        if P['surprise'] and r.random() < 0.5:
            g['surprise'] = r.sample(['crab-season:2026', 'crab-season:2025', 'new-fabric-trial'], r.randrange(0, 3))
        if P['spend'] and r.random() < 0.6:
            if pname == 'apparel':
                g['spend'] = ['monthly-credit:' + ymstr(mback(fk, r.randrange(-3, 3))) for _ in range(r.randrange(1, 3))]
            else:
                g['spend'] = ['big-basket:' + oid_of(r.randrange(1, 5), seed_kind) for _ in range(r.randrange(1, 3))]
        m['gifts_given'] = g
    if P['plans'] and r.random() < 0.5:
        m['paid'] = {'plan': r.choice(list(P['plans'])), 'until': rdate(r, first - dt.timedelta(days=60), first + dt.timedelta(days=200)).isoformat()}
    return m

# faults: (field, phase, code, mutate(m, P, r)); phase 0 unknown field, 1 JSON types, 2 member layer
def _set(f, v): return lambda m, P, r: m.__setitem__(f, v)
def _lot(v): return lambda m, P, r: m.setdefault('points', []).append(v)
def _month(f, k, v): return lambda m, P, r: m.setdefault(f, {}).__setitem__(k, v)
def _gift(kind, x): return lambda m, P, r: m.setdefault('gifts_given', {}).setdefault(kind, []).append(x)
def _orders_below(m):
    """`orders` one below the sum of `orders_by_month` (a month of 3 orders added when there is none)."""
    o = m.setdefault('orders_by_month', {})
    if not isinstance(o, dict): o = m['orders_by_month'] = {}
    if not any(isinstance(v, int) and v > 0 for v in o.values()): o['2025-05'] = 3
    m['orders'] = sum(v for v in o.values() if isinstance(v, int)) - 1
FAULTS = [
    ('unknown', 0, 'LOY_E_INVALID_MEMBER', _set('tiers', 'gold')),
    ('unknown', 0, 'LOY_E_INVALID_MEMBER', _set('birth_day', '1990-01-01')),
    ('id', 1, 'LOY_E_INVALID_MEMBER', _set('id', '')),
    ('id', 1, 'LOY_E_INVALID_MEMBER', _set('id', 17)),
    ('id', 1, 'LOY_E_INVALID_MEMBER', lambda m, P, r: m.pop('id')),
    ('joined', 1, 'LOY_E_INVALID_MEMBER', lambda m, P, r: m.pop('joined')),
    ('joined', 1, 'LOY_E_INVALID_MEMBER', _set('joined', 20250101)),
    ('joined', 2, 'LOY_E_INVALID_MEMBER', _set('joined', '2025-02-29')),
    ('joined', 2, 'LOY_E_INVALID_MEMBER', _set('joined', '2025-1-05')),
    ('birthday', 1, 'LOY_E_INVALID_MEMBER', _set('birthday', 19900101)),
    ('birthday', 2, 'LOY_E_INVALID_MEMBER', _set('birthday', '1990-13-01')),
    ('birthday', 2, 'LOY_E_INVALID_MEMBER', _set('birthday', '1990-04-31')),
    ('tags', 1, 'LOY_E_INVALID_MEMBER', _set('tags', 'vip-list')),
    ('tags', 1, 'LOY_E_INVALID_MEMBER', _set('tags', ['employee', ''])),
    ('tags', 1, 'LOY_E_INVALID_MEMBER', _set('tags', ['employee', 3])),
    ('tier', 1, 'LOY_E_INVALID_MEMBER', _set('tier', 2)),
    ('tier', 2, 'LOY_E_UNKNOWN_TIER', _set('tier', 'diamond')),
    ('tier', 2, 'LOY_E_UNKNOWN_TIER', _set('tier', 'Gold')),
    ('tier_since', 2, 'LOY_E_INVALID_MEMBER', _set('tier_since', '2025-06-31')),
    ('points', 1, 'LOY_E_INVALID_MEMBER', _lot({'points': -5})),
    ('points', 1, 'LOY_E_INVALID_MEMBER', _lot({'points': RawNum('1.5')})),
    ('points', 1, 'LOY_E_INVALID_MEMBER', _lot({'points': RawNum('1e2')})),
    ('points', 1, 'LOY_E_INVALID_MEMBER', _lot({'points': RawNum('100.0')})),
    ('points', 1, 'LOY_E_INVALID_MEMBER', _lot({'points': '100'})),
    ('points', 1, 'LOY_E_INVALID_MEMBER', _lot({'points': 5, 'expiry': '2027-01-31'})),
    ('points', 1, 'LOY_E_INVALID_MEMBER', _lot({'expires': '2027-01-31'})),
    ('points', 1, 'LOY_E_OVERFLOW', _lot({'points': 2**63})),
    ('points', 2, 'LOY_E_INVALID_MEMBER', _lot({'points': 5, 'expires': '2027-02-29'})),
    ('points', 2, 'LOY_E_OVERFLOW', lambda m, P, r: m.setdefault('points', []).extend(
        [{'points': I64 - 5, 'expires': '2027-01-31'}, {'points': 6}])),
    ('spend_by_month', 1, 'LOY_E_INVALID_MEMBER', _month('spend_by_month', '2026-01', -1)),
    ('spend_by_month', 1, 'LOY_E_INVALID_MEMBER', _month('spend_by_month', '2026-01', RawNum('1.0'))),
    ('spend_by_month', 1, 'LOY_E_OVERFLOW', _month('spend_by_month', '2026-01', 2**64)),
    ('spend_by_month', 2, 'LOY_E_INVALID_MEMBER', _month('spend_by_month', '2026-13', 5)),
    ('spend_by_month', 2, 'LOY_E_INVALID_MEMBER', _month('spend_by_month', '2026-1', 5)),
    ('spend_by_month', 2, 'LOY_E_OVERFLOW', lambda m, P, r: m.__setitem__('spend_by_month', {'2025-01': I64, '2025-02': 1})),
    ('growth_by_month', 1, 'LOY_E_INVALID_MEMBER', _month('growth_by_month', '2026-02', '5')),
    ('orders_by_month', 1, 'LOY_E_INVALID_MEMBER', _set('orders_by_month', [1, 2])),
    ('orders_by_month', 2, 'LOY_E_INVALID_MEMBER', _month('orders_by_month', '26-01', 1)),
    ('points_earned_by_month', 1, 'LOY_E_INVALID_MEMBER', _month('points_earned_by_month', '2026-03', RawNum('2.5'))),
    ('orders', 1, 'LOY_E_INVALID_MEMBER', _set('orders', '7')),
    ('orders', 1, 'LOY_E_INVALID_MEMBER', _set('orders', -1)),
    ('orders', 1, 'LOY_E_INVALID_MEMBER', _set('orders', RawNum('7.0'))),
    ('orders', 1, 'LOY_E_OVERFLOW', _set('orders', 2**63)),
    ('orders', 2, 'LOY_E_INVALID_MEMBER', lambda m, P, r: _orders_below(m)),
    ('last_order', 1, 'LOY_E_INVALID_MEMBER', _set('last_order', None)),
    ('last_order', 2, 'LOY_E_INVALID_MEMBER', _set('last_order', '2026-00-10')),
    ('gifts_given', 1, 'LOY_E_INVALID_MEMBER', _gift('birthday', '2025')),
    ('gifts_given', 1, 'LOY_E_INVALID_MEMBER', _gift('birthday', -1)),
    ('gifts_given', 1, 'LOY_E_INVALID_MEMBER', _gift('upgrade', 3)),
    ('gifts_given', 1, 'LOY_E_INVALID_MEMBER', _set('gifts_given', {'welcome': ['x']})),
    ('gifts_given', 1, 'LOY_E_INVALID_MEMBER', _set('gifts_given', ['silver'])),
    ('gifts_given', 2, 'LOY_E_UNKNOWN_TIER', _gift('upgrade', 'diamond')),
    ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('surprise', 'no-such-gift')),
    ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('spend', 'no-such-gift:2026-01')),
    ('paid', 1, 'LOY_E_INVALID_MEMBER', _set('paid', {'plan': 'annual'})),
    ('paid', 1, 'LOY_E_INVALID_MEMBER', _set('paid', {'plan': 'annual', 'until': '2027-01-01', 'fee': 199})),
    ('paid', 1, 'LOY_E_INVALID_MEMBER', _set('paid', 'annual')),
    ('paid', 2, 'LOY_E_UNKNOWN_PLAN', _set('paid', {'plan': 'platinum-plus', 'until': '2027-01-01'})),
]
FAULTS_BY_POL = {
    'apparel': [
        ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('surprise', 'crab-season')),
        ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('surprise', 'crab-season:26')),
        ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('surprise', 'new-fabric-trial:2026')),
        ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('spend', 'monthly-credit:2026')),
        ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('spend', 'monthly-credit')),
        ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('spend', 'monthly-credit:2026-13')),
        ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('birthday', 10000)),
        ('paid', 2, 'LOY_E_UNKNOWN_PLAN', _set('paid', {'plan': 'annual', 'until': '2027-01-01'})),
    ],
    'grocery': [
        ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('spend', 'big-basket')),
        ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('surprise', 'crab-season:2026')),
        ('paid', 2, 'LOY_E_INVALID_MEMBER', _set('paid', {'plan': 'annual', 'until': '2027-02-30'})),
        ('paid', 2, 'LOY_E_INVALID_MEMBER', _set('paid', {'plan': 'monthly', 'until': '27-01-01'})),
    ],
    'minimal': [
        ('paid', 2, 'LOY_E_UNKNOWN_PLAN', _set('paid', {'plan': 'annual', 'until': '2027-01-01'})),
        ('gifts_given', 2, 'LOY_E_INVALID_MEMBER', _gift('spend', 'monthly-credit:2026-01')),
    ],
}

def dumps(o):
    s = json.dumps(o, ensure_ascii=False)
    return s

def to_text(m):
    """JSON text of the member line, RawNum written as bare number text."""
    marks = {}
    def walk(o):
        if isinstance(o, RawNum):
            k = '@@RAW%d@@' % len(marks); marks[k] = str(o); return k
        if isinstance(o, dict): return {k: walk(v) for k, v in o.items()}
        if isinstance(o, list): return [walk(v) for v in o]
        return o
    s = dumps({'member': walk(m)})
    for k, v in marks.items(): s = s.replace('"%s"' % k, v)
    return s

JUNK = {'tier': '"diamond"', 'orders': '-1', 'paid': '{"plan": "none"}', 'joined': '"x"', 'points': '[{"points": 1.5}]',
        'spend_by_month': '{"2026-13": -1}', 'gifts_given': '{"bogus": 1}', 'id': '""', 'birthday': '5'}
def with_repeats(r, text, m):
    """the member line with some of its fields written again after it, with junk values: the first one wins"""
    ks = [k for k in m if k in JUNK]
    if not ks: return text
    extra = ''.join(', "%s": %s' % (k, JUNK[k]) for k in r.sample(ks, min(len(ks), r.randrange(1, 3))))
    assert text.endswith('}}')
    cov('repeated-keys')
    return text[:-2] + extra + '}}'

def inst(d, h=10, mi=0): return '%sT%02d:%02d:00+08:00' % (d.isoformat(), h, mi)

def gen(seed):
    r = random.Random(seed)
    pname = ['apparel', 'grocery', 'minimal'][seed % 3]
    P = POL[pname]
    first = rdate(r, D(2025, 9, 1), D(2027, 4, 30))
    crab = r.random() < 0.15
    if crab: first = rdate(r, D(2026, 10, 25), D(2026, 11, 12))   # crab season
    elif pname == 'apparel' and r.random() < 0.15: first = rdate(r, D(2026, 2, 20), D(2027, 3, 31)); first = D(first.year, 3, min(first.day, 28))
    m = gen_member(r, pname, first, seed % 4)
    if pname == 'apparel':
        if r.random() < 0.3:      # a member id inside new-fabric-trial's 5 % sample
            while xxhash.xxh3_64_intdigest((m['id'] + ':new-fabric-trial').encode()) % 10000 >= 500:
                m['id'] = 'M-%d' % r.randrange(10**6)
            cov('id-in-sample')
        if crab and r.random() < 0.7:
            m['tier'] = 'platinum'
            if r.random() < 0.5: m.setdefault('gifts_given', {})['surprise'] = r.sample(['crab-season:2026', 'crab-season:2025', 'new-fabric-trial'], r.randrange(1, 3))
    nf = r.choice([0, 0, 0, 1, 1, 2])
    faults = []
    if nf:
        pool = FAULTS + FAULTS_BY_POL[pname]
        while len(faults) < nf:
            f = r.choice(pool)
            if any(x[0] == f[0] for x in faults): continue
            # docs/wire.md orders the member layer's calls, not the JSON type checks among themselves:
            # two type faults (phase 0/1) are paired only when they give the same code
            if any(x[1] <= 1 and f[1] <= 1 and x[2] != f[2] for x in faults): continue
            faults.append(f)
        for f in faults: f[3](m, P, r)
    # model's answer to the member line
    try:
        st = do_import(pname, m); merr = None
    except Err as e:
        st = None; merr = e.code
    if faults:
        cov('faults-%d' % len(faults))
        if len({f[2] for f in faults}) > 1: cov('faults-2-codes-differ')
        if merr is None: cov('fault-accepted!')
    lines = [to_text(m)]
    if r.random() < 0.15: lines[0] = with_repeats(r, lines[0], m)
    if r.random() < 0.03:          # a first line that is no member object at all (§11.5, docs/wire.md)
        lines[0] = r.choice(['{"member": "M-1"}', '{"member": null}', '{"member": {}}', '[]', '"member"',
                             lines[0][:-1] + ', "policy": "apparel"}', '{"Member": ' + lines[0][11:],
                             '{"type": "tick", "id": "T-0", "at": "2026-01-01T00:00:00+08:00"}'])
        cov('first-line-not-a-member')
        return pname, lines, [{'event': None, 'error': {'code': 'LOY_E_INVALID_MEMBER'}}], True
    if merr:
        cov('refused-' + merr)
        return pname, lines, [{'event': None, 'error': {'code': merr}}], True
    cov('imported')
    want = []
    d = first; n = r.randrange(1, 7); hh = 9
    oid = 0
    for i in range(n):
        if i:
            step = r.choice([0, 1, 3, 7, 8, 20, 31, 45, 90, 200, 370])
            d = d + dt.timedelta(days=step)
            hh = hh + 1 if step == 0 else 9
        if hh > 20: hh = 20
        at = inst(d, hh, r.randrange(60))
        k = r.random()
        if k < 0.15 and pname != 'minimal':
            lines.append(dumps({'query': 'benefits', 'at': at}))
            want.append(benefits(st, at)); cov('query'); continue
        if k < 0.2: ev = {'type': 'tick', 'id': 'T-%d' % i, 'at': at}
        elif k < 0.3:
            ev = {'type': 'action', 'id': 'A-%d' % i, 'at': at,
                  'kind': r.choice({'apparel': ['signup', 'signup', 'review', 'share', 'like'], 'grocery': ['check_in', 'review', 'referral', 'signup'],
                                    'minimal': ['signup']}[pname])}
        elif k < 0.45:
            av = summary(st)['points']['available']
            pts = r.choice([max(1, av), max(1, av // 2), 100, 1000, 2500, av + 100, 50, 105])
            if pname == 'grocery': pts = r.choice([pts, pts - pts % 10 or 10])
            elif r.random() < 0.6: pts = max(100, pts - pts % 100)
            ev = {'type': 'redeem', 'id': 'X-%d' % i, 'at': at, 'points': pts,
                  'order_amount': r.choice([pts * 10, pts * 100, 1000000, 500])}
        elif k < 0.9 or pname != 'grocery':
            oid += 1
            cats = {'apparel': ['tops', 'coats', 'gift_card', 'shipping'], 'grocery': ['fruit', 'veg', 'bags', 'deposit'],
                    'minimal': ['any']}[pname]
            ev = {'type': 'order', 'id': oid_of(oid, seed % 4), 'at': at, 'channel': 'pos',
                  'lines': [{'category': r.choice(cats), 'amount': r.choice([500, 1999, 25000, 90000, 150000, r.randrange(0, 400000)])}
                            for _ in range(r.randrange(0, 3))]}
            if pname == 'grocery' and r.random() < 0.5: ev['savings'] = r.randrange(0, 30000)
            if pname != 'grocery' and r.random() < 0.03:
                ev = {'type': 'join_paid', 'id': 'P-%d' % i, 'at': at, 'plan': 'annual'}
        else:
            ev = {'type': 'join_paid', 'id': 'P-%d' % i, 'at': at, 'plan': r.choice(['annual', 'monthly', 'annual'])}
        lines.append(dumps(ev))
        res = apply(st, ev)
        for e in res.get('effects', []):
            cov('eff-' + e['type'] + ('-' + e.get('source', e.get('gift', e.get('reason', ''))) if e['type'] in ('points', 'gift', 'tier_changed') else ''))
        if 'error' in res: cov('ev-' + res['error']['code'])
        want.append(res)
    if pname != 'minimal' and r.random() < 0.5:
        at = inst(d + dt.timedelta(days=r.choice([0, 1, 30, 400])), 21)
        lines.append(dumps({'query': 'benefits', 'at': at})); want.append(benefits(st, at)); cov('query')
    return pname, lines, want, False

def run(B, pol, f, extra=()):
    pr = subprocess.run([B, 'replay', pol, f] + list(extra), capture_output=True, text=True)
    return pr

def main():
    B, a, b, scratch = replay_args('model-import')
    bad = 0; nres = 0; nh = 0; nsplit = 0
    for seed in range(a, b):
        pname, lines, want, refused = gen(seed)
        pol = PD + pname + '.yaml'
        f = os.path.join(scratch, 'h-import.jsonl'); open(f, 'w').write('\n'.join(lines) + '\n')
        pr = run(B, pol, f)
        nh += 1; nres += len(want)
        try: got = [norm(json.loads(x)) for x in pr.stdout.splitlines()]
        except ValueError: got = []
        want = [norm(w) for w in want]
        rc_want = 2 if refused else 0
        def fail(msg):
            print('seed', seed, pname, msg)
            open(os.path.join(scratch, 'bad-%d.jsonl' % seed), 'w').write('\n'.join(lines) + '\n')
        if pr.returncode != rc_want or len(got) != len(want):
            bad += 1
            fail('rc %d (want %d) lines %d (want %d)\n member %s\n want %s\n got  %s %s' % (
                pr.returncode, rc_want, len(got), len(want), lines[0], json.dumps(want, ensure_ascii=False)[:600],
                pr.stdout[:600], pr.stderr[:300]))
            if bad > 8: break
            continue
        ok = True
        for i, (w, g) in enumerate(zip(want, got)):
            if w != g:
                bad += 1; ok = False
                fail('line %d\n member %s\n ev   %s\n want %s\n got  %s' % (i + 1, lines[0], lines[i + 1] if i + 1 < len(lines) else '',
                     json.dumps(w, ensure_ascii=False), json.dumps(g, ensure_ascii=False)))
                break
        # continuation through the state bytes, cut at a random line, against the single run
        if ok and not refused and len(lines) > 2:
            cut = random.Random(seed * 7 + 1).randrange(1, len(lines))   # 1: the state of the import alone
            f1 = os.path.join(scratch, 'h-import-1.jsonl'); f2 = os.path.join(scratch, 'h-import-2.jsonl')
            sb = os.path.join(scratch, 'h-import.state')
            open(f1, 'w').write('\n'.join(lines[:cut]) + '\n'); open(f2, 'w').write('\n'.join(lines[cut:]) + '\n')
            p1 = run(B, pol, f1, ['--state-out', sb]); p2 = run(B, pol, f2, ['--state-in', sb])
            nsplit += 1
            if p1.returncode or p2.returncode or p1.stdout + p2.stdout != pr.stdout:
                bad += 1
                fail('state-out/state-in cut at line %d differs from one run\n one: %s\n cut: %s' % (
                    cut + 1, pr.stdout[-800:], (p1.stdout + p2.stdout)[-800:]))
            elif seed % 5 == 0:
                # §12: with --state-in a member object on the first line is an error, exit 2
                open(f2, 'w').write('\n'.join([lines[0]] + lines[cut:]) + '\n')
                p3 = run(B, pol, f2, ['--state-in', sb])
                try: g3 = [norm(json.loads(x)) for x in p3.stdout.splitlines()]
                except ValueError: g3 = []
                if p3.returncode != 2 or g3 != [{'event': None, 'error': {'code': 'LOY_E_INVALID_MEMBER'}}]:
                    bad += 1
                    fail('--state-in with a member line: rc %d, %s' % (p3.returncode, p3.stdout[:300]))
        if bad > 8: break
    print('model-import: histories', nh, 'results', nres, 'split runs', nsplit, 'bad', bad)
    print('model coverage (counted while generating):', dict(sorted(COV.items())))
    sys.exit(1 if bad else 0)

if __name__ == '__main__':
    main()
