"""Settings, declared once.

Each setting has one declaration (name, type, default, help). That declaration feeds the CLI flags, the
``GROVE_*`` environment variables, the optional config file (``grove.toml`` in the home folder) and the
generated reference docs. Precedence, lowest first: default, config file, environment, explicit value.
Defaults that depend on the home folder are written with ``{home}``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grove.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "GROVE_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("home", str, "./var", "Home folder for metadata, deep storage, segment cache and task files."),
    Setting(
        "metadata_url",
        str,
        "sqlite:///{home}/metadata.db",
        "SQLAlchemy URL of the metadata store (sqlite:///…, mysql+pymysql://…, postgresql+psycopg://…).",
    ),
    Setting(
        "deep_storage",
        str,
        "file://{home}/deep-storage",
        "fsspec URL of deep storage, where published segments live (file://…, s3://bucket/prefix, memory://…).",
    ),
    Setting(
        "segment_cache", str, "{home}/segment-cache", "Local folder where segments are loaded for queries."
    ),
    Setting("tmp_dir", str, "{home}/tmp", "Working folder for ingestion tasks (persisted pieces, merges)."),
    Setting("ingest_workers", int, 0, "Worker processes per batch ingestion; 0 means one per CPU core."),
    Setting("host", str, "127.0.0.1", "Address `grove serve` listens on (0.0.0.0 for every interface)."),
    Setting("port", int, 8888, "Port `grove serve` listens on."),
    Setting("query_threads", int, 0, "Threads that process segments for queries; 0 means one per CPU core."),
    Setting("query_concurrency", int, 0, "Queries running at once; 0 means twice the CPU cores."),
    Setting("query_queue", int, 64, "Queries that may wait for a slot; beyond this the server answers 429."),
    Setting(
        "query_timeout_ms", int, 300_000, "Default query timeout in ms (a query's context.timeout wins)."
    ),
    Setting("max_request_bytes", int, 10 << 20, "Largest request body accepted; larger requests get 413."),
    Setting(
        "segment_poll_ms", int, 1000, "How often the server looks for newly published or dropped segments."
    ),
    Setting(
        "query_index_memory_mb",
        int,
        1024,
        "Memory the open segments may keep for filters on their first dimension (its runs and their "
        "metric totals); past it, queries read rows instead.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: Any, source: str) -> Any:
    if value is None:
        return None
    try:
        if setting.type is bool and isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if setting.type is int and (
            isinstance(value, bool) or (isinstance(value, float) and not value.is_integer())
        ):
            raise ValueError(value)  # int() would silently turn 2.5 into 2 and true into 1
        return setting.type(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"Invalid value for setting [{setting.name}] from {source}", setting.name
        ) from None


@dataclass(frozen=True, slots=True)
class Config:
    home: str
    metadata_url: str
    deep_storage: str
    segment_cache: str
    tmp_dir: str
    ingest_workers: int
    host: str = "127.0.0.1"
    port: int = 8888
    query_threads: int = 0
    query_concurrency: int = 0
    query_queue: int = 64
    query_timeout_ms: int = 300_000
    max_request_bytes: int = 10 << 20
    segment_poll_ms: int = 1000
    query_index_memory_mb: int = 1024

    @staticmethod
    def load(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Config:
        """Resolve every setting: default < ``{home}/grove.toml`` < ``GROVE_*`` env < ``overrides``."""
        env = os.environ if environ is None else environ
        explicit = {k: v for k, v in (overrides or {}).items() if v is not None}
        for key in explicit:
            if key not in _BY_NAME:
                raise InvalidInput(f"Unknown setting [{key}]", key)
        home = explicit.get("home") or env.get("GROVE_HOME") or _BY_NAME["home"].default
        file_values: dict[str, Any] = {}
        config_file = Path(home) / "grove.toml"
        if config_file.is_file():
            try:
                file_values = tomllib.loads(config_file.read_text()).get("grove", {})
            except tomllib.TOMLDecodeError as e:
                raise InvalidInput(f"Invalid config file [{config_file}]: {e}") from None
        values: dict[str, Any] = {}
        for s in SETTINGS:
            value: Any = s.default
            source = "default"
            if s.name in file_values:
                value, source = file_values[s.name], str(config_file)
            if s.env in env:
                value, source = env[s.env], s.env
            if s.name in explicit:
                value, source = explicit[s.name], s.flag
            if s.name == "home":
                value = home
            if isinstance(value, str):
                value = value.replace("{home}", str(Path(home).absolute()))
            values[s.name] = _coerce(s, value, source)
        return Config(**values)

    def workers(self) -> int:
        return self.ingest_workers if self.ingest_workers > 0 else max(os.cpu_count() or 1, 1)

    def threads(self) -> int:
        return self.query_threads if self.query_threads > 0 else max(os.cpu_count() or 1, 1)

    def concurrency(self) -> int:
        return self.query_concurrency if self.query_concurrency > 0 else 2 * max(os.cpu_count() or 1, 1)
