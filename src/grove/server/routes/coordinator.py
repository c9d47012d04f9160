"""The coordinator's API (``/druid/coordinator/v1/...``): datasources, segments, load status and rules.

Two views, as in Druid: ``/datasources`` is what this node serves (every used segment it has loaded
into its timelines), ``/metadata/...`` is what the metadata store holds. Marking segments used or unused
and killing unused ones change the metadata store and then refresh the node's timelines, so the next
query sees the change at once. Responses follow Druid's shapes (``DataSegment`` JSON for segments,
``{"numChangedSegments": n}`` for mark operations); an unknown datasource is a 404 everywhere except
for rules, which may be set before a datasource has data (``_default`` holds the cluster default).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Annotated, Any, Literal

import anyio
import orjson
from fastapi import APIRouter, Query, Request
from pydantic import PlainValidator
from starlette.responses import Response

from grove.common.intervals import Interval
from grove.common.models import (
    Bool,
    IntervalField,
    NonNegativeInt,
    Str,
    TaggedUnion,
    WireModel,
    from_invalid_input,
    invalid,
    parse_as,
    parse_model,
)
from grove.common.period import Period
from grove.common.time import format_timestamp, now_ms, parse_timestamp
from grove.errors import GroveError, InvalidInput, NotFound
from grove.metadata.schema import DEFAULT_RULES_DATASOURCE
from grove.server.body import read_json
from grove.server.responses import json_response
from grove.server.state import ServerState, state_of
from grove.timeline.descriptor import SegmentDescriptor
from grove.timeline.segment_id import SegmentId
from grove.timeline.timeline import DatasourceTimeline

log = logging.getLogger("grove.server")
router = APIRouter(tags=["coordinator"])

DEFAULT_TIER = "_default_tier"
_V1 = "/druid/coordinator/v1"
_AUDIT_HISTORY_MS = 7 * 86_400_000  # Druid's default druid.audit.manager.auditHistoryMillis (one week)


# --- wire models ----------------------------------------------------------------------------------------


def _to_period(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("expected an ISO-8601 period string")
    try:
        Period.parse(value)
    except InvalidInput as e:
        raise from_invalid_input(e) from None
    return value


PeriodText = Annotated[str, PlainValidator(_to_period)]
"""An ISO-8601 period (``P1M``), checked to parse and kept as written."""


class LoadForeverRule(WireModel):
    type: Literal["loadForever"]
    tiered_replicants: dict[str, NonNegativeInt] | None = None
    use_default_tier_for_null: Bool | None = None


class LoadByIntervalRule(WireModel):
    type: Literal["loadByInterval"]
    interval: IntervalField
    tiered_replicants: dict[str, NonNegativeInt] | None = None
    use_default_tier_for_null: Bool | None = None


class LoadByPeriodRule(WireModel):
    type: Literal["loadByPeriod"]
    period: PeriodText
    include_future: Bool | None = None
    tiered_replicants: dict[str, NonNegativeInt] | None = None
    use_default_tier_for_null: Bool | None = None


class DropForeverRule(WireModel):
    type: Literal["dropForever"]


class DropByIntervalRule(WireModel):
    type: Literal["dropByInterval"]
    interval: IntervalField


class DropByPeriodRule(WireModel):
    type: Literal["dropByPeriod"]
    period: PeriodText
    include_future: Bool | None = None


class DropBeforeByPeriodRule(WireModel):
    type: Literal["dropBeforeByPeriod"]
    period: PeriodText


class BroadcastForeverRule(WireModel):
    type: Literal["broadcastForever"]
    colocated_data_sources: list[Str] | None = None


class BroadcastByIntervalRule(WireModel):
    type: Literal["broadcastByInterval"]
    interval: IntervalField
    colocated_data_sources: list[Str] | None = None


class BroadcastByPeriodRule(WireModel):
    type: Literal["broadcastByPeriod"]
    period: PeriodText
    include_future: Bool | None = None
    colocated_data_sources: list[Str] | None = None


Rule = Annotated[
    LoadForeverRule
    | LoadByIntervalRule
    | LoadByPeriodRule
    | DropForeverRule
    | DropByIntervalRule
    | DropByPeriodRule
    | DropBeforeByPeriodRule
    | BroadcastForeverRule
    | BroadcastByIntervalRule
    | BroadcastByPeriodRule,
    TaggedUnion("rule"),
]
"""One of Druid's retention rules (``docs/operations/rule-configuration.md``), tagged by ``type``."""


class MarkSegmentsRequest(WireModel):
    """The body of ``markUsed``/``markUnused``: an ``interval`` or a list of ``segmentIds``.

    grove adds ``namespace`` to limit an interval to one namespace (default: every namespace).
    """

    interval: IntervalField | None = None
    segment_ids: list[Str] | None = None
    namespace: Str | None = None


# --- served datasources -------------------------------------------------------------------------------


@router.get(f"{_V1}/datasources", summary="Datasources this node serves")
def datasources(
    request: Request,
    full: str | None = Query(None, description="present: full objects with every segment"),
    simple: str | None = Query(None, description="present: name and segment summary of each"),
) -> Response:
    """Names of the datasources with served segments; ``?simple`` gives ``[{"name", "properties":
    {"tiers", "segments"}}]``, ``?full`` gives ``[{"name", "properties", "segments": [DataSegment]}]``."""
    served = _served_all(state_of(request))
    if full is not None:
        return json_response([_full_datasource(ds, segs, {}) for ds, segs in served.items()])
    if simple is not None:
        return json_response([{"name": ds, "properties": _summary(segs)} for ds, segs in served.items()])
    return json_response(list(served))


@router.get(f"{_V1}/datasources/{{datasource}}", summary="Summary of a served datasource")
def datasource(datasource: str, request: Request, full: str | None = Query(None)) -> Response:
    """``{"tiers": {tier: {"segmentCount", "size", "replicatedSize"}}, "segments": {"count", "size",
    "replicatedSize", "minTime", "maxTime"}}``; ``?full`` gives the datasource with all its segments."""
    segs = _served_or_404(state_of(request), datasource)
    if full is not None:
        return json_response(_full_datasource(datasource, segs, {}))
    return json_response(_summary(segs))


@router.get(f"{_V1}/datasources/{{datasource}}/tiers", summary="Tiers serving a datasource")
def datasource_tiers(datasource: str, request: Request) -> Response:
    """The tiers holding segments of the datasource: the embedded node has one, ``_default_tier``."""
    _served_or_404(state_of(request), datasource)
    return json_response([DEFAULT_TIER])


@router.get(f"{_V1}/datasources/{{datasource}}/segments", summary="Served segments of a datasource")
def datasource_segments(datasource: str, request: Request, full: str | None = Query(None)) -> Response:
    """Segment ids; ``?full`` gives each segment's DataSegment JSON."""
    segs = _served_or_404(state_of(request), datasource)
    if full is not None:
        return json_response([s.to_json() for s in segs])
    return json_response([str(s.id) for s in segs])


@router.get(f"{_V1}/datasources/{{datasource}}/segments/{{segment_id}}", summary="One served segment")
def datasource_segment(datasource: str, segment_id: str, request: Request) -> Response:
    """``{"metadata": DataSegment, "servers": [host]}``; 404 when this node does not serve the segment."""
    state = state_of(request)
    for seg in _served_or_404(state, datasource):
        if str(seg.id) == segment_id:
            return json_response({"metadata": seg.to_json(), "servers": [state.host]})
    raise NotFound(f"Unknown segment [{segment_id}] in datasource [{datasource}]")


# --- marking and killing ------------------------------------------------------------------------------


@router.post(f"{_V1}/datasources/{{datasource}}/markUsed", summary="Mark segments used")
async def mark_used(datasource: str, request: Request) -> Response:
    """Body ``{"interval": "..."}`` (the unused segments lying wholly inside it that no used segment
    overshadows) or ``{"segmentIds": [...]}``; returns ``{"numChangedSegments": n}``. 404 for an unknown
    datasource or segment id."""
    body = await _mark_request(request)
    state = state_of(request)
    return json_response({"numChangedSegments": await _in_thread(_mark, state, datasource, body, True)})


@router.post(f"{_V1}/datasources/{{datasource}}/markUnused", summary="Mark segments unused")
async def mark_unused(datasource: str, request: Request) -> Response:
    """Body ``{"interval": "..."}`` (the used segments lying wholly inside it) or ``{"segmentIds":
    [...]}`` (ids of other datasources are ignored); returns ``{"numChangedSegments": n}``. Queries stop
    seeing the data at once."""
    body = await _mark_request(request)
    state = state_of(request)
    return json_response({"numChangedSegments": await _in_thread(_mark, state, datasource, body, False)})


@router.post(f"{_V1}/datasources/{{datasource}}", summary="Mark every segment of a datasource used")
def mark_all_used(datasource: str, request: Request) -> Response:
    """Mark used every unused segment of the datasource that no used segment overshadows; returns
    ``{"numChangedSegments": n}``."""
    state = state_of(request)
    _known_or_404(state, datasource)
    changed = state.node.db.metadata.mark_used_in_interval(datasource, Interval.eternity())
    _refresh(state)
    return json_response({"numChangedSegments": changed})


@router.delete(
    f"{_V1}/datasources/{{datasource}}", summary="Disable a datasource (or kill its unused segments)"
)
def delete_datasource(
    datasource: str,
    request: Request,
    kill: str | None = Query(None, description="true: delete unused segments in `interval` for good"),
    interval: str | None = Query(None, description="with kill=true: the interval, `_` or `/` between ends"),
) -> Response:
    """Mark every segment of the datasource unused (queries stop seeing it at once) and return
    ``{"numChangedSegments": n}``. With ``?kill=true&interval=start_end`` instead delete the unused
    segments lying wholly inside the interval from the metadata store and deep storage (Druid's
    deprecated form of ``DELETE .../intervals/{interval}``)."""
    state = state_of(request)
    if kill is not None and kill.lower() == "true":
        if interval is None:
            raise InvalidInput("Missing [interval]: kill=true needs the interval to delete", "interval")
        _kill(state, datasource, interval)
        return Response(status_code=200)
    _known_or_404(state, datasource)
    changed = state.node.db.metadata.mark_unused_in_interval(datasource, Interval.eternity())
    _refresh(state)
    return json_response({"numChangedSegments": changed})


@router.delete(
    f"{_V1}/datasources/{{datasource}}/intervals/{{interval}}", summary="Kill unused segments in an interval"
)
def kill_interval(datasource: str, interval: str, request: Request) -> Response:
    """Delete for good (metadata and deep storage) the unused segments lying wholly inside ``interval``
    (``start_end``); used segments are never touched. Empty 200 response, as Druid's."""
    _kill(state_of(request), datasource, interval)
    return Response(status_code=200)


@router.delete(f"{_V1}/datasources/{{datasource}}/segments/{{segment_id}}", summary="Mark one segment unused")
def mark_segment_unused(datasource: str, segment_id: str, request: Request) -> Response:
    """``{"segmentStateChanged": bool}``."""
    return json_response({"segmentStateChanged": _mark_one(state_of(request), datasource, segment_id, False)})


@router.post(f"{_V1}/datasources/{{datasource}}/segments/{{segment_id}}", summary="Mark one segment used")
def mark_segment_used(datasource: str, segment_id: str, request: Request) -> Response:
    """``{"segmentStateChanged": bool}``."""
    return json_response({"segmentStateChanged": _mark_one(state_of(request), datasource, segment_id, True)})


# --- load status --------------------------------------------------------------------------------------


@router.get(f"{_V1}/loadstatus", summary="Share of used segments this node has loaded")
def loadstatus(
    request: Request, simple: str | None = Query(None), full: str | None = Query(None)
) -> Response:
    """``{datasource: percent loaded}`` over the used segments in the metadata store; ``?simple`` gives
    ``{datasource: segments left to load}``, ``?full`` ``{tier: {datasource: segments left to load}}``.
    The node loads new segments within one poll period (``segment_poll_ms``)."""
    state = state_of(request)
    published: dict[str, set[str]] = defaultdict(set)
    for record in state.node.db.metadata.segments(None, used=True):
        published[record.descriptor.datasource].add(str(record.descriptor.id))
    served = {ds: {str(s.id) for s in segs} for ds, segs in _served_all(state).items()}
    missing = {ds: len(ids - served.get(ds, set())) for ds, ids in sorted(published.items())}
    if full is not None:
        return json_response({DEFAULT_TIER: missing})
    if simple is not None:
        return json_response(missing)
    return json_response(
        {ds: 100.0 * (len(published[ds]) - left) / len(published[ds]) for ds, left in missing.items()}
    )


# --- metadata store -----------------------------------------------------------------------------------


@router.get(f"{_V1}/metadata/datasources", summary="Datasources in the metadata store")
def metadata_datasources(
    request: Request,
    full: str | None = Query(None, description="present: full objects with every used segment"),
    include_unused: str | None = Query(
        None, alias="includeUnused", description="present: also without used segments"
    ),
    include_disabled: str | None = Query(
        None, alias="includeDisabled", description="old name of includeUnused"
    ),
) -> Response:
    """Names of the datasources with at least one used segment (``?includeUnused``: with any segment);
    ``?full`` gives ``[{"name", "properties": {"created"}, "segments": [DataSegment]}]``."""
    metadata = state_of(request).node.db.metadata
    if include_unused is not None or include_disabled is not None:
        return json_response(metadata.datasources(include_unused=True))
    if full is not None:
        by_ds: dict[str, list[Any]] = defaultdict(list)
        for record in metadata.segments(None, used=True):
            by_ds[record.descriptor.datasource].append(record)
        return json_response([_metadata_datasource(ds, records) for ds, records in sorted(by_ds.items())])
    return json_response(metadata.datasources())


@router.get(f"{_V1}/metadata/datasources/{{datasource}}", summary="A datasource in the metadata store")
def metadata_datasource(datasource: str, request: Request) -> Response:
    """``{"name", "properties": {"created"}, "segments": [DataSegment]}`` over its used segments."""
    records = _used_records_or_404(state_of(request), datasource)
    return json_response(_metadata_datasource(datasource, records))


@router.get(
    f"{_V1}/metadata/datasources/{{datasource}}/segments", summary="Used segments in the metadata store"
)
def metadata_segments(datasource: str, request: Request, full: str | None = Query(None)) -> Response:
    """Ids of the datasource's used segments; ``?full`` gives their DataSegment JSON."""
    records = _used_records_or_404(state_of(request), datasource)
    if full is not None:
        return json_response([r.descriptor.to_json() for r in records])
    return json_response([str(r.descriptor.id) for r in records])


@router.get(
    f"{_V1}/metadata/datasources/{{datasource}}/segments/{{segment_id}}",
    summary="One segment in the metadata store",
)
def metadata_segment(
    datasource: str,
    segment_id: str,
    request: Request,
    include_unused: bool = Query(False, alias="includeUnused"),
) -> Response:
    """The DataSegment JSON of a used segment (of any segment with ``?includeUnused=true``); 404 otherwise."""
    state = state_of(request)
    _known_or_404(state, datasource)
    seg_id = _parse_segment_id(segment_id)
    if seg_id is not None and seg_id.datasource == datasource:
        used = None if include_unused else True
        for record in state.node.db.metadata.segments(datasource, interval=seg_id.interval, used=used):
            if record.descriptor.id == seg_id:
                return json_response(record.descriptor.to_json())
    raise NotFound(f"Unknown segment [{segment_id}] in datasource [{datasource}]")


@router.get(f"{_V1}/metadata/segments", summary="Used segments of every datasource")
def metadata_all_segments(
    request: Request,
    datasources: list[str] | None = Query(None, description="only these datasources (repeat the parameter)"),
    include_overshadowed_status: str | None = Query(
        None, alias="includeOvershadowedStatus", description="present: add overshadowed and replicationFactor"
    ),
) -> Response:
    """DataSegment JSON of every used segment; with ``?includeOvershadowedStatus`` each also carries
    ``overshadowed``, ``replicationFactor`` and ``realtime``, as Druid's SegmentStatusInCluster."""
    records = state_of(request).node.db.metadata.segments(None, used=True)
    if datasources:
        wanted = set(datasources)
        records = [r for r in records if r.descriptor.datasource in wanted]
    if include_overshadowed_status is None:
        return json_response([r.descriptor.to_json() for r in records])
    by_ds: dict[str, list[SegmentDescriptor]] = defaultdict(list)
    for r in records:
        by_ds[r.descriptor.datasource].append(r.descriptor)
    hidden = {s.id for segs in by_ds.values() for s in DatasourceTimeline(segs).overshadowed()}
    return json_response(
        [
            {
                **r.descriptor.to_json(),
                "overshadowed": r.descriptor.id in hidden,
                "replicationFactor": 0 if r.descriptor.id in hidden else 1,
                "realtime": False,
            }
            for r in records
        ]
    )


# --- rules --------------------------------------------------------------------------------------------


@router.get(f"{_V1}/rules", summary="Current rules of every datasource")
def all_rules(request: Request) -> Response:
    """``{datasource: [rule, ...]}`` for every datasource that has rules, ``_default`` included."""
    return json_response(state_of(request).node.db.metadata.all_rules())


@router.get(f"{_V1}/rules/history", summary="Rule changes of every datasource")
def all_rules_history(
    request: Request,
    interval: str | None = Query(None, description="changes within this interval (default: the last week)"),
    count: int | None = Query(None, ge=1, description="the last `count` changes instead"),
) -> Response:
    """Druid's audit entries ``{"key", "type": "rules", "auditInfo", "payload", "auditTime"}``."""
    metadata = state_of(request).node.db.metadata
    entries = [e for ds in metadata.all_rules() for e in metadata.rules_history(ds)]
    return json_response(_audit(entries, interval, count))


@router.get(f"{_V1}/rules/{{datasource}}", summary="Rules of a datasource")
def rules(datasource: str, request: Request, full: str | None = Query(None)) -> Response:
    """The datasource's rules in order (``[]`` when none); ``?full`` appends the ``_default`` rules that
    apply after them."""
    metadata = state_of(request).node.db.metadata
    current = metadata.get_rules(datasource)
    if full is not None and datasource != DEFAULT_RULES_DATASOURCE:
        current = current + metadata.get_rules(DEFAULT_RULES_DATASOURCE)
    return json_response(current)


@router.post(f"{_V1}/rules/{{datasource}}", summary="Set the rules of a datasource")
async def set_rules(datasource: str, request: Request) -> Response:
    """Replace the datasource's rules (``_default``: the cluster default) with the posted list; the old
    list stays in the history. Each rule needs a known Druid rule ``type`` (``loadForever``,
    ``loadByInterval``, ``loadByPeriod``, ``dropForever``, ``dropByInterval``, ``dropByPeriod``,
    ``dropBeforeByPeriod``, ``broadcastForever``, ``broadcastByInterval``, ``broadcastByPeriod``) and
    valid fields, else 400 naming the field (``rules[1].period``). The ``X-Druid-Author`` and
    ``X-Druid-Comment`` headers are kept in the history. Empty 200 response, as Druid's."""
    state = state_of(request)
    body = await read_json(request, state.max_request_bytes)
    parsed = parse_as(list[Rule], body, "rules")
    normalized = [rule.to_json() for rule in parsed]
    author = request.headers.get("x-druid-author", "")
    comment = request.headers.get("x-druid-comment", "")
    await _in_thread(state.node.db.metadata.set_rules, datasource, normalized, author, comment)
    return Response(status_code=200)


@router.get(f"{_V1}/rules/{{datasource}}/history", summary="Rule changes of a datasource")
def rules_history(
    datasource: str,
    request: Request,
    interval: str | None = Query(None, description="changes within this interval (default: the last week)"),
    count: int | None = Query(None, ge=1, description="the last `count` changes instead"),
) -> Response:
    """Druid's audit entries for the datasource's rules: oldest first within ``interval``, or the last
    ``count`` changes newest first."""
    entries = state_of(request).node.db.metadata.rules_history(datasource)
    return json_response(_audit(entries, interval, count))


# --- helpers ------------------------------------------------------------------------------------------


async def _in_thread(fn: Any, *args: Any) -> Any:
    return await anyio.to_thread.run_sync(fn, *args)


def _refresh(state: ServerState) -> None:
    """Rebuild the node's timelines now rather than at the next poll, so the next query sees the change."""
    state.node.db.segment_source.refresh()


def _served_all(state: ServerState) -> dict[str, list[SegmentDescriptor]]:
    timelines = state.node.db.segment_source.timelines()
    return {ds: _timeline_segments(timelines[ds]) for ds in sorted(timelines)}


def _served_or_404(state: ServerState, datasource: str) -> list[SegmentDescriptor]:
    timeline = state.node.db.segment_source.timelines().get(datasource)
    if timeline is None:
        raise NotFound(f"Unknown datasource [{datasource}]")
    return _timeline_segments(timeline)


def _timeline_segments(timeline: DatasourceTimeline) -> list[SegmentDescriptor]:
    """Every segment the timeline holds: visible, overshadowed and in incomplete chunks."""
    segs = [s for ns in timeline.namespaces.values() for chunk in ns.chunks for s in chunk.segments]
    return sorted(segs, key=lambda s: s.id)


def _known_or_404(state: ServerState, datasource: str) -> None:
    if datasource not in state.node.db.metadata.datasources(include_unused=True):
        raise NotFound(f"Unknown datasource [{datasource}]")


def _used_records_or_404(state: ServerState, datasource: str) -> list[Any]:
    records = state.node.db.metadata.segments(datasource, used=True)
    if not records:
        raise NotFound(f"Unknown datasource [{datasource}]")
    return records


def _summary(segs: list[SegmentDescriptor]) -> dict[str, Any]:
    size = sum(s.size for s in segs)
    return {
        "tiers": {DEFAULT_TIER: {"segmentCount": len(segs), "size": size, "replicatedSize": size}},
        "segments": {
            "count": len(segs),
            "size": size,
            "replicatedSize": size,
            "minTime": format_timestamp(min(s.interval.start for s in segs)),
            "maxTime": format_timestamp(max(s.interval.end for s in segs)),
        },
    }


def _full_datasource(name: str, segs: list[SegmentDescriptor], properties: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "properties": properties, "segments": [s.to_json() for s in segs]}


def _metadata_datasource(name: str, records: list[Any]) -> dict[str, Any]:
    created = min(r.created for r in records)
    return _full_datasource(name, [r.descriptor for r in records], {"created": created})


async def _mark_request(request: Request) -> MarkSegmentsRequest:
    body = await read_json(request, state_of(request).max_request_bytes)
    parsed = parse_model(MarkSegmentsRequest, body)
    if (parsed.interval is None) == (parsed.segment_ids is None) or parsed.segment_ids == []:
        raise InvalidInput(
            "Invalid request payload: give either [interval] or a non-empty [segmentIds] list, not both"
        )
    return parsed


def _mark(state: ServerState, datasource: str, body: MarkSegmentsRequest, used: bool) -> int:
    _known_or_404(state, datasource)
    metadata = state.node.db.metadata
    if body.interval is not None:
        if used:
            changed = metadata.mark_used_in_interval(datasource, body.interval, body.namespace)
        else:
            changed = metadata.mark_unused_in_interval(datasource, body.interval, body.namespace)
    else:
        wanted = list(dict.fromkeys(body.segment_ids or ()))
        mine = [p for p in map(_parse_segment_id, wanted) if p is not None and p.datasource == datasource]
        if used:
            known = _existing_ids(state, datasource, mine)
            unknown = [i for i in wanted if i not in known]
            if unknown:
                raise NotFound(f"Unknown segment [{unknown[0]}] in datasource [{datasource}]")
            changed = metadata.mark_used(wanted)
        else:
            # As Druid: ids that are not of this datasource are ignored.
            changed = metadata.mark_unused(str(p) for p in mine)
    _refresh(state)
    return changed


def _existing_ids(state: ServerState, datasource: str, ids: list[SegmentId]) -> set[str]:
    """Which of ``ids`` (of ``datasource``) the metadata store holds, used or not."""
    if not ids:
        return set()
    span = Interval(min(i.interval.start for i in ids), max(i.interval.end for i in ids))
    records = state.node.db.metadata.segments(datasource, interval=span, used=None)
    return {str(r.descriptor.id) for r in records} & {str(i) for i in ids}


def _mark_one(state: ServerState, datasource: str, segment_id: str, used: bool) -> bool:
    _known_or_404(state, datasource)
    seg_id = _parse_segment_id(segment_id)
    if seg_id is None or seg_id.datasource != datasource:
        return False
    metadata = state.node.db.metadata
    changed = metadata.mark_used([segment_id]) if used else metadata.mark_unused([segment_id])
    _refresh(state)
    return changed > 0


def _parse_segment_id(text: str) -> SegmentId | None:
    try:
        return SegmentId.parse(text)
    except GroveError:
        return None


def _kill(state: ServerState, datasource: str, interval_text: str) -> None:
    _known_or_404(state, datasource)
    try:
        interval = Interval.parse(interval_text.replace("_", "/"))
    except GroveError as e:
        raise InvalidInput(f"Invalid interval to kill: {e.message}", "interval") from None
    db = state.node.db
    for descriptor in db.metadata.delete_unused_segments(datasource, interval):
        try:
            db.deep_storage.delete(descriptor.load_spec)
        except GroveError as e:
            # The metadata row is gone, so the segment can never be used again: its files are garbage.
            log.warning("Killed segment [%s] but could not delete its files: %s", descriptor.id, e.message)


def _audit(entries: list[dict[str, Any]], interval: str | None, count: int | None) -> list[dict[str, Any]]:
    """Rule history entries as Druid's audit entries: the last ``count`` (newest first) or those within
    ``interval`` (default: the last week), oldest first."""
    ordered = sorted(entries, key=lambda e: str(e["version"]))
    if count is not None:
        chosen = list(reversed(ordered))[:count]
    else:
        if interval is not None:
            try:
                window = Interval.parse(interval.replace("_", "/"))
            except GroveError as e:
                raise InvalidInput(f"Invalid interval: {e.message}", "interval") from None
        else:
            end = now_ms()
            window = Interval(end - _AUDIT_HISTORY_MS, end + 1)
        chosen = [e for e in ordered if window.contains_instant(parse_timestamp(str(e["version"])))]
    return [
        {
            "key": e["dataSource"],
            "type": "rules",
            "auditInfo": {"author": e["author"], "comment": e["comment"], "ip": None},
            "payload": orjson.dumps(e["rules"]).decode(),
            "auditTime": e["version"],
        }
        for e in chosen
    ]
