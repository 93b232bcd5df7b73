"""Population jobs on Spark: replay and simulate tens of millions of members.

    from loyalty import spark as lspark

    history = lspark.read_history(spark, "history.jsonl")        # or Parquet tables
    job = lspark.replay("apparel.yaml", history)
    job.results.write.parquet("out/results")                     # member_id, seq, event_id, code, result
    job.states.write.parquet("out/states")                       # member_id, state, policy
    print(job.report().table())                                  # = `loyalty simulate`

    report = lspark.compare("apparel.yaml", "apparel-2027.yaml", history)
    print(report.table())                                        # = `loyalty simulate --compare`

Every member's lines are replayed in order — by instant, ties by arrival
(the ``seq`` column) — under a policy shipped to the executors as its
source text and loaded once per Python worker process (cached by
fingerprint), never per row. The rows are spread by member_id and sorted
within each partition, and each partition is replayed member after member
by ``mapInArrow``; one pass gives the results, the final state bytes and
per-partition partial totals, which Spark sums into the report of
`loyalty simulate --json`, figure for figure. docs/spark.md is the guide.

Inputs (select and rename your columns to these):

- events: ``member_id`` string, ``event`` string (one event or query line,
  POLICY.md §11.1/§11.4), optional ``seq`` (arrival order, an integer; by
  default the frame's own order, ``monotonically_increasing_id()``), optional
  ``at`` (the line's instant: a timestamp, or the RFC 3339 text; by default
  read from the line).
- members: ``member_id``, ``member`` string — a member object (§11.2),
  ``{"member": {...}}`` or the inner object, legacy import fields included;
- or states: ``member_id``, ``state`` binary — state bytes a previous job or
  the POS stored (§10), read under the policy given (§10.2).

Bad input never fails the job: a line that is not JSON, a refused event or
query, is answered in that member's results as `loyalty replay` answers it;
a member object or state that does not load is reported (one result row
with the error, ``event_id`` null) and that member skipped.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

try:
    import pyarrow as pa
    from pyspark import StorageLevel
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
except ImportError as exc:   # pragma: no cover - depends on the installation
    raise ImportError("loyalty.spark needs pyspark and pyarrow: "
                      "pip install 'loyalty[spark]'") from exc

from .._core import Policy
from ._replay import (
    KIND_EVENT,
    KIND_MEMBER,
    KIND_STATE,
    OUT_RESULT,
    OUT_STATE,
    OUT_TOTALS,
    RESULTS_ALL,
    RESULTS_ERRORS,
    RESULTS_NONE,
    Replayer,
    classify_line,
    instant_us,
    is_blank,
    replay_rows,
)
from ._report import Report, Row, run_report

__all__ = [
    "read_history", "History", "replay", "Replay", "simulate", "compare", "Report", "Row",
    "PolicySource", "instant_us", "local_session", "OUTPUT_SCHEMA",
    "RESULTS_ALL", "RESULTS_ERRORS", "RESULTS_NONE",
]

PathOrSource = Union[str, "os.PathLike[str]", bytes, bytearray, "PolicySource"]

# The rows the workers write: results, state bytes and partial totals in one
# frame, told apart by `kind`, so one pass yields all three.
OUTPUT_SCHEMA = ("kind string, run int, member_id string, seq bigint, event_id string, "
                 "code string, result string, state binary, key string, value bigint")
_ARROW_OUTPUT = pa.schema([
    ("kind", pa.string()), ("run", pa.int32()), ("member_id", pa.string()),
    ("seq", pa.int64()), ("event_id", pa.string()), ("code", pa.string()),
    ("result", pa.string()), ("state", pa.binary()), ("key", pa.string()),
    ("value", pa.int64()),
])
# What the workers read: every row of a member, grouped by member_id.
_INPUT_COLUMNS = ("member_id", "k", "seq", "text", "state", "at_us", "at")


# ------------------------------------------------------------------ policy

class PolicySource:
    """A policy as the job ships it: its source bytes (the fingerprint is
    over these bytes exactly), its name in reports, and the policy loaded on
    the driver (load errors surface here, before any task runs)."""

    def __init__(self, source: Union[bytes, bytearray], name: str) -> None:
        self.source = bytes(source)
        self.name = name
        self.policy = Policy.from_string(self.source, name=name)
        self.fingerprint = self.policy.fingerprint

    @classmethod
    def of(cls, policy: PathOrSource, name: Optional[str] = None) -> "PolicySource":
        """A path (str or os.PathLike) to a YAML file, or its source bytes."""
        if isinstance(policy, PolicySource):
            return policy
        if isinstance(policy, Policy):
            raise TypeError("pass the policy's path or source bytes, not a loaded Policy: the "
                            "executors load it from its source text")
        if isinstance(policy, (bytes, bytearray)):
            return cls(policy, name or "<memory>")
        path = os.fspath(policy)
        with open(path, "rb") as f:
            return cls(f.read(), name or path)

    def spec(self) -> Tuple[str, bytes, str]:
        return (self.fingerprint, self.source, self.name)

    def __repr__(self) -> str:
        return f"<loyalty.spark.PolicySource {self.name!r} {self.fingerprint}>"


# ----------------------------------------------------------------- history

_NO_MEMBER = object()
_SCAN_SCHEMA = ("file string, block bigint, count bigint, members bigint, "
                "has_member boolean, last string")
_ARROW_SCAN = pa.schema([("file", pa.string()), ("block", pa.int64()), ("count", pa.int64()),
                         ("members", pa.int64()), ("has_member", pa.bool_()),
                         ("last", pa.string())])
_ARROW_HISTORY = pa.schema([("member_id", pa.string()), ("k", pa.int32()), ("seq", pa.int64()),
                            ("text", pa.string())])


def _split_lines(batches: Iterator["pa.RecordBatch"]) -> Iterator[Tuple[str, int, str]]:
    for batch in batches:
        yield from zip(batch.column("file").to_pylist(), batch.column("block").to_pylist(),
                       batch.column("line").to_pylist())


def _scan(batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
    """Pass 1 of read_history: for each split (file, first byte) the lines
    it holds and the member current at its end (the next split's lines
    before its first member line belong to that member)."""
    out: Dict[str, List[Any]] = {k: [] for k in _ARROW_SCAN.names}
    current: Any = None
    count = members = 0
    last: Any = _NO_MEMBER

    def flush() -> None:
        out["file"].append(current[0])
        out["block"].append(current[1])
        out["count"].append(count)
        out["members"].append(members)
        out["has_member"].append(last is not _NO_MEMBER)
        out["last"].append(None if last is _NO_MEMBER else last)

    for file, block, line in _split_lines(batches):
        if (file, block) != current:
            if current is not None:
                flush()
            current, count, members, last = (file, block), 0, 0, _NO_MEMBER
        count += 1
        if count == 1 and block == 0 and line.startswith("\ufeff"):
            line = line[1:]
        if is_blank(line):
            continue
        kind, member_id = classify_line(line)
        if kind == KIND_MEMBER:
            members += 1
            last = member_id
    if current is not None:
        flush()
    yield pa.RecordBatch.from_pydict(out, schema=_ARROW_SCAN)


class _Assign:
    """Pass 2 of read_history: every line with its number and its member
    (picklable: it carries where each split starts)."""

    def __init__(self, starts: Dict[Tuple[str, int], Tuple[int, Optional[str]]]) -> None:
        self.starts = starts

    def __call__(self, batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        out: Dict[str, List[Any]] = {k: [] for k in _ARROW_HISTORY.names}
        split: Any = None
        number, current, first = 0, None, False
        for file, block, line in _split_lines(batches):
            if (file, block) != split:
                split = (file, block)
                number, current = self.starts[split]
                first = True
            number += 1
            if first and block == 0 and line.startswith("\ufeff"):
                line = line[1:]     # a byte order mark is an editor's, not line 1's
            first = False
            if is_blank(line):
                continue
            kind, member_id = classify_line(line)
            if kind == KIND_MEMBER:
                current = member_id
                row = (member_id, KIND_MEMBER, number, line)
            else:
                # An event naming its member goes to it; any other line to
                # the member whose line came last before it.
                row = (member_id if member_id is not None else current, KIND_EVENT, number, line)
            for key, value in zip(_ARROW_HISTORY.names, row):
                out[key].append(value)
            if len(out["seq"]) >= 8192:
                yield pa.RecordBatch.from_pydict(out, schema=_ARROW_HISTORY)
                out = {k: [] for k in _ARROW_HISTORY.names}
        yield pa.RecordBatch.from_pydict(out, schema=_ARROW_HISTORY)


class History:
    """A history: member objects and event lines with their members.

    ``frame`` has columns member_id, k (0 a member object, 2 an event or
    query line), seq (the line number in the file, 1-based, blank lines
    counted) and text. ``events`` and ``members`` are the same rows in the
    shape `replay` takes, ready to write to Parquet.
    """

    def __init__(self, frame: DataFrame, name: str, lines: Optional[int] = None,
                 member_lines: Optional[int] = None) -> None:
        self.frame = frame
        self.name = name
        self.lines = lines
        self.member_lines = member_lines

    @property
    def events(self) -> DataFrame:
        return (self.frame.filter(F.col("k") == KIND_EVENT)
                .select("member_id", "seq", F.col("text").alias("event")))

    @property
    def members(self) -> DataFrame:
        return (self.frame.filter(F.col("k") == KIND_MEMBER)
                .select("member_id", "seq", F.col("text").alias("member")))

    def unpersist(self) -> None:
        self.frame.unpersist()

    def __repr__(self) -> str:
        return f"<loyalty.spark.History {self.name!r} {self.lines} lines>"


def read_history(spark: SparkSession, path: Union[str, Sequence[str]], *,
                 name: Optional[str] = None, persist: bool = True) -> History:
    """Read `loyalty simulate` history files (JSON lines, docs/wire.md: a
    member line, then that member's lines) into a History, in parallel.

    Spark splits the files as it splits any text; a first pass finds how
    many lines each split holds and which member is current at its end, a
    second gives every line its member and its number (1-based, blank
    lines counted, files taken in name order and numbered on from one to the
    next, so numbers are unique). Each file starts afresh: lines before its
    first member line have no member (reported, as `loyalty simulate` stops
    on them). Lines are split at LF only (CR is whitespace, so CRLF works),
    as `loyalty simulate` splits them; the text must be UTF-8. An event line
    that carries "member_id" goes to that member.

    With persist (the default) the History is cached and read at once, so
    both passes see the same splits whatever settings change later."""
    text = spark.read.option("lineSep", "\n").text(path)
    src = text.select(F.input_file_name().alias("file"),
                      F.expr("input_file_block_start()").alias("block"),
                      F.col("value").alias("line"))
    stats = src.mapInArrow(_scan, _SCAN_SCHEMA).collect()
    stats.sort(key=lambda r: (r["file"], r["block"]))
    starts: Dict[Tuple[str, int], Tuple[int, Optional[str]]] = {}
    number, current, file = 0, None, None
    member_lines = 0
    for row in stats:
        if row["file"] != file:
            file, current = row["file"], None
        starts[(row["file"], row["block"])] = (number, current)
        number += row["count"]
        member_lines += row["members"]
        if row["has_member"]:
            current = row["last"]
    frame = src.mapInArrow(_Assign(starts), "member_id string, k int, seq bigint, text string")
    if persist:
        frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
        frame.count()
    if name is None:
        name = path if isinstance(path, str) else ",".join(path)
        name = os.path.basename(name.rstrip("/")) or name
    return History(frame, name, number, member_lines)


# ------------------------------------------------------------------ inputs

def _null(type_name: str) -> Any:
    return F.lit(None).cast(type_name)


def _events_input(events: DataFrame) -> DataFrame:
    cols = set(events.columns)
    for need in ("member_id", "event"):
        if need not in cols:
            raise ValueError(f"the events frame needs a '{need}' column (has {sorted(cols)})")
    seq = F.col("seq").cast("long") if "seq" in cols else F.monotonically_increasing_id()
    at_us, at = _null("long"), _null("string")
    if "at" in cols:
        kind = events.schema["at"].dataType
        if isinstance(kind, T.TimestampType):
            at_us = F.expr("unix_micros(`at`)")
        elif isinstance(kind, T.StringType):
            at = F.col("at")
        elif isinstance(kind, T.LongType):
            at_us = F.col("at")     # UTC microseconds
        else:
            raise TypeError(f"the events' 'at' column is {kind.simpleString()}: give a timestamp "
                            "(with time zone), the RFC 3339 text, or UTC microseconds (bigint)")
    return events.select(
        F.col("member_id").cast("string").alias("member_id"),
        F.lit(KIND_EVENT).alias("k"), seq.alias("seq"),
        F.col("event").cast("string").alias("text"),
        _null("binary").alias("state"), at_us.alias("at_us"), at.alias("at"))


def _members_input(members: DataFrame) -> DataFrame:
    cols = set(members.columns)
    for need in ("member_id", "member"):
        if need not in cols:
            raise ValueError(f"the members frame needs a '{need}' column (has {sorted(cols)})")
    seq = F.col("seq").cast("long") if "seq" in cols else F.lit(0).cast("long")
    return members.select(
        F.col("member_id").cast("string").alias("member_id"),
        F.lit(KIND_MEMBER).alias("k"), seq.alias("seq"),
        F.col("member").cast("string").alias("text"),
        _null("binary").alias("state"), _null("long").alias("at_us"), _null("string").alias("at"))


def _states_input(states: DataFrame) -> DataFrame:
    cols = set(states.columns)
    for need in ("member_id", "state"):
        if need not in cols:
            raise ValueError(f"the states frame needs a '{need}' column (has {sorted(cols)})")
    return states.select(
        F.col("member_id").cast("string").alias("member_id"),
        F.lit(KIND_STATE).alias("k"), F.lit(0).cast("long").alias("seq"),
        _null("string").alias("text"), F.col("state").cast("binary").alias("state"),
        _null("long").alias("at_us"), _null("string").alias("at"))


def _input(events: Union[History, DataFrame], members: Optional[DataFrame],
           states: Optional[DataFrame]) -> Tuple[DataFrame, Optional[History]]:
    if isinstance(events, History):
        if members is not None:
            raise ValueError("a History carries its member objects: pass no members frame")
        h = events
        frame = h.frame.select(
            "member_id", "k", "seq", "text", _null("binary").alias("state"),
            _null("long").alias("at_us"), _null("string").alias("at"))
        if states is not None:
            frame = frame.unionByName(_states_input(states))
        return frame, h
    frame = _events_input(events)
    if members is not None:
        frame = frame.unionByName(_members_input(members))
    if states is not None:
        frame = frame.unionByName(_states_input(states))
    return frame, None


# ------------------------------------------------------------------ worker

class _Worker:
    """The function mapInArrow runs on each partition (picklable): replays
    the partition's members in order and writes output batches. Policies
    travel as their source text; the worker process loads each once
    (cached by fingerprint) and keeps it for its next tasks."""

    def __init__(self, specs: Sequence[Tuple[str, bytes, str]], results: str, states: bool,
                 chunk_rows: int) -> None:
        self.specs = list(specs)
        self.results = results
        self.states = states
        self.chunk_rows = chunk_rows

    def __call__(self, batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        replayer = Replayer(self.specs, results=self.results, states=self.states)
        try:
            for chunk in replay_rows(replayer, self._rows(batches), self.chunk_rows):
                yield pa.RecordBatch.from_pydict(chunk, schema=_ARROW_OUTPUT)
        finally:
            replayer.close()

    @staticmethod
    def _rows(batches: Iterator["pa.RecordBatch"]) -> Iterator[Tuple[Any, ...]]:
        for batch in batches:
            cols = [batch.column(name).to_pylist() for name in _INPUT_COLUMNS]
            yield from zip(*cols)


def _run(specs: Sequence[PolicySource], events: Union[History, DataFrame],
         members: Optional[DataFrame], states: Optional[DataFrame], *, results: str,
         write_states: bool, partitions: Optional[int], chunk_rows: int = 8192
         ) -> Tuple[DataFrame, Optional[History]]:
    if results not in (RESULTS_ALL, RESULTS_ERRORS, RESULTS_NONE):
        raise ValueError(f"results must be 'all', 'errors' or 'none', not {results!r}")
    frame, history = _input(events, members, states)
    spark = frame.sparkSession
    n = partitions or int(spark.conf.get("spark.sql.shuffle.partitions"))
    # Each member's rows in one partition, contiguous: the worker replays
    # member after member as the rows stream by.
    grouped = frame.repartition(n, "member_id").sortWithinPartitions("member_id")
    worker = _Worker([s.spec() for s in specs], results, write_states, chunk_rows)
    return grouped.mapInArrow(worker, OUTPUT_SCHEMA), history


def _totals(output: DataFrame, runs: int) -> List[Dict[str, int]]:
    """Sum the partial totals of every partition, exactly (decimal(38): a
    bigint sum would wrap silently)."""
    rows = (output.filter(F.col("kind") == OUT_TOTALS)
            .groupBy("run", "key")
            .agg(F.sum(F.col("value").cast("decimal(38,0)")).alias("value"))
            .collect())
    out: List[Dict[str, int]] = [{} for _ in range(runs)]
    for row in rows:
        out[row["run"]][row["key"]] = int(row["value"])
    return out


def _report(specs: Sequence[PolicySource], totals: List[Dict[str, int]],
            history: Optional[History], name: Optional[str]) -> Report:
    x = dict.fromkeys(("member_rows", "state_rows", "event_rows", "lines_without_member",
                       "members_missing", "members_duplicated", "events_skipped", "tasks",
                       "worker_cpu_ms", "policy_loads", "worker_processes"), 0)
    for key, value in totals[0].items():
        if key.startswith("x:pid:"):
            x["worker_processes"] += 1      # Python worker processes that ran tasks
        elif key.startswith("x:"):
            x[key[2:]] = value
    for i, t in enumerate(totals[1:], 1):
        if t.get("x:policy_loads"):
            x[f"policy_loads_run{i}"] = t["x:policy_loads"]
    runs = [run_report(s.name, s.policy, {k: v for k, v in t.items() if not k.startswith("x:")})
            for s, t in zip(specs, totals)]
    if history is not None and history.lines is not None:
        lines, member_lines = history.lines, history.member_lines or 0
        label = name or history.name
    else:
        member_lines = x.get("member_rows", 0)
        lines = member_lines + x.get("state_rows", 0) + x.get("event_rows", 0)
        label = name or "<frames>"
    return Report(label, lines, member_lines, runs, x)


# ------------------------------------------------------------------ replay

class Replay:
    """One population job: its output rows and the views of them.

    ``output`` is every row the workers wrote (OUTPUT_SCHEMA); ``results``,
    ``states`` and ``report()`` read it. It is persisted (memory and disk)
    by default, so that writing the results, writing the states and
    computing the report replay the members once; for jobs too large to
    cache, pass ``persist=False`` and call ``write_parquet(path)``, which
    writes everything in one pass, partitioned by kind, and returns the
    job read back from there.
    """

    def __init__(self, output: DataFrame, specs: Sequence[PolicySource],
                 history: Optional[History], name: Optional[str]) -> None:
        self.output = output
        self.specs = list(specs)
        self.history = history
        self.name = name
        self._report: Optional[Report] = None

    @property
    def policy(self) -> PolicySource:
        return self.specs[0]

    @property
    def results(self) -> DataFrame:
        """member_id, seq, event_id, code, result: one row per event or query
        line (sort by member_id, seq to read a member's in arrival order).
        code is null for an accepted event or an answered query, else the
        error's name (LOY_E_...); result is the JSON line `loyalty replay`
        prints; event_id is null for a query and for a line without a usable
        id. A member that could not start has one row, event_id null, with
        its error, and no state."""
        return (self.output.filter(F.col("kind") == OUT_RESULT)
                .select("member_id", "seq", "event_id", "code", "result"))

    @property
    def states(self) -> DataFrame:
        """member_id, state (the bytes to store, POLICY.md §10), policy (the
        fingerprint of the policy that wrote them)."""
        fp = self.specs[0].fingerprint
        return (self.output.filter(F.col("kind") == OUT_STATE)
                .select("member_id", "state", F.lit(fp).alias("policy")))

    def report(self) -> Report:
        """The `loyalty simulate --json` report of this job (computed once)."""
        if self._report is None:
            self._report = _report(self.specs, _totals(self.output, len(self.specs)),
                                   self.history, self.name)
        return self._report

    def write_parquet(self, path: str, mode: str = "errorifexists") -> "Replay":
        """Write results, states and partial totals in one pass under path
        (partitioned by kind: path/kind=result, kind=state, kind=totals) and
        return the job read back from there."""
        self.output.write.mode(mode).partitionBy("kind").parquet(path)
        spark = self.output.sparkSession
        back = Replay(spark.read.parquet(path), self.specs, self.history, self.name)
        return back

    def unpersist(self) -> None:
        self.output.unpersist()


def replay(policy: PathOrSource, events: Union[History, DataFrame],
           members: Optional[DataFrame] = None, states: Optional[DataFrame] = None, *,
           results: str = RESULTS_ALL, write_states: bool = True,
           partitions: Optional[int] = None, persist: bool = True,
           name: Optional[str] = None) -> Replay:
    """Replay every member's lines under a policy (a YAML path or its source
    bytes). events is a History or an events frame (with members or states
    frames to start the members from). results: "all" (a row per line),
    "errors" (refusals only) or "none"; write_states: whether to write
    each member's final state; partitions: how many (default
    spark.sql.shuffle.partitions); name: the history's name in the report."""
    spec = PolicySource.of(policy)
    output, history = _run([spec], events, members, states, results=results,
                           write_states=write_states, partitions=partitions)
    if persist:
        output = output.persist(StorageLevel.MEMORY_AND_DISK)
    return Replay(output, [spec], history, name)


def simulate(policy: PathOrSource, events: Union[History, DataFrame],
             members: Optional[DataFrame] = None, states: Optional[DataFrame] = None, *,
             compare: Optional[PathOrSource] = None, partitions: Optional[int] = None,
             name: Optional[str] = None) -> Report:
    """`loyalty simulate POLICY HISTORY [--compare OTHER]` on Spark: the
    report only (no results, no states), in one pass over the members."""
    specs = [PolicySource.of(policy)]
    if compare is not None:
        specs.append(PolicySource.of(compare))
    output, history = _run(specs, events, members, states, results=RESULTS_NONE,
                           write_states=False, partitions=partitions)
    return _report(specs, _totals(output, len(specs)), history, name)


def compare(policy_a: PathOrSource, policy_b: PathOrSource, events: Union[History, DataFrame],
            members: Optional[DataFrame] = None, states: Optional[DataFrame] = None, *,
            partitions: Optional[int] = None, name: Optional[str] = None) -> Report:
    """The same history under two policies, side by side: ``report.table()``
    is what `loyalty simulate A HISTORY --compare B` prints (second − first),
    ``report.differences()`` the rows that differ, ``report.runs`` both
    reports."""
    return simulate(policy_a, events, members, states, compare=policy_b,
                    partitions=partitions, name=name)


# ----------------------------------------------------------- local session

_LOG4J2 = """\
# loyalty.spark.local_session: warnings and errors only, on stderr.
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
# No native Hadoop library is needed to read and write local files.
logger.nativecode.name = org.apache.hadoop.util.NativeCodeLoader
logger.nativecode.level = error
"""


def _log4j2_file() -> str:
    path = os.path.join(tempfile.gettempdir(), f"loyalty-spark-log4j2-{os.getuid()}.properties")
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == _LOG4J2:
                return path
    except OSError:
        pass
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(_LOG4J2)
    os.replace(tmp, path)
    return path


def local_session(cores: int = 2, *, app_name: str = "loyalty", partitions: Optional[int] = None,
                  conf: Optional[Dict[str, str]] = None) -> SparkSession:
    """A quiet Spark session on this machine, for trying jobs, tests and
    benchmarks: master local[cores], bound to the loopback interface (no
    network needed), no web UI, no progress bars, log level WARN, UTC, and
    Python workers running this interpreter (so they import this loyalty).
    partitions sets spark.sql.shuffle.partitions (default 4 × cores); conf
    adds or overrides settings."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.shuffle.partitions": str(partitions or 4 * cores),
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{_log4j2_file()}",
        "spark.python.worker.reuse": "true",
    }
    settings.update(conf or {})
    builder = SparkSession.builder.master(f"local[{cores}]").appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
