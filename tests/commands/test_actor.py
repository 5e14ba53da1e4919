"""Who acts is not what the caller claims (SQLite: the operating-system account).

The database's admin is ``boss``; this process's OS account is only a mediator in it.
Every environment variable and option that used to name the actor names ``boss``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.storage._tables import access_event_table
from mediation.storage.identity import os_login
from mediation.storage.store import Store

NOW = "2026-03-02T09:00:00+08:00"
CLAIMS = {"LOGNAME": "boss", "USER": "boss", "USERNAME": "boss"}


def _run(runner: CliRunner, db: Path, *args: str, **env: str | None) -> Result:
    return runner.invoke(app, ["--db", str(db), *args], env={"MEDIATION_NOW": NOW, **env})


def _access(db: Path) -> list[tuple[str, str, str]]:
    with Store(f"sqlite:///{db}") as store, store.read() as conn:
        rows = conn.execute(
            select(
                access_event_table.c.action,
                access_event_table.c.actor,
                access_event_table.c.subject,
            ).order_by(access_event_table.c.id)
        ).all()
    return [(r.action, r.actor, r.subject) for r in rows]


@pytest.fixture
def committee(tmp_path: Path, runner: CliRunner) -> Path:
    """Made by this account (the first admin), which then hands admin to ``boss`` and
    keeps only its mediator role."""
    db = tmp_path / "c.db"
    me = os_login()
    steps = (
        (
            "init",
            "--training",
            "--org-code",
            "桥头",
            "--org-name",
            "桥头村人民调解委员会",
            "--role",
            "mediator",
        ),
        ("user", "add", "boss", "--role", "admin"),
        ("user", "grant", me, "admin", "--revoke"),
    )
    for args in steps:
        done = _run(runner, db, *args, MEDIATION_USER=None)
        assert done.exit_code == 0, (args, done.output)
    return db


def test_the_os_account_acts_whatever_the_environment_says(
    committee: Path, runner: CliRunner
) -> None:
    before = _access(committee)
    # A mediator: case list works, user list (admins only) does not, whatever LOGNAME says.
    assert _run(runner, committee, "case", "list", **CLAIMS).exit_code == 0
    refused = _run(runner, committee, "user", "list", **CLAIMS)
    assert refused.exit_code == 9 and f"{os_login()!r} 的角色为 mediator" in refused.output
    # Claiming to act for the admin is refused, by option or by MEDIATION_USER.
    for extra, env in ((["--as", "boss"], {}), ([], {"MEDIATION_USER": "boss"})):
        claimed = _run(runner, committee, *extra, "user", "list", **CLAIMS, **env)
        assert claimed.exit_code == 9, (extra, env, claimed.output)
        assert "只有系统管理员可以代他人操作" in claimed.output
        assert "boss" not in claimed.stdout
    assert _access(committee) == before  # nothing recorded


def test_an_admin_acting_for_someone_is_recorded(committee: Path, runner: CliRunner) -> None:
    me = os_login()
    # Give the admin role back for support, then act for boss: recorded as this account's.
    with Store(f"sqlite:///{committee}") as store:
        from mediation import Mediation

        Mediation(store, "boss").grant(me, ["admin"])
    shown = _run(runner, committee, "--as", "boss", "user", "list", MEDIATION_USER=None)
    assert shown.exit_code == 0, shown.output
    assert _access(committee)[-1] == ("act_for", me, "boss")
    # With the roles of the one acted for: boss (an admin only) may not open cases.
    refused = _run(runner, committee, "--as", "boss", "report", "overdue", MEDIATION_USER=None)
    assert refused.exit_code == 9 and "'boss' 的角色为 admin" in refused.output
