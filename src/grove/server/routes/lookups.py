"""The lookups config API (``/druid/coordinator/v1/lookups/...``): Druid's registered lookups.

Lookups live in the metadata store by tier (Druid's ``__default`` is the tier grove's nodes load) and
name, each ``{"version", "lookupExtractorFactory"}`` with a ``map`` factory. Shapes and status codes
follow Druid's ``LookupCoordinatorResource``: writes answer 202, reads 200, an unknown tier or lookup
404. Where Druid answers 500 grove is precise: a malformed spec is a 400 naming the field
(``__default.country.version``), a factory type other than ``map`` a 400 saying so, and an update
whose version does not sort after the stored one a 409 (Druid refuses it too). There is no separate
"initialize" step: posting ``{}`` is accepted and changes nothing. A write is visible to the next query
on this node at once, and to other nodes sharing the metadata store within their poll period.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from grove.errors import InvalidInput, NotFound
from grove.metadata.schema import LookupRecord
from grove.query.lookups import DEFAULT_LOOKUP_TIER
from grove.server.body import read_json
from grove.server.responses import json_response
from grove.server.state import ServerState, state_of

router = APIRouter(tags=["lookups"])

_BASE = "/druid/coordinator/v1/lookups"


@router.get(f"{_BASE}/config", summary="Lookup tiers")
def tiers(
    request: Request, discover: bool = Query(False, description="true: add the tiers nodes load")
) -> Response:
    """Names of the tiers that have lookups; ``?discover=true`` adds the tier this node loads
    (``__default``)."""
    names = set(state_of(request).node.db.metadata.lookup_tiers())
    if discover:
        names.add(DEFAULT_LOOKUP_TIER)
    return json_response(sorted(names))


@router.post(f"{_BASE}/config", summary="Create or update lookups in bulk")
async def update_all(request: Request) -> Response:
    """Body ``{tier: {name: {"version", "lookupExtractorFactory"}}}``; lookups not named are kept.
    Answers 202 with the posted object. An existing lookup is only replaced by a higher version
    (strings compared), else 409 and nothing is written."""
    state = state_of(request)
    body = await read_json(request, state.max_request_bytes)
    if not isinstance(body, dict):
        raise InvalidInput("Lookups must be a JSON object of tiers: {tier: {name: spec}}")
    await anyio.to_thread.run_sync(state.node.db.set_lookups, body)
    return json_response(body, status=202)


@router.get(f"{_BASE}/config/all", summary="Every lookup of every tier")
def all_lookups(request: Request) -> Response:
    """``{tier: {name: {"version", "lookupExtractorFactory"}}}``."""
    out: dict[str, dict[str, Any]] = {}
    for record in state_of(request).node.db.metadata.lookups():
        out.setdefault(record.tier, {})[record.name] = record.to_json()
    return json_response(out)


@router.get(f"{_BASE}/config/{{tier}}", summary="Lookup names of a tier")
def tier_lookups(
    tier: str, request: Request, detailed: bool = Query(False, description="true: the specs, by name")
) -> Response:
    """Names of the tier's lookups; ``?detailed=true`` gives ``{name: spec}``. 404 for a tier without
    lookups."""
    records = _tier_or_404(state_of(request), tier)
    if detailed:
        return json_response({r.name: r.to_json() for r in records})
    return json_response([r.name for r in records])


@router.delete(f"{_BASE}/config/{{tier}}", summary="Delete every lookup of a tier")
def delete_tier(tier: str, request: Request) -> Response:
    """Remove the tier and its lookups: 202, or 404 for a tier without lookups."""
    state = state_of(request)
    if not state.node.db.delete_lookup_tier(tier):
        raise NotFound(f"Tier [{tier}] not found")
    return Response(status_code=202)


@router.get(f"{_BASE}/config/{{tier}}/{{name}}", summary="One lookup")
def get_lookup(tier: str, name: str, request: Request) -> Response:
    """``{"version", "lookupExtractorFactory"}``; 404 when the tier has no lookup of that name."""
    record = state_of(request).node.db.metadata.get_lookup(tier, name)
    if record is None:
        raise NotFound(f"Lookup [{name}] not found in tier [{tier}]")
    return json_response(record.to_json())


@router.post(f"{_BASE}/config/{{tier}}/{{name}}", summary="Create or update one lookup")
async def set_lookup(tier: str, name: str, request: Request) -> Response:
    """Body ``{"version", "lookupExtractorFactory"}``; 202. 400 naming the field for a malformed
    spec, 409 when the lookup exists with a version that is not lower."""
    state = state_of(request)
    body = await read_json(request, state.max_request_bytes)
    await anyio.to_thread.run_sync(state.node.db.set_lookups, {tier: {name: body}})
    return Response(status_code=202)


@router.delete(f"{_BASE}/config/{{tier}}/{{name}}", summary="Delete one lookup")
def delete_lookup(tier: str, name: str, request: Request) -> Response:
    """Remove the lookup (its tier goes with its last lookup): 202, or 404 when there is none."""
    state_of(request).node.db.delete_lookup(name, tier)
    return Response(status_code=202)


@router.get(f"{_BASE}/status", summary="Load status of every lookup")
def status_all(request: Request, detailed: bool = Query(False)) -> Response:
    """``{tier: {name: {"loaded": bool, "pendingNodes": [host]}}}``: a ``__default`` lookup is loaded
    once this node serves its current version; other tiers have no nodes, so nothing is pending."""
    state = state_of(request)
    out: dict[str, dict[str, Any]] = {}
    for record in state.node.db.metadata.lookups():
        out.setdefault(record.tier, {})[record.name] = _status(state, record)
    return json_response(out)


@router.get(f"{_BASE}/status/{{tier}}", summary="Load status of the lookups of a tier")
def status_tier(tier: str, request: Request, detailed: bool = Query(False)) -> Response:
    """``{name: {"loaded", "pendingNodes"}}``; 404 for a tier without lookups."""
    state = state_of(request)
    return json_response({r.name: _status(state, r) for r in _tier_or_404(state, tier)})


@router.get(f"{_BASE}/status/{{tier}}/{{name}}", summary="Load status of one lookup")
def status_one(tier: str, name: str, request: Request, detailed: bool = Query(False)) -> Response:
    """``{"loaded", "pendingNodes"}``; 404 for an unknown lookup."""
    state = state_of(request)
    record = state.node.db.metadata.get_lookup(tier, name)
    if record is None:
        raise NotFound(f"Lookup [{name}] not found in tier [{tier}]")
    return json_response(_status(state, record))


def _tier_or_404(state: ServerState, tier: str) -> list[LookupRecord]:
    records = state.node.db.metadata.lookups(tier)
    if not records:
        raise NotFound(f"Tier [{tier}] not found")
    return records


def _status(state: ServerState, record: LookupRecord) -> dict[str, Any]:
    if record.tier != DEFAULT_LOOKUP_TIER:
        return {"loaded": True, "pendingNodes": []}
    served = state.node.db.lookup_registry.get(record.name)
    loaded = served is not None and served.version == record.version
    return {"loaded": loaded, "pendingNodes": [] if loaded else [state.host]}
