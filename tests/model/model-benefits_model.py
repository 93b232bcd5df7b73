#!/usr/bin/env python3
"""model-benefits: an independent Python model of POLICY.md §6 (benefits) and
§7 (paid plans), with everything the member summary line and the results
around them need (§3 tiers: upgrade and reviews; §4 points: earning, pending
and release, expiry lots, actions with limits, redemption; §5 gifts; §8
stages), for the reference policies apparel.yaml and grocery.yaml (hard-coded
below, written from the spec and docs/guide.md, never from lib/).

What it aims at:
  - benefit queries (§11.4): open/closed, every reason in the spec's form
    (failed predicates as written, `any` whole, `not` wrapped, the limit last),
    values by tier (nearest lower tier's entry, absent otherwise), the summary
    as the query sees it; queries at the very instant of a release, an expiry,
    a plan end or a review (step 2 on a copy), and queries earlier than the
    last event (the state as it is);
  - use_benefit: the use reads the member after step 2 (a review drop, a plan
    end, an expiry at that very event closes it; the event's own step 4
    upgrade does not open it), its refusal codes (NOT_OPEN / LIMIT_REACHED /
    UNKNOWN_BENEFIT) with reasons, and a refused use leaving everything
    unchanged (housekeeping included, the id not remembered);
  - limits once / per day, week, month, year counted in the local calendar
    period of each use (one counter per period: with mixed offsets a later
    event may fall in an earlier period), year ends and Monday week starts;
  - paid plans: join, extend (the `from` of the first join kept, absent for an
    imported plan), conflicts, unknown plans (also while another runs), the
    last day with month-end clamps and Feb 29, savings of orders while a plan
    runs at step 3, the end in step 2 with the guarantee refund, and the
    `paid: active` multiplier (paid_bonus) and `paid: [annual]` benefit.
  - where the spec leaves room, docs/guide.md decides: `paid: active` holds
    while the plan's last day is not past the event's or query's local date,
    so a query earlier than the last event (the state as it is) but with a
    later local date under another offset sees no plan past its last day.

Run:  python3 tests/model/model-benefits_model.py BIN FIRST_SEED LAST_SEED [SCRATCH]
  e.g. python3 tests/model/model-benefits_model.py build-model-benefits/loyalty 0 400
(POLICIES=dir overrides the policies folder, default ../shared/spec/policies.)
It generates a random member history per seed, runs `BIN replay POLICY FILE`
and compares every result line as JSON (error.message and trace ignored).
Failing histories are kept in SCRATCH as bad-SEED.jsonl.
Not modelled (never generated): returns, debt, invalid events other than a
redemption of 0 points, state bytes and policy changes, imported orders.
"""
import calendar, collections, copy, datetime as dt, json, os, random, re, subprocess, sys
from fractions import Fraction as F
import xxhash

D = dt.date
ONE = dt.timedelta(days=1)

from modelkit import PD, addm, eom, ym, mback, norm, replay_args
def pdate(s): return D.fromisoformat(s)

# ------------------------------------------------------------------ policies
# `when` maps are dicts in the order the policy writes them.
APPAREL = dict(
    name='apparel', levels=['member', 'silver', 'gold', 'platinum'],
    at={'member': 0, 'silver': 100000, 'gold': 300000, 'platinum': 500000},
    keep={'member': 0, 'silver': 100000, 'gold': 250000, 'platinum': 400000},
    metric='spend', window=('months', 12), texcl={'gift_card'},
    review='anniversary', downgrade='one_level', hold=12,
    growth=None,
    pexcl={'gift_card', 'shipping'}, rate=F(1, 100), rounding='floor', scope='order', min_order=1000,
    mults=[('tier_bonus', 'by_tier', {'silver': F(6, 5), 'gold': F(3, 2), 'platinum': F(2)}),
           ('member_day', 'dom', F(2)), ('birthday_month', 'bmonth', F(2)), ('new_season', 'coats', F(3, 2))],
    stacking='multiply', cap_order=20000, cap_day=30000,
    actions={'signup': (100, 'once'), 'review': (10, (5, 'month')), 'share': (5, (3, 'day'))},
    pending=7, expiry=('after', 12),
    redeem=dict(rp=100, ra=100, minp=100, step=100, share=F(3, 10)),
    up_gifts={'silver': {'points': 200}, 'gold': {'points': 500, 'coupons': ['GOLD-WELCOME-100']},
              'platinum': {'coupons': ['PLAT-WELCOME-300'], 'items': ['SCARF-CASHMERE']}},
    up_once='lifetime', up_skip='each',
    bd_window='month', bd_min=30, feb29='feb28',
    bd_gifts={'member': {'coupons': ['BDAY-20']}, 'gold': {'coupons': ['BDAY-100'], 'points': 300},
              'platinum': {'coupons': ['BDAY-200'], 'points': 800, 'items': ['CAKE-VOUCHER']}},
    surprise=[('crab-season', {'tier_at_least': 'platinum', 'date_between': ['2026-11-01', '2026-11-11']}, 10000,
               {'items': ['HAIRY-CRAB-BOX']}, 'per_year'),
              ('new-fabric-trial', {'tier_at_least': 'silver', 'month': [3]}, 500, {'coupons': ['TRIAL-LINEN']}, 'lifetime')],
    spend=[('monthly-credit', 'calendar_month', 200000, {'credit': 5000})],
    benefits=[
        ('member-price', 'purchase', {'tier_at_least': 'silver'}, None, {'silver': 0.95, 'gold': 0.9, 'platinum': 0.85}),
        ('free-shipping', 'service', {'tier_at_least': 'gold'}, None, None),
        ('alteration', 'service', {'tier_at_least': 'gold'}, (4, 'year'), None),
        ('stylist', 'service', {'tier_at_least': 'platinum'}, None, None),
        ('designer-salon', 'activity', {'tier_at_least': 'platinum', 'points_at_least': 1000}, (1, 'year'), None),
        ('preview-launch', 'product', {'any': [{'tier_at_least': 'gold'}, {'tags': ['vip-list']}]}, None, None),
        ('staff-discount', 'purchase', {'tags': ['employee'], 'not': {'channel': ['tmall', 'douyin']}}, None, None)],
    plans={},
    stages=[('dormant', ('dsl', 365)), ('loyal', ('oim', 12, 4)), ('repeat', ('oal', 2)), ('first', ('oal', 1)),
            ('registered', None)],
)
GROCERY = dict(
    name='grocery', levels=['regular', 'silver', 'gold', 'platinum', 'black'],
    at={'regular': 0, 'silver': 600, 'gold': 2000, 'platinum': 6000, 'black': 15000},
    keep={'regular': 0, 'silver': 600, 'gold': 2000, 'platinum': 6000, 'black': 15000},
    metric='growth', window=('cy',), texcl=set(),
    review='calendar_year', downgrade='to_qualified', hold=0,
    growth=dict(per_spend=(100, 1), per_order=5, actions={'check_in': 1, 'review': 3}),
    pexcl={'bags', 'deposit'}, rate=F(1, 1000), rounding='nearest', scope='line', min_order=0,
    mults=[('tier_bonus', 'by_tier', {'gold': F(5, 4), 'platinum': F(3, 2), 'black': F(2)}),
           ('afternoon_tea', 'tea', F(3, 2)), ('paid_bonus', 'paid', F(2)), ('member_day', 'thu', F(2))],
    stacking='add', cap_order=2000, cap_day=None,
    actions={'check_in': (1, (1, 'day')), 'review': (2, (10, 'week')), 'referral': (100, (20, 'year'))},
    pending=0, expiry=('eoy', 1),
    redeem=dict(rp=10, ra=100, minp=10, step=10, share=F(1, 2)),
    up_gifts={'silver': {'coupons': ['UP-SILVER-5']}, 'gold': {'coupons': ['UP-GOLD-10'], 'points': 50},
              'platinum': {'coupons': ['UP-PLAT-20'], 'points': 200},
              'black': {'items': ['PREMIUM-FRUIT-BOX'], 'points': 500}},
    up_once='every_time', up_skip='highest',
    bd_window=(3, 7), bd_min=0, feb29='mar1',
    bd_gifts={'silver': {'coupons': ['BDAY-SILVER']}, 'gold': {'coupons': ['BDAY-GOLD'], 'items': ['FRUIT-CAKE']}},
    surprise=[],
    spend=[('big-basket', 'order', 19900, {'coupons': ['NEXT-ORDER-5']})],
    benefits=[
        ('tasting', 'product', {'tier_at_least': 'gold'}, None, None),
        ('monthly-coupons', 'purchase', {'paid': 'active'}, None, None),
        ('pickup-coupon', 'purchase', {'paid': 'active', 'channel': ['mini_program']}, None, None),
        ('free-veg', 'gift', {'paid': 'active', 'weekday': ['thu']}, (1, 'week'), None),
        ('delivery-priority', 'service', {'any': [{'paid': ['annual']}, {'tier': ['black']}]}, None, None)],
    plans={'annual': (19900, 12, True), 'monthly': (1900, 1, False)},
    stages=[('dormant', ('dsl', 90)), ('loyal', ('oim', 3, 4)), ('trying', ('oal', 1)), ('registered', None)],
)
POL = {'apparel': APPAREL, 'grocery': GROCERY}
WD = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
COV = collections.Counter()

class Refuse(Exception):
    def __init__(self, code, reasons=None): self.code = code; self.reasons = reasons

def parse_at(s):
    """(utc microseconds, local date, local 'HH:MM:SS')"""
    s2 = s.upper().replace('Z', '+00:00')
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?([+-]\d\d:\d\d)$', s2)
    t = dt.datetime.fromisoformat(m.group(1) + m.group(3))
    us = int((m.group(2) or '0')[:6].ljust(6, '0'))
    td = t - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return ((td.days * 86400 + td.seconds) * 1000000 + us, t.date(), t.strftime('%H:%M:%S'))

def period_key(per, d):
    if per == 'once': return 'once'
    if per == 'day': return d
    if per == 'week': return d - dt.timedelta(days=d.weekday())
    if per == 'month': return ym(d)
    return d.year

# ------------------------------------------------------------------ the model
class Model:
    def __init__(s, P, mem):
        s.P = P; s.id = mem['id']; s.joined = pdate(mem['joined'])
        s.bday = pdate(mem['birthday']) if mem.get('birthday') else None
        s.tags = list(mem.get('tags', []))
        s.tier = mem.get('tier', P['levels'][0])
        s.since = pdate(mem['tier_since']) if 'tier_since' in mem else s.joined
        s.last_review = None
        s.seq = 0
        s.lots = []   # dict(pts, last, seq, pend, oid)
        for l in mem.get('points', []):
            s.seq += 1
            s.lots.append(dict(pts=l['points'], last=pdate(l['expires']) if 'expires' in l else None, seq=s.seq, pend=None, oid=None))
        s.spend = collections.Counter({tuple(map(int, k.split('-'))): v for k, v in mem.get('spend_by_month', {}).items()})
        s.growth = collections.Counter({tuple(map(int, k.split('-'))): v for k, v in mem.get('growth_by_month', {}).items()})
        s.ordm = collections.Counter()
        s.orders = 0; s.last_order = None
        s.cnt = collections.Counter()   # (ns, id, period key) -> uses
        s.g_up = set(mem.get('gifts_given', {}).get('upgrade', [])); s.g_bd = set(); s.g_sur = set(); s.g_spend = set()
        s.plan = None
        if 'paid' in mem:
            p = mem['paid']; s.plan = dict(id=p['plan'], frm=None, until=pdate(p['until']), fees=P['plans'][p['plan']][0], sav=0)
        s.day = collections.Counter()
        s.last = None; s.ids = set()
        s.stage = s.stage_of(s.joined, None)

    # -- figures
    def avail(s): return sum(l['pts'] for l in s.lots if l['pend'] is None)
    def pending(s): return sum(l['pts'] for l in s.lots if l['pend'] is not None)
    def summary(s): return {'tier': s.tier, 'points': {'available': s.avail(), 'pending': s.pending()}, 'stage': s.stage}
    def lvl(s, t): return s.P['levels'].index(t)
    def metric(s, d):
        buck = s.spend if s.P['metric'] == 'spend' else s.growth
        if s.P['window'][0] == 'months':
            return sum(buck[mback(ym(d), i)] for i in range(s.P['window'][1]))
        return sum(v for k, v in buck.items() if k[0] == d.year and k[1] <= d.month)
    def last_day(s, d):
        e = s.P['expiry']
        return eom(addm(d, e[1])) if e[0] == 'after' else D(d.year + e[1], 12, 31)
    def adj_bday(s, y):
        b = s.bday
        if b.month == 2 and b.day == 29 and not calendar.isleap(y):
            return D(y, 2, 28) if s.P['feb29'] == 'feb28' else D(y, 3, 1)
        return D(y, b.month, b.day)

    def credit(s, pts, d, eff, src, extra=None):
        s.seq += 1
        s.lots.append(dict(pts=pts, last=s.last_day(d), seq=s.seq, pend=None, oid=None))
        e = {'type': 'points', 'delta': pts, 'source': src, 'expires': s.last_day(d).isoformat()}
        if extra: e.update(extra)
        eff.append(e)

    def stage_of(s, d, ev):
        for sid, c in s.P['stages']:
            if c is None: return sid
            if c[0] == 'dsl' and (d - (s.last_order or s.joined)).days >= c[1]: return sid
            if c[0] == 'oim' and sum(s.ordm[mback(ym(d), i)] for i in range(c[1])) >= c[2]: return sid
            if c[0] == 'oal' and s.orders >= c[1]: return sid

    # -- conditions (§9), for benefits and surprise gifts
    def pred(s, k, v, c):
        if k == 'tier_at_least': return s.lvl(s.tier) >= s.lvl(v)
        if k == 'tier': return s.tier in ([v] if isinstance(v, str) else v)
        if k == 'tags': return any(t in s.tags for t in ([v] if isinstance(v, str) else v))
        if k == 'channel': return c['channel'] is not None and c['channel'] in v
        if k == 'points_at_least': return s.avail() >= v
        if k == 'paid':
            # docs/guide.md §6: a plan runs while its last day is not past. After step 2 that is
            # any plan the state holds; a query earlier than the last event (state as it is)
            # may carry a later local date than the plan's last day: then no plan runs.
            run = s.plan if s.plan is not None and s.plan['until'] >= c['d'] else None
            if v == 'active': return run is not None
            if v == 'none': return run is None
            return run is not None and run['id'] in ([v] if isinstance(v, str) else v)
        if k == 'weekday': return WD[c['d'].weekday()] in v
        if k == 'month': return c['d'].month in v
        if k == 'date_between': return pdate(v[0]) <= c['d'] <= pdate(v[1])
        if k == 'any': return any(s.holds(m, c) for m in v)
        if k == 'not': return not s.holds(v, c)
        if k == 'all': return all(s.holds(m, c) for m in v)
        raise KeyError(k)
    def holds(s, m, c): return all(s.pred(k, v, c) for k, v in m.items())
    def reasons(s, m, c):
        out = []
        for k, v in m.items():
            if s.pred(k, v, c): continue
            if k == 'all':
                for mm in v: out += s.reasons(mm, c)
            else: out.append({k: v})
        return out

    def benefit(s, b, c):
        bid, kind, when, limit, value = b
        rs = s.reasons(when, c)
        lim = False
        if limit is not None:
            n, per = limit
            if s.cnt[('b', bid, period_key(per, c['d']))] >= n:
                lim = True; rs.append({'limit': {'count': n, 'per': per}}); COV['limit_reason'] += 1
        v = None
        if value is not None:
            for t in reversed(s.P['levels'][:s.lvl(s.tier) + 1]):
                if t in value: v = value[t]; break
        return rs, lim, v

    # -- step 2
    def housekeeping(s, d, eff):
        for l in sorted([l for l in s.lots if l['pend'] is not None and l['pend'] <= d], key=lambda l: l['seq']):
            l['pend'] = None; eff.append({'type': 'points_released', 'points': l['pts'], 'order': l['oid']}); COV['release'] += 1
        gone = collections.Counter()
        for l in s.lots:
            if l['last'] is not None and l['last'] < d: gone[l['last']] += l['pts']
        s.lots = [l for l in s.lots if not (l['last'] is not None and l['last'] < d)]
        for k in sorted(gone):
            if gone[k]: eff.append({'type': 'points', 'delta': -gone[k], 'source': 'expiry', 'expires': k.isoformat()}); COV['expiry'] += 1
        if s.plan and s.plan['until'] < d:
            p = s.plan; fee, months, g = s.P['plans'][p['id']]
            eff.append({'type': 'paid_ended', 'plan': p['id'], 'until': p['until'].isoformat(),
                        'refund': max(0, p['fees'] - p['sav']) if g else 0})
            COV['paid_ended'] += 1; COV['refund>0'] += bool(g and p['fees'] > p['sav'])
            s.plan = None
        s.reviews(d, eff)

    def reviews(s, d, eff):
        P = s.P; L = P['levels']
        while s.lvl(s.tier) > 0:
            after = s.since if s.last_review is None else max(s.since, s.last_review)
            if P['review'] == 'anniversary':
                k = 1
                while addm(s.since, 12 * k) <= after: k += 1
                R = addm(s.since, 12 * k)
            else:
                R = D(after.year + 1, 1, 1)
            if R > d: return
            s.last_review = R
            if R < addm(s.since, P['hold']): continue
            m = s.metric(R - ONE)
            if m >= P['keep'][s.tier]: COV['review_keep'] += 1; continue
            old = s.tier
            if P['downgrade'] == 'one_level': s.tier = L[s.lvl(old) - 1]
            else: s.tier = [t for t in L if P['at'][t] <= m][-1]
            s.since = R
            eff.append({'type': 'tier_changed', 'from': old, 'to': s.tier, 'reason': 'review', 'review_date': R.isoformat()})
            COV['review_drop'] += 1

    # -- step 3 pieces
    def order(s, ev, c, eff):
        P = s.P; d = c['d']; lines = ev.get('lines', [])
        qs = sum(l['amount'] for l in lines if l.get('category') not in P['texcl'] and l.get('sku') not in P['texcl'])
        elig = [l for l in lines if l.get('category') not in P['pexcl']]
        es = sum(l['amount'] for l in elig)
        if es >= P['min_order'] and elig:
            rules = []; raws = []
            for l in elig:
                fs = []
                for mid, kind, f in P['mults']:
                    if kind == 'by_tier':
                        if s.tier not in f: continue
                        f = f[s.tier]
                    elif kind == 'dom' and d.day not in (8, 18, 28): continue
                    elif kind == 'bmonth' and not (s.bday and s.adj_bday(d.year).month == d.month): continue
                    elif kind == 'coats' and not (l.get('category') == 'coats' and D(2026, 10, 1) <= d <= D(2026, 12, 31)): continue
                    elif kind == 'tea' and not ('14:00:00' <= c['hms'] < '16:00:00' and c['channel'] == 'mini_program'): continue
                    elif kind == 'paid' and s.plan is None: continue
                    elif kind == 'thu' and d.weekday() != 3: continue
                    fs.append(f)
                    if mid not in rules: rules.append(mid)
                if P['stacking'] == 'multiply':
                    fac = F(1)
                    for f in fs: fac *= f
                else:
                    fac = max(F(0), 1 + sum(f - 1 for f in fs))
                raws.append(l['amount'] * P['rate'] * fac)
            rnd = (lambda x: x.numerator // x.denominator) if P['rounding'] == 'floor' else (lambda x: (x + F(1, 2)).numerator // (x + F(1, 2)).denominator)
            pts = rnd(sum(raws, F(0))) if P['scope'] == 'order' else sum(rnd(x) for x in raws)
            pts = min(pts, P['cap_order'])
            if P['cap_day'] is not None:
                pts = min(pts, P['cap_day'] - s.day[d]); s.day[d] += pts
            rules = [m[0] for m in P['mults'] if m[0] in rules]
            if pts > 0:
                s.seq += 1
                pend = d + dt.timedelta(days=P['pending']) if P['pending'] else None
                s.lots.append(dict(pts=pts, last=s.last_day(d), seq=s.seq, pend=pend, oid=ev['id']))
                e = {'type': 'points', 'delta': pts, 'source': 'order', 'expires': s.last_day(d).isoformat(), 'rules': rules}
                if pend: e['pending_until'] = pend.isoformat()
                eff.append(e)
                if 'paid_bonus' in rules: COV['paid_bonus'] += 1
        s.orders += 1; s.ordm[ym(d)] += 1; s.spend[ym(d)] += qs; s.last_order = d
        if P['growth']:
            a, g = P['growth']['per_spend']
            s.growth[ym(d)] += qs * g // a + P['growth']['per_order']
        if s.plan is not None:
            s.plan['sav'] += ev.get('savings', 0); COV['savings'] += bool(ev.get('savings'))
        return qs

    def action(s, ev, c, eff):
        k = ev['kind']; P = s.P; d = c['d']
        if k not in P['actions']: return
        pts, lim = P['actions'][k]
        key = ('a', k, 'once') if lim == 'once' else ('a', k, period_key(lim[1], d))
        n = 1 if lim == 'once' else lim[0]
        if s.cnt[key] >= n: return
        s.cnt[key] += 1
        if pts: s.credit(pts, d, eff, 'action', {'kind': k})
        if P['growth'] and k in P['growth']['actions']: s.growth[ym(d)] += P['growth']['actions'][k]

    def redeem(s, ev, eff):
        R = s.P['redeem']; p = ev['points']
        if p > s.avail(): raise Refuse('LOY_E_INSUFFICIENT_POINTS')
        if p < R['minp']: raise Refuse('LOY_E_BELOW_MIN_POINTS')
        if p % R['step']: raise Refuse('LOY_E_NOT_STEP_MULTIPLE')
        val = p * R['ra'] // R['rp']
        if val > R['share'] * ev['order_amount']: raise Refuse('LOY_E_OVER_ORDER_SHARE')
        left = p
        for l in sorted([l for l in s.lots if l['pend'] is None], key=lambda l: (l['last'] is None, l['last'] or D.min, l['seq'])):
            t = min(left, l['pts']); l['pts'] -= t; left -= t
        s.lots = [l for l in s.lots if l['pts'] > 0]
        eff.append({'type': 'points', 'delta': -p, 'source': 'redeem', 'value': val})

    def use(s, ev, c, eff):
        b = [b for b in s.P['benefits'] if b[0] == ev['benefit']]
        if not b: raise Refuse('LOY_E_UNKNOWN_BENEFIT')
        b = b[0]
        rs, lim, v = s.benefit(b, c)
        if rs:
            COV['use_refused_limit' if lim and len(rs) == 1 else 'use_refused'] += 1
            raise Refuse('LOY_E_BENEFIT_LIMIT_REACHED' if lim and len(rs) == 1 else 'LOY_E_BENEFIT_NOT_OPEN', rs)
        if b[3] is not None: s.cnt[('b', b[0], period_key(b[3][1], c['d']))] += 1
        e = {'type': 'benefit_used', 'benefit': b[0]}
        if v is not None: e['value'] = v
        eff.append(e); COV['use_ok'] += 1

    def join(s, ev, c, eff):
        pid = ev['plan']
        if pid not in s.P['plans']: raise Refuse('LOY_E_UNKNOWN_PLAN')
        if s.plan and s.plan['id'] != pid: raise Refuse('LOY_E_PLAN_CONFLICT')
        fee, months, g = s.P['plans'][pid]
        if s.plan:
            p = s.plan; p['until'] = addm(p['until'] + ONE, months) - ONE; p['fees'] += fee
            e = {'type': 'paid_started', 'plan': pid}
            if p['frm']: e['from'] = p['frm'].isoformat()
            e['until'] = p['until'].isoformat(); e['extended'] = True
            COV['extend'] += 1
        else:
            d = c['d']
            s.plan = dict(id=pid, frm=d, until=addm(d, months) - ONE, fees=fee, sav=0)
            e = {'type': 'paid_started', 'plan': pid, 'from': d.isoformat(), 'until': s.plan['until'].isoformat()}
            COV['join'] += 1
        eff.append(e)

    # -- steps 4, 5
    def upgrade(s, d, eff):
        P = s.P; L = P['levels']; m = s.metric(d)
        tgt = [t for t in L if P['at'][t] <= m][-1]
        if s.lvl(tgt) <= s.lvl(s.tier): return
        old = s.tier; s.tier = tgt; s.since = d
        eff.append({'type': 'tier_changed', 'from': old, 'to': tgt, 'reason': 'upgrade'})
        lv = L[s.lvl(old) + 1: s.lvl(tgt) + 1] if P['up_skip'] == 'each' else [tgt]
        for t in lv:
            if t not in P['up_gifts']: continue
            if P['up_once'] == 'lifetime' and t in s.g_up: continue
            s.g_up.add(t)
            rw = P['up_gifts'][t]
            eff.append({'type': 'gift', 'gift': 'upgrade', 'tier': t, 'reward': rw})
            if rw.get('points'): s.credit(rw['points'], d, eff, 'upgrade')

    def gifts(s, c, eff, qs):
        P = s.P; d = c['d']
        if s.bday:
            occ = None
            for y in (d.year - 1, d.year, d.year + 1):
                b = s.adj_bday(y)
                if P['bd_window'] == 'month':
                    if b.month == d.month and y == d.year: occ = y
                elif b - dt.timedelta(days=P['bd_window'][0]) <= d <= b + dt.timedelta(days=P['bd_window'][1]): occ = y
            if occ is not None and occ not in s.g_bd and (d - s.joined).days >= P['bd_min']:
                gt = [t for t in P['levels'][:s.lvl(s.tier) + 1] if t in P['bd_gifts']]
                if gt:
                    s.g_bd.add(occ); rw = P['bd_gifts'][gt[-1]]
                    eff.append({'type': 'gift', 'gift': 'birthday', 'tier': gt[-1], 'year': occ, 'reward': rw})
                    if rw.get('points'): s.credit(rw['points'], d, eff, 'birthday')
        for gid, when, T, rw, once in P['surprise']:
            key = (gid, d.year if once == 'per_year' else 0)
            if key in s.g_sur or not s.holds(when, c): continue
            if xxhash.xxh3_64_intdigest((s.id + ':' + gid).encode()) % 10000 >= T: continue
            s.g_sur.add(key)
            eff.append({'type': 'gift', 'gift': 'surprise', 'id': gid, 'reward': rw})
        if qs is None: return
        for gid, per, at_least, rw in P['spend']:
            if per == 'order': amt, key = qs, None
            else: amt, key = s.spend[ym(d)], '%04d-%02d' % ym(d)
            if amt < at_least or (gid, key) in s.g_spend: continue
            if key: s.g_spend.add((gid, key))
            e = {'type': 'gift', 'gift': 'spend', 'id': gid, 'reward': rw}
            if key: e['period'] = key
            eff.append(e)

    # -- an event, a query
    def apply(s, ev):
        us, d, hms = parse_at(ev['at'])
        if ev['type'] == 'redeem' and ev['points'] < 1: return {'event': ev['id'], 'error': {'code': 'LOY_E_INVALID_EVENT'}}
        if ev['id'] in s.ids: return {'event': ev['id'], 'error': {'code': 'LOY_E_DUPLICATE'}}
        if s.last is not None and us < s.last: return {'event': ev['id'], 'error': {'code': 'LOY_E_OUT_OF_ORDER'}}
        n = copy.deepcopy(s)
        c = dict(d=d, hms=hms, channel=ev.get('channel'), store=ev.get('store'))
        eff = []
        try:
            n.housekeeping(d, eff)
            t = ev['type']; qs = None
            if t == 'order': qs = n.order(ev, c, eff)
            elif t == 'action': n.action(ev, c, eff)
            elif t == 'redeem': n.redeem(ev, eff)
            elif t == 'use_benefit':
                if eff: COV['use_after_step2_effects'] += 1
                n.use(ev, c, eff)
            elif t == 'join_paid':
                if any(e['type'] == 'paid_ended' for e in eff): COV['join_after_end_same_event'] += 1
                n.join(ev, c, eff)
            elif t == 'profile':
                if 'tags' in ev: n.tags = list(ev['tags'])
                if 'birthday' in ev: n.bday = pdate(ev['birthday']) if ev['birthday'] else None
            n.upgrade(d, eff)
            n.gifts(c, eff, qs)
            st = n.stage_of(d, ev)
            if st != n.stage: eff.append({'type': 'stage_changed', 'from': n.stage, 'to': st}); n.stage = st
        except Refuse as r:
            err = {'code': r.code}
            if r.reasons is not None: err['reasons'] = r.reasons
            return {'event': ev['id'], 'error': err}
        n.ids.add(ev['id']); n.last = us
        s.__dict__.update(n.__dict__)
        return {'event': ev['id'], 'effects': eff, 'member': s.summary()}

    def query(s, q):
        us, d, hms = parse_at(q['at'])
        n = s
        if s.last is None or us >= s.last:
            n = copy.deepcopy(s); hk = []; n.housekeeping(d, hk)
            for e in hk: COV['query_sees_' + (e.get('source') or e.get('reason') or e['type'])] += 1
        else:
            COV['query_earlier'] += 1
        c = dict(d=d, hms=hms, channel=q.get('channel'), store=q.get('store'))
        out = []
        for b in n.P['benefits']:
            rs, lim, v = n.benefit(b, c)
            e = {'id': b[0], 'kind': b[1], 'open': not rs}
            if rs: e['reasons'] = rs
            if v is not None: e['value'] = v
            out.append(e)
        return {'query': 'benefits', 'at': q['at'], 'benefits': out, 'member': n.summary()}

# ------------------------------------------------------------------ generator
def fmt_off(mins):
    sg = '+' if mins >= 0 else '-'; a = abs(mins); return '%s%02d:%02d' % (sg, a // 60, a % 60)

def rand_date(r, a, b): return a + dt.timedelta(days=r.randint(0, (b - a).days))

def targets(M, last_local):
    """local dates at which something happens in step 2, or a period turns"""
    ts = []
    for l in M.lots:
        if l['pend'] is not None: ts.append(l['pend'])
        if l['last'] is not None: ts.append(l['last'] + ONE)
    if M.plan: ts.append(M.plan['until'] + ONE)
    if M.lvl(M.tier) > 0:
        if M.P['review'] == 'anniversary':
            k = 1
            after = M.since if M.last_review is None else max(M.since, M.last_review)
            while addm(M.since, 12 * k) <= after: k += 1
            ts.append(addm(M.since, 12 * k))
        else: ts.append(D(last_local.year + 1, 1, 1))
    ts.append(last_local + dt.timedelta(days=7 - last_local.weekday()))   # next Monday
    ts.append(last_local + dt.timedelta(days=(3 - last_local.weekday()) % 7))   # Thursday
    ts.append(D(last_local.year + 1, 1, 1))
    y = last_local.year   # month ends and Feb 29 (plan last days clamp there)
    ts += [D(y, 1, 31), D(y + 1, 1, 31), eom(D(y, 2, 1)), eom(D(y + 1, 2, 1)), eom(last_local), D(2028, 2, 29), D(2028, 1, 31)]
    return [t for t in ts if t >= last_local - dt.timedelta(days=1)]

def gen(seed):
    r = random.Random(seed)
    pol = r.choice(['apparel', 'grocery'])
    P = POL[pol]
    joined = rand_date(r, D(2023, 1, 1), D(2026, 6, 30))
    mem = {'id': 'M-%d' % seed, 'joined': joined.isoformat()}
    if r.random() < 0.5:
        mem['birthday'] = r.choice(['1992-02-29', '1980-12-30', '1985-01-02', '1990-%02d-%02d' % (r.randint(1, 12), r.randint(1, 28))])
    tg = [t for t in ['employee', 'vip-list', 'x'] if r.random() < 0.35]
    if tg: mem['tags'] = tg
    start = rand_date(r, max(joined, D(2025, 6, 1)), D(2026, 12, 31))
    if r.random() < 0.6:
        tier = r.choice(P['levels'][1:])
        mem['tier'] = tier
        mem['tier_since'] = r.choice([rand_date(r, start - dt.timedelta(days=800), start),
                                      D(2024, 2, 29), eom(addm(start, -r.randint(1, 24)))]).isoformat()
        if r.random() < 0.5: mem['gifts_given'] = {'upgrade': P['levels'][1:P['levels'].index(tier) + 1]}
    if r.random() < 0.6:
        key = 'spend_by_month' if P['metric'] == 'spend' else 'growth_by_month'
        base = r.choice([P['keep'][t] for t in P['levels'][1:]] + [P['at'][t] for t in P['levels'][1:]])
        per = base // r.choice([1, 3, 12]) + r.choice([-1, 0, 0, 1])
        if r.random() < 0.5:   # a figure that keeps the tier through the history's years
            mem[key] = {'%04d-%02d' % mback(ym(start), i): max(0, per) for i in range(r.randint(1, 14))}
        else:
            top = r.choice(P['levels'][1:])
            per = P['keep'][top] // (12 if P['window'][0] == 'months' else 1) + r.choice([0, 1, 100])
            mem[key] = {'%04d-%02d' % mback(ym(start), i): per for i in range(-60, 15)
                        if P['window'][0] == 'months' or mback(ym(start), i)[1] == 1}
    if r.random() < 0.7:
        mem['points'] = [{'points': r.choice([1, 999, 1000, 1001, 2500, 20])}]
        for _ in range(r.randint(0, 2)):
            lt = {'points': r.choice([1, 5, 100, 300, 1000])}
            if r.random() < 0.8: lt['expires'] = rand_date(r, start - dt.timedelta(days=5), start + dt.timedelta(days=90)).isoformat()
            mem['points'].append(lt)
    if P['plans'] and r.random() < 0.35:
        mem['paid'] = {'plan': r.choice(['annual', 'monthly']),
                       'until': r.choice([rand_date(r, start - dt.timedelta(days=3), start + dt.timedelta(days=60)), eom(start)]).isoformat()}
    M = Model(P, mem)
    lines = [json.dumps({'member': mem})]; want = []
    mixed = r.random() < 0.35
    offs = r.choice([[-720, 840], [480, -300, 0], [-60, 60], [-1439, 1439]]) if mixed else [r.choice([480, 0, -300, 840, -720, 330])]
    base = offs[0]
    t = dt.datetime(start.year, start.month, start.day, r.randint(0, 23), 0) - dt.timedelta(minutes=base)   # utc
    last_local = start
    n = 0; ids = []; hot = None; hot_kind = None; last_utc = None
    BEN = [b[0] for b in P['benefits']]
    CH = [None, 'pos', 'app', 'mini_program', 'tmall', 'douyin']
    for i in range(r.randint(8, 50)):
        off = r.choice(offs)
        c = r.random()
        burst = (hot or hot_kind) is not None and r.random() < 0.35   # the same benefit again soon: reach its limit
        if burst: c = r.choice([0.35, 0.5, 0.5, 0.8])
        if c < 0.3:
            tg_ = r.choice(targets(M, last_local))
            lt = dt.datetime(tg_.year, tg_.month, tg_.day) - (dt.timedelta(seconds=1) if r.random() < 0.3 else dt.timedelta(0))
            tt = lt - dt.timedelta(minutes=off)
            if tt >= t or r.random() < 0.1: t = tt
        elif c < 0.4: pass
        elif c < 0.7: t += dt.timedelta(minutes=r.randint(1, 3000))
        elif c < 0.9: t += dt.timedelta(days=r.randint(1, 40), minutes=r.randint(0, 1440))
        else: t += dt.timedelta(days=r.randint(60, 400))
        if t.year > 2031: break
        loc = t + dt.timedelta(minutes=off)
        frac = r.choice(['', '', '', '.5', '.000001'])
        at = loc.strftime('%Y-%m-%dT%H:%M:%S') + frac + fmt_off(off)
        ch = r.choice(CH)
        k = r.random()
        if burst: k = r.choice([0.3, 0.3, 0.3, 0.1, 0.8, 0.8])
        if k < 0.22:
            q = {'query': 'benefits', 'at': at}
            if ch: q['channel'] = ch
            x = r.random()
            if x < 0.15 and M.last is not None:   # a query before the last event
                back = loc - dt.timedelta(minutes=r.randint(1, 3000))
                q['at'] = back.strftime('%Y-%m-%dT%H:%M:%S') + fmt_off(off)
            elif x < 0.3 and last_utc is not None:   # at the last event's very instant, maybe another local date
                o2 = r.choice([-720, 840, -1439, 1439, off])
                q['at'] = (last_utc + dt.timedelta(minutes=o2)).strftime('%Y-%m-%dT%H:%M:%S') + fmt_off(o2)
                COV['query_at_last_instant'] += 1
            lines.append(json.dumps(q)); want.append(M.query(q))
            continue
        n += 1; eid = 'E-%d' % n
        if ids and r.random() < 0.03: eid = r.choice(ids)
        if k < 0.5:
            LIM = [b[0] for b in P['benefits'] if b[3]]
            bn = r.choice(BEN + BEN + LIM * 3 + ['nope'])
            if hot and (burst or r.random() < 0.6): bn = hot
            ev = {'type': 'use_benefit', 'id': eid, 'at': at, 'benefit': bn}
        elif k < 0.66:
            ls = []
            for _ in range(r.choice([0, 1, 1, 2, 3])):
                cats = ['coats', 'shirts', 'gift_card', 'shipping', None] if pol == 'apparel' else ['fruit', 'veg', 'bags', 'deposit', None]
                l = {'amount': r.choice([0, 999, 1000, 5000, 19900, 50000, 100000, 250000, r.randint(1, 300000)]), 'qty': 1}
                cg = r.choice(cats)
                if cg: l['category'] = cg
                ls.append(l)
            ev = {'type': 'order', 'id': eid, 'at': at, 'lines': ls}
            if r.random() < 0.6: ev['savings'] = r.choice([0, 1, 5000, 19900, 20000])
        elif k < 0.78 and pol == 'grocery':
            ev = {'type': 'join_paid', 'id': eid, 'at': at, 'plan': r.choice(['annual', 'annual', 'monthly', 'monthly', 'vip'])}
        elif k < 0.76:
            ev = {'type': 'join_paid', 'id': eid, 'at': at, 'plan': 'annual'}
        elif k < 0.83:
            ev = {'type': 'action', 'id': eid, 'at': at, 'kind': r.choice(list(P['actions']) + ['bogus'])}
            if hot_kind and r.random() < 0.7: ev['kind'] = hot_kind
        elif k < 0.88:
            R = P['redeem']; av = M.avail()
            p = r.choice([av - av % R['step'], R['minp'], R['step'] * r.randint(1, 20), av + R['step'], 0, 15])
            ev = {'type': 'redeem', 'id': eid, 'at': at, 'points': p, 'order_amount': r.choice([10 ** 7, p * 4, r.randint(0, 100000)])}
        elif k < 0.93:
            ev = {'type': 'profile', 'id': eid, 'at': at, 'tags': [x for x in ['employee', 'vip-list'] if r.random() < 0.5]}
        else:
            ev = {'type': 'tick', 'id': eid, 'at': at}
        if ch and ev['type'] != 'tick': ev['channel'] = ch
        res = M.apply(ev)
        if 'effects' in res:
            ids.append(eid); last_local = parse_at(at)[1]
            last_utc = None if frac else loc - dt.timedelta(minutes=off)
            if ev['type'] == 'action': hot_kind = ev['kind']
            if ev['type'] == 'use_benefit': hot = ev['benefit']
        COV[ev['type'] + (':ok' if 'effects' in res else ':' + res['error']['code'])] += 1
        lines.append(json.dumps(ev)); want.append(res)
    return pol, lines, want

def main():
    B, a, b, scratch = replay_args('model-benefits')
    bad = 0; nres = 0; nh = 0
    for seed in range(a, b):
        pol, lines, want = gen(seed)
        f = os.path.join(scratch, 'h-benefits.jsonl'); open(f, 'w').write('\n'.join(lines) + '\n')
        pr = subprocess.run([B, 'replay', PD + pol + '.yaml', f], capture_output=True, text=True)
        nh += 1; nres += len(want)
        try: got = [norm(json.loads(x)) for x in pr.stdout.splitlines()]
        except ValueError: got = []
        want = [norm(w) for w in want]
        if pr.returncode != 0 or len(got) != len(want):
            print('seed', seed, pol, 'rc', pr.returncode, 'lines', len(want), len(got), pr.stdout[:300], pr.stderr[:300]); bad += 1
            open(os.path.join(scratch, 'bad-%d.jsonl' % seed), 'w').write('\n'.join(lines) + '\n')
            continue
        for i, (w, g) in enumerate(zip(want, got)):
            if w != g:
                bad += 1
                print('seed', seed, pol, 'line', i + 2, '\n ev  ', lines[i + 1], '\n want', json.dumps(w, ensure_ascii=False), '\n got ', json.dumps(g, ensure_ascii=False))
                open(os.path.join(scratch, 'bad-%d.jsonl' % seed), 'w').write('\n'.join(lines) + '\n')
                break
        if bad > 8: break
    print('model-benefits: histories', nh, 'results', nres, 'bad', bad)
    print('model coverage (counted while generating):', dict(sorted(COV.items())))
    sys.exit(1 if bad else 0)

if __name__ == '__main__':
    main()
