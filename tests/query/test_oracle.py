"""Oracle suite: several hundred seeded random native queries, each checked against DuckDB.

The data (``oracle_gen.make_events``: ad events over four days with nulls, empty strings, a
multi-value dimension, numeric dimensions and skew) is ingested as two datasources (raw and hourly
rollup) and served as every segment flavour. Each seed draws one query (``oracle_gen.random_query``);
DuckDB computes the same groups in SQL over the raw rows (``oracle_gen.to_sql``) and every flavour's
answer must match: counts, sums, minimums and maximums exactly (floating sums to a relative 1e-9),
theta sketches exactly below their size, HLL-based distinct counts within three standard errors of
``count(DISTINCT ...)``. topN is exact in grove, so its ranking is compared exactly (ties by
dimension value). A failure names the seed; ``pytest -k 'oracle and [<seed>]'`` replays it and
``python tests/query/test_oracle.py <seed>`` prints the query and the SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from collections.abc import Iterator
from typing import Any

import duckdb
import orjson
import pytest
from flavours import FLAVOURS, make_runner
from oracle_gen import (
    DOMAINS,
    GRANULARITIES,
    VIRTUALS,
    Plan,
    arrow_table,
    datasets,
    duck_tables,
    make_events,
    random_query,
    to_sql,
)

from grove.common.jsonout import dumps
from grove.query.runner import QueryRunner
from grove.query.types import groupby as groupby_type

N_EVENTS = 40_000
N_QUERIES = 400
HLL_SE = 1.04 / math.sqrt(2**14)  # grove's default lgK, also for hyperUnique and cardinality
THETA_SIZE = 16384


class Oracle:
    def __init__(self, runners: dict[str, QueryRunner], con: duckdb.DuckDBPyConnection) -> None:
        self.runners = runners
        self.con = con

    def sql(self, text: str) -> list[dict[str, Any]]:
        cur = self.con.execute(text)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _fill_domains(con: duckdb.DuckDBPyConnection) -> None:
    def distinct(sql: str) -> list[Any]:
        values = [r[0] for r in con.execute(f'SELECT DISTINCT {sql} FROM "events"').fetchall()]
        return sorted(values, key=lambda v: (v is not None, "" if v is None else str(v)))

    for dim in ("country", "device"):
        DOMAINS[dim] = distinct(f'"{dim}"')
    top = con.execute(
        'SELECT "advertiser" FROM "events" GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 12'
    ).fetchall()
    rare = con.execute('SELECT "advertiser" FROM "events" GROUP BY 1 ORDER BY count(*), 1 LIMIT 4').fetchall()
    DOMAINS["advertiser"] = sorted({r[0] for r in top + rare})
    camps = con.execute(
        'SELECT "campaign" FROM "events" GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 20'
    ).fetchall()
    DOMAINS["campaign"] = sorted(r[0] for r in camps)
    for name, (_, out_type, sql, _) in VIRTUALS.items():
        if out_type == "STRING":
            DOMAINS[name] = distinct(sql)[:40]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oracle]:
    cols = make_events(N_EVENTS)
    tables = duck_tables(cols)
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    _fill_domains(con)
    # segments are built from the raw rows; the hourly datasource truncates time itself (rollup)
    sets = datasets(arrow_table(cols))
    runners = {f: make_runner(sets, f, tmp_path_factory.mktemp(f"oracle-{f}")) for f in FLAVOURS}
    yield Oracle(runners, con)
    for r in runners.values():
        r.close()
    con.close()


# --- comparisons ------------------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _ms(ts: str) -> int:
    return int(dt.datetime.fromisoformat(ts).timestamp() * 1000)


def _close(kind: str, want: Any, got: Any) -> bool:
    if kind in ("exact_int", "first"):
        return bool(want == got and type(got) is not float) if want is not None else got is None
    if kind == "float":
        if want is None or got is None:
            return want is None and got is None
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)
    if kind == "theta":
        return (
            float(got) == float(want)
            if want < THETA_SIZE
            else abs(got - want) <= 3 * want / math.sqrt(THETA_SIZE)
        )
    if kind == "approx":
        return abs(float(got) - float(want)) <= 3 * HLL_SE * float(want) + 1.0
    raise AssertionError(kind)


def _check_values(plan: Plan, want: dict[str, Any], got: dict[str, Any], where: str) -> None:
    for a in plan.aggs:
        name = a.spec["name"]
        assert name in got, f"{where}: missing [{name}]"
        assert _close(a.kind, want[name], got[name]), (
            f"{where}: [{name}] expected {want[name]!r}, got {got[name]!r}"
        )
    for name, _ in plan.posts:
        w, g = want[name], got[name]
        ok = (w is None and g is None) or (
            w is not None and g is not None and math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12)
        )
        assert ok, f"{where}: post-aggregator [{name}] expected {w!r}, got {g!r}"


def _is_empty(plan: Plan, got: dict[str, Any]) -> bool:
    for a in plan.aggs:
        spec = a.spec
        inner = spec.get("aggregator", spec)
        v = got[spec["name"]]
        # counts are 0 and sketches estimate 0 over no rows; every other aggregator is null
        zero = inner["type"] == "count" or a.kind in ("approx", "theta")
        if (zero and v != 0) or (not zero and v is not None):
            return False
    return all(got[name] in (None, 0, 0.0) for name, _ in plan.posts)


def _text_key(v: Any) -> tuple[Any, ...]:
    if v is None:
        return (0,)
    if isinstance(v, str):
        return (1, v.encode())
    return (1, v)


def _alnum(v: Any) -> tuple[Any, ...]:
    if v is None:
        return (0,)
    parts = re.split(r"(\d+)", str(v))
    return (
        1,
        tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != ""),
        str(v).encode(),
    )


def _bucket_of(plan: Plan, row: dict[str, Any]) -> int | None:
    return None if plan.gran.bucket is None else int(row["__b"])


def check_timeseries(
    plan: Plan, oracle: Oracle, expected: list[dict[str, Any]], got: list[Any], where: str
) -> None:
    q = plan.query
    ctx = q.get("context", {})
    rows = list(got)
    if ctx.get("grandTotal"):
        assert rows and rows[-1]["timestamp"] is None, f"{where}: grand total row missing"
        total = oracle.sql(to_sql(plan, all_granularity=True))[0]
        _check_values(plan, total, rows[-1]["result"], f"{where} grand total")
        rows = rows[:-1]
    if plan.gran.bucket is None:
        (want,) = expected
        if plan.skip_empty and want["__n"] == 0:
            assert rows == [], f"{where}: expected no rows"
            return
        assert len(rows) == 1, f"{where}: expected one row, got {len(rows)}"
        _check_values(plan, want, rows[0]["result"], where)
        return
    by_bucket = {_bucket_of(plan, r): r for r in expected if r["__n"] > 0}
    stamps = [_ms(r["timestamp"]) for r in rows]
    assert stamps == sorted(stamps, reverse=bool(q.get("descending"))), f"{where}: buckets out of order"
    assert len(set(stamps)) == len(stamps), f"{where}: a bucket appears twice"
    if q.get("limit"):
        wanted = sorted(by_bucket, reverse=bool(q.get("descending")))[: q["limit"]]
        assert stamps == wanted, f"{where}: limited buckets {stamps} != {wanted}"
    elif plan.skip_empty:
        assert set(stamps) == set(by_bucket), (
            f"{where}: buckets {sorted(set(stamps) ^ set(by_bucket))} differ"
        )
    else:
        missing = set(by_bucket) - set(stamps)
        assert not missing, f"{where}: buckets with rows missing: {sorted(missing)}"
    lo = min(s for s, _ in plan.intervals)
    hi = max(e for _, e in plan.intervals)
    for stamp, r in zip(stamps, rows, strict=True):
        if stamp in by_bucket:
            _check_values(plan, by_bucket[stamp], r["result"], f"{where} bucket {r['timestamp']}")
        else:
            assert _is_empty(plan, r["result"]), (
                f"{where}: filled bucket {r['timestamp']} is not empty: {r['result']}"
            )
            assert lo - 32 * 86_400_000 <= stamp < hi, (
                f"{where}: filled bucket {r['timestamp']} outside the query"
            )
        if plan.gran.tz is not None:
            assert not r["timestamp"].endswith("Z"), f"{where}: timestamp not in the granularity's zone"


def _dim_names(plan: Plan) -> list[str]:
    return [name for name, _ in plan.dims]


def check_topn(plan: Plan, expected: list[dict[str, Any]], got: list[Any], where: str) -> None:
    q = plan.query
    (dim,) = _dim_names(plan)
    buckets: dict[Any, list[dict[str, Any]]] = {}
    for r in expected:
        if r["__n"] > 0:
            buckets.setdefault(_bucket_of(plan, r), []).append(r)
    if plan.gran.bucket is None:
        assert len(got) == (1 if buckets else 0), (
            f"{where}: expected {len(buckets)} result rows, got {len(got)}"
        )
        got_buckets = {None: got[0]["result"]} if got else {}
    else:
        got_buckets = {_ms(r["timestamp"]): r["result"] for r in got}
        assert set(got_buckets) == set(buckets), f"{where}: buckets differ"
    kind, what, inverted = plan.extra["order"]
    value_key = _alnum if what == "alphanumeric" else _text_key

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        if kind == "metric":
            m = r[what]
            return ((m if inverted else -m), _text_key(r[dim]))
        return value_key(r[dim])

    for b, groups in buckets.items():
        ranked = sorted(groups, key=key, reverse=kind == "dimension" and inverted)
        if kind == "dimension" and plan.extra.get("previous_stop") is not None:
            stop = value_key(plan.extra["previous_stop"])
            ranked = [r for r in ranked if value_key(r[dim]) > stop]
        ranked = ranked[: q["threshold"]]
        result = got_buckets.get(b, [])
        assert [r[dim] for r in result] == [r[dim] for r in ranked], (
            f"{where} bucket {b}: ranking {[r[dim] for r in result]} != {[r[dim] for r in ranked]}"
        )
        for want, g in zip(ranked, result, strict=True):
            _check_values(plan, want, g, f"{where} bucket {b} value {want[dim]!r}")


def check_groupby(plan: Plan, expected: list[dict[str, Any]], got: list[Any], where: str) -> None:
    dims = _dim_names(plan)
    rows = [r for r in expected if r["__n"] > 0]
    if "having" in plan.extra:
        name, threshold = plan.extra["having"]
        rows = [r for r in rows if r[name] is not None and r[name] > threshold]
    start = min(s for s, _ in plan.intervals)

    def stamp(r: dict[str, Any]) -> int:
        return start if plan.gran.bucket is None else int(r["__b"])

    rows.sort(key=lambda r: (stamp(r), *(_text_key(r[d]) for d in dims)))
    order = plan.extra.get("order")
    if order:

        def null_aware(v: Any, text: bool) -> Any:
            # nulls first; a descending column is the reversed (stable) sort: nulls last
            return (0,) if v is None else (1, v.encode() if text and isinstance(v, str) else v)

        for name, kind, desc in reversed(order):
            text = kind == "dim"
            rows.sort(key=lambda r, n=name, t=text: null_aware(r[n], t), reverse=desc)
        rows.sort(key=stamp)  # time first, stable over the ordering columns
        offset = plan.extra.get("offset") or 0
        rows = rows[offset:]
        if plan.extra.get("limit") is not None:
            rows = rows[: plan.extra["limit"]]
    assert len(got) == len(rows), f"{where}: {len(got)} rows, expected {len(rows)}"
    for want, g in zip(rows, got, strict=True):
        assert g["version"] == "v1"
        assert _ms(g["timestamp"]) == stamp(want), f"{where}: timestamp {g['timestamp']} != {stamp(want)}"
        event = g["event"]
        for d in dims:
            assert event[d] == want[d] and type(event[d]) is type(want[d]), (
                f"{where}: dimension [{d}] {event[d]!r} != {want[d]!r} (rows out of order or wrong groups)"
            )
        _check_values(plan, want, event, f"{where} group {[want[d] for d in dims]}")


_EXPECTED: dict[int, list[dict[str, Any]]] = {}


def _expected(oracle: Oracle, plan: Plan) -> list[dict[str, Any]]:
    if plan.seed not in _EXPECTED:
        _EXPECTED[plan.seed] = oracle.sql(to_sql(plan))
    return _EXPECTED[plan.seed]


CHECKS = {"timeseries": check_timeseries, "topN": check_topn, "groupBy": check_groupby}


@pytest.mark.parametrize("seed", range(N_QUERIES))
def test_oracle(oracle: Oracle, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(groupby_type, "_JSON_COLUMNS_MIN_ROWS", 0)  # every answer through the writer
    plan = random_query(seed)
    expected = _expected(oracle, plan)
    for flavour, runner in oracle.runners.items():
        where = f"seed {seed} ({plan.qtype} on {plan.ds}, {flavour})\nquery: {json.dumps(plan.query)}\n"
        try:
            got = runner.run(plan.query)
        except Exception as e:
            raise AssertionError(f"{where}grove raised {type(e).__name__}: {e}") from e
        if plan.qtype == "groupBy":
            # The JSON written straight from columns (what the server sends) holds the same rows. Floating
            # sums may differ in the last bit between two runs (threads merge partial sums in another
            # order), so floats compare within a relative 1e-12; test_jsonwriter checks bytes exactly.
            sent = orjson.loads(runner.run_json(plan.query))
            assert _same(sent, orjson.loads(dumps(got))), f"{where}run_json differs from the rows"
        if plan.qtype == "timeseries":
            check_timeseries(plan, oracle, expected, got, where)
        else:
            CHECKS[plan.qtype](plan, expected, got, where)  # type: ignore[operator]


def test_oracle_covers_the_features(oracle: Oracle) -> None:
    """The seeds exercise every query type, granularity, aggregator and filter family."""
    plans = [random_query(s) for s in range(N_QUERIES)]
    text = json.dumps([p.query for p in plans])
    assert {p.qtype for p in plans} == {"timeseries", "topN", "groupBy"}
    assert {p.gran.name for p in plans} == {g.name for g in GRANULARITIES}
    for needle in (
        '"type": "selector"',
        '"type": "in"',
        '"type": "bound"',
        '"type": "range"',
        '"type": "like"',
        '"type": "regex"',
        '"type": "search"',
        '"type": "interval"',
        '"type": "null"',
        '"type": "not"',
        '"type": "and"',
        '"type": "or"',
        '"type": "expression"',
        '"dimension": "tags"',
        '"virtualColumns"',
        '"type": "extraction"',
        '"HLLSketchMerge"',
        '"hyperUnique"',
        '"thetaSketch"',
        '"cardinality"',
        '"HLLSketchBuild"',
        '"longFirst"',
        '"stringLast"',
        '"filtered"',
        '"limitSpec"',
        '"having"',
        '"type": "inverted"',
        '"type": "dimension"',
        '"grandTotal"',
        '"skipEmptyBuckets"',
        '"descending"',
        '"name": "ctr"',
        '"name": "cpc"',
        '"name": "cpm"',
        '"events_hourly"',
        '"previousStop"',
    ):
        assert needle in text, needle


if __name__ == "__main__":  # python tests/query/test_oracle.py SEED: print a query and its SQL
    _con = duckdb.connect()
    for _name, _table in duck_tables(make_events(N_EVENTS)).items():
        _con.register(_name, _table)
    _fill_domains(_con)
    p = random_query(int(sys.argv[1]))
    print(json.dumps(p.query, indent=2))
    print(to_sql(p))
