"""JSON out: orjson, with numpy values written as numbers and arrays."""

from __future__ import annotations

from typing import Any

import orjson

_BASE = orjson.OPT_SERIALIZE_NUMPY


def dumps(value: Any, option: int = 0) -> bytes:
    """``value`` as JSON bytes (``option``: more orjson options, such as indenting).

    Keys that are not strings are written as strings, but only when there are some: checking every
    key for that doubles the cost of writing a big answer (a 7,000-row groupBy: 0.7 ms against 1.4 ms).
    """
    try:
        return orjson.dumps(value, option=option | _BASE)
    except orjson.JSONEncodeError:
        return orjson.dumps(value, option=option | _BASE | orjson.OPT_NON_STR_KEYS)
