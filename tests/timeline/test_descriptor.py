"""Segment descriptors and shard specs: Druid's DataSegment JSON shape and its round trip."""

from __future__ import annotations

import orjson
import pytest

from grove.common.intervals import Interval
from grove.common.time import parse_timestamp
from grove.timeline.descriptor import BINARY_VERSION, SegmentDescriptor
from grove.timeline.segment_id import SegmentId
from grove.timeline.shard import ShardSpec

DAY = 86_400_000
IV = Interval(parse_timestamp("2015-09-12"), parse_timestamp("2015-09-13"))


def _descriptor(namespace: str = "", shard: ShardSpec | None = None) -> SegmentDescriptor:
    shard = shard or ShardSpec(1, 3)
    return SegmentDescriptor(
        id=SegmentId("wikipedia", IV, "2015-09-20T10:00:00.000Z", shard.partition_num, namespace),
        shard_spec=shard,
        load_spec={"type": "local", "path": "/deep/wikipedia/1/segment.grove"},
        dimensions=("channel", "page"),
        metrics=("count", "added"),
        num_rows=1234,
        size=56789,
    )


def test_druid_json_shape() -> None:
    d = _descriptor()
    obj = d.to_json()
    assert obj == {
        "dataSource": "wikipedia",
        "interval": "2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z",
        "version": "2015-09-20T10:00:00.000Z",
        "loadSpec": {"type": "local", "path": "/deep/wikipedia/1/segment.grove"},
        "dimensions": "channel,page",
        "metrics": "count,added",
        "shardSpec": {"type": "numbered", "partitionNum": 1, "partitions": 3},
        "binaryVersion": BINARY_VERSION,
        "size": 56789,
        "identifier": "wikipedia_2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z_2015-09-20T10:00:00.000Z_1",
        "id": "wikipedia_2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z_2015-09-20T10:00:00.000Z_1",
        "namespace": "",
        "numRows": 1234,
    }
    orjson.dumps(obj)  # plain JSON values only


@pytest.mark.parametrize(
    "shard",
    [
        ShardSpec(0, 1),
        ShardSpec(2, 3),
        ShardSpec(5, 3),  # appended beyond the core set
        ShardSpec(0, 0),
        ShardSpec(1, 4, "hashed", ("country", "device")),
    ],
)
@pytest.mark.parametrize("namespace", ["", "ns1"])
def test_round_trip(shard: ShardSpec, namespace: str) -> None:
    d = _descriptor(namespace, shard)
    back = SegmentDescriptor.from_json(orjson.loads(orjson.dumps(d.to_json())))
    assert back == d
    assert back.id == SegmentId.parse(d.to_json()["identifier"])


def test_accessors_and_with_load_spec() -> None:
    d = _descriptor("ns1")
    assert (d.datasource, d.interval, d.version, d.namespace, d.partition) == (
        "wikipedia",
        IV,
        "2015-09-20T10:00:00.000Z",
        "ns1",
        1,
    )
    moved = d.with_load_spec({"type": "s3_zip", "bucket": "b", "key": "k"}, 99)
    assert moved.load_spec["type"] == "s3_zip" and moved.size == 99
    assert d.load_spec["type"] == "local"  # descriptors are values


def test_from_druid_json_with_defaults_and_lists() -> None:
    obj = {
        "dataSource": "wikipedia",
        "interval": "2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z",
        "version": "v1",
        "dimensions": ["a", "b"],
        "metrics": "",
        "shardSpec": {"type": "none"},
    }
    d = SegmentDescriptor.from_json(obj)
    assert d.dimensions == ("a", "b") and d.metrics == ()
    assert d.partition == 0 and d.namespace == "" and d.num_rows == 0 and d.size == 0
    assert d.binary_version == BINARY_VERSION


def test_shard_spec_json() -> None:
    hashed = ShardSpec(1, 4, "hashed", ("country",))
    assert hashed.to_json() == {
        "type": "hashed",
        "partitionNum": 1,
        "partitions": 4,
        "numCorePartitions": 4,
        "partitionDimensions": ["country"],
    }
    assert ShardSpec.from_json(hashed.to_json()) == hashed
    assert ShardSpec(3, 2).is_core() is False and ShardSpec(1, 2).is_core() is True
    assert ShardSpec.from_json({}) == ShardSpec(0, 0)
    # Druid's newer numbered shard specs carry numCorePartitions.
    assert (
        ShardSpec.from_json({"type": "numbered", "partitionNum": 2, "numCorePartitions": 3}).partitions == 3
    )
