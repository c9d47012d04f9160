"""Calendar arithmetic, time zone offsets and Joda-Time patterns, vectorised over epoch milliseconds.

Calendar fields come from integer arithmetic on whole numpy arrays (days-from-civil and back) after
shifting each instant by its zone's UTC offset. Offsets come from the zone's transitions found over the
span of the data, so a time zone costs a few Python calls per daylight saving change, not per row.
Joda-Time patterns (Druid's ``timestamp_format``/``timestamp_parse``) are translated token by token:
formatting assembles each field as a string column, parsing matches one regular expression with a named
group per field (pyarrow's RE2) and assembles the instants with numpy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grove.common.time import is_utc, to_datetime
from grove.errors import InvalidInput, Unsupported
from grove.query.expression.values import broadcast

Zone = ZoneInfo | timezone
DAY = 86_400_000

# Zones and calendar arithmetic


@lru_cache(maxsize=65536)
def _offset_at(tz: Zone, ms: int) -> int:
    offset = to_datetime(ms, tz).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() * 1000)


def utc_offsets(ms: np.ndarray, tz: Zone) -> np.ndarray:
    """The zone's UTC offset in milliseconds at each instant."""
    if is_utc(tz) or ms.size == 0:
        return np.zeros(ms.shape, dtype=np.int64)
    if isinstance(tz, timezone):
        return np.full(ms.shape, _offset_at(tz, 0), dtype=np.int64)
    lo, hi = int(ms.min()), int(ms.max())
    if (hi - lo) // DAY > 150_000:
        unique, inverse = np.unique(ms, return_inverse=True)
        return np.array([_offset_at(tz, int(v)) for v in unique], dtype=np.int64)[inverse.reshape(-1)]
    # Zones change offset at most once a day: sample daily, then find each change to the millisecond.
    samples = list(range(lo - lo % DAY - DAY, hi + 2 * DAY, DAY))
    starts = [samples[0]]
    offsets = [_offset_at(tz, samples[0])]
    for a, b in pairwise(samples):
        after = _offset_at(tz, b)
        if after != offsets[-1]:
            while b - a > 1:
                mid = (a + b) // 2
                if _offset_at(tz, mid) == offsets[-1]:
                    a = mid
                else:
                    b = mid
            starts.append(b)
            offsets.append(after)
    segment = np.searchsorted(np.array(starts, dtype=np.int64), ms, side="right") - 1
    return np.array(offsets, dtype=np.int64)[segment]


def local_to_utc(local: np.ndarray, tz: Zone) -> tuple[np.ndarray, np.ndarray]:
    """UTC instants for local wall-clock times in ``tz``, and whether each local time exists.

    As in Joda, a repeated local time (the end of daylight saving) takes the earlier instant, and a
    local time skipped by a change (a gap) does not exist.
    """
    if is_utc(tz) or local.size == 0:
        return local, np.ones(local.shape, dtype=bool)
    guess = local - utc_offsets(local, tz)
    offsets = utc_offsets(guess, tz)
    utc = local - offsets
    return utc, utc_offsets(utc, tz) == offsets


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01 in the proleptic Gregorian calendar."""
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    nxt_year = np.where(month == 12, year + 1, year)
    nxt_month = np.where(month == 12, 1, month + 1)
    return days_from_civil(nxt_year, nxt_month, np.ones_like(month)) - days_from_civil(
        year, month, np.ones_like(month)
    )


class Fields:
    """Calendar fields of local times, computed on demand from local epoch milliseconds."""

    def __init__(self, local: np.ndarray) -> None:
        self.local = local
        self.days = np.floor_divide(local, DAY)
        self.ms_of_day = local - self.days * DAY
        self.year, self.month, self.day = civil_from_days(self.days)
        self.hour = self.ms_of_day // 3_600_000
        self.minute = self.ms_of_day // 60_000 % 60
        self.second = self.ms_of_day // 1000 % 60
        self.millis = self.ms_of_day % 1000
        self.dow = (self.days + 3) % 7 + 1  # ISO: Monday is 1; 1970-01-01 was a Thursday
        ones = np.ones_like(self.month)
        self.doy = self.days - days_from_civil(self.year, ones, ones) + 1

    def week(self) -> tuple[np.ndarray, np.ndarray]:
        """(week-based year, ISO week number): the week holding a Thursday belongs to that year."""
        thursday = self.days - (self.dow - 1) + 3
        week_year, _, _ = civil_from_days(thursday)
        ones = np.ones_like(week_year)
        return week_year, (thursday - days_from_civil(week_year, ones, ones)) // 7 + 1


def add_months(ms: np.ndarray, months: Any) -> np.ndarray:
    """UTC instants plus a number of months, clamping the day to the month's end as Joda does."""
    fields = Fields(ms)
    total = fields.year * 12 + (fields.month - 1) + months
    year, month = np.floor_divide(total, 12), total % 12 + 1
    day = np.minimum(fields.day, days_in_month(year, month))
    return days_from_civil(year, month, day) * DAY + fields.ms_of_day


# ---------------------------------------------------------------------------------------------------------
# Joda-Time patterns

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_PATTERN_LETTERS = set("GCYxwweEyDMdaKhHkmsSzZ")


@lru_cache(maxsize=256)
def joda_tokens(pattern: str) -> tuple[tuple[str, int | str], ...]:
    """A Joda DateTimeFormat pattern as (letter, count) fields and ("'", text) literals."""
    tokens: list[tuple[str, int | str]] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = i + 1
            text = []
            while end < len(pattern):
                if pattern[end] == "'":
                    if pattern[end + 1 : end + 2] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            tokens.append(("'", "".join(text) if end > i + 1 or text else "'"))
            i = end + 1
        elif ch.isascii() and ch.isalpha():
            if ch not in _PATTERN_LETTERS:
                raise InvalidInput(f"Unknown time pattern letter [{ch}]")
            count = 1
            while i + count < len(pattern) and pattern[i + count] == ch:
                count += 1
            tokens.append((ch, count))
            i += count
        else:
            tokens.append(("'", ch))
            i += 1
    return tuple(tokens)


def _pad(values: np.ndarray, width: int) -> pa.Array:
    text = pc.cast(pa.array(np.abs(values)), pa.string())
    padded = pc.utf8_lpad(text, width=width, padding="0") if width > 1 else text
    negative = pa.array(values < 0)
    return pc.if_else(negative, pc.binary_join_element_wise("-", padded, ""), padded)


def _names(index: np.ndarray, names: Sequence[str]) -> pa.Array:
    return pc.take(pa.array(list(names)), pa.array(index))


def _offset_text(offsets: np.ndarray, colon: bool, zero: str | None) -> pa.Array:
    minutes = np.abs(offsets) // 60_000
    sign = pa.array(np.where(offsets < 0, "-", "+"))
    parts = [sign, _pad(minutes // 60, 2)] + ([pa.scalar(":")] if colon else []) + [_pad(minutes % 60, 2)]
    text = pc.binary_join_element_wise(*parts, "")
    return text if zero is None else pc.if_else(pa.array(offsets == 0), zero, text)


def format_millis(ms: np.ndarray, pattern: str | None, tz: Zone) -> pa.Array:
    """Format UTC instants in ``tz`` with a Joda pattern, or as ISO-8601 (Joda's dateTime()) when None."""
    offsets = utc_offsets(ms, tz)
    f = Fields(ms + offsets)
    if pattern is None:
        tokens: tuple[tuple[str, int | str], ...] = (
            *joda_tokens("yyyy-MM-dd'T'HH:mm:ss.SSS"),
            ("ISO", 0),
        )
    else:
        tokens = joda_tokens(pattern)
    parts: list[Any] = []
    for letter, count in tokens:
        if letter == "'":
            parts.append(pa.scalar(count))
            continue
        n = int(count)
        if letter == "ISO":
            parts.append(_offset_text(offsets, True, "Z"))
        elif letter in "yY":
            parts.append(_pad(f.year % 100, 2) if n == 2 else _pad(f.year, n))
        elif letter == "x":
            week_year, _ = f.week()
            parts.append(_pad(week_year % 100, 2) if n == 2 else _pad(week_year, n))
        elif letter == "w":
            parts.append(_pad(f.week()[1], n))
        elif letter == "M":
            parts.append(
                _pad(f.month, n)
                if n < 3
                else _names(f.month - 1, [m[:3] for m in _MONTHS] if n == 3 else _MONTHS)
            )
        elif letter == "E":
            parts.append(_names(f.dow - 1, [d[:3] for d in _DAYS] if n <= 3 else _DAYS))
        elif letter == "S":
            fraction = f.millis * 10 ** (n - 3) if n >= 3 else f.millis // 10 ** (3 - n)
            parts.append(_pad(fraction, n))
        elif letter == "a":
            parts.append(_names((f.hour >= 12).astype(np.int64), ["AM", "PM"]))
        elif letter == "G":
            parts.append(_names((f.year > 0).astype(np.int64), ["BC", "AD"]))
        elif letter == "Z":
            if n >= 3:
                parts.append(
                    pa.scalar(getattr(tz, "key", "UTC") if not isinstance(tz, timezone) else _fixed_id(tz))
                )
            else:
                parts.append(_offset_text(offsets, n == 2, None))
        elif letter == "z":
            # Names change with the offset only: look one up per distinct offset.
            _, first, which = np.unique(offsets, return_index=True, return_inverse=True)
            names = [_zone_name(tz, int(ms[k])) for k in first]
            parts.append(pc.take(pa.array(names), pa.array(which.reshape(-1))))
        else:
            value = {
                "C": lambda: f.year // 100,
                "e": lambda: f.dow,
                "D": lambda: f.doy,
                "d": lambda: f.day,
                "H": lambda: f.hour,
                "k": lambda: np.where(f.hour == 0, 24, f.hour),
                "K": lambda: f.hour % 12,
                "h": lambda: np.where(f.hour % 12 == 0, 12, f.hour % 12),
                "m": lambda: f.minute,
                "s": lambda: f.second,
            }[letter]()
            parts.append(_pad(value, n))
    if not parts:
        return broadcast(pa.scalar(""), len(ms))
    if len(parts) == 1:
        return broadcast(parts[0], len(ms))
    return pc.binary_join_element_wise(*parts, "")


def _fixed_id(tz: timezone) -> str:
    offset = tz.utcoffset(None) or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    return (
        "UTC"
        if minutes == 0
        else f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    )


def _zone_name(tz: Zone, ms: int) -> str:
    return to_datetime(ms, tz).tzname() or "UTC"


_NUMERIC_MAX = {"y": 9, "Y": 9, "x": 9, "C": 7, "D": 3, "S": 9, "e": 1}


@lru_cache(maxsize=256)
def _parse_regex(pattern: str) -> tuple[str, tuple[str, ...]]:
    """A regular expression with one named group per field of a Joda pattern, and the field letters."""
    tokens = joda_tokens(pattern)
    out = ["^"]
    letters: list[str] = []
    for i, (letter, count) in enumerate(tokens):
        if letter == "'":
            out.append(re.escape(str(count)))
            continue
        n = int(count)
        if letter in "zwxG" or (letter == "Z" and n >= 3):
            raise Unsupported(f"Parsing the time pattern letter [{letter}] is not supported")
        group = f"f{i}"
        following = tokens[i + 1][0] if i + 1 < len(tokens) else "'"
        numeric = letter not in "EaZ" and not (letter == "M" and n >= 3)
        if letter == "M" and n >= 3:
            names = "|".join([*_MONTHS, *(m[:3] for m in _MONTHS)])
            out.append(f"(?P<{group}>(?i:{names}))")
        elif letter == "E":
            names = "|".join([*_DAYS, *(d[:3] for d in _DAYS)])
            out.append(f"(?P<{group}>(?i:{names}))")
        elif letter == "a":
            out.append(f"(?P<{group}>(?i:AM|PM))")
        elif letter == "Z":
            out.append(f"(?P<{group}>Z|[+-][0-9]{{2}}:?[0-9]{{2}})")
        elif (
            numeric
            and following not in ("'", "E", "a", "Z")
            and not (following == "M" and int(tokens[i + 1][1]) >= 3)
        ):
            sign = "[+-]?" if letter in "yY" else ""
            out.append(f"(?P<{group}>{sign}[0-9]{{{n}}})")
        else:
            sign = "[+-]?" if letter in "yY" else ""
            out.append(f"(?P<{group}>{sign}[0-9]{{1,{max(n, _NUMERIC_MAX.get(letter, 2))}}})")
        if letter in "yY" and n == 2:
            letters.append("y2")
        elif letter == "M" and n >= 3:
            letters.append("Mtext")
        else:
            letters.append(letter)
    out.append("$")
    return "".join(out), tuple(letters)


def _ints(struct: Any, field: str) -> tuple[np.ndarray, np.ndarray]:
    text = pc.struct_field(struct, field)
    present = pc.fill_null(pc.greater(pc.utf8_length(text), 0), False).to_numpy(zero_copy_only=False)
    numbers = pc.cast(pc.if_else(pa.array(present), text, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    return numbers, present


def parse_with_pattern(strings: pa.Array, pattern: str, tz: Zone) -> pa.Array:
    """Parse strings with a Joda pattern into epoch millis; null where a string does not match."""
    regex, letters = _parse_regex(pattern)
    struct = pc.extract_regex(strings, regex)
    n = len(strings)
    ok = pc.is_valid(struct).to_numpy(zero_copy_only=False)
    zeros = np.zeros(n, dtype=np.int64)
    year, month, day, hour, minute, second, millis = (
        zeros + 1970,
        zeros + 1,
        zeros + 1,
        zeros,
        zeros,
        zeros,
        zeros,
    )
    doy: np.ndarray | None = None
    pm: np.ndarray | None = None
    twelve_hour = False
    offset: np.ndarray | None = None
    names = [struct.type.field(k).name for k in range(struct.type.num_fields)]
    for name, letter in zip(names, letters, strict=True):
        text = pc.struct_field(struct, name)
        if letter == "Mtext":
            lowered = pc.utf8_slice_codeunits(pc.utf8_lower(text), 0, 3)
            month = (
                pc.fill_null(pc.index_in(lowered, pa.array([m[:3].lower() for m in _MONTHS])), 0).to_numpy(
                    zero_copy_only=False
                )
                + 1
            )
            continue
        if letter == "E":
            continue
        if letter == "a":
            pm = pc.fill_null(pc.equal(pc.utf8_upper(text), "PM"), False).to_numpy(zero_copy_only=False)
            continue
        if letter == "Z":
            offset = _parse_offsets(text)
            continue
        values, _ = _ints(struct, name)
        if letter == "y2":
            pivot = datetime.now(UTC).year - 30 - 50
            year = pivot + (values - pivot) % 100
        elif letter in "yY":
            year = values
        elif letter == "C":
            year = values * 100 + year % 100
        elif letter == "M":
            month = values
        elif letter == "d":
            day = values
        elif letter == "D":
            doy = values
        elif letter in "Hk":
            hour = np.where((letter == "k") & (values == 24), 0, values)
        elif letter in "Kh":
            hour = np.where((letter == "h") & (values == 12), 0, values)
            twelve_hour = True
        elif letter == "m":
            minute = values
        elif letter == "s":
            second = values
        elif letter == "S":
            digits = pc.fill_null(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False)
            millis = np.where(
                digits >= 3,
                values // 10 ** np.maximum(digits - 3, 0),
                values * 10 ** np.maximum(3 - digits, 0),
            )
    if twelve_hour and pm is not None:
        hour = hour + np.where(pm, 12, 0)
    ok &= (month >= 1) & (month <= 12) & (hour <= 23) & (minute <= 59) & (second <= 59)
    month = np.clip(month, 1, 12)
    if doy is not None:
        ones = np.ones_like(year)
        days = days_from_civil(year, ones, ones) + doy - 1
        ok &= (doy >= 1) & (doy <= days_from_civil(year + 1, ones, ones) - days_from_civil(year, ones, ones))
    else:
        ok &= (day >= 1) & (day <= days_in_month(year, month))
        days = days_from_civil(year, month, day)
    local = days * DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis
    if offset is not None:
        utc = local - offset
    else:
        utc, exists = local_to_utc(local, tz)
        ok &= exists
    return pa.array(np.where(ok, utc, 0), pa.int64(), mask=~ok)


def _parse_offsets(text: Any) -> np.ndarray:
    cleaned = pc.replace_substring(pc.fill_null(text, "Z"), ":", "")
    zulu = pc.equal(cleaned, "Z").to_numpy(zero_copy_only=False)
    digits = pc.if_else(pa.array(zulu), "+0000", cleaned)
    sign = np.where(pc.starts_with(digits, "-").to_numpy(zero_copy_only=False), -1, 1)
    hours = pc.cast(pc.utf8_slice_codeunits(digits, 1, 3), pa.int64()).to_numpy(zero_copy_only=False)
    minutes = pc.cast(pc.utf8_slice_codeunits(digits, 3, 5), pa.int64()).to_numpy(zero_copy_only=False)
    return sign * (hours * 3_600_000 + minutes * 60_000)


_ISO = (
    r"^(?P<y>[+-]?[0-9]{4,9})(?:-(?P<mo>[0-9]{1,2})(?:-(?P<d>[0-9]{1,2}))?)?"
    r"(?:SEP(?:(?P<h>[0-9]{1,2})(?::(?P<mi>[0-9]{1,2})(?::(?P<s>[0-9]{1,2})(?:[.,](?P<f>[0-9]{1,9}))?)?)?)?"
    r"(?P<z>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$"
)


def parse_iso(strings: pa.Array, tz: Zone, space: bool) -> pa.Array:
    """Parse ISO-8601 date[-time][offset] strings (also with a space before the time when ``space``)."""
    regex = _ISO.replace("SEP", "[T ]" if space else "T")
    struct = pc.extract_regex(strings, regex)
    ok = pc.is_valid(struct).to_numpy(zero_copy_only=False)
    year, _ = _ints(struct, "y")
    parts = {}
    for name, default in (("mo", 1), ("d", 1), ("h", 0), ("mi", 0), ("s", 0)):
        values, present = _ints(struct, name)
        parts[name] = np.where(present, values, default)
    fraction = pc.struct_field(struct, "f")
    digits = pc.fill_null(pc.utf8_length(fraction), 0).to_numpy(zero_copy_only=False)
    first3 = pc.utf8_rpad(pc.utf8_slice_codeunits(pc.fill_null(fraction, ""), 0, 3), width=3, padding="0")
    millis = pc.cast(first3, pa.int64()).to_numpy(zero_copy_only=False) * (digits > 0)
    month, day = parts["mo"], parts["d"]
    ok &= (month >= 1) & (month <= 12) & (parts["h"] <= 23) & (parts["mi"] <= 59) & (parts["s"] <= 59)
    month = np.clip(month, 1, 12)
    ok &= (day >= 1) & (day <= days_in_month(year, month))
    local = days_from_civil(year, month, day) * DAY + parts["h"] * 3_600_000 + parts["mi"] * 60_000
    local = local + parts["s"] * 1000 + millis
    zone_text = pc.struct_field(struct, "z")
    has_zone = pc.fill_null(pc.greater(pc.utf8_length(zone_text), 0), False).to_numpy(zero_copy_only=False)
    # "+05" means "+05:00"; "Z" and a missing offset are both read as zero here.
    padded = pc.if_else(pc.equal(zone_text, "Z"), "Z", pc.utf8_rpad(zone_text, width=5, padding="0"))
    fixed = _parse_offsets(pc.if_else(pa.array(has_zone), padded, "Z"))
    zoned, exists = local_to_utc(local, tz)
    utc = np.where(has_zone, local - fixed, zoned)
    ok &= has_zone | exists
    return pa.array(np.where(ok, utc, 0), pa.int64(), mask=~ok)
