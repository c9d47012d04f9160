"""Settings: defaults < grove.toml in the home folder < GROVE_* environment < explicit values."""

from __future__ import annotations

from pathlib import Path

import pytest

from grove.common.config import SETTINGS, Config
from grove.errors import InvalidInput


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = Config.load(environ={})
    home = str((tmp_path / "var").absolute())
    assert cfg.home == "./var"
    assert cfg.metadata_url == f"sqlite:///{home}/metadata.db"
    assert cfg.deep_storage == f"file://{home}/deep-storage"
    assert cfg.segment_cache == f"{home}/segment-cache"
    assert cfg.tmp_dir == f"{home}/tmp"
    assert cfg.ingest_workers == 0
    assert cfg.workers() >= 1


def test_every_setting_is_declared_once_with_env_and_flag() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert set(names) == set(Config.__dataclass_fields__)
    for s in SETTINGS:
        assert s.env == "GROVE_" + s.name.upper()
        assert s.flag == "--" + s.name.replace("_", "-")
        assert s.help.strip()


def test_environment_overrides_defaults(tmp_path: Path) -> None:
    env = {
        "GROVE_HOME": str(tmp_path),
        "GROVE_INGEST_WORKERS": "3",
        "GROVE_DEEP_STORAGE": "s3://bucket/prefix",
        "UNRELATED": "x",
    }
    cfg = Config.load(environ=env)
    assert cfg.home == str(tmp_path)
    assert cfg.ingest_workers == 3 and cfg.workers() == 3
    assert cfg.deep_storage == "s3://bucket/prefix"
    assert cfg.segment_cache == f"{tmp_path}/segment-cache"


def test_config_file_in_the_home_folder(tmp_path: Path) -> None:
    (tmp_path / "grove.toml").write_text(
        '[grove]\ningest_workers = 5\nsegment_cache = "{home}/cache-from-file"\n'
        'metadata_url = "postgresql+psycopg://db/grove"\n'
    )
    cfg = Config.load(environ={"GROVE_HOME": str(tmp_path)})
    assert cfg.ingest_workers == 5
    assert cfg.segment_cache == f"{tmp_path}/cache-from-file"
    assert cfg.metadata_url == "postgresql+psycopg://db/grove"
    # The explicit home wins over the environment when looking for the file, too.
    cfg = Config.load({"home": str(tmp_path)}, environ={"GROVE_HOME": "/nonexistent"})
    assert cfg.ingest_workers == 5


def test_precedence_default_file_env_explicit(tmp_path: Path) -> None:
    (tmp_path / "grove.toml").write_text("[grove]\ningest_workers = 5\ntmp_dir = '/from/file'\n")
    env = {"GROVE_HOME": str(tmp_path), "GROVE_INGEST_WORKERS": "6"}
    cfg = Config.load(environ=env)
    assert cfg.ingest_workers == 6  # env beats file
    assert cfg.tmp_dir == "/from/file"  # file beats default
    cfg = Config.load({"ingest_workers": 7, "tmp_dir": None}, environ=env)
    assert cfg.ingest_workers == 7  # explicit beats env
    assert cfg.tmp_dir == "/from/file"  # an explicit None means "not given"


def test_home_expansion_everywhere(tmp_path: Path) -> None:
    cfg = Config.load(
        {"home": str(tmp_path), "deep_storage": "file://{home}/elsewhere"},
        environ={"GROVE_TMP_DIR": "{home}/scratch"},
    )
    assert cfg.deep_storage == f"file://{tmp_path}/elsewhere"
    assert cfg.tmp_dir == f"{tmp_path}/scratch"
    assert "{home}" not in cfg.metadata_url


def test_relative_home_expands_to_an_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = Config.load({"home": "data"}, environ={})
    assert cfg.home == "data"
    assert cfg.tmp_dir == f"{tmp_path}/data/tmp"


@pytest.mark.parametrize(
    ("overrides", "env"),
    [
        ({"ingest_workers": "many"}, {}),
        ({"ingest_workers": "1.5"}, {}),
        ({}, {"GROVE_INGEST_WORKERS": "lots"}),
        ({"bogus_setting": 1}, {}),
    ],
)
def test_bad_values_are_invalid_input(
    overrides: dict[str, object], env: dict[str, str], tmp_path: Path
) -> None:
    env = {"GROVE_HOME": str(tmp_path), **env}
    with pytest.raises(InvalidInput) as err:
        Config.load(overrides, environ=env)
    assert err.value.path in ("ingest_workers", "bogus_setting")


def test_bad_value_in_the_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "grove.toml").write_text('[grove]\ningest_workers = "four"\n')
    with pytest.raises(InvalidInput) as err:
        Config.load(environ={"GROVE_HOME": str(tmp_path)})
    assert "grove.toml" in err.value.message and "ingest_workers" in err.value.message


@pytest.mark.parametrize("value", ["2.5", "true", "[1]"])
def test_wrongly_typed_file_values_are_not_coerced(tmp_path: Path, value: str) -> None:
    (tmp_path / "grove.toml").write_text(f"[grove]\ningest_workers = {value}\n")
    with pytest.raises(InvalidInput):
        Config.load(environ={"GROVE_HOME": str(tmp_path)})


def test_unparseable_file_is_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "grove.toml").write_text("[grove\nnot toml")
    with pytest.raises(InvalidInput) as err:
        Config.load(environ={"GROVE_HOME": str(tmp_path)})
    assert str(tmp_path / "grove.toml") in err.value.message


def test_config_is_immutable(tmp_path: Path) -> None:
    cfg = Config.load({"home": str(tmp_path)}, environ={})
    with pytest.raises(AttributeError):
        cfg.home = "/elsewhere"  # type: ignore[misc]
