"""End-to-end scenarios for issue 14: the court-docked flows (委派, 委托, 在线调解, 司法确认,
司法调解), petitions (访调对接) and a people's case escalated over the year end, each
driven through the real CLI (``mediation``) on a SQLite file and on PostgreSQL, one clock
moment per step, every expected date worked by hand from domain.md §3-§4.

2026 holidays: 1/1-1/3, 2/15-2/23, 4/4-4/6, 5/1-5/5, 6/19-6/21, 9/25-9/27, 10/1-10/7;
make-up working days (调休): Sun 1/4, Sat 2/14, Sat 2/28, Sat 5/9, Sun 9/20, Sat 10/10.
The day of the event is not counted; a last day on a rest day moves to the next working day;
"个工作日" count working days only. 2027 is not announced: until a calendar is loaded the
product answers with the provisional rule (weekends plus the fixed-date holidays 1/1,
5/1-5/2, 10/1-10/3) and marks the due date provisional. 2027-01-01 is a Friday.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal._procedures import add_org, advance_json, deadlines, show
from tests.legal.helpers import EXAMPLES, ORG_NAME, Cli
from tests.legal.test_court_documents import (
    BOOK,
    COURT,
    PARTIES,
    add_court,
    court_case_of,
    render,
)

AGREEMENT = str(EXAMPLES / "agreement.toml")
ASSIGN = str(EXAMPLES / "assign.toml")


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    made = Cli(runner, db_url, tmp_path)
    add_court(made, "浙0681")
    add_org(made, "青司", "青山县司法局", "admin_organ")
    yield made


def referral(ref: str, received: str | None = None) -> dict[str, Any]:
    """A court's referral to 桥头 as the intake records it; ``received``: the day and hour
    the committee signed for the court's materials, when it was typed in later."""
    found: dict[str, Any] = {
        "channel": "court",
        "application_mode": "referral",
        "referring_organ": COURT,
        "referral_ref": ref,
        "parties": PARTIES,
    }
    if received:
        found["received_at"] = f"{received}+08:00"
    return found


def status(cli: Cli, case: str, kind: str, day: str) -> tuple[str, str]:
    row = cli.deadline(case, kind, day)
    return row["due"], row["status"]


def assert_unchanged(cli: Cli, case: str, day: str, before: dict[str, Any]) -> None:
    """A refused step changed nothing: same state, same history, same clocks."""
    after = show(cli, case, day)
    assert after["proceeding"]["state"] == before["proceeding"]["state"]
    assert after["deadlines"] == before["deadlines"]
    assert len(cli.events(case, day)) == len(before["_events"])


def snapshot(cli: Cli, case: str, day: str) -> dict[str, Any]:
    found = show(cli, case, day)
    found["_events"] = cli.events(case, day)
    return found


# -- 委派调解 (pre-filing), 特邀调解规定 2016 ----------------------------------------------------


def test_referral_signed_before_national_day_typed_in_after_then_an_agreed_extension(
    cli: Cli,
) -> None:
    """桥头 signs for the court's materials on Wed 9/30 at 15:00, the day before 国庆; the
    clerk types the case in on Thu 10/8, after the break.

    - art. 27: 30 days from the day the mediator signs for the materials (domain.md §4: the
      day as recorded, never the day it was typed in): 9/30 not counted, 10/1 .. 10/30 →
      Fri 10/30, a working day. (From 10/8 it would be 10/9 .. 11/7, Sat → Mon 11/9.)
    - art. 12: no mediation before the parties choose (both of them) or the court designates.
    - Wed 10/28, the period still running, both parties agree to go on to Fri 11/20: the 30
      days no longer apply (art. 27), so the scheduler does not return the case once 11/20
      has passed (Mon 11/23), and an 'expire' by hand is refused.
    - Tue 11/24: no agreement; the court is told in writing (art. 26) and the materials go
      back (art. 21). The letter names the chosen mediator and the day of signing.
    """
    case = cli.open("2026-10-08", flow="court_referred",
                    **referral("（2026）浙0681民诉前调31号", "2026-09-30T15:00:00"))  # fmt: skip
    period = cli.deadline(case, "mediation_period", "2026-10-08")
    assert (period["starts_on"], period["due"]) == ("2026-09-30", "2026-10-30")
    assert "特邀调解规定第二十七条" in period["legal_basis"]

    before = snapshot(cli, case, "2026-10-08")
    early = cli.refused("case", "advance", case, "record_session", "--set", "kind=mediation",
                        "--set", "summary=电话沟通。", day="2026-10-08")  # fmt: skip
    assert "choose_mediator" in early.stderr and "designate_mediator" in early.stderr
    one = cli.refused("case", "advance", case, "choose_mediator", "--set", "mediators=吴桂英",
                      "--set", "consented_by=张三", day="2026-10-09")  # fmt: skip
    assert "李四" in one.stderr
    assert_unchanged(cli, case, "2026-10-09", before)

    cli.step(case, "choose_mediator", "2026-10-09", mediators="吴桂英", consented_by="张三、李四")
    cli.step(case, "inform", "2026-10-09")
    cli.step(case, "record_session", "2026-10-13", kind="mediation", summary="双方各自陈述。")
    cli.step(case, "record_session", "2026-10-20", kind="mediation", summary="赔偿数额差距大。")
    cli.step(case, "extend", "2026-10-28", new_due="2026-11-20", reason="双方希望继续协商",
             consented_by="张三、李四")  # fmt: skip
    row = cli.deadline(case, "mediation_period", "2026-10-28")
    assert (row["due"], row["extensions"]) == ("2026-11-20", 1)

    cli.scheduler("2026-11-23")
    assert cli.state(case, "2026-11-23") == "mediating"
    by_hand = cli.refused("case", "advance", case, "expire", day="2026-11-23")
    assert "双方已同意延长" in by_hand.stderr

    cli.step(case, "return_to_court", "2026-11-24", reason="双方对赔偿数额分歧过大",
             report_ref="桥调函〔2026〕41号")  # fmt: skip
    assert cli.state(case, "2026-11-24") == "returned"
    result, text = render(cli, case, "court_letter", "2026-11-24")
    assert result.exit_code == 0, result.stderr
    assert f"{ORG_NAME}于2026年9月30日签收材料后由调解员吴桂英主持调解" in text
    assert "现书面报告贵院并退回相关材料（桥调函〔2026〕41号）" in text
    assert "scheduler" not in text and "mediator1" not in text


def test_referral_over_the_year_end_returned_by_the_scheduler(cli: Cli) -> None:
    """Signed for Fri 12/4, the organisation designates 周明 the same day (art. 12).

    - 30 days: 12/5 .. 12/31 (27), 2027-01-01 (28), 1/2 (29), Sun 1/3 (30); 2027 is not
      announced: Sun 1/3 is a rest day by the provisional rule → Mon 2027-01-04, provisional.
    - The scheduler's run on Mon 1/4 (the last day) leaves it; on Tue 1/5 the period is over
      with no agreed extension: the case goes back to the court (arts. 21, 27).
    - The result letter names the designated mediator, never the system account that fired
      the return.
    """
    case = cli.open("2026-12-04", flow="court_referred", **referral("（2026）浙0681民诉前调88号"))
    row = cli.deadline(case, "mediation_period", "2026-12-04")
    assert (row["starts_on"], row["due"], row["provisional"]) == ("2026-12-04", "2027-01-04", True)
    cli.step(case, "designate_mediator", "2026-12-04", mediators="周明", designated_by=ORG_NAME)
    cli.step(case, "inform", "2026-12-04")
    cli.step(case, "record_session", "2026-12-10", kind="mediation", summary="双方未到齐。")
    cli.scheduler("2027-01-04")
    assert cli.state(case, "2027-01-04") == "mediating"
    cli.scheduler("2027-01-05")
    assert cli.state(case, "2027-01-05") == "returned"
    last = cli.events(case, "2027-01-05")[-1]
    assert (last["trigger"], last["actor"]) == ("expire", "scheduler")
    result, text = render(cli, case, "court_letter", "2027-01-05")
    assert result.exit_code == 0, result.stderr
    assert "由调解员周明主持调解" in text and "未能达成调解协议" in text
    assert "scheduler" not in text


def test_referral_agreed_confirmed_by_the_court_and_the_objection_window(cli: Cli) -> None:
    """委派 → agreement → 司法确认 → ruling → objection window, around 清明, 劳动节 and 端午.

    - Signed for Mon 3/23: 30 days, 3/24 .. 4/22 (Wed). Agreement Fri 3/27: met.
    - Signatures: 张三 Fri 3/27, 李四 and 周明 Mon 3/30, the committee's seal Thu 4/2: in
      effect 4/2 (人民调解法 art. 29). The 30 days to apply (art. 33; 民诉法 art. 205):
      4/3 .. 5/2; Sat 5/2 is in 劳动节 (5/1-5/5) → Wed 5/6. Applied on 5/6: in time.
    - The court (2011 规定 art. 4) decides on acceptance within 3 days: 5/7, 5/8, Sat 5/9 —
      a make-up working day, so due Sat 5/9 (no roll-over). Accepted Fri 5/8.
    - Ruling within 15 days (art. 5): 5/9 .. 5/23, Sat → Mon 5/25; the special procedure's
      cap (民诉法 art. 187), 30 days: 5/9 .. 6/7, Sun → Mon 6/8.
    - Extended once by 10 days on Fri 5/22, from the nominal 5/23: 5/24 .. 6/2 (Tue). A
      second extension is refused.
    - Confirmed Mon 6/1 (both clocks met). Served on 李四 Thu 6/4, recorded Fri 6/5: 15
      days to object (民诉法解释 art. 372): 6/5 .. 6/19; Fri 6/19 is 端午 (6/19-6/21) →
      Mon 6/22. The scheduler leaves the case on 6/22; 李四 objecting on Tue 6/23 is refused;
      that day the scheduler closes the case.
    """
    case = cli.open("2026-03-23", flow="court_referred", **referral("（2026）浙0681民诉前调12号"))
    assert status(cli, case, "mediation_period", "2026-03-23") == ("2026-04-22", "open")
    cli.step(case, "designate_mediator", "2026-03-23", mediators="周明", designated_by=COURT)
    cli.step(case, "inform", "2026-03-23")
    cli.step(case, "record_session", "2026-03-25", kind="mediation", summary="双方到场协商。")
    cli.step(case, "agree", "2026-03-27", "--data", AGREEMENT)
    assert status(cli, case, "mediation_period", "2026-03-27") == ("2026-04-22", "met")
    cli.sign(case, "张三", "party", "2026-03-27")
    cli.sign(case, "李四", "party", "2026-03-30")
    cli.sign(case, "周明", "mediator", "2026-03-30")
    cli.sign(case, ORG_NAME, "committee", "2026-04-02")
    window = cli.deadline(case, "confirmation_window", "2026-04-02")
    assert (window["starts_on"], window["due"]) == ("2026-04-02", "2026-05-06")
    assert "人民调解法第三十三条" in window["legal_basis"]
    assert "民事诉讼法第二百零五条" in window["legal_basis"]
    cli.step(case, "apply_confirmation", "2026-05-06", organisation="青山法院",
             consented_by="张三、李四")  # fmt: skip
    court_case = court_case_of(cli, case, "2026-05-06")
    assert court_case == "（2026）浙0681民特1号"

    acceptance = cli.deadline(court_case, "acceptance_period", "2026-05-06")
    assert (acceptance["starts_on"], acceptance["due"]) == ("2026-05-06", "2026-05-09")
    assert "司法确认规定第四条" in acceptance["legal_basis"]
    cli.step(court_case, "accept", "2026-05-08")
    assert cli.deadline(court_case, "acceptance_period", "2026-05-08")["status"] == "met"
    ruling = cli.deadline(court_case, "ruling_period", "2026-05-08")
    assert ruling["due"] == "2026-05-25" and "司法确认规定第五条" in ruling["legal_basis"]
    cap = cli.deadline(court_case, "special_procedure_limit", "2026-05-08")
    assert cap["due"] == "2026-06-08" and "民事诉讼法第一百八十七条" in cap["legal_basis"]

    cli.step(court_case, "extend_ruling", "2026-05-22", approved_by="院长王某",
             reason="需要询问案外人")  # fmt: skip
    ruling = cli.deadline(court_case, "ruling_period", "2026-05-22")
    assert (ruling["due"], ruling["extensions"]) == ("2026-06-02", 1)
    again = cli.refused("case", "advance", court_case, "extend_ruling", "--set",
                        "approved_by=院长王某", "--set", "reason=再延", day="2026-05-29")  # fmt: skip
    assert "已延长过" in again.stderr
    assert cli.deadline(court_case, "ruling_period", "2026-05-29")["due"] == "2026-06-02"

    cli.step(court_case, "confirm", "2026-06-01", ruling_ref=court_case, judge="陈明",
             clerk="林晓")  # fmt: skip
    assert status(cli, court_case, "ruling_period", "2026-06-01") == ("2026-06-02", "met")
    assert status(cli, court_case, "special_procedure_limit", "2026-06-01") == ("2026-06-08", "met")
    cli.step(court_case, "record_ruling_service", "2026-06-05", served_on="2026-06-04")
    objection = cli.deadline(court_case, "objection_window", "2026-06-05")
    assert (objection["starts_on"], objection["due"]) == ("2026-06-04", "2026-06-22")
    assert "民事诉讼法解释第三百七十二条" in objection["legal_basis"]

    cli.scheduler("2026-06-22")
    assert cli.state(court_case, "2026-06-22") == "confirmed"
    late = cli.refused("case", "advance", court_case, "file_objection", "--set", "objector=李四",
                       "--set", "objector_role=party", "--set", "reason=协议违背真实意思",
                       day="2026-06-23")  # fmt: skip
    assert "2026-06-22" in late.stderr and "十五日" in late.stderr
    assert cli.state(court_case, "2026-06-23") == "confirmed"
    cli.scheduler("2026-06-23")
    assert cli.state(court_case, "2026-06-23") == "closed"
    assert show(cli, court_case, "2026-06-23")["proceeding"]["outcome"] == "confirmed"


def test_a_failed_village_case_the_court_refers_back_counts_from_the_hand_over(cli: Cli) -> None:
    """张三 applies at 桥头 on Mon 3/2; mediation fails on Fri 3/20 (人民调解法 art. 26). He
    sues; on Fri 3/27 the court, with consent, refers the dispute before filing to 城关
    (特邀调解规定 art. 11): 城关 receives the materials that day, the same dispute.

    - 30 days (art. 27) from 3/27, the day 城关 signs for them: 3/28 .. 4/26, a Sunday →
      Mon 4/27. (Counted from the dispute's first intake, 3/2, it would be 4/1.)
    - No agreement; 城关 reports in writing on Fri 4/10 (arts. 21, 26), the letter giving
      3/27 as the day of signing.
    """
    village = cli.open("2026-03-02")
    cli.step(village, "accept", "2026-03-02")
    cli.step(village, "assign", "2026-03-02", "--data", ASSIGN)
    cli.step(village, "inform", "2026-03-02")
    cli.step(village, "record_session", "2026-03-05", kind="mediation", summary="分歧较大。")
    cli.step(village, "terminate", "2026-03-20", reason="双方分歧过大",
             other_routes="可向人民法院起诉")  # fmt: skip
    done = advance_json(cli, village, "court_referral", "2026-03-27", organisation="城关",
                        court=COURT, court_ref="（2026）浙0681民诉前调20号")  # fmt: skip
    town = done["handed_off_to"]["case_number"]
    assert town == "（2026）城关委调字第1号" and cli.state(town, "2026-03-27") == "received"
    period = cli.deadline(town, "mediation_period", "2026-03-27")
    assert (period["starts_on"], period["due"]) == ("2026-03-27", "2026-04-27")
    cli.step(town, "designate_mediator", "2026-03-27", mediators="吴桂英", designated_by=COURT)
    cli.step(town, "inform", "2026-03-30")
    cli.step(town, "record_session", "2026-04-01", kind="mediation", summary="仍无法达成一致。")
    cli.step(town, "return_to_court", "2026-04-10", reason="被申请人拒绝调解方案",
             report_ref="城调函〔2026〕2号")  # fmt: skip
    result, text = render(cli, town, "court_letter", "2026-04-10")
    assert result.exit_code == 0, result.stderr
    assert "城关镇人民调解委员会于2026年3月27日签收材料后由调解员吴桂英主持调解" in text
    assert "（2026）浙0681民诉前调20号" in text


# -- 委托调解 (after filing) -----------------------------------------------------------------


def test_entrusted_across_national_day_extended_by_consent_then_a_court_decision(
    cli: Cli,
) -> None:
    """委托 (普通程序): 桥头 signs for the court's materials on Tue 9/15; the case is typed
    in on Fri 9/18.

    - 15 days from signing for the materials (特邀调解规定 art. 27; domain.md §4): 9/16 ..
      9/30, Wed, a working day. (From 9/18 it would be 9/19 .. 10/3, in 国庆 → Thu 10/8.)
    - Tue 9/29, still running: both parties agree to go on to Fri 10/23 (not counted in the
      trial limit, art. 27). One party alone cannot.
    - Agreement Wed 10/21, in the extended period: met. The result letter reports it, with
      the day the materials were signed for. The court reviews it and issues a 调解书 on Mon
      10/26 (art. 20).
    """
    case = cli.open("2026-09-18", flow="entrusted",
                    **referral("（2026）浙0681民初301号", "2026-09-15T10:00:00"))  # fmt: skip
    row = cli.deadline(case, "mediation_period", "2026-09-18")
    assert (row["starts_on"], row["due"]) == ("2026-09-15", "2026-09-30")
    assert row["label"] == "委托调解期限（普通程序）"
    assert "特邀调解规定第二十七条" in row["legal_basis"] and "不计入审限" in row["legal_basis"]
    cli.step(case, "designate_mediator", "2026-09-18", mediators="周明", designated_by=COURT)
    cli.step(case, "inform", "2026-09-18")
    cli.step(case, "record_session", "2026-09-22", kind="mediation", summary="双方陈述。")
    alone = cli.refused("case", "advance", case, "extend", "--set", "new_due=2026-10-23",
                        "--set", "reason=需核实账目", "--set", "consented_by=张三",
                        day="2026-09-29")  # fmt: skip
    assert "李四" in alone.stderr
    assert cli.deadline(case, "mediation_period", "2026-09-29")["extensions"] == 0
    cli.step(case, "extend", "2026-09-29", new_due="2026-10-23", reason="需核实账目",
             consented_by="张三、李四")  # fmt: skip
    assert cli.deadline(case, "mediation_period", "2026-09-29")["due"] == "2026-10-23"
    cli.step(case, "agree", "2026-10-21", "--data", AGREEMENT)
    assert status(cli, case, "mediation_period", "2026-10-21") == ("2026-10-23", "met")
    result, text = render(cli, case, "court_letter", "2026-10-21")
    assert result.exit_code == 0, result.stderr
    assert text.startswith("委托调解结果函") and "于2026年10月21日自愿达成调解协议" in text
    assert f"{ORG_NAME}于2026年9月15日签收材料后由调解员周明主持调解" in text
    cli.step(case, "court_decision", "2026-10-26", decision="出具民事调解书",
             ruling_ref="（2026）浙0681民初301号")  # fmt: skip
    assert cli.state(case, "2026-10-26") == "court_decided"


def test_entrusted_simple_over_the_spring_festival_late_extension_refused(cli: Cli) -> None:
    """委托 (简易程序), entrusted Fri 2/13, the day before the 调休 Saturday.

    - 7 days (art. 27): 2/14 .. 2/20; Fri 2/20 is in 春节 (2/15-2/23) → Tue 2/24.
    - The session is held on Sat 2/14, a make-up working day.
    - Wed 2/25 the parties ask to extend: too late, the period ended on 2/24 (domain.md §4);
      refused, nothing changes. The mediator reports the failure to the court the same day
      (arts. 21, 26): the period is recorded as overrun (late).
    """
    case = cli.open("2026-02-13", flow="entrusted_simple", **referral("（2026）浙0681民初45号"))
    row = cli.deadline(case, "mediation_period", "2026-02-13")
    assert (row["due"], row["label"]) == ("2026-02-24", "委托调解期限（简易程序）")
    assert "简易程序7日" in row["legal_basis"]
    cli.step(case, "designate_mediator", "2026-02-13", mediators="周明", designated_by=COURT)
    cli.step(case, "inform", "2026-02-13")
    cli.step(case, "record_session", "2026-02-14", kind="mediation", summary="节前调解一次。")
    before = snapshot(cli, case, "2026-02-25")
    late = cli.refused("case", "advance", case, "extend", "--set", "new_due=2026-03-06",
                       "--set", "reason=节后继续协商", "--set", "consented_by=张三、李四",
                       day="2026-02-25")  # fmt: skip
    assert "已于 2026-02-24 届满" in late.stderr
    assert_unchanged(cli, case, "2026-02-25", before)
    cli.step(case, "back_to_trial", "2026-02-25", reason="被告拒绝调解方案",
             report_ref="桥调函〔2026〕9号")  # fmt: skip
    assert status(cli, case, "mediation_period", "2026-02-25") == ("2026-02-24", "late")
    result, text = render(cli, case, "court_letter", "2026-02-25")
    assert result.exit_code == 0, result.stderr
    assert "被告拒绝调解方案" in text and "（桥调函〔2026〕9号）" in text


# -- 在线调解 --------------------------------------------------------------------------------


def test_online_mediation_around_labour_day_and_a_late_confirmation(cli: Cli) -> None:
    """人民法院在线调解规则 arts. 10, 12, 15, 24; applied online Thu 4/30.

    - The parties choose within 2 working days (art. 10): 5/1-5/5 are 劳动节 → Wed 5/6 (1),
      Thu 5/7 (2): due 5/7. They do not; the court designates on Mon 5/11, within its 3
      working days after that: Fri 5/8 (1), Sat 5/9 调休 (2), Mon 5/11 (3).
    - The mediator confirms within 3 working days of the designation: 5/12, 5/13, 5/14 →
      Thu 5/14; confirmed Wed 5/13. The other party is notified within 3 working days
      (art. 15): 5/14, 5/15, Mon 5/18; notified Fri 5/15.
    - 30 days (pre-filing, art. 24) from 5/15: 5/16 .. 6/14, Sun → Mon 6/15.
    - Agreement Fri 6/12; the parties sign that day, the mediator and the seal on Mon 6/15:
      in effect 6/15. 30 days to apply for confirmation: 6/16 .. 7/15 (Wed). (From the
      agreement, 6/12, it would end 7/12, a Sunday → 7/13.) Thu 7/16 is too late: refused.
    """
    case = cli.open("2026-04-30", flow="online", parties=PARTIES)
    selection = cli.deadline(case, "selection_period", "2026-04-30")
    assert selection["due"] == "2026-05-07" and "在线调解规则第十条" in selection["legal_basis"]
    assert selection["duty"] is False  # the parties' window, not the court's duty
    designation = cli.deadline(case, "designation_period", "2026-04-30")
    assert designation["due"] == "2026-05-11" and "在线调解规则第十条" in designation["legal_basis"]
    cli.step(case, "designate_mediator", "2026-05-11", mediators="周明", selection="designated")
    assert status(cli, case, "designation_period", "2026-05-11") == ("2026-05-11", "met")
    assert status(cli, case, "confirmation_period", "2026-05-11") == ("2026-05-14", "open")
    cli.step(case, "confirm", "2026-05-13")
    assert status(cli, case, "notice_period", "2026-05-13") == ("2026-05-18", "open")
    cli.step(case, "notify_other_party", "2026-05-15", party="李四")
    period = cli.deadline(case, "mediation_period", "2026-05-15")
    assert period["due"] == "2026-06-15" and "在线调解规则第二十四条" in period["legal_basis"]
    cli.step(case, "record_session", "2026-05-20", kind="mediation", summary="视频调解。")
    cli.step(case, "agree", "2026-06-12", "--data", AGREEMENT)
    assert status(cli, case, "mediation_period", "2026-06-12") == ("2026-06-15", "met")
    cli.sign(case, "张三", "party", "2026-06-12")
    cli.sign(case, "李四", "party", "2026-06-12")
    cli.sign(case, "周明", "mediator", "2026-06-15")
    cli.sign(case, ORG_NAME, "committee", "2026-06-15")
    window = cli.deadline(case, "confirmation_window", "2026-06-15")
    assert (window["starts_on"], window["due"]) == ("2026-06-15", "2026-07-15")
    before = snapshot(cli, case, "2026-07-16")
    late = cli.refused("case", "advance", case, "apply_confirmation", "--set",
                       "organisation=青山法院", "--set", "consented_by=张三、李四",
                       day="2026-07-16")  # fmt: skip
    assert "已于 2026-07-15 届满" in late.stderr
    assert_unchanged(cli, case, "2026-07-16", before)
    assert not show(cli, case, "2026-07-16")["related_proceedings"]


# -- 司法确认 dismissed → re-mediation -----------------------------------------------------------


def test_confirmation_dismissed_then_re_mediated_from_a_month_end(cli: Cli) -> None:
    """An application received by the court on Fri 8/14 (typed in the same day).

    - Acceptance within 3 days (2011 规定 art. 4): 8/15, 8/16, Mon 8/17 (a weekend in the
      middle is not deducted; 8/17 is a working day). Accepted Mon 8/17: ruling within 15
      days, 8/18 .. 9/1 (Tue); the cap 30 days, 8/18 .. 9/16 (Wed).
    - Dismissed Fri 8/28 (民诉法 art. 206); a third party who learnt on Mon 8/31 that the
      agreement disposed of its rights objects on Wed 9/2 (民诉法解释 art. 372: six months
      from knowing, to 2027-02-28), while the parties' own window has not even started.
      The court rejects the objection on Mon 9/14.
    - A second application, dismissed the same way; on Mon 8/31 both parties go back to 桥头
      to change the agreement: a new people's case, accepted, its month (若干规定 art. 33)
      from 8/31: 9/31 does not exist → the month's last day, Wed 9/30, a working day.
    """
    first = cli.open("2026-08-14", organisation="青山法院", flow="judicial_confirmation",
                     parties=PARTIES)  # fmt: skip
    assert status(cli, first, "acceptance_period", "2026-08-14") == ("2026-08-17", "open")
    cli.step(first, "accept", "2026-08-17")
    assert status(cli, first, "ruling_period", "2026-08-17") == ("2026-09-01", "open")
    assert status(cli, first, "special_procedure_limit", "2026-08-17") == ("2026-09-16", "open")
    cli.step(first, "dismiss", "2026-08-28", ruling_ref=first, reason="协议处分了案外人财产",
             judge="陈明", clerk="林晓")  # fmt: skip
    assert status(cli, first, "ruling_period", "2026-08-28") == ("2026-09-01", "met")
    filed = advance_json(cli, first, "file_objection", "2026-09-02", objector="王五",
                         objector_role="third_party", reason="协议处分了王五共有的房屋",
                         known_on="2026-08-31")  # fmt: skip
    assert filed["to_state"] == "objection_filed"
    cli.step(first, "reject_objection", "2026-09-14", ruling_ref="（2026）浙0681民特监3号",
             reason="房屋系申请人个人财产")  # fmt: skip
    assert cli.state(first, "2026-09-14") == "objection_rejected"

    second = cli.open("2026-08-14", organisation="青山法院", flow="judicial_confirmation",
                      parties=PARTIES)  # fmt: skip
    cli.step(second, "accept", "2026-08-17")
    cli.step(second, "dismiss", "2026-08-28", ruling_ref=second, reason="协议内容不明确")
    done = advance_json(cli, second, "return_to_mediation", "2026-08-31", organisation="桥头",
                        consented_by="张三、李四", reason="变更原调解协议")  # fmt: skip
    assert done["to_state"] == "remediation"
    child = done["handed_off_to"]["case_number"]
    assert child == "（2026）桥头人调字第1号" and cli.state(child, "2026-08-31") == "accepted"
    (month,) = deadlines(cli, child, "mediation_period", "2026-08-31")
    assert (month["starts_on"], month["due"]) == ("2026-08-31", "2026-09-30")
    assert "人民调解工作若干规定第三十三条" in month["legal_basis"]
    parent = show(cli, second, "2026-08-31")["proceeding"]["dispute_id"]
    assert show(cli, child, "2026-08-31")["proceeding"]["dispute_id"] == parent


# -- 访调对接 (信访工作条例 2022) ------------------------------------------------------------------


def test_petition_received_before_national_day_diverted_and_reviewed_in_2027(cli: Cli) -> None:
    """The county 司法局 receives a petition forwarded by the 信访局 on Wed 9/30 at 16:00;
    the clerk types it in on Thu 10/8.

    - art. 23, objection that the matter is outside its remit: 5 working days from receipt:
      10/1-10/7 are 国庆, Thu 10/8 (1), Fri 10/9 (2), Sat 10/10 调休 (3), Mon 10/12 (4),
      Tue 10/13 (5) → 10/13. An objection on Wed 10/14 is refused; nothing changes.
    - arts. 22-23, the petitioner told within 15 days of receipt: 10/1 .. 10/15 (Thu);
      accepted Wed 10/14: met.
    - art. 34, 60 days from acceptance: 10/15 .. 10/31 (17), 11/30 (47), Sun 12/13 (60) →
      Mon 12/14.
    - Diverted to 桥头 Fri 10/16 with both parties' consent; an agreement there; the result
      comes back Tue 11/10; the reply is issued Thu 12/10 (met: before 12/14), served Fri
      12/11, recorded Mon 12/14.
    - art. 35, 复查 within 30 days of receiving it: 12/12 .. 12/31 (20), 2027-01-10 (30), a
      Sunday → Mon 2027-01-11, provisional. Asked on Mon 1/11: accepted; the answer within
      30 days: 1/12 .. 2/10 (Wed), provisional.
    """
    case = cli.open("2026-10-08", organisation="青司", flow="petition",
                    received_at="2026-09-30T16:00:00+08:00", channel="petition",
                    referring_organ="青山县信访局", referral_ref="青信〔2026〕77号")  # fmt: skip
    remit = cli.deadline(case, "remit_objection_window", "2026-10-08")
    assert (remit["starts_on"], remit["due"]) == ("2026-09-30", "2026-10-13")
    assert "信访工作条例第二十三条" in remit["legal_basis"]
    disposal = cli.deadline(case, "disposal_period", "2026-10-08")
    assert (disposal["starts_on"], disposal["due"]) == ("2026-09-30", "2026-10-15")
    before = snapshot(cli, case, "2026-10-14")
    late = cli.refused("case", "advance", case, "object_remit", "--set", "organ=青山县信访局",
                       "--set", "reason=属人社部门职权", day="2026-10-14")  # fmt: skip
    assert "2026-10-13" in late.stderr
    assert_unchanged(cli, case, "2026-10-14", before)

    cli.step(case, "accept", "2026-10-14")
    assert status(cli, case, "disposal_period", "2026-10-14") == ("2026-10-15", "met")
    handling = cli.deadline(case, "handling_period", "2026-10-14")
    assert (handling["due"], handling["provisional"]) == ("2026-12-14", False)
    assert "信访工作条例第三十四条" in handling["legal_basis"]
    cli.step(case, "assess_suitable", "2026-10-15", summary="邻里相邻关系纠纷，适宜调解")
    done = advance_json(cli, case, "divert", "2026-10-16", organisation="桥头",
                        consented_by="张三、李四", reason="双方同意人民调解")  # fmt: skip
    child = done["handed_off_to"]["case_number"]
    cli.step(child, "accept", "2026-10-19")
    cli.step(child, "assign", "2026-10-19", "--data", ASSIGN)
    cli.step(child, "inform", "2026-10-19")
    cli.step(child, "record_session", "2026-10-22", kind="mediation", summary="现场调解。")
    cli.step(child, "agree_written", "2026-11-05", "--data", AGREEMENT)
    assert cli.state(case, "2026-11-05") == "diverted"  # the petition stays open meanwhile
    cli.step(case, "record_result", "2026-11-10", result="agreement", summary="已达成调解协议")
    cli.step(case, "conclude", "2026-12-10", opinion="已调解解决，予以办结")
    assert status(cli, case, "handling_period", "2026-12-10") == ("2026-12-14", "met")
    cli.step(case, "record_service", "2026-12-14", served_on="2026-12-11")
    review = cli.deadline(case, "review_window", "2026-12-14")
    assert (review["starts_on"], review["due"], review["provisional"]) == (
        "2026-12-11",
        "2027-01-11",
        True,
    )
    assert "信访工作条例第三十五条" in review["legal_basis"]
    cli.step(case, "close", "2026-12-15", summary="已送达")
    cli.step(case, "request_review", "2027-01-11", party="张三", reason="对方未按协议履行")
    answer = cli.deadline(case, "review_period", "2027-01-11")
    assert (answer["due"], answer["provisional"]) == ("2027-02-10", True)


YEAR_2027 = """
year = 2027
source = "测试用通知（非真实数据）"
holidays = ["2027-01-01..2027-01-03", "2027-02-06..2027-02-14"]
workdays = []
"""


def test_petition_extension_into_2027_recomputed_when_the_calendar_is_loaded(
    cli: Cli, tmp_path: Path
) -> None:
    """Received and accepted Mon 11/9.

    - art. 34, 60 days: 11/10 .. 11/30 (21), 12/31 (52), 2027-01-08 (60), a Friday:
      2027-01-08, provisional (2027 is not announced).
    - Extended on Wed 12/30 with the director's approval (+30 at most, once): from the
      nominal 1/8: 1/9 .. 1/31 (23), 2/7 (30), a Sunday → Mon 2027-02-08, provisional.
      A second extension is refused.
    - The 2027 calendar is loaded on Thu 12/31 (test data: 2/6-2/14 off for 春节): Sun 2/7
      → 2/8 .. 2/14 are holidays → Mon 2027-02-15, final.
    - The reply issued on Mon 2/15: met.
    """
    case = cli.open("2026-11-09", organisation="青司", flow="petition")
    cli.step(case, "accept", "2026-11-09")
    row = cli.deadline(case, "handling_period", "2026-11-09")
    assert (row["due"], row["provisional"]) == ("2027-01-08", True)
    cli.step(case, "assess_suitable", "2026-11-10", summary="相邻关系纠纷")
    cli.step(case, "exclude", "2026-11-12", exclusion="party_refuses", reason="一方拒绝调解")
    cli.step(case, "extend_handling", "2026-12-30", approved_by="局长", reason="需多部门会商")
    row = cli.deadline(case, "handling_period", "2026-12-30")
    assert (row["due"], row["provisional"], row["extensions"]) == ("2027-02-08", True, 1)
    again = cli.refused("case", "advance", case, "extend_handling", "--set", "approved_by=局长",
                        "--set", "reason=再延", day="2026-12-30")  # fmt: skip
    assert "已延长过" in again.stderr
    year = tmp_path / "2027.toml"
    year.write_text(YEAR_2027, encoding="utf-8")
    loaded = cli.json("calendar", "load", str(year), day="2026-12-31")
    mine = [r for r in loaded["recomputed"] if r["due"] == "2027-02-15"]
    assert [(r["previous_due"], r["due"]) for r in mine] == [("2027-02-08", "2027-02-15")]
    row = cli.deadline(case, "handling_period", "2026-12-31")
    assert (row["due"], row["provisional"]) == ("2027-02-15", False)
    cli.step(case, "conclude", "2027-02-15", opinion="告知通过诉讼途径解决")
    assert status(cli, case, "handling_period", "2027-02-15") == ("2027-02-15", "met")


# -- 司法调解: the trial limit's month-end rule ------------------------------------------------


def test_trial_limits_ending_on_the_last_day_of_february(cli: Cli) -> None:
    """民事诉讼法 art. 152: 普通程序 six months from filing. Filed Mon 8/31: 2027-02-31 does
    not exist → the month's last day, Sun 2027-02-28 → Mon 2027-03-01, provisional.
    The pre-answer mediation (民事调解规定 art. 4), 15 days from 8/31: 9/1 .. 9/15 (Tue).

    art. 164: 简易程序 three months. Filed Mon 11/30: 2027-02-30 does not exist → Sun
    2/28 → Mon 2027-03-01, provisional; extended by one month with the president's
    approval from the nominal 2/28: Sun 2027-03-28 → Mon 3/29, provisional.
    """
    ordinary = cli.open("2026-08-31", flow="judicial", organisation="青山法院", parties=PARTIES,
                        received_at="2026-08-31T09:30:00+08:00")  # fmt: skip
    limit = cli.deadline(ordinary, "trial_limit", "2026-08-31")
    assert (limit["starts_on"], limit["due"], limit["provisional"]) == (
        "2026-08-31",
        "2027-03-01",
        True,
    )
    assert "民事诉讼法第一百五十二条" in limit["legal_basis"]
    assert status(cli, ordinary, "mediation_period", "2026-08-31") == ("2026-09-15", "open")
    cli.step(ordinary, "record_session", "2026-09-03", kind="mediation", summary="庭前调解。")
    cli.step(ordinary, "agree", "2026-09-10", **BOOK)
    cli.step(ordinary, "served", "2026-09-14", served_on="2026-09-14")
    assert status(cli, ordinary, "trial_limit", "2026-09-14") == ("2027-03-01", "met")

    simple = cli.open("2026-11-30", flow="judicial_simple", organisation="青山法院",
                      parties=PARTIES, received_at="2026-11-30T09:30:00+08:00")  # fmt: skip
    assert simple == "（2026）浙0681民初2号"
    limit = cli.deadline(simple, "trial_limit", "2026-11-30")
    assert (limit["due"], limit["provisional"]) == ("2027-03-01", True)
    cli.step(simple, "record_session", "2026-12-02", kind="mediation", summary="庭前调解。")
    cli.step(simple, "extend_trial_limit", "2027-02-22", approved_by="院长王某",
             reason="需等待鉴定")  # fmt: skip
    limit = cli.deadline(simple, "trial_limit", "2027-02-22")
    assert (limit["due"], limit["provisional"], limit["extensions"]) == ("2027-03-29", True, 1)


# -- 人民调解: escalation over the year end, case numbers per year ------------------------------


def test_escalated_over_new_year_restarts_the_month_and_each_year_numbers_from_one(
    cli: Cli,
) -> None:
    """桥头 opens and accepts a case on Thu 12/31/2026: its register's first of 2026. One
    month (若干规定 art. 33): 2027-01-31, a Sunday → Mon 2027-02-01, provisional.

    Mon 2027-01-04 it cannot settle it and passes it up to 城关 (art. 21): the dispute is
    kept, 城关 opens its first case of 2027 already accepted, and the month restarts from
    1/4: Thu 2027-02-04, provisional. 桥头's next case, the same day, is its first of 2027.
    """
    case = cli.open("2026-12-31")
    assert case == "（2026）桥头人调字第1号"
    cli.step(case, "accept", "2026-12-31")
    row = cli.deadline(case, "mediation_period", "2026-12-31")
    assert (row["due"], row["provisional"]) == ("2027-02-01", True)
    cli.step(case, "assign", "2026-12-31", "--data", ASSIGN)
    cli.step(case, "inform", "2026-12-31")
    cli.step(case, "record_session", "2026-12-31", kind="mediation", summary="涉及多个村民小组。")
    done = advance_json(cli, case, "escalate", "2027-01-04", reason="跨村纠纷，需镇调委会协调")
    upper = done["handed_off_to"]["case_number"]
    assert upper == "（2027）城关人调字第1号"
    assert cli.state(case, "2027-01-04") == "escalated"
    assert cli.state(upper, "2027-01-04") == "accepted"
    month = cli.deadline(upper, "mediation_period", "2027-01-04")
    assert (month["starts_on"], month["due"], month["provisional"]) == (
        "2027-01-04",
        "2027-02-04",
        True,
    )
    assert (
        show(cli, upper, "2027-01-04")["proceeding"]["dispute_id"]
        == show(cli, case, "2027-01-04")["proceeding"]["dispute_id"]
    )
    assert cli.open("2027-01-04") == "（2027）桥头人调字第1号"
