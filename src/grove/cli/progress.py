"""A rich progress display fed by an ingestion's progress events."""

from __future__ import annotations

from typing import Any

from rich.progress import Progress


class IngestProgress:
    """Turns ``progress(event, **data)`` calls from a batch ingestion into a progress bar."""

    def __init__(self, progress: Progress) -> None:
        self.p = progress
        self.task = progress.add_task("reading input", total=None)
        self.rows = 0

    def __call__(self, event: str, **data: Any) -> None:
        if event == "plan":
            self.p.update(self.task, total=data["splits"])
        elif event == "rows":
            self.rows += int(data["rows"])
            self.p.update(self.task, description=f"reading input · {self.rows:,} rows")
        elif event == "split":
            self.p.advance(self.task, int(data.get("done", 1)))
        elif event == "stage" and data["name"] != "build":
            self.p.update(self.task, description=f"{data['name']} · {self.rows:,} rows")
