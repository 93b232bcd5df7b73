#!/usr/bin/env python3
"""meta-change: a metamorphic test of POLICY.md §10.2 (a changed policy): "the
state names what it refers to by id, never by position", and "everything
else carries over as it stands".  The program is compared with itself (and,
for the changes that move numbers, with the models of model-points and
model-tiers, swapped to the new policy at the cut).

Per seed: a random member history from the generators of model-points,
model-tiers and model-benefits (imported as modules), cut in two: the first
half H1 replayed under the reference policy (apparel.yaml or grocery.yaml)
with --state-out, the second half H2 with --state-in under a next-season
variant V of that policy, derived from the reference by PyYAML and written
back by our own emitter, and checked with `loyalty check`.

SAME-MEANING variants (relation S): benefits, actions, multipliers (their
stacking makes the order irrelevant), surprise and spend gifts, plans,
growth actions and every mapping's keys reordered (except inside benefit
`when` maps, whose order is the reasons' order, §11.4); lifecycle stages
rewritten as mutually exclusive (stage i holds `all: [cond_i, not cond_j for
every j before it]`) and then shuffled (the fallback stays last); comments
added; numbers rewritten in equivalent forms (money `1_000`, `"1000"`,
`1000.0`, `"1000.00"`; rates `1.50`, `"1.5"`; integers `20_000`; booleans
`yes`/`on`; words quoted or plain).  Then H1 (orig) + H2 (V, from the bytes)
must answer exactly as the whole history under the original, up to the
documented listing orders, which alone are normalised: benefit queries (policy
order), `rules` (policy order), surprise gifts of one step (policy order).

CHANGING variants, each with the consequence derived from §10.2 (error
messages ignored, except that a LOY_E_STATE_POLICY message must name the id):
  rm-benefit   H2 under V = H2 under the original with the uses of the benefit
               renamed to an unknown id (so LOY_E_UNKNOWN_BENEFIT, after the
               duplicate / out-of-order checks, and the refusal changes
               nothing), its entry left out of every query;
  ren-benefit  the same, and the renamed entry in queries is the old one
               without its limit reason (the new id counts from zero);
  rm-action / ren-action   H2 under V = H2 under the original with that kind
               renamed to an unlisted kind (accepted, earns nothing; grocery's
               growth.actions follows the rename);
  rm-gift      a surprise or spend gift (rewards without points) removed: H2
               under V = H2 under the original without that gift's effects;
  ren-tier     a tier renamed everywhere: LOY_E_STATE_POLICY (exit 2, one
               line, event null, message naming the tier) when the state is in
               it; else H2 = the original's with the id mapped back, when the
               renamed tier's upgrade gift cannot come twice (grocery gives
               every_time; apparel: not in the state's upgrade ledger);
  rm-tier      the top tier removed (conditions pointed at the one below):
               LOY_E_STATE_POLICY exactly when the state is in it;
  ren-plan / rm-plan (grocery)  LOY_E_STATE_POLICY exactly when the state's
               running plan (imported or joined and not yet reported ended)
               is the one; else H2 = the original's with its joins renamed
               to an unknown plan (LOY_E_UNKNOWN_PLAN) and ids mapped back;
  ren-stage    LOY_E_STATE_POLICY when the state's stage is the one, else the
               original's answers with the id mapped back;
  limit-count  a limit's count changed, its period kept: when H1 under V
               (whole) answers as H1 under the original, H2 after the cut =
               H2 of the whole history under V (the counted uses carry and
               the new count applies to them);
  limit-period a limit's period changed (once <-> per, or another per): H2
               after the cut = H2 after a cut from a policy Z that names the
               benefit or kind otherwise (H1's uses renamed likewise), i.e.
               the counter starts from zero as for a new id;
  window       tiers.window shortened or lengthened (apparel 12_months ->
               6 / 13; grocery calendar_year -> 12_months / 3_months): H2
               against model-tiers' Member, run over H1 under the reference
               and switched to the new window at the cut;
  expiry / pending   points.expiry or pending_days changed: H2 against
               model-points' Model switched at the cut (lots made before keep
               their last days and release dates).

Run:  python3 tests/model/meta-change_metamorphic.py BIN FIRST_SEED LAST_SEED [SCRATCH]
  e.g. python3 tests/model/meta-change_metamorphic.py build/loyalty 0 400
  (BIN defaults to $LOYALTY, the seeds to 0 and $MODEL_SEEDS or 200, SCRATCH
   to $SCRATCH or /tmp/audit-meta-change; POLICIES = the spec's policies.)
Failing cases are kept in SCRATCH as fail-SEED-KIND.{yaml,h1,h2}.
Needs PyYAML (python3-yaml) besides xxhash.
Not covered: renamed gifts (the ledger entry is dropped, so the gift may come
again for a period already given: no exact consequence without a model),
changed thresholds, rates, caps and multipliers (a model's job), a window
reaching past the months a state keeps (docs/state.md).
"""
import collections, copy, datetime as dt, json, os, random, re, subprocess, sys
import yaml

from modelkit import PD, load, replay_args


MP = load('model_points', 'model-points_model.py')
MT = load('model_tiers', 'model-tiers_model.py')
MB = load('model_benefits', 'model-benefits_model.py')
COV = collections.Counter()

# ------------------------------------------------------------------ YAML out
BOOLW = {True: ['true', 'yes', 'on', 'True'], False: ['false', 'no', 'off', 'False']}
SPECIAL = {'y', 'n', 'yes', 'no', 'on', 'off', 'true', 'false', 'null', '~'}
MONEY_KEYS = {'amount', 'min_order', 'fee', 'credit', 'order_at_least', 'spend_in_window_at_least'}


class Emitter:
    def __init__(self, r, data, vary):
        self.r = r; self.vary = vary
        self.spend = data['tiers'].get('qualify_on') == 'spend'

    def kind(self, path):
        k = path[-1] if path else None
        if not isinstance(k, str):
            k = path[-2] if len(path) > 1 and isinstance(path[-2], str) else None
        if path[:1] == ('benefits',) and 'value' in path: return 'value'
        if path[:2] == ('tiers', 'levels') and k in ('at', 'keep'): return 'money' if self.spend else 'int'
        if k in MONEY_KEYS: return 'money'
        if k == 'at_least': return 'int' if 'orders_in_months' in path else 'money'
        if k in ('factor', 'max_order_share', 'sample_percent'): return 'rate'
        if 'multipliers' in path and 'by_tier' in path: return 'rate'
        if k in ('loyalty_policy', 'minor_units'): return None
        return 'int'

    def scalar(self, v, path):
        r = self.r
        if isinstance(v, bool): return r.choice(BOOLW[v]) if self.vary else ('true' if v else 'false')
        if v is None: return r.choice(['~', 'null']) if self.vary else 'null'
        if isinstance(v, dt.date): return v.isoformat()
        if isinstance(v, str):
            if self.vary and re.match(r'^[A-Za-z][A-Za-z0-9_-]*$', v) and v.lower() not in SPECIAL and r.random() < 0.5:
                return v
            return json.dumps(v, ensure_ascii=False)
        k = self.kind(path)
        if isinstance(v, int):
            s = str(v)
            if not self.vary or k is None: return s
            g = '{:,}'.format(v).replace(',', '_')
            if k == 'money': return r.choice([s, g, '"%s"' % s, s + '.0', '"%s.00"' % s, g + '.00'])
            if k == 'rate': return r.choice([s, s + '.0', '"%s"' % s, '"%s.0000"' % s])
            if k == 'value': return r.choice([s, s + '.00'])
            return r.choice([s, g])
        if isinstance(v, float):
            s = repr(v)
            assert re.match(r'^\d+\.\d+$', s), s
            if not self.vary: return s
            if k == 'value': return r.choice([s, s + '0'])
            z = s + r.choice(['', '0']) if k == 'money' else s + r.choice(['', '0', '00'])
            return r.choice([s, z, '"%s"' % z])
        raise TypeError(repr(v))

    def comment(self, ind):
        if self.vary and self.r.random() < 0.15:
            return ' ' * ind + '# ' + self.r.choice(['2027 season', 'id: ignored', '- not: a list', 'key: value # nested', '会员 ~ null']) + '\n'
        return ''

    def keys(self, d, path):
        ks = list(d)
        if self.vary and not (path[:1] == ('benefits',) and 'when' in path):
            self.r.shuffle(ks)
        return ks

    def flow(self, v, path):
        if isinstance(v, dict):
            return '{' + ', '.join('%s: %s' % (self.key(k), self.flow(v[k], path + (k,))) for k in self.keys(v, path)) + '}'
        if isinstance(v, list):
            return '[' + ', '.join(self.flow(x, path + (i,)) for i, x in enumerate(v)) + ']'
        return self.scalar(v, path)

    def key(self, k):
        if isinstance(k, str) and re.match(r'^[A-Za-z_][A-Za-z0-9_-]*$', k) and k.lower() not in SPECIAL:
            return k
        return json.dumps(str(k), ensure_ascii=False)

    def small(self, v):
        return not isinstance(v, (dict, list)) or len(json.dumps(v, default=str)) < 90

    def block(self, v, path, ind):
        out = ''
        if isinstance(v, dict):
            for k in self.keys(v, path):
                x = v[k]; p = path + (k,)
                out += self.comment(ind)
                if isinstance(x, (dict, list)) and x and not (self.small(x) and self.r.random() < 0.5):
                    out += ' ' * ind + self.key(k) + ':' + (' # c' if self.vary and self.r.random() < 0.1 else '') + '\n' + self.block(x, p, ind + 2)
                else:
                    out += ' ' * ind + self.key(k) + ': ' + self.flow(x, p) + '\n'
            return out
        for i, x in enumerate(v):
            p = path + (i,)
            out += self.comment(ind)
            if isinstance(x, dict) and x and not (self.small(x) and self.r.random() < 0.5):
                body = self.block(x, p, ind + 2).lstrip('\n')
                lines = body.split('\n')
                # first non-comment line goes after the dash
                j = 0
                while lines[j].lstrip().startswith('#'): j += 1
                lines = lines[j:j + 1] + lines[:j] + lines[j + 1:]
                out += ' ' * ind + '- ' + lines[0].lstrip() + '\n' + '\n'.join(lines[1:])
            else:
                out += ' ' * ind + '- ' + self.flow(x, p) + '\n'
        return out


def emit(data, r, vary):
    e = Emitter(r, data, vary)
    head = '# next season (generated by meta-change)\n' if vary else ''
    top = dict(data)
    txt = 'loyalty_policy: 1\n' + e.block({k: v for k, v in top.items() if k != 'loyalty_policy'}, (), 0)
    return head + txt

# ------------------------------------------------------------------ policy edits
ORIG = {}
def orig(pol):
    if pol not in ORIG:
        ORIG[pol] = yaml.safe_load(open(PD + pol + '.yaml', encoding='utf-8').read())
    return copy.deepcopy(ORIG[pol])


def walk_replace(v, old, new, keys=True):
    """every string (and mapping key) equal to old becomes new"""
    if isinstance(v, dict):
        return {(new if keys and k == old else k): walk_replace(x, old, new, keys) for k, x in v.items()}
    if isinstance(v, list): return [walk_replace(x, old, new, keys) for x in v]
    return new if v == old else v


def same_meaning(data, r):
    d = data
    for path in (('benefits',), ('points', 'earn', 'multipliers'), ('gifts', 'surprise'), ('gifts', 'spend'), ('paid', 'plans')):
        x = d
        for k in path: x = x.get(k) if isinstance(x, dict) else None
        if isinstance(x, list): r.shuffle(x)
    if d.get('lifecycle') and r.random() < 0.7:
        st = d['lifecycle']; head, last = st[:-1], st[-1]
        new = []
        for i, s in enumerate(head):
            conds = [s['when']] + [{'not': head[j]['when']} for j in range(i)]
            new.append(dict(s, when={'all': conds}) if i else s)
        r.shuffle(new)
        d['lifecycle'] = new + [last]
        COV['same:lifecycle-shuffled'] += 1
    return d


def tier_ids(d): return [l['id'] for l in d['tiers']['levels']]


def cond_tier_fix(v, gone, below):
    """conditions naming the removed tier name the one below instead"""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k == 'by_tier' and isinstance(x, dict):
                out[k] = {t: cond_tier_fix(y, gone, below) for t, y in x.items() if t != gone}
            else:
                out[k] = cond_tier_fix(x, gone, below)
        return out
    if isinstance(v, list): return [cond_tier_fix(x, gone, below) for x in v]
    return below if v == gone else v

# ------------------------------------------------------------------ running
def write(path, lines):
    with open(path, 'w', encoding='utf-8') as f:
        f.write(''.join(l + '\n' for l in lines))


def replay(B, pol_path, lines, scratch, tag, state_in=None, state_out=None):
    f = os.path.join(scratch, tag + '.jsonl'); write(f, lines)
    cmd = [B, 'replay', pol_path, f]
    if state_in: cmd += ['--state-in', state_in]
    if state_out:
        if os.path.exists(state_out): os.unlink(state_out)
        cmd += ['--state-out', state_out]
    p = subprocess.run(cmd, capture_output=True, text=True)
    try: out = [json.loads(x) for x in p.stdout.splitlines()]
    except ValueError: out = None
    return p.returncode, out, p.stderr


def norm(o, sort_ben=False, rule_order=None, surprise_order=None, drop_limit_for=None):
    o = copy.deepcopy(o)
    def walk(v):
        if isinstance(v, dict):
            v.pop('trace', None)
            if isinstance(v.get('error'), dict): v['error'].pop('message', None)
            if rule_order is not None and isinstance(v.get('rules'), list):
                v['rules'] = sorted(v['rules'], key=lambda x: rule_order.index(x) if x in rule_order else 99)
            for x in v.values(): walk(x)
        elif isinstance(v, list):
            for x in v: walk(x)
    walk(o)
    if sort_ben and isinstance(o.get('benefits'), list):
        o['benefits'].sort(key=lambda b: b.get('id'))
    if surprise_order is not None and isinstance(o.get('effects'), list):
        ef = o['effects']; out = []; i = 0
        while i < len(ef):
            run = []
            while i < len(ef) and ef[i].get('type') == 'gift' and ef[i].get('gift') == 'surprise':
                u = [ef[i]]; i += 1
                if i < len(ef) and ef[i].get('type') == 'points' and ef[i].get('source') == 'surprise':
                    u.append(ef[i]); i += 1
                run.append(u)
            if run:
                run.sort(key=lambda u: surprise_order.index(u[0]['id']))
                for u in run: out += u
            else:
                out.append(ef[i]); i += 1
        o['effects'] = out
    return o


def gen(seed):
    """(source, pol, [json lines]) from one of the three generators"""
    src = ['points', 'tiers', 'benefits'][seed % 3]
    if src == 'points':
        pol, ls = MP.gen(seed); return src, pol, list(ls)
    if src == 'tiers':
        pol, ls = MT.gen(seed)
        return src, pol, [json.dumps({k: v for k, v in l.items() if not k.startswith('_')}, ensure_ascii=False) for l in ls]
    pol, ls, _ = MB.gen(seed); return src, pol, list(ls)


def at_cut(h1_out, member):
    """what the state holds at the cut, read off the first half's answers"""
    tier = member.get('tier'); stage = None; known_stage = False
    plan = member.get('paid', {}).get('plan') if member.get('paid') else None
    ledger = set(member.get('gifts_given', {}).get('upgrade', []))
    for o in h1_out:
        if 'member' in o and 'error' not in o:
            tier = o['member']['tier']; stage = o['member']['stage']; known_stage = True
        for e in o.get('effects', []):
            if e['type'] == 'paid_started': plan = e['plan']
            if e['type'] == 'paid_ended': plan = None
            if e['type'] == 'gift' and e['gift'] == 'upgrade': ledger.add(e['tier'])
    return dict(tier=tier, stage=stage, known_stage=known_stage, plan=plan, ledger=ledger)


def map_ids(v, m):
    if isinstance(v, dict): return {k: map_ids(x, m) for k, x in v.items()}
    if isinstance(v, list): return [map_ids(x, m) for x in v]
    return m.get(v, v) if isinstance(v, str) else v


class Fail(Exception):
    pass


def compare(got, want, H2, what):
    if got is None or len(got) != len(want):
        raise Fail('%s: %s lines, want %d' % (what, None if got is None else len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            raise Fail('%s: H2 line %d\n ev   %s\n want %s\n got  %s' % (
                what, i + 1, H2[i], json.dumps(w, ensure_ascii=False), json.dumps(g, ensure_ascii=False)))

# ------------------------------------------------------------------ one seed
KINDS_ALL = ['same', 'same', 'same', 'rm-benefit', 'ren-benefit', 'rm-action', 'ren-action', 'rm-gift', 'ren-tier', 'rm-tier',
             'ren-stage', 'limit-count', 'limit-period']
KINDS_SRC = {'tiers': ['window', 'window'], 'points': ['expiry', 'pending'],
             'benefits': ['ren-benefit', 'ren-benefit', 'rm-benefit', 'limit-count', 'limit-period', 'limit-period']}
KINDS_GROCERY = ['ren-plan', 'rm-plan']


def limited(d):
    """(kind, id, limit) of every limited benefit and action"""
    out = [('benefit', b['id'], b['limit']) for b in d.get('benefits', []) if 'limit' in b]
    out += [('action', k, a['limit']) for k, a in d.get('points', {}).get('actions', {}).items() if 'limit' in a]
    return out


def rename_in_history(lines, kind, old, new):
    out = []
    for l in lines:
        o = json.loads(l)
        if kind == 'benefit' and o.get('type') == 'use_benefit' and o.get('benefit') == old: o['benefit'] = new
        elif kind == 'action' and o.get('type') == 'action' and o.get('kind') == old: o['kind'] = new
        elif kind == 'plan' and o.get('type') == 'join_paid' and o.get('plan') == old: o['plan'] = new
        else: out.append(l); continue
        out.append(json.dumps(o, ensure_ascii=False))
    return out


def rename_policy(d, kind, old, new):
    if kind == 'benefit':
        for b in d['benefits']:
            if b['id'] == old: b['id'] = new
    else:
        acts = d['points']['actions']; d['points']['actions'] = {(new if k == old else k): v for k, v in acts.items()}
        if d.get('growth', {}).get('actions'):
            d['growth']['actions'] = {(new if k == old else k): v for k, v in d['growth']['actions'].items()}
    return d


def run_seed(B, seed, scratch):
    src, pol, lines = gen(seed)
    r = random.Random(seed * 31 + 7)
    if len(lines) < 4: return 0, 'short'
    cut = r.randint(2, len(lines) - 1)
    kinds = KINDS_ALL + KINDS_SRC[src] + (KINDS_GROCERY if pol == 'grocery' else [])
    kind = r.choice(kinds)
    hint = None   # benefit kinds: cut right after a use of a limited benefit, so its counter matters
    if kind in ('ren-benefit', 'limit-count', 'limit-period') and r.random() < 0.7:
        lb = {x[1] for x in limited(orig(pol)) if x[0] == 'benefit'}
        uses = [i for i, l in enumerate(lines) if i >= 1 and i < len(lines) - 1 and '"use_benefit"' in l
                and json.loads(l).get('benefit') in lb]
        if uses:
            i = r.choice(uses); cut = i + 1; hint = json.loads(lines[i])['benefit']; COV['cut-after-use'] += 1
    H1, H2 = lines[:cut], lines[cut:]
    member = json.loads(lines[0])['member']
    P0 = PD + pol + '.yaml'
    sb = os.path.join(scratch, 'state.bin')
    rc, h1_out, err = replay(B, P0, H1, scratch, 'h1', state_out=sb)
    if rc != 0 or not os.path.exists(sb): return 0, 'h1-refused'
    cut_state = at_cut(h1_out, member)
    d = orig(pol)
    vary = r.random() < 0.5     # the changing variants are also written in varied forms, half the time
    expect = None               # ('state_policy', id) or ('lines', want list, normaliser)
    nrm = norm

    def orig_h2(h2, polpath=P0):
        rc2, out2, e2 = replay(B, polpath, h2, scratch, 'ref', state_in=sb)
        if rc2 != 0: raise Fail('reference run under the original refused: rc %d %s' % (rc2, e2[:200]))
        return out2

    if kind == 'same':
        d = same_meaning(d, r); vary = True
        ro = [m['id'] for m in orig(pol)['points']['earn']['multipliers']]
        so = [g['id'] for g in orig(pol).get('gifts', {}).get('surprise', [])]
        nrm = lambda o: norm(o, sort_ben=True, rule_order=ro, surprise_order=so)
        rcw, whole, e = replay(B, P0, lines, scratch, 'whole')
        expect = ('lines', [nrm(o) for o in whole[len(h1_out):]])
        if [norm(o) for o in whole[:len(h1_out)]] != [norm(o) for o in h1_out]:
            raise Fail('the first half cut off answers otherwise than the whole history (same policy)')
    elif kind in ('rm-benefit', 'ren-benefit'):
        lim_b = [x for x in d['benefits'] if 'limit' in x]
        b = r.choice(lim_b if r.random() < 0.7 else d['benefits'])
        if hint: b = [x for x in d['benefits'] if x['id'] == hint][0]
        bid = b['id']
        new = bid + '-2027'
        if kind == 'rm-benefit': d['benefits'].remove(b)
        else: b['id'] = new
        if kind == 'ren-benefit' and r.random() < 0.5:
            # the history goes on using the new id: it counts from zero, as a
            # benefit the state never knew (Z: the original with the benefit
            # named otherwise in H1 and in the policy, then H2 under the original)
            z = rename_policy(orig(pol), 'benefit', bid, 'zz-' + bid)
            zp = os.path.join(scratch, 'z.yaml'); open(zp, 'w', encoding='utf-8').write(emit(z, random.Random(seed), False))
            zs = os.path.join(scratch, 'zstate.bin')
            rcz, z1, e = replay(B, zp, rename_in_history(H1, 'benefit', bid, 'zz-' + bid), scratch, 'z1', state_out=zs)
            if rcz != 0: raise Fail('Z run refused: %s' % e[:300])
            rcz, zout, e = replay(B, P0, H2, scratch, 'z2', state_in=zs)
            H2 = rename_in_history(H2, 'benefit', bid, new)
            expect = ('lines', [norm(o) for o in zout])
            nrm = lambda o: norm(map_ids(o, {new: bid}))
            COV['ren-benefit:used'] += 1
        ref = [] if expect else orig_h2(rename_in_history(H2, 'benefit', bid, 'zz-unknown'))
        want = []
        for o in ref:
            o = norm(o)
            if isinstance(o.get('benefits'), list):
                bs = []
                for e in o['benefits']:
                    if e['id'] != bid: bs.append(e); continue
                    if kind == 'rm-benefit': continue
                    e = dict(e, id=new)
                    rs = [x for x in e.get('reasons', []) if not (isinstance(x, dict) and 'limit' in x)]
                    e.pop('reasons', None)
                    if rs: e['reasons'] = rs
                    e['open'] = not rs
                    bs.append(e)
                o['benefits'] = bs
            want.append(o)
        expect = expect or ('lines', want)
    elif kind in ('rm-action', 'ren-action'):
        kid = r.choice(list(d['points']['actions']))
        if kind == 'rm-action':
            del d['points']['actions'][kid]
            if d.get('growth', {}).get('actions'): d['growth']['actions'].pop(kid, None)
        else:
            d = rename_policy(d, 'action', kid, kid + '_2027')
        ref = orig_h2(rename_in_history(H2, 'action', kid, 'zz_unlisted'))
        expect = ('lines', [norm(o) for o in ref])
    elif kind == 'rm-gift':
        gs = [(k, g) for k in ('surprise', 'spend') for g in d.get('gifts', {}).get(k, [])]
        k, g = r.choice(gs); gid = g['id']
        assert 'points' not in g['reward']
        d['gifts'][k].remove(g)
        if not d['gifts'][k]: del d['gifts'][k]
        ref = orig_h2(H2)
        want = []
        for o in ref:
            o = norm(o)
            if 'effects' in o:
                o['effects'] = [e for e in o['effects'] if not (e['type'] == 'gift' and e.get('id') == gid)]
            want.append(o)
        expect = ('lines', want)
        COV['rm-gift:' + gid] += 1
    elif kind == 'ren-tier':
        t = r.choice(tier_ids(d)); new = t + '-2027'
        d = walk_replace(d, t, new)
        for l in d['tiers']['levels']: pass
        if cut_state['tier'] == t: expect = ('state_policy', t)
        elif pol == 'apparel' and t in cut_state['ledger']:
            COV['ren-tier:skipped-ledger'] += 1
            return 0, 'skip'
        else:
            ref = orig_h2(H2)
            expect = ('lines', [norm(o) for o in ref])
            nrm = lambda o: norm(map_ids(o, {new: t}))
    elif kind == 'rm-tier':
        ids = tier_ids(d); t = ids[-1]
        d['tiers']['levels'] = d['tiers']['levels'][:-1]
        d = cond_tier_fix(d, t, ids[-2])
        expect = ('state_policy', t) if cut_state['tier'] == t else ('loads', None)
    elif kind == 'ren-stage':
        st = d['lifecycle']; s = r.choice(st); sid = s['id']; new = sid + '-2027'
        s['id'] = new
        if not cut_state['known_stage']: return 0, 'skip'
        if cut_state['stage'] == sid: expect = ('state_policy', sid)
        else:
            expect = ('lines', [norm(o) for o in orig_h2(H2)])
            nrm = lambda o: norm(map_ids(o, {new: sid}))
    elif kind in ('ren-plan', 'rm-plan'):
        plans = d['paid']['plans']
        if kind == 'rm-plan':
            p = [x for x in plans if x['id'] == 'monthly'][0]; pid = 'monthly'; plans.remove(p); new = None
        else:
            p = r.choice(plans); pid = p['id']; new = pid + '-2027'
            d = walk_replace(d, pid, new, keys=False)
        if cut_state['plan'] == pid: expect = ('state_policy', pid)
        else:
            expect = ('lines', [norm(o) for o in orig_h2(rename_in_history(H2, 'plan', pid, 'zz-unknown'))])
            if new: nrm = lambda o: norm(map_ids(o, {new: pid}))
    elif kind in ('limit-count', 'limit-period'):
        ls = limited(d)
        if src == 'benefits' and r.random() < 0.6: ls = [x for x in ls if x[0] == 'benefit']
        what, lid, lim = r.choice(ls)
        if hint: what, lid, lim = [x for x in limited(d) if x[1] == hint][0]
        target = [b for b in d['benefits'] if b['id'] == lid][0] if what == 'benefit' else d['points']['actions'][lid]
        if kind == 'limit-count':
            if lim == 'once': return 0, 'skip'
            target['limit'] = dict(lim, count=max(1, lim['count'] + r.choice([-2, -1, 1, 1, 3])))
            vtxt = emit(d, random.Random(seed), False)
            vp = os.path.join(scratch, 'v-whole.yaml'); open(vp, 'w', encoding='utf-8').write(vtxt)
            rcw, whole_v, e = replay(B, vp, lines, scratch, 'wholev')
            if [norm(o) for o in whole_v[:len(h1_out)]] != [norm(o) for o in h1_out]:
                COV['limit-count:H1-differs'] += 1
                return 0, 'skip'
            expect = ('lines', [norm(o) for o in whole_v[len(h1_out):]])
        else:
            pers = ['once', 'day', 'week', 'month', 'year']
            cur = 'once' if lim == 'once' else lim['per']
            np_ = r.choice([x for x in pers if x != cur])
            target['limit'] = 'once' if np_ == 'once' else {'count': 1 if lim == 'once' else lim['count'], 'per': np_}
            z = rename_policy(orig(pol), what, lid, 'zz-' + lid)
            zp = os.path.join(scratch, 'z.yaml'); open(zp, 'w', encoding='utf-8').write(emit(z, random.Random(seed), False))
            zs = os.path.join(scratch, 'zstate.bin')
            rcz, z1, e = replay(B, zp, rename_in_history(H1, what, lid, 'zz-' + lid), scratch, 'z1', state_out=zs)
            if rcz != 0: raise Fail('Z run refused: %s' % e[:300])
            expect = ('lines-z', zs)
        COV['%s:%s' % (kind, what)] += 1
    elif kind == 'window':
        d0 = orig(pol)
        if pol == 'apparel':
            n = r.choice([6, 13]); d['tiers']['window'] = '%d_months' % n; w = ('months', n)
        else:
            n = r.choice([12, 3]); d['tiers']['window'] = '%d_months' % n; w = ('months', n)
        m = MT.Member(MT.POLS[pol], json.loads(H1[0])['member'])
        for l in H1[1:]: m.apply(json.loads(l))
        m.P = dict(MT.POLS[pol], window=w)
        want = [MT.norm(MT.fixq(m.apply(json.loads(l)))) for l in H2]
        expect = ('lines', want); nrm = lambda o: MT.norm(o)
        COV['window:%s->%d' % (pol, n)] += 1
    elif kind in ('expiry', 'pending'):
        P2 = dict(MP.POL[pol])
        if kind == 'expiry':
            c = r.choice([('after', 6), ('after', 24), ('after', 0), ('eoy', 0), ('eoy', 2)])
            d['points']['expiry'] = {'after_months': c[1]} if c[0] == 'after' else {'end_of_year_plus': c[1]}
            P2['expiry'] = c
        else:
            c = r.choice([0, 3, 14]) if pol == 'apparel' else r.choice([5, 30])
            d['points']['pending_days'] = c; P2['pending'] = c
        M = MP.Model(pol, json.loads(H1[0])['member'])
        for l in H1[1:]: M.apply(json.loads(l))
        M.p = P2
        want = [MP.norm(M.apply(json.loads(l))) for l in H2]
        expect = ('lines', want); nrm = lambda o: MP.norm(o)
        COV['%s:%s->%s' % (kind, pol, c)] += 1

    # write V, check it, run H2 under it from the bytes
    vtxt = emit(d, r, vary)
    vp = os.path.join(scratch, 'v.yaml'); open(vp, 'w', encoding='utf-8').write(vtxt)
    ck = subprocess.run([B, 'check', vp], capture_output=True, text=True)
    if ck.returncode != 0:
        raise Fail('%s: the variant does not load:\n%s' % (kind, (ck.stdout + ck.stderr)[:600]))
    if vary:
        c0 = subprocess.run([B, 'check', P0], capture_output=True, text=True).stdout
        if kind == 'same' and re.sub(r'^\S+: |, fingerprint .*', '', c0.strip()) != re.sub(r'^\S+: |, fingerprint .*', '', ck.stdout.strip()):
            raise Fail('same-meaning variant counts differ: %s / %s' % (c0.strip(), ck.stdout.strip()))
    sout = os.path.join(scratch, 'state2.bin')
    rc2, got, err = replay(B, vp, H2, scratch, 'h2', state_in=sb, state_out=sout)
    COV['kind:' + kind] += 1
    if expect[0] == 'state_policy':
        ok = (rc2 == 2 and got is not None and len(got) == 1 and got[0].get('event', 1) is None
              and got[0].get('error', {}).get('code') == 'LOY_E_STATE_POLICY'
              and expect[1] in got[0]['error'].get('message', '') and not os.path.exists(sout))
        if not ok: raise Fail('%s: want LOY_E_STATE_POLICY naming %r, exit 2, no state; got rc %d %s' % (kind, expect[1], rc2, (got or [err])[:1]))
        COV['state_policy:' + kind] += 1
        return 1, 'ok'
    if rc2 != 0:
        raise Fail('%s: the continuation is refused: rc %d %s %s' % (kind, rc2, (got or [])[:1], err[:300]))
    if expect[0] == 'loads':
        if got is None or len(got) != len(H2): raise Fail('%s: %s lines for %d' % (kind, got and len(got), len(H2)))
        return len(got), 'ok'
    if expect[0] == 'lines-z':
        rcz, zout, e = replay(B, vp, H2, scratch, 'z2', state_in=expect[1])
        want = [norm(o) for o in zout]
    else:
        want = expect[1]
    compare([nrm(o) for o in got], want, H2, kind)
    return len(got), 'ok'


def main():
    B, a, b, scratch = replay_args('meta-change', seeds=200)
    bad = 0; nh = 0; nl = 0; skipped = collections.Counter()
    for seed in range(a, b):
        try:
            n, why = run_seed(B, seed, scratch)
        except Fail as e:
            bad += 1
            print('DIFF seed %d: %s' % (seed, e))
            for f in ('v.yaml', 'h1.jsonl', 'h2.jsonl'):
                p = os.path.join(scratch, f)
                if os.path.exists(p): os.replace(p, os.path.join(scratch, 'fail-%d-%s' % (seed, f)))
            if bad > 8: break
            continue
        if why == 'ok': nh += 1; nl += n
        else: skipped[why] += 1
    print('meta-change: histories %d, second-half lines compared %d, skipped %s, differing %d' % (nh, nl, dict(skipped), bad))
    print('coverage:', dict(sorted(COV.items())))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
