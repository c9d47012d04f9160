"""Native queries (``POST /druid/v2/``), cancellation, and the broker's datasource views."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from grove.common.ids import random_uuid
from grove.common.intervals import Interval
from grove.errors import GroveError, InvalidInput, InvalidQuery, NotFound
from grove.server.body import read_json
from grove.server.responses import json_response
from grove.server.state import ServerState, state_of

router = APIRouter(tags=["native queries"])


async def _native(request: Request) -> Response:
    state = state_of(request)
    pretty = "pretty" in request.query_params
    answer, query_id = await answer_native(state, await read_json(request, state.max_request_bytes), pretty)
    headers = {"X-Druid-Query-Id": query_id} if query_id else None
    if pretty:
        return json_response(answer, pretty=True, headers=headers)
    return Response(answer, media_type="application/json", headers=headers)


async def answer_native(state: ServerState, query: Any, pretty: bool = False) -> tuple[Any, str | None]:
    """Run a native query's decoded body on a worker thread, counted and timed in the node's metrics:
    the answer as JSON bytes (the result itself when ``pretty``, to be indented) and the query's id.
    Both ``POST /druid/v2/`` routes (this module's and the server's fast path) answer through here."""
    if not isinstance(query, dict):
        # The runner also takes JSON text: a body that is a JSON string must not be decoded twice.
        raise InvalidQuery("A native query must be a JSON object")
    query, query_id = _with_query_id(query)
    query_type = query.get("queryType")
    label = query_type if isinstance(query_type, str) else "unknown"
    metrics = state.metrics
    metrics.queries.labels(label).inc()
    start = time.perf_counter()
    metrics.running.set(state.node.admission.running)
    try:
        run = state.node.query if pretty else state.node.query_json
        answer = await state.threads.run(run, query)
    finally:
        metrics.latency.labels(label).observe(time.perf_counter() - start)
    return answer, query_id


def _with_query_id(query: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The query with a ``context.queryId``, generated when absent as Druid does, so that every query
    can be cancelled and its id is returned in ``X-Druid-Query-Id``. A malformed context is left for
    the query parser to refuse."""
    context = query.get("context", {})
    if not isinstance(context, dict):
        return query, None
    query_id = context.get("queryId")
    if query_id is None or query_id == "":
        query_id = random_uuid()
        query = {**query, "context": {**context, "queryId": query_id}}
    return query, str(query_id)


@router.post("/druid/v2/", summary="Run a native query")
async def native_query(request: Request) -> Response:
    """A Druid native query (JSON); ``?pretty`` indents the result."""
    return await _native(request)


@router.post("/druid/v2", include_in_schema=False)
async def native_query_no_slash(request: Request) -> Response:
    return await _native(request)


def _visible(request: Request, datasource: str) -> list[Any]:
    timelines = state_of(request).node.db.segment_source.timelines()
    timeline = timelines.get(datasource)
    if timeline is None:
        raise NotFound(f"Unknown datasource [{datasource}]")
    return timeline.visible_segments()


@router.get("/druid/v2/datasources", summary="Queryable datasources")
async def datasources(request: Request) -> Response:
    return json_response(sorted(state_of(request).node.db.segment_source.timelines()))


@router.get("/druid/v2/datasources/{datasource}", summary="Dimensions and metrics of a datasource")
async def datasource(datasource: str, request: Request) -> Response:
    segments = _visible(request, datasource)
    dims: dict[str, None] = {}
    mets: dict[str, None] = {}
    for seg in segments:
        dims.update(dict.fromkeys(seg.dimensions))
        mets.update(dict.fromkeys(seg.metrics))
    return json_response({"dimensions": sorted(dims), "metrics": sorted(mets)})


@router.get(
    "/druid/v2/datasources/{datasource}/candidates", summary="Segments a query over intervals would read"
)
async def candidates(datasource: str, request: Request, intervals: str | None = None) -> Response:
    state = state_of(request)
    timeline = state.node.db.segment_source.timelines().get(datasource)
    if timeline is None:
        raise NotFound(f"Unknown datasource [{datasource}]")
    wanted = [Interval.eternity()]
    if intervals:
        try:
            wanted = [Interval.parse(part) for part in intervals.split(",") if part.strip()]
        except GroveError as e:
            raise InvalidInput(f"Invalid intervals parameter: {e.message}", "intervals") from None
    out = []
    for iv in wanted:
        for entry in timeline.lookup(iv):
            for seg in entry.segments:
                out.append(
                    {
                        "interval": str(entry.interval),
                        "version": seg.version,
                        "partitionNumber": seg.partition,
                        "size": seg.size,
                        "locations": [
                            {
                                "name": state.host,
                                "host": state.host,
                                "tier": "_default_tier",
                                "type": "historical",
                            }
                        ],
                    }
                )
    return json_response(out)


# After the datasource views: for a path both match (``POST /druid/v2/datasources``), the first route
# decides the ``Allow`` header of the 405.
@router.delete("/druid/v2/{query_id}", summary="Cancel a running query")
async def cancel_query(query_id: str, request: Request) -> Response:
    """Cancel the query whose ``context.queryId`` is ``query_id``; 202 when it was running."""
    if not state_of(request).node.db.query_runner.cancel(query_id):
        raise NotFound(f"No running query with id [{query_id}]")
    return Response(status_code=202)
