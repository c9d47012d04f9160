"""ISO-8601 periods: parsing, printing and calendar arithmetic in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from grove.common.period import Period
from grove.common.time import from_datetime, parse_timestamp
from grove.errors import InvalidInput

LA = ZoneInfo("America/Los_Angeles")
HOUR = 3_600_000
DAY = 24 * HOUR


@pytest.mark.parametrize(
    ("text", "period", "printed"),
    [
        ("P1D", Period(days=1), "P1D"),
        ("PT1H", Period(millis=HOUR), "PT1H"),
        ("PT1M", Period(millis=60_000), "PT1M"),
        ("PT1S", Period(millis=1000), "PT1S"),
        ("PT1.5S", Period(millis=1500), "PT1.5S"),
        ("PT0.001S", Period(millis=1), "PT0.001S"),
        ("P1W", Period(weeks=1), "P1W"),
        ("P1M", Period(months=1), "P1M"),
        ("P3M", Period(months=3), "P3M"),
        ("P1Y", Period(years=1), "P1Y"),
        ("P1Y2M", Period(years=1, months=2), "P1Y2M"),
        ("P1DT12H", Period(days=1, millis=12 * HOUR), "P1DT12H"),
        ("PT36H", Period(millis=36 * HOUR), "PT36H"),
        ("PT1H30M", Period(millis=90 * 60_000), "PT1H30M"),
        ("PT90M", Period(millis=90 * 60_000), "PT1H30M"),
        ("P1Y2M3W4DT5H6M7.008S", Period(1, 2, 3, 4, 5 * HOUR + 6 * 60_000 + 7008), "P1Y2M3W4DT5H6M7.008S"),
        ("p1d", Period(days=1), "P1D"),
        (" PT6H ", Period(millis=6 * HOUR), "PT6H"),
        ("P0DT1H", Period(millis=HOUR), "PT1H"),
    ],
)
def test_parse_and_print(text: str, period: Period, printed: str) -> None:
    parsed = Period.parse(text)
    assert parsed == period
    assert str(parsed) == printed
    assert Period.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    "text",
    ["", "P", "PT", "1D", "P1H", "PT1D", "P-1D", "PT1.5M", "P1.5D", "P0D", "PT0S", "P1D2", "D1P", "P1DT"],
)
def test_parse_rejects_bad_periods(text: str) -> None:
    with pytest.raises(InvalidInput):
        Period.parse(text)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(InvalidInput):
        Period.parse(86400000)  # type: ignore[arg-type]


def test_fixed_millis_and_months() -> None:
    assert Period.parse("PT1H").fixed_millis() == HOUR
    assert Period.parse("P1D").fixed_millis() == DAY
    assert Period.parse("P2W").fixed_millis() == 14 * DAY
    assert Period.parse("P1DT1H").fixed_millis() == DAY + HOUR
    assert Period.parse("P1M").fixed_millis() is None
    assert Period.parse("P1Y").total_months == 12
    assert Period.parse("P1Y3M").total_months == 15
    assert Period.parse("P1D").is_zero() is False and Period().is_zero()


def utc(*args: int) -> int:
    return from_datetime(datetime(*args, tzinfo=UTC))


def test_add_to_in_utc() -> None:
    base = utc(2015, 9, 12)
    assert Period.parse("P1D").add_to(base) == base + DAY
    assert Period.parse("PT1H").add_to(base, times=5) == base + 5 * HOUR
    assert Period.parse("P1W").add_to(base, times=-1) == base - 7 * DAY
    assert Period.parse("P1M").add_to(base) == utc(2015, 10, 12)
    assert Period.parse("P1Y2M").add_to(base) == utc(2016, 11, 12)
    assert Period.parse("P1M").add_to(base, times=-9) == utc(2014, 12, 12)
    assert Period.parse("P1DT12H").add_to(base, times=2) == base + 3 * DAY
    assert Period.parse("P1M").add_to(utc(1969, 12, 15), times=1) == utc(1970, 1, 15)
    assert Period.parse("P1M").add_to(utc(1970, 1, 15), times=-1) == utc(1969, 12, 15)


def test_months_clamp_to_the_end_of_the_month() -> None:
    assert Period.parse("P1M").add_to(utc(2015, 1, 31)) == utc(2015, 2, 28)
    assert Period.parse("P1M").add_to(utc(2016, 1, 31)) == utc(2016, 2, 29)
    assert Period.parse("P1M").add_to(utc(2015, 1, 31), times=3) == utc(2015, 4, 30)
    assert Period.parse("P1Y").add_to(utc(2016, 2, 29)) == utc(2017, 2, 28)
    assert Period.parse("P1M").add_to(utc(2015, 3, 31, 10, 30), times=-1) == utc(2015, 2, 28, 10, 30)


def test_calendar_days_follow_the_local_clock_across_dst() -> None:
    # 2015-03-08 is 23 hours long in Los Angeles, 2015-11-01 is 25 hours long.
    spring = parse_timestamp("2015-03-08", LA)
    fall = parse_timestamp("2015-11-01", LA)
    assert Period.parse("P1D").add_to(spring, LA) - spring == 23 * HOUR
    assert Period.parse("P1D").add_to(fall, LA) - fall == 25 * HOUR
    assert Period.parse("P1D").add_to(spring, LA) == parse_timestamp("2015-03-09", LA)
    assert Period.parse("P1W").add_to(spring, LA) == parse_timestamp("2015-03-15", LA)
    assert Period.parse("P1M").add_to(parse_timestamp("2015-10-15", LA), LA) == parse_timestamp(
        "2015-11-15", LA
    )
    # Hours are exact durations, as in Joda-Time.
    assert Period.parse("PT24H").add_to(spring, LA) - spring == 24 * HOUR
    assert Period.parse("P1DT1H").add_to(fall, LA) - fall == 26 * HOUR
    # In UTC every day is 24 hours.
    assert Period.parse("P1D").add_to(spring) - spring == DAY
