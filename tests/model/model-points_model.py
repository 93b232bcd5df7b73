#!/usr/bin/env python3
"""model-points: an independent Python model of POLICY.md §4 (points: earning
on orders with multipliers/stacking/rounding/min_order/exclude/caps, pending and
release, expiry lots, returns and clawback, actions with limits, redemption with
its ordered refusals) plus everything that shows in the member summary line
(tier upgrades and reviews §3, upgrade/birthday/surprise/spend gifts §5, paid
plans §7 for grocery, lifecycle stage §8), for the reference policies
apparel.yaml and grocery.yaml (hard-coded below, written from the spec, never
from lib/).

Run:  python3 tests/model/model-points_model.py BIN FIRST_SEED LAST_SEED [SCRATCH]
  e.g. python3 tests/model/model-points_model.py build-model-points/loyalty 0 2000
It generates a random member history per seed, runs `BIN replay POLICY FILE`,
and compares each result line as JSON (error.message and trace ignored).
Not modelled: benefits, debt (negative_balance: true), state bytes/policy change.
"""
import re, json, os, random, sys, subprocess, copy, datetime as dt
from fractions import Fraction as F
import xxhash
from modelkit import PD, norm, replay_args

D = dt.date
def addm(d, n):
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12); m += 1
    import calendar
    return D(y, m, min(d.day, calendar.monthrange(y, m)[1]))
def eom(y, m):
    import calendar
    return D(y, m, calendar.monthrange(y, m)[1])
def mk(d): return (d.year, d.month)
def mback(ym, k):
    y, m = divmod(ym[0] * 12 + ym[1] - 1 - k, 12); return (y, m + 1)

APPAREL = dict(
    name='apparel', tiers=['member', 'silver', 'gold', 'platinum'],
    at={'silver': 100000, 'gold': 300000, 'platinum': 500000},
    keep={'silver': 100000, 'gold': 250000, 'platinum': 400000},
    qualify='spend', window=12, review='anniversary', downgrade='one_level', hold=12,
    texcl={'gift_card'}, pexcl={'gift_card', 'shipping'},
    rate=(100, 1), rounding='floor', scope='order', min_order=1000,
    stacking='multiply', cap_order=20000, cap_day=30000,
    actions={'signup': (100, 'once'), 'review': (10, (5, 'month')), 'share': (5, (3, 'day'))},
    pending=7, expiry=('after', 12), redeem=dict(rp=100, ra=100, minp=100, step=100, share=F(3, 10)),
    up_gifts={'silver': {'points': 200}, 'gold': {'points': 500, 'coupons': ['GOLD-WELCOME-100']},
              'platinum': {'coupons': ['PLAT-WELCOME-300'], 'items': ['SCARF-CASHMERE']}},
    up_once='lifetime', up_skip='each',
    bd=dict(window='month', minDays=30, feb29='feb28',
            by={'member': {'coupons': ['BDAY-20']}, 'gold': {'coupons': ['BDAY-100'], 'points': 300},
                'platinum': {'coupons': ['BDAY-200'], 'points': 800, 'items': ['CAKE-VOUCHER']}}),
    life=[('dormant', 'dsl', 365), ('loyal', 'oim', (12, 4)), ('repeat', 'oal', 2), ('first', 'oal', 1), ('registered', None, None)],
    plans={},
)
GROCERY = dict(
    name='grocery', tiers=['regular', 'silver', 'gold', 'platinum', 'black'],
    at={'silver': 600, 'gold': 2000, 'platinum': 6000, 'black': 15000},
    keep={'silver': 600, 'gold': 2000, 'platinum': 6000, 'black': 15000},
    qualify='growth', window='cy', review='calendar_year', downgrade='to_qualified', hold=0,
    texcl=set(), pexcl={'bags', 'deposit'},
    rate=(1000, 1), rounding='nearest', scope='line', min_order=0,
    stacking='add', cap_order=2000, cap_day=None,
    actions={'check_in': (1, (1, 'day')), 'review': (2, (10, 'week')), 'referral': (100, (20, 'year'))},
    gactions={'check_in': 1, 'review': 3},
    pending=0, expiry=('eoy', 1), redeem=dict(rp=10, ra=100, minp=10, step=10, share=F(1, 2)),
    up_gifts={'silver': {'coupons': ['UP-SILVER-5']}, 'gold': {'coupons': ['UP-GOLD-10'], 'points': 50},
              'platinum': {'coupons': ['UP-PLAT-20'], 'points': 200}, 'black': {'items': ['PREMIUM-FRUIT-BOX'], 'points': 500}},
    up_once='every_time', up_skip='highest',
    bd=dict(window=(3, 7), minDays=0, feb29='mar1',
            by={'silver': {'coupons': ['BDAY-SILVER']}, 'gold': {'coupons': ['BDAY-GOLD'], 'items': ['FRUIT-CAKE']}}),
    life=[('dormant', 'dsl', 90), ('loyal', 'oim', (3, 4)), ('trying', 'oal', 1), ('registered', None, None)],
    plans={'annual': (19900, 12, True), 'monthly': (1900, 1, False)},
)
POL = {'apparel': APPAREL, 'grocery': GROCERY}

import collections
COV = collections.Counter()

MAXI = 2 ** 63 - 1

class Refuse(Exception):
    def __init__(self, code): self.code = code

def parse_at(s):
    # returns (utc microseconds, local date, local (h,m))
    s2 = s.upper().replace('Z', '+00:00')
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?([+-]\d\d:\d\d)$', s2)
    t = dt.datetime.fromisoformat(m.group(1) + m.group(3))
    us = int((m.group(2) or '0')[:6].ljust(6, '0'))
    td = t - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return ((td.days * 86400 + td.seconds) * 1000000 + us, t.date(), (t.hour, t.minute))

def isint(v): return isinstance(v, int) and not isinstance(v, bool)

class Model:
    def __init__(self, pol, mem):
        self.p = P = POL[pol]
        self.id = mem['id']; self.joined = D.fromisoformat(mem['joined'])
        self.bday = D.fromisoformat(mem['birthday']) if mem.get('birthday') else None
        self.tags = list(mem.get('tags', []))
        self.tier = P['tiers'].index(mem.get('tier', P['tiers'][0]))
        self.tier_since = D.fromisoformat(mem['tier_since']) if 'tier_since' in mem else self.joined
        self.last_review = None
        self.lots = []  # dict(pts,last,pend(date|None),order,seq)
        self.seq = 0
        for l in mem.get('points', []):
            if l['points'] > 0:
                self.add_lot(l['points'], D.fromisoformat(l['expires']) if 'expires' in l else None, None, None)
        self.mon = {k: {} for k in ('spend', 'growth', 'orders', 'pe')}
        for k, f in (('spend', 'spend_by_month'), ('growth', 'growth_by_month'), ('orders', 'orders_by_month'), ('pe', 'points_earned_by_month')):
            for ym, v in mem.get(f, {}).items():
                self.mon[k][(int(ym[:4]), int(ym[5:]))] = v
        self.orders = mem.get('orders', sum(self.mon['orders'].values()))
        self.last_order = D.fromisoformat(mem['last_order']) if 'last_order' in mem else None
        g = mem.get('gifts_given', {})
        self.g_up = set(g.get('upgrade', [])); self.g_bd = set(g.get('birthday', []))
        self.g_sur = set(g.get('surprise', [])); self.g_sp = set(g.get('spend', []))
        self.plan = None
        if 'paid' in mem:
            pl = mem['paid']['plan']
            self.plan = dict(id=pl, frm=None, until=D.fromisoformat(mem['paid']['until']), fees=P['plans'][pl][0], sav=0)
        self.counters = {}; self.day_pts = {}; self.seen = set(); self.last_inst = None
        d0 = max(self.joined, self.last_order) if self.last_order else self.joined
        self.stage = self.life_stage(d0, event=False)

    # ---- lots
    def add_lot(self, pts, last, pend, order):
        self.seq += 1
        if pend is None and order is None:
            for l in self.lots:
                if l['pend'] is None and l['last'] == last:
                    l['pts'] += pts; return
        self.lots.append(dict(pts=pts, last=last, pend=pend, order=order, seq=self.seq))
    def avail(self): return sum(l['pts'] for l in self.lots if l['pend'] is None)
    def pending(self): return sum(l['pts'] for l in self.lots if l['pend'] is not None)
    def expiry_of(self, d):
        k, n = self.p['expiry']
        if k == 'after': m = addm(D(d.year, d.month, 1), n); return eom(m.year, m.month)
        return D(d.year + n, 12, 31)
    def take_avail(self, n):
        av = sorted([l for l in self.lots if l['pend'] is None], key=lambda l: (l['last'] is None, l['last'] or D.max, l['seq']))
        taken = 0
        for l in av:
            t = min(l['pts'], n - taken); l['pts'] -= t; taken += t
            if taken == n: break
        self.lots = [l for l in self.lots if l['pts'] > 0]
        return taken
    def credit(self, pts, d, src, extra):
        last = self.expiry_of(d)
        self.add_lot(pts, last, None, None)
        e = dict(type='points', delta=pts, source=src, expires=last.isoformat()); e.update(extra)
        return e

    # ---- metric
    def metric_asof(self, d):
        P = self.p; k = 'spend' if P['qualify'] == 'spend' else 'growth'
        if P['window'] == 'cy':
            return sum(v for (y, m), v in self.mon[k].items() if y == d.year and m <= d.month)
        ym = mk(d); lo = mback(ym, P['window'] - 1)
        return sum(v for x, v in self.mon[k].items() if lo <= x <= ym)
    def madd(self, k, ym, v):
        self.mon[k][ym] = max(0, self.mon[k].get(ym, 0) + v)

    # ---- lifecycle
    def life_stage(self, d, event=True):
        for sid, kind, arg in self.p['life']:
            if kind is None: return sid
            if kind == 'dsl':
                ref = self.last_order or self.joined
                if (d - ref).days >= arg: return sid
            elif kind == 'oal':
                if self.orders >= arg: return sid
            elif kind == 'oim':
                M, N = arg; ym = mk(d); lo = mback(ym, M - 1)
                if sum(v for x, v in self.mon['orders'].items() if lo <= x <= ym) >= N: return sid

    def bday_in(self, y):
        b = self.bday
        if b.month == 2 and b.day == 29:
            import calendar
            if not calendar.isleap(y):
                return D(y, 2, 28) if self.p['bd']['feb29'] == 'feb28' else D(y, 3, 1)
        return D(y, b.month, b.day)

    def summary(self):
        return dict(tier=self.p['tiers'][self.tier], points=dict(available=self.avail(), pending=self.pending()), stage=self.stage)

    # ---- event
    def apply(self, ev):
        snap = copy.deepcopy(self.__dict__)
        try:
            r = self._apply(ev)
        except Refuse as x:
            self.__dict__ = snap
            return {'event': ev.get('id') if isinstance(ev.get('id'), str) and ev.get('id') else None, 'error': {'code': x.code}}
        return r

    def validate(self, ev):
        t = ev['type']
        def money(v):
            if not isint(v) or v < 0: raise Refuse('LOY_E_INVALID_EVENT')
        if t == 'order':
            ev.setdefault('savings', 0); money(ev['savings'])
            for l in ev.get('lines', []): money(l['amount'])
        elif t == 'return':
            money(ev['amount']); o = ev['original']; money(o['amount']); money(o['points'])
            for l in ev.get('lines', []): money(l['amount'])
            if ev['amount'] > o['amount'] or parse_at(o['at'])[0] > parse_at(ev['at'])[0]: raise Refuse('LOY_E_INVALID_EVENT')
        elif t == 'redeem':
            money(ev['points']); money(ev['order_amount'])
            if ev['points'] < 1: raise Refuse('LOY_E_INVALID_EVENT')

    def _apply(self, ev):
        P = self.p
        self.validate(ev)
        if ev['id'] in self.seen: raise Refuse('LOY_E_DUPLICATE')
        inst, d, hm = parse_at(ev['at'])
        if self.last_inst is not None and inst < self.last_inst: raise Refuse('LOY_E_OUT_OF_ORDER')
        self.seen.add(ev['id']); self.last_inst = inst
        eff = []
        stage0 = self.stage
        # step 2: release
        for l in sorted([l for l in self.lots if l['pend'] is not None and l['pend'] <= d], key=lambda l: l['seq']):
            eff.append(dict(type='points_released', points=l['pts'], order=l['order']))
            if l['pts'] < l.get('orig', l['pts']): COV['release_after_partial_claw'] += 1
            l['pend'] = None; l['order'] = None
        # merge released into available lots with same last day (no observable effect)
        # expiry
        exp = sorted({l['last'] for l in self.lots if l['last'] is not None and l['last'] < d})
        for x in exp:
            s = sum(l['pts'] for l in self.lots if l['last'] == x)
            self.lots = [l for l in self.lots if l['last'] != x]
            eff.append(dict(type='points', delta=-s, source='expiry', expires=x.isoformat()))
        # plan end
        if self.plan and self.plan['until'] < d:
            pl = self.plan; fee, months, guar = P['plans'][pl['id']]
            eff.append(dict(type='paid_ended', plan=pl['id'], until=pl['until'].isoformat(), refund=max(0, pl['fees'] - pl['sav']) if guar else 0))
            self.plan = None
        # reviews
        self.reviews(d, eff)
        # step 3
        t = ev['type']; tiers = P['tiers']
        if t == 'order':
            self.order(ev, d, hm, eff)
        elif t == 'return':
            self.ret(ev, d, eff)
        elif t == 'action':
            k = ev['kind']
            if k in P['actions']:
                pts, lim = P['actions'][k]; ok = True
                if lim == 'once': key = (k,)
                else:
                    per = lim[1]
                    key = (k, per, d if per == 'day' else d - dt.timedelta(days=d.weekday()) if per == 'week' else mk(d) if per == 'month' else d.year)
                cnt = self.counters.get(key, 0)
                if cnt >= (1 if lim == 'once' else lim[0]): ok = False
                if ok:
                    self.counters[key] = cnt + 1
                    if pts > 0: eff.append(self.credit(pts, d, 'action', dict(kind=k)))
                    g = P.get('gactions', {}).get(k, 0)
                    if g: self.madd('growth', mk(d), g)
            else:
                g = P.get('gactions', {}).get(k, 0)
                if g: self.madd('growth', mk(d), g)
            if sum(self.mon['growth'].values()) > MAXI: raise Refuse('LOY_E_OVERFLOW')
        elif t == 'redeem':
            R = P['redeem']; pts = ev['points']
            if pts > self.avail(): raise Refuse('LOY_E_INSUFFICIENT_POINTS')
            if pts < R['minp']: raise Refuse('LOY_E_BELOW_MIN_POINTS')
            if pts % R['step']: raise Refuse('LOY_E_NOT_STEP_MULTIPLE')
            val = pts * R['ra'] // R['rp']
            if val > R['share'] * ev['order_amount']: raise Refuse('LOY_E_OVER_ORDER_SHARE')
            self.take_avail(pts)
            eff.append(dict(type='points', delta=-pts, source='redeem', value=val))
        elif t == 'join_paid':
            pid = ev['plan']
            if pid not in P['plans']: raise Refuse('LOY_E_UNKNOWN_PLAN')
            fee, months, g = P['plans'][pid]
            if self.plan and self.plan['id'] != pid: raise Refuse('LOY_E_PLAN_CONFLICT')
            if self.plan:
                self.plan['until'] = addm(self.plan['until'] + dt.timedelta(days=1), months) - dt.timedelta(days=1)
                self.plan['fees'] += fee
                e = dict(type='paid_started', plan=pid, until=self.plan['until'].isoformat(), extended=True)
                if self.plan['frm']: e['from'] = self.plan['frm'].isoformat()
                eff.append(e)
            else:
                self.plan = dict(id=pid, frm=d, until=addm(d, months) - dt.timedelta(days=1), fees=fee, sav=0)
                eff.append(dict(type='paid_started', plan=pid, **{'from': d.isoformat()}, until=self.plan['until'].isoformat()))
        elif t == 'profile':
            if 'birthday' not in ev and 'tags' not in ev: raise Refuse('LOY_E_INVALID_EVENT')
            if 'birthday' in ev: self.bday = D.fromisoformat(ev['birthday']) if ev['birthday'] else None
            if 'tags' in ev: self.tags = list(ev['tags'])
        # step 4 upgrade
        m = self.metric_asof(d); new = self.tier
        for i in range(len(tiers) - 1, 0, -1):
            if P['at'][tiers[i]] <= m: new = max(new, i); break
        if new > self.tier:
            old = self.tier; self.tier = new; self.tier_since = d
            eff.append(dict(type='tier_changed', to=tiers[new], reason='upgrade', **{'from': tiers[old]}))
            lv = range(old + 1, new + 1) if P['up_skip'] == 'each' else [new]
            for i in lv:
                tn = tiers[i]
                if tn not in P['up_gifts']: continue
                if P['up_once'] == 'lifetime' and tn in self.g_up: continue
                self.g_up.add(tn); rw = P['up_gifts'][tn]
                eff.append(dict(type='gift', gift='upgrade', tier=tn, reward=rw))
                if rw.get('points'): eff.append(self.credit(rw['points'], d, 'upgrade', {}))
        # step 5 birthday
        if self.bday is not None:
            bd = P['bd']; occ = None
            if bd['window'] == 'month':
                b = self.bday_in(d.year)
                if b.month == d.month: occ = d.year
            else:
                bf, af = bd['window']
                for y in (d.year - 1, d.year, d.year + 1):
                    b = self.bday_in(y)
                    if b - dt.timedelta(days=bf) <= d <= b + dt.timedelta(days=af): occ = y
            if occ is not None and occ not in self.g_bd and (d - self.joined).days >= bd['minDays']:
                gt = None
                for i in range(self.tier, -1, -1):
                    if tiers[i] in bd['by']: gt = tiers[i]; break
                if gt:
                    self.g_bd.add(occ); rw = bd['by'][gt]
                    eff.append(dict(type='gift', gift='birthday', tier=gt, year=occ, reward=rw))
                    if rw.get('points'): eff.append(self.credit(rw['points'], d, 'birthday', {}))
        if P['name'] == 'apparel':
            # surprise gifts
            for gid, cond, pct, rw, once in (
                    ('crab-season', lambda: self.tier >= 3 and D(2026, 11, 1) <= d <= D(2026, 11, 11), 10000, {'items': ['HAIRY-CRAB-BOX']}, 'per_year'),
                    ('new-fabric-trial', lambda: self.tier >= 1 and d.month == 3, 500, {'coupons': ['TRIAL-LINEN']}, 'lifetime')):
                key = gid if once == 'lifetime' else '%s:%d' % (gid, d.year)
                if key in self.g_sur or not cond(): continue
                if xxhash.xxh3_64_intdigest((self.id + ':' + gid).encode()) % 10000 >= pct: continue
                self.g_sur.add(key); eff.append(dict(type='gift', gift='surprise', id=gid, reward=rw))
            if t == 'order':
                per = '%04d-%02d' % mk(d); key = 'monthly-credit:' + per
                if key not in self.g_sp and self.mon['spend'].get(mk(d), 0) >= 200000:
                    self.g_sp.add(key); eff.append(dict(type='gift', gift='spend', id='monthly-credit', period=per, reward={'credit': 5000}))
        else:
            if t == 'order':
                key = 'big-basket:' + ev['id']
                if key not in self.g_sp and self.last_q >= 19900:
                    self.g_sp.add(key); eff.append(dict(type='gift', gift='spend', id='big-basket', reward={'coupons': ['NEXT-ORDER-5']}))
        # step 6
        st = self.life_stage(d)
        if st != stage0:
            eff.append({'type': 'stage_changed', 'from': stage0, 'to': st}); self.stage = st
        return {'event': ev['id'], 'effects': eff, 'member': self.summary()}

    def reviews(self, d, eff):
        P = self.p; tiers = P['tiers']
        if P['review'] == 'never': return
        while self.tier > 0:
            # next review date strictly after tier_since and last_review
            after = max(self.tier_since, self.last_review) if self.last_review else self.tier_since
            if P['review'] == 'anniversary':
                k = 1
                while addm(self.tier_since, 12 * k) <= after: k += 1
                R = addm(self.tier_since, 12 * k)
            else:
                R = D(after.year + 1, 1, 1)
            if R > d: return
            self.last_review = R
            if R.month == 2 and R.day == 28 and self.tier_since.day == 29: COV['review_feb29_anniv'] += 1
            if R < addm(self.tier_since, P['hold']): continue
            m = self.metric_asof(R - dt.timedelta(days=1))
            cur = tiers[self.tier]
            if m >= P['keep'][cur]: continue
            old = self.tier
            if P['downgrade'] == 'one_level': self.tier -= 1
            else:
                nt = 0
                for i in range(1, len(tiers)):
                    if P['at'][tiers[i]] <= m: nt = i
                self.tier = nt
            self.tier_since = R
            eff.append(dict(type='tier_changed', to=tiers[self.tier], reason='review', review_date=R.isoformat(), **{'from': tiers[old]}))

    def active_mults(self, d, hm, ev, line):
        P = self.p; tiers = P['tiers']; tn = tiers[self.tier]; out = []
        if P['name'] == 'apparel':
            f = {'silver': F(6, 5), 'gold': F(3, 2), 'platinum': F(2)}.get(tn)
            if f: out.append(('tier_bonus', f))
            if d.day in (8, 18, 28): out.append(('member_day', F(2)))
            if self.bday is not None and self.bday_in(d.year).month == d.month: out.append(('birthday_month', F(2)))
            if line.get('category') == 'coats' and D(2026, 10, 1) <= d <= D(2026, 12, 31): out.append(('new_season', F(3, 2)))
        else:
            f = {'gold': F(5, 4), 'platinum': F(3, 2), 'black': F(2)}.get(tn)
            if f: out.append(('tier_bonus', f))
            if (14, 0) <= hm < (16, 0) and ev.get('channel') == 'mini_program': out.append(('afternoon_tea', F(3, 2)))
            if self.plan is not None: out.append(('paid_bonus', F(2)))
            if d.weekday() == 3: out.append(('member_day', F(2)))
        return out

    def rnd(self, x):
        r = self.p['rounding']
        if r == 'floor': return x.numerator // x.denominator
        if r == 'ceil': return -((-x.numerator) // x.denominator)
        return (x + F(1, 2)).numerator // (x + F(1, 2)).denominator

    def order(self, ev, d, hm, eff):
        P = self.p; lines = ev.get('lines', [])
        # only the sums a rule uses can overflow: eligible (points) and qualifying (tiers) spend
        if sum(l['amount'] for l in lines if l.get('category') not in P['pexcl']) > MAXI: raise Refuse('LOY_E_OVERFLOW')
        if sum(l['amount'] for l in lines if l.get('category') not in P['texcl']) > MAXI: raise Refuse('LOY_E_OVERFLOW')
        elig = [l for l in lines if l.get('category') not in P['pexcl']]
        es = sum(l['amount'] for l in elig)
        pts = 0; rules = set()
        if es >= P['min_order']:
            raws = []
            for l in elig:
                ms = self.active_mults(d, hm, ev, l)
                for n, _ in ms: rules.add(n)
                fs = [f for _, f in ms]
                if not fs: fac = F(1)
                elif P['stacking'] == 'multiply':
                    fac = F(1)
                    for f in fs: fac *= f
                elif P['stacking'] == 'add': fac = max(F(0), 1 + sum(f - 1 for f in fs))
                else: fac = max(fs)
                raws.append(F(l['amount'] * P['rate'][1], P['rate'][0]) * fac)
            pts = self.rnd(sum(raws, F(0))) if P['scope'] == 'order' else sum(self.rnd(x) for x in raws)
            if P['cap_order'] is not None: pts = min(pts, P['cap_order'])
            if P['cap_day'] is not None:
                if self.day_pts and d < max(self.day_pts) and self.day_pts.get(d, 0) > 0: COV['daycap_earlier_date'] += 1
                if self.day_pts.get(d, 0) + pts > P['cap_day']: COV['daycap_hit'] += 1
                pts = max(0, min(pts, P['cap_day'] - self.day_pts.get(d, 0)))
            self.day_pts[d] = self.day_pts.get(d, 0) + pts
        order_names = ['tier_bonus', 'member_day', 'birthday_month', 'new_season'] if P['name'] == 'apparel' else ['tier_bonus', 'afternoon_tea', 'paid_bonus', 'member_day']
        if pts > 0:
            last = self.expiry_of(d)
            e = dict(type='points', delta=pts, source='order', expires=last.isoformat(), rules=[n for n in order_names if n in rules])
            if P['pending'] > 0:
                pu = d + dt.timedelta(days=P['pending'])
                e['pending_until'] = pu.isoformat()
                self.add_lot(pts, last, pu, ev['id']); self.lots[-1]['orig'] = pts
            else:
                self.add_lot(pts, last, None, None)
            eff.append(e)
            self.madd('pe', mk(d), pts)
        q = sum(l['amount'] for l in lines if l.get('category') not in P['texcl'])
        self.last_q = q
        self.madd('spend', mk(d), q); self.madd('orders', mk(d), 1); self.orders += 1
        if P['qualify'] == 'growth':
            self.madd('growth', mk(d), q * 1 // 100 + 5)
        self.last_order = d
        if self.plan is not None: self.plan['sav'] += ev.get('savings', 0)
        if self.plan is not None and self.plan['sav'] > MAXI: raise Refuse('LOY_E_OVERFLOW')
        for k in self.mon:
            if sum(self.mon[k].values()) > MAXI: raise Refuse('LOY_E_OVERFLOW')

    def ret(self, ev, d, eff):
        P = self.p; o = ev['original']
        claw = 0 if o['amount'] == 0 else o['points'] * ev['amount'] // o['amount']
        od = parse_at(o['at'])[1]
        if claw > 0:
            snapshot_pend = [dict(l) for l in self.lots if l['pend'] is not None]
            taken = 0
            for l in sorted([l for l in self.lots if l['pend'] is not None and l['order'] == o['id']], key=lambda l: l['seq']):
                t = min(l['pts'], claw - taken); l['pts'] -= t; taken += t
            self.lots = [l for l in self.lots if l['pts'] > 0]
            taken += self.take_avail(claw - taken)
            if any(l['order'] == o['id'] for l in snapshot_pend): COV['claw_from_pending'] += 1
            e = dict(type='points', delta=-taken, source='return', order=o['id'])
            if claw - taken > 0: e['shortfall'] = claw - taken
            eff.append(e)
        rq = ev['amount']
        if 'lines' in ev:
            rq = min(rq, sum(l['amount'] for l in ev['lines'] if l.get('category') not in P['texcl']))
        self.madd('spend', mk(od), -rq); self.madd('pe', mk(od), -claw)
        if P['qualify'] == 'growth': self.madd('growth', mk(od), -(rq * 1 // 100))

def run_model(pol, lines):
    mem = json.loads(lines[0])['member']; M = Model(pol, mem); out = []
    for l in lines[1:]:
        out.append(M.apply(json.loads(l)))
    return out

# ------------------------------------------------------------------ generator
CATS = {'apparel': ['coats', 'coats', 'shirts', 'shoes', 'gift_card', 'shipping', None],
        'grocery': ['fruit', 'fruit', 'veg', 'bags', 'deposit', None]}
EDGE_DAYS = [D(2026, 1, 31), D(2026, 2, 28), D(2026, 12, 31), D(2027, 1, 1), D(2027, 12, 31), D(2028, 2, 29),
             D(2028, 2, 28), D(2028, 3, 1), D(2026, 10, 31), D(2026, 11, 1), D(2026, 11, 11), D(2026, 3, 31)]

def fmt_off(mins):
    s = '+' if mins >= 0 else '-'; a = abs(mins); return '%s%02d:%02d' % (s, a // 60, a % 60)

def gen(seed):
    r = random.Random(seed); pol = r.choice(['apparel', 'grocery']); P = POL[pol]
    tiers = P['tiers']
    joined = D(2024, 1, 1) + dt.timedelta(days=r.randint(0, 1000))
    mem = {'id': 'M-%d' % seed, 'joined': joined.isoformat()}
    if r.random() < 0.7:
        mem['birthday'] = r.choice(['1992-02-29', '1992-12-31', '1988-01-02', '1991-03-01', '1985-%02d-%02d' % (r.randint(1, 12), r.randint(1, 28))])
    start = joined + dt.timedelta(days=r.randint(-20, 200))
    imp = r.random() < 0.5
    scale_huge_import = False
    if imp:
        if r.random() < 0.5:
            mem['tier'] = r.choice(tiers); mem['tier_since'] = (start - dt.timedelta(days=r.randint(0, 500))).isoformat()
            if r.random() < 0.2:
                mem['tier_since'] = r.choice(['2024-02-29', '2028-02-29', '2025-12-31', '2026-01-31'])
        if r.random() < 0.6:
            lots = []
            for _ in range(r.randint(1, 3)):
                lot = {'points': r.choice([0, 1, 50, 99, 100, 500, 1000, 5000])}
                if r.random() < 0.8: lot['expires'] = (start + dt.timedelta(days=r.randint(-5, 400))).isoformat()
                lots.append(lot)
            mem['points'] = lots
        k = 'spend_by_month' if P['qualify'] == 'spend' else 'growth_by_month'
        if r.random() < 0.6:
            mm = {}
            for i in range(r.randint(1, 5)):
                x = mback(mk(start), r.randint(0, 14))
                mm['%04d-%02d' % x] = r.choice([0, 50000, 99999, 100000, 199999, 150000, 300, 1000, 5000]) if k == 'spend_by_month' else r.choice([0, 100, 599, 600, 1999, 5000, 14000])
            mem[k] = mm
            if r.random() < 0.1:
                mem[k] = {'%04d-%02d' % mk(start): r.choice([MAXI - 1000, 2 ** 62, MAXI])}; scale_huge_import = True
        if r.random() < 0.5:
            om = {}
            for i in range(r.randint(1, 4)):
                x = mback(mk(start), r.randint(0, 14)); om['%04d-%02d' % x] = r.randint(0, 3)
            mem['orders_by_month'] = om
            if r.random() < 0.5: mem['orders'] = sum(om.values()) + r.randint(0, 5)
        if r.random() < 0.4: mem['last_order'] = (start - dt.timedelta(days=r.randint(0, 400))).isoformat()
        if r.random() < 0.4:
            g = {}
            if r.random() < 0.5: g['upgrade'] = r.sample(tiers[1:], r.randint(1, 2))
            if r.random() < 0.5: g['birthday'] = [start.year]
            if pol == 'apparel' and r.random() < 0.3: g['spend'] = ['monthly-credit:%04d-%02d' % mk(start)]
            mem['gifts_given'] = g
        if pol == 'grocery' and r.random() < 0.3:
            mem['paid'] = {'plan': r.choice(['annual', 'monthly']), 'until': (start + dt.timedelta(days=r.randint(0, 100))).isoformat()}
    lines = [json.dumps({'member': mem})]
    M = Model(pol, mem)
    mixed = r.random() < 0.3
    mixed_offs = r.choice([[-720, 840], [-720, -600, -300, 0, 330, 480, 600, 780, 840], [480, 540, -60]])
    base_off = r.choice([480, 480, 0, -300, 840, -720, 345])
    t = dt.datetime(start.year, start.month, start.day, 9, 0) - dt.timedelta(minutes=base_off)  # utc naive
    orders = []; n = 0; ids = []
    scale = r.choice(['small', 'mid', 'big', 'cap', 'small', 'mid', 'big', 'cap', 'huge'])
    AM = {'small': [0, 1, 499, 500, 501, 999, 1000, 1001, 1500, 2500, 4999, 5000, 10049, 10050],
          'mid': [0, 999, 1000, 1001, 500, 4999, 5000, 12345, 99999, 100000, 250000],
          'big': [0, 999, 1000, 100000, 250000, 1999999, 2000000, 3000050],
          'huge': [MAXI, MAXI // 2, MAXI // 2 + 1, 2 ** 62, 1000, 2 ** 61, 123],
          'cap': [1666666, 1666667, 1999999, 2000000, 2000001, 1000000, 999999, 1250000, 1600000]}[scale]
    if scale == 'cap' and r.random() < 0.7: mixed = True
    capmix = scale == 'cap' and r.random() < 0.5
    if capmix: mixed_offs = r.choice([[-720, 840], [-1439, 1439], [-1439, 0, 1439]])
    nev = r.randint(5, 45)
    for i in range(nev):
        # advance time
        c = r.random()
        if capmix: c = r.choice([0.0, 0.3, 0.3, 0.3, 0.5])
        if c < 0.05: pass  # tie
        elif c < 0.1: t -= dt.timedelta(minutes=r.randint(1, 2000))  # maybe out of order
        elif c < 0.45: t += dt.timedelta(minutes=r.randint(1, 1500))
        elif c < 0.8: t += dt.timedelta(days=r.randint(1, 12), minutes=r.randint(0, 1440))
        elif c < 0.9: t += dt.timedelta(days=r.randint(20, 200))
        elif c < 0.95:
            ed = r.choice(EDGE_DAYS)
            tt = dt.datetime(ed.year, ed.month, ed.day, r.randint(0, 23), r.choice([0, 59])) - dt.timedelta(minutes=base_off)
            if tt > t: t = tt
        else: t += dt.timedelta(days=r.randint(300, 800))
        if t.year > 2031: break
        off = r.choice(mixed_offs) if mixed else base_off
        loc = t + dt.timedelta(minutes=off)
        frac = r.choice(['', '', '.5', '.000001', '.123456789'])
        at = loc.strftime('%Y-%m-%dT%H:%M:%S') + frac + fmt_off(off)
        n += 1; eid = 'E-%d' % n
        if ids and r.random() < 0.04: eid = r.choice(ids)
        k = r.random()
        if capmix and k > 0.2: k = 0.0
        if k < 0.42:
            ls = []
            for _ in range(r.choice([0, 1, 1, 2, 2, 3, 4])):
                c2 = r.choice(CATS[pol])
                amt = r.choice(AM + [r.randint(1, max(AM))])
                l = {'amount': amt, 'qty': 1}
                if c2: l['category'] = c2
                if r.random() < 0.5: l['sku'] = 'S-%d' % r.randint(1, 9)
                ls.append(l)
            ev = {'type': 'order', 'id': eid, 'at': at}
            if ls or r.random() < 0.5: ev['lines'] = ls
            if r.random() < 0.5: ev['channel'] = r.choice(['pos', 'mini_program', 'app'])
            if r.random() < 0.3: ev['savings'] = r.choice([0, 1000, 20000])
            if r.random() < 0.02: ev['lines'] = [{'amount': -5}]
        elif k < 0.55 and orders and scale != 'huge' and not scale_huge_import:
            o = r.choice(orders)
            amt = r.choice([o['amount'], o['amount'] // 2, 0, 1, o['amount'] + 1 if r.random() < 0.1 else o['amount']])
            ev = {'type': 'return', 'id': eid, 'at': at, 'amount': amt,
                  'original': {'id': o['id'], 'at': o['at'], 'amount': o['amount'], 'points': o['points'] if r.random() < 0.85 else r.randint(0, 5000)}}
            if r.random() < 0.4:
                ev['lines'] = [{'category': r.choice(CATS[pol][:-1]), 'amount': r.choice([amt, amt // 3, 0])}]
        elif k < 0.7:
            ev = {'type': 'action', 'id': eid, 'at': at, 'kind': r.choice(list(P['actions']) + ['check_in', 'review', 'bogus'])}
        elif k < 0.8:
            av = M.avail(); R = P['redeem']
            p = r.choice([av, av - av % R['step'], R['minp'], R['minp'] - 1, R['step'] * r.randint(1, 30), av + R['step'], 0, 15, 105])
            val = p * R['ra'] // R['rp']
            oa = r.choice([int(val / R['share']) if R['share'] else 0, int(val / R['share']) - 1 if R['share'] else 0, r.randint(0, 500000), 10 ** 7])
            ev = {'type': 'redeem', 'id': eid, 'at': at, 'points': p, 'order_amount': max(0, oa)}
        elif k < 0.85 and pol == 'grocery':
            ev = {'type': 'join_paid', 'id': eid, 'at': at, 'plan': r.choice(['annual', 'monthly', 'annual'])}
        elif k < 0.88:
            ev = {'type': 'profile', 'id': eid, 'at': at, 'birthday': r.choice([None, '1992-02-29', '1980-%02d-15' % loc.month, '1980-%02d-%02d' % (loc.month, loc.day)])}
        else:
            ev = {'type': 'tick', 'id': eid, 'at': at}
        res = M.apply(copy.deepcopy(ev))
        if 'effects' in res:
            ids.append(ev['id'])
            if ev['type'] == 'order':
                pts = sum(e['delta'] for e in res['effects'] if e['type'] == 'points' and e['source'] == 'order')
                orders.append(dict(id=ev['id'], at=at, amount=sum(l['amount'] for l in ev.get('lines', [])), points=pts))
        lines.append(json.dumps(ev))
    return pol, lines

def main():
    B, a, b, scratch = replay_args('model-points')
    bad = 0; nres = 0; nh = 0
    for seed in range(a, b):
        pol, lines = gen(seed)
        f = '%s/h.jsonl' % scratch; open(f, 'w').write('\n'.join(lines) + '\n')
        pr = subprocess.run([B, 'replay', PD + pol + '.yaml', f], capture_output=True, text=True)
        got = [norm(json.loads(x)) for x in pr.stdout.splitlines()]
        want = [norm(x) for x in run_model(pol, lines)]
        nh += 1; nres += len(want)
        if pr.returncode != 0 or len(got) != len(want):
            print('seed', seed, pol, 'rc', pr.returncode, 'len', len(want), len(got), pr.stdout[:300], pr.stderr[:300]); bad += 1
            open('%s/bad-%d.jsonl' % (scratch, seed), 'w').write('\n'.join(lines) + '\n')
            continue
        for i, (w, g) in enumerate(zip(want, got)):
            if w != g:
                bad += 1
                print('seed', seed, pol, 'line', i + 2, '\n ev  ', lines[i + 1], '\n want', json.dumps(w), '\n got ', json.dumps(g))
                open('%s/bad-%d.jsonl' % (scratch, seed), 'w').write('\n'.join(lines) + '\n')
                break
        if bad > 8: break
    print('histories', nh, 'results', nres, 'bad', bad)
    print('model coverage (counted while generating):', dict(COV))
    sys.exit(1 if bad else 0)

if __name__ == '__main__':
    main()
