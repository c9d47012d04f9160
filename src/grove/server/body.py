"""Reading request bodies: size limit (413), content type (415) and JSON (400), before any work."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from grove.errors import InvalidInput, RequestTooLarge, Unsupported

_JSON_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded", "")


class UnsupportedMediaType(Unsupported):
    status = 415
    druid_error = "Unsupported media type"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(
            f"Request body of [{declared}] bytes is larger than the limit of [{limit}] bytes"
        )
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"Request body is larger than the limit of [{limit}] bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> Any:
    """Parse a JSON request body (declared as JSON, or untyped as curl sends it)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _JSON_TYPES and not content_type.endswith("+json"):
        raise UnsupportedMediaType(f"Unsupported content type [{content_type}]; send application/json")
    body = await read_body(request, limit)
    if not body.strip():
        raise InvalidInput("Request body is empty; expected a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidInput(f"Malformed JSON: {e}") from None
