"""Joda-Time date patterns (``yyyy-MM-dd'T'HH:mm:ss.SSSZ``), as Druid uses them, in Python terms.

Druid's timestampSpec formats, timeFormat extraction functions and TIME_FORMAT/TIME_PARSE take
Joda-Time patterns. :func:`joda_to_strftime` translates the common letters; letters without a
strftime counterpart raise InvalidInput naming the pattern.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from grove.common.time import to_datetime
from grove.errors import InvalidInput

# Joda letter runs and their strftime forms. "S" runs are fractions of a second (handled specially).
_LETTERS: dict[str, str] = {
    "yyyy": "%Y",
    "YYYY": "%Y",
    "uuuu": "%Y",
    "xxxx": "%G",
    "yy": "%y",
    "YY": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%-m",
    "dd": "%d",
    "d": "%-d",
    "DDD": "%j",
    "HH": "%H",
    "H": "%-H",
    "kk": "%H",
    "hh": "%I",
    "h": "%-I",
    "mm": "%M",
    "m": "%-M",
    "ss": "%S",
    "s": "%-S",
    "a": "%p",
    "EEEE": "%A",
    "EEE": "%a",
    "E": "%a",
    "ZZ": "%:z",
    "Z": "%z",
    "z": "%Z",
    "zzzz": "%Z",
    "ww": "%V",
    "e": "%u",
}


@lru_cache(maxsize=256)
def joda_to_strftime(pattern: str) -> str:
    """Translate a Joda pattern to strftime.

    A run of n ``S`` (fraction of second) becomes a marker that :func:`format_instant` expands to n
    digits; :func:`parse_format` turns it into ``%f``.
    """
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:
                out.append("'")
                i += 2
                continue
            if end < 0:
                raise InvalidInput(f"Invalid date pattern [{pattern}]: unterminated quote")
            out.append(pattern[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        if ch.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == ch:
                j += 1
            run = pattern[i:j]
            if ch == "S":
                out.append(f"\x01{len(run)}\x01")
            elif run in _LETTERS:
                out.append(_LETTERS[run])
            elif ch in "yYu" and len(run) >= 3:
                out.append("%Y")
            elif ch == "M" and len(run) > 4:
                out.append("%B")
            elif ch == "E" and len(run) > 4:
                out.append("%A")
            elif ch == "Z" and len(run) > 2:
                out.append("%:z")
            else:
                raise InvalidInput(f"Unsupported date pattern letters [{run}] in [{pattern}]")
            i = j
            continue
        out.append("%%" if ch == "%" else ch)
        i += 1
    return "".join(out)


def format_instant(dt: datetime, fmt: str) -> str:
    """``dt.strftime(fmt)`` with Joda fraction-of-second markers expanded."""
    text = dt.strftime(fmt)
    if "\x01" in text:
        millis = f"{dt.microsecond // 1000:03d}"
        for n in range(1, 10):
            text = text.replace(f"\x01{n}\x01", millis[:n].ljust(n, "0"))
    return text


def format_millis(values: Sequence[int], pattern: str, tz: ZoneInfo | timezone = UTC) -> list[str]:
    """Format epoch millis with a Joda pattern in ``tz`` (computed once per distinct value)."""
    fmt = joda_to_strftime(pattern)
    cache: dict[int, str] = {}
    out = []
    for v in values:
        text = cache.get(v)
        if text is None:
            text = cache[v] = format_instant(to_datetime(v, tz), fmt)
        out.append(text)
    return out


def parse_format(pattern: str) -> str:
    """A strptime format for a Joda pattern (fractions of any length read by ``%f``)."""
    fmt = joda_to_strftime(pattern)
    for n in range(1, 10):
        fmt = fmt.replace(f"\x01{n}\x01", "%f")
    return fmt.replace("%-", "%").replace("%:z", "%z")
