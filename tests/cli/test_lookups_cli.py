"""``grove lookups list|set|delete`` in process: the lookups land in the metadata store of the home and
SQL of the same database uses them; a stale version or an unknown lookup is one ``grove: error:`` line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import grove
from grove.cli.main import main


def run(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_set_list_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    mapping = tmp_path / "regions.json"
    mapping.write_text(json.dumps({"US": "North America", "FR": "Europe"}))
    code, out, _ = run(capsys, home, "lookups", "set", "regions", str(mapping), "--version", "v1")
    assert code == 0 and "v1" in out

    code, out, _ = run(capsys, home, "lookups", "list", "--output", "json")
    assert code == 0
    listed = json.loads(out)
    assert listed == {
        "__default": {
            "regions": {
                "version": "v1",
                "lookupExtractorFactory": {
                    "type": "map",
                    "map": {"US": "North America", "FR": "Europe"},
                    "isOneToOne": False,
                },
            }
        }
    }
    code, out, _ = run(capsys, home, "lookups", "list")
    assert code == 0 and "regions" in out

    with grove.open(str(home)) as db:
        assert db.sql("SELECT k FROM lookup.regions ORDER BY k").rows == [["FR"], ["US"]]

    code, _, err = run(capsys, home, "lookups", "set", "regions", str(mapping), "--version", "v0")
    assert code == 1 and err.startswith("grove: error:") and "[v0]" in err

    code, _, _ = run(capsys, home, "lookups", "delete", "regions")
    assert code == 0
    code, _, err = run(capsys, home, "lookups", "delete", "regions")
    assert code == 1 and "Lookup [regions] not found" in err


def test_set_refuses_a_map_that_is_not_an_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    code, _, err = run(capsys, tmp_path / "home", "lookups", "set", "x", str(bad))
    assert code == 1 and "JSON object" in err


def test_default_version_is_the_current_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "m.json"
    mapping.write_text('{"a": "b"}')
    assert run(capsys, tmp_path / "home", "lookups", "set", "m", str(mapping), "--injective")[0] == 0
    with grove.open(str(tmp_path / "home")) as db:
        (record,) = db.lookups()
        assert record.version.endswith("Z") and record.factory["isOneToOne"] is True
        assert db.lookup_registry.get("m") is not None and db.lookup_registry.get("m").injective  # type: ignore[union-attr]
