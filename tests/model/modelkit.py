"""What the scripts of tests/model/ share that is not a rule of POLICY.md:
where the policies are, loading a sibling script as a module, calendar
arithmetic, how a result line is compared (error.message and trace
ignored, as the shared vectors' README says) and the replay scripts'
command line. The rules themselves stay in
each model, written apart."""
import calendar, datetime as dt, importlib.util, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
# the reference policies, beside the repository (POLICIES overrides)
PD = os.environ.get('POLICIES', os.path.join(HERE, '..', '..', '..', 'shared', 'spec', 'policies')) + '/'

D = dt.date


def load(name, fname):
    """A sibling script of tests/model/ as a module (its name has a '-')."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, fname))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def addm(d, n):
    """d + n months, the day clamped to the month's last (§1)."""
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12); m += 1
    return D(y, m, min(d.day, calendar.monthrange(y, m)[1]))
def eom(d): return D(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
def ym(d): return (d.year, d.month)
def mback(k, n):
    y, m = divmod(k[0] * 12 + k[1] - 1 - n, 12); return (y, m + 1)


def norm(o):
    """A result line as compared: no trace, no error message."""
    if isinstance(o, dict):
        o = {k: norm(v) for k, v in o.items() if k != 'trace'}
        if 'error' in o and isinstance(o['error'], dict): o['error'].pop('message', None)
        return o
    if isinstance(o, list): return [norm(x) for x in o]
    return o


def replay_args(name, seeds=400):
    """A replay script's arguments, each optional: LOYALTY FIRST END SCRATCH
    (the program, seeds FIRST..END-1, a folder for its files)."""
    v = sys.argv[1:]
    B = v[0] if len(v) > 0 else os.environ.get('LOYALTY', 'build/loyalty')
    a = int(v[1]) if len(v) > 1 else 0
    b = int(v[2]) if len(v) > 2 else int(os.environ.get('MODEL_SEEDS', str(seeds)))
    scratch = v[3] if len(v) > 3 else os.environ.get('SCRATCH', '/tmp/audit-' + name)
    os.makedirs(scratch, exist_ok=True)
    return B, a, b, scratch
