"""Users and roles through the real CLI: who may run what, on which cases; reveals."""

from __future__ import annotations

import json

import pytest
import typer.main
from sqlalchemy import select
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.storage import audit
from mediation.storage._tables import access_event_table
from mediation.storage.store import Store
from tests.conftest import intake_record

NOW = "2026-03-02T09:00:00+08:00"


def cli(runner: CliRunner, db: str, actor: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", db, "--as", actor, *args], env={"MEDIATION_NOW": NOW})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def _commands() -> set[str]:
    names: set[str] = set()

    def walk(command, prefix: str) -> None:
        subs = getattr(command, "commands", None)
        if subs is None:
            names.add(prefix.strip())
            return
        for name, sub in subs.items():
            walk(sub, f"{prefix} {name}")

    walk(typer.main.get_command(app), "")
    return names


#: Commands that read no database: the declared flows, and SQL printed for an operator.
_NO_DATABASE = {"workflow list", "workflow show", "db grants"}


def test_every_command_goes_through_the_checked_api() -> None:
    """Who may run a command is decided by the library (each API method checks its
    Action); a command that opened the store itself would skip those checks."""
    import inspect

    commands = _commands()
    assert "case advance" in commands and "user grant" in commands
    callbacks = {}

    def walk(command, prefix: str) -> None:
        for name, sub in (getattr(command, "commands", None) or {}).items():
            if getattr(sub, "commands", None) is None:
                callbacks[f"{prefix}{name}"] = sub.callback
            else:
                walk(sub, f"{prefix}{name} ")

    walk(typer.main.get_command(app), "")
    assert set(callbacks) == commands
    skipping = []
    for name, callback in callbacks.items():
        source = inspect.getsource(inspect.unwrap(callback))
        # (the deadline reports share _run_report; computing a date, the calendar helper)
        helpers = (".api(", "_calendar_for_settings()", "_run_report(")
        uses_api = any(call in source for call in helpers)
        if uses_api == (name in _NO_DATABASE) or "Store(" in source:
            skipping.append(name)
    assert skipping == []


@pytest.fixture
def staffed(store: Store, runner: CliRunner, db_url: str, tmp_path) -> str:
    """An admin, two mediators of different committees, a supervisor, a member of staff."""
    # The runner (the first admin, as ``init`` makes it) adds an admin, who adds the rest:
    # the runner acts for them (``--as``), recorded.
    ok(
        cli(
            runner,
            db_url,
            store.login(),
            "user",
            "add",
            "admin",
            "--role",
            "admin",
            "--name",
            "管理员",
        )
    )
    for login, role, org in (
        ("wang", "mediator", "桥头"),
        ("li", "mediator", "城关"),
        ("zhou", "supervisor", "青山"),
        ("chen", "staff", "青山"),
    ):
        ok(cli(runner, db_url, "admin", "user", "add", login, "--role", role, "--org", org))
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(intake_record()), encoding="utf-8")
    ok(cli(runner, db_url, "wang", "case", "open", "--from", str(path)))
    return db_url


def test_no_set_up_window_whoever_runs_init_is_the_first_admin(
    db_url: str, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database with no users refuses everything but making its first admin; ``init``
    makes the login that runs it that admin, and from then on roles apply."""
    monkeypatch.delenv("MEDIATION_NOW")  # a real database: the wall clock
    mine = ["--db", db_url]
    ok(runner.invoke(app, [*mine, "db", "upgrade"]))  # the schema, no users
    for args in (["report", "overdue"], ["user", "add", "boss", "--role", "admin"]):
        refused = runner.invoke(app, [*mine, *args])
        assert refused.exit_code == 9 and "数据库尚无用户" in refused.stderr, args
        assert "mediation init" in refused.stderr
    # Nobody can claim the empty database for someone else either.
    claimed = runner.invoke(app, [*mine, "--as", "boss", "init"])
    assert claimed.exit_code == 9
    done = json.loads(ok(runner.invoke(app, [*mine, "init", "--json"])).stdout)
    login = Store(db_url).login()
    assert done["first_admin"] == login
    users = json.loads(ok(runner.invoke(app, [*mine, "user", "list", "--json"])).stdout)
    assert [(u["login"], u["roles"]) for u in users] == [(login, ["admin"])]
    # The first admin is an admin, not a supervisor: roles apply from the start.
    refused = runner.invoke(app, [*mine, "report", "overdue"])
    assert (
        refused.exit_code == 9
        and "「查看逾期报告」需要督办/主管（supervisor）角色" in refused.stderr
    )
    # A second init changes nobody's roles.
    again = json.loads(ok(runner.invoke(app, [*mine, "init", "--json"])).stdout)
    assert again["first_admin"] is None


def test_each_role_does_its_own_work(staffed: str, runner: CliRunner) -> None:
    db = staffed
    # A mediator may not run reports or add users; the refusal names the role needed.
    refused = cli(runner, db, "wang", "report", "overdue")
    assert refused.exit_code == 9 and "supervisor" in refused.stderr
    assert "mediation user grant wang supervisor" in refused.stderr
    assert cli(runner, db, "wang", "user", "add", "x", "--role", "admin").exit_code == 9
    assert (
        cli(
            runner, db, "zhou", "org", "add", "河西", "河西社区调委会", "--level", "village"
        ).exit_code
        == 9
    )
    ok(cli(runner, db, "zhou", "report", "overdue"))
    # Staff do not advance cases; the mediator of the committee does.
    assert cli(runner, db, "chen", "case", "advance", "1", "accept").exit_code == 9
    ok(cli(runner, db, "wang", "case", "advance", "1", "accept"))
    # An admin grants a role, and then it works; revoking takes it away again.
    ok(cli(runner, db, "admin", "user", "grant", "wang", "supervisor"))
    ok(cli(runner, db, "wang", "report", "overdue"))
    ok(cli(runner, db, "admin", "user", "grant", "wang", "supervisor", "--revoke"))
    assert cli(runner, db, "wang", "report", "overdue").exit_code == 9
    users = json.loads(ok(cli(runner, db, "admin", "user", "list", "--json")).stdout)
    assert {u["login"]: u["roles"] for u in users}["wang"] == ["mediator"]
    # The last admin cannot lose the role (the runner, who made the database, is the other).
    runner_login = Store(db).login()
    ok(cli(runner, db, runner_login, "user", "grant", "admin", "admin", "--revoke"))
    last = cli(runner, db, runner_login, "user", "grant", runner_login, "admin", "--revoke")
    assert last.exit_code == 2 and "系统管理员" in last.stderr


def test_mediators_act_on_their_own_committees_cases(staffed: str, runner: CliRunner) -> None:
    db = staffed
    # li belongs to 城关, the case to 桥头, and li is not assigned to it.
    for args in (
        ("case", "show", "1"),
        ("case", "history", "1"),
        ("case", "advance", "1", "accept"),
    ):
        out = cli(runner, db, "li", *args)
        assert out.exit_code == 9, args
        assert "属于其他调委会" in out.stderr
    ok(cli(runner, db, "zhou", "case", "show", "1"))  # a supervisor sees every case
    ok(cli(runner, db, "wang", "case", "advance", "1", "accept"))
    # Once li is assigned to the case, li may act on it.
    ok(
        cli(
            runner,
            db,
            "wang",
            "case",
            "advance",
            "1",
            "assign",
            "--set",
            "mediators=li",
            "--set",
            "selection=designated",
        )
    )
    ok(cli(runner, db, "li", "case", "advance", "1", "inform"))


def test_reveal_needs_a_permitted_role_and_is_recorded(
    staffed: str, runner: CliRunner, store: Store
) -> None:
    db = staffed
    masked = json.loads(ok(cli(runner, db, "wang", "case", "show", "1", "--json")).stdout)
    assert masked["parties"][0]["id_number"] == "110105********002X"
    refused = cli(runner, db, "wang", "case", "show", "1", "--reveal")
    assert refused.exit_code == 9 and "「查看未遮蔽的个人信息」" in refused.stderr
    assert "11010519491231002X" not in refused.stdout + refused.stderr
    shown = json.loads(
        ok(cli(runner, db, "zhou", "case", "show", "1", "--reveal", "--json")).stdout
    )
    assert shown["parties"][0]["id_number"] == "11010519491231002X"
    ok(cli(runner, db, "zhou", "dispute", "show", "1", "--reveal"))
    with store.read() as conn:
        reveals = conn.execute(
            select(access_event_table.c.actor, access_event_table.c.subject)
            .where(access_event_table.c.action == "reveal")
            .order_by(access_event_table.c.id)
        ).all()
        report = audit.verify(conn)
    assert [(r.actor, r.subject) for r in reveals] == [("zhou", "case 1"), ("zhou", "dispute 1")]
    assert report.ok


def test_approving_a_statutory_extension_needs_a_supervisor(
    store: Store, runner: CliRunner, db_url: str
) -> None:
    from mediation.domain import intake
    from mediation.engine import cases
    from mediation.engine.organisations import add_organisation
    from tests.conftest import T0

    add_organisation(
        store, code="青信", name="青山县信访局", level="county", kind="petition_bureau", now=T0
    )
    record = intake_record(
        organisation="青信",
        flow="petition",
        channel="petition",
        referring_organ="青山县信访局",
        referral_ref="青信〔2026〕1号",
    )
    opened = cases.open_case(store, intake.validate(record), actor="t", now=T0)
    cases.advance(store, opened.proceeding_id, "accept", actor="t", now=T0)
    ok(cli(runner, db_url, store.login(), "user", "add", "admin", "--role", "admin"))
    ok(cli(runner, db_url, "admin", "user", "add", "xu", "--role", "mediator", "--org", "青信"))
    ok(cli(runner, db_url, "admin", "user", "add", "boss", "--role", "supervisor", "--org", "青信"))
    args = (
        "case",
        "advance",
        str(opened.proceeding_id),
        "extend_handling",
        "--set",
        "approved_by=主任",
        "--set",
        "reason=情况复杂",
    )
    refused = cli(runner, db_url, "xu", *args)
    assert (
        refused.exit_code == 9
        and "「`extend_handling`」需要督办/主管（supervisor）角色" in refused.stderr
    )
    ok(cli(runner, db_url, "boss", *args))


def test_a_full_export_is_for_admins_only(staffed: str, runner: CliRunner, tmp_path) -> None:
    db = staffed
    full, masked = tmp_path / "full.jsonl", tmp_path / "masked.jsonl"
    refused = cli(runner, db, "zhou", "export", "--reveal", "-o", str(full))
    assert (
        refused.exit_code == 9
        and "「导出未遮蔽的个人信息」需要系统管理员（admin）角色" in refused.stderr
    )
    assert not full.exists()
    ok(cli(runner, db, "zhou", "export", "-o", str(masked)))
    assert "11010519491231002X" not in masked.read_text(encoding="utf-8")
    assert cli(runner, db, "wang", "export", "-o", str(tmp_path / "m2.jsonl")).exit_code == 9
    ok(cli(runner, db, "admin", "export", "--reveal", "-o", str(full)))
    assert "11010519491231002X" in full.read_text(encoding="utf-8")


def test_a_supervisor_reassigns_a_case(staffed: str, runner: CliRunner) -> None:
    db = staffed
    ok(cli(runner, db, "wang", "case", "advance", "1", "accept"))
    ok(
        cli(
            runner,
            db,
            "wang",
            "case",
            "advance",
            "1",
            "assign",
            "--set",
            "mediators=wang",
            "--set",
            "selection=designated",
        )
    )
    args = ("case", "reassign", "1", "--mediator", "li", "--reason", "原调解员回避")
    refused = cli(runner, db, "wang", *args)
    assert (
        refused.exit_code == 9 and "「改派调解员」需要督办/主管（supervisor）角色" in refused.stderr
    )
    out = ok(cli(runner, db, "zhou", *args))
    assert "wang → li" in out.stdout
    shown = json.loads(ok(cli(runner, db, "li", "case", "show", "1", "--json")).stdout)
    assert shown["proceeding"]["mediators"] == ["li"] and shown["proceeding"]["state"] == "assigned"
    history = json.loads(ok(cli(runner, db, "zhou", "case", "history", "1", "--json")).stdout)
    last = history["events"][-1]
    assert (last["trigger"], last["actor"], last["note"]) == ("reassign", "zhou", "原调解员回避")
    no_reason = cli(
        runner, db, "zhou", "case", "reassign", "1", "--mediator", "li", "--reason", " "
    )
    assert no_reason.exit_code == 3
