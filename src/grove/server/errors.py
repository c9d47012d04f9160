"""The one place errors become HTTP responses, in Druid's error body shape.

Every error body carries ``error`` (Druid's error code string), ``errorMessage`` (one sentence),
``errorClass`` and ``host``. grove errors keep their own status (400 invalid, 404 unknown, 413 too large,
429 shed, 504 timeout); anything unexpected is a 500 whose message names no internals.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from grove.errors import GroveError
from grove.server.metrics import NodeMetrics

log = logging.getLogger("grove.server")

_HTTP_ERRORS = {
    400: "Invalid input",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
    429: "Query capacity exceeded",
    500: "Unknown exception",
    501: "Not implemented",
    504: "Query timeout",
}


def error_body(status: int, error: str, message: str, error_class: str, host: str | None) -> dict[str, Any]:
    return {"error": error, "errorMessage": message, "errorClass": error_class, "host": host}


def error_response(status: int, error: str, message: str, error_class: str, host: str | None) -> Response:
    body = orjson.dumps(error_body(status, error, message, error_class, host))
    return Response(body, status_code=status, media_type="application/json")


def grove_error_json(e: GroveError, host: str | None) -> bytes:
    """The body of the response to ``e`` (its status is ``e.status``)."""
    return orjson.dumps(error_body(e.status, e.druid_error, e.message, f"grove.errors.{e.error_class}", host))


def grove_error_response(e: GroveError, host: str | None) -> Response:
    return Response(grove_error_json(e, host), status_code=e.status, media_type="application/json")


def unexpected_error_json(e: Exception, host: str | None) -> bytes:
    """The body of the 500 answering an unexpected error: its class, nothing of its internals."""
    name = type(e).__name__
    return orjson.dumps(error_body(500, "Unknown exception", f"Internal error: {name}", name, host))


def install_error_handlers(app: FastAPI, host: str | None, metrics: NodeMetrics | None = None) -> None:
    """Render every error in Druid's shape and count it by status in ``metrics``."""

    def counted(response: Response) -> Response:
        if metrics is not None:
            metrics.errors.labels(str(response.status_code)).inc()
        return response

    @app.exception_handler(GroveError)
    async def _grove(request: Request, e: GroveError) -> Response:
        return counted(grove_error_response(e, host))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException) -> Response:
        error = _HTTP_ERRORS.get(e.status_code, "HTTP error")
        message = e.detail if isinstance(e.detail, str) else error
        if e.status_code == 405:
            message = f"Method [{request.method}] is not allowed on [{request.url.path}]"
        elif e.status_code == 404 and message == "Not Found":
            message = f"No such path [{request.url.path}]"
        response = error_response(e.status_code, error, message, "HTTPException", host)
        # Starlette's headers matter: a 405 must say which methods are allowed (``Allow``).
        response.headers.update(e.headers or {})
        return counted(response)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, e: RequestValidationError) -> Response:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        message = f"Invalid value at {where}: {first.get('msg', 'invalid')}" if where else "Invalid request"
        return counted(error_response(400, "Invalid input", message, "RequestValidationError", host))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, e: Exception) -> Response:
        log.exception("Unexpected error serving %s %s", request.method, request.url.path)
        return counted(
            Response(unexpected_error_json(e, host), status_code=500, media_type="application/json")
        )
