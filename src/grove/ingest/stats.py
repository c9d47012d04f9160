"""Row counters of an ingestion, in Druid's terms plus grove's breakdown of why rows were dropped."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

_MAX_SAMPLES = 10


@dataclass
class RowStats:
    """``processed`` rows were ingested; every other row is accounted for by a reason."""

    processed: int = 0
    processed_with_error: int = 0  # ingested, but some value could not be parsed and became null
    malformed: int = 0  # input records that could not be parsed at all (e.g. broken JSON)
    bad_timestamp: int = 0  # missing or unparseable timestamps
    filtered: int = 0  # rejected by transformSpec.filter
    outside_intervals: int = 0  # timestamps outside granularitySpec.intervals
    processed_bytes: int = 0
    samples: list[str] = field(default_factory=list)

    @property
    def unparseable(self) -> int:
        return self.malformed + self.bad_timestamp

    @property
    def thrown_away(self) -> int:
        return self.filtered + self.outside_intervals

    @property
    def rows_read(self) -> int:
        return self.processed + self.unparseable + self.thrown_away

    @property
    def parse_exceptions(self) -> int:
        """What ``maxParseExceptions`` limits: unparseable rows and rows processed with errors."""
        return self.unparseable + self.processed_with_error

    def note(self, message: str) -> None:
        if len(self.samples) < _MAX_SAMPLES:
            self.samples.append(message)

    def add(self, other: RowStats) -> None:
        for f in fields(self):
            if f.name == "samples":
                for s in other.samples:
                    self.note(s)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_json(self) -> dict[str, Any]:
        """Druid's ``rowStats`` keys, plus grove's reasons under ``dropped``."""
        return {
            "processed": self.processed,
            "processedBytes": self.processed_bytes,
            "processedWithError": self.processed_with_error,
            "thrownAway": self.thrown_away,
            "unparseable": self.unparseable,
            "dropped": {
                "malformed": self.malformed,
                "badTimestamp": self.bad_timestamp,
                "filtered": self.filtered,
                "outsideIntervals": self.outside_intervals,
            },
            "errorSamples": list(self.samples),
        }
