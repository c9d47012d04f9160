"""Druid SQL (``POST /druid/v2/sql/``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from grove.server.errors import error_response
from grove.server.state import state_of

router = APIRouter(tags=["sql"])


@router.post("/druid/v2/sql/", summary="Run a Druid SQL query")
@router.post("/druid/v2/sql", include_in_schema=False)
async def sql(request: Request) -> Response:
    return error_response(
        501,
        "Not implemented",
        "Druid SQL is not available in this version of grove",
        "Unsupported",
        state_of(request).host,
    )
