"""Half-open intervals: parsing, set relations, condense and subtract (checked against brute force)."""

from __future__ import annotations

import itertools
import random

import pytest

from grove.common.intervals import Interval, condense, subtract
from grove.common.time import MAX_INSTANT, MIN_INSTANT, parse_timestamp
from grove.errors import InvalidInput

DAY = 86_400_000
SEPT_12 = parse_timestamp("2015-09-12")


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2015-09-12/2015-09-13", SEPT_12, SEPT_12 + DAY),
        ("2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z", SEPT_12, SEPT_12 + DAY),
        ("2015-09-12/P1D", SEPT_12, SEPT_12 + DAY),
        ("2015-09-12/PT1H", SEPT_12, SEPT_12 + 3_600_000),
        ("P1D/2015-09-13", SEPT_12, SEPT_12 + DAY),
        ("P1M/2015-10-12", SEPT_12, parse_timestamp("2015-10-12")),
        ("2015-01-31/P1M", parse_timestamp("2015-01-31"), parse_timestamp("2015-02-28")),
        ("2015-09-12T00:00:00+02:00/2015-09-12T00:00:00Z", SEPT_12 - 7_200_000, SEPT_12),
        (" 2015-09-12 / 2015-09-12 ", SEPT_12, SEPT_12),
        ("2015/2016", parse_timestamp("2015-01-01"), parse_timestamp("2016-01-01")),
        (
            "-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z",
            MIN_INSTANT,
            MAX_INSTANT,
        ),
    ],
)
def test_parse(text: str, start: int, end: int) -> None:
    iv = Interval.parse(text)
    assert (iv.start, iv.end) == (start, end)
    assert Interval.parse(str(iv)) == iv
    assert iv.to_json() == str(iv)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2015-09-12",
        "2015-09-12/",
        "/2015-09-12",
        "2015-09-13/2015-09-12",
        "2015-09-12/2015-09-13/2015-09-14",
        "P1D/P1D",
        "2015-09-12/P0D",
        "2015-09-12/PX",
        "bogus/2015-09-12",
    ],
)
def test_parse_rejects_bad_intervals(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Interval.parse(text)
    assert "Invalid interval" in err.value.message


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(InvalidInput):
        Interval.parse(None)  # type: ignore[arg-type]


def test_constructor_rejects_end_before_start() -> None:
    with pytest.raises(InvalidInput):
        Interval(10, 9)
    assert Interval(5, 5).is_empty()


def test_text_form_is_druids() -> None:
    assert str(Interval(SEPT_12, SEPT_12 + DAY)) == "2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z"
    eternity = Interval.eternity()
    assert str(eternity) == "-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z"
    assert eternity.contains(Interval(SEPT_12, SEPT_12 + DAY))
    assert Interval(1, 11).duration == 10


def _points(iv: Interval) -> set[int]:
    return set(range(iv.start, iv.end))


def _random_interval(rng: random.Random, hi: int = 20, allow_empty: bool = True) -> Interval:
    a = rng.randrange(hi)
    b = rng.randrange(hi)
    a, b = min(a, b), max(a, b)
    if not allow_empty and a == b:
        b += 1
    return Interval(a, b)


def test_relations_match_point_sets() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        x, y = _random_interval(rng, allow_empty=False), _random_interval(rng, allow_empty=False)
        px, py = _points(x), _points(y)
        assert x.overlaps(y) == bool(px & py)
        assert x.overlaps(y) == y.overlaps(x)
        inter = x.intersect(y)
        assert (inter is None) == (not (px & py))
        if inter is not None:
            assert _points(inter) == px & py
        assert x.contains(y) == (py <= px)
        for t in range(-1, 21):
            assert x.contains_instant(t) == (t in px)


def test_relation_edge_cases() -> None:
    a, b = Interval(0, 10), Interval(10, 20)
    assert not a.overlaps(b) and a.intersect(b) is None  # abutting intervals share no instant
    assert a.contains(a) and a.contains(Interval(3, 3))
    assert not a.contains_instant(10) and a.contains_instant(0)
    assert Interval(0, 20).intersect(Interval(5, 7)) == Interval(5, 7)


def test_condense_matches_point_sets() -> None:
    rng = random.Random(9)
    for _ in range(1000):
        ivs = [_random_interval(rng, 40, allow_empty=False) for _ in range(rng.randrange(0, 8))]
        out = condense(ivs)
        covered: set[int] = set()
        for iv in ivs:
            covered |= _points(iv)
        assert set().union(*(_points(iv) for iv in out)) == covered
        for left, right in itertools.pairwise(out):
            assert left.end < right.start  # sorted, disjoint and not even abutting
        assert all(not iv.is_empty() for iv in out)


def test_condense_examples() -> None:
    assert condense([]) == []
    assert condense([Interval(5, 10), Interval(0, 5)]) == [Interval(0, 10)]
    assert condense([Interval(0, 10), Interval(2, 3), Interval(11, 12)]) == [
        Interval(0, 10),
        Interval(11, 12),
    ]


def test_subtract_matches_point_sets() -> None:
    rng = random.Random(13)
    for _ in range(1000):
        base = _random_interval(rng, 40)
        holes = [_random_interval(rng, 40, allow_empty=False) for _ in range(rng.randrange(0, 6))]
        out = subtract(base, holes)
        expected = _points(base)
        for h in holes:
            expected -= _points(h)
        assert set().union(*(_points(iv) for iv in out)) == expected
        assert all(not iv.is_empty() and base.contains(iv) for iv in out)
        for left, right in itertools.pairwise(out):
            assert left.end < right.start


def test_subtract_examples() -> None:
    base = Interval(SEPT_12, SEPT_12 + 30 * DAY)
    hole = Interval(SEPT_12 + 10 * DAY, SEPT_12 + 11 * DAY)
    assert subtract(base, [hole]) == [Interval(base.start, hole.start), Interval(hole.end, base.end)]
    assert subtract(base, []) == [base]
    assert subtract(base, [base]) == []
    assert subtract(base, [Interval.eternity()]) == []


def test_intervals_order_by_start_then_end() -> None:
    ivs = [Interval(5, 6), Interval(1, 9), Interval(1, 2)]
    assert sorted(ivs) == [Interval(1, 2), Interval(1, 9), Interval(5, 6)]
    assert len({Interval(1, 2), Interval(1, 2)}) == 1
