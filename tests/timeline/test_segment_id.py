"""Segment ids: Druid's string form, namespaces, and an exact round trip for awkward names."""

from __future__ import annotations

import random

import pytest

from grove.common.intervals import Interval
from grove.common.time import parse_timestamp
from grove.errors import InvalidInput
from grove.timeline.segment_id import SegmentId, validate_namespace, validate_version

DAY = 86_400_000
SEPT_12 = parse_timestamp("2015-09-12")
IV = Interval(SEPT_12, SEPT_12 + DAY)
HEAD = "2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z"


@pytest.mark.parametrize(
    ("seg", "text"),
    [
        (SegmentId("wiki", IV, "v1"), f"wiki_{HEAD}_v1"),
        (SegmentId("wiki", IV, "v1", 3), f"wiki_{HEAD}_v1_3"),
        (
            SegmentId("wiki", IV, "2015-09-20T10:00:00.000Z"),
            f"wiki_{HEAD}_2015-09-20T10:00:00.000Z",
        ),
        (SegmentId("ads_daily", IV, "v_1"), f"ads_daily_{HEAD}_v_1_0"),
        (SegmentId("ads_daily", IV, "v_1", 2), f"ads_daily_{HEAD}_v_1_2"),
        (SegmentId("wiki", IV, "v1", 0, "ns1"), f"wiki_{HEAD}_v1_0@ns1"),
        (SegmentId("wiki", IV, "v1", 7, "a.b-c_d"), f"wiki_{HEAD}_v1_7@a.b-c_d"),
        (SegmentId("me@corp", IV, "v1"), f"me@corp_{HEAD}_v1"),
        (SegmentId("me@corp", IV, "v1", 1, "ns"), f"me@corp_{HEAD}_v1_1@ns"),
    ],
)
def test_string_form(seg: SegmentId, text: str) -> None:
    assert str(seg) == text
    assert SegmentId.parse(text) == seg


def test_druid_ids_without_partition_parse_as_partition_zero() -> None:
    seg = SegmentId.parse(f"wikipedia_{HEAD}_2015-09-20T10:00:00.000Z")
    assert seg == SegmentId("wikipedia", IV, "2015-09-20T10:00:00.000Z", 0, "")
    assert seg.interval == IV and seg.namespace == ""


def _random_name(rng: random.Random, alphabet: str, min_len: int = 1) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(min_len, 12)))


def test_random_round_trips() -> None:
    rng = random.Random(2024)
    ds_alphabet = "abcXYZ019_-.@ "
    version_alphabet = "abcV019_-.:TZ"
    ns_alphabet = "abzAZ09_-."
    seen = set()
    for i in range(5000):
        datasource = _random_name(rng, ds_alphabet)
        version = _random_name(rng, version_alphabet)
        if i % 7 == 0:
            version += f"_{rng.randrange(100)}"  # versions that end like a partition number
        if i % 11 == 0:
            version = "2015-09-20T10:00:00.000Z"
        partition = rng.choice([0, 0, 1, rng.randrange(2, 100_000)])
        namespace = ""
        if rng.random() < 0.5:
            namespace = rng.choice("abAZ09") + _random_name(rng, ns_alphabet, 0)
        start = rng.randrange(parse_timestamp("1980-01-01"), parse_timestamp("2030-01-01"))
        interval = Interval(start, start + rng.choice([1, 3_600_000, DAY, 31 * DAY]))
        seg = SegmentId(datasource, interval, version, partition, namespace)
        text = str(seg)
        assert SegmentId.parse(text) == seg, text
        seen.add(text)
    assert len(seen) > 4900


def test_namespaced_and_plain_ids_never_collide() -> None:
    plain = SegmentId("ds", IV, "v", 0, "")
    spaced = SegmentId("ds", IV, "v", 0, "x")
    assert str(plain) != str(spaced)
    assert SegmentId.parse(str(spaced)).namespace == "x"


def test_eternity_interval_round_trips() -> None:
    seg = SegmentId("ds", Interval.eternity(), "v1", 4, "ns")
    assert SegmentId.parse(str(seg)) == seg


@pytest.mark.parametrize(
    "text",
    [
        "",
        "wiki",
        "wiki_v1",
        "wiki_2015-09-12_2015-09-13_v1",
        f"_{HEAD}_v1",
        f"wiki_{HEAD}_",
        f"wiki_{HEAD}",
        f"wiki_{HEAD}_v1@ns",  # a namespaced id always carries its partition
        f"wiki_{HEAD}_v1_0@-bad",
        f"wiki_{HEAD}_v1_0@bad ns",
        f"wiki_{HEAD}_v@1_0",
        "wiki_2015-09-13T00:00:00.000Z_2015-09-12T00:00:00.000Z_v1",  # end before start
        "wiki_2015-02-30T00:00:00.000Z_2015-03-01T00:00:00.000Z_v1",
    ],
)
def test_invalid_ids(text: str) -> None:
    with pytest.raises(InvalidInput):
        SegmentId.parse(text)


@pytest.mark.parametrize("namespace", ["", "ns1", "a.b-c_d", "0", "Z9", "a_", "a-"])
def test_valid_namespaces(namespace: str) -> None:
    assert validate_namespace(namespace) == namespace


@pytest.mark.parametrize("namespace", ["_", "-a", ".a", "a b", "a@b", "a/b", "ä", "a\n", 5, None])
def test_invalid_namespaces(namespace: object) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_namespace(namespace, "dataSchema.namespace")  # type: ignore[arg-type]
    assert err.value.path == "dataSchema.namespace"


def test_versions() -> None:
    assert validate_version("2015-09-20T10:00:00.000Z") == "2015-09-20T10:00:00.000Z"
    assert validate_version("v_1") == "v_1"
    for bad in ("", "a@b", "a/b", None):
        with pytest.raises(InvalidInput):
            validate_version(bad)  # type: ignore[arg-type]


def test_ordering_and_hashing() -> None:
    a = SegmentId("ds", IV, "v1", 0)
    b = SegmentId("ds", IV, "v1", 1)
    assert a < b and len({a, SegmentId("ds", IV, "v1", 0)}) == 1
