"""The metadata store: which segments exist and are used, the load/drop rules, the tasks, the lookups."""

from grove.metadata.schema import DEFAULT_RULES_DATASOURCE, SCHEMA_VERSION, LookupRecord
from grove.metadata.store import (
    ACTIVE_TASK_STATUSES,
    TASK_STATUSES,
    MetadataStore,
    Replacement,
    RevertResult,
    SegmentRecord,
    TaskRecord,
)

__all__ = [
    "ACTIVE_TASK_STATUSES",
    "DEFAULT_RULES_DATASOURCE",
    "SCHEMA_VERSION",
    "TASK_STATUSES",
    "LookupRecord",
    "MetadataStore",
    "Replacement",
    "RevertResult",
    "SegmentRecord",
    "TaskRecord",
]
