"""Instants as milliseconds since the epoch (UTC), and their ISO-8601 text forms.

grove keeps every instant as an int64 count of milliseconds, like Druid. Text forms are ISO-8601 with
millisecond precision; instants without a zone are UTC. ``MIN_INSTANT``/``MAX_INSTANT`` bound Druid's
eternity interval and print the way Druid prints them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from grove.errors import InvalidInput

MIN_INSTANT = -4611686018427387904  # Long.MIN_VALUE / 2, Druid's start of eternity
MAX_INSTANT = 4611686018427387903  # Long.MAX_VALUE / 2, Druid's end of eternity
MIN_INSTANT_TEXT = "-146136543-09-08T08:23:32.096Z"
MAX_INSTANT_TEXT = "146140482-04-24T15:36:27.903Z"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ISO_RE = re.compile(
    r"^(?P<year>[+-]?\d{4,})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?"
    r"(?:[T ](?P<hour>\d{2})(?::?(?P<minute>\d{2})(?::?(?P<second>\d{2})(?:[.,](?P<frac>\d+))?)?)?)?"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$"
)


@lru_cache(maxsize=256)
def zone(name: str | None) -> ZoneInfo | timezone:
    """The time zone called ``name`` (IANA name or a fixed offset like ``+05:30``); UTC when None."""
    if name is None or name in ("UTC", "Z", "Etc/UTC", "GMT"):
        return UTC
    m = re.fullmatch(r"([+-])(\d{2})(?::?(\d{2}))?", name)
    if m:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 23 or minutes > 59:
            raise InvalidInput(f"Unknown time zone [{name}]")
        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown time zone [{name}]") from None


def is_utc(tz: ZoneInfo | timezone) -> bool:
    return tz is UTC or (isinstance(tz, timezone) and tz.utcoffset(None) == timedelta(0))


def to_datetime(ms: int, tz: ZoneInfo | timezone = UTC) -> datetime:
    return (_EPOCH + timedelta(milliseconds=ms)).astimezone(tz)


def from_datetime(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def parse_timestamp(text: str, tz: ZoneInfo | timezone = UTC) -> int:
    """Parse an ISO-8601 instant (date, date-time, optional fraction and offset) to epoch millis.

    Instants without an offset are read in ``tz`` (UTC by default). Raises InvalidInput otherwise.
    """
    text = text.strip()
    if text == MIN_INSTANT_TEXT:
        return MIN_INSTANT
    if text == MAX_INSTANT_TEXT:
        return MAX_INSTANT
    m = _ISO_RE.match(text)
    if not m:
        raise InvalidInput(f"Invalid timestamp [{text}]")
    try:
        year = int(m.group("year"))
        frac = (m.group("frac") or "0")[:6].ljust(6, "0")
        if not 1 <= year <= 9999:
            raise ValueError
        dt = datetime(
            year,
            int(m.group("month") or 1),
            int(m.group("day") or 1),
            int(m.group("hour") or 0),
            int(m.group("minute") or 0),
            int(m.group("second") or 0),
            int(frac),
        )
    except ValueError:
        raise InvalidInput(f"Invalid timestamp [{text}]") from None
    offset = m.group("tz")
    if offset is None:
        return from_datetime(dt.replace(tzinfo=tz))
    return from_datetime(dt.replace(tzinfo=zone(offset)))


def format_timestamp(ms: int, tz: ZoneInfo | timezone = UTC) -> str:
    """ISO-8601 with milliseconds: ``2015-09-12T00:00:00.000Z``, or with the zone's offset."""
    if ms <= MIN_INSTANT:
        return MIN_INSTANT_TEXT
    if ms >= MAX_INSTANT:
        return MAX_INSTANT_TEXT
    if is_utc(tz):
        return str(np.datetime64(ms, "ms")) + "Z"
    dt = to_datetime(ms, tz)
    text = dt.isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_FEW_TIMESTAMPS = 16
_format_remembered = lru_cache(maxsize=8192)(format_timestamp)


def format_timestamps(ms: np.ndarray, tz: ZoneInfo | timezone = UTC) -> list[str]:
    """Vectorised :func:`format_timestamp` for an int64 array: each distinct instant is formatted
    once (results repeat a few bucket starts many times), then spread back."""
    arr = np.asarray(ms, dtype=np.int64)
    if arr.size == 0:
        return []
    if arr.size <= _FEW_TIMESTAMPS:
        # A daily report's handful of rows: one at a time costs less than the vectorised setup, and
        # reports ask for the same days again and again.
        return [_format_remembered(v, tz) for v in arr.tolist()]
    distinct, inverse = np.unique(arr, return_inverse=True)
    if is_utc(tz) and distinct[0] > MIN_INSTANT and distinct[-1] < MAX_INSTANT:
        texts = [
            t + "Z" for t in np.datetime_as_string(distinct.astype("datetime64[ms]"), unit="ms").tolist()
        ]
    else:
        texts = [format_timestamp(int(v), tz) for v in distinct.tolist()]
    if len(distinct) == len(arr) and bool((inverse == np.arange(len(arr))).all()):
        return texts
    spread: list[str] = np.array(texts, dtype=object)[inverse.reshape(-1)].tolist()
    return spread


def now_ms() -> int:
    return from_datetime(datetime.now(UTC))
