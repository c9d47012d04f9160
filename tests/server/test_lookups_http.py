"""The lookups config API over HTTP against a real ``grove serve``: bulk and single writes, reads,
version conflicts, deletes, status, error bodies, and lookups used by native and SQL queries at once.

Every test uses lookup names of its own, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from serving import ServerProcess, ingest, inline_spec  # noqa: E402

LOOKUPS = "/druid/coordinator/v1/lookups"
ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("lookups") / "home") as s:
        yield s


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def spec(version: str, table: dict[str, str], **factory: Any) -> dict[str, Any]:
    return {"version": version, "lookupExtractorFactory": {"type": "map", "map": table, **factory}}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= ERROR_KEYS
    return body


def test_bulk_update_then_read_back(client: httpx.Client) -> None:
    body = {
        "__default": {
            "bulk_a": spec("v0", {"1": "one"}),
            "bulk_b": spec("v0", {"2": "two"}, isOneToOne=True),
        },
        "realtime_customer1": {"bulk_c": spec("v0", {"3": "three"})},
    }
    assert ok(client.post(f"{LOOKUPS}/config", json=body), 202) == body
    assert {"__default", "realtime_customer1"} <= set(ok(client.get(f"{LOOKUPS}/config")))
    assert {"bulk_a", "bulk_b"} <= set(ok(client.get(f"{LOOKUPS}/config/__default")))
    assert ok(client.get(f"{LOOKUPS}/config/realtime_customer1")) == ["bulk_c"]
    assert ok(client.get(f"{LOOKUPS}/config/__default/bulk_b")) == body["__default"]["bulk_b"]
    everything = ok(client.get(f"{LOOKUPS}/config/all"))
    assert everything["realtime_customer1"] == body["realtime_customer1"]
    assert everything["__default"]["bulk_a"] == body["__default"]["bulk_a"]
    detailed = ok(client.get(f"{LOOKUPS}/config/__default", params={"detailed": "true"}))
    assert detailed["bulk_a"] == body["__default"]["bulk_a"]
    # Posting {} (Druid's initialization) is accepted and changes nothing.
    assert ok(client.post(f"{LOOKUPS}/config", json={}), 202) == {}


def test_single_update_needs_a_higher_version(client: httpx.Client) -> None:
    url = f"{LOOKUPS}/config/__default/versioned"
    assert ok(client.post(url, json=spec("v1", {"a": "A"})), 202) is None
    same = error(client.post(url, json=spec("v1", {"a": "B"})), 409)
    assert "[versioned]" in same["errorMessage"] and "[v1]" in same["errorMessage"]
    error(client.post(url, json=spec("v0", {"a": "B"})), 409)
    assert ok(client.get(url))["lookupExtractorFactory"]["map"] == {"a": "A"}
    ok(client.post(url, json=spec("v2", {"a": "B"})), 202)
    assert ok(client.get(url)) == spec("v2", {"a": "B"})


def test_bulk_conflict_writes_nothing(client: httpx.Client) -> None:
    ok(client.post(f"{LOOKUPS}/config/__default/bulk_conflict", json=spec("v5", {"a": "A"})), 202)
    body = {"__default": {"bulk_new": spec("v0", {}), "bulk_conflict": spec("v4", {"a": "Z"})}}
    error(client.post(f"{LOOKUPS}/config", json=body), 409)
    error(client.get(f"{LOOKUPS}/config/__default/bulk_new"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lookupExtractorFactory": {"type": "map", "map": {}}}, "version"),
        ({"version": "v1"}, "lookupExtractorFactory"),
        ({"version": "v1", "lookupExtractorFactory": {"type": "map"}}, "map"),
        ({"version": "v1", "lookupExtractorFactory": {"type": "map", "map": {"k": [1]}}}, "map.k"),
        ({"version": "v1", "lookupExtractorFactory": {"type": "cachedNamespace"}}, "type"),
        ([1, 2], "bad"),
    ],
)
def test_bad_specs_are_400_naming_the_field(client: httpx.Client, body: Any, field: str) -> None:
    found = error(client.post(f"{LOOKUPS}/config/__default/bad", json=body), 400)
    assert field in found["errorMessage"]
    error(client.get(f"{LOOKUPS}/config/__default/bad"), 404)


def test_bulk_body_must_be_tiers_of_lookups(client: httpx.Client) -> None:
    error(client.post(f"{LOOKUPS}/config", json=[1]), 400)
    error(client.post(f"{LOOKUPS}/config", json={"__default": [1]}), 400)
    found = error(client.post(f"{LOOKUPS}/config", json={"__default": {"x": {"version": 3}}}), 400)
    assert "__default.x.version" in found["errorMessage"]


def test_unknown_tier_and_lookup_are_404(client: httpx.Client) -> None:
    error(client.get(f"{LOOKUPS}/config/no_such_tier"), 404)
    found = error(client.get(f"{LOOKUPS}/config/__default/no_such_lookup"), 404)
    assert "[no_such_lookup]" in found["errorMessage"]
    error(client.delete(f"{LOOKUPS}/config/__default/no_such_lookup"), 404)
    error(client.delete(f"{LOOKUPS}/config/no_such_tier"), 404)
    error(client.get(f"{LOOKUPS}/status/no_such_tier"), 404)


def test_delete_lookup_and_tier(client: httpx.Client) -> None:
    ok(client.post(f"{LOOKUPS}/config", json={"doomed": {"d1": spec("v0", {}), "d2": spec("v0", {})}}), 202)
    ok(client.delete(f"{LOOKUPS}/config/doomed/d1"), 202)
    assert ok(client.get(f"{LOOKUPS}/config/doomed")) == ["d2"]
    ok(client.delete(f"{LOOKUPS}/config/doomed"), 202)
    assert "doomed" not in ok(client.get(f"{LOOKUPS}/config"))


def test_status(client: httpx.Client) -> None:
    ok(client.post(f"{LOOKUPS}/config/__default/status_l", json=spec("v0", {"a": "b"})), 202)
    assert ok(client.get(f"{LOOKUPS}/status/__default/status_l")) == {"loaded": True, "pendingNodes": []}
    assert ok(client.get(f"{LOOKUPS}/status"))["__default"]["status_l"]["loaded"] is True
    assert "status_l" in ok(client.get(f"{LOOKUPS}/status/__default"))


def test_queries_see_a_lookup_at_once_and_its_updates(client: httpx.Client) -> None:
    rows = [{"ts": "2026-01-01T00:00:00Z", "d": c, "n": 1} for c in ("US", "FR", "DE", "US", "JP")]
    ingest(client, inline_spec("lk_events", rows))
    url = f"{LOOKUPS}/config/__default/lk_regions"
    ok(client.post(url, json=spec("v1", {"US": "NA", "FR": "EU", "DE": "EU"})), 202)
    sql = "SELECT LOOKUP(d, 'lk_regions', 'other') AS r, SUM(\"count\") AS n FROM lk_events GROUP BY 1"
    rows_out = ok(client.post("/druid/v2/sql/", json={"query": sql}))
    assert {r["r"]: r["n"] for r in rows_out} == {"NA": 2, "EU": 2, "other": 1}
    native = {
        "queryType": "groupBy",
        "dataSource": "lk_events",
        "intervals": ["2026-01-01/2026-01-02"],
        "granularity": "all",
        "dimensions": [
            {
                "type": "extraction",
                "dimension": "d",
                "outputName": "r",
                "extractionFn": {
                    "type": "registeredLookup",
                    "lookup": "lk_regions",
                    "retainMissingValue": True,
                },
            }
        ],
        "aggregations": [{"type": "longSum", "name": "n", "fieldName": "count"}],
    }
    got = {r["event"]["r"]: r["event"]["n"] for r in ok(client.post("/druid/v2/", json=native))}
    assert got == {"NA": 2, "EU": 2, "JP": 1}
    ok(client.post(url, json=spec("v2", {"US": "America"})), 202)
    rows_out = ok(client.post("/druid/v2/sql/", json={"query": sql}))
    assert {r["r"]: r["n"] for r in rows_out} == {"America": 2, "other": 3}
    tables = ok(
        client.post(
            "/druid/v2/sql/",
            json={"query": "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'lookup'"},
        )
    )
    assert {"TABLE_NAME": "lk_regions"} in tables
    kv = ok(client.post("/druid/v2/sql/", json={"query": "SELECT k, v FROM lookup.lk_regions"}))
    assert kv == [{"k": "US", "v": "America"}]


def test_unknown_lookup_in_queries_is_400(client: httpx.Client) -> None:
    rows = [{"ts": "2026-01-01T00:00:00Z", "d": "US", "n": 1}]
    ingest(client, inline_spec("lk_unknown", rows))
    found = error(
        client.post("/druid/v2/sql/", json={"query": "SELECT LOOKUP(d, 'nope') FROM lk_unknown"}), 400
    )
    assert "Lookup [nope] not found" in found["errorMessage"]
    native = {
        "queryType": "scan",
        "dataSource": "lk_unknown",
        "intervals": ["2026-01-01/2026-01-02"],
        "virtualColumns": [{"type": "expression", "name": "v", "expression": "lookup(d, 'nope')"}],
        "columns": ["v"],
    }
    found = error(client.post("/druid/v2/", json=native), 400)
    assert "Lookup [nope] not found" in found["errorMessage"]
