"""Issue 14, missing procedure: the trial limits of judicial mediation (民事诉讼法 2023 art.
152: 普通程序 six months from filing, extendable by six months with the court president's
approval; art. 164: 简易程序 three months, extendable by one month likewise) as windows the
parties see in ``case show``, extended by ``extend_trial_limit`` with the approval recorded,
reported when overrun and nothing more.

Dates worked by hand (domain.md §4): a period in months ends on the same day number of the
last month; a last day on a rest day moves to the next working day. 2026 holidays: 4/4-4/6,
5/1-5/5, 6/19-6/21, 9/25-9/27, 10/1-10/7; 调休 working days Sat 5/9, Sun 9/20, Sat 10/10.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal.helpers import Cli
from tests.legal.test_court_documents import PARTIES, add_court


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    made = Cli(runner, db_url, tmp_path)
    add_court(made, "浙0681")
    yield made


def _open(cli: Cli, day: str, flow: str, filed: str) -> str:
    return cli.open(
        day,
        flow=flow,
        organisation="青山法院",
        parties=PARTIES,
        received_at=f"{filed}T10:00:00+08:00",
    )


def test_simple_procedure_three_months_and_one_more_with_approval(cli: Cli) -> None:
    case = _open(cli, "2026-03-02", "judicial_simple", "2026-03-02")
    shown = cli.json("case", "show", case, day="2026-03-02")
    limit = next(d for d in shown["deadlines"] if d["kind"] == "trial_limit")
    # Filed Mon 3/2 + 3 months → Tue 6/2, a working day.
    assert (limit["starts_on"], limit["due"], limit["status"]) == (
        "2026-03-02",
        "2026-06-02",
        "open",
    )
    assert (
        "民事诉讼法第一百六十四条" in limit["legal_basis"]
        and limit["label"] == "审理期限（简易程序）"
    )
    cli.step(case, "record_session", "2026-03-05", kind="mediation", summary="法庭主持调解。")
    cli.step(case, "extend_trial_limit", "2026-05-25", approved_by="院长王某", reason="需调取证据")
    # + 1 month from the nominal last day 6/2 → Thu 7/2.
    row = cli.deadline(case, "trial_limit", "2026-05-25")
    assert (row["due"], row["extensions"]) == ("2026-07-02", 1)
    event = cli.events(case, "2026-05-25")[-1]
    assert event["trigger"] == "extend_trial_limit"
    assert event["payload"]["approved_by"] == "院长王某"
    # Granted once only.
    again = cli.refused("case", "advance", case, "extend_trial_limit", "--set",
                        "approved_by=院长王某", "--set", "reason=再延", day="2026-06-10")  # fmt: skip
    assert "已延长过" in again.stderr


def test_ordinary_procedure_six_months_rolled_past_national_day(cli: Cli) -> None:
    # Filed Fri 4/3, typed in on Tue 4/7: the limit counts from filing. 4/3 + 6 months →
    # Sat 10/3, inside National Day (10/1-10/7) → Thu 10/8.
    case = _open(cli, "2026-04-07", "judicial", "2026-04-03")
    row = cli.deadline(case, "trial_limit", "2026-04-07")
    assert (row["starts_on"], row["due"]) == ("2026-04-03", "2026-10-08")
    assert "民事诉讼法第一百五十二条" in row["legal_basis"]
    cli.step(case, "record_session", "2026-04-08", kind="mediation", summary="法庭主持调解。")
    cli.step(case, "extend_trial_limit", "2026-09-28", approved_by="院长王某", reason="案情复杂")
    # + 6 months from the nominal last day 10/3 (not the rolled 10/8) → Sat 2027-04-03; 2027
    # is not announced: the provisional rule (weekends) → Mon 2027-04-05.
    row = cli.deadline(case, "trial_limit", "2026-09-28")
    assert (row["due"], row["extensions"]) == ("2027-04-05", 1)


def test_an_overrun_is_reported_and_nothing_more(cli: Cli) -> None:
    case = _open(cli, "2026-03-02", "judicial_simple", "2026-03-02")
    cli.step(case, "record_session", "2026-03-05", kind="mediation", summary="法庭主持调解。")
    cli.scheduler("2026-06-03")  # the day after 6/2
    assert cli.state(case, "2026-06-03") == "mediating"
    report = cli.ok("report", "overdue", day="2026-06-03").stdout
    assert case in report and "审理期限" in report
    # The case ends normally: the limit is stopped as overrun (逾期完成), not as a lapse.
    cli.step(case, "to_judgment", "2026-06-04", reason="调解不成")
    stopped = cli.deadline(case, "trial_limit", "2026-06-04")
    assert stopped["status"] == "late"


def test_an_agreement_within_the_limit_meets_it(cli: Cli) -> None:
    case = _open(cli, "2026-03-02", "judicial_simple", "2026-03-02")
    cli.step(case, "record_session", "2026-03-05", kind="mediation", summary="法庭主持调解。")
    cli.step(case, "record_only", "2026-03-06", terms="被告当庭清理杂物。")
    assert cli.deadline(case, "trial_limit", "2026-03-06")["status"] == "met"
