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


def check_declared_length(declared: str | None, limit: int) -> None:
    """Refuse a body whose ``Content-Length`` is over ``limit`` before reading any of it."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(
            f"Request body of [{declared}] bytes is larger than the limit of [{limit}] bytes"
        )


class BodyCollector:
    """A body's chunks as they arrive, refused as soon as they pass ``limit`` bytes."""

    __slots__ = ("chunks", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise RequestTooLarge(f"Request body is larger than the limit of [{self.limit}] bytes")
        self.chunks.append(chunk)

    def body(self) -> bytes:
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


def check_json_type(content_type: str) -> None:
    """Refuse (415) a body declared as anything but JSON (an untyped body, as curl sends, passes)."""
    content_type = content_type.split(";")[0].strip().lower()
    if content_type not in _JSON_TYPES and not content_type.endswith("+json"):
        raise UnsupportedMediaType(f"Unsupported content type [{content_type}]; send application/json")


def parse_json(body: bytes) -> Any:
    """A request body's JSON (400 when empty or malformed)."""
    if not body.strip():
        raise InvalidInput("Request body is empty; expected a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidInput(f"Malformed JSON: {e}") from None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    check_declared_length(request.headers.get("content-length"), limit)
    collector = BodyCollector(limit)
    async for chunk in request.stream():
        collector.add(chunk)
    return collector.body()


async def read_json(request: Request, limit: int) -> Any:
    """Parse a JSON request body (declared as JSON, or untyped as curl sends it)."""
    check_json_type(request.headers.get("content-type", ""))
    return parse_json(await read_body(request, limit))
