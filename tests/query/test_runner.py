"""The query runner on every segment flavour: timeouts, cancellation, query ids, bad queries, end to end.

Timeouts and cancellation are made deterministic with a segment source whose segments open slowly
(or only when a gate opens), never by racing a wall clock against real work.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from adsdata import COUNT, INTERVAL, ROWS, groupby, timeseries, topn

import grove
from grove.common.intervals import Interval
from grove.errors import InvalidInput, InvalidQuery, NotFound, QueryCancelled, QueryTimeout
from grove.query.runner import QueryRunner, SegmentRef, SegmentSource
from grove.segment.segment import Segment

Run = Callable[[dict[str, Any]], list[Any]]
ROOT = Path(__file__).resolve().parents[2]


class GatedSource:
    """Wraps a source: opening a segment waits for ``gate`` (or ``delay`` seconds) first."""

    def __init__(
        self, inner: SegmentSource, *, delay: float = 0.0, gate: threading.Event | None = None
    ) -> None:
        self.inner = inner
        self.delay = delay
        self.gate = gate
        self.opened = threading.Event()

    def has_datasource(self, datasource: str) -> bool:
        return self.inner.has_datasource(datasource)

    def segment_refs(self, datasource: str, intervals: Sequence[Interval]) -> list[SegmentRef]:
        return [
            SegmentRef(r.descriptor, r.visible, self._slow(r.open))
            for r in self.inner.segment_refs(datasource, intervals)
        ]

    def _slow(self, open_: Callable[[], Segment]) -> Callable[[], Segment]:
        def opener() -> Segment:
            self.opened.set()
            if self.gate is not None:
                self.gate.wait(10)
            if self.delay:
                time.sleep(self.delay)
            return open_()

        return opener


@pytest.fixture
def gated(runner: QueryRunner) -> Iterator[Callable[..., QueryRunner]]:
    made: list[QueryRunner] = []

    def make(**kwargs: Any) -> QueryRunner:
        r = QueryRunner(GatedSource(runner.source, **kwargs), threads=2)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def test_timeout_fails_with_query_timeout(gated: Callable[..., QueryRunner]) -> None:
    gate = threading.Event()  # segments cannot open until the query has given up
    slow = gated(gate=gate)
    try:
        with pytest.raises(QueryTimeout) as info:
            slow.run(timeseries([COUNT], context={"timeout": 50, "queryId": "slow-one"}))
    finally:
        gate.set()
    assert "slow-one" in str(info.value) and "50" in str(info.value)
    assert info.value.status == 504


def test_timeout_zero_means_no_timeout(gated: Callable[..., QueryRunner]) -> None:
    slow = gated(delay=0.1)
    assert slow.run(timeseries([COUNT], context={"timeout": 0}))[0]["result"]["rows"] == len(ROWS)


def test_generous_timeout_answers(run: Run) -> None:
    assert run(timeseries([COUNT], context={"timeout": 60_000, "priority": 10}))[0]["result"]["rows"] == len(
        ROWS
    )


def test_cancel_by_query_id(gated: Callable[..., QueryRunner]) -> None:
    gate = threading.Event()
    source_runner = gated(gate=gate)
    outcome: dict[str, Any] = {}

    def query() -> None:
        try:
            outcome["result"] = source_runner.run(timeseries([COUNT], context={"queryId": "to-cancel"}))
        except Exception as e:  # the outcome is checked below
            outcome["error"] = e

    t = threading.Thread(target=query)
    t.start()
    try:
        assert isinstance(source_runner.source, GatedSource)
        assert source_runner.source.opened.wait(5)
        assert source_runner.cancel("to-cancel")
        t.join(5)
        assert not t.is_alive(), "a cancelled query must stop without waiting for its segments"
    finally:
        gate.set()
        t.join(5)
    assert isinstance(outcome.get("error"), QueryCancelled)
    assert not source_runner.cancel("to-cancel")  # no longer running


def test_cancel_unknown_query_is_false(runner: QueryRunner) -> None:
    assert runner.cancel("never-ran") is False


def test_query_id_can_be_reused_after_the_query_ends(run: Run) -> None:
    for _ in range(2):
        assert run(timeseries([COUNT], context={"queryId": "same"}))[0]["result"]["rows"] == len(ROWS)


def test_concurrent_queries(runner: QueryRunner) -> None:
    queries = [timeseries([COUNT], context={"queryId": f"q{i}"}) for i in range(8)]
    results: list[Any] = [None] * len(queries)

    def go(i: int) -> None:
        results[i] = runner.run(queries[i])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(queries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(r[0]["result"]["rows"] == len(ROWS) for r in results)


def test_json_text_and_bytes(run: Run) -> None:
    q = json.dumps(timeseries([COUNT]))
    assert run(q) == run(q.encode()) == run(json.loads(q))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"queryType": "timeseriez", "dataSource": "ads", "intervals": [INTERVAL]}, "queryType"),
        ({"dataSource": "ads", "intervals": [INTERVAL]}, "queryType"),
        ({"queryType": "timeseries", "intervals": [INTERVAL]}, "dataSource"),
        ({"queryType": "timeseries", "dataSource": "ads"}, "intervals"),
        ({"queryType": "timeseries", "dataSource": "ads", "intervals": 5}, "intervals"),
        (
            {"queryType": "timeseries", "dataSource": "ads", "intervals": ["2020-01-05/2020-01-01"]},
            "intervals",
        ),
        ({"queryType": "timeseries", "dataSource": "", "intervals": [INTERVAL]}, "dataSource"),
        (
            timeseries(
                [
                    COUNT,
                    {"type": "longSum", "name": "a", "fieldName": "clicks"},
                    {"type": "longSum", "name": "b"},
                ]
            ),
            "aggregations[2].fieldName",
        ),
        (
            timeseries(
                [
                    COUNT,
                    {"type": "longSum", "name": "a", "fieldName": "clicks"},
                    {"type": "longSumm", "name": "b", "fieldName": "x"},
                ]
            ),
            "aggregations[2].type",
        ),
        (timeseries([COUNT], granularity={"type": "period", "period": "P1X"}), "granularity"),
        (timeseries([COUNT], descending=7), "descending"),
        (timeseries([COUNT], limit=0), "limit"),
        (
            timeseries([COUNT], virtualColumns=[{"type": "expression", "name": "v"}]),
            "virtualColumns[0].expression",
        ),
        (
            timeseries([COUNT], filter={"type": "expression", "expression": "nosuchfunction(1)"}),
            "filter.expression",
        ),
        (
            timeseries([{"type": "longSum", "name": "x", "expression": "clicks +"}]),
            "aggregations[0].expression",
        ),
        (
            topn("device", "rows", 3, [COUNT], dimension={"type": "extraction", "dimension": "device"}),
            "dimension.extractionFn",
        ),
        (
            groupby(
                ["device"],
                [COUNT],
                postAggregations=[
                    {
                        "type": "arithmetic",
                        "name": "p",
                        "fn": "+",
                        "fields": [{"type": "constant", "value": 1}, {"type": "fieldAccess"}],
                    }
                ],
            ),
            "postAggregations[0].fields[1].fieldName",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_queries_fail_with_invalid_query_naming_the_path(
    run: Run, query: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidQuery) as info:
        run(query)
    assert path in str(info.value), str(info.value)
    assert info.value.status == 400


def test_malformed_json(run: Run) -> None:
    with pytest.raises(InvalidQuery):
        run("{not json")  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery):
        run("[1, 2]")  # type: ignore[arg-type]


def test_unknown_datasource_is_not_found(run: Run) -> None:
    with pytest.raises(NotFound):
        run(timeseries([COUNT], dataSource="nope"))


@pytest.mark.parametrize("kind", ["query", "tabel", "lookup"])
def test_unsupported_datasource_type(run: Run, kind: str) -> None:
    with pytest.raises(InvalidInput) as info:
        run(timeseries([COUNT], dataSource={"type": kind, "name": "ads"}))
    assert "dataSource.type" in str(info.value)


def test_a_failing_query_leaves_the_runner_usable(run: Run) -> None:
    with pytest.raises(InvalidInput):
        run(timeseries([{"type": "longSum", "name": "x", "fieldName": "tags"}]))
    assert run(timeseries([COUNT]))[0]["result"]["rows"] == len(ROWS)


class TracingSource:
    """Wraps a source: its segments are ready but of unknown size (so a query shares them among
    threads), each opens after ``delay`` seconds, and the threads that opened them are recorded.
    Opening raises NotFound while ``failing`` is set."""

    def __init__(self, inner: SegmentSource, delay: float) -> None:
        self.inner = inner
        self.delay = delay
        self.failing = False
        self.openers: list[int] = []

    def has_datasource(self, datasource: str) -> bool:
        return self.inner.has_datasource(datasource)

    def segment_refs(self, datasource: str, intervals: Sequence[Interval]) -> list[SegmentRef]:
        return [
            SegmentRef(None, r.visible, self._traced(r.open), ready=True)
            for r in self.inner.segment_refs(datasource, intervals)
        ]

    def _traced(self, open_: Callable[[], Segment]) -> Callable[[], Segment]:
        def opener() -> Segment:
            self.openers.append(threading.get_ident())
            time.sleep(self.delay)
            if self.failing:
                raise NotFound("segment gone")
            return open_()

        return opener


def test_a_repeated_slow_query_shares_its_segments_among_threads(runner: QueryRunner) -> None:
    source = TracingSource(runner.source, delay=0.05)
    slow = QueryRunner(source, threads=2)
    query = groupby(["device"], [COUNT])
    try:
        expected = runner.run(query)
        segments = len(runner.source.segment_refs("ads", [Interval.parse(INTERVAL)]))
        assert segments >= 3
        for _ in range(2):  # the first segment alone, timed; then the threads
            assert slow.run(query) == expected
        assert [e.pooled for e in slow._parsed.values()] == [2]
        source.openers.clear()
        assert slow.run(query) == expected  # straight to the threads, this one among them
        assert len(source.openers) == segments
        assert set(source.openers) > {threading.get_ident()}
    finally:
        slow.close()


def test_a_cheap_query_stays_on_the_calling_thread(runner: QueryRunner) -> None:
    source = TracingSource(runner.source, delay=0.0)
    quick = QueryRunner(source, threads=2)
    query = groupby(["device"], [COUNT])
    try:
        for _ in range(5):
            assert quick.run(query) == runner.run(query)
        # A run the machine slowed down may count once; the next cheap run resets the count.
        assert [e.pooled for e in quick._parsed.values()] == [0]
        assert threading.get_ident() in source.openers
    finally:
        quick.close()


def test_a_failing_segment_fails_a_shared_query_and_the_runner_goes_on(runner: QueryRunner) -> None:
    slow = QueryRunner(source := TracingSource(runner.source, delay=0.01), threads=2)
    query = groupby(["device"], [COUNT])
    try:
        expected = slow.run(query)
        source.failing = True
        with pytest.raises(NotFound, match="segment gone"):
            slow.run(query)
        source.failing = False
        assert slow.run(query) == expected
    finally:
        slow.close()


# --- end to end: grove.open(...).ingest(...) then db.query(...) -----------------------------------


@pytest.fixture(scope="module")
def wikipedia(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    spec = json.loads((ROOT / "examples" / "wikipedia-index.json").read_text())
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = str(ROOT / "tests" / "data")
    db = grove.open(str(tmp_path_factory.mktemp("wiki")))
    db.ingest(spec)
    yield db
    db.close()


def test_druid_tutorial_top_pages(wikipedia: Any) -> None:
    """The answer printed in Druid's query tutorial (quickstart/tutorial/wikipedia-top-pages.json)."""
    result = wikipedia.query(
        {
            "queryType": "topN",
            "dataSource": "wikipedia",
            "intervals": ["2015-09-12/2015-09-13"],
            "granularity": "all",
            "dimension": "page",
            "metric": "count",
            "threshold": 10,
            "aggregations": [{"type": "count", "name": "count"}],
        }
    )
    assert result[0]["timestamp"] == "2015-09-12T00:46:58.771Z"
    assert result[0]["result"][:5] == [
        {"count": 33, "page": "Wikipedia:Vandalismusmeldung"},
        {"count": 28, "page": "User:Cyde/List of candidates for speedy deletion/Subpage"},
        {"count": 27, "page": "Jeremy Corbyn"},
        {"count": 21, "page": "Wikipedia:Administrators' noticeboard/Incidents"},
        {"count": 20, "page": "Flavia Pennetta"},
    ]


def test_db_query_reports_errors(wikipedia: Any) -> None:
    with pytest.raises(InvalidQuery) as info:
        wikipedia.query(
            {
                "queryType": "timeseries",
                "dataSource": "wikipedia",
                "intervals": ["2015-09-12/2015-09-13"],
                "aggregations": [{"type": "count"}],
            }
        )
    assert "aggregations[0].name" in str(info.value)
    with pytest.raises(NotFound):
        wikipedia.query(
            {"queryType": "timeseries", "dataSource": "nope", "intervals": ["2015-09-12/2015-09-13"]}
        )


# Parsed queries are kept by their JSON without the context: each run must still obey its own context.


def test_a_repeated_query_follows_each_runs_context(run: Run) -> None:
    query = groupby(["device"], [COUNT])
    plain = run(query)
    as_arrays = run({**query, "context": {"resultAsArray": True}})
    assert all(isinstance(r, dict) for r in plain) and all(isinstance(r, list) for r in as_arrays)
    assert [[r["event"]["device"], r["event"]["rows"]] for r in plain] == as_arrays
    assert run(query) == plain


def test_a_repeated_query_times_out_by_its_own_context(gated: Callable[..., QueryRunner]) -> None:
    slow = gated(delay=0.05)
    query = timeseries([COUNT])
    assert slow.run({**query, "context": {"timeout": 0}})[0]["result"]["rows"] == len(ROWS)
    with pytest.raises(QueryTimeout):
        slow.run({**query, "context": {"timeout": 10, "queryId": "second"}})


def test_a_kept_query_runs_with_each_context(runner: QueryRunner) -> None:
    query = groupby(["device"], [COUNT])
    kept = runner.keep(query)
    assert runner.run_kept(kept, {}) == runner.run(query)
    as_arrays = runner.run_kept(kept, {"resultAsArray": True, "queryId": "kept-1"})
    assert as_arrays == runner.run({**query, "context": {"resultAsArray": True}})
    slow = QueryRunner(GatedSource(runner.source, delay=0.05), threads=2)
    try:
        with pytest.raises(QueryTimeout):
            slow.run_kept(kept, {"timeout": 10})
    finally:
        slow.close()


def test_keeping_a_bad_query_fails_naming_the_field(runner: QueryRunner) -> None:
    with pytest.raises(InvalidQuery, match=r"aggregations\[0\]\.fieldName"):
        runner.keep(timeseries([{"type": "longSum", "name": "x"}]))


def test_a_bad_query_fails_on_every_run(run: Run) -> None:
    bad = timeseries([{"type": "longSum", "name": "x"}])
    for _ in range(2):
        with pytest.raises(InvalidQuery, match=r"aggregations\[0\]\.fieldName"):
            run(bad)


def test_kept_parses_are_bounded(runner: QueryRunner) -> None:
    for threshold in range(1, 301):
        result = runner.run(topn("device", "rows", threshold, [COUNT]))
        assert len(result[0]["result"]) == min(threshold, len({r["device"] for r in ROWS}))
    assert len(runner._parsed) <= 256
