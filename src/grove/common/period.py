"""ISO-8601 periods (``P1D``, ``PT1H``, ``P1Y2M``, ``P1W``) and their calendar arithmetic.

Years, months, weeks and days are calendar fields applied in a time zone (so ``P1D`` across a daylight
saving change is one local day); hours, minutes and seconds are exact durations, as in Joda-Time.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from grove.common.time import from_datetime, to_datetime
from grove.errors import InvalidInput

_PERIOD_RE = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d{1,3})?)S)?)?$"
)


@dataclass(frozen=True, slots=True)
class Period:
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    millis: int = 0  # hours, minutes and seconds folded into exact milliseconds

    @staticmethod
    def parse(text: str) -> Period:
        m = _PERIOD_RE.match(text.strip().upper()) if isinstance(text, str) else None
        if not m or text.strip().upper() in ("P", "PT"):
            raise InvalidInput(f"Invalid period [{text}]")
        g = {k: v for k, v in m.groupdict().items() if v is not None}
        millis = (
            int(g.get("hours", 0)) * 3_600_000
            + int(g.get("minutes", 0)) * 60_000
            + round(float(g.get("seconds", 0)) * 1000)
        )
        p = Period(
            int(g.get("years", 0)),
            int(g.get("months", 0)),
            int(g.get("weeks", 0)),
            int(g.get("days", 0)),
            millis,
        )
        if p.is_zero():
            raise InvalidInput(f"Invalid period [{text}]: it must not be empty")
        return p

    def is_zero(self) -> bool:
        return not (self.years or self.months or self.weeks or self.days or self.millis)

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    def fixed_millis(self) -> int | None:
        """The exact length in ms when the period has no calendar months or years, else None.

        Days and weeks count as 24h and 7×24h: exact only in a zone without daylight saving changes.
        """
        if self.total_months:
            return None
        return (self.weeks * 7 + self.days) * 86_400_000 + self.millis

    def add_to(self, ms: int, tz: ZoneInfo | timezone = UTC, times: int = 1) -> int:
        """``ms`` plus ``times`` × this period, calendar fields taken in ``tz``."""
        if not (self.total_months or self.weeks or self.days):
            return ms + times * self.millis
        dt = to_datetime(ms, tz).replace(tzinfo=None)
        months = self.total_months * times
        if months:
            dt = _add_months(dt, months)
        days = (self.weeks * 7 + self.days) * times
        if days:
            dt = dt + timedelta(days=days)
        return from_datetime(dt.replace(tzinfo=tz)) + self.millis * times

    def __str__(self) -> str:
        out = "P"
        if self.years:
            out += f"{self.years}Y"
        if self.months:
            out += f"{self.months}M"
        if self.weeks:
            out += f"{self.weeks}W"
        if self.days:
            out += f"{self.days}D"
        if self.millis:
            out += "T"
            h, rest = divmod(self.millis, 3_600_000)
            mi, rest = divmod(rest, 60_000)
            if h:
                out += f"{h}H"
            if mi:
                out += f"{mi}M"
            if rest:
                out += f"{rest // 1000}S" if rest % 1000 == 0 else f"{rest / 1000:g}S"
        return out


def _add_months(dt: datetime, months: int) -> datetime:
    total = dt.year * 12 + (dt.month - 1) + months
    year, month = divmod(total, 12)
    day = min(dt.day, calendar.monthrange(year, month + 1)[1])
    return dt.replace(year=year, month=month + 1, day=day)
