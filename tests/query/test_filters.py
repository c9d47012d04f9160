"""Native filters on every segment flavour, with Druid's SQL-compatible null semantics.

Each case is a filter and the Python predicate saying which of ``adsdata.ROWS`` it selects; the test
counts the rows a timeseries query sees through the filter. Three-valued logic (Druid docs, "Boolean
logic" in sql-data-types.md): a comparison with null is UNKNOWN, ``not`` keeps only FALSE rows, so
``NOT (country = 'US')`` does not select rows whose country is null. Multi-value rows match when any
value matches ("Filtering on multi-value string columns", filters.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from adsdata import COUNT, DAY, ROWS, T0, Row, has_tag, timeseries

from grove.errors import InvalidInput, InvalidQuery

Run = Callable[[dict[str, Any]], list[Any]]
ABSENT = [f"absent-{i}" for i in range(100)]  # values no row holds, to make an IN list long


def sel(dim: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "selector", "dimension": dim, "value": value, **extra}


def NOT(f: dict[str, Any]) -> dict[str, Any]:
    return {"type": "not", "field": f}


def AND(*fs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "and", "fields": list(fs)}


def OR(*fs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "or", "fields": list(fs)}


def known(v: Any) -> bool:
    return v is not None


def tags(r: Row) -> list[str]:
    return r["tags"] or []


def iso(ms: int) -> str:
    from grove.common.time import format_timestamp

    return format_timestamp(ms)


DAY2 = f"{iso(T0 + DAY)}/{iso(T0 + 2 * DAY)}"
NOON_TO_EVENING = f"{iso(T0 + 12 * 3_600_000)}/{iso(T0 + 18 * 3_600_000)}"
LOOKUP = {"type": "lookup", "lookup": {"type": "map", "map": {"US": "NA", "FR": "EU", "DE": "EU"}}}

# (id, filter, predicate over a row)
CASES: list[tuple[str, dict[str, Any], Callable[[Row], bool]]] = [
    # selector: a value, null, the empty string (distinct from null), and their negations
    ("selector", sel("country", "US"), lambda r: r["country"] == "US"),
    ("selector-null", sel("country", None), lambda r: r["country"] is None),
    ("selector-absent-value", {"type": "selector", "dimension": "country"}, lambda r: r["country"] is None),
    ("selector-empty", sel("country", ""), lambda r: r["country"] == ""),
    ("not-selector", NOT(sel("country", "US")), lambda r: known(r["country"]) and r["country"] != "US"),
    ("not-selector-null", NOT(sel("country", None)), lambda r: r["country"] is not None),
    ("not-selector-empty", NOT(sel("country", "")), lambda r: known(r["country"]) and r["country"] != ""),
    ("selector-no-such-value", sel("country", "XX"), lambda r: False),
    ("not-not", NOT(NOT(sel("country", "FR"))), lambda r: r["country"] == "FR"),
    (
        "not-not-not",
        NOT(NOT(NOT(sel("country", "FR")))),
        lambda r: known(r["country"]) and r["country"] != "FR",
    ),
    # selector on numeric dimensions (the value is coerced to a number)
    ("selector-long", sel("age", "30"), lambda r: r["age"] == 30),
    ("selector-long-null", sel("age", None), lambda r: r["age"] is None),
    ("not-selector-long", NOT(sel("age", "30")), lambda r: known(r["age"]) and r["age"] != 30),
    ("selector-double", sel("bid", "1.92"), lambda r: r["bid"] == 1.92),
    ("selector-long-not-a-number", sel("age", "abc"), lambda r: False),
    ("selector-time", sel("__time", str(ROWS[5]["__time"])), lambda r: r["__time"] == ROWS[5]["__time"]),
    # multi-value: any value matches; a row without values is null
    ("mv-selector", sel("tags", "a"), lambda r: has_tag(r, "a")),
    ("mv-selector-null", sel("tags", None), lambda r: not r["tags"]),
    ("mv-not-selector", NOT(sel("tags", "a")), lambda r: bool(r["tags"]) and "a" not in tags(r)),
    ("mv-and", AND(sel("tags", "a"), sel("tags", "b")), lambda r: has_tag(r, "a") and has_tag(r, "b")),
    (
        "mv-in",
        {"type": "in", "dimension": "tags", "values": ["a", "c"]},
        lambda r: bool({"a", "c"} & set(tags(r))),
    ),
    # in
    (
        "in",
        {"type": "in", "dimension": "country", "values": ["US", "FR"]},
        lambda r: r["country"] in ("US", "FR"),
    ),
    (
        "in-with-null",
        {"type": "in", "dimension": "country", "values": ["US", None]},
        lambda r: r["country"] in ("US", None),
    ),
    (
        "not-in-with-null",
        NOT({"type": "in", "dimension": "country", "values": ["US", None]}),
        lambda r: r["country"] not in ("US", None),
    ),
    (
        "not-in",
        NOT({"type": "in", "dimension": "country", "values": ["US", ""]}),
        lambda r: r["country"] not in ("US", "", None),
    ),
    ("in-empty", {"type": "in", "dimension": "country", "values": []}, lambda r: False),
    # more than 64 values: matched against the column's dictionary in Arrow, the set built once
    (
        "in-many",
        {"type": "in", "dimension": "country", "values": ["US", "FR", *ABSENT]},
        lambda r: r["country"] in ("US", "FR"),
    ),
    (
        "in-many-with-null",
        {"type": "in", "dimension": "country", "values": [*ABSENT, None, "", "DE"]},
        lambda r: r["country"] in (None, "", "DE"),
    ),
    (
        "not-in-many-with-null",
        NOT({"type": "in", "dimension": "country", "values": [*ABSENT, None, "US"]}),
        lambda r: r["country"] not in ("US", None),
    ),
    (
        "mv-in-many",
        {"type": "in", "dimension": "tags", "values": [*ABSENT, "b"]},
        lambda r: has_tag(r, "b"),
    ),
    (
        "in-many-long",
        {"type": "in", "dimension": "age", "values": [*ABSENT, "20", 30]},
        lambda r: r["age"] in (20, 30),
    ),
    (
        "in-many-extraction",
        {
            "type": "in",
            "dimension": "country",
            "values": [*ABSENT, "us"],
            "extractionFn": {"type": "lower"},
        },
        lambda r: r["country"] == "US",
    ),
    (
        "in-long",
        {"type": "in", "dimension": "age", "values": ["20", "30", None]},
        lambda r: r["age"] in (20, 30, None),
    ),
    (
        "in-long-not",
        NOT({"type": "in", "dimension": "age", "values": ["20", "30"]}),
        lambda r: known(r["age"]) and r["age"] not in (20, 30),
    ),
    # bound: lexicographic, numeric, alphanumeric; without a lower bound it matches null (filters.md)
    (
        "bound-lex",
        {"type": "bound", "dimension": "country", "lower": "DE", "upper": "US", "upperStrict": True},
        lambda r: known(r["country"]) and "DE" <= r["country"] < "US",
    ),
    (
        "bound-lex-strict-lower",
        {"type": "bound", "dimension": "country", "lower": "DE", "lowerStrict": True},
        lambda r: known(r["country"]) and r["country"].encode() > b"DE",
    ),
    (
        "bound-lex-upper-only-matches-null",
        {"type": "bound", "dimension": "country", "upper": "FR"},
        lambda r: r["country"] is None or r["country"] <= "FR",
    ),
    (
        "not-bound-lex-upper-only",
        NOT({"type": "bound", "dimension": "country", "upper": "FR"}),
        lambda r: known(r["country"]) and r["country"] > "FR",
    ),
    (
        "bound-numeric-long",
        {"type": "bound", "dimension": "age", "lower": "30", "upper": "40", "ordering": "numeric"},
        lambda r: known(r["age"]) and 30 <= r["age"] <= 40,
    ),
    (
        "bound-numeric-long-strict",
        {
            "type": "bound",
            "dimension": "age",
            "lower": "30",
            "upper": "40",
            "lowerStrict": True,
            "upperStrict": True,
            "ordering": "numeric",
        },
        lambda r: known(r["age"]) and 30 < r["age"] < 40,
    ),
    (
        "bound-numeric-upper-only-matches-null",
        {"type": "bound", "dimension": "age", "upper": "25", "ordering": "numeric"},
        lambda r: r["age"] is None or r["age"] <= 25,
    ),
    (
        "bound-numeric-double-fraction",
        {"type": "bound", "dimension": "bid", "lower": "1.5", "upper": "2.25", "ordering": "numeric"},
        lambda r: known(r["bid"]) and 1.5 <= r["bid"] <= 2.25,
    ),
    (
        "bound-numeric-on-string-dim-of-numbers",
        {"type": "bound", "dimension": "age_s", "lower": "9", "upper": "30", "ordering": "numeric"},
        lambda r: known(r["age"]) and 9 <= r["age"] <= 30,
    ),
    (
        "bound-lex-on-string-dim-of-numbers",
        {"type": "bound", "dimension": "age_s", "lower": "4", "upper": "9"},
        lambda r: known(r["age"]) and "4" <= str(r["age"]) <= "9",
    ),
    (
        "bound-alphanumeric",
        {"type": "bound", "dimension": "campaign", "lower": "c2", "upper": "c10", "ordering": "alphanumeric"},
        lambda r: 2 <= int(r["campaign"][1:]) <= 10,
    ),
    (
        "bound-lexicographic-campaign",
        {"type": "bound", "dimension": "campaign", "lower": "c10", "upper": "c2"},
        lambda r: "c10" <= r["campaign"] <= "c2",
    ),
    (
        "bound-strlen",
        {"type": "bound", "dimension": "campaign", "lower": "c10", "ordering": "strlen"},
        lambda r: (len(r["campaign"]), r["campaign"]) >= (3, "c10"),
    ),
    # range (SQL semantics: never matches null)
    (
        "range-long-closed",
        {"type": "range", "column": "age", "matchValueType": "LONG", "lower": 30, "upper": 40},
        lambda r: known(r["age"]) and 30 <= r["age"] <= 40,
    ),
    (
        "range-long-open",
        {
            "type": "range",
            "column": "age",
            "matchValueType": "LONG",
            "lower": 30,
            "upper": 40,
            "lowerOpen": True,
            "upperOpen": True,
        },
        lambda r: known(r["age"]) and 30 < r["age"] < 40,
    ),
    (
        "range-upper-only-not-null",
        {"type": "range", "column": "age", "matchValueType": "LONG", "upper": 25},
        lambda r: known(r["age"]) and r["age"] <= 25,
    ),
    (
        "not-range-upper-only",
        NOT({"type": "range", "column": "age", "matchValueType": "LONG", "upper": 25}),
        lambda r: known(r["age"]) and r["age"] > 25,
    ),
    (
        "range-double",
        {
            "type": "range",
            "column": "bid",
            "matchValueType": "DOUBLE",
            "lower": 1.5,
            "upperOpen": True,
            "upper": 3,
        },
        lambda r: known(r["bid"]) and 1.5 <= r["bid"] < 3,
    ),
    (
        "range-string",
        {"type": "range", "column": "country", "matchValueType": "STRING", "upper": "FR", "upperOpen": True},
        lambda r: known(r["country"]) and r["country"] < "FR",
    ),
    (
        "range-string-lower",
        {"type": "range", "column": "country", "matchValueType": "STRING", "lower": "FR", "lowerOpen": True},
        lambda r: known(r["country"]) and r["country"].encode() > b"FR",
    ),
    # equals and null
    (
        "equals-string",
        {"type": "equals", "column": "country", "matchValueType": "STRING", "matchValue": "FR"},
        lambda r: r["country"] == "FR",
    ),
    (
        "equals-long",
        {"type": "equals", "column": "age", "matchValueType": "LONG", "matchValue": 30},
        lambda r: r["age"] == 30,
    ),
    (
        "equals-double",
        {"type": "equals", "column": "bid", "matchValueType": "DOUBLE", "matchValue": 1.92},
        lambda r: r["bid"] == 1.92,
    ),
    (
        "equals-mv",
        {"type": "equals", "column": "tags", "matchValueType": "STRING", "matchValue": "c"},
        lambda r: has_tag(r, "c"),
    ),
    ("null", {"type": "null", "column": "country"}, lambda r: r["country"] is None),
    ("null-long", {"type": "null", "column": "age"}, lambda r: r["age"] is None),
    ("null-double", {"type": "null", "column": "bid"}, lambda r: r["bid"] is None),
    ("null-mv", {"type": "null", "column": "tags"}, lambda r: not r["tags"]),
    ("not-null", NOT({"type": "null", "column": "country"}), lambda r: r["country"] is not None),
    ("not-null-long", NOT({"type": "null", "column": "age"}), lambda r: r["age"] is not None),
    # like, with and without escape
    (
        "like-prefix",
        {"type": "like", "dimension": "promo", "pattern": "50%"},
        lambda r: (r["promo"] or "\0").startswith("50"),
    ),
    (
        "like-underscore",
        {"type": "like", "dimension": "promo", "pattern": "50_off"},
        lambda r: r["promo"] in ("50%off", "50_off"),
    ),
    (
        "like-escape-percent",
        {"type": "like", "dimension": "promo", "pattern": "50\\%%", "escape": "\\"},
        lambda r: (r["promo"] or "\0").startswith("50%"),
    ),
    (
        "like-escape-underscore",
        {"type": "like", "dimension": "promo", "pattern": "%!_%", "escape": "!"},
        lambda r: "_" in (r["promo"] or ""),
    ),
    ("like-regex-chars-literal", {"type": "like", "dimension": "promo", "pattern": "5%."}, lambda r: False),
    (
        "not-like",
        NOT({"type": "like", "dimension": "promo", "pattern": "50%"}),
        lambda r: known(r["promo"]) and not r["promo"].startswith("50"),
    ),
    (
        "like-on-long",
        {"type": "like", "dimension": "age", "pattern": "2%"},
        lambda r: known(r["age"]) and str(r["age"]).startswith("2"),
    ),
    # regex
    (
        "regex",
        {"type": "regex", "dimension": "country", "pattern": "^[A-Z]{2}$"},
        lambda r: r["country"] in ("US", "FR", "DE"),
    ),
    (
        "regex-unanchored",
        {"type": "regex", "dimension": "promo", "pattern": "off"},
        lambda r: "off" in (r["promo"] or ""),
    ),
    (
        "not-regex",
        NOT({"type": "regex", "dimension": "country", "pattern": "S"}),
        lambda r: known(r["country"]) and "S" not in r["country"],
    ),
    (
        "regex-on-double",
        {"type": "regex", "dimension": "bid", "pattern": "^1\\."},
        lambda r: known(r["bid"]) and str(r["bid"]).startswith("1."),
    ),
    # search
    (
        "search-contains-insensitive",
        {"type": "search", "dimension": "country", "query": {"type": "contains", "value": "u"}},
        lambda r: "u" in (r["country"] or "").lower(),
    ),
    (
        "search-contains-case-sensitive",
        {
            "type": "search",
            "dimension": "country",
            "query": {"type": "contains", "value": "u", "caseSensitive": True},
        },
        lambda r: "u" in (r["country"] or ""),
    ),
    (
        "search-insensitive-contains",
        {"type": "search", "dimension": "promo", "query": {"type": "insensitive_contains", "value": "SAL"}},
        lambda r: "sal" in (r["promo"] or "").lower(),
    ),
    (
        "search-fragment",
        {"type": "search", "dimension": "promo", "query": {"type": "fragment", "values": ["5", "F"]}},
        lambda r: "5" in (r["promo"] or "") and "f" in (r["promo"] or "").lower(),
    ),
    (
        "not-search",
        NOT(
            {
                "type": "search",
                "dimension": "country",
                "query": {"type": "insensitive_contains", "value": "e"},
            }
        ),
        lambda r: known(r["country"]) and "e" not in r["country"].lower(),
    ),
    # interval on __time
    (
        "interval-time",
        {"type": "interval", "dimension": "__time", "intervals": [DAY2]},
        lambda r: T0 + DAY <= r["__time"] < T0 + 2 * DAY,
    ),
    (
        "interval-time-several",
        {"type": "interval", "dimension": "__time", "intervals": [DAY2, NOON_TO_EVENING]},
        lambda r: (
            T0 + DAY <= r["__time"] < T0 + 2 * DAY or T0 + 12 * 3_600_000 <= r["__time"] < T0 + 18 * 3_600_000
        ),
    ),
    (
        "not-interval",
        NOT({"type": "interval", "dimension": "__time", "intervals": [DAY2]}),
        lambda r: not T0 + DAY <= r["__time"] < T0 + 2 * DAY,
    ),
    # and / or / not with unknowns
    (
        "and",
        AND(sel("country", "US"), sel("device", "phone")),
        lambda r: r["country"] == "US" and r["device"] == "phone",
    ),
    (
        "or",
        OR(sel("country", "US"), {"type": "range", "column": "age", "matchValueType": "LONG", "lower": 60}),
        lambda r: r["country"] == "US" or (known(r["age"]) and r["age"] >= 60),
    ),
    (
        "not-or-unknown",
        NOT(
            OR(
                sel("country", "US"),
                {"type": "range", "column": "age", "matchValueType": "LONG", "lower": 60},
            )
        ),
        # TRUE only when both parts are FALSE; a null country or age leaves the OR at best UNKNOWN
        lambda r: known(r["country"]) and r["country"] != "US" and known(r["age"]) and r["age"] < 60,
    ),
    (
        "not-and-unknown",
        NOT(
            AND(
                sel("country", "US"),
                {"type": "range", "column": "age", "matchValueType": "LONG", "lower": 60},
            )
        ),
        # NOT(a AND b) = NOT a OR NOT b: TRUE when either part is FALSE
        lambda r: (known(r["country"]) and r["country"] != "US") or (known(r["age"]) and r["age"] < 60),
    ),
    (
        "or-true-beats-unknown",
        NOT(NOT(OR(sel("country", "US"), sel("age", "30")))),
        lambda r: r["country"] == "US" or r["age"] == 30,
    ),
    ("true", {"type": "true"}, lambda r: True),
    ("false", {"type": "false"}, lambda r: False),
    ("not-true", NOT({"type": "true"}), lambda r: False),
    ("not-false", NOT({"type": "false"}), lambda r: True),
    ("and-false", AND(sel("country", "US"), {"type": "false"}), lambda r: False),
    ("or-true", OR(sel("country", "XX"), {"type": "true"}), lambda r: True),
    # expression filters (three-valued too: null compares to UNKNOWN)
    ("expression", {"type": "expression", "expression": "clicks > 5"}, lambda r: r["clicks"] > 5),
    (
        "expression-string",
        {"type": "expression", "expression": "country == 'US'"},
        lambda r: r["country"] == "US",
    ),
    (
        "not-expression-null",
        NOT({"type": "expression", "expression": "country == 'US'"}),
        lambda r: known(r["country"]) and r["country"] != "US",
    ),
    (
        "expression-and-numbers",
        {"type": "expression", "expression": "age >= 30 && bid < 2"},
        lambda r: known(r["age"]) and r["age"] >= 30 and known(r["bid"]) and r["bid"] < 2,
    ),
    (
        "expression-virtual-column",
        {"type": "expression", "expression": "ctr_x100 >= 10"},
        lambda r: r["impressions"] > 0 and r["clicks"] * 100 // r["impressions"] >= 10,
    ),
    # column comparison (values compared as strings)
    (
        "column-comparison",
        AND(
            NOT(sel("country", None)),
            {"type": "columnComparison", "dimensions": ["country", "country_upper"]},
        ),
        lambda r: known(r["country"]) and r["country"] == r["country"].upper(),
    ),
    (
        "column-comparison-numeric-as-string",
        AND(
            NOT({"type": "null", "column": "age"}),
            {"type": "columnComparison", "dimensions": ["age_s", "age"]},
        ),
        lambda r: known(r["age"]),
    ),
    (
        "column-comparison-different",
        AND(NOT(sel("country", None)), {"type": "columnComparison", "dimensions": ["country", "device"]}),
        lambda r: False,
    ),
    # extraction functions in filters
    (
        "selector-substring",
        sel("campaign", "c1", extractionFn={"type": "substring", "index": 0, "length": 2}),
        lambda r: r["campaign"][:2] == "c1",
    ),
    ("selector-lookup", sel("country", "EU", extractionFn=LOOKUP), lambda r: r["country"] in ("FR", "DE")),
    (
        "selector-lookup-retain",
        sel("country", "日本", extractionFn={**LOOKUP, "retainMissingValue": True}),
        lambda r: r["country"] == "日本",
    ),
    (
        "selector-lookup-null",
        sel("country", None, extractionFn=LOOKUP),
        lambda r: r["country"] not in ("US", "FR", "DE"),
    ),
    (
        "extraction-filter",
        {"type": "extraction", "dimension": "country", "value": "NA", "extractionFn": LOOKUP},
        lambda r: r["country"] == "US",
    ),
    ("selector-upper", sel("promo", "SALE", extractionFn={"type": "upper"}), lambda r: r["promo"] == "Sale"),
    ("selector-strlen", sel("promo", "2", extractionFn={"type": "strlen"}), lambda r: r["promo"] == "5%"),
    (
        "regex-with-lower",
        {"type": "regex", "dimension": "country", "pattern": "^[a-z]+$", "extractionFn": {"type": "lower"}},
        lambda r: r["country"] in ("US", "FR", "DE"),
    ),
    (
        "in-with-extraction",
        {
            "type": "in",
            "dimension": "campaign",
            "values": ["1", "2"],
            "extractionFn": {"type": "regex", "expr": "c(\\d)"},
        },
        lambda r: r["campaign"][1] in ("1", "2"),
    ),
    (
        "bound-with-extraction",
        {
            "type": "bound",
            "dimension": "campaign",
            "lower": "5",
            "ordering": "numeric",
            "extractionFn": {"type": "substring", "index": 1},
        },
        lambda r: int(r["campaign"][1:]) >= 5,
    ),
    (
        "selector-time-format",
        sel("__time", "2020-01-02", extractionFn={"type": "timeFormat", "format": "yyyy-MM-dd"}),
        lambda r: T0 + DAY <= r["__time"] < T0 + 2 * DAY,
    ),
    (
        "like-with-extraction",
        {"type": "like", "dimension": "country", "pattern": "u%", "extractionFn": {"type": "lower"}},
        lambda r: (r["country"] or "").startswith("U"),
    ),
    (
        "search-with-extraction",
        {
            "type": "search",
            "dimension": "country",
            "query": {"type": "contains", "value": "X", "caseSensitive": True},
            "extractionFn": {
                "type": "lookup",
                "lookup": {"type": "map", "map": {"US": "XUS"}},
                "retainMissingValue": True,
            },
        },
        lambda r: r["country"] == "US",
    ),
    (
        "mv-selector-extraction",
        sel("tags", "A", extractionFn={"type": "upper"}),
        lambda r: has_tag(r, "a"),
    ),
    # columns the segments do not have are null everywhere
    ("missing-column-null", sel("nope", None), lambda r: True),
    ("missing-column-value", sel("nope", "x"), lambda r: False),
    ("not-missing-column-value", NOT(sel("nope", "x")), lambda r: False),
    ("missing-column-bound-no-lower", {"type": "bound", "dimension": "nope", "upper": "x"}, lambda r: True),
    (
        "missing-column-range",
        {"type": "range", "column": "nope", "matchValueType": "STRING", "upper": "x"},
        lambda r: False,
    ),
]

VIRTUAL = [
    {"type": "expression", "name": "country_upper", "expression": "upper(country)", "outputType": "STRING"},
    {"type": "expression", "name": "age_s", "expression": "cast(age, 'STRING')", "outputType": "STRING"},
    {
        "type": "expression",
        "name": "ctr_x100",
        "expression": "if(impressions > 0, clicks * 100 / impressions, 0)",
        "outputType": "LONG",
    },
]


def count_matching(run: Run, f: dict[str, Any], datasource: str = "ads") -> int:
    result = run(timeseries([COUNT], filter=f, virtualColumns=VIRTUAL, dataSource=datasource))
    return int(result[0]["result"]["rows"]) if result else 0


@pytest.mark.parametrize(("name", "f", "pred"), CASES, ids=[c[0] for c in CASES])
def test_filter(run: Run, name: str, f: dict[str, Any], pred: Callable[[Row], bool]) -> None:
    expected = sum(1 for r in ROWS if pred(r))
    assert count_matching(run, f) == expected


ROLLUP_CASES = [
    c
    for c in CASES
    if c[0]
    in {
        "selector",
        "selector-null",
        "not-selector",
        "mv-selector",
        "mv-not-selector",
        "in-with-null",
        "bound-lex-upper-only-matches-null",
        "not-bound-lex-upper-only",
        "like-with-extraction",
        "null-mv",
    }
]


@pytest.mark.parametrize(("name", "f", "pred"), ROLLUP_CASES, ids=[c[0] for c in ROLLUP_CASES])
def test_filter_on_rolled_up_rows(
    run: Run, name: str, f: dict[str, Any], pred: Callable[[Row], bool]
) -> None:
    """On rolled-up rows the filter sees each rollup row once; the stored count metric re-adds."""
    result = run(
        timeseries(
            [{"type": "longSum", "name": "n", "fieldName": "count"}], filter=f, dataSource="ads_rollup"
        )
    )
    expected = sum(1 for r in ROWS if pred(r))
    got = result[0]["result"]["n"] if result else None
    assert got == (expected or None)


def test_filter_and_interval_compose(run: Run) -> None:
    q = timeseries([COUNT], filter=sel("country", "US"), intervals=[DAY2])
    expected = sum(1 for r in ROWS if r["country"] == "US" and T0 + DAY <= r["__time"] < T0 + 2 * DAY)
    assert run(q)[0]["result"]["rows"] == expected


def test_filtered_rows_feed_aggregators(run: Run) -> None:
    f = NOT(sel("country", "US"))
    q = timeseries([COUNT, {"type": "longSum", "name": "clicks", "fieldName": "clicks"}], filter=f)
    rows = [r for r in ROWS if known(r["country"]) and r["country"] != "US"]
    assert run(q)[0]["result"] == {"rows": len(rows), "clicks": sum(r["clicks"] for r in rows)}


def test_regex_uses_java_features(run: Run) -> None:
    # lookahead is Java regex syntax that RE2 (Arrow's engine) lacks; the answer must still be right
    f = {"type": "regex", "dimension": "promo", "pattern": "^50(?=%)"}
    expected = sum(1 for r in ROWS if r["promo"] is not None and re.search("^50(?=%)", r["promo"]))
    assert count_matching(run, f) == expected


@pytest.mark.parametrize(
    ("f", "path"),
    [
        ({"type": "selectr", "dimension": "x", "value": "y"}, "filter.type"),
        ({"type": "selector", "value": "y"}, "filter.dimension"),
        ({"type": "bound", "dimension": "x"}, "filter"),
        ({"type": "and", "fields": [{"type": "in", "dimension": "x"}]}, "filter.fields[0].values"),
        (
            {"type": "not", "field": {"type": "like", "dimension": "x", "pattern": "a", "escape": "ab"}},
            "filter.field.escape",
        ),
    ],
)
def test_bad_filters_name_the_field(run: Run, f: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        run(timeseries([COUNT], filter=f))
    assert path in str(info.value)


def test_javascript_filter_is_refused(run: Run) -> None:
    with pytest.raises(InvalidInput) as info:
        run(timeseries([COUNT], filter={"type": "javascript", "dimension": "x", "function": "f"}))
    assert "filter.type" in str(info.value)
