"""``org edit`` and ``org retire`` through the real CLI, on both databases: an organisation
is corrected or moved on the ladder, or retired; every change is an access event of the
audit chain; a retired committee receives no new case and no escalation while its cases
stay readable; escalating from a committee with no parent says how to set one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.errors import ExitCode
from mediation.storage._tables import access_event_table
from mediation.storage.store import Store
from tests.conftest import add_users, intake_record

NOW = "2026-03-02T09:00:00+08:00"


def cli(runner: CliRunner, db: str, *args: str, actor: str = "") -> Result:
    acting = ["--as", actor] if actor else []
    return runner.invoke(app, ["--db", db, *acting, *args], env={"MEDIATION_NOW": NOW})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def org(runner: CliRunner, db: str, code: str) -> dict[str, Any]:
    rows = as_json(cli(runner, db, "org", "list", "--json"))
    found: dict[str, Any] = next(r for r in rows if r["code"] == code)
    return found


def open_case(runner: CliRunner, db: str, tmp_path: Path, organisation: str = "桥头") -> Result:
    path = tmp_path / f"intake-{organisation}.json"
    record = intake_record(organisation=organisation)
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return cli(runner, db, "case", "open", "--from", str(path), "--json")


def org_events(store: Store) -> list[tuple[str, str, dict[str, Any]]]:
    t = access_event_table
    with store.read() as conn:
        rows = conn.execute(
            select(t.c.action, t.c.subject, t.c.detail)
            .where(t.c.action.like("org_%"))
            .order_by(t.c.id)
        ).all()
    return [(r.action, r.subject, r.detail) for r in rows]


def test_org_edit_corrects_the_name_and_moves_on_the_ladder(
    store: Store, db_url: str, runner: CliRunner
) -> None:
    renamed = ok(cli(runner, db_url, "org", "edit", "桥头", "--name", "桥头村人民调解委员会（新）"))
    assert "桥头 名称：桥头村人民调解委员会 → 桥头村人民调解委员会（新）" in renamed.stdout
    assert org(runner, db_url, "桥头")["name"] == "桥头村人民调解委员会（新）"

    # 城关 moves under another county's committee.
    ok(cli(runner, db_url, "org", "add", "溪山", "溪山县人民调解委员会", "--level", "county"))
    ok(cli(runner, db_url, "org", "edit", "城关", "--parent", "溪山"))
    assert org(runner, db_url, "城关")["parent"] == "溪山"
    # A village committee registered without a parent becomes a township one under 青山
    # (the level given by its label).
    ok(cli(runner, db_url, "org", "add", "溪口", "溪口人民调解委员会", "--level", "village"))
    moved = as_json(
        cli(
            runner,
            db_url,
            "org",
            "edit",
            "溪口",
            "--level",
            "乡镇/街道",
            "--parent",
            "青山",
            "--json",
        )
    )
    assert (moved["level"], moved["parent"]) == ("township", "青山")
    assert moved["changed"] == {
        "level": {"before": "village", "after": "township"},
        "parent": {"before": None, "after": "青山"},
    }

    edits = [e for e in org_events(store) if e[0] == "org_edit"]
    assert edits == [
        (
            "org_edit",
            "桥头",
            {
                "changed": {
                    "name": {
                        "before": "桥头村人民调解委员会",
                        "after": "桥头村人民调解委员会（新）",
                    }
                }
            },
        ),
        ("org_edit", "城关", {"changed": {"parent": {"before": "青山", "after": "溪山"}}}),
        ("org_edit", "溪口", {"changed": moved["changed"]}),
    ]
    assert ok(cli(runner, db_url, "audit", "verify")).exit_code == 0


def test_org_edit_refuses_what_breaks_the_ladder(
    store: Store, db_url: str, runner: CliRunner
) -> None:
    wrong_level = cli(runner, db_url, "org", "edit", "桥头", "--parent", "青山")
    assert wrong_level.exit_code == ExitCode.INVALID_INPUT, wrong_level.stderr
    assert "不是村/社区的上一级" in wrong_level.stderr
    orphans = cli(runner, db_url, "org", "edit", "城关", "--level", "county", "--parent", "江城")
    assert orphans.exit_code == ExitCode.INVALID_INPUT
    assert "下级组织 桥头" in orphans.stderr
    typo = cli(runner, db_url, "org", "edit", "桥投", "--name", "x")
    assert typo.exit_code == ExitCode.NOT_FOUND
    assert "'桥头'" in typo.stderr
    nothing = cli(runner, db_url, "org", "edit", "桥头")
    assert nothing.exit_code == ExitCode.INVALID_INPUT
    assert org_events(store) == []


def test_escalating_without_a_parent_says_how_to_set_one(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    ok(cli(runner, db_url, "org", "edit", "桥头", "--parent", ""))
    assert org(runner, db_url, "桥头")["parent"] is None
    case = as_json(open_case(runner, db_url, tmp_path))["proceeding_id"]
    ok(cli(runner, db_url, "case", "advance", str(case), "accept"))
    refused = cli(
        runner, db_url, "case", "advance", str(case), "escalate", "--set", "reason=案情复杂"
    )
    assert refused.exit_code == ExitCode.NOT_ALLOWED, refused.stderr
    assert "没有上级调委会" in refused.stderr
    assert "mediation org edit 桥头 --parent" in refused.stderr

    ok(cli(runner, db_url, "org", "edit", "桥头", "--parent", "城关"))
    escalated = cli(
        runner, db_url, "case", "advance", str(case), "escalate", "--set", "reason=案情复杂"
    )
    assert "移交：（2026）城关人调字第1号" in ok(escalated).stdout


def test_a_retired_committee_receives_no_case_nor_escalation(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    case = as_json(open_case(runner, db_url, tmp_path))["proceeding_id"]
    ok(cli(runner, db_url, "case", "advance", str(case), "accept"))

    retired = ok(cli(runner, db_url, "org", "retire", "城关", "--reason", "并入青山"))
    assert "已撤销：城关 城关镇人民调解委员会" in retired.stdout
    assert "下级组织 桥头" in retired.stdout
    assert "mediation org edit 桥头 --parent" in retired.stdout
    assert org(runner, db_url, "城关")["retired_at"].startswith("2026-03-02")
    assert "已撤销（2026-03-02）" in ok(cli(runner, db_url, "org", "list")).stdout

    refused = open_case(runner, db_url, tmp_path, organisation="城关")
    assert refused.exit_code == ExitCode.NOT_ALLOWED, refused.stderr
    assert "城关" in refused.stderr and "已于 2026-03-02 撤销" in refused.stderr
    escalate = cli(
        runner, db_url, "case", "advance", str(case), "escalate", "--set", "reason=案情复杂"
    )
    assert escalate.exit_code == ExitCode.NOT_ALLOWED
    assert "上一级调委会 城关 已撤销" in escalate.stderr
    assert "mediation org edit 桥头 --parent" in escalate.stderr
    # Nor can it become anyone's parent again.
    reparent = cli(runner, db_url, "org", "edit", "桥头", "--parent", "城关")
    assert reparent.exit_code == ExitCode.INVALID_INPUT
    again = cli(runner, db_url, "org", "retire", "城关")
    assert again.exit_code == ExitCode.NOT_ALLOWED

    # The committee's own cases stay readable; the village one still works.
    assert ok(cli(runner, db_url, "case", "show", str(case))).exit_code == 0
    assert open_case(runner, db_url, tmp_path).exit_code == 0
    assert org_events(store) == [("org_retire", "城关", {"reason": "并入青山", "open_cases": 0})]


def test_org_edit_and_retire_are_for_admins(store: Store, db_url: str, runner: CliRunner) -> None:
    add_users(store, "mediator1")
    for args in (("org", "edit", "桥头", "--name", "x"), ("org", "retire", "桥头")):
        denied = cli(runner, db_url, *args, actor="mediator1")
        assert denied.exit_code == ExitCode.PERMISSION, (args, denied.stderr)
    assert org(runner, db_url, "桥头")["retired_at"] is None
    assert org_events(store) == []


def test_org_add_is_recorded(store: Store, db_url: str, runner: CliRunner) -> None:
    ok(cli(runner, db_url, "org", "add", "溪口", "溪口村人民调解委员会", "--level", "village"))
    assert org_events(store) == [
        (
            "org_add",
            "溪口",
            {
                "name": "溪口村人民调解委员会",
                "kind": "people_committee",
                "level": "village",
                "parent": None,
                "court_code": None,
            },
        )
    ]


def test_a_bulk_import_into_a_retired_committee_is_refused_by_row(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    import csv

    from mediation.engine.imports import ROW_FIELDS

    ok(cli(runner, db_url, "org", "retire", "城关"))
    row = dict.fromkeys(ROW_FIELDS, "")
    row.update(
        external_ref="GD2026000001",
        organisation="城关",
        dispute_type="neighbourhood",
        title="12345工单：邻里噪音扰民",
        applicant_name="来电人",
        respondent_name="住户",
    )
    path = tmp_path / "rows.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(ROW_FIELDS))
        writer.writeheader()
        writer.writerow(row)
    result = cli(runner, db_url, "intake", "import", str(path), "--channel", "hotline")
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert "调委会 城关 已撤销" in result.output
    assert as_json(cli(runner, db_url, "case", "list", "--json")) == []
