"""Druid SQL over HTTP (``POST /druid/v2/sql/``), as Druid's SQL API documents it.

The request is Druid's JSON object — ``query``, ``resultFormat``, ``header``, ``typesHeader``,
``sqlTypesHeader``, ``context``, ``parameters`` — or, as in Druid, the bare SQL text sent as
``text/plain`` or URL-encoded as ``application/x-www-form-urlencoded`` (then the result is in the
default ``object`` format). A JSON object is accepted under those content types too, since that is
what ``curl -d @query.json`` sends without ``-H``.

Every query has an id: ``context.sqlQueryId`` or a generated one, returned in ``X-Druid-SQL-Query-Id``;
``DELETE /druid/v2/sql/{id}`` cancels it while it runs.
Statements run under the node's admission control like native queries (429 when the queue is full)
and are counted under the query type ``sql``. Errors are raised as grove errors and rendered in Druid's
error body by the app's handlers: 400 for a statement grove cannot parse or plan, naming the construct.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote_plus

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from grove.cluster.node import EmbeddedNode
from grove.common.ids import random_uuid
from grove.common.models import Bool, Str, WireModel, parse_model
from grove.errors import InvalidInput, NotFound
from grove.server.body import UnsupportedMediaType, read_body
from grove.server.state import state_of
from grove.sql.formats import ResultFormat, render, render_bytes
from grove.sql.result import SqlResult

router = APIRouter(tags=["sql"])

QUERY_ID_HEADER = "X-Druid-SQL-Query-Id"
HEADER_INCLUDED = "X-Druid-SQL-Header-Included"
# Results up to this many rows are sent in one piece; larger ones are streamed in chunks.
_STREAM_ROWS = 5000
_RAW_SQL_TYPES = ("text/plain", "application/x-www-form-urlencoded", "")


class SqlParameter(WireModel):
    """A value for a ``?`` placeholder: its SQL type (``VARCHAR``, ``BIGINT``, ``TIMESTAMP``...) and value."""

    type: Str
    value: Any = None


class SqlRequest(WireModel):
    """Druid's SQL request body (``SqlQuery``); nulls mean the defaults, unknown fields are ignored."""

    query: Str
    result_format: Str | None = None
    header: Bool = False
    types_header: Bool = False
    sql_types_header: Bool = False
    context: dict[str, Any] | None = None
    parameters: list[SqlParameter] | None = None


@router.post("/druid/v2/sql/", summary="Run a Druid SQL query")
async def sql_query(request: Request) -> Response:
    """Druid SQL: a JSON request (or the SQL text as ``text/plain``); the rows in ``resultFormat``."""
    return await _sql(request)


@router.post("/druid/v2/sql", include_in_schema=False)
async def sql_query_no_slash(request: Request) -> Response:
    return await _sql(request)


async def _sql(request: Request) -> Response:
    state = state_of(request)
    body = await _read_request(request, state.max_request_bytes)
    fmt = ResultFormat.parse(
        body.result_format,
        header=body.header,
        types_header=body.types_header,
        sql_types_header=body.sql_types_header,
    )
    context = dict(body.context or {})
    query_id = context.get("sqlQueryId")
    if query_id is None or query_id == "":
        query_id = random_uuid()
    query_id = str(query_id)
    context["sqlQueryId"] = query_id
    parameters = [{"type": p.type, "value": p.value} for p in body.parameters or ()]

    metrics = state.metrics
    metrics.queries.labels("sql").inc()
    metrics.running.set(state.node.admission.running)
    start = time.perf_counter()
    try:
        result = await state.threads.run(_run, state.node, body.query, parameters, context)
    finally:
        metrics.latency.labels("sql").observe(time.perf_counter() - start)

    headers = {QUERY_ID_HEADER: query_id}
    if fmt.header:
        headers[HEADER_INCLUDED] = "yes"
    if len(result.rows) <= _STREAM_ROWS:
        return Response(render_bytes(result, fmt), media_type=fmt.content_type, headers=headers)
    return StreamingResponse(render(result, fmt), media_type=fmt.content_type, headers=headers)


@router.delete("/druid/v2/sql/{sql_query_id}", summary="Cancel a running SQL query")
async def cancel_sql(sql_query_id: str, request: Request) -> Response:
    """Cancel the statement whose ``context.sqlQueryId`` is ``sql_query_id`` (its native queries carry
    the same id); 202 when it was running, 404 when no such statement runs."""
    if not state_of(request).node.db.query_runner.cancel(sql_query_id):
        raise NotFound(f"No running SQL query with id [{sql_query_id}]")
    return Response(status_code=202)


def _run(
    node: EmbeddedNode, sql: str, parameters: list[dict[str, Any]], context: dict[str, Any]
) -> SqlResult:
    """Run a statement in a query slot (CapacityExceeded when the queue is full, QueryTimeout when no
    slot frees up within the node's query timeout)."""
    timeout_ms = node.config.query_timeout_ms
    with node.admission.slot(timeout_ms / 1000 if timeout_ms > 0 else None):
        return node.db.sql(sql, parameters=parameters, context=context)


async def _read_request(request: Request, limit: int) -> SqlRequest:
    """The request as a :class:`SqlRequest`, from a JSON body or from bare SQL text.

    Raises InvalidInput (400) for an empty, malformed or non-object body or a bad field,
    RequestTooLarge (413) and UnsupportedMediaType (415).
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = content_type == "application/json" or content_type.endswith("+json")
    if not is_json and content_type not in _RAW_SQL_TYPES:
        raise UnsupportedMediaType(
            f"Unsupported content type [{content_type}]; send application/json, text/plain or "
            "application/x-www-form-urlencoded"
        )
    raw = await read_body(request, limit)
    if not raw.strip():
        raise InvalidInput("Request body is empty; expected a SQL query")
    if is_json or raw.lstrip().startswith(b"{"):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise InvalidInput(f"Malformed JSON: {e}") from None
        if not isinstance(data, dict):
            raise InvalidInput("A SQL request must be a JSON object with a [query] field")
        return parse_model(SqlRequest, data)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The SQL text is not valid UTF-8") from None
    if content_type == "application/x-www-form-urlencoded":
        text = unquote_plus(text)
    return SqlRequest(query=text)
