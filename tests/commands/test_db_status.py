"""``db status`` looks and never creates: a SQLite database whose file or folder does not
exist is exit 7, with a message in Chinese that says how to create it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mediation.cli import app
from mediation.errors import ExitCode


@pytest.mark.parametrize(
    ("where", "said"),
    [("missing.db", "文件"), ("no-such-folder/centre.db", "文件夹")],
    ids=["file", "folder"],
)
def test_db_status_never_creates_a_database(runner, tmp_path: Path, where: str, said: str):
    path = tmp_path / where
    for args in (["db", "status"], ["db", "status", "--json"]):
        result = runner.invoke(app, ["--db", str(path), *args])
        assert result.exit_code == ExitCode.SCHEMA, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert f"没有调解数据库：{said}" in result.stderr
        assert "mediation init" in result.stderr
        assert f"mediation --db {path} init" in result.stderr
        assert not path.exists() and not path.parent.joinpath(path.name + "-wal").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    data = json.loads(result.stdout)  # scripts still get the status
    assert (data["exists"], data["current"], data["revision"]) == (False, False, None)


def test_db_status_then_init_as_the_hint_says(runner, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("MEDIATION_NOW")  # a real database: the wall clock
    path = tmp_path / "new-folder" / "centre.db"
    assert runner.invoke(app, ["--db", str(path), "db", "status"]).exit_code == ExitCode.SCHEMA
    result = runner.invoke(app, ["--db", str(path), "init"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["--db", str(path), "db", "status", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["exists"] is True
