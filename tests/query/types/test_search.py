"""search on every segment flavour and on Druid's tutorial data, counts checked against DuckDB.

Druid facts (docs/querying/searchquery.md, SearchQuery, SearchSortSpec, SearchQueryRunner): the result
is ``[{"timestamp", "result": [{"dimension", "value", "count"}]}]``; ``limit`` defaults to 1000;
``sort`` is lexicographic unless set (alphanumeric, strlen, numeric), ties broken by dimension name;
without ``searchDimensions`` every dimension is searched, numeric ones by their text; ``count`` counts
rows, a multi-value row once per value; the search specs (contains, insensitive_contains, fragment,
regex) never match null; granularity ``all`` stamps the result with the earliest segment start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from adsdata import INTERVAL, ROWS, TYPES
from flavours import table_of

import grove
from grove.errors import InvalidQuery, Unsupported
from grove.query.ordering import sort_keys

Run = Callable[[dict[str, Any]], list[Any]]
Hit = tuple[str, Any, int]
ROOT = Path(__file__).resolve().parents[3]
WIKI = ROOT / "tests" / "data" / "wikiticker-2015-09-12-sampled.json.gz"
DIMENSIONS = ["country", "device", "tags", "campaign", "user", "promo", "age", "bid"]


def search(spec: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
    query = {"queryType": "search", "dataSource": "ads", "intervals": [INTERVAL], **fields}
    if spec is not None:
        query["query"] = spec
    return query


def hits(result: list[Any]) -> list[Hit]:
    return [(h["dimension"], h["value"], h["count"]) for bucket in result for h in bucket["result"]]


@pytest.fixture(scope="module")
def oracle() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.register("ads", table_of(ROWS, TYPES))
    yield con
    con.close()


def expected(
    con: duckdb.DuckDBPyConnection, dims: list[str], match: str, where: str = "TRUE", bucket: str = "0"
) -> set[tuple[Any, ...]]:
    """(bucket, dimension, value, count) of the values matching ``match`` (SQL over ``v``)."""
    out: set[tuple[Any, ...]] = set()
    for d in dims:
        source = "unnest(tags)" if d == "tags" else f'CAST("{d}" AS VARCHAR)'
        sql = (
            f"SELECT b, v, count(*) FROM (SELECT {bucket} AS b, {source} AS v FROM ads WHERE {where}) "
            f"WHERE {match} GROUP BY b, v"
        )
        out |= {(b, d, v, n) for b, v, n in con.execute(sql).fetchall()}
    return out


def lexicographic(hit: Hit) -> tuple[Any, ...]:
    return (b"" if hit[1] is None else hit[1].encode(), hit[1] is not None, hit[0])


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"type": "insensitive_contains", "value": "U"}, "v ILIKE '%u%'"),
        ({"type": "contains", "value": "U", "caseSensitive": True}, "v LIKE '%U%'"),
        ({"type": "contains", "value": "s"}, "v ILIKE '%s%'"),
        ({"type": "fragment", "values": ["a", "B"]}, "v ILIKE '%a%' AND v ILIKE '%b%'"),
        ({"type": "regex", "pattern": "^c1[0-2]?$"}, "regexp_matches(v, '^c1[0-2]?$')"),
        ({"type": "insensitive_contains", "value": "5"}, "v LIKE '%5%'"),
    ],
)
def test_every_dimension_matches_duckdb(
    run: Run, oracle: duckdb.DuckDBPyConnection, spec: Any, match: str
) -> None:
    result = run(search(spec, limit=5000))
    assert len(result) == 1 and result[0]["timestamp"] == "2020-01-01T00:00:00.000Z"
    got = hits(result)
    assert {(0, *h) for h in got} == expected(oracle, DIMENSIONS, match)
    assert got == sorted(got, key=lexicographic)


def test_search_dimensions_filter_and_limit(run: Run, oracle: duckdb.DuckDBPyConnection) -> None:
    flt = {"type": "selector", "dimension": "country", "value": "US"}
    spec = {"type": "insensitive_contains", "value": "a"}
    dims = ["tags", "promo", "device"]
    got = hits(run(search(spec, searchDimensions=dims, filter=flt)))
    assert {(0, *h) for h in got} == expected(oracle, dims, "v ILIKE '%a%'", "country = 'US'")
    assert hits(run(search(spec, searchDimensions=dims, filter=flt, limit=3))) == got[:3]


def test_granularity_buckets_match_duckdb(run: Run, oracle: duckdb.DuckDBPyConnection) -> None:
    spec = {"type": "insensitive_contains", "value": "c"}
    result = run(search(spec, searchDimensions=["tags", "device"], granularity="day"))
    assert [r["timestamp"][:10] for r in result] == ["2020-01-01", "2020-01-02", "2020-01-03"]
    got = {(r["timestamp"][:10], *h) for r in result for h in hits([r])}
    day = "strftime(make_timestamp(__time * 1000), '%Y-%m-%d')"
    assert got == expected(oracle, ["tags", "device"], "v ILIKE '%c%'", bucket=day)


def test_without_a_spec_every_value_matches_null_included(run: Run) -> None:
    got = hits(run(search(None, searchDimensions=["country"])))
    counts: dict[Any, int] = {}
    for r in ROWS:
        counts[r["country"]] = counts.get(r["country"], 0) + 1
    assert sorted(got, key=lexicographic) == got
    assert {(v, n) for _, v, n in got} == set(counts.items())
    assert got[0][1] is None  # null sorts first


@pytest.mark.parametrize("ordering", ["lexicographic", "alphanumeric", "strlen", "numeric", "version"])
def test_sort_orders(run: Run, ordering: str) -> None:
    got = hits(
        run(
            search(
                {"type": "contains", "value": ""},
                searchDimensions=["promo", "age", "campaign"],
                sort={"type": ordering},
            )
        )
    )
    values = [v for _, v, _ in got]
    ranks = sort_keys(values, ordering).tolist()
    assert ranks == sorted(ranks)
    for (d1, v1, _), (d2, v2, _), r1, r2 in zip(got, got[1:], ranks, ranks[1:], strict=False):
        assert r1 < r2 or d1 <= d2, (v1, v2)
    if ordering == "numeric":
        numbers = [float(v) for v in values if re.fullmatch(r"[0-9.]+", v)]
        assert numbers == sorted(numbers)
    if ordering == "strlen":
        assert [len(v) for v in values] == sorted(len(v) for v in values)


def test_sort_as_a_bare_name_and_extraction_specs(run: Run) -> None:
    assert run(search({"type": "contains", "value": "c"}, sort="strlen")) == run(
        search({"type": "contains", "value": "c"}, sort={"type": "strlen"})
    )
    spec = {
        "type": "extraction",
        "dimension": "device",
        "outputName": "DEV",
        "extractionFn": {"type": "upper"},
    }
    got = hits(
        run(search({"type": "contains", "value": "PH", "caseSensitive": True}, searchDimensions=[spec]))
    )
    phones = sum(1 for r in ROWS if r["device"] == "phone")
    assert got == [("DEV", "PHONE", phones)]


def test_no_rows_no_result(run: Run) -> None:
    assert run(search({"type": "contains", "value": "zzz"})) == []
    assert run(search({"type": "contains", "value": "a"}, intervals=["2019-01-01/2019-01-02"])) == []


def test_regex_beyond_re2_is_refused(run: Run) -> None:
    with pytest.raises(Unsupported) as info:
        run(search({"type": "regex", "pattern": "(?=c)c1"}))
    assert info.value.path == "query.pattern"


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"sort": {"type": "random"}}, "sort.type"),
        ({"query": {"type": "like", "value": "x"}}, "query.type"),
        ({"query": {"type": "regex", "pattern": "("}}, "query.pattern"),
        ({"limit": -1}, "limit"),
        ({"searchDimensions": [{"type": "default"}]}, "searchDimensions[0].dimension"),
        ({"granularity": "fortnight"}, "granularity"),
    ],
)
def test_bad_input_names_the_field(run: Run, fields: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        run(search({"type": "contains", "value": "a"}) | fields)
    assert info.value.path == path, str(info.value)


# --- Druid's tutorial data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wikipedia(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    spec = json.loads((ROOT / "examples" / "wikipedia-index.json").read_text())
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = str(WIKI.parent)
    db = grove.open(str(tmp_path_factory.mktemp("wiki")))
    db.ingest(spec)
    yield db
    db.close()


@pytest.mark.parametrize("text", ["united", "san", "é"])
def test_wikipedia_counts_match_duckdb(wikipedia: Any, text: str) -> None:
    dims = ["countryName", "cityName", "regionName"]
    query = {
        "queryType": "search",
        "dataSource": "wikipedia",
        "intervals": ["2015-09-12/2015-09-13"],
        "searchDimensions": dims,
        "query": {"type": "insensitive_contains", "value": text},
        "limit": 10000,
    }
    result = wikipedia.query(query)
    assert [r["timestamp"] for r in result] == ["2015-09-12T00:00:00.000Z"]
    con = duckdb.connect()
    con.execute(f"CREATE VIEW wiki AS SELECT * FROM read_json_auto('{WIKI}')")
    want = set()
    for d in dims:
        sql = f'SELECT "{d}", count(*) FROM wiki WHERE lower("{d}") LIKE \'%{text}%\' GROUP BY 1'
        want |= {(d, v, n) for v, n in con.execute(sql).fetchall()}
    con.close()
    assert set(hits(result)) == want
