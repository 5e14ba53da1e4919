"""A pinned clock (``MEDIATION_NOW``) is honoured on training databases only (issue 13).

A training database is made by ``init --training`` (or ``demo``) while it is new; its
documents say 培训演示. On any other database ``MEDIATION_NOW`` is refused before anything
is written: otherwise anyone could date an event as they please (an event dated 2020 after
one dated 2026 was the finding).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.errors import ExitCode
from mediation.storage._tables import event_table, installation_setting_table
from mediation.storage.store import Store
from tests.conftest import intake_record

PINNED = "2026-03-02T09:00:00+08:00"
INIT = ["init", "--org-code", "桥头", "--org-name", "桥头村人民调解委员会"]
INIT += ["--role", "mediator", "--role", "staff", "--role", "supervisor"]


def _cli(runner: CliRunner, db: Path, *args: str, now: str | None = None) -> Result:
    return runner.invoke(app, ["--db", str(db), *args], env={"MEDIATION_NOW": now})


def _intake(tmp_path: Path) -> str:
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(intake_record(), ensure_ascii=False), "utf-8")
    return str(path)


def _events(db: Path) -> int:
    with Store(f"sqlite:///{db}") as store, store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(event_table)).scalar_one())


@pytest.fixture
def real_db(runner: CliRunner, tmp_path: Path) -> Path:
    """A database in use: made on the wall clock, not for training, with one case."""
    db = tmp_path / "centre.db"
    assert _cli(runner, db, *INIT).exit_code == 0
    opened = _cli(runner, db, "case", "open", "--from", _intake(tmp_path))
    assert opened.exit_code == 0, opened.stderr
    return db


def test_a_pinned_clock_is_refused_on_a_real_database(
    runner: CliRunner, real_db: Path, tmp_path: Path
) -> None:
    before = _events(real_db)
    for args in (
        ["case", "advance", "1", "accept"],
        ["case", "open", "--from", _intake(tmp_path)],
        ["report", "overdue"],
    ):
        refused = _cli(runner, real_db, *args, now=PINNED)
        assert refused.exit_code == ExitCode.PERMISSION, (args, refused.stderr)
        assert "MEDIATION_NOW" in refused.stderr and "培训演示数据库" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert _events(real_db) == before  # nothing written
    # On the wall clock the same step is recorded.
    assert _cli(runner, real_db, "case", "advance", "1", "accept").exit_code == 0
    assert _events(real_db) == before + 1


def test_a_real_database_never_becomes_a_training_one(runner: CliRunner, real_db: Path) -> None:
    refused = _cli(runner, real_db, "init", "--training")
    assert refused.exit_code == ExitCode.USAGE
    assert "已在使用的数据库不能改为培训演示数据库" in refused.stderr
    with Store(f"sqlite:///{real_db}") as store, store.read() as conn:
        assert conn.execute(select(installation_setting_table)).all() == []
    assert _cli(runner, real_db, "report", "overdue", now=PINNED).exit_code == ExitCode.PERMISSION


def test_init_with_a_pinned_clock_creates_nothing_unless_for_training(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = tmp_path / "new.db"
    refused = _cli(runner, db, *INIT, now=PINNED)
    assert refused.exit_code == ExitCode.PERMISSION, refused.stderr
    assert "init --training" in refused.stderr
    status = _cli(runner, db, "db", "status")
    assert status.exit_code == ExitCode.SCHEMA  # no schema was made


def test_a_training_database_honours_the_pinned_clock_and_says_so_on_its_documents(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = tmp_path / "training.db"
    made = _cli(runner, db, *INIT, "--training", "--json", now=PINNED)
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["training"] is True
    assert _cli(runner, db, "case", "open", "--from", _intake(tmp_path), now=PINNED).exit_code == 0
    later = "2026-03-03T10:00:00+08:00"
    assert _cli(runner, db, "case", "advance", "1", "accept", now=later).exit_code == 0
    history = json.loads(_cli(runner, db, "case", "history", "1", "--json", now=later).stdout)
    assert [e["occurred_at"][:10] for e in history["events"]] == ["2026-03-02", "2026-03-03"]
    out = tmp_path / "registration.pdf"
    rendered = _cli(runner, db, "doc", "render", "1", "registration", "-o", str(out), now=later)
    assert rendered.exit_code == 0, rendered.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "培训演示" in text


def test_documents_of_a_real_database_carry_no_training_mark(
    runner: CliRunner, real_db: Path, tmp_path: Path
) -> None:
    assert _cli(runner, real_db, "case", "advance", "1", "accept").exit_code == 0
    out = tmp_path / "registration.pdf"
    rendered = _cli(runner, real_db, "doc", "render", "1", "registration", "-o", str(out))
    assert rendered.exit_code == 0, rendered.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "培训演示" not in text and "受理" in text
