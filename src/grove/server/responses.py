"""JSON responses written with orjson (fast, and NaN-safe)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from grove.common.jsonout import dumps


def json_response(
    value: Any, *, status: int = 200, pretty: bool = False, headers: dict[str, str] | None = None
) -> Response:
    body = dumps(value, orjson.OPT_INDENT_2 if pretty else 0)
    return Response(body, status_code=status, media_type="application/json", headers=headers)
