"""治安调解: the parties settle without the police's mediation (issue 14, "Missing
procedure"), walked through the real CLI on a SQLite file and on PostgreSQL.

治安管理处罚法 (2025 text) art. 9, third paragraph: for a case within the scope of police
mediation, before the police decide, the parties may settle by themselves (自行和解) or
through a people's mediation committee (经人民调解委员会调解达成协议); once that agreement is
performed and the police approve the parties' written application, there is no penalty.
The approval is the police's (a supervisor), and the settlement is not the police's
mediation success (counted as the parties ending it, like a withdrawal).

Dates by hand (domain.md §4; 程序规定 art. 183: 7 working days from the first session):
first session Thu 4/30; 5/1-5/5 劳动节 are rest days; working days 5/6 (1), 5/7 (2),
5/8 (3), Sat 5/9 调休 (4), 5/11 (5), 5/12 (6), 5/13 (7) → due Wed 5/13.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.errors import ExitCode
from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal.helpers import Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    yield Cli(runner, db_url, tmp_path)


def _public_order(cli: Cli, day: str) -> str:
    return cli.open(day, flow="public_order", organisation="城关")


def test_a_settlement_through_people_s_mediation_approved_means_no_penalty(cli: Cli) -> None:
    case = _public_order(cli, "2026-04-29")
    cli.step(case, "first_session", "2026-04-30", kind="调解", summary="第一次调解，未达成。")
    clock = cli.deadline(case, "second_session", "2026-04-30")
    # Worked in the module docstring: 7 working days from Thu 4/30, 调休 Sat 5/9 counted.
    assert (clock["starts_on"], clock["due"]) == ("2026-04-30", "2026-05-13")
    # Fri 5/8: the village committee mediated, 李四 paid; the parties apply in writing and
    # the police approve (label accepted for settled_by, as a mediator types it).
    done = cli.step(
        case, "settlement_approved", "2026-05-08",
        settled_by="经人民调解委员会调解", summary="经桥头村调委会调解达成协议并已履行，双方书面申请。",
    )  # fmt: skip
    assert "不予处罚" in done.stdout
    assert cli.state(case, "2026-05-08") == "settled"
    # The police's own clock ends without its mediation being late (5/8 is before 5/13).
    assert cli.deadline(case, "second_session", "2026-05-08")["status"] != "late"
    shown = cli.json("case", "show", case, day="2026-05-08")
    assert shown["proceeding"]["outcome"] == "withdrawn"
    (event,) = [e for e in cli.events(case, "2026-05-08") if e["trigger"] == "settlement_approved"]
    assert event["payload"]["settled_by"] == "peoples"
    # The statute printed for the step: 治安管理处罚法第九条, the third paragraph.
    flow = cli.ok("workflow", "show", "public_order", day="2026-05-08").stdout
    (line,) = [row for row in flow.splitlines() if "settlement_approved" in row]
    assert "治安管理处罚法第九条" in line and "第三款" in line


def test_the_parties_settle_by_themselves_before_any_session(cli: Cli) -> None:
    case = _public_order(cli, "2026-03-02")
    cli.step(
        case, "settlement_approved", "2026-03-04", settled_by="self", summary="自行和解并履行。"
    )
    assert cli.state(case, "2026-03-04") == "settled"


def test_a_settlement_after_the_police_decided_or_with_no_known_way_is_refused(cli: Cli) -> None:
    case = _public_order(cli, "2026-03-02")
    bad = cli.advance(
        case, "settlement_approved", "2026-03-03", settled_by="私了", summary="和解。"
    )
    assert bad.exit_code == ExitCode.INVALID_INPUT, bad.stderr
    assert "当事人自行和解" in bad.stderr and "经人民调解委员会调解" in bad.stderr
    assert cli.state(case, "2026-03-03") == "accepted"
    # Once the police decided (penalty after no agreement), there is nothing left to approve.
    cli.step(case, "first_session", "2026-03-03", kind="mediation", summary="第一次调解。")
    cli.step(case, "not_agreed", "2026-03-04", reason="赔偿数额分歧", penalty="罚款200元")
    late = cli.advance(
        case, "settlement_approved", "2026-03-05", settled_by="self", summary="和解。"
    )
    assert late.exit_code == ExitCode.NOT_ALLOWED
    assert cli.state(case, "2026-03-05") == "penalised"
