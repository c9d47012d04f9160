"""Dimension specs, multi-value grouping and virtual columns, through groupBy on every flavour.

Druid semantics (dimensionspecs.md, multi-value-dimensions.md): a row groups under each value of a
multi-value dimension (an implicit UNNEST), and a row without values groups once under null; a
filter selects rows, not values, so the other values of a matching row still form groups; filtered
dimension specs (listFiltered, regexFiltered, prefixFiltered) drop values, a row left without any
grouping under null. Extraction functions map values; lookups map or drop them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from adsdata import COUNT, ROWS, Row, groupby

Run = Callable[[dict[str, Any]], list[Any]]
CLICKS = {"type": "longSum", "name": "clicks", "fieldName": "clicks"}


def grouped(
    run: Run, dims: list[Any], aggs: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[Any, dict[str, Any]]:
    """{key (one value, or a tuple for several dimensions): aggregates} of a groupBy."""
    rows = run(groupby(dims, aggs or [COUNT, CLICKS], **extra))
    names = [_output_name(d) for d in dims]
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        e = dict(r["event"])
        key = tuple(e.pop(n) for n in names)
        k = key[0] if len(key) == 1 else key
        assert k not in out, f"group {k!r} appears twice"
        out[k] = e
    return out


def _output_name(d: Any) -> str:
    if isinstance(d, str):
        return d
    if "delegate" in d:
        return _output_name(d["delegate"])
    return str(d.get("outputName", d.get("dimension")))


def expect(
    keys_of: Callable[[Row], Iterable[Any]], rows: list[Row] | None = None
) -> dict[Any, dict[str, Any]]:
    """Reference grouping: each row counts once under every key ``keys_of`` yields for it."""
    counts: Counter[Any] = Counter()
    clicks: dict[Any, int] = defaultdict(int)
    for r in ROWS if rows is None else rows:
        for k in keys_of(r):
            counts[k] += 1
            clicks[k] += r["clicks"]
    return {k: {"rows": counts[k], "clicks": clicks[k]} for k in counts}


def tag_values(r: Row) -> list[str | None]:
    return list(r["tags"]) if r["tags"] else [None]


def test_string_dimension_with_nulls_and_empty_strings(run: Run) -> None:
    assert grouped(run, ["country"]) == expect(lambda r: [r["country"]])


def test_output_name(run: Run) -> None:
    got = grouped(run, [{"type": "default", "dimension": "country", "outputName": "c"}])
    assert got == expect(lambda r: [r["country"]])


def typed(dimension: str, output_type: str) -> dict[str, Any]:
    return {"type": "default", "dimension": dimension, "outputName": dimension, "outputType": output_type}


def test_several_dimensions_of_mixed_types(run: Run) -> None:
    got = grouped(run, ["device", typed("age", "LONG"), typed("bid", "DOUBLE"), "campaign"])
    assert got == expect(lambda r: [(r["device"], r["age"], r["bid"], r["campaign"])])
    assert all(isinstance(k[1], int | None) and isinstance(k[2], float | None) for k in got)


def test_numeric_dimensions_group_as_strings_by_default(run: Run) -> None:
    # "If left unspecified, the outputType defaults to STRING" (dimensionspecs.md), also for numbers
    assert grouped(run, ["age"]) == expect(lambda r: [None if r["age"] is None else str(r["age"])])
    assert grouped(run, ["bid"]) == expect(lambda r: [None if r["bid"] is None else repr(r["bid"])])


def test_numeric_dimensions_with_their_output_type(run: Run) -> None:
    assert grouped(run, [typed("age", "LONG")]) == expect(lambda r: [r["age"]])
    got = grouped(run, [typed("bid", "DOUBLE")])
    assert got == expect(lambda r: [r["bid"]])
    assert all(isinstance(k, float) for k in got if k is not None)
    got = grouped(run, [typed("bid", "FLOAT")])
    assert len(got) == len({r["bid"] for r in ROWS})


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        (
            {"type": "default", "dimension": "age", "outputName": "a", "outputType": "STRING"},
            lambda r: None if r["age"] is None else str(r["age"]),
        ),
        (
            {"type": "default", "dimension": "age", "outputName": "a", "outputType": "DOUBLE"},
            lambda r: None if r["age"] is None else float(r["age"]),
        ),
        (
            {"type": "default", "dimension": "age_s", "outputName": "a", "outputType": "LONG"},
            lambda r: r["age"],
        ),
        (
            {"type": "default", "dimension": "bid", "outputName": "a", "outputType": "LONG"},
            lambda r: None if r["bid"] is None else int(r["bid"]),
        ),
    ],
    ids=["long-as-string", "long-as-double", "string-as-long", "double-as-long"],
)
def test_output_type(run: Run, spec: dict[str, Any], key: Callable[[Row], Any]) -> None:
    vc = [
        {"type": "expression", "name": "age_s", "expression": "cast(age, 'STRING')", "outputType": "STRING"}
    ]
    got = grouped(run, [spec], virtualColumns=vc)
    assert got == expect(lambda r: [key(r)])
    types = {type(k) for k in got if k is not None}
    assert len(types) == 1


def test_multi_value_groups_each_value_once_per_row(run: Run) -> None:
    got = grouped(run, ["tags"])
    assert got == expect(tag_values)
    assert sum(g["rows"] for g in got.values()) > len(ROWS)  # rows with several values count under each


def test_multi_value_crossed_with_another_dimension(run: Run) -> None:
    got = grouped(run, ["device", "tags"])
    assert got == expect(lambda r: [(r["device"], t) for t in tag_values(r)])


def test_multi_value_filter_selects_rows_not_values(run: Run) -> None:
    f = {"type": "selector", "dimension": "tags", "value": "a"}
    got = grouped(run, ["tags"], filter=f)
    assert got == expect(tag_values, [r for r in ROWS if r["tags"] and "a" in r["tags"]])
    assert set(got) == {"a", "b", "c"}


def test_multi_value_dimension_twice(run: Run) -> None:
    spec = {"type": "default", "dimension": "tags", "outputName": "t2"}
    got = grouped(run, ["tags", spec])
    assert got == expect(lambda r: [(a, b) for a in tag_values(r) for b in tag_values(r)])


@pytest.mark.parametrize(
    ("spec", "keys"),
    [
        (
            {"type": "listFiltered", "delegate": "tags", "values": ["a", "b"]},
            lambda r: [t for t in tag_values(r) if t in ("a", "b")] or [None],
        ),
        (
            {"type": "listFiltered", "delegate": "tags", "values": ["a"], "isWhitelist": False},
            lambda r: [t for t in tag_values(r) if t is not None and t != "a"] or [None],
        ),
        (
            {"type": "regexFiltered", "delegate": "tags", "pattern": "^[bc]$"},
            lambda r: [t for t in tag_values(r) if t in ("b", "c")] or [None],
        ),
        (
            {"type": "prefixFiltered", "delegate": "tags", "prefix": "c"},
            lambda r: [t for t in tag_values(r) if t == "c"] or [None],
        ),
        (
            {"type": "listFiltered", "delegate": "country", "values": ["US", "FR"]},
            lambda r: [r["country"] if r["country"] in ("US", "FR") else None],
        ),
    ],
    ids=["list", "list-blacklist", "regex", "prefix", "list-single-value"],
)
def test_filtered_dimension_specs(run: Run, spec: dict[str, Any], keys: Callable[[Row], list[Any]]) -> None:
    got = grouped(run, [spec])
    assert got == expect(keys)


def _fmt(ms: int, pattern: str, tz: str = "UTC") -> str:
    return dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).strftime(pattern)


SUB = {"type": "substring", "index": 1, "length": 1}
LOOKUP_MAP = {"US": "North America", "FR": "Europe", "DE": "Europe"}


@pytest.mark.parametrize(
    ("fn", "dimension", "key"),
    [
        ({"type": "timeFormat", "format": "yyyy-MM-dd"}, "__time", lambda r: _fmt(r["__time"], "%Y-%m-%d")),
        (
            {"type": "timeFormat", "format": "yyyy-MM-dd HH", "timeZone": "America/New_York"},
            "__time",
            lambda r: _fmt(r["__time"], "%Y-%m-%d %H", "America/New_York"),
        ),
        (
            {"type": "timeFormat", "format": "EEEE", "granularity": "day"},
            "__time",
            lambda r: _fmt(r["__time"], "%A"),
        ),
        (SUB, "campaign", lambda r: r["campaign"][1:2]),
        ({"type": "substring", "index": 2}, "campaign", lambda r: r["campaign"][2:] or None),
        ({"type": "regex", "expr": "c(\\d)", "index": 1}, "campaign", lambda r: r["campaign"][1]),
        (
            {
                "type": "regex",
                "expr": "^(5)",
                "replaceMissingValue": True,
                "replaceMissingValueWith": "other",
            },
            "promo",
            lambda r: "5" if (r["promo"] or "").startswith("5") else "other",
        ),
        ({"type": "regex", "expr": "^(\\d+)"}, "promo", lambda r: _leading_digits(r["promo"])),
        ({"type": "strlen"}, "promo", lambda r: str(len(r["promo"])) if r["promo"] is not None else "0"),
        ({"type": "upper"}, "promo", lambda r: None if r["promo"] is None else r["promo"].upper()),
        ({"type": "lower"}, "country", lambda r: None if r["country"] is None else r["country"].lower()),
        (
            {"type": "lookup", "lookup": {"type": "map", "map": LOOKUP_MAP}},
            "country",
            lambda r: LOOKUP_MAP.get(r["country"]),
        ),
        (
            {"type": "lookup", "lookup": {"type": "map", "map": LOOKUP_MAP}, "retainMissingValue": True},
            "country",
            lambda r: LOOKUP_MAP.get(r["country"], r["country"]),
        ),
        (
            {
                "type": "lookup",
                "lookup": {"type": "map", "map": LOOKUP_MAP},
                "replaceMissingValueWith": "other",
            },
            "country",
            lambda r: LOOKUP_MAP.get(r["country"], "other"),
        ),
        ({"type": "upper"}, "tags", lambda r: [t.upper() if t else None for t in tag_values(r)]),
        (SUB, "age", lambda r: None if r["age"] is None else str(r["age"])[1:2]),
    ],
    ids=[
        "timeFormat",
        "timeFormat-zone",
        "timeFormat-granularity-dayname",
        "substring",
        "substring-past-end",
        "regex-group",
        "regex-replace-missing",
        "regex-keeps-unmatched",
        "strlen",
        "upper",
        "lower",
        "lookup",
        "lookup-retain",
        "lookup-replace",
        "upper-multi-value",
        "substring-of-long",
    ],
)
def test_extraction_dimensions(
    run: Run, fn: dict[str, Any], dimension: str, key: Callable[[Row], Any]
) -> None:
    spec = {"type": "extraction", "dimension": dimension, "outputName": "x", "extractionFn": fn}
    got = grouped(run, [spec])

    def keys(r: Row) -> list[Any]:
        k = key(r)
        return k if isinstance(k, list) else [k]

    assert got == expect(keys)


def _leading_digits(value: str | None) -> str | None:
    # regex without a match and without replaceMissingValue keeps the value as it is
    if value is None:
        return None
    digits = ""
    for ch in value:
        if not ch.isdigit():
            break
        digits += ch
    return digits or value


def test_lookup_dimension_spec(run: Run) -> None:
    spec = {
        "type": "lookup",
        "dimension": "country",
        "outputName": "region",
        "lookup": {"type": "map", "map": LOOKUP_MAP},
        "replaceMissingValueWith": "other",
    }
    assert grouped(run, [spec]) == expect(lambda r: [LOOKUP_MAP.get(r["country"], "other")])


def test_unknown_registered_lookup_is_an_error(run: Run) -> None:
    from grove.errors import InvalidInput

    spec = {"type": "lookup", "dimension": "country", "outputName": "r", "name": "some_registered_lookup"}
    with pytest.raises(InvalidInput, match=r"Lookup \[some_registered_lookup\] not found"):
        grouped(run, [spec])


def test_group_by_missing_column_is_one_null_group(run: Run) -> None:
    assert grouped(run, ["nope"]) == {None: {"rows": len(ROWS), "clicks": sum(r["clicks"] for r in ROWS)}}


# --- virtual columns ------------------------------------------------------------------------------


def vc(name: str, expression: str, output_type: str | None = None) -> dict[str, Any]:
    out = {"type": "expression", "name": name, "expression": expression}
    if output_type:
        out["outputType"] = output_type
    return out


def _case(r: Row) -> str:
    if r["clicks"] > 5:
        return "high"
    if r["clicks"] > 0:
        return "low"
    return "zero"


HOUR = 3_600_000


@pytest.mark.parametrize(
    ("expression", "output_type", "key"),
    [
        ("clicks * 2 + 1", "LONG", lambda r: r["clicks"] * 2 + 1),
        ("impressions / 10", "LONG", lambda r: r["impressions"] // 10),
        ("clicks > impressions / 10", "LONG", lambda r: int(r["clicks"] > r["impressions"] // 10)),
        (
            "clicks == 3 || age >= 60",
            "LONG",
            lambda r: 1 if r["clicks"] == 3 or (r["age"] or 0) >= 60 else (None if r["age"] is None else 0),
        ),
        ("if(clicks > 5, 'many', 'few')", "STRING", lambda r: "many" if r["clicks"] > 5 else "few"),
        ("case_searched(clicks > 5, 'high', clicks > 0, 'low', 'zero')", "STRING", _case),
        ("nvl(country, 'unknown')", "STRING", lambda r: "unknown" if r["country"] is None else r["country"]),
        (
            "concat(device, '-', country)",
            "STRING",
            lambda r: None if r["country"] is None else f"{r['device']}-{r['country']}",
        ),
        ("lower(device)", "STRING", lambda r: r["device"]),
        ("upper(country)", "STRING", lambda r: None if r["country"] is None else r["country"].upper()),
        ("substring(campaign, 0, 2)", "STRING", lambda r: r["campaign"][:2]),
        ("strlen(promo)", "LONG", lambda r: None if r["promo"] is None else len(r["promo"])),
        ("timestamp_floor(__time, 'PT6H')", "LONG", lambda r: r["__time"] - r["__time"] % (6 * HOUR)),
        ("timestamp_extract(__time, 'HOUR')", "LONG", lambda r: r["__time"] // HOUR % 24),
        (
            "timestamp_extract(__time, 'DAY', 'America/Los_Angeles')",
            "LONG",
            lambda r: dt.datetime.fromtimestamp(r["__time"] / 1000, ZoneInfo("America/Los_Angeles")).day,
        ),
        ("bid * 2", "DOUBLE", lambda r: None if r["bid"] is None else r["bid"] * 2),
        ("upper(tags)", "STRING", lambda r: [t.upper() if t else None for t in tag_values(r)]),
        ("if(clicks > 5, 'many', 'few')", None, lambda r: "many" if r["clicks"] > 5 else "few"),
        ("clicks + 1", None, lambda r: str(r["clicks"] + 1)),
    ],
)
def test_virtual_columns(
    run: Run, expression: str, output_type: str | None, key: Callable[[Row], Any]
) -> None:
    spec = typed("v", output_type or "STRING")
    got = grouped(run, [spec], virtualColumns=[vc("v", expression, output_type)])

    def keys(r: Row) -> list[Any]:
        k = key(r)
        return k if isinstance(k, list) else [k]

    assert got == expect(keys)


def test_virtual_column_in_filter_aggregator_and_dimension(run: Run) -> None:
    got = grouped(
        run,
        [typed("bucket", "LONG")],
        [{"type": "longSum", "name": "s", "fieldName": "double_clicks"}],
        virtualColumns=[vc("bucket", "clicks / 4", "LONG"), vc("double_clicks", "clicks * 2", "LONG")],
        filter={"type": "bound", "dimension": "bucket", "lower": "1", "ordering": "numeric"},
    )
    expected: dict[int, int] = defaultdict(int)
    for r in ROWS:
        if r["clicks"] // 4 >= 1:
            expected[r["clicks"] // 4] += 2 * r["clicks"]
    assert got == {k: {"s": v} for k, v in expected.items()}


def test_virtual_column_names_must_be_unique(run: Run) -> None:
    from grove.errors import InvalidQuery

    with pytest.raises(InvalidQuery) as info:
        grouped(run, ["v"], virtualColumns=[vc("v", "1"), vc("v", "2")])
    assert "virtualColumns" in str(info.value)


def test_bad_expression_names_its_path(run: Run) -> None:
    from grove.errors import InvalidQuery

    with pytest.raises(InvalidQuery) as info:
        grouped(run, ["v"], virtualColumns=[vc("w", "1"), vc("v", "clicks +")])
    assert "virtualColumns[1].expression" in str(info.value)
