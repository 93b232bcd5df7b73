#!/usr/bin/env python3
"""Independent differential model of POLICY.md section 3 (tiers: qualifying
spend, growth, windows, upgrade, reviews), section 5 (upgrade, birthday,
surprise, spend gifts) and section 8 (lifecycle stages, first stage of an
imported member) under the reference policies apparel.yaml and grocery.yaml,
written from the spec only (never from lib/).

It generates random member histories (member line with optional import
fields, then orders, returns, actions, profiles, ticks, queries, plus refused
events: invalid, duplicate, out-of-order, bad returns), runs them through
`loyalty replay`, and compares every result line as JSON:
  - exact: error codes, tier_changed / gift / stage_changed effects, points
    effects of gift sources (upgrade, birthday, surprise, spend: delta and
    expires), and the summary's tier and stage (events and queries);
  - ignored: order/action/return/expiry/redeem points, points_released,
    paid effects, the summary's points, the benefits of a query.

Run:  python3 tests/model/model-tiers_model.py [N [SEED0]]
      (LOYALTY=path/to/loyalty, default build-model-tiers/loyalty; SPLIT=1 cuts
       STRESS=1 favours mixed offsets and month ends;
       each history in two and carries the member over with --state-out/--state-in;
       OUT=dir for failing histories, default /tmp/audit-model-tiers/fails;
       WORK=dir for the histories as run, default /tmp/audit-model-tiers/h)
"""
import datetime as dt, json, os, random, re, subprocess, sys
import xxhash

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get('LOYALTY', os.path.join(ROOT, 'build-model-tiers/loyalty'))
POL = os.environ.get('POLICIES', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'spec', 'policies')) + '/'
OUT = os.environ.get('OUT', '/tmp/audit-model-tiers/fails')
LAST_ORDER = os.environ.get('LAST_ORDER', 'event')   # §1: the last order event's own local date; 'max': the program's choice before 72de568
SPLIT = os.environ.get('SPLIT') == '1'
STRESS = os.environ.get('STRESS') == '1'   # mixed offsets and month-end jumps nearly always   # replay each history in two parts through the state bytes
D = dt.date
ONE = dt.timedelta(days=1)

# ---------------------------------------------------------------- policies
APPAREL = dict(
    name='apparel', levels=['member', 'silver', 'gold', 'platinum'],
    at={'member': 0, 'silver': 100000, 'gold': 300000, 'platinum': 500000},
    keep={'member': 0, 'silver': 100000, 'gold': 250000, 'platinum': 400000},
    qualify='spend', window=('months', 12), texclude={'gift_card'},
    review='anniversary', downgrade='one_level', hold=12,
    growth=None, actions={'signup': ('once', None), 'review': (5, 'month'), 'share': (3, 'day')},
    expiry=('after', 12),
    up_gifts={'silver': {'points': 200}, 'gold': {'points': 500, 'coupons': ['GOLD-WELCOME-100']},
              'platinum': {'coupons': ['PLAT-WELCOME-300'], 'items': ['SCARF-CASHMERE']}},
    up_once='lifetime', up_skipped='each',
    bd_window='month', bd_min=30, feb29='feb28',
    bd_gifts={'member': {'coupons': ['BDAY-20']}, 'gold': {'coupons': ['BDAY-100'], 'points': 300},
              'platinum': {'coupons': ['BDAY-200'], 'points': 800, 'items': ['CAKE-VOUCHER']}},
    surprise=[('crab-season', 'crab', 10000, {'items': ['HAIRY-CRAB-BOX']}, 'per_year'),
              ('new-fabric-trial', 'trial', 500, {'coupons': ['TRIAL-LINEN']}, 'lifetime')],
    spend=[('monthly-credit', 'calendar_month', 200000, {'credit': 5000})],
    stages=[('dormant', ('dslo', 365)), ('loyal', ('oim', 12, 4)), ('repeat', ('oal', 2)),
            ('first', ('oal', 1)), ('registered', None)],
)
GROCERY = dict(
    name='grocery', levels=['regular', 'silver', 'gold', 'platinum', 'black'],
    at={'regular': 0, 'silver': 600, 'gold': 2000, 'platinum': 6000, 'black': 15000},
    keep={'regular': 0, 'silver': 600, 'gold': 2000, 'platinum': 6000, 'black': 15000},
    qualify='growth', window=('calyear',), texclude=set(),
    review='calendar_year', downgrade='to_qualified', hold=0,
    growth=dict(amount=100, growth=1, per_order=5, actions={'check_in': 1, 'review': 3}),
    actions={'check_in': (1, 'day'), 'review': (10, 'week'), 'referral': (20, 'year')},
    expiry=('eoy', 1),
    up_gifts={'silver': {'coupons': ['UP-SILVER-5']}, 'gold': {'coupons': ['UP-GOLD-10'], 'points': 50},
              'platinum': {'coupons': ['UP-PLAT-20'], 'points': 200},
              'black': {'items': ['PREMIUM-FRUIT-BOX'], 'points': 500}},
    up_once='every_time', up_skipped='highest',
    bd_window=(3, 7), bd_min=0, feb29='mar1',
    bd_gifts={'silver': {'coupons': ['BDAY-SILVER']}, 'gold': {'coupons': ['BDAY-GOLD'], 'items': ['FRUIT-CAKE']}},
    surprise=[],
    spend=[('big-basket', 'order', 19900, {'coupons': ['NEXT-ORDER-5']})],
    stages=[('dormant', ('dslo', 90)), ('loyal', ('oim', 3, 4)), ('trying', ('oal', 1)), ('registered', None)],
)
POLS = {'apparel': APPAREL, 'grocery': GROCERY}

# ---------------------------------------------------------------- dates
def add_months(d, n):
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    m += 1
    last = (D(y + (m == 12), m % 12 + 1, 1) - ONE).day
    return D(y, m, min(d.day, last))

def month_end(y, m):
    return D(y + (m == 12), m % 12 + 1, 1) - ONE

def ym(d):
    return (d.year, d.month)

def ym_add(k, n):
    y, m = divmod(k[0] * 12 + k[1] - 1 + n, 12)
    return (y, m + 1)

def pdate(s):
    return D(int(s[0:4]), int(s[5:7]), int(s[8:10]))

INST = re.compile(r'^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$')

def pinst(s):
    """-> (utc key in microseconds, local date, local month) or None."""
    if not isinstance(s, str):
        return None
    m = INST.match(s)
    if not m:
        return None
    y, mo, da, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    try:
        loc = dt.datetime(y, mo, da, hh, mi, ss)
    except ValueError:
        return None
    if ss > 59:
        return None
    frac = (m.group(7) or '.')[1:7].ljust(6, '0')
    off = m.group(8)
    if off in 'Zz':
        om = 0
    else:
        oh, omm = int(off[1:3]), int(off[4:6])
        if omm > 59:
            return None
        om = (oh * 60 + omm) * (1 if off[0] == '+' else -1)
    utc = loc - dt.timedelta(minutes=om)
    key = int((utc - dt.datetime(1, 1, 1)).total_seconds()) * 1000000 + int(frac)
    return key, loc.date()

def isint(v):
    return type(v) is int

# ---------------------------------------------------------------- model
class Member:
    def __init__(s, P, mem):
        s.P = P
        s.id = mem['id']
        s.joined = pdate(mem['joined'])
        s.birthday = pdate(mem['birthday']) if mem.get('birthday') else None
        s.tags = list(mem.get('tags', []))
        s.tier = P['levels'].index(mem.get('tier', P['levels'][0]))
        s.tier_since = pdate(mem['tier_since']) if mem.get('tier_since') else s.joined
        s.last_review = None
        s.months = {}   # (y,m) -> [spend, orders, growth]
        for f, i in (('spend_by_month', 0), ('orders_by_month', 1), ('growth_by_month', 2)):
            for k, v in mem.get(f, {}).items():
                s.months.setdefault((int(k[:4]), int(k[5:7])), [0, 0, 0])[i] = v
        s.orders = mem.get('orders', sum(v[1] for v in s.months.values()))
        s.last_order = pdate(mem['last_order']) if mem.get('last_order') else None
        g = mem.get('gifts_given', {})
        s.g_up = set(g.get('upgrade', []))
        s.g_bd = set(g.get('birthday', []))
        s.g_sur = set(g.get('surprise', []))
        s.g_spend = set(g.get('spend', []))
        s.limits = {}
        s.last_key = None
        s.ids = set()
        ref = s.joined if not s.last_order or s.last_order < s.joined else s.last_order
        s.stage = s.stage_of(ref)

    def clone(s):
        import copy
        return copy.deepcopy(s)

    # metric as of date d: window buckets
    def metric(s, d):
        P = s.P
        i = 0 if P['qualify'] == 'spend' else 2
        if P['window'][0] == 'months':
            ks = [ym_add(ym(d), -j) for j in range(P['window'][1])]
        else:
            ks = [(d.year, m) for m in range(1, d.month + 1)]
        return sum(s.months.get(k, [0, 0, 0])[i] for k in ks)

    def bucket(s, d):
        return s.months.setdefault(ym(d), [0, 0, 0])

    def stage_of(s, d):
        for sid, c in s.P['stages']:
            if c is None:
                return sid
            if c[0] == 'dslo':
                ref = s.last_order if s.last_order else s.joined
                if (d - ref).days >= c[1]:
                    return sid
            elif c[0] == 'oim':
                n = sum(s.months.get(ym_add(ym(d), -j), [0, 0, 0])[1] for j in range(c[1]))
                if n >= c[2]:
                    return sid
            elif c[0] == 'oal':
                if s.orders >= c[1]:
                    return sid

    def expires(s, d):
        e = s.P['expiry']
        if e[0] == 'after':
            k = ym_add(ym(d), e[1])
            return month_end(*k).isoformat()
        return D(d.year + e[1], 12, 31).isoformat()

    def reward(s, eff, rw, d):
        eff.append(('gift', rw))
        if rw.get('points'):
            eff.append({'type': 'points', 'delta': rw['points'], 'source': rw['_src'], 'expires': s.expires(d)})

    def gift(s, eff, kind, rw, d, **kw):
        g = {'type': 'gift', 'gift': kind, 'reward': dict(rw)}
        g.update(kw)
        eff.append(g)
        if rw.get('points'):
            eff.append({'type': 'points', 'delta': rw['points'], 'source': kind, 'expires': s.expires(d)})

    # step 2 reviews
    def next_review(s):
        after = s.tier_since if s.last_review is None or s.last_review < s.tier_since else s.last_review
        if s.P['review'] == 'anniversary':
            k = 1
            while True:
                r = add_months(s.tier_since, 12 * k)
                if r > after:
                    return r
                k += 1
        else:
            return D(after.year + 1, 1, 1)

    def reviews(s, d, eff):
        P = s.P
        while s.tier > 0:
            r = s.next_review()
            if r > d:
                break
            s.last_review = r
            if r < add_months(s.tier_since, P['hold']):
                continue
            m = s.metric(r - ONE)
            cur = P['levels'][s.tier]
            if m >= P['keep'][cur]:
                continue
            if P['downgrade'] == 'one_level':
                nt = s.tier - 1
            else:
                nt = max(i for i, l in enumerate(P['levels']) if P['at'][l] <= m)
            eff.append({'type': 'tier_changed', 'from': cur, 'to': P['levels'][nt], 'reason': 'review',
                        'review_date': r.isoformat()})
            s.tier = nt
            s.tier_since = r

    def upgrade(s, d, eff):
        P = s.P
        m = s.metric(d)
        nt = max(i for i, l in enumerate(P['levels']) if P['at'][l] <= m)
        if nt <= s.tier:
            return
        old = s.tier
        eff.append({'type': 'tier_changed', 'from': P['levels'][old], 'to': P['levels'][nt], 'reason': 'upgrade'})
        s.tier = nt
        s.tier_since = d
        cand = range(old + 1, nt + 1) if P['up_skipped'] == 'each' else [nt]
        for i in cand:
            t = P['levels'][i]
            if t not in P['up_gifts']:
                continue
            if P['up_once'] == 'lifetime' and t in s.g_up:
                continue
            s.g_up.add(t)
            s.gift(eff, 'upgrade', P['up_gifts'][t], d, tier=t)

    def bday_in(s, y):
        b = s.birthday
        if b.month == 2 and b.day == 29:
            try:
                return D(y, 2, 29)
            except ValueError:
                return D(y, 2, 28) if s.P['feb29'] == 'feb28' else D(y, 3, 1)
        return D(y, b.month, b.day)

    def bday_occ(s, d):
        w = s.P['bd_window']
        if w == 'month':
            return d.year if self_month(s.bday_in(d.year)) == d.month else None
        if w == 'day':
            return d.year if s.bday_in(d.year) == d else None
        for y in (d.year - 1, d.year, d.year + 1):
            b = s.bday_in(y)
            if b - dt.timedelta(days=w[0]) <= d <= b + dt.timedelta(days=w[1]):
                return y
        return None

    def gifts5(s, d, eff, ev):
        P = s.P
        # birthday
        if s.birthday is not None:
            y = s.bday_occ(d)
            if y is not None and y not in s.g_bd and (d - s.joined).days >= P['bd_min']:
                gt = None
                for i in range(s.tier, -1, -1):
                    if P['levels'][i] in P['bd_gifts']:
                        gt = P['levels'][i]
                        break
                if gt:
                    s.g_bd.add(y)
                    s.gift(eff, 'birthday', P['bd_gifts'][gt], d, tier=gt, year=y)
        # surprise
        for gid, cond, th, rw, once in P['surprise']:
            if cond == 'crab':
                ok = s.tier >= 3 and D(2026, 11, 1) <= d <= D(2026, 11, 11)
            else:
                ok = s.tier >= 1 and d.month == 3
            if not ok:
                continue
            key = gid if once == 'lifetime' else '%s:%d' % (gid, d.year)
            if key in s.g_sur:
                continue
            if xxhash.xxh3_64_intdigest(('%s:%s' % (s.id, gid)).encode()) % 10000 >= th:
                continue
            s.g_sur.add(key)
            s.gift(eff, 'surprise', rw, d, id=gid)
        # spend
        if ev.get('type') == 'order':
            for gid, per, th, rw in P['spend']:
                if per == 'order':
                    amt, pk = ev['_q'], ev['id']
                elif per == 'calendar_month':
                    amt, pk = s.months.get(ym(d), [0, 0, 0])[0], '%04d-%02d' % ym(d)
                else:
                    amt = sum(s.months.get((d.year, m), [0, 0, 0])[0] for m in range(1, 13))
                    pk = '%04d' % d.year
                key = gid + ':' + pk
                if amt >= th and key not in s.g_spend:
                    s.g_spend.add(key)
                    kw = {'id': gid}
                    if per != 'order':
                        kw['period'] = pk
                    s.gift(eff, 'spend', rw, d, **kw)

    def qual(s, lines, total=None):
        q = 0
        for l in lines:
            if l.get('category') in s.P['texclude']:
                continue
            q += l['amount']
        return q if total is None else min(total, q)

    def summary(s):
        return {'tier': s.P['levels'][s.tier], 'stage': s.stage}

    # ---- one line
    def apply(s, ev):
        if 'query' in ev:
            p = pinst(ev.get('at'))
            if ev.get('query') != 'benefits' or p is None:
                return {'query': ev.get('query'), 'error': {'code': 'LOY_E_INVALID_QUERY'}}
            c = s.clone()
            if c.last_key is None or p[0] >= c.last_key:
                c.reviews(p[1], [])
            return {'query': 'benefits', 'at': ev['at'], 'member': c.summary()}
        eid = ev.get('id') if isinstance(ev.get('id'), str) and ev.get('id') else None
        err = s.invalid(ev)
        if err:
            return {'event': eid, 'error': {'code': err}}
        if eid in s.ids:
            return {'event': eid, 'error': {'code': 'LOY_E_DUPLICATE'}}
        key, d = pinst(ev['at'])
        if s.last_key is not None and key < s.last_key:
            return {'event': eid, 'error': {'code': 'LOY_E_OUT_OF_ORDER'}}
        snap = s.clone()
        s.ids.add(eid)
        s.last_key = key
        eff = []
        s.reviews(d, eff)
        t = ev['type']
        P = s.P
        G = P['growth']
        # business refusals of step 3 (only the ones the generator makes)
        refuse = None
        if t == 'redeem':
            refuse = 'LOY_E_INSUFFICIENT_POINTS'          # always far above any balance
        elif t == 'use_benefit':
            b = ev['benefit']
            need = {'stylist': 3, 'tasting': 2}.get(b)
            if need is None:
                refuse = 'LOY_E_UNKNOWN_BENEFIT'
            elif s.tier < need:
                refuse = 'LOY_E_BENEFIT_NOT_OPEN'
        elif t == 'join_paid':
            refuse = 'LOY_E_UNKNOWN_PLAN'
        if refuse:
            s.__dict__.update(snap.__dict__)
            return {'event': eid, 'error': {'code': refuse}}
        if t == 'order':
            q = s.qual(ev.get('lines', []))
            ev['_q'] = q
            b = s.bucket(d)
            b[0] += q
            b[1] += 1
            if G:
                b[2] += q * G['growth'] // G['amount'] + G['per_order']
            s.orders += 1
            # "The last order" is the last order event, by its own local date (§1).
            s.last_order = d if LAST_ORDER == 'event' or s.last_order is None else max(s.last_order, d)
        elif t == 'return':
            od = pinst(ev['original']['at'])[1]
            rq = s.qual(ev['lines'], ev['amount']) if 'lines' in ev else ev['amount']
            b = s.bucket(od)
            b[0] = max(0, b[0] - rq)
            if G:
                b[2] = max(0, b[2] - rq * G['growth'] // G['amount'])
        elif t == 'action':
            k = ev['kind']
            counted = True
            if k in P['actions']:
                cnt, per = P['actions'][k]
                if cnt == 'once':
                    pk = (k,)
                    cnt = 1
                else:
                    pk = (k, {'day': d, 'week': d - dt.timedelta(days=d.weekday()),
                              'month': ym(d), 'year': d.year}[per])
                if s.limits.get(pk, 0) >= cnt:
                    counted = False
                else:
                    s.limits[pk] = s.limits.get(pk, 0) + 1
            if G and counted and k in G['actions']:
                s.bucket(d)[2] += G['actions'][k]
        elif t == 'profile':
            if 'birthday' in ev:
                s.birthday = pdate(ev['birthday']) if ev['birthday'] else None
            if 'tags' in ev:
                s.tags = list(ev['tags'])
        s.upgrade(d, eff)
        s.gifts5(d, eff, ev)
        ns = s.stage_of(d)
        if ns != s.stage:
            eff.append({'type': 'stage_changed', 'from': s.stage, 'to': ns})
            s.stage = ns
        return {'event': eid, 'effects': eff, 'member': s.summary()}

    def invalid(s, ev):
        t = ev.get('type')
        if t not in ('order', 'return', 'action', 'redeem', 'use_benefit', 'join_paid', 'profile', 'tick'):
            return 'LOY_E_INVALID_EVENT'
        if not (isinstance(ev.get('id'), str) and ev['id']):
            return 'LOY_E_INVALID_EVENT'
        p = pinst(ev.get('at'))
        if p is None:
            return 'LOY_E_INVALID_EVENT'
        def badlines(ls):
            if not isinstance(ls, list):
                return True
            for l in ls:
                if not isinstance(l, dict) or not isint(l.get('amount')) or l['amount'] < 0:
                    return True
            return False
        if t == 'order':
            if 'lines' in ev and badlines(ev['lines']):
                return 'LOY_E_INVALID_EVENT'
        elif t == 'return':
            o = ev.get('original')
            if not isint(ev.get('amount')) or ev['amount'] < 0 or not isinstance(o, dict):
                return 'LOY_E_INVALID_EVENT'
            po = pinst(o.get('at'))
            if po is None or not isint(o.get('amount')) or o['amount'] < 0 or not isint(o.get('points')) \
                    or not (isinstance(o.get('id'), str) and o['id']):
                return 'LOY_E_INVALID_EVENT'
            if 'lines' in ev and badlines(ev['lines']):
                return 'LOY_E_INVALID_EVENT'
            if ev['amount'] > o['amount'] or po[0] > p[0]:
                return 'LOY_E_INVALID_EVENT'
        elif t == 'action':
            if not (isinstance(ev.get('kind'), str) and ev['kind']):
                return 'LOY_E_INVALID_EVENT'
        elif t == 'profile':
            if 'birthday' not in ev and 'tags' not in ev:
                return 'LOY_E_INVALID_EVENT'
        return None


def self_month(b):
    return b.month

# ---------------------------------------------------------------- compare
KEEP_SRC = {'upgrade', 'birthday', 'surprise', 'spend'}

def norm(o):
    if 'error' in o:
        return {'event': o.get('event'), 'query': o.get('query'), 'code': o['error']['code']}
    r = {'member': {'tier': o['member']['tier'], 'stage': o['member']['stage']}}
    if 'query' in o:
        r['query'] = o['query']
        r['at'] = o['at']
        return r
    r['event'] = o['event']
    r['effects'] = [e for e in o['effects'] if e['type'] in ('tier_changed', 'gift', 'stage_changed')
                    or (e['type'] == 'points' and e['source'] in KEEP_SRC)]
    return r

# ---------------------------------------------------------------- generator
OFFS = ['+08:00', '+08:00', 'Z', '-05:00', '+14:00', '-12:00', '+05:30', '+09:45']

def sampled_id(r, want):
    while True:
        mid = 'M-%d' % r.randrange(10 ** 6)
        if (xxhash.xxh3_64_intdigest((mid + ':new-fabric-trial').encode()) % 10000 < 500) == want:
            return mid

def fmt(t, off):
    return t.strftime('%Y-%m-%dT%H:%M:%S') + off

def gen(seed):
    r = random.Random(seed)
    pol = r.choice(['apparel', 'grocery'])
    P = POLS[pol]
    mid = sampled_id(r, r.random() < 0.5) if pol == 'apparel' else 'M-%d' % seed
    start = dt.datetime(r.choice([2025, 2026, 2026, 2027, 2028]), r.randint(1, 12), r.randint(1, 28), r.randint(0, 23), r.randint(0, 59))
    if r.random() < 0.35:   # start near an edge: crab season, Feb 29 2028, a year end
        start = r.choice([dt.datetime(2026, 10, 28, 10), dt.datetime(2026, 11, 1, 0, 30), dt.datetime(2028, 2, 27, 22),
                          dt.datetime(2028, 2, 29, 9), dt.datetime(2027, 12, 30, 23), dt.datetime(2026, 12, 31, 23, 59),
                          dt.datetime(2027, 2, 26, 12), dt.datetime(2026, 3, 1, 0, 5)])
    joined = (start + dt.timedelta(days=r.choice([-400, -40, -31, -30, -29, -5, 0, 3, 20]))).date()
    mem = {'id': mid, 'joined': joined.isoformat()}
    if r.random() < 0.8:
        bd = r.choice([D(1992, 2, 29), D(2000, 2, 29), D(1990, 1, 1), D(1990, 1, 2), D(1985, 12, 31), D(1985, 12, 30),
                       D(1990, start.month, r.randint(1, 28)), D(1991, (start.month % 12) + 1, 15), D(1980, 3, 1),
                       D(1980, 2, 28), D(1995, 3, 31), D(1995, 11, 30)])
        mem['birthday'] = bd.isoformat()
    if r.random() < 0.3:
        mem['tags'] = r.sample(['employee', 'vip-list', 'x'], r.randint(0, 2))
    imp = r.random() < 0.5
    if imp:
        if r.random() < 0.6:
            t = r.choice(P['levels'])
            mem['tier'] = t
            if r.random() < 0.7:
                mem['tier_since'] = (joined + dt.timedelta(days=r.choice([0, 10, 100, 300, 365]))).isoformat()
                if r.random() < 0.25:
                    mem['tier_since'] = r.choice(['2028-02-29', '2025-01-31', '2026-12-31', '2025-03-31', '2027-02-28',
                                                  (start.date() + dt.timedelta(days=r.choice([-366, -365, -1, 1, 40]))).isoformat()])
        fld = 'spend_by_month' if pol == 'apparel' else 'growth_by_month'
        vals = [0, 50000, 99999, 100000, 250000, 300000, 500000] if pol == 'apparel' else [0, 300, 599, 600, 2000, 5999, 6000, 15000]
        mm = {}
        for j in range(r.randint(0, 5)):
            k = ym_add(ym(start.date()), -r.randint(0, 14))
            mm['%04d-%02d' % k] = r.choice(vals)
        if mm:
            mem[fld] = mm
        if r.random() < 0.5:
            om = {}
            for j in range(r.randint(1, 4)):
                k = ym_add(ym(start.date()), -r.randint(0, 14))
                om['%04d-%02d' % k] = r.randint(0, 3)
            mem['orders_by_month'] = om
            if r.random() < 0.5:
                mem['orders'] = sum(om.values()) + r.randint(0, 3)
        elif r.random() < 0.3:
            mem['orders'] = r.randint(0, 3)
        if r.random() < 0.5:
            mem['last_order'] = (start.date() - dt.timedelta(days=r.choice([0, 1, 30, 89, 90, 91, 200, 364, 365, 366, 500]))).isoformat()
        g = {}
        if r.random() < 0.5:
            g['upgrade'] = r.sample(P['levels'][1:], r.randint(0, 2))
        if r.random() < 0.4:
            g['birthday'] = [start.year - 1, start.year]
        if pol == 'apparel' and r.random() < 0.4:
            g['surprise'] = r.sample(['new-fabric-trial', 'crab-season:2026', 'crab-season:2027'], r.randint(1, 2))
        if r.random() < 0.3:
            g['spend'] = ['monthly-credit:%04d-%02d' % ym(start.date())] if pol == 'apparel' else ['big-basket:O-1', 'big-basket:O-3']
        if g:
            mem['gifts_given'] = g
    lines = [{'member': mem}]
    mixed = r.random() < (0.9 if STRESS else 0.35)
    off0 = r.choice(OFFS)
    t = start
    orders = []
    n = 0
    ids = []
    last_t = t
    if pol == 'apparel':
        amts = [0, 1, 100, 999, 1000, 50000, 99999, 100000, 100001, 150000, 200000, 249999, 250000, 300000, 400000, 500000, 1234567]
        cats = ['coats', 'shirts', 'gift_card', 'shipping', None]
    else:
        amts = [0, 99, 100, 199, 1999, 19899, 19900, 20000, 59400, 60000, 100000, 500000, 1500000]
        cats = ['fruit', 'veg', 'bags', 'deposit', None]
    for i in range(r.randint(3, 45)):
        gap = r.choice(['m', 'h', 'h', 'd', 'd', 'w', 'mo', 'mo', 'y', 'tie', 'me'] + (['me', 'me', 'me', 'm', 'ym'] if STRESS else []))
        if gap == 'ym':     # about a year on, to a month end (window and anniversary edges)
            e = month_end(t.year + 1, t.month)
            t = dt.datetime(e.year, e.month, e.day, 23, 30) + dt.timedelta(days=r.choice([-1, 0, 0, 1]))
        if gap == 'm':
            t += dt.timedelta(minutes=r.randint(0, 59))
        elif gap == 'h':
            t += dt.timedelta(hours=r.randint(1, 12))
        elif gap == 'd':
            t += dt.timedelta(days=r.randint(1, 6), hours=r.randint(0, 23))
        elif gap == 'w':
            t += dt.timedelta(days=r.randint(7, 40))
        elif gap == 'mo':
            t += dt.timedelta(days=r.randint(60, 200))
        elif gap == 'y':
            t += dt.timedelta(days=r.choice([365, 366, 400, 730, 1100]))
        elif gap == 'me':   # jump to a month/year end edge
            e = month_end(t.year, t.month) if r.random() < 0.7 else D(t.year, 12, 31)
            t = dt.datetime(e.year, e.month, e.day, r.choice([0, 12, 23]), r.choice([0, 30, 59]))
            if r.random() < 0.3:
                t += dt.timedelta(days=1)
        if t.year > 2031:
            break
        off = r.choice(OFFS) if mixed else off0
        at = fmt(t, off)
        if r.random() < 0.05:
            at = at[:19] + '.%06d' % r.randint(0, 999999) + at[19:]
        kind = r.random()
        n += 1
        eid = 'E-%d' % n
        if kind < 0.33:
            nl = r.choice([0, 1, 1, 2, 3])
            ls = []
            for j in range(nl):
                l = {'sku': 'S%d' % r.randint(1, 9), 'amount': r.choice(amts)}
                c = r.choice(cats)
                if c:
                    l['category'] = c
                ls.append(l)
            ev = {'type': 'order', 'id': 'O-%d' % n, 'at': at}
            if nl or r.random() < 0.5:
                ev['lines'] = ls
            if r.random() < 0.2:
                ev['channel'] = r.choice(['pos', 'app', 'mini_program'])
            orders.append(ev)
        elif kind < 0.43 and orders:
            o = r.choice(orders)
            oa = sum(l['amount'] for l in o.get('lines', []))
            amt = r.choice([0, oa, oa // 2, oa + 1 if r.random() < 0.2 else oa])
            ev = {'type': 'return', 'id': 'R-%d' % n, 'at': at, 'amount': amt,
                  'original': {'id': o['id'], 'at': o['at'], 'amount': oa, 'points': r.choice([0, oa // 100])}}
            if r.random() < 0.4 and o.get('lines'):
                ev['lines'] = [dict(l, amount=min(l['amount'], amt)) for l in o['lines'][:r.randint(1, len(o['lines']))]]
        elif kind < 0.46:
            # fabricated return of an old order (maybe in an imported month)
            od = t - dt.timedelta(days=r.choice([1, 30, 200, 500]))
            oa = r.choice([100000, 300000, 20000])
            ev = {'type': 'return', 'id': 'R-%d' % n, 'at': at, 'amount': r.choice([oa, oa // 3]),
                  'original': {'id': 'OLD-%d' % n, 'at': fmt(od, off), 'amount': oa, 'points': 0}}
            if r.random() < 0.1:
                ev['original']['at'] = fmt(t + dt.timedelta(hours=1), off)
        elif kind < 0.62:
            ev = {'type': 'action', 'id': 'A-%d' % n, 'at': at,
                  'kind': r.choice(['check_in', 'check_in', 'review', 'review', 'referral', 'share', 'signup', 'other'])}
        elif kind < 0.67:
            ev = {'type': 'profile', 'id': 'F-%d' % n, 'at': at}
            if r.random() < 0.7:
                near = t.date() + dt.timedelta(days=r.randint(-5, 10))
                near = '1992' + near.isoformat()[4:] if near.strftime('%m-%d') == '02-29' else '1991' + near.isoformat()[4:]
                ev['birthday'] = r.choice([None, '1992-02-29', '1992' + t.date().isoformat()[4:], near])
            if r.random() < 0.4 or 'birthday' not in ev:
                ev['tags'] = ['vip-list'] if r.random() < 0.5 else []
            if r.random() < 0.05:
                ev.pop('birthday', None); ev.pop('tags', None)
        elif kind < 0.78:
            ev = {'type': 'tick', 'id': 'T-%d' % n, 'at': at}
        elif kind < 0.82:   # business refusals, and benefit uses that depend on the reviewed tier
            ev = r.choice([{'type': 'redeem', 'id': 'X-%d' % n, 'at': at, 'points': 10 ** 15, 'order_amount': 100},
                           {'type': 'use_benefit', 'id': 'U-%d' % n, 'at': at,
                            'benefit': r.choice(['nope', 'stylist' if pol == 'apparel' else 'tasting'])},
                           {'type': 'join_paid', 'id': 'P-%d' % n, 'at': at, 'plan': 'nope'}])
        elif kind < 0.9:
            qt = t - dt.timedelta(minutes=r.choice([0, 0, 0, 5, 600, 3000])) if r.random() < 0.3 else t
            lines.append({'query': 'benefits', 'at': fmt(qt, r.choice(OFFS) if mixed else off)})
            continue
        elif kind < 0.94 and ids:
            ev = dict(r.choice(ids))   # duplicate (maybe)
            ev['at'] = at
        elif kind < 0.97:
            back = t - dt.timedelta(minutes=r.choice([1, 60, 600]))
            ev = {'type': 'tick', 'id': 'T-%d' % n, 'at': fmt(back, off)}
        else:
            ev = r.choice([{'type': 'order', 'id': 'O-%d' % n, 'at': at, 'lines': [{'amount': -5}]},
                           {'type': 'order', 'id': 'O-%d' % n, 'at': at, 'lines': [{'amount': 100.5}]},
                           {'type': 'order', 'id': 'O-%d' % n, 'at': at[:19]},
                           {'type': 'action', 'id': 'A-%d' % n, 'at': at},
                           {'type': 'bogus', 'id': 'X-%d' % n, 'at': at}])
        lines.append(ev)
        ids.append(ev)
    return pol, lines


def run(seed, dump=False):
    pol, lines = gen(seed)
    work = os.environ.get('WORK', '/tmp/audit-model-tiers/h')
    os.makedirs(work, exist_ok=True)
    f = os.path.join(work, '%d.jsonl' % seed)
    with open(f, 'w') as fh:
        for l in lines:
            fh.write(json.dumps({k: v for k, v in l.items() if not k.startswith('_')}, ensure_ascii=False) + '\n')
    if SPLIT and len(lines) > 3:
        # replay in two parts through the state bytes (--state-out / --state-in)
        cut = random.Random(seed * 7 + 1).randint(2, len(lines) - 1)
        f1, f2, sb = f + '.a', f + '.b', f + '.state'
        with open(f1, 'w') as fh:
            for l in lines[:cut]:
                fh.write(json.dumps(l, ensure_ascii=False) + '\n')
        with open(f2, 'w') as fh:
            for l in lines[cut:]:
                fh.write(json.dumps(l, ensure_ascii=False) + '\n')
        p1 = subprocess.run([BIN, 'replay', POL + pol + '.yaml', f1, '--state-out', sb], capture_output=True, text=True)
        p2 = subprocess.run([BIN, 'replay', POL + pol + '.yaml', f2, '--state-in', sb], capture_output=True, text=True)
        class PR: pass
        pr = PR(); pr.stdout = p1.stdout + p2.stdout; pr.stderr = p1.stderr + p2.stderr
    else:
        pr = subprocess.run([BIN, 'replay', POL + pol + '.yaml', f], capture_output=True, text=True)
    got = [norm(json.loads(x)) for x in pr.stdout.splitlines()]
    m = Member(POLS[pol], lines[0]['member'])
    exp = []
    for ev in lines[1:]:
        exp.append(norm(fixq(m.apply(json.loads(json.dumps(ev))))))
    bad = None
    if len(got) != len(exp):
        bad = ('count', len(got), len(exp), pr.stdout[-500:], pr.stderr[-500:])
    else:
        for i, (g, e) in enumerate(zip(got, exp)):
            if g != e:
                bad = (i + 2, g, e)
                break
    return pol, f, len(got), bad


def fixq(o):
    """Model results have no benefits/points; give norm() the same shape."""
    if 'error' in o:
        return o
    o['member'] = dict(o['member'], points=None)
    if 'query' not in o:
        o['effects'] = o['effects']
    return o


if __name__ == '__main__':
    N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    S0 = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    tot = nl = 0
    fails = []
    for sd in range(S0, S0 + N):
        pol, f, k, bad = run(sd)
        tot += 1
        nl += k
        if bad:
            fails.append((sd, pol, f, bad))
            if len(fails) <= 5:
                print('DIFF seed', sd, pol, f, '\n  line', bad[0], '\n  got ', json.dumps(bad[1], ensure_ascii=False), '\n  want', json.dumps(bad[2], ensure_ascii=False))
    print('histories', tot, 'result lines', nl, 'differing histories', len(fails))
    sys.exit(1 if fails else 0)
