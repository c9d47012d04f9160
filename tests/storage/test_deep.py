"""Deep storage's behaviour suite, run against local files (``file://``) and fsspec's ``memory://``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from grove.common.intervals import Interval
from grove.errors import InvalidInput, StorageError
from grove.storage import DeepStorage
from grove.timeline.segment_id import SegmentId

DAY = Interval.parse("2024-01-01/2024-01-02")
DAY_DIR = "2024-01-01T00:00:00.000Z_2024-01-02T00:00:00.000Z"
SEGMENT = SegmentId("wiki", DAY, "2024-01-03T10:00:00.000Z", 0)
FILES = {
    "meta.json": b'{"rows": 3}',
    "columns.bin": bytes(range(256)) * 64,
    "sub/index.bin": b"\x00\x01\x02",
}


class Backend:
    """A deep storage under test, and how to list what it holds."""

    def __init__(self, storage: DeepStorage, spec_type: str, base_path: str) -> None:
        self.storage = storage
        self.spec_type = spec_type
        self.base_path = base_path  # the load-spec path prefix of everything pushed

    def listing(self) -> list[str]:
        """Every file under the base, relative to it (temporary files included)."""
        fs, root = fsspec.core.url_to_fs(self.storage.url)
        return sorted(f[len(root.rstrip("/")) + 1 :] for f in fs.find(root))


@pytest.fixture(params=["file", "memory"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "file":
        base = tmp_path / "deep"
        yield Backend(DeepStorage(f"file://{base}"), "local", str(base))
        return
    name = f"grove-test-{uuid.uuid4().hex}"
    fs = fsspec.filesystem("memory")
    yield Backend(DeepStorage(f"memory://{name}"), "memory", f"memory:///{name}")
    if fs.exists(f"/{name}"):
        fs.rm(f"/{name}", recursive=True)


def make_segment_dir(root: Path, files: dict[str, bytes] = FILES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def read_dir(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_push_pull_round_trip(backend: Backend, tmp_path: Path) -> None:
    local = make_segment_dir(tmp_path / "built")
    spec, size = backend.storage.push(local, SEGMENT)
    assert size == sum(len(b) for b in FILES.values())
    assert spec == {
        "type": backend.spec_type,
        "path": f"{backend.base_path}/wiki/{DAY_DIR}/{SEGMENT.version}/_/0",
    }
    assert backend.storage.exists(spec)

    pulled = backend.storage.pull(spec, tmp_path / "cache" / "seg")
    assert pulled == tmp_path / "cache" / "seg"
    assert read_dir(pulled) == FILES
    # Nothing but the pulled folder is left next to it.
    assert os.listdir(tmp_path / "cache") == ["seg"]


def test_layout_names_every_part_of_the_id(backend: Backend, tmp_path: Path) -> None:
    local = make_segment_dir(tmp_path / "built")
    namespaced = SegmentId("ads", DAY, "v_1", 3, "clicks.v2")
    spec, _ = backend.storage.push(local, namespaced)
    assert spec["path"] == f"{backend.base_path}/ads/{DAY_DIR}/v_1/clicks.v2/3"
    assert sorted(backend.listing()) == sorted(f"ads/{DAY_DIR}/v_1/clicks.v2/3/{rel}" for rel in FILES)


def test_pull_replaces_what_is_in_the_way(backend: Backend, tmp_path: Path) -> None:
    spec, _ = backend.storage.push(make_segment_dir(tmp_path / "built"), SEGMENT)
    target = make_segment_dir(tmp_path / "cache" / "seg", {"stale.bin": b"old"})
    backend.storage.pull(spec, target)
    assert read_dir(target) == FILES


def test_repush_overwrites_cleanly(backend: Backend, tmp_path: Path) -> None:
    backend.storage.push(make_segment_dir(tmp_path / "first"), SEGMENT)
    spec, size = backend.storage.push(make_segment_dir(tmp_path / "second", {"meta.json": b"v2"}), SEGMENT)
    assert size == 2
    assert read_dir(backend.storage.pull(spec, tmp_path / "pulled")) == {"meta.json": b"v2"}
    assert backend.listing() == [f"wiki/{DAY_DIR}/{SEGMENT.version}/_/0/meta.json"]


def test_delete_is_idempotent_and_keeps_neighbours(backend: Backend, tmp_path: Path) -> None:
    local = make_segment_dir(tmp_path / "built")
    spec, _ = backend.storage.push(local, SEGMENT)
    neighbour, _ = backend.storage.push(local, SegmentId("wiki", DAY, SEGMENT.version, 1))
    backend.storage.delete(spec)
    assert not backend.storage.exists(spec)
    backend.storage.delete(spec)
    assert backend.storage.exists(neighbour)
    backend.storage.delete(neighbour)
    assert backend.listing() == []
    if backend.spec_type == "local":
        # The emptied folders went too, up to (not including) the base.
        assert os.listdir(backend.base_path) == []


def test_a_failure_in_the_middle_of_a_push_leaves_nothing(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = backend.storage
    real_put = storage._put_file
    calls: list[Path] = []

    def put_then_fail(src: Path, dst: str) -> None:
        if calls:
            raise OSError(28, "No space left on device")
        calls.append(src)
        real_put(src, dst)

    monkeypatch.setattr(storage, "_put_file", put_then_fail)
    with pytest.raises(StorageError, match=r"Cannot push segment \[wiki_.*\] to \[.*/_/0\]: .*No space"):
        storage.push(make_segment_dir(tmp_path / "built"), SEGMENT)
    assert len(calls) == 1
    final = {"type": backend.spec_type, "path": f"{backend.base_path}/wiki/{DAY_DIR}/{SEGMENT.version}/_/0"}
    assert not storage.exists(final)
    assert backend.listing() == []

    # A failed re-push leaves the earlier complete copy in place.
    monkeypatch.undo()
    spec, _ = storage.push(make_segment_dir(tmp_path / "good", {"meta.json": b"good"}), SEGMENT)
    calls.clear()
    monkeypatch.setattr(storage, "_put_file", put_then_fail)
    with pytest.raises(StorageError):
        storage.push(make_segment_dir(tmp_path / "built"), SEGMENT)
    assert read_dir(storage.pull(spec, tmp_path / "pulled")) == {"meta.json": b"good"}
    assert backend.listing() == [f"wiki/{DAY_DIR}/{SEGMENT.version}/_/0/meta.json"]


def test_pushing_nothing_fails(backend: Backend, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"does not exist"):
        backend.storage.push(tmp_path / "missing", SEGMENT)
    (tmp_path / "empty").mkdir()
    with pytest.raises(StorageError, match=r"no files"):
        backend.storage.push(tmp_path / "empty", SEGMENT)
    assert backend.listing() == []


def test_pulling_a_missing_segment_fails_and_leaves_nothing(backend: Backend, tmp_path: Path) -> None:
    spec = {"type": backend.spec_type, "path": f"{backend.base_path}/wiki/nothing/here"}
    assert not backend.storage.exists(spec)
    with pytest.raises(StorageError, match=r"wiki/nothing/here"):
        backend.storage.pull(spec, tmp_path / "cache" / "seg")
    assert not (tmp_path / "cache" / "seg").exists()
    assert not (tmp_path / "cache").exists() or os.listdir(tmp_path / "cache") == []
    with pytest.raises(StorageError, match=r"Invalid load spec"):
        backend.storage.pull({"type": backend.spec_type}, tmp_path / "x")


def test_delete_refuses_paths_outside_the_base(backend: Backend, tmp_path: Path) -> None:
    outside = make_segment_dir(tmp_path / "precious")
    with pytest.raises(StorageError, match=r"outside deep storage"):
        backend.storage.delete({"type": "local", "path": str(outside)})
    with pytest.raises(StorageError, match=r"outside deep storage"):
        backend.storage.delete({"type": backend.spec_type, "path": f"{backend.base_path}/../elsewhere"})
    with pytest.raises(StorageError, match=r"outside deep storage"):
        backend.storage.delete({"type": backend.spec_type, "path": backend.base_path})
    assert read_dir(outside) == FILES


def test_ids_that_cannot_name_a_path_are_refused(backend: Backend, tmp_path: Path) -> None:
    local = make_segment_dir(tmp_path / "built")
    for bad in (SegmentId("..", DAY, "v1"), SegmentId("wiki", DAY, ".."), SegmentId("a/b", DAY, "v1")):
        with pytest.raises(InvalidInput, match=r"cannot name a deep storage path"):
            backend.storage.push(local, bad)
    assert backend.listing() == []


def test_unknown_schemes_fail_clearly() -> None:
    with pytest.raises(StorageError, match=r"nosuchscheme"):
        DeepStorage("nosuchscheme://bucket/prefix")


def test_a_plain_path_is_local_storage(tmp_path: Path) -> None:
    storage = DeepStorage(str(tmp_path / "deep"))
    spec, _ = storage.push(make_segment_dir(tmp_path / "built"), SEGMENT)
    assert spec["type"] == "local" and spec["path"].startswith(str(tmp_path / "deep") + "/")
