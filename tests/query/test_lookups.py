"""Registered lookups in native queries, on every flavour: the ``registeredLookup`` extraction function,
the ``lookup`` dimension spec with ``name``, and the expression function ``lookup(expr, 'name')``.

Druid semantics (lookups.md, dimensionspecs.md, math-expr.md), in SQL-compatible null mode: a value
without a key (null included) becomes null, or itself with ``retainMissingValue``, or
``replaceMissingValueWith``; a key mapped to ``""`` stays ``""``; an unknown lookup name fails the query
with ``Lookup [name] not found`` (400).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from adsdata import COUNT, ROWS, groupby, timeseries

from grove.errors import InvalidInput
from grove.query.lookups import LookupMap, LookupRegistry, parse_lookup_spec
from grove.query.runner import QueryRunner

Run = Callable[[dict[str, Any]], list[Any]]

# "" maps to "" (kept, not null); "日本" maps to a value shared with another key (not injective).
REGIONS = {"US": "North America", "FR": "Europe", "DE": "Europe", "": "", "日本": "Asia"}
DEVICES = {"phone": "mobile", "tablet": "mobile"}


def registry(**maps: dict[str, str]) -> LookupRegistry:
    out = {}
    for name, table in maps.items():
        spec = parse_lookup_spec({"version": "v1", "lookupExtractorFactory": {"type": "map", "map": table}})
        out[name] = LookupMap.from_spec(name, spec)
    return LookupRegistry(out)


@pytest.fixture
def run(runner: QueryRunner) -> Iterator[Run]:
    """The flavour's runner with the ``regions`` and ``devices`` lookups registered."""
    before = runner.lookups
    runner.lookups = registry(regions=REGIONS, devices=DEVICES)
    yield runner.run
    runner.lookups = before


def counts(run: Run, dimension: Any, name: str, **extra: Any) -> dict[Any, int]:
    rows = run(groupby([dimension], [COUNT], **extra))
    return {r["event"][name]: r["event"]["rows"] for r in rows}


def expected(key: Callable[[dict[str, Any]], Any]) -> dict[Any, int]:
    return dict(Counter(key(r) for r in ROWS))


def registered(**options: Any) -> dict[str, Any]:
    return {"type": "registeredLookup", "lookup": "regions", **options}


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, lambda r: REGIONS.get(r["country"]) if r["country"] is not None else None),
        ({"retainMissingValue": True}, lambda r: REGIONS.get(r["country"], r["country"])),
        ({"replaceMissingValueWith": "other"}, lambda r: REGIONS.get(r["country"], "other")),
        ({"injective": True, "optimize": False}, lambda r: REGIONS.get(r["country"])),
    ],
    ids=["missing-is-null", "retain", "replace", "injective"],
)
def test_registered_lookup_extraction_dimension(run: Run, options: dict[str, Any], key: Any) -> None:
    dim = {
        "type": "extraction",
        "dimension": "country",
        "outputName": "region",
        "extractionFn": registered(**options),
    }
    assert counts(run, dim, "region") == expected(key)


def test_lookup_to_empty_string_stays_empty(run: Run) -> None:
    dim = {"type": "extraction", "dimension": "country", "outputName": "region", "extractionFn": registered()}
    got = counts(run, dim, "region")
    assert got[""] == sum(1 for r in ROWS if r["country"] == "")
    assert got[None] == sum(1 for r in ROWS if r["country"] is None)


def test_lookup_dimension_spec_with_name(run: Run) -> None:
    dim = {
        "type": "lookup",
        "dimension": "device",
        "outputName": "kind",
        "name": "devices",
        "replaceMissingValueWith": "other",
    }
    assert counts(run, dim, "kind") == expected(lambda r: DEVICES.get(r["device"], "other"))


def test_registered_lookup_in_a_filter(run: Run) -> None:
    query = timeseries(
        [COUNT],
        filter={"type": "selector", "dimension": "country", "value": "Europe", "extractionFn": registered()},
    )
    (row,) = run(query)
    assert row["result"]["rows"] == sum(1 for r in ROWS if REGIONS.get(r["country"]) == "Europe")


def test_registered_lookup_in_a_cascade(run: Run) -> None:
    fn = {"type": "cascade", "extractionFns": [registered(), {"type": "upper"}]}
    dim = {"type": "extraction", "dimension": "country", "outputName": "r", "extractionFn": fn}
    got = counts(run, dim, "r")
    assert got["EUROPE"] == sum(1 for r in ROWS if r["country"] in ("FR", "DE"))


@pytest.mark.parametrize(
    ("expression", "key"),
    [
        ("lookup(country, 'regions')", lambda r: REGIONS.get(r["country"])),
        ("lookup(country, 'regions', 'other')", lambda r: REGIONS.get(r["country"], "other")),
        ("concat(lookup(device, 'devices', '?'), '!')", lambda r: DEVICES.get(r["device"], "?") + "!"),
    ],
    ids=["two-args", "replace-missing", "nested"],
)
def test_lookup_expression_in_a_virtual_column(run: Run, expression: str, key: Any) -> None:
    vc = {"type": "expression", "name": "v", "expression": expression, "outputType": "STRING"}
    got = counts(run, "v", "v", virtualColumns=[vc])
    assert got == expected(key)


def test_lookup_expression_of_a_number_looks_up_its_text(runner: QueryRunner) -> None:
    keys = sorted({str(r["age"]) for r in ROWS if r["age"] is not None})[:3]
    saved, runner.lookups = runner.lookups, registry(ages=dict.fromkeys(keys, "known"))
    try:
        vc = {"type": "expression", "name": "v", "expression": "lookup(age, 'ages', 'no')"}
        got = counts(runner.run, "v", "v", virtualColumns=[vc])
    finally:
        runner.lookups = saved
    assert got == expected(lambda r: "known" if str(r["age"]) in keys else "no")


def test_lookup_expression_in_a_filter(run: Run) -> None:
    query = timeseries(
        [COUNT], filter={"type": "expression", "expression": "lookup(country, 'regions') == 'Asia'"}
    )
    (row,) = run(query)
    assert row["result"]["rows"] == sum(1 for r in ROWS if r["country"] == "日本")


@pytest.mark.parametrize(
    "query",
    [
        groupby(
            [
                {
                    "type": "extraction",
                    "dimension": "country",
                    "outputName": "r",
                    "extractionFn": {"type": "registeredLookup", "lookup": "nope"},
                }
            ],
            [COUNT],
        ),
        groupby([{"type": "lookup", "dimension": "country", "outputName": "r", "name": "nope"}], [COUNT]),
        groupby(
            ["v"],
            [COUNT],
            virtualColumns=[{"type": "expression", "name": "v", "expression": "lookup(country, 'nope')"}],
        ),
    ],
    ids=["extraction-fn", "dimension-spec", "expression"],
)
def test_unknown_lookup_fails_the_query_naming_it(run: Run, query: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match=r"Lookup \[nope\] not found") as info:
        run(query)
    assert info.value.status == 400


def test_lookup_name_must_be_a_literal(run: Run) -> None:
    vc = {"type": "expression", "name": "v", "expression": "lookup(country, device)"}
    with pytest.raises(InvalidInput, match=r"lookup name"):
        run(groupby(["v"], [COUNT], virtualColumns=[vc]))


def test_without_a_registry_every_name_is_unknown(runner: QueryRunner) -> None:
    assert runner.lookups is None
    dim = {"type": "extraction", "dimension": "country", "outputName": "r", "extractionFn": registered()}
    with pytest.raises(InvalidInput, match=r"Lookup \[regions\] not found"):
        runner.run(groupby([dim], [COUNT]))


def test_registry_replace_reports_changes_and_bumps_its_version() -> None:
    reg = registry(regions=REGIONS)
    version = reg.version
    snapshot = reg.snapshot()
    assert not reg.replace(dict(snapshot))
    assert reg.version == version
    assert reg.replace(registry(regions={"US": "NA"}).snapshot())
    assert reg.version == version + 1
    assert snapshot["regions"].map == REGIONS  # a snapshot never changes
    assert reg.names() == ["regions"]


@pytest.mark.parametrize(
    ("spec", "message", "path"),
    [
        (
            {"lookupExtractorFactory": {"type": "map", "map": {}}},
            "Missing required field [version]",
            "l.version",
        ),
        ({"version": "v1"}, "Missing required field [lookupExtractorFactory]", "l.lookupExtractorFactory"),
        (
            {"version": "v1", "lookupExtractorFactory": {"type": "cachedNamespace"}},
            "Unsupported lookupExtractorFactory type [cachedNamespace]",
            "l.lookupExtractorFactory.type",
        ),
        (
            {"version": "v1", "lookupExtractorFactory": {"type": "map", "map": {"a": {"b": 1}}}},
            "Invalid value",
            "l.lookupExtractorFactory.map.a",
        ),
    ],
)
def test_lookup_spec_errors_name_the_field(spec: dict[str, Any], message: str, path: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_lookup_spec(spec, "l")
    assert message in info.value.message
    assert info.value.path == path


def test_map_factory_accepts_isOneToOne_and_injective() -> None:
    for flag in ("isOneToOne", "injective"):
        spec = parse_lookup_spec(
            {"version": "v", "lookupExtractorFactory": {"type": "map", "map": {}, flag: True}}
        )
        assert LookupMap.from_spec("x", spec).injective
