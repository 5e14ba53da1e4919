"""End-to-end scenarios for issue 14's dates: whole cases driven through the real CLI, each
step at its own moment, each expected date worked by hand from domain.md §4.

2026 holidays: 1/1-1/3, 2/15-2/23, 4/4-4/6, 5/1-5/5, 6/19-6/21, 9/25-9/27, 10/1-10/7;
make-up working days (调休): Sun 1/4, Sat 2/14, Sat 2/28, Sat 5/9, Sun 9/20, Sat 10/10.
The day of the event is not counted; a last day on a rest day moves to the next working day.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal.helpers import EXAMPLES, ORG_NAME, Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    yield Cli(runner, db_url, tmp_path)


def test_a_case_accepted_before_national_day_signed_late_and_confirmed_on_day_29(
    cli: Cli,
) -> None:
    case = cli.open("2026-09-28")
    cli.step(case, "accept", "2026-09-28")
    # One month from Mon 9/28: Wed 10/28, a working day (the 国庆 break is inside the month
    # and is not deducted).
    assert cli.deadline(case, "mediation_period", "2026-09-28")["due"] == "2026-10-28"
    cli.step(case, "assign", "2026-09-28", "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", "2026-09-28")
    cli.step(case, "record_session", "2026-09-29", kind="mediation", summary="双方当面协商。")
    cli.step(case, "agree_written", "2026-09-30", "--data", str(EXAMPLES / "agreement.toml"))
    # The month's clock stops when the agreement is reached, in time.
    assert cli.deadline(case, "mediation_period", "2026-09-30")["status"] == "met"
    cli.sign(case, "张三", "party", "2026-09-30")
    cli.sign(case, "李四", "party", "2026-09-30")
    cli.sign(case, "周明", "mediator", "2026-09-30")
    # Before the committee's seal the agreement is not in effect: no confirmation yet.
    refused = cli.apply_confirmation(case, "2026-09-30")
    assert refused.exit_code == 5 and f"{ORG_NAME}（盖章）" in refused.stderr
    # The seal is put on after the holiday, Mon 10/12: in effect that day.
    cli.sign(case, ORG_NAME, "committee", "2026-10-12")
    window = cli.deadline(case, "confirmation_window", "2026-10-12")
    # 10/12 not counted: 10/13 .. 11/11 are the 30 days → Wed 11/11, a working day.
    # (Counted from agree_written 9/30 it would end 10/30, and day 29 would be refused.)
    assert (window["starts_on"], window["due"]) == ("2026-10-12", "2026-11-11")
    cli.step(case, "follow_up", "2026-10-20", performance="in_progress", summary="正在履行。")
    # Day 29 after it took effect: 10/12 + 29 = Tue 11/10.
    assert cli.apply_confirmation(case, "2026-11-10").exit_code == 0
    assert cli.deadline(case, "confirmation_window", "2026-11-10")["status"] == "closed"
    cli.step(case, "confirmation_granted", "2026-11-20", ruling_ref="（2026）浙0681民特88号")
    cli.step(case, "archive", "2026-11-23")
    assert cli.state(case, "2026-11-23") == "archived"


def test_an_appraisal_across_the_spring_festival(cli: Cli) -> None:
    case = cli.open("2026-01-14", flow="online")
    cli.step(case, "choose_mediator", "2026-01-14", mediators="周明")
    cli.step(case, "confirm", "2026-01-15")
    cli.step(case, "notify_other_party", "2026-01-16", party="李四")
    # 30 days from Fri 1/16: 1/17 .. 2/15; Sun 2/15 is the first day of 春节 (2/15-2/23),
    # so the period ends Tue 2/24.
    assert cli.deadline(case, "mediation_period", "2026-01-16")["due"] == "2026-02-24"
    cli.step(case, "record_session", "2026-01-20", kind="mediation", summary="在线调解。")
    cli.step(case, "start_appraisal", "2026-02-12", appraisal_body="某鉴定所", matter="伤残等级")
    paused = cli.deadline(case, "mediation_period", "2026-02-12")
    assert (paused["status"], paused["paused_on"]) == ("paused", "2026-02-12")
    # The scheduler sees nothing overdue while it stands still (2/24 passes during the pause).
    cli.scheduler("2026-02-25")
    assert cli.deadline(case, "mediation_period", "2026-02-25")["overdue_at"] is None
    cli.step(case, "finish_appraisal", "2026-02-25", conclusion="十级伤残")
    # Paused Thu 2/12, nominal last day 2/15: 3 days left (not 12 up to the rolled 2/24).
    # Resumed Wed 2/25: 2/26, 2/27, 2/28 → Sat 2/28, a make-up working day (调休).
    resumed = cli.deadline(case, "mediation_period", "2026-02-25")
    assert (resumed["status"], resumed["due"], resumed["period_count"]) == ("open", "2026-02-28", 3)
    cli.step(case, "agree", "2026-02-27", "--data", str(EXAMPLES / "agreement.toml"))
    assert cli.deadline(case, "mediation_period", "2026-02-27")["status"] == "met"


def test_an_extension_refused_after_expiry(cli: Cli) -> None:
    case = cli.open("2026-09-01")
    cli.step(case, "accept", "2026-09-01")
    # One month from Tue 9/1: 10/1, 国庆 (10/1-10/7) → Thu 10/8.
    assert cli.deadline(case, "mediation_period", "2026-09-01")["due"] == "2026-10-08"
    cli.step(case, "assign", "2026-09-01", "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", "2026-09-02")
    cli.step(case, "record_session", "2026-09-03", kind="mediation", summary="第一次调解。")
    # On its last day the parties agree to extend to Fri 10/30: granted.
    extend = {"reason": "双方希望继续协商", "consented_by": "张三、李四"}
    cli.step(case, "extend", "2026-10-08", new_due="2026-10-30", **extend)
    assert cli.deadline(case, "mediation_period", "2026-10-08")["due"] == "2026-10-30"
    # Sat 10/31: the extended period has run out; the scheduler marks it overdue.
    cli.scheduler("2026-10-31")
    assert cli.deadline(case, "mediation_period", "2026-10-31")["overdue_at"] is not None
    # A second "extension" on Mon 11/2 comes too late: refused, nothing changes.
    refused = cli.advance(case, "extend", "2026-11-02", new_due="2026-11-30", **extend)
    assert refused.exit_code == 5 and "已于 2026-10-30 届满" in refused.stderr
    row = cli.deadline(case, "mediation_period", "2026-11-02")
    assert (row["due"], row["extensions"]) == ("2026-10-30", 1)
    assert row["overdue_at"] is not None
    # Ended on 11/3: the overrun is on record.
    cli.step(case, "terminate", "2026-11-03", reason="双方分歧过大", other_routes="可向法院起诉")
    assert cli.deadline(case, "mediation_period", "2026-11-03")["status"] == "late"
    assert [e["trigger"] for e in cli.events(case, "2026-11-03")].count("extend") == 1


def test_a_labour_case_entered_three_days_after_receipt(cli: Cli) -> None:
    case = cli.open(
        "2026-06-18", flow="labour", dispute_type="labour", received_at="2026-06-15T10:30:00+08:00"
    )
    # Received Mon 6/15 (entered Thu 6/18): 6/16 .. 6/30 → Tue 6/30, a working day.
    # (From the day it was typed in: 6/19 .. 7/3.)
    period = cli.deadline(case, "mediation_period", "2026-06-18")
    assert (period["starts_on"], period["due"]) == ("2026-06-15", "2026-06-30")
    cli.step(case, "accept", "2026-06-18")
    cli.step(case, "assign", "2026-06-22", "--data", str(EXAMPLES / "assign.toml"))
    cli.scheduler("2026-06-30")  # the last day: it still runs
    assert cli.state(case, "2026-06-30") == "assigned"
    # Wed 7/1: the 15 days are over; the party may apply for arbitration (art. 14).
    cli.scheduler("2026-07-01")
    assert cli.state(case, "2026-07-01") == "lapsed"
    history = cli.events(case, "2026-07-01")
    assert history[-1]["trigger"] == "lapse" and history[-1]["actor"] == "scheduler"


YEAR_2027 = """
year = 2027
source = "测试用通知（非真实数据）"
holidays = ["2027-01-01..2027-01-03", "2027-02-01"]
workdays = []
"""


def test_an_extension_into_2027_recomputed_when_the_calendar_is_loaded(
    cli: Cli, tmp_path: Path
) -> None:
    cli.ok("org", "add", "青信", "青山县信访局", "--level", "county",
           "--kind", "petition_bureau", day="2026-10-01")  # fmt: skip
    case = cli.open(
        "2026-11-02",
        organisation="青信",
        flow="petition",
        channel="petition",
        referring_organ="青山县信访局",
        referral_ref="青信〔2026〕41号",
    )
    cli.step(case, "accept", "2026-11-02")
    # Mon 11/2 + 60 days: 11/3 .. 11/30 (28), 12/1 .. 12/31 (59), 2027-01-01 (60). 2027 is
    # not announced: the provisional rule (weekends and the fixed-date holidays) makes Fri
    # 1/1 (元旦), Sat 1/2 and Sun 1/3 rest days → Mon 2027-01-04, provisional.
    row = cli.deadline(case, "handling_period", "2026-11-02")
    assert (row["due"], row["provisional"]) == ("2027-01-04", True)
    cli.step(case, "extend_handling", "2026-12-28", approved_by="主任", reason="涉及多个部门")
    # +30 from the nominal last day 1/1 (not from the rolled 1/4): 1/2 .. 1/31 → Sun 1/31
    # → Mon 2027-02-01 by the provisional rule: provisional (it was shown as final before).
    row = cli.deadline(case, "handling_period", "2026-12-28")
    assert (row["due"], row["provisional"], row["extensions"]) == ("2027-02-01", True, 1)
    year = tmp_path / "2027.toml"
    year.write_text(YEAR_2027, encoding="utf-8")
    loaded = cli.json("calendar", "load", str(year), day="2026-12-29")
    # Still from the nominal 1/31 (not from the 60 days' own roll-over off 1/1-1/3, which
    # the loaded year makes holidays): Sun 1/31 → Mon 2/1 is off in the loaded year → Tue 2/2.
    assert [(r["previous_due"], r["due"]) for r in loaded["recomputed"]] == [
        ("2027-02-01", "2027-02-02")
    ]
    row = cli.deadline(case, "handling_period", "2026-12-29")
    assert (row["due"], row["provisional"]) == ("2027-02-02", False)
    recomputed = [e for e in cli.events(case, "2026-12-29") if e["trigger"] == "recompute_deadline"]
    assert recomputed[-1]["payload"]["due"] == "2027-02-02"
