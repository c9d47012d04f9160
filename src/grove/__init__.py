"""grove: a real-time analytics database for ads reporting that speaks Apache Druid's API.

``grove.open(home="var")`` opens the embedded database (see :mod:`grove.cluster.embedded`).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def open(home: str | None = None, **settings: Any) -> Any:
    """Open the embedded database under ``home``; see :func:`grove.cluster.embedded.open_database`."""
    # Imported here so that importing a small grove module (in a worker process, say) does not pull in
    # the whole database; this is about start-up cost, not an import cycle.
    from grove.cluster.embedded import open_database

    return open_database(home, **settings)
