"""Filters on the first sort dimension, answered from runs and their totals, on every flavour.

Rows are sorted by time and then by the dimensions in schema order, so after hourly rollup the rows of
one (hour, advertiser) pair are contiguous: a run. A filter on ``advertiser`` (the first dimension)
finds the segment's runs by binary search or through a lookup table, or, in segments whose runs are
too short to keep, searches the rows. Reports that only sum by time (and advertiser) are answered for
all segments at once from run totals, or from each advertiser's totals over a whole segment
(:mod:`grove.query.runtotals`); other queries go segment by segment (:mod:`grove.query.fastpath`).
Each way is driven here and checked against sums computed from the rows in plain Python, also when
the runner splits one segment across threads, cutting runs.
"""

from __future__ import annotations

import gc
import random
import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from flavours import DAY, FLAVOURS, HOUR, T0, Dataset, build_segments, make_runner, table_of

import grove
from grove.common.time import format_timestamp, parse_timestamp
from grove.query import fastpath, kernels, runner, runtotals
from grove.query.runner import QueryRunner
from grove.segment import segment as segment_module
from grove.segment.segment import DerivedMemory, Segment

ADVERTISERS = [f"adv{i:02d}" for i in range(20)]


def _rows() -> list[dict[str, Any]]:
    rng = random.Random(42)
    rows = []
    for i in range(6_000):
        rows.append(
            {
                "__time": T0 + rng.randrange(2 * DAY) // HOUR * HOUR + rng.randrange(HOUR),
                # Skewed: the first advertisers hold most rows, so runs have very different lengths.
                "advertiser": ADVERTISERS[min(int(rng.expovariate(0.25)), 19)],
                "campaign": f"c{rng.randrange(40)}",
                "country": rng.choice(["US", "FR", None]),
                "impressions": rng.randrange(100),
                "spend": round(rng.uniform(0, 5), 2),
                "i": i,
            }
        )
    rows.sort(key=lambda r: (r["__time"], r["i"]))
    return rows


ROWS = _rows()
RUNS = Dataset(
    "runs",
    table_of(
        ROWS,
        {
            "advertiser": pa.string(),
            "campaign": pa.string(),
            "country": pa.string(),
            "impressions": pa.int64(),
            "spend": pa.float64(),
        },
    ),
    dimensions=["advertiser", "campaign", "country"],
    metrics=[
        {"type": "count", "name": "count"},
        {"type": "longSum", "name": "impressions", "fieldName": "impressions"},
        {"type": "doubleSum", "name": "spend", "fieldName": "spend"},
    ],
    rollup=True,
    query_granularity="hour",
)
AGGS = [
    {"type": "longSum", "name": "rows", "fieldName": "count"},
    {"type": "longSum", "name": "impressions", "fieldName": "impressions"},
    {"type": "doubleSum", "name": "spend", "fieldName": "spend"},
]


@pytest.fixture(scope="module")
def runners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, QueryRunner]]:
    built = {f: make_runner([RUNS], f, Path(tmp_path_factory.mktemp(f"runs-{f}"))) for f in FLAVOURS}
    yield built
    for r in built.values():
        r.close()


def _expected(
    advertisers: set[str], bucket: int | None, interval: tuple[int, int], country: str | None = None
) -> dict[tuple[int, str], tuple[int, int, float]]:
    out: dict[tuple[int, str], list[Any]] = defaultdict(lambda: [0, 0, 0.0])
    for r in ROWS:
        t = r["__time"] // HOUR * HOUR  # rolled up to the hour: queries see the hour's start
        if r["advertiser"] not in advertisers or not interval[0] <= t < interval[1]:
            continue
        if country is not None and r["country"] != country:
            continue
        start = interval[0] if bucket is None else (t - T0) // bucket * bucket + T0
        acc = out[(start, r["advertiser"])]
        acc[0] += 1
        acc[1] += r["impressions"]
        acc[2] += r["spend"]
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def _answer(rows: list[dict[str, Any]]) -> dict[tuple[int, str], tuple[int, int, float]]:
    out = {}
    for r in rows:
        e = r["event"]
        key = (parse_timestamp(r["timestamp"]), e["advertiser"])
        assert key not in out
        out[key] = (e["rows"], e["impressions"], e["spend"])
    return out


CASES = [
    # (advertisers in the filter, granularity, bucket ms, interval)
    (["adv00"], "day", DAY, (T0, T0 + 2 * DAY)),
    (["adv03", "adv07", "nobody"], "hour", HOUR, (T0 + 5 * HOUR, T0 + 30 * HOUR)),
    (ADVERTISERS[::2], "day", DAY, (T0, T0 + 2 * DAY)),
    (ADVERTISERS[1:], "all", None, (T0 + 90 * 60_000, T0 + 47 * HOUR)),
    (ADVERTISERS[:12], "hour", HOUR, (T0 + DAY, T0 + 2 * DAY)),  # one segment (two when merged)
    (ADVERTISERS[5:9], "day", DAY, (T0 + 2 * HOUR, T0 + 22 * HOUR)),
]


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("ranges", ["search", "pick", "rows"])
@pytest.mark.parametrize("split", [False, True], ids=["whole", "split"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_first_dimension_filters_match_the_rows(
    runners: dict[str, QueryRunner],
    flavour: str,
    ranges: str,
    split: bool,
    case: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Segment by segment (the run totals path is tested below): runs found by binary search, or
    # picked by a lookup table; or rows searched when a segment keeps no runs.
    monkeypatch.setattr(runtotals, "answer", lambda *a: None)
    monkeypatch.setattr(fastpath, "SEARCH_STEPS", 0 if ranges == "search" else 1 << 40)
    if ranges == "rows":
        monkeypatch.setattr(Segment, "prefix_runs", lambda self: None)
    finder = {"search": "search_runs", "pick": "pick_runs", "rows": "prefix_ranges"}[ranges]
    used: set[str] = set()
    for name in ("fold_whole_runs", "search_runs", "pick_runs", "prefix_ranges"):
        kernel = getattr(kernels, name)
        monkeypatch.setattr(kernels, name, lambda *a, k=kernel, n=name: used.add(n) or k(*a))
    if split:
        # One segment queried by two threads, each over half its rows: the halves cut runs apart.
        monkeypatch.setattr(runner, "_MIN_SPLIT_ROWS", 100)
    advertisers, granularity, bucket, (lo, hi) = CASES[case]
    values = advertisers if len(advertisers) > 1 else None
    query = {
        "queryType": "groupBy",
        "dataSource": "runs",
        "intervals": [f"{format_timestamp(lo)}/{format_timestamp(hi)}"],
        "granularity": granularity,
        "dimensions": ["advertiser"],
        "filter": (
            {"type": "in", "dimension": "advertiser", "values": values}
            if values
            else {"type": "selector", "dimension": "advertiser", "value": advertisers[0]}
        ),
        "aggregations": AGGS,
    }
    _check(_answer(runners[flavour].run(query)), _expected(set(advertisers), bucket, (lo, hi)))
    # Sums grouped by the first dimension alone add whole runs' totals.
    assert used == ({finder} if ranges == "rows" else {finder, "fold_whole_runs"})
    used.clear()
    # With a second term on another column, and through the general engine (an unused virtual
    # column keeps a query off the fast path).
    query["filter"] = {
        "type": "and",
        "fields": [query["filter"], {"type": "selector", "dimension": "country", "value": "FR"}],
    }
    want = _expected(set(advertisers), bucket, (lo, hi), "FR")
    _check(_answer(runners[flavour].run(query)), want)
    assert used == {finder}
    unused = {"type": "expression", "name": "unused", "expression": "1", "outputType": "LONG"}
    _check(_answer(runners[flavour].run(dict(query, virtualColumns=[unused]))), want)


def _check(got: dict[tuple[int, str], Any], want: dict[tuple[int, str], tuple[int, int, float]]) -> None:
    assert want
    assert got.keys() == want.keys()
    for key, (count, impressions, spend) in want.items():
        assert got[key][:2] == (count, impressions), key
        assert got[key][2] == pytest.approx(spend, rel=1e-9), key


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("split", [False, True], ids=["whole", "split"])
def test_timeseries_of_many_first_dimension_values(
    runners: dict[str, QueryRunner], flavour: str, split: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs of different advertisers fold into one group per time bucket."""
    monkeypatch.setattr(runtotals, "answer", lambda *a: None)
    if split:
        monkeypatch.setattr(runner, "_MIN_SPLIT_ROWS", 100)
    picked = set(ADVERTISERS[::3])
    lo, hi = T0 + 3 * HOUR, T0 + 21 * HOUR  # one day: one segment, split across threads
    rows = runners[flavour].run(
        {
            "queryType": "timeseries",
            "dataSource": "runs",
            "intervals": [f"{format_timestamp(lo)}/{format_timestamp(hi)}"],
            "granularity": "hour",
            "filter": {"type": "in", "dimension": "advertiser", "values": sorted(picked)},
            "aggregations": AGGS,
        }
    )
    want = defaultdict(lambda: [0, 0, 0.0])
    for key, (count, impressions, spend) in _expected(picked, HOUR, (lo, hi)).items():
        acc = want[key[0]]
        acc[0] += count
        acc[1] += impressions
        acc[2] += spend
    assert len(rows) == 18
    for r in rows:
        count, impressions, spend = want[parse_timestamp(r["timestamp"])]
        assert (r["result"]["rows"], r["result"]["impressions"]) == (count, impressions)
        assert r["result"]["spend"] == pytest.approx(spend, rel=1e-9)


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("ranges", ["search", "pick"])
@pytest.mark.parametrize("query_type", ["groupBy", "timeseries"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_run_totals_match_the_rows(
    runners: dict[str, QueryRunner],
    flavour: str,
    ranges: str,
    query_type: str,
    case: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """All segments at once: a whole segment in one bucket adds each advertiser's totals over the
    segment; other buckets add the runs' totals, found by binary search or picked."""
    monkeypatch.setattr(runtotals, "SEARCH_STEPS", 0 if ranges == "search" else 1 << 40)
    used: list[str] = []
    monkeypatch.setattr(
        kernels, "fold_codes", lambda *a, k=kernels.fold_codes: used.append("fold_codes") or k(*a)
    )
    monkeypatch.setattr(
        kernels, "fold_picked_runs",
        lambda *a, k=kernels.fold_picked_runs: used.append("search" if a[8] else "pick") or k(*a),
    )  # fmt: skip
    seen: list[Any] = []
    answer = runtotals.answer
    monkeypatch.setattr(runtotals, "answer", lambda *a: seen.append(answer(*a)) or seen[-1])
    advertisers, granularity, bucket, (lo, hi) = CASES[case]
    many = len(advertisers) > 1
    query: dict[str, Any] = {
        "queryType": query_type,
        "dataSource": "runs",
        "intervals": [f"{format_timestamp(lo)}/{format_timestamp(hi)}"],
        "granularity": granularity,
        "filter": (
            {"type": "in", "dimension": "advertiser", "values": advertisers}
            if many
            else {"type": "selector", "dimension": "advertiser", "value": advertisers[0]}
        ),
        "aggregations": AGGS,
    }
    if query_type == "groupBy":
        query["dimensions"] = ["advertiser"]
        _check(_answer(runners[flavour].run(query)), _expected(set(advertisers), bucket, (lo, hi)))
    else:
        want: dict[int, list[Any]] = defaultdict(lambda: [0, 0, 0.0])
        for key, sums in _expected(set(advertisers), bucket, (lo, hi)).items():
            want[key[0]] = [a + b for a, b in zip(want[key[0]], sums, strict=True)]
        got = {
            parse_timestamp(r["timestamp"]): r["result"]
            for r in runners[flavour].run(query)
            if r["result"]["rows"] is not None
        }
        assert got.keys() == want.keys()
        for t, (count, impressions, spend) in want.items():
            assert (got[t]["rows"], got[t]["impressions"]) == (count, impressions)
            assert got[t]["spend"] == pytest.approx(spend, rel=1e-9)
    assert seen and all(a is not None for a in seen)  # answered by the run totals path
    # Day buckets over whole day segments add advertisers' totals; other buckets cut segments, and
    # add runs (the merged flavour's half-day segments may still lie whole in one bucket).
    if granularity == "day" and (lo, hi) == (T0, T0 + 2 * DAY):
        assert set(used) == {"fold_codes"}
    else:
        assert ranges in used and set(used) <= {ranges, "fold_codes" if flavour == "merged" else ranges}


def _same(got: Any, want: Any) -> None:
    """Equal answers, floats to the last bits (totals add in another order than rows)."""
    if isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-9)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want)
        for k in want:
            _same(got[k], want[k])
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _same(g, w)
    else:
        assert got == want


WIDE_AGGS = [
    *AGGS,
    {"type": "count", "name": "n"},
    {"type": "floatSum", "name": "spend_f", "fieldName": "spend"},
    {"type": "doubleSum", "name": "impressions_d", "fieldName": "impressions"},
]
SHAPES = [
    # Weeks over day segments: both days add into one bucket.
    {"granularity": "week", "intervals": ["2019-12-30/2020-01-06"]},
    # Hours with empty ones inside the data (filled by timeseries), and an interval that ends mid-day.
    {"granularity": "hour", "intervals": ["2020-01-01T03:00/2020-01-02T05:30"]},
    # Two intervals, one of them before the data; granularity all (stamped with the data's start).
    {"granularity": "all", "intervals": ["2019-12-01/2019-12-02", "2020-01-01T12:00/2020-01-02T12:00"]},
    {"granularity": {"type": "period", "period": "PT6H", "timeZone": "America/New_York"},
     "intervals": ["2020-01-01/2020-01-03"]},
    {"granularity": "day", "intervals": ["2020-01-01/2020-01-03"], "descending": True},
]  # fmt: skip


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("query_type", ["groupBy", "timeseries"])
@pytest.mark.parametrize("shape", range(len(SHAPES)))
@pytest.mark.parametrize(
    "values", [["adv02"], ["=adv07"], ["adv01", "adv04", "nobody"], ADVERTISERS[::-1] * 5]
)
def test_run_totals_answer_as_the_segments_do(
    runners: dict[str, QueryRunner],
    flavour: str,
    query_type: str,
    shape: int,
    values: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every result field as the per-segment engines give it: buckets, empty buckets, timestamps,
    counts, float and double sums, many values given in any order and more than once."""
    monkeypatch.setattr(runtotals, "_LOOKUP_VALUES", 2)  # the longer lists probe a hash set
    query: dict[str, Any] = {
        "queryType": query_type,
        "dataSource": "runs",
        "filter": (
            {"type": "in", "dimension": "advertiser", "values": values}
            if len(values) > 1
            else {
                "type": "equals",
                "column": "advertiser",
                "matchValueType": "STRING",
                "matchValue": values[0][1:],
            }
            if values[0].startswith("=")
            else {"type": "selector", "dimension": "advertiser", "value": values[0]}
        ),
        "aggregations": WIDE_AGGS,
        **SHAPES[shape],
    }
    if query_type == "groupBy":
        query["dimensions"] = [{"type": "default", "dimension": "advertiser", "outputName": "who"}]
        query.pop("descending", None)
    seen: list[Any] = []
    answer = runtotals.answer
    monkeypatch.setattr(runtotals, "answer", lambda *a: seen.append(answer(*a)) or seen[-1])
    r = runners[flavour]
    got = r.run(query)
    assert seen and all(a is not None for a in seen)
    monkeypatch.setattr(runtotals, "answer", lambda *a: None)
    want = r.run(query)
    assert want
    _same(got, want)


def test_run_totals_leave_other_queries_to_the_segments(
    runners: dict[str, QueryRunner], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run totals answer only sums on the first dimension's values; anything else goes segment by
    segment, with the same answers."""
    base = {
        "queryType": "groupBy",
        "dataSource": "runs",
        "intervals": [f"{format_timestamp(T0)}/{format_timestamp(T0 + 2 * DAY)}"],
        "granularity": "day",
        "dimensions": ["advertiser"],
        "filter": {"type": "in", "dimension": "advertiser", "values": ADVERTISERS[:5]},
        "aggregations": AGGS,
    }
    seen: list[Any] = []
    answer = runtotals.answer
    monkeypatch.setattr(runtotals, "answer", lambda *a: seen.append(answer(*a)) or seen[-1])
    r = runners["persisted"]
    r.run(base)
    assert seen and seen[-1] is not None
    others = [
        dict(base, dimensions=["campaign"]),
        dict(base, dimensions=["advertiser", "campaign"]),
        dict(base, filter={"type": "in", "dimension": "campaign", "values": ["c1", "c2"]}),
        dict(base, filter={"type": "in", "dimension": "advertiser", "values": ["adv01", None]}),
        dict(base, filter={"type": "selector", "dimension": "advertiser", "value": None}),
        dict(base, aggregations=[*AGGS, {"type": "longMax", "name": "most", "fieldName": "impressions"}]),
        # A long sum over a double column: planned, but every segment declines.
        dict(base, aggregations=[{"type": "longSum", "name": "x", "fieldName": "spend"}]),
    ]
    for query in others:
        seen.clear()
        got = r.run(query)
        assert all(a is None for a in seen), query
        with monkeypatch.context() as m:
            m.setattr(runtotals, "answer", lambda *a: None)
            assert got == r.run(query)


def test_derived_values_count_against_a_limit_and_are_given_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = DerivedMemory(1000)
    monkeypatch.setattr(segment_module, "DERIVED_MEMORY", memory)
    segments = build_segments(RUNS, "persisted", tmp_path)
    first = segments[0]
    assert first.derived("a", lambda: np.zeros(100)) is not None  # 800 bytes kept
    assert memory.used == 800
    assert first.derived("b", lambda: np.zeros(100)) is None  # past the limit: not kept
    assert first.derived("b", lambda: 1 / 0) is None  # and not worked out again
    assert first.derived("a", lambda: 1 / 0) is not None
    # What every query of its kind needs is kept past the limit, and still counted.
    assert first.derived("c", lambda: np.zeros(100), always=True) is not None
    assert memory.used == 1600
    del first, segments
    gc.collect()
    assert memory.used == 0  # a segment that goes away gives its share back


def test_without_memory_for_runs_queries_read_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segment_module, "DERIVED_MEMORY", DerivedMemory(0))
    used: set[str] = set()
    for name in ("fold_whole_runs", "search_runs", "pick_runs", "prefix_ranges"):
        kernel = getattr(kernels, name)
        monkeypatch.setattr(kernels, name, lambda *a, k=kernel, n=name: used.add(n) or k(*a))
    picked = set(ADVERTISERS[::2])
    fresh = make_runner([RUNS], "persisted", tmp_path)
    try:
        rows = fresh.run(
            {
                "queryType": "groupBy",
                "dataSource": "runs",
                "intervals": [f"{format_timestamp(T0)}/{format_timestamp(T0 + 2 * DAY)}"],
                "granularity": "day",
                "dimensions": ["advertiser"],
                "filter": {"type": "in", "dimension": "advertiser", "values": sorted(picked)},
                "aggregations": AGGS,
            }
        )
    finally:
        fresh.close()
    _check(_answer(rows), _expected(picked, DAY, (T0, T0 + 2 * DAY)))
    assert used == {"prefix_ranges"}


def test_the_setting_sets_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = segment_module.DERIVED_MEMORY
    monkeypatch.setattr(memory, "limit", memory.limit)  # put back afterwards
    with grove.open(str(tmp_path), query_index_memory_mb=5):
        assert memory.limit == 5 << 20


def test_a_value_worked_out_by_two_threads_at_once_counts_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = DerivedMemory(1 << 20)
    monkeypatch.setattr(segment_module, "DERIVED_MEMORY", memory)
    segment = build_segments(RUNS, "persisted", tmp_path)[0]
    both_inside = threading.Barrier(2)

    def compute() -> np.ndarray:
        both_inside.wait(timeout=10)  # both threads compute before either keeps its value
        return np.zeros(100)

    with ThreadPoolExecutor(2) as pool:
        values = list(pool.map(lambda _: segment.derived("k", compute), range(2)))
    assert all(v is not None for v in values)
    assert memory.used == 800
