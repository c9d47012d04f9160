"""Deep storage: where segment files live for good, on any filesystem fsspec reaches.

``DeepStorage(url)`` picks its backend from the URL scheme through fsspec: ``file:///abs/path`` (or a
plain path), ``memory://name`` for tests, ``s3://bucket/prefix`` when s3fs is installed (fsspec imports
it lazily; grove never does). A segment's files go under::

    {base}/{datasource}/{start}_{end}/{version}/{namespace or _}/{partition}/

with ``start``/``end`` in ISO-8601 (``2024-01-01T00:00:00.000Z``; colons are fine on POSIX and object
stores). Namespaces start with a letter or digit, so ``_`` cannot collide with a real one.

A push first uploads into a hidden sibling (``.{partition}.{random}.pushing``) and then moves it into
place: on local storage a directory rename, which is atomic, so a crash mid-push never leaves a
directory that looks complete. Object stores have no rename; there the move is a copy per object and a
crash during it can leave a partial folder, which no metadata row points to because publishing happens
only after the push returns. Pulls land in a temporary folder renamed into place for the same reason.

Load specs are Druid-shaped: ``{"type": "local", "path": "/abs/path"}`` for local storage, otherwise
``{"type": "<scheme>", "path": "<full url>"}``. Every failure is a :class:`StorageError` naming the path.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fsspec
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from grove.common.time import format_timestamp
from grove.errors import GroveError, InvalidInput, StorageError
from grove.timeline.segment_id import SegmentId

EMPTY_NAMESPACE_DIR = "_"
_LOCAL_TYPE = "local"
_MKDIR_ATTEMPTS = 3


class DeepStorage:
    """Pushes segment folders to, pulls them from and deletes them in one fsspec location.

    ``storage_options`` go to the fsspec filesystem (for example an S3 ``endpoint_url``). Raises
    StorageError when the scheme is unknown or its fsspec package (s3fs for ``s3://``) is missing.
    """

    def __init__(self, url: str, *, storage_options: dict[str, Any] | None = None) -> None:
        self.url = url
        try:
            fs, base = url_to_fs(url, **(storage_options or {}))
        except ImportError:
            raise StorageError(
                f"Deep storage [{url}] needs an fsspec backend that is not installed "
                "(for s3:// run pip install 'grove[s3]')"
            ) from None
        except (ValueError, TypeError, OSError) as e:
            raise StorageError(f"Invalid deep storage URL [{url}]: {_first_line(e)}") from None
        self._fs: fsspec.AbstractFileSystem = fs
        self._local = isinstance(fs, LocalFileSystem)
        if self._local:
            base = os.path.abspath(base)  # "..", "." and doubled slashes out, so containment checks hold
        self._base: str = base.rstrip("/") or fs.root_marker or "/"
        protocol = fs.protocol
        self._protocols: tuple[str, ...] = (protocol,) if isinstance(protocol, str) else tuple(protocol)

    def __repr__(self) -> str:
        return f"DeepStorage({self.url!r})"

    # --- public API ----------------------------------------------------------------------------------

    def push(self, local_dir: Path, segment_id: SegmentId) -> tuple[dict[str, Any], int]:
        """Copy every file under ``local_dir`` to the segment's folder; returns (load_spec, total bytes).

        Pushing an id that is already there replaces its folder. Raises StorageError, leaving nothing at
        the final location (and no temporary folder when the process survives), when ``local_dir`` holds
        no files or any copy fails; InvalidInput when the id cannot name a path (``/``, ``.``, ``..``).
        """
        local_dir = Path(local_dir)
        final = self._location(segment_id)
        files = _local_files(local_dir)
        if not files:
            raise StorageError(
                f"Segment folder [{local_dir}] holds no files to push to [{self._show(final)}]"
            )
        size = sum(src.stat().st_size for _, src in files)
        parent, name = final.rsplit("/", 1)
        tmp = f"{parent}/.{name}.{uuid.uuid4().hex}.pushing"
        with self._failing(f"Cannot push segment [{segment_id}] to [{self._show(final)}]", cleanup=tmp):
            self._make_dir(tmp)
            for rel, src in files:
                if self._local and "/" in rel:
                    os.makedirs(f"{tmp}/{rel.rsplit('/', 1)[0]}", exist_ok=True)
                self._put_file(src, f"{tmp}/{rel}")
            self._move_into_place(tmp, final)
        return self._load_spec(final), size

    def pull(self, load_spec: dict[str, Any], local_dir: Path) -> Path:
        """Download the segment's files into ``local_dir`` (replacing what is there) and return it.

        The files land in a temporary sibling first and are renamed into place, so ``local_dir`` is
        either the complete segment or untouched. Raises StorageError when the load spec is malformed,
        names no files, or a download fails.
        """
        fs, path = self._resolve(load_spec)
        local_dir = Path(local_dir)
        tmp = local_dir.parent / f".{local_dir.name}.{uuid.uuid4().hex}.pulling"
        shown = _spec_path(load_spec)
        with self._failing(f"Cannot pull segment [{shown}] into [{local_dir}]", cleanup_local=tmp):
            files = self._remote_files(fs, path)
            if not files:
                raise StorageError(f"No segment files found at [{shown}]")
            tmp.mkdir(parents=True)
            for rel, remote in files:
                dst = tmp / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(fs, LocalFileSystem):
                    shutil.copyfile(remote, dst)
                else:
                    fs.get_file(remote, str(dst))
            _replace_local_dir(tmp, local_dir)
        return local_dir

    def delete(self, load_spec: dict[str, Any]) -> None:
        """Remove the segment's folder; a folder already gone is fine.

        On local storage the parent folders left empty (up to the base) go too. Raises StorageError for
        a load spec pointing outside this deep storage (a damaged metadata row must not delete arbitrary
        files) or when the removal fails.
        """
        fs, path = self._resolve(load_spec)
        shown = _spec_path(load_spec)
        if fs is not self._fs or not _strictly_inside(path, self._base):
            raise StorageError(f"Refusing to delete [{shown}]: it is outside deep storage [{self.url}]")
        with self._failing(f"Cannot delete segment [{shown}]"):
            if self._local:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                self._prune_empty_parents(path)
            elif fs.find(path):
                fs.rm(path, recursive=True)

    def exists(self, load_spec: dict[str, Any]) -> bool:
        """Whether the segment's folder holds at least one file. Raises StorageError when unreachable."""
        fs, path = self._resolve(load_spec)
        with self._failing(f"Cannot check segment [{_spec_path(load_spec)}]"):
            found = bool(fs.find(path))
        return found

    # --- internals -----------------------------------------------------------------------------------

    def _put_file(self, src: Path, dst: str) -> None:
        """Copy one local file to ``dst`` on this storage (the only place a push writes file data)."""
        if self._local:
            try:
                # Segment files are never changed once written: on the same file system, a second
                # link to the file is the copy, without moving its bytes again.
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)  # kernel-side copy (sendfile), not a Python byte loop
            # Local deep storage is where the segment lives once published: it must be on disk before
            # the metadata says so (a crash after publishing must not leave a torn file behind).
            with open(dst, "rb") as f:
                os.fsync(f.fileno())
        else:
            self._fs.put_file(str(src), dst)

    def _location(self, segment_id: SegmentId) -> str:
        parts = [
            segment_id.datasource,
            f"{format_timestamp(segment_id.interval.start)}_{format_timestamp(segment_id.interval.end)}",
            segment_id.version,
            segment_id.namespace or EMPTY_NAMESPACE_DIR,
            str(segment_id.partition),
        ]
        for part in parts:
            if part in ("", ".", "..") or "/" in part or "\\" in part or "\0" in part:
                raise InvalidInput(
                    f"Segment id [{segment_id}] cannot name a deep storage path: bad part [{part}]"
                )
        return "/".join([self._base.rstrip("/"), *parts])

    def _load_spec(self, path: str) -> dict[str, Any]:
        if self._local:
            return {"type": _LOCAL_TYPE, "path": path}
        return {"type": self._protocols[0], "path": self._fs.unstrip_protocol(path)}

    def _show(self, path: str) -> str:
        return path if self._local else self._fs.unstrip_protocol(path)

    def _resolve(self, load_spec: dict[str, Any]) -> tuple[fsspec.AbstractFileSystem, str]:
        """The filesystem and path of a load spec: this storage's own when the scheme matches."""
        if (
            not isinstance(load_spec, dict)
            or not isinstance(load_spec.get("path"), str)
            or not load_spec["path"]
        ):
            raise StorageError(f"Invalid load spec [{load_spec}]: it needs a non-empty string path")
        kind, path = load_spec.get("type"), load_spec["path"]
        if kind == _LOCAL_TYPE:
            fs: fsspec.AbstractFileSystem = self._fs if self._local else LocalFileSystem()
            return fs, os.path.abspath(path)
        if kind in self._protocols:
            return self._fs, self._fs._strip_protocol(path).rstrip("/")
        try:
            other, other_path = url_to_fs(path)
        except ImportError:
            raise StorageError(f"No fsspec backend installed for load spec path [{path}]") from None
        except (ValueError, TypeError, OSError) as e:
            raise StorageError(f"Invalid load spec path [{path}]: {_first_line(e)}") from None
        return other, other_path.rstrip("/")

    @staticmethod
    def _remote_files(fs: fsspec.AbstractFileSystem, path: str) -> list[tuple[str, str]]:
        prefix = path.rstrip("/") + "/"
        return sorted((f[len(prefix) :], f) for f in fs.find(path) if f.startswith(prefix))

    def _make_dir(self, path: str) -> None:
        """Create ``path`` (and its parents) for a push; object stores need no folders."""
        if not self._local:
            return
        for attempt in range(_MKDIR_ATTEMPTS):
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                os.mkdir(path)
                return
            except FileNotFoundError:
                # A concurrent delete pruned an empty parent between our two calls: create it again.
                if attempt + 1 == _MKDIR_ATTEMPTS:
                    raise

    def _move_into_place(self, tmp: str, final: str) -> None:
        if self._local:
            _fsync_dir(tmp)
            _replace_local_dir(Path(tmp), Path(final))
            _fsync_dir(os.path.dirname(final))
            return
        if self._fs.exists(final):
            self._fs.rm(final, recursive=True)
        self._fs.mv(tmp, final, recursive=True)

    def _prune_empty_parents(self, path: str) -> None:
        parent = os.path.dirname(path)
        while _strictly_inside(parent, self._base):
            try:
                os.rmdir(parent)
            except OSError:
                return  # not empty (or already gone): stop climbing
            parent = os.path.dirname(parent)

    @contextmanager
    def _failing(
        self, what: str, *, cleanup: str | None = None, cleanup_local: Path | None = None
    ) -> Iterator[None]:
        """Turn backend failures into StorageError(``what``: reason) and drop temporary files."""
        try:
            yield
        except BaseException as e:
            if cleanup is not None:
                self._remove_quietly(cleanup)
            if cleanup_local is not None:
                shutil.rmtree(cleanup_local, ignore_errors=True)
            if isinstance(e, GroveError) or not isinstance(e, Exception):
                raise
            # Backends raise OSError mostly, but not only (botocore, aiohttp): any of them is a storage
            # failure here, and only grove errors may leave this class.
            raise StorageError(f"{what}: {_first_line(e)}") from e

    def _remove_quietly(self, path: str) -> None:
        try:
            if self._local:
                shutil.rmtree(path, ignore_errors=True)
            elif self._fs.find(path):
                self._fs.rm(path, recursive=True)
        except Exception:
            pass  # best effort: the original failure is the one to report


def _local_files(local_dir: Path) -> list[tuple[str, Path]]:
    """(relative posix path, absolute path) of every regular file under ``local_dir``, sorted."""
    if not local_dir.is_dir():
        raise StorageError(f"Segment folder [{local_dir}] does not exist")
    out = []
    for root, _dirs, names in os.walk(local_dir):
        for name in names:
            src = Path(root) / name
            if src.is_file():
                out.append((src.relative_to(local_dir).as_posix(), src))
    return sorted(out)


def _replace_local_dir(tmp: Path, final: Path) -> None:
    """Rename ``tmp`` to ``final``; an existing ``final`` is moved aside first and removed after."""
    try:
        os.rename(tmp, final)
        return
    except OSError:
        if not final.exists():
            raise
    trash = final.parent / f".{final.name}.{uuid.uuid4().hex}.replaced"
    os.rename(final, trash)
    os.rename(tmp, final)
    shutil.rmtree(trash, ignore_errors=True)


def _strictly_inside(path: str, base: str) -> bool:
    base = base.rstrip("/")
    path = os.path.normpath(path) if path.startswith("/") else path
    return path.startswith(base + "/") and path != base


def _spec_path(load_spec: Any) -> str:
    return str(load_spec.get("path")) if isinstance(load_spec, dict) else str(load_spec)


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


def _fsync_dir(path: str) -> None:
    """Make a folder's entries (new files, a rename into it) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
