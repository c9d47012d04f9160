"""Granularities: how instants are bucketed (``all``, ``none``, simple names, periods, durations).

A granularity maps an instant to the start of its bucket (``truncate``) and a bucket start to the next
one (``increment``). ``bucket_starts`` does the same for a whole int64 column without a per-row Python
loop: arithmetic for UTC fixed-length periods, numpy calendar units for UTC months and years, and for
zoned or origin-shifted calendar periods a search over the (few) bucket boundaries spanning the data.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from grove.common.intervals import Interval
from grove.common.period import Period
from grove.common.time import (
    MAX_INSTANT,
    MIN_INSTANT,
    format_timestamp,
    from_datetime,
    is_utc,
    parse_timestamp,
    to_datetime,
    zone,
)
from grove.errors import InvalidInput

SIMPLE_GRANULARITIES: dict[str, str] = {
    "second": "PT1S",
    "minute": "PT1M",
    "five_minute": "PT5M",
    "ten_minute": "PT10M",
    "fifteen_minute": "PT15M",
    "thirty_minute": "PT30M",
    "hour": "PT1H",
    "six_hour": "PT6H",
    "eight_hour": "PT8H",
    "day": "P1D",
    "week": "P1W",
    "month": "P1M",
    "quarter": "P3M",
    "year": "P1Y",
}

_MONDAY_BEFORE_EPOCH = -3 * 86_400_000  # 1969-12-29, so weeks start on Monday as in Druid


class Granularity(ABC):
    """How instants fall into buckets; immutable and hashable."""

    tz: ZoneInfo | timezone = UTC

    @abstractmethod
    def truncate(self, ms: int) -> int:
        """Start of the bucket holding ``ms``."""

    @abstractmethod
    def increment(self, ms: int) -> int:
        """Start of the bucket after the one starting at ``ms``."""

    @abstractmethod
    def to_json(self) -> Any:
        """Druid's JSON form of this granularity."""

    def bucket_starts(self, times: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`truncate` over an int64 array."""
        times = np.asarray(times, dtype=np.int64)
        if times.size == 0:
            return times.copy()
        # Walk only the buckets that hold data: a sparse column spanning years at a fine zoned
        # granularity must not enumerate every empty bucket in between.
        distinct = np.unique(times)
        starts = []
        i = 0
        while i < len(distinct):
            start = self.truncate(int(distinct[i]))
            starts.append(start)
            i = int(np.searchsorted(distinct, self.increment(start), side="left"))
        occupied = np.asarray(starts, dtype=np.int64)
        return occupied[np.searchsorted(occupied, times, side="right") - 1]

    def boundaries(self, lo: int, hi: int) -> np.ndarray:
        """Sorted bucket starts from the bucket of ``lo`` through the bucket of ``hi``."""
        out = []
        b = self.truncate(lo)
        while b <= hi:
            out.append(b)
            b = self.increment(b)
        return np.asarray(out, dtype=np.int64)

    def iterate(self, interval: Interval) -> Iterator[Interval]:
        """Whole buckets overlapping ``interval``, in order."""
        if interval.is_empty():
            return
        b = self.truncate(interval.start)
        while b < interval.end:
            nxt = self.increment(b)
            yield Interval(b, nxt)
            b = nxt

    def is_aligned(self, interval: Interval) -> bool:
        return self.truncate(interval.start) == interval.start and self.truncate(interval.end) == interval.end

    def _identity(self) -> str:
        """The JSON form as text, worked out once (granularities do not change): what equality and
        hashing compare, often, as keys of values kept per segment and granularity."""
        found: str | None = self.__dict__.get("_identity_text")
        if found is None:
            found = self.__dict__["_identity_text"] = str(self.to_json())
        return found

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Granularity)
            and type(other) is type(self)
            and self._identity() == other._identity()
        )

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return f"Granularity({self.to_json()!r})"

    @staticmethod
    def parse(spec: Any, path: str = "granularity") -> Granularity:
        """Parse Druid's granularity JSON: a name, ``{"type": "period"|"duration"|"all"|"none", ...}``."""
        if isinstance(spec, Granularity):
            return spec
        if isinstance(spec, str):
            name = spec.lower()
            if name == "all":
                return AllGranularity()
            if name == "none":
                return NoneGranularity()
            if name in SIMPLE_GRANULARITIES:
                return PeriodGranularity(Period.parse(SIMPLE_GRANULARITIES[name]), name=name)
            if spec.upper().startswith("P"):
                return PeriodGranularity(_period(spec, path))
            raise InvalidInput(f"Unknown granularity [{spec}] in {path}", path)
        if isinstance(spec, dict):
            kind = spec.get("type")
            if not isinstance(kind, str):
                raise InvalidInput(f"Missing granularity type in {path}.type", f"{path}.type")
            kind = kind.lower()
            if kind in ("all", "none") or kind in SIMPLE_GRANULARITIES:
                return Granularity.parse(kind, path)
            origin = spec.get("origin")
            origin_ms = _origin(origin, path) if origin is not None else None
            if kind == "period":
                tz = _zone(spec["timeZone"], path) if spec.get("timeZone") else UTC
                if "period" not in spec:
                    raise InvalidInput(f"Missing field [period] in {path}.period", f"{path}.period")
                return PeriodGranularity(
                    _period(spec["period"], path), tz, origin_ms, tz_name=spec.get("timeZone")
                )
            if kind == "duration":
                d = spec.get("duration")
                if isinstance(d, bool) or not isinstance(d, int | float) or d <= 0:
                    raise InvalidInput(
                        f"Invalid duration in {path}.duration: a positive number of ms", f"{path}.duration"
                    )
                return DurationGranularity(int(d), origin_ms or 0)
            raise InvalidInput(
                f"Unknown granularity type [{spec.get('type')}] in {path}.type", f"{path}.type"
            )
        raise InvalidInput(f"Invalid granularity in {path}: expected a string or an object", path)


def _period(text: Any, path: str) -> Period:
    if not isinstance(text, str):
        raise InvalidInput(f"Invalid period in {path}.period", f"{path}.period")
    try:
        return Period.parse(text)
    except InvalidInput as e:
        raise InvalidInput(f"{e.message} in {path}", path) from None


def _zone(name: Any, path: str) -> ZoneInfo | timezone:
    if not isinstance(name, str):
        raise InvalidInput(f"Invalid time zone in {path}.timeZone", f"{path}.timeZone")
    try:
        return zone(name)
    except InvalidInput as e:
        raise InvalidInput(f"{e.message} in {path}.timeZone", f"{path}.timeZone") from None


def _origin(origin: Any, path: str) -> int:
    if isinstance(origin, int) and not isinstance(origin, bool):
        return origin
    if isinstance(origin, str):
        try:
            return parse_timestamp(origin)
        except InvalidInput:
            pass
    raise InvalidInput(f"Invalid origin in {path}.origin", f"{path}.origin")


class AllGranularity(Granularity):
    """Everything in one bucket."""

    def truncate(self, ms: int) -> int:
        return MIN_INSTANT

    def increment(self, ms: int) -> int:
        return MAX_INSTANT

    def bucket_starts(self, times: np.ndarray) -> np.ndarray:
        return np.full(np.asarray(times).shape, MIN_INSTANT, dtype=np.int64)

    def iterate(self, interval: Interval) -> Iterator[Interval]:
        yield interval

    def to_json(self) -> Any:
        return "all"


class NoneGranularity(Granularity):
    """Millisecond buckets: the granularity of the index itself."""

    def truncate(self, ms: int) -> int:
        return ms

    def increment(self, ms: int) -> int:
        return ms + 1

    def bucket_starts(self, times: np.ndarray) -> np.ndarray:
        return np.asarray(times, dtype=np.int64).copy()

    def to_json(self) -> Any:
        return "none"


class DurationGranularity(Granularity):
    """Fixed-length buckets of ``duration`` ms counted from ``origin``."""

    def __init__(self, duration: int, origin: int = 0) -> None:
        self.duration = duration
        self.origin = origin

    def truncate(self, ms: int) -> int:
        return ms - (ms - self.origin) % self.duration

    def increment(self, ms: int) -> int:
        return ms + self.duration

    def bucket_starts(self, times: np.ndarray) -> np.ndarray:
        t = np.asarray(times, dtype=np.int64)
        return t - (t - self.origin) % self.duration

    def to_json(self) -> Any:
        out: dict[str, Any] = {"type": "duration", "duration": self.duration}
        if self.origin:
            out["origin"] = self.origin
        return out


class PeriodGranularity(Granularity):
    """Buckets of an ISO period in a time zone, aligned to the calendar or to ``origin``.

    Without an origin, buckets align to the calendar of the zone (days at local midnight, weeks on
    Monday, quarters in January/April/July/October, hours on the local hour); with one, they are
    counted from it.
    """

    def __init__(
        self,
        period: Period,
        tz: ZoneInfo | timezone = UTC,
        origin: int | None = None,
        name: str | None = None,
        tz_name: str | None = None,
    ) -> None:
        self.period = period
        self.tz = tz
        self.origin = origin
        self.name = name
        self.tz_name = tz_name
        fixed = period.fixed_millis()
        # Fixed-length periods in UTC are plain arithmetic; weeks default to starting on Monday.
        self._fixed = fixed if fixed is not None and is_utc(tz) else None
        if origin is not None:
            self._origin = origin
        elif period.weeks and not (period.days or period.millis):
            self._origin = _MONDAY_BEFORE_EPOCH
        else:
            self._origin = 0

    def truncate(self, ms: int) -> int:
        if self._fixed is not None:
            return ms - (ms - self._origin) % self._fixed
        if self._counts_from_origin():
            return self._truncate_from_origin(ms)
        return self._truncate_calendar(ms)

    def increment(self, ms: int) -> int:
        p = self.period
        if self._fixed is not None:
            return ms + self._fixed
        if self._counts_from_origin():
            fixed = p.fixed_millis()
            if fixed is not None and not (p.weeks or p.days):
                return ms + fixed
            # Bucket n+1 is origin + (n+1) periods, not bucket n + one period: month ends clamp
            # (Jan 31 + P1M = Feb 28) and days shift across daylight saving changes.
            n, _ = self._origin_bucket(ms)
            return p.add_to(self._origin_instant(), self.tz, n + 1)
        if not (p.total_months or p.weeks or p.days):
            # Zoned sub-day buckets follow the local clock: after a daylight saving shift a bucket
            # can be longer than the period, so step until the next bucket start.
            step = ms + p.millis
            aligned = self.truncate(step)
            while aligned <= ms:
                step += p.millis
                aligned = self.truncate(step)
            return aligned
        # Re-align: a day whose local midnight does not exist starts later (at 01:00 in Sao Paulo on
        # 2018-11-04), and the next day still starts at its own midnight.
        return self._truncate_calendar(p.add_to(ms, self.tz))

    def _counts_from_origin(self) -> bool:
        """Whether buckets are counted from an origin rather than aligned to the zone's calendar."""
        if self.origin is not None:
            return True
        p = self.period
        months_only = bool(p.total_months) and not (p.weeks or p.days or p.millis)
        days_only = bool(p.weeks or p.days) and not (p.total_months or p.millis)
        divides_day = not (p.total_months or p.weeks or p.days) and 86_400_000 % p.millis == 0
        return not (months_only or days_only or divides_day)

    def bucket_starts(self, times: np.ndarray) -> np.ndarray:
        t = np.asarray(times, dtype=np.int64)
        if self._fixed is not None:
            return t - (t - self._origin) % self._fixed
        p = self.period
        if is_utc(self.tz) and self.origin is None and p.total_months and not (p.weeks or p.days or p.millis):
            months = t.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
            floored = months - months % p.total_months
            return floored.astype("datetime64[M]").astype("datetime64[ms]").astype(np.int64)
        return super().bucket_starts(t)

    def _truncate_calendar(self, ms: int) -> int:
        p = self.period
        dt = to_datetime(ms, self.tz).replace(tzinfo=None)
        if p.total_months and not (p.weeks or p.days or p.millis):
            months = dt.year * 12 + dt.month - 1
            months -= (months - 1970 * 12) % p.total_months
            local = datetime(months // 12, months % 12 + 1, 1)
        elif (p.weeks or p.days) and not (p.total_months or p.millis):
            ordinal = dt.toordinal()
            origin = _EPOCH_ORDINAL - 3 if p.weeks and not p.days else _EPOCH_ORDINAL
            ordinal -= (ordinal - origin) % (p.weeks * 7 + p.days)
            local = datetime.fromordinal(ordinal)
        elif not (p.total_months or p.weeks or p.days) and 86_400_000 % p.millis == 0:
            day = datetime(dt.year, dt.month, dt.day)
            within = (dt.hour * 3600 + dt.minute * 60 + dt.second) * 1000 + dt.microsecond // 1000
            # Keep the instant's fold: in the hour repeated when clocks go back, the bucket start
            # has the instant's own offset (as in Joda-Time), so the two repeated hours stay apart.
            local = (day + timedelta(milliseconds=within - within % p.millis)).replace(fold=dt.fold)
        else:
            return self._truncate_from_origin(ms)
        return from_datetime(local.replace(tzinfo=self.tz))

    def _origin_instant(self) -> int:
        if self.origin is not None:
            return self.origin
        return from_datetime(datetime(1970, 1, 1, tzinfo=self.tz))

    def _truncate_from_origin(self, ms: int) -> int:
        p = self.period
        fixed = p.fixed_millis()
        if fixed is not None and not (p.weeks or p.days):
            return ms - (ms - self._origin_instant()) % fixed
        return self._origin_bucket(ms)[1]

    def _origin_bucket(self, ms: int) -> tuple[int, int]:
        """``(n, start)`` of the bucket holding ``ms``: ``start`` is origin + n periods."""
        p = self.period
        origin = self._origin_instant()
        fixed = p.fixed_millis()
        # Calendar steps: estimate how many periods fit, then walk to the exact bucket.
        approx = (
            fixed
            if fixed is not None
            else p.total_months * 30 * 86_400_000 + (p.weeks * 7 + p.days) * 86_400_000 + p.millis
        )
        n = (ms - origin) // max(approx, 1)
        start = p.add_to(origin, self.tz, n)
        while start > ms:
            n -= 1
            start = p.add_to(origin, self.tz, n)
        while True:
            nxt = p.add_to(origin, self.tz, n + 1)
            if nxt > ms:
                return n, start
            n, start = n + 1, nxt

    def to_json(self) -> Any:
        if self.name is not None:
            return self.name
        out: dict[str, Any] = {"type": "period", "period": str(self.period)}
        if self.tz_name is not None:
            out["timeZone"] = self.tz_name
        elif not is_utc(self.tz):
            out["timeZone"] = str(self.tz)
        if self.origin is not None:
            out["origin"] = format_timestamp(self.origin)
        return out


_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
