"""scan on every segment flavour, checked against DuckDB over the same rows.

Druid facts (docs/querying/scan-query.md, ScanQuery, ScanResultValue, DimensionSelector.rowToObject):
batches of ``segmentId``/``columns``/``events``/``rowSignature``; ``columns`` empty means ``__time``,
the virtual columns, the dimensions and the metrics; ``__time`` is epoch millis; a column the segment
lacks is null; a multi-value row is null (no value), a string (one) or a list (more); ``limit`` 0 is
no limit and must not be negative, ``offset`` must not be negative, ``batchSize`` 0 is 20480;
time-ordered results need ``__time`` among the columns and carry a null ``segmentId``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from adsdata import INTERVAL, ROWS, TYPES
from flavours import DAY, T0, Dataset, make_runner, table_of

from grove.errors import InvalidQuery, Unsupported
from grove.query.runner import QueryRunner
from grove.query.types import scan as scan_module

Run = Callable[[dict[str, Any]], list[Any]]

DEFAULT_COLUMNS = [
    "__time",
    "country",
    "device",
    "tags",
    "campaign",
    "user",
    "promo",
    "age",
    "bid",
    "count",
    "impressions",
    "clicks",
    "spend",
    "ratio",
    "imp_min",
    "imp_max",
    "spend_min",
    "spend_max",
]


def scan(**fields: Any) -> dict[str, Any]:
    return {"queryType": "scan", "dataSource": "ads", "intervals": [INTERVAL], **fields}


def events(result: list[Any]) -> list[dict[str, Any]]:
    """All events of a list-format result, in order."""
    return [e for batch in result for e in batch["events"]]


def druid_value(v: Any) -> Any:
    """A multi-value cell as Druid's scan returns it: null, one string, or a list."""
    if isinstance(v, list):
        return None if not v else v[0] if len(v) == 1 else v
    return v


@pytest.fixture(scope="module")
def oracle() -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB over the ads rows, with the metric columns as ingestion without rollup stores them."""
    con = duckdb.connect()
    con.register("raw", table_of(ROWS, TYPES))
    con.execute(
        """CREATE VIEW ads AS SELECT __time, country, device, tags, campaign, "user", promo, age, bid,
           1 AS count, impressions, clicks, spend, ratio, impressions AS imp_min, impressions AS imp_max,
           spend AS spend_min, spend AS spend_max FROM raw"""
    )
    yield con
    con.close()


def expected(
    con: duckdb.DuckDBPyConnection, columns: list[str], where: str = "TRUE", tail: str = ""
) -> list[Any]:
    sql_cols = ", ".join(f'"{c}"' for c in columns)
    cur = con.execute(f"SELECT {sql_cols} FROM ads WHERE {where} ORDER BY __time {tail}")
    return [dict(zip(columns, (druid_value(v) for v in row), strict=True)) for row in cur.fetchall()]


# --- results ----------------------------------------------------------------------------------------


def test_all_columns_match_duckdb(run: Run, oracle: duckdb.DuckDBPyConnection) -> None:
    result = run(scan())
    assert all(batch["columns"] == DEFAULT_COLUMNS for batch in result)
    assert events(result) == expected(oracle, DEFAULT_COLUMNS)
    signature = {c["name"]: c.get("type") for c in result[0]["rowSignature"]}
    assert signature["__time"] == "LONG" and signature["tags"] == "STRING" and signature["age"] == "LONG"
    assert signature["bid"] == "DOUBLE" and signature["ratio"] == "FLOAT" and signature["count"] == "LONG"


def test_segment_ids_and_segment_order(run: Run) -> None:
    result = run(scan(columns=["__time"]))
    ids = [b["segmentId"] for b in result]
    assert all(i.startswith("ads_2020-01-0") for i in ids)
    assert len(set(ids)) == len(ids)  # one batch per segment at the default batch size
    times = [e["__time"] for e in events(result)]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("flt", "where"),
    [
        ({"type": "selector", "dimension": "country", "value": "US"}, "country = 'US'"),
        ({"type": "selector", "dimension": "tags", "value": "b"}, "list_contains(tags, 'b')"),
        (
            {"type": "bound", "dimension": "age", "lower": "30", "upper": "40", "ordering": "numeric"},
            "age BETWEEN 30 AND 40",
        ),
        ({"type": "null", "column": "spend"}, "spend IS NULL"),
    ],
)
def test_filter_and_columns_match_duckdb(
    run: Run, oracle: duckdb.DuckDBPyConnection, flt: Any, where: str
) -> None:
    cols = ["__time", "country", "tags", "age", "spend"]
    assert events(run(scan(columns=cols, filter=flt))) == expected(oracle, cols, where)


@pytest.mark.parametrize(("offset", "limit"), [(0, 5), (190, 25), (395, 10), (598, 10), (700, 3)])
def test_limit_and_offset_in_segment_order(run: Run, offset: int, limit: int) -> None:
    everything = events(run(scan(columns=["__time", "user"])))
    page = events(run(scan(columns=["__time", "user"], offset=offset, limit=limit)))
    assert page == everything[offset : offset + limit]


@pytest.mark.parametrize("order", ["ascending", "descending", "DESCENDING"])
@pytest.mark.parametrize(("offset", "limit"), [(0, 7), (195, 12), (0, None), (590, 50)])
def test_time_order_matches_duckdb(
    run: Run, oracle: duckdb.DuckDBPyConnection, order: str, offset: int, limit: int | None
) -> None:
    cols = ["__time", "campaign", "tags"]
    fields: dict[str, Any] = {"columns": cols, "order": order, "offset": offset}
    if limit is not None:
        fields["limit"] = limit
    result = run(scan(**fields))
    direction = "DESC" if order.lower() == "descending" else "ASC"
    tail = f"{direction} LIMIT {limit if limit is not None else 'ALL'} OFFSET {offset}"
    assert events(result) == expected(oracle, cols, tail=tail)
    assert all(b["segmentId"] is None for b in result)


def test_order_by_time_is_the_same_as_order(run: Run) -> None:
    by = run(scan(columns=["__time"], orderBy=[{"columnName": "__time", "order": "descending"}], limit=9))
    assert by == run(scan(columns=["__time"], order="descending", limit=9))


def test_batches_and_compacted_list(run: Run, oracle: duckdb.DuckDBPyConnection) -> None:
    cols = ["__time", "device", "tags"]
    result = run(scan(columns=cols, batchSize=7, resultFormat="compactedList", limit=40))
    assert all(len(b["events"]) <= 7 for b in result)
    rows = [dict(zip(b["columns"], e, strict=True)) for b in result for e in b["events"]]
    assert rows == expected(oracle, cols)[:40]
    ordered = run(scan(columns=cols, batchSize=7, order="ascending", limit=40))
    assert [len(b["events"]) for b in ordered] == [7, 7, 7, 7, 7, 5]


def test_unknown_column_is_null_without_a_type(run: Run) -> None:
    result = run(scan(columns=["__time", "nope"], limit=3))
    assert [e["nope"] for e in events(result)] == [None, None, None]
    assert result[0]["rowSignature"] == [{"name": "__time", "type": "LONG"}, {"name": "nope"}]


def test_virtual_column(run: Run) -> None:
    vc = {"type": "expression", "name": "double_clicks", "expression": "clicks * 2", "outputType": "LONG"}
    result = run(scan(columns=["__time", "clicks", "double_clicks"], virtualColumns=[vc], limit=50))
    assert all(e["double_clicks"] == 2 * e["clicks"] for e in events(result))
    default = run(scan(virtualColumns=[vc], limit=1))
    assert default[0]["columns"][:2] == ["__time", "double_clicks"]


def test_empty_interval_gives_no_batches(run: Run) -> None:
    assert run(scan(intervals=["2019-01-01/2019-01-02"])) == []
    assert run(scan(filter={"type": "selector", "dimension": "country", "value": "nowhere"})) == []


# --- multi-value and float shapes, and stopping early, on a small dataset of its own ----------------

SHAPES = Dataset(
    "shapes",
    pa.table(
        {
            "__time": pa.array(
                [T0 + i * 1000 for i in range(5)] + [T0 + DAY + i for i in range(5)], pa.int64()
            ),
            "tags": pa.array([None, [], ["a"], ["a", "b"], ["c", "b", "a"]] * 2, pa.list_(pa.string())),
            "f": pa.array([0.1, 1.0, None, 2.5, 1e-5] * 2, pa.float32()),
            "s": pa.array(["x", "", None, "y", "[z]"] * 2, pa.string()),
        }
    ),
    dimensions=["tags", "s", {"type": "float", "name": "f"}],
    metrics=[{"type": "count", "name": "count"}],
)


@pytest.fixture(scope="module", params=["incremental", "persisted", "merged"])
def shapes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueryRunner]:
    runner = make_runner([SHAPES], request.param, tmp_path_factory.mktemp(f"shapes-{request.param}"))
    yield runner
    runner.close()


def test_multi_value_rows_come_out_as_druid_selectors_return_them(shapes: QueryRunner) -> None:
    q = {
        "queryType": "scan",
        "dataSource": "shapes",
        "intervals": ["2020/2021"],
        "columns": ["tags", "f", "s"],
    }
    rows = events(shapes.run(q))
    assert [r["tags"] for r in rows[:5]] == [None, None, "a", ["a", "b"], ["a", "b", "c"]]
    assert [r["f"] for r in rows[:5]] == [0.1, 1.0, None, 2.5, 1e-5]  # floats as Java prints them
    assert [r["s"] for r in rows[:5]] == ["x", "", None, "y", "[z]"]


class _Spy:
    """Records the segments (by interval start) whose rows a scan filters."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.read: list[int] = []
        original = scan_module.SegmentView.select

        def select(view: Any, f: Any) -> Any:
            self.read.append(int(view.segment.info.interval.start))
            return original(view, f)

        monkeypatch.setattr(scan_module.SegmentView, "select", select)


def test_an_unordered_limit_stops_before_later_segments(
    shapes: QueryRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Spy(monkeypatch)
    flt = {"type": "not", "field": {"type": "selector", "dimension": "s", "value": "nothing"}}
    q = {"queryType": "scan", "dataSource": "shapes", "intervals": ["2020/2021"], "limit": 2, "filter": flt}
    assert len(events(shapes.run(q))) == 2
    assert set(spy.read) == {T0}  # the second day's segment was never filtered
    spy.read.clear()
    q["limit"] = 7
    assert len(events(shapes.run(q))) == 7
    assert set(spy.read) == {T0, T0 + DAY}


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error", "path"),
    [
        ({"resultFormat": "table"}, InvalidQuery, "resultFormat"),
        ({"resultFormat": "valueVector"}, Unsupported, "resultFormat"),
        ({"limit": -1}, InvalidQuery, "limit"),
        ({"offset": -5}, InvalidQuery, "offset"),
        ({"batchSize": -1}, InvalidQuery, "batchSize"),
        ({"order": "sideways"}, InvalidQuery, "order"),
        (
            {"orderBy": [{"columnName": "country", "order": "ascending"}]},
            Unsupported,
            "orderBy[0].columnName",
        ),
        ({"orderBy": [{"columnName": "__time", "order": "none"}]}, InvalidQuery, "orderBy[0].order"),
        ({"order": "ascending", "columns": ["country"]}, InvalidQuery, "columns"),
        ({"columns": "country"}, InvalidQuery, "columns"),
    ],
)
def test_bad_input_names_the_field(
    run: Run, fields: dict[str, Any], error: type[Exception], path: str
) -> None:
    with pytest.raises(error) as info:
        run(scan(**fields))
    assert getattr(info.value, "path", None) == path, str(info.value)
    assert path in str(info.value)


def test_sketch_columns_are_refused(run: Run) -> None:
    with pytest.raises(Unsupported, match=r"\[users_hll\]"):
        run(scan(columns=["__time", "users_hll"]))


def test_zero_limit_and_batch_size_mean_the_defaults(run: Run) -> None:
    result = run(scan(columns=["__time"], limit=0, batchSize=0))
    assert len(events(result)) == len(ROWS)
