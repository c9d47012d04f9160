"""One error hierarchy for grove.

Every error knows its HTTP status and Druid's error code string (the ``error`` field of Druid's error
body). Only the HTTP layer renders an error into Druid's JSON shape; everything else raises these.
Messages are one sentence naming the offending thing in brackets, never data values or secrets:
``Unknown aggregator type [longSumm] in aggregations[2]``.
"""

from __future__ import annotations


class GroveError(Exception):
    """Base of every error grove raises on purpose."""

    status: int = 500
    druid_error: str = "Unknown exception"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def error_class(self) -> str:
        return type(self).__qualname__


class InvalidInput(GroveError):
    """The request, spec or query is malformed; ``path`` names the offending field when known."""

    status = 400
    druid_error = "Invalid input"

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class InvalidQuery(InvalidInput):
    druid_error = "Unknown exception"


class InvalidSpec(InvalidInput):
    """An ingestion spec that cannot be run as written."""


class Unsupported(InvalidInput):
    """A well-formed request for something grove does not do; never answered with a wrong result."""

    druid_error = "Unsupported operation"


class NotFound(GroveError):
    status = 404
    druid_error = "Not found"


class Conflict(GroveError):
    status = 409
    druid_error = "Conflict"


class RequestTooLarge(GroveError):
    status = 413
    druid_error = "Request too large"


class CapacityExceeded(GroveError):
    status = 429
    druid_error = "Query capacity exceeded"


class QueryTimeout(GroveError):
    status = 504
    druid_error = "Query timeout"


class QueryCancelled(GroveError):
    status = 500
    druid_error = "Query cancelled"


class ResourceLimitExceeded(GroveError):
    status = 400
    druid_error = "Resource limit exceeded"


class CorruptSegment(GroveError):
    """A segment file failed its checksum or structural checks."""

    status = 500
    druid_error = "Unknown exception"


class IngestionFailed(GroveError):
    """A batch or streaming write could not complete; nothing of it is visible."""

    status = 500
    druid_error = "Ingestion failed"


class ParseExceptionLimit(IngestionFailed):
    """More rows failed to parse than ``maxParseExceptions`` allows."""

    status = 400


class StorageError(GroveError):
    """Deep storage or the metadata store refused or failed an operation."""

    status = 500
    druid_error = "Unknown exception"
