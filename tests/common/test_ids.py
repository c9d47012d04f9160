"""Query ids are random version-4 UUIDs in canonical text form, never repeated."""

from __future__ import annotations

import re
import uuid

from grove.common.ids import random_uuid

_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_ids_are_canonical_version_4_uuids() -> None:
    for _ in range(1000):
        text = random_uuid()
        assert _CANONICAL.fullmatch(text), text
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text


def test_ids_do_not_repeat() -> None:
    ids = {random_uuid() for _ in range(100_000)}
    assert len(ids) == 100_000
