"""Timestamp parsing: every timestampSpec format, bad values masked (never raised), vectorised paths agree."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pytest

from grove.errors import InvalidSpec
from grove.ingest.timestamps import check_timestamp_format, parse_timestamps


def ms(text: str) -> int:
    """Epoch millis of an ISO instant written with an explicit offset (test oracle via datetime)."""
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def parse(values: list, fmt: str, typ: pa.DataType | None = None, **kw: object) -> list[int | None]:
    """Parse and return millis, None where invalid; also checks invalid rows hold 0."""
    out, ok = parse_timestamps(pa.array(values, typ), fmt, **kw)  # type: ignore[arg-type]
    assert out.dtype == np.int64 and ok.dtype == bool and len(out) == len(values)
    assert (out[~ok] == 0).all()
    return [int(m) if v else None for m, v in zip(out, ok, strict=True)]


ISO_CASES = [
    ("2015-09-12T00:46:58.771Z", "2015-09-12T00:46:58.771+00:00"),
    ("2015-09-12T00:46:58Z", "2015-09-12T00:46:58+00:00"),
    ("2015-09-12T00:46:58.771+05:30", "2015-09-12T00:46:58.771+05:30"),
    ("2015-09-12T00:46:58-0700", "2015-09-12T00:46:58-07:00"),
    ("2015-09-12T00:46:58.123456789-07:00", "2015-09-12T00:46:58.123-07:00"),
    ("2015-09-12T00:46:58.7Z", "2015-09-12T00:46:58.700+00:00"),
    ("2015-09-12T00:46:58.77", "2015-09-12T00:46:58.770+00:00"),
    ("2015-09-12T00:46:58", "2015-09-12T00:46:58+00:00"),
    ("2015-09-12 00:46:58", "2015-09-12T00:46:58+00:00"),
    ("2015-09-12 00:46:58.5+01:00", "2015-09-12T00:46:58.500+01:00"),
    ("2015-09-12T00:46", "2015-09-12T00:46:00+00:00"),
    ("2015-09-12", "2015-09-12T00:00:00+00:00"),
    ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999+00:00"),
]


@pytest.mark.parametrize("fmt", ["iso", "auto", "ISO", "Auto"])
@pytest.mark.parametrize(("text", "expected"), ISO_CASES)
def test_iso_forms_alone(fmt: str, text: str, expected: str) -> None:
    assert parse([text], fmt) == [ms(expected)]


@pytest.mark.parametrize("fmt", ["iso", "auto"])
def test_iso_forms_mixed_in_one_array_take_the_slow_path_with_the_same_results(fmt: str) -> None:
    texts = [t for t, _ in ISO_CASES] * 3
    assert parse(texts, fmt) == [ms(e) for _, e in ISO_CASES] * 3


def test_iso_odd_forms_go_to_python_per_distinct_value() -> None:
    values = ["2015-09-12T00:46:58,5Z", '"2015-09-12"', " 2015-09-12T01:00:00Z ", "2015-09-12T0046Z"] * 1000
    got = parse(values, "iso")
    assert got[:4] == [
        ms("2015-09-12T00:46:58.500+00:00"),
        ms("2015-09-12T00:00:00+00:00"),
        ms("2015-09-12T01:00:00+00:00"),
        ms("2015-09-12T00:46:00+00:00"),
    ]
    assert got == got[:4] * 1000


def test_iso_bad_values_are_masked_not_raised() -> None:
    values = ["2015-09-12T00:00:00Z", "garbage", "", None, "2015-02-30", "2015-13-01", "2015-09-12T25:00:00Z"]
    assert parse(values, "iso") == [ms("2015-09-12T00:00:00+00:00"), None, None, None, None, None, None]


def test_iso_does_not_take_millis_but_auto_does() -> None:
    assert parse(["1442018818771"], "iso") == [None]
    assert parse(["1442018818771", "2015-09-12T00:46:58.771Z"], "auto") == [1442018818771] * 2


def test_auto_numbers_are_millis_and_trailing_zone_names_are_local_time() -> None:
    assert parse([1442018818771, None], "auto", pa.int64()) == [1442018818771, None]
    assert parse([1442018818771.9], "auto", pa.float64()) == [1442018818771]
    shanghai = datetime(2009, 2, 13, 23, 31, 30, tzinfo=timezone(timedelta(hours=8)))
    assert parse(["2009-02-13 23:31:30 Asia/Shanghai", "2009-02-13 23:31:30 UTC"], "auto") == [
        ms(shanghai.isoformat()),
        ms("2009-02-13T23:31:30+00:00"),
    ]
    assert parse(["2009-02-13 23:31:30 Not/AZone"], "auto") == [None]


def test_one_bad_value_among_many_keeps_the_rest_vectorised() -> None:
    base = datetime(2015, 9, 12, tzinfo=UTC)
    texts = [(base + timedelta(seconds=i)).isoformat().replace("+00:00", "Z") for i in range(5000)]
    texts[1234] = "2015-02-30T00:00:00Z"  # matches the ISO shape, refused by the cast
    got = parse(texts, "iso")
    assert got[1234] is None
    assert got[:1234] == [ms(t.replace("Z", "+00:00")) for t in texts[:1234]]
    assert got[1235:] == [ms(t.replace("Z", "+00:00")) for t in texts[1235:]]


@pytest.mark.parametrize(
    ("fmt", "values", "typ", "expected"),
    [
        ("millis", [1442018818771, -5], pa.int64(), [1442018818771, -5]),
        ("millis", ["1442018818771", "-5", "x", " 12 ", '"7"'], None, [1442018818771, -5, None, 12, 7]),
        ("posix", [1442018818, None], pa.int32(), [1442018818000, None]),
        ("posix", ["1442018818", "1442018818.5"], None, [1442018818000, 1442018818500]),
        ("posix", [1442018818.771], pa.float64(), [1442018818771]),
        ("ruby", ["1442018818.771"], None, [1442018818771]),
        ("micro", [1442018818771999, -1500], pa.int64(), [1442018818771, -1]),
        ("micro", ["1442018818771999"], None, [1442018818771]),
        ("nano", [1442018818771999999], pa.int64(), [1442018818771]),
        ("nano", ["1442018818771999999", "abc"], None, [1442018818771, None]),
        ("posix", [2**62], pa.int64(), [None]),  # outside Druid's eternity
        ("millis", [float("nan"), float("inf")], pa.float64(), [None, None]),
        ("millis", [True], pa.bool_(), [None]),
    ],
)
def test_numeric_formats(fmt: str, values: list, typ: pa.DataType | None, expected: list) -> None:
    assert parse(values, fmt, typ) == expected


def test_typed_timestamp_and_date_columns_are_instants_whatever_the_format() -> None:
    instant = ms("2015-09-12T00:46:58.771+00:00")
    for unit, raw in (
        ("s", instant // 1000),
        ("ms", instant),
        ("us", instant * 1000),
        ("ns", instant * 10**6),
    ):
        for tz in (None, "UTC", "America/New_York"):
            arr = pa.array([raw, None], pa.timestamp(unit, tz=tz))
            want = instant // 1000 * 1000 if unit == "s" else instant
            for fmt in ("auto", "iso", "millis", "yyyy-MM-dd"):
                assert parse(arr.to_pylist(), fmt, arr.type) == [want, None]
    assert parse([16690], "auto", pa.date32()) == [16690 * 86_400_000]
    assert parse([instant], "auto", pa.date64()) == [instant]
    # Floors below the millisecond, also before 1970.
    assert parse([-1], "auto", pa.timestamp("ns")) == [-1]


def test_dictionary_chunked_large_string_and_empty_inputs() -> None:
    texts = ["2015-09-12T00:00:00Z", "bad", None, "2015-09-13"]
    want = [ms("2015-09-12T00:00:00+00:00"), None, None, ms("2015-09-13T00:00:00+00:00")]
    assert parse(texts, "auto", pa.large_string()) == want
    dictionary = pa.array(texts).dictionary_encode()
    out, ok = parse_timestamps(dictionary, "auto")
    assert [int(m) if v else None for m, v in zip(out, ok, strict=True)] == want
    chunked = pa.chunked_array([pa.array(texts[:2]), pa.array(texts[2:]), pa.array([], pa.string())])
    out, ok = parse_timestamps(chunked, "auto")
    assert [int(m) if v else None for m, v in zip(out, ok, strict=True)] == want
    out, ok = parse_timestamps(pa.chunked_array([], pa.string()), "auto")
    assert out.shape == (0,) and ok.shape == (0,)
    assert parse([None, None], "auto", pa.null()) == [None, None]
    assert parse([{"a": 1}], "auto") == [None]


def test_missing_value_fills_nulls_and_empty_strings() -> None:
    fill = ms("2010-01-01T00:00:00+00:00")
    assert parse([None, "", "2015-09-12"], "auto", missing_value="2010-01-01T00:00:00Z") == [
        fill,
        fill,
        ms("2015-09-12T00:00:00+00:00"),
    ]
    assert parse([None, "bad"], "iso", missing_value=fill) == [fill, None]  # bad is not missing
    assert parse([None], "millis", pa.int64(), missing_value=str(fill)) == [fill]
    assert parse([None], "auto", pa.null(), missing_value=fill) == [fill]
    d = pa.array([None, "x", ""]).dictionary_encode()
    out, ok = parse_timestamps(d, "auto", fill)
    assert ok.tolist() == [True, False, True] and out.tolist() == [fill, 0, fill]
    with pytest.raises(InvalidSpec) as err:
        parse([None], "auto", missing_value="not a time")
    assert err.value.path == "spec.dataSchema.timestampSpec.missingValue"


JODA_CASES = [
    ("yyyy-MM-dd HH:mm:ss", "2015-09-12 00:46:58", "2015-09-12T00:46:58+00:00"),
    ("yyyy-MM-dd HH:mm:ss", "2015-9-1 1:02:03", "2015-09-01T01:02:03+00:00"),  # Joda reads fewer digits
    ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2015-09-12T00:46:58.771Z", "2015-09-12T00:46:58.771+00:00"),
    ("yyyy-MM-dd HH:mm:ss.SSS", "2015-09-12 00:46:58.7", "2015-09-12T00:46:58.700+00:00"),
    ("yyyy-MM-dd HH:mm:ss.SSS", "2015-09-12 00:46:58.771999", "2015-09-12T00:46:58.771+00:00"),
    ("dd/MMM/yyyy:HH:mm:ss Z", "12/Sep/2015:00:46:58 -0700", "2015-09-12T00:46:58-07:00"),
    ("dd/MMM/yyyy:HH:mm:ss Z", "12/SEP/2015:00:46:58 +05:30", "2015-09-12T00:46:58+05:30"),
    ("dd/MMM/yyyy:HH:mm:ss Z", "1/September/2015:00:46:58 Z", "2015-09-01T00:46:58+00:00"),
    ("dd/MMM/yyyy:HH:mm:ss ZZ", "12/Sep/2015:00:46:58 -07:00", "2015-09-12T00:46:58-07:00"),
    ("EEE, dd MMM yyyy HH:mm:ss Z", "Sat, 12 Sep 2015 00:46:58 +0000", "2015-09-12T00:46:58+00:00"),
    ("yyyyMMdd", "20150912", "2015-09-12T00:00:00+00:00"),
    ("yyyyMMddHHmmss", "20150912004658", "2015-09-12T00:46:58+00:00"),
    ("MM/dd/yyyy hh:mm:ss a", "09/12/2015 01:46:58 PM", "2015-09-12T13:46:58+00:00"),
    ("MM/dd/yyyy hh:mm:ss a", "09/12/2015 12:46:58 am", "2015-09-12T00:46:58+00:00"),
    ("MM/dd/yyyy hh:mm a", "09/12/2015 12:05 PM", "2015-09-12T12:05:00+00:00"),
    ("yyyy-MM-dd kk:mm", "2015-09-12 24:30", "2015-09-12T00:30:00+00:00"),
    ("yyyy.DDD", "2016.060", "2016-02-29T00:00:00+00:00"),
    ("'day' d 'of' MMMM yyyy", "day 12 of september 2015", "2015-09-12T00:00:00+00:00"),
    ("HH:mm", "10:30", "2000-01-01T10:30:00+00:00"),  # Joda's default year is 2000
    ("y-MM-dd HH:mm:ss", "+2015-09-12 00:00:00", "2015-09-12T00:00:00+00:00"),  # signed year
    ("yyyy-MM-dd''HH", "2015-09-12'07", "2015-09-12T07:00:00+00:00"),
    ("yyyy-MM-dd HH:mm:ss ZZZ", "2015-09-12 00:46:58 America/Los_Angeles", "2015-09-12T00:46:58-07:00"),
    ("yyyy-MM-dd HH:mm:ss ZZZ", "2015-01-12 00:46:58 Europe/Paris", "2015-01-12T00:46:58+01:00"),
]


@pytest.mark.parametrize(("pattern", "text", "expected"), JODA_CASES)
def test_joda_patterns(pattern: str, text: str, expected: str) -> None:
    assert parse([text], pattern) == [ms(expected)]
    # The fixed-width numpy path and the regex path agree: a batch mixing this value with others that
    # only the regex path reads gives the same answer for it.
    assert parse([text, "#", text, None], pattern) == [ms(expected), None, ms(expected), None]


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("yyyy-MM-dd HH:mm:ss", "2015-02-29 00:00:00"),
        ("yyyy-MM-dd HH:mm:ss", "2015-09-12 24:00:00"),
        ("yyyy-MM-dd HH:mm:ss", "2015-09-12 23:60:00"),
        ("yyyy-MM-dd HH:mm:ss", "2015-09-12 23:00:60"),
        ("yyyy-MM-dd HH:mm:ss", "2015-09-12T00:00:00"),
        ("yyyy-MM-dd HH:mm:ss", "2015-09-12 00:00:00 trailing"),
        ("yyyy-MM-dd HH:mm:ss", "2015-13-12 00:00:00"),
        ("dd/MMM/yyyy:HH:mm:ss Z", "12/Sept/2015:00:46:58 -0700"),
        ("dd/MMM/yyyy:HH:mm:ss Z", "12/Sep/2015:00:46:58 +2400"),
        ("yyyyMMdd", "20151301"),
        ("MM/dd/yyyy hh:mm a", "09/12/2015 13:05 PM"),
        ("yyyy-MM-dd HH:mm:ss ZZZ", "2015-09-12 00:46:58 Nowhere/Land"),
        ("yyyy.DDD", "2015.366"),
    ],
)
def test_joda_rejects_what_joda_rejects(pattern: str, text: str) -> None:
    assert parse([text, "2015-09-12 00:00:00"], pattern)[0] is None


def test_joda_numbers_are_read_as_their_text() -> None:
    assert parse([20150912, 20151301, None], "yyyyMMdd", pa.int64()) == [
        ms("2015-09-12T00:00:00+00:00"),
        None,
        None,
    ]


def test_joda_two_digit_years_pivot_like_joda() -> None:
    this_year = datetime.now(UTC).year
    low = this_year - 80
    for two in (0, 25, 50, 75, 99):
        year = low + (two - low % 100) % 100
        assert parse([f"{two:02d}-01-01"], "yy-MM-dd") == [ms(f"{year:04d}-01-01T00:00:00+00:00")]


@pytest.mark.parametrize(
    "pattern", ["yyyy-MM-ddTHH", "yyyy-ww", "xxxx", "zzz", "'unterminated", "", "---", "yyyy yyyy", "qqq"]
)
def test_untranslatable_patterns_name_the_format_field(pattern: str) -> None:
    with pytest.raises(InvalidSpec) as err:
        check_timestamp_format(pattern)
    assert err.value.path == "spec.dataSchema.timestampSpec.format"
    with pytest.raises(InvalidSpec):
        parse_timestamps(pa.array(["x"]), pattern)


def test_random_instants_round_trip_through_every_text_format() -> None:
    rng = random.Random(20150912)
    base = datetime(1970, 1, 1, tzinfo=UTC)
    instants = [rng.randrange(0, 4_102_444_800_000) for _ in range(2000)]  # 1970..2100
    dts = [base + timedelta(milliseconds=i) for i in instants]
    offsets = [timezone(timedelta(minutes=rng.choice([-480, -420, 0, 60, 330, 345, 600]))) for _ in dts]
    local = [dt.astimezone(tz) for dt, tz in zip(dts, offsets, strict=True)]
    assert parse([d.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for d in dts], "iso") == instants
    assert parse([d.isoformat(timespec="milliseconds") for d in local], "auto") == instants
    assert parse([str(i) for i in instants], "millis") == instants
    assert parse([i // 1000 for i in instants], "posix", pa.int64()) == [i // 1000 * 1000 for i in instants]
    joda = [
        d.strftime("%d/%b/%Y:%H:%M:%S.") + f"{d.microsecond // 1000:03d} " + d.strftime("%z") for d in local
    ]
    assert parse(joda, "dd/MMM/yyyy:HH:mm:ss.SSS Z") == instants
    spaced = [d.strftime("%Y-%m-%d %H:%M:%S") for d in dts]
    assert parse(spaced, "yyyy-MM-dd HH:mm:ss") == [i // 1000 * 1000 for i in instants]
