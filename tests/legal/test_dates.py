"""Issue 14's wrong dates (items 1, 2, 3, 5, 6, 9), each pinned by the dates the law gives.

Every date below is worked by hand from domain.md §4: the day of the event is not counted;
a period whose last day is a rest day ends on the next working day; rest days inside a
period are not deducted; "个工作日" count working days only, with the make-up working days
(调休). 2026 holidays: 1/1-1/3, 2/15-2/23, 4/4-4/6, 5/1-5/5, 6/19-6/21, 9/25-9/27, 10/1-10/7;
make-up working days: Sun 1/4, Sat 2/14, Sat 2/28, Sat 5/9, Sun 9/20, Sat 10/10.

Everything goes through the real CLI on a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from mediation.workflows import flow_names, get_flow
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal.helpers import ORG_NAME, Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    yield Cli(runner, db_url, tmp_path)


def add_org(cli: Cli, code: str, name: str, kind: str, day: str = "2026-01-02") -> None:
    cli.ok("org", "add", code, name, "--level", "county", "--kind", kind, day=day)


# -- item 1: the 司法确认 window runs from the agreement taking effect -----------------------


def test_the_confirmation_window_runs_from_the_last_signature(cli: Cli) -> None:
    case = cli.open("2026-08-20")
    cli.to_agreement(case, "2026-08-25")  # agreement reached Tue 8/25: not yet in effect
    cli.sign(case, "张三", "party", "2026-08-26")
    cli.sign(case, "李四", "party", "2026-08-28")
    cli.sign(case, "周明", "mediator", "2026-08-28")
    # No window before the agreement takes effect.
    assert not [
        d
        for d in cli.json("case", "show", case, day="2026-08-28")["deadlines"]
        if d["kind"] == "confirmation_window"
    ]
    # The committee's seal, the last of them, on Tue 9/1: in effect that day (art. 29).
    cli.sign(case, ORG_NAME, "committee", "2026-09-01")
    window = cli.deadline(case, "confirmation_window", "2026-09-01")
    # 9/1 not counted; 9/2 .. 10/1 are the 30 days; 10/1 is 国庆 (10/1-10/7) → Thu 10/8.
    # (From agree_written 8/25 it would have been 8/26 .. 9/24, a Thursday: 9/24.)
    assert (window["starts_on"], window["due"], window["provisional"]) == (
        "2026-09-01",
        "2026-10-08",
        False,
    )
    effective = [e for e in cli.events(case, "2026-09-01") if e["trigger"] == "agreement_effective"]
    assert effective[-1]["payload"]["confirmation_window_due"] == "2026-10-08"
    # Applying on the window's last day is in time.
    assert cli.apply_confirmation(case, "2026-10-08").exit_code == 0
    assert cli.state(case, "2026-10-08") == "confirmation_applied"


def test_an_application_after_the_true_window_is_refused(cli: Cli) -> None:
    case = cli.open("2026-08-20")
    cli.to_agreement(case, "2026-08-25")
    cli.sign_all(case, "2026-09-01")  # in effect Tue 9/1: window to Thu 10/8 (as above)
    refused = cli.refused("case", "advance", case, "apply_confirmation",
                          "--set", "court=青山县人民法院", "--set", "consented_by=张三、李四",
                          day="2026-10-09")  # fmt: skip
    assert "已于 2026-10-08 届满" in refused.stderr


def test_an_oral_agreement_is_effective_when_reached(cli: Cli) -> None:
    case = cli.open("2026-03-02")
    cli.step(case, "accept", "2026-03-02")
    cli.step(case, "assign", "2026-03-02", mediators="周明", selection="designated")
    cli.step(case, "inform", "2026-03-02")
    cli.step(case, "record_session", "2026-03-02", kind="mediation", summary="当场调解。")
    cli.step(case, "agree_oral", "2026-03-02", terms="李四当日清理杂物。")
    # Reached (and in effect, 人民调解法 art. 30) Mon 3/2: 3/3 .. 4/1 → Wed 4/1, a working day.
    window = cli.deadline(case, "confirmation_window", "2026-03-02")
    assert (window["starts_on"], window["due"]) == ("2026-03-02", "2026-04-01")
    cli.step(case, "follow_up", "2026-03-10", performance="performed", summary="已清理。")
    assert cli.apply_confirmation(case, "2026-04-01").exit_code == 0


# -- item 2: an agreement nobody signed cannot be sent for confirmation ---------------------


def test_an_unsigned_agreement_cannot_be_sent_for_confirmation(cli: Cli) -> None:
    case = cli.open("2026-03-02")
    cli.to_agreement(case, "2026-03-02")
    refused = cli.apply_confirmation(case, "2026-03-03")
    assert refused.exit_code == 5, (refused.stdout, refused.stderr)
    for who in ("尚未生效", "当事人 张三", "当事人 李四", "调解员 周明", ORG_NAME):
        assert who in refused.stderr, (who, refused.stderr)
    cli.sign(case, "张三", "party", "2026-03-03")
    cli.sign(case, "周明", "mediator", "2026-03-03")
    refused = cli.apply_confirmation(case, "2026-03-03")
    assert refused.exit_code == 5
    assert "当事人 李四" in refused.stderr and "当事人 张三" not in refused.stderr
    assert cli.state(case, "2026-03-03") == "agreed_written"
    cli.sign(case, "李四", "party", "2026-03-04")
    cli.sign(case, ORG_NAME, "committee", "2026-03-04")
    assert cli.apply_confirmation(case, "2026-03-05").exit_code == 0


def test_a_court_referred_agreement_needs_its_signatures_too(cli: Cli) -> None:
    case = cli.open(
        "2026-03-02",
        flow="court_referred",
        channel="court",
        referring_organ="青山县人民法院",
        referral_ref="（2026）浙0681民诉前调1号",
    )
    cli.step(case, "designate_mediator", "2026-03-02", mediators="周明",
             designated_by="青山县人民法院")  # fmt: skip
    cli.step(case, "inform", "2026-03-02")
    cli.step(case, "record_session", "2026-03-02", kind="mediation", summary="诉前调解。")
    cli.step(case, "agree", "2026-03-03", "--data", str(Path("data/examples/agreement.toml")))
    apply = ("case", "advance", case, "apply_confirmation",
             "--set", "organisation=青山", "--set", "consented_by=张三、李四")  # fmt: skip
    refused = cli.refused(*apply, day="2026-03-04")
    assert "尚未生效" in refused.stderr and "当事人 张三" in refused.stderr
    # The designated mediator's signature is still wanted.
    assert "调解员 周明" in refused.stderr


def test_every_flow_offering_confirmation_checks_the_agreement_is_in_effect() -> None:
    offering = {
        name: [t for t in get_flow(name).transitions if t.trigger == "apply_confirmation"]
        for name in flow_names()
    }
    offering = {name: ts for name, ts in offering.items() if ts}
    assert {"peoples", "court_referred", "medical_committee", "traffic"} <= set(offering)
    for name, transitions in offering.items():
        for t in transitions:
            assert t.guards[:2] == ("agreement_in_effect", "within_confirmation_window"), name


# -- item 3: a pause counts the days left from the nominal last day ----------------------


def test_a_pause_does_not_turn_holiday_roll_over_into_mediation_days(cli: Cli) -> None:
    case = cli.open("2026-01-14", flow="online")
    cli.step(case, "choose_mediator", "2026-01-14", mediators="周明")
    cli.step(case, "confirm", "2026-01-15")
    cli.step(case, "notify_other_party", "2026-01-16", party="李四")
    # Fri 1/16 + 30 days: 1/17 .. 2/15; Sun 2/15 is 春节 (2/15-2/23) → Tue 2/24.
    period = cli.deadline(case, "mediation_period", "2026-01-16")
    assert period["due"] == "2026-02-24"
    cli.step(case, "record_session", "2026-01-20", kind="mediation", summary="在线调解。")
    cli.step(case, "start_appraisal", "2026-02-05", appraisal_body="某鉴定所", matter="损失")
    # Paused Thu 2/5: left = nominal last day 2/15 - 2/5 = 10 days (the 9 roll-over days
    # 2/16-2/24 are not mediation time; counting from 2/24 would give 19).
    cli.step(case, "finish_appraisal", "2026-03-02", conclusion="损失经鉴定为一万元")
    # Resumed Mon 3/2: 3/3 .. 3/12 → Thu 3/12, a working day (19 days would give Sat 3/21
    # → Mon 3/23).
    period = cli.deadline(case, "mediation_period", "2026-03-02")
    assert (period["status"], period["due"]) == ("open", "2026-03-12")
    assert (period["counted_from"], period["period_count"]) == ("2026-03-02", 10)


# -- item 5: an extension is granted only while the period runs ---------------------------


def test_an_extension_after_expiry_is_refused_and_the_overrun_stays(cli: Cli) -> None:
    case = cli.open("2026-03-02")
    cli.step(case, "accept", "2026-03-02")
    # One month from Mon 3/2: Thu 4/2, a working day.
    assert cli.deadline(case, "mediation_period", "2026-03-02")["due"] == "2026-04-02"
    cli.step(case, "assign", "2026-03-02", mediators="周明", selection="designated")
    cli.scheduler("2026-04-03")  # the day after the due date: marked overdue
    assert cli.deadline(case, "mediation_period", "2026-04-03")["overdue_at"] is not None
    refused = cli.refused("case", "advance", case, "extend",
                          "--set", "reason=双方希望继续协商", "--set", "consented_by=张三、李四",
                          "--set", "new_due=2026-04-30", day="2026-04-03")  # fmt: skip
    assert "已于 2026-04-02 届满" in refused.stderr
    row = cli.deadline(case, "mediation_period", "2026-04-03")
    assert (row["due"], row["extensions"], row["status"]) == ("2026-04-02", 0, "open")
    assert row["overdue_at"] is not None
    assert "extend" not in [e["trigger"] for e in cli.events(case, "2026-04-03")]
    # Closing it late records it as late.
    cli.step(case, "terminate", "2026-04-07", reason="调解不成", other_routes="可向法院起诉")
    assert cli.deadline(case, "mediation_period", "2026-04-07")["status"] == "late"


def test_an_extension_on_the_last_day_is_still_granted(cli: Cli) -> None:
    case = cli.open("2026-03-02")
    cli.step(case, "accept", "2026-03-02")  # due Thu 4/2 (as above)
    cli.step(case, "extend", "2026-04-02",
             reason="双方希望继续协商", consented_by="张三、李四", new_due="2026-04-30")  # fmt: skip
    row = cli.deadline(case, "mediation_period", "2026-04-02")
    assert (row["due"], row["extensions"]) == ("2026-04-30", 1)


def test_a_statutory_extension_after_expiry_is_refused(cli: Cli) -> None:
    add_org(cli, "青信", "青山县信访局", "petition_bureau")
    case = cli.open(
        "2026-03-02",
        organisation="青信",
        flow="petition",
        channel="petition",
        referring_organ="青山县信访局",
        referral_ref="青信〔2026〕1号",
    )
    cli.step(case, "accept", "2026-03-02")
    # Mon 3/2 + 60 days: 3/3 .. 5/1; 5/1 is 劳动节 (5/1-5/5) → Wed 5/6.
    assert cli.deadline(case, "handling_period", "2026-03-02")["due"] == "2026-05-06"
    refused = cli.refused("case", "advance", case, "extend_handling",
                          "--set", "approved_by=主任", "--set", "reason=情况复杂",
                          day="2026-05-07")  # fmt: skip
    assert "已于 2026-05-06 届满" in refused.stderr
    assert cli.deadline(case, "handling_period", "2026-05-07")["extensions"] == 0


# -- item 6: clocks counted from receipt start on the day the application was received -----


def test_a_labour_clock_runs_from_receipt_not_from_typing_in(cli: Cli) -> None:
    case = cli.open(
        "2026-03-05", flow="labour", dispute_type="labour", received_at="2026-03-02T10:00:00+08:00"
    )
    # Received Mon 3/2 (typed in Thu 3/5): 3/3 .. 3/17 → Tue 3/17 (from 3/5: Fri 3/20).
    period = cli.deadline(case, "mediation_period", "2026-03-05")
    assert (period["starts_on"], period["due"]) == ("2026-03-02", "2026-03-17")
    cli.scheduler("2026-03-17")  # the last day: nothing lapses yet
    assert cli.state(case, "2026-03-17") == "applied"
    cli.scheduler("2026-03-18")  # the day after: the party may apply for arbitration
    assert cli.state(case, "2026-03-18") == "lapsed"


def test_a_petition_is_disposed_of_within_15_days_of_receipt(cli: Cli) -> None:
    add_org(cli, "青信", "青山县信访局", "petition_bureau")
    case = cli.open(
        "2026-09-24",
        organisation="青信",
        flow="petition",
        channel="petition",
        referring_organ="青山县信访局",
        referral_ref="青信〔2026〕9号",
        received_at="2026-09-21T15:00:00+08:00",
    )
    # Received Mon 9/21: 9/22 .. 10/6; 10/6 is 国庆 (10/1-10/7) → Thu 10/8.
    # (From Thu 9/24: 9/25 .. 10/9, a Friday: 10/9.)
    period = cli.deadline(case, "disposal_period", "2026-09-24")
    assert (period["starts_on"], period["due"]) == ("2026-09-21", "2026-10-08")


def test_a_medical_application_is_decided_within_5_working_days_of_receipt(cli: Cli) -> None:
    add_org(cli, "青卫", "青山县卫生健康局", "admin_organ")
    case = cli.open(
        "2026-05-06",
        organisation="青卫",
        flow="health_admin",
        dispute_type="medical",
        received_at="2026-04-30T16:00:00+08:00",
    )
    # Received Thu 4/30; 5/1-5/5 off; working days: Wed 5/6 (1), Thu 5/7 (2), Fri 5/8 (3),
    # Sat 5/9 make-up (4), Mon 5/11 (5) → 5/11. (From Wed 5/6: 5/7, 5/8, 5/9, 5/11, 5/12.)
    period = cli.deadline(case, "acceptance_period", "2026-05-06")
    assert (period["starts_on"], period["due"]) == ("2026-04-30", "2026-05-11")


# -- item 9: a statutory extension into 2027 stays provisional until the year is loaded ----

YEAR_2027 = """
year = 2027
source = "测试用通知（非真实数据）"
holidays = ["2027-01-01..2027-01-03", "2027-01-28"]
workdays = []
"""


def test_an_extension_into_2027_is_provisional_and_recomputed(cli: Cli, tmp_path: Path) -> None:
    add_org(cli, "青信", "青山县信访局", "petition_bureau")
    case = cli.open(
        "2026-10-30",
        organisation="青信",
        flow="petition",
        channel="petition",
        referring_organ="青山县信访局",
        referral_ref="青信〔2026〕30号",
    )
    cli.step(case, "accept", "2026-10-30")
    # Fri 10/30 + 60 days: 10/31 (1), 11/1 .. 11/30 (31), 12/1 .. 12/29 (60) → Tue 12/29.
    assert cli.deadline(case, "handling_period", "2026-10-30")["due"] == "2026-12-29"
    cli.step(case, "extend_handling", "2026-12-20", approved_by="主任", reason="情况复杂")
    # +30 from the nominal last day 12/29: 12/30, 12/31 (2), 2027-01-01 .. 01-28 (30) →
    # Thu 2027-01-28; 2027 not announced: weekends only, a Thursday, provisional.
    row = cli.deadline(case, "handling_period", "2026-12-20")
    assert (row["due"], row["provisional"], row["extensions"]) == ("2027-01-28", True, 1)
    year = tmp_path / "2027.toml"
    year.write_text(YEAR_2027, encoding="utf-8")
    loaded = cli.json("calendar", "load", str(year), day="2026-12-21")
    # 1/28 is a holiday in the loaded year → Fri 2027-01-29.
    assert [(r["previous_due"], r["due"]) for r in loaded["recomputed"]] == [
        ("2027-01-28", "2027-01-29")
    ]
    row = cli.deadline(case, "handling_period", "2026-12-21")
    assert (row["due"], row["provisional"]) == ("2027-01-29", False)
