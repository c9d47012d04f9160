"""Reading native results back into columns (:mod:`grove.sql.native`)."""

from __future__ import annotations

import pytest

from grove.common.time import MAX_INSTANT, MIN_INSTANT, format_timestamp, parse_timestamp
from grove.errors import InvalidInput
from grove.sql.native import _epoch_ms


@pytest.mark.parametrize(
    "texts",
    [
        ["2026-01-24T00:00:00.000Z", "2026-01-25T00:00:00.000Z", "2026-01-24T00:00:00.000Z"],
        ["0999-03-01T05:06:07.089Z", "1969-12-31T23:59:59.999Z"],
        ["2026-01-24T00:00:00.000+09:00", "2026-01-24T00:00:00.000Z"],  # a zoned granularity
        [format_timestamp(MIN_INSTANT), format_timestamp(MAX_INSTANT)],
        [],
    ],
)
def test_result_timestamps_read_back_as_epoch_ms(texts: list[str]) -> None:
    assert _epoch_ms(texts) == [parse_timestamp(t) for t in texts]


def test_nulls_stay_null_and_bad_timestamps_are_refused() -> None:
    assert _epoch_ms([None, "1970-01-01T00:00:00.001Z"]) == [None, 1]
    with pytest.raises(InvalidInput):
        _epoch_ms(["2026-13-24T00:00:00.000Z"])
