"""End-to-end scenarios of the sector flows (issue 14): 医调委, the health authority's
mediation, the traffic police, 治安调解, labour disputes and the 交调委 — whole cases driven
through the real CLI, each step at its own moment, on a SQLite file and on PostgreSQL.

Every expected date is worked by hand from domain.md (§3.2, §3.6 for the flows, §4 for the
counting) before the test was run:

- the day of the event is not counted; a last day on a rest day (weekend or holiday) moves
  to the next working day; "个工作日" count working days only, make-up days (调休) included;
- 2026 holidays: 4/4-4/6, 5/1-5/5, 6/19-6/21, 9/25-9/27, 10/1-10/7; make-up working days:
  Sat 5/9, Sun 9/20, Sat 10/10;
- a pause (鉴定) stops a working-day clock: the working days left are those after the day it
  stopped, counted again from the day after it resumed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal._procedures import add_org, advance_json, deadlines, show
from tests.legal.helpers import EXAMPLES, Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    """The committee ladder (桥头 stands in for the 医调委, the 交调委 and the enterprise's
    labour-dispute committee), the county health authority, the traffic police and a
    police station."""
    store.close()
    found = Cli(runner, db_url, tmp_path)
    add_org(found, "青卫", "青山县卫生健康局", "admin_organ")
    add_org(found, "青交", "青山县公安局交通警察大队", "police")
    add_org(found, "城派", "青山县公安局城关派出所", "police")
    store.close()
    yield found


def _agreement(deadline: str, **changes: str) -> dict[str, str]:
    """The fields of a written agreement (人民调解法 art. 29), paid by ``deadline``."""
    fields = {
        "facts": "双方就赔偿事项发生争议",
        "issues": "赔偿数额",
        "responsibility": "被申请人承担主要责任",
        "terms": "被申请人赔偿申请人人民币20000元",
        "performance_method": "银行转账",
        "performance_place": "青山县",
        "performance_deadline": deadline,
    }
    fields.update(changes)
    return fields


def _overdue(cli: Cli, as_of: str) -> list[dict[str, Any]]:
    """``report overdue --format json`` as of ``as_of`` (nothing printed when none)."""
    out = cli.ok("report", "overdue", "--as-of", as_of, "--format", "json", day=as_of).stdout
    rows: list[dict[str, Any]] = json.loads(out) if out.strip() else []
    return rows


def _unchanged(cli: Cli, case: str, day: str) -> tuple[str, int]:
    """What a refused step must leave as it was: the state and the number of events."""
    return cli.state(case, day), len(cli.events(case, day))


# -- 医调委 ------------------------------------------------------------------------------


def test_medical_appraisal_across_mid_autumn_and_national_day_then_deemed_failure(
    cli: Cli,
) -> None:
    """A patient's family applies to the 医调委 (医疗纠纷预防和处理条例 art. 38: 30 working
    days from acceptance, appraisal time not counted, expiry = deemed failure). The
    appraisal runs across 中秋 and 国庆 with both make-up days; no agreement is reached and
    the scheduler records the deemed failure — the law's consequence, not an overrun."""
    case = cli.open("2026-09-07", flow="medical_committee", dispute_type="medical")
    cli.step(case, "accept", "2026-09-07")
    # Accepted Mon 9/7. Working days 9/8-9/11 (4), 9/14-9/18 (9), Sun 9/20 调休 (10),
    # 9/21-9/24 (14), [中秋 9/25-9/27], 9/28-9/30 (17), [国庆 10/1-10/7], 10/8, 10/9 (19),
    # Sat 10/10 调休 (20), 10/12-10/16 (25), 10/19-10/23 (30) → Fri 10/23.
    period = cli.deadline(case, "mediation_period", "2026-09-07")
    assert (period["starts_on"], period["due"]) == ("2026-09-07", "2026-10-23")
    assert "医疗纠纷预防和处理条例第三十八条" in period["legal_basis"]
    cli.step(case, "assign", "2026-09-07", "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", "2026-09-07")
    cli.step(case, "record_session", "2026-09-08", kind="mediation", summary="医患双方陈述")
    cli.step(case, "start_appraisal", "2026-09-17", appraisal_body="江城市医学会",
             matter="医疗损害责任及伤残等级鉴定")  # fmt: skip
    # Stopped Thu 9/17: used 9/8-9/11 and 9/14-9/17 = 8 working days; 22 are left.
    paused = cli.deadline(case, "mediation_period", "2026-09-17")
    assert (paused["status"], paused["paused_on"]) == ("paused", "2026-09-17")
    cli.step(case, "finish_appraisal", "2026-10-09", conclusion="构成一级医疗事故，医方负主要责任")
    # Resumed Fri 10/9 (the holidays and Sun 9/20 lie inside the pause, not counted): Sat
    # 10/10 调休 (1), 10/12-10/16 (6), 10/19-10/23 (11), 10/26-10/30 (16), 11/2-11/6 (21),
    # Mon 11/9 (22).
    resumed = cli.deadline(case, "mediation_period", "2026-10-09")
    assert (resumed["status"], resumed["due"], resumed["period_count"]) == (
        "open",
        "2026-11-09",
        22,
    )
    cli.step(case, "record_session", "2026-10-15", kind="mediation", summary="赔偿数额分歧较大")
    # On the last day the committee cannot record the deemed failure itself: the period
    # still runs (exit 5, the state and history unchanged).
    before = _unchanged(cli, case, "2026-11-09")
    early = cli.refused("case", "advance", case, "deem_failed", day="2026-11-09")
    assert "2026-11-09" in early.stderr and "届满" in early.stderr
    assert _unchanged(cli, case, "2026-11-09") == before
    cli.scheduler("2026-11-09")  # the last day: it still runs
    assert cli.state(case, "2026-11-09") == "mediating"
    # Tue 11/10: the 22 days are over without agreement → deemed failure, by the scheduler.
    run = cli.scheduler("2026-11-10")
    assert [(c["case_number"], c["to_state"]) for c in run["consequences"]] == [
        (case, "deemed_failed")
    ]
    assert cli.state(case, "2026-11-10") == "deemed_failed"
    last = cli.events(case, "2026-11-10")[-1]
    assert (last["trigger"], last["actor"]) == ("deem_failed", "scheduler")
    (period,) = deadlines(cli, case, "mediation_period", "2026-11-10")
    assert period["status"] == "expired" and period["status_label"] != "逾期完成"
    # Not an overrun: no 超期 mark, no row in the supervisors' overdue report.
    assert run["overdue"] == 0 and period["overdue_at"] is None
    assert case not in [r["case_number"] for r in _overdue(cli, "2026-11-10")]
    assert show(cli, case, "2026-11-10")["proceeding"]["outcome"] == "terminated"


def test_medical_mediation_goes_on_after_mere_applications_and_ends_on_the_court_s_acceptance(
    cli: Cli,
) -> None:
    """条例 arts. 31, 40: what ends the 医调委's mediation is another body *accepting* the
    dispute. The family also applies to the health authority (not accepted): the
    committee mediates on, and the authority may not accept while the committee does. The
    family then sues: the filing ends nothing; the court's acceptance does."""
    committee = cli.open("2026-06-15", flow="medical_committee", dispute_type="medical")
    cli.step(committee, "accept", "2026-06-15")
    # Accepted Mon 6/15: 6/16-6/18 (3), [端午 6/19-6/21], 6/22-6/26 (8), 6/29-7/3 (13),
    # 7/6-7/10 (18), 7/13-7/17 (23), 7/20-7/24 (28), 7/27 (29), Tue 7/28 (30).
    assert cli.deadline(committee, "mediation_period", "2026-06-15")["due"] == "2026-07-28"
    cli.step(committee, "assign", "2026-06-15", "--data", str(EXAMPLES / "assign.toml"))
    cli.step(committee, "inform", "2026-06-15")
    cli.step(committee, "record_session", "2026-06-16", kind="investigation", summary="调取病历")
    authority = cli.open("2026-06-22", organisation="青卫", flow="health_admin",
                         dispute_type="medical")  # fmt: skip
    keep = show(cli, committee, "2026-06-22")["proceeding"]["dispute_id"]
    other = show(cli, authority, "2026-06-22")["proceeding"]["dispute_id"]
    cli.ok("dispute", "merge", str(keep), str(other), "--reason", "同一医疗纠纷", day="2026-06-22")
    # Received Mon 6/22: the authority decides within 6/23-6/26, 6/29 → Mon 6/29.
    assert cli.deadline(authority, "acceptance_period", "2026-06-22")["due"] == "2026-06-29"
    # A mere application elsewhere: the committee goes on mediating.
    cli.step(committee, "record_session", "2026-06-23", kind="mediation", summary="释法说理")
    assert cli.state(committee, "2026-06-23") == "mediating"
    # The authority may not accept what the committee has accepted (art. 40); it declines.
    before = _unchanged(cli, authority, "2026-06-24")
    barred = cli.refused("case", "advance", authority, "accept", day="2026-06-24")
    assert committee in barred.stderr and "受理" in barred.stderr
    assert _unchanged(cli, authority, "2026-06-24") == before
    cli.step(authority, "reject", "2026-06-24", reason="医调委已受理该纠纷",
             redirect_to="青山县医疗纠纷人民调解委员会")  # fmt: skip
    assert cli.deadline(authority, "acceptance_period", "2026-06-24")["status"] == "met"
    # Wed 7/1 the family files suit; on Thu 7/2 the court has not yet accepted it (立案 is
    # set for Mon 7/6): the mediation cannot be ended on an acceptance still to come.
    before = _unchanged(cli, committee, "2026-07-02")
    future = cli.refused(
        "case", "advance", committee, "end_accepted_elsewhere",
        "--set", "accepted_by=青山县人民法院", "--set", "accepted_on=2026-07-06",
        "--set", "reason=患方已起诉", day="2026-07-02",
    )  # fmt: skip
    assert "2026-07-06" in future.stderr
    assert _unchanged(cli, committee, "2026-07-02") == before
    cli.step(committee, "record_session", "2026-07-02", kind="mediation", summary="继续协商")
    # The court accepts Mon 7/6; the committee ends its mediation Tue 7/7, in time.
    done = advance_json(
        cli, committee, "end_accepted_elsewhere", "2026-07-07", accepted_by="青山县人民法院",
        accepted_on="2026-07-06", reason="患方已起诉，法院已立案受理",
    )  # fmt: skip
    assert done["to_state"] == "terminated"
    (period,) = deadlines(cli, committee, "mediation_period", "2026-07-07")
    assert period["status"] == "met"
    assert show(cli, committee, "2026-07-07")["proceeding"]["outcome"] == "terminated"
    cli.step(committee, "archive", "2026-07-08")
    assert cli.state(committee, "2026-07-08") == "archived"


# -- 卫生主管部门 -------------------------------------------------------------------------


def test_health_authority_decides_on_the_may_day_make_up_saturday_and_agrees_on_day_30(
    cli: Cli,
) -> None:
    """条例 art. 40: the health authority decides acceptance within 5 working days of
    receiving the application and mediates within 30 working days of accepting. Two
    applications reach it on Wed 4/29 and are typed in Thu 4/30: one is decided in time,
    the other is left undecided and shows in the overdue report (a duty, no consequence)."""
    received = "2026-04-29T15:00:00+08:00"
    case = cli.open("2026-04-30", organisation="青卫", flow="health_admin",
                    dispute_type="medical", received_at=received)  # fmt: skip
    idle = cli.open("2026-04-30", organisation="青卫", flow="health_admin",
                    dispute_type="medical", received_at=received)  # fmt: skip
    # Received Wed 4/29 (not the typing day): 4/30 (1), [劳动节 5/1-5/5], 5/6 (2), 5/7 (3),
    # 5/8 (4), Sat 5/9 调休 (5) → Sat 5/9.
    window = cli.deadline(case, "acceptance_period", "2026-04-30")
    assert (window["starts_on"], window["due"]) == ("2026-04-29", "2026-05-09")
    assert "医疗纠纷预防和处理条例第四十条" in window["legal_basis"]
    cli.step(case, "accept", "2026-05-09")
    assert cli.deadline(case, "acceptance_period", "2026-05-09")["status"] == "met"
    # Accepted Sat 5/9: 5/11-5/15 (5), 5/18-5/22 (10), 5/25-5/29 (15), 6/1-6/5 (20),
    # 6/8-6/12 (25), 6/15-6/18 (29), [端午 6/19-6/21], Mon 6/22 (30).
    period = cli.deadline(case, "mediation_period", "2026-05-09")
    assert (period["starts_on"], period["due"]) == ("2026-05-09", "2026-06-22")
    # Mon 5/11: the other application's 5 working days ended Sat 5/9 undecided: 2 days
    # overdue, citing art. 40. The accepted one is not listed.
    rows = {r["case_number"]: r for r in _overdue(cli, "2026-05-11")}
    assert case not in rows
    assert (rows[idle]["due"], rows[idle]["days_overdue"]) == ("2026-05-09", 2)
    assert "医疗纠纷预防和处理条例第四十条" in rows[idle]["legal_basis"]
    cli.step(case, "record_session", "2026-05-12", kind="mediation", summary="医患双方到场")
    done = advance_json(cli, case, "agree", "2026-06-22", **_agreement("2026-07-10"))
    assert done["to_state"] == "agreed"
    assert cli.deadline(case, "mediation_period", "2026-06-22")["status"] == "met"
    cli.step(case, "close", "2026-06-23")
    assert cli.state(case, "2026-06-23") == "closed"


# -- 公安交管 ----------------------------------------------------------------------------


def test_traffic_police_joint_application_on_the_tenth_working_day_after_national_day(
    cli: Cli,
) -> None:
    """道路交通事故处理程序规定 arts. 86, 90 (days are working days, domain.md §3.2): both
    parties apply in writing within 10 days of receiving the accident determination; the
    police notify them 3 days ahead and issue a 调解书 or 调解终结书 within 10 days of the
    start. No agreement: 调解终结书, then the parties go on to people's mediation."""
    received = {"determination_received_on": "2026-09-23"}
    case = cli.open("2026-10-14", organisation="青交", flow="traffic_police",
                    dispute_type="traffic")  # fmt: skip
    # Received Wed 9/23: 9/24 (1), [9/25-9/27], 9/28-9/30 (4), [10/1-10/7], 10/8, 10/9 (6),
    # Sat 10/10 调休 (7), 10/12, 10/13, 10/14 (10) → the last day to apply is Wed 10/14.
    before = _unchanged(cli, case, "2026-10-14")
    alone = cli.advance(case, "accept", "2026-10-14", **received, applied_on="2026-10-14",
                        consented_by="张三")  # fmt: skip
    assert alone.exit_code == 5 and "李四" in alone.stderr and "共同书面申请" in alone.stderr
    assert _unchanged(cli, case, "2026-10-14") == before
    cli.step(case, "accept", "2026-10-14", **received, applied_on="2026-10-14",
             consented_by="张三、李四")  # fmt: skip
    # Another accident, same determination day, applied Thu 10/15: one day late.
    late = cli.open("2026-10-15", organisation="青交", flow="traffic_police",
                    dispute_type="traffic")  # fmt: skip
    refused = cli.advance(late, "accept", "2026-10-15", **received, applied_on="2026-10-15",
                          consented_by="张三、李四")  # fmt: skip
    assert refused.exit_code == 5 and "2026-10-14" in refused.stderr
    assert cli.state(late, "2026-10-15") == "applied"
    # Notified Thu 10/15 of a session on Thu 10/22 (working days 10/16, 10/19-10/21 between:
    # three days ahead however the days are counted).
    cli.step(case, "notify_parties", "2026-10-15", session_on="2026-10-22", place="交警大队调解室")
    done = advance_json(cli, case, "start_mediation", "2026-10-22", kind="mediation",
                        summary="双方及保险公司到场")  # fmt: skip
    # Started Thu 10/22: 10/23 (1), 10/26-10/30 (6), 11/2 (7), 11/3 (8), 11/4 (9), Thu 11/5.
    (started,) = done["deadlines_started"]
    assert (started["kind"], started["due"]) == ("mediation_period", "2026-11-05")
    basis = cli.deadline(case, "mediation_period", "2026-10-22")["legal_basis"]
    assert "道路交通事故处理程序规定第九十条" in basis
    cli.step(case, "record_session", "2026-10-29", kind="mediation", summary="误工费分歧")
    cli.step(case, "end", "2026-11-05", reason="误工费计算标准分歧", other_routes="人民调解或起诉")
    assert cli.deadline(case, "mediation_period", "2026-11-05")["status"] == "met"
    handed = advance_json(cli, case, "refer_peoples", "2026-11-06", organisation="桥头",
                          consented_by="张三、李四", reason="双方同意人民调解")  # fmt: skip
    child = handed["handed_off_to"]["case_number"]
    assert cli.state(child, "2026-11-06") == "applied"
    handed_on = show(cli, child, "2026-11-06")["proceeding"]
    assert handed_on["flow"] == "traffic"
    assert handed_on["dispute_id"] == show(cli, case, "2026-11-06")["proceeding"]["dispute_id"]


# -- 交调委 → 公安交管 (art. 85) ------------------------------------------------------------


def _traffic_committee_case(cli: Cli, accepted: str) -> str:
    case = cli.open(accepted, flow="traffic", dispute_type="traffic")
    cli.step(case, "accept", accepted)
    cli.step(case, "assign", accepted, "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", accepted)
    return case


def test_traffic_committee_fails_before_may_day_and_the_police_mediate_after_it(
    cli: Cli,
) -> None:
    """A 交调委 case ("一般一个月内调结", insurer told 3 days ahead) fails on Thu 4/30, the eve
    of 劳动节. Art. 85: within 3 days of the termination both parties may apply to the
    traffic police, whose case enters accepted and runs 10 working days from the start."""
    case = _traffic_committee_case(cli, "2026-04-13")
    # Another accident's case, accepted the same day, fails the same day (below).
    other = _traffic_committee_case(cli, "2026-04-13")
    # One month from Mon 4/13: Wed 5/13, a working day.
    assert cli.deadline(case, "mediation_period", "2026-04-13")["due"] == "2026-05-13"
    # Mon 4/20: a session on Wed 4/22 is 2 days off, too soon to tell the insurer; Thu 4/23
    # is 3 days off.
    insurer = "某财产保险公司青山支公司"
    soon = cli.advance(case, "notify_insurer", "2026-04-20", insurer=insurer,
                       session_on="2026-04-22")  # fmt: skip
    assert soon.exit_code == 5 and "3日" in soon.stderr
    cli.step(case, "notify_insurer", "2026-04-20", insurer=insurer, session_on="2026-04-23")
    cli.step(case, "record_session", "2026-04-23", kind="mediation", summary="保险公司到场")
    cli.step(other, "record_session", "2026-04-23", kind="mediation", summary="分歧较大")
    cli.step(
        case, "terminate", "2026-04-30", reason="伤残赔偿分歧", other_routes="公安交管调解或起诉"
    )
    cli.step(other, "terminate", "2026-04-30", reason="分歧较大", other_routes="起诉")
    assert cli.deadline(case, "mediation_period", "2026-04-30")["status"] == "met"
    # Terminated Thu 4/30: 3 days 5/1-5/3, Sun 5/3 in 劳动节 → the first working day after
    # 5/1-5/5 is Wed 5/6 (counted in working days: 5/6, 5/7, 5/8). Wed 5/6 is in time
    # either way; one party alone may not apply.
    alone = cli.advance(case, "apply_police_mediation", "2026-05-06", organisation="青交",
                        consented_by="李四")  # fmt: skip
    assert alone.exit_code == 5 and "张三" in alone.stderr
    done = advance_json(cli, case, "apply_police_mediation", "2026-05-06", organisation="青交",
                        consented_by="张三、李四")  # fmt: skip
    police = done["handed_off_to"]["case_number"]
    assert cli.state(police, "2026-05-06") == "accepted"
    # One dispute, handed on (三调联动): not a re-typed new case.
    dispute = show(cli, case, "2026-05-06")["proceeding"]["dispute_id"]
    assert show(cli, police, "2026-05-06")["proceeding"]["dispute_id"] == dispute
    # Notified Wed 5/6 of Mon 5/11 (5/7, 5/8 and the 调休 Sat 5/9 between: 3 days ahead).
    cli.step(police, "notify_parties", "2026-05-06", session_on="2026-05-11", place="交警大队")
    # The other case, terminated the same Thu 4/30: an application on Mon 5/11 is late
    # however the 3 days are counted (5/6, or 5/8 in working days): refused, citing art. 85.
    before = _unchanged(cli, other, "2026-05-11")
    late = cli.advance(other, "apply_police_mediation", "2026-05-11", organisation="青交",
                       consented_by="张三、李四")  # fmt: skip
    assert late.exit_code == 5 and "第八十五条" in late.stderr
    assert _unchanged(cli, other, "2026-05-11") == before
    cli.step(police, "start_mediation", "2026-05-11", kind="mediation", summary="再次调解")
    # Started Mon 5/11: 5/12-5/15 (4), 5/18-5/22 (9), Mon 5/25 (10).
    assert cli.deadline(police, "mediation_period", "2026-05-11")["due"] == "2026-05-25"
    cli.step(police, "agree", "2026-05-25", **_agreement("2026-06-05"))
    assert cli.deadline(police, "mediation_period", "2026-05-25")["status"] == "met"
    assert cli.state(police, "2026-05-25") == "agreed"


# -- 治安调解 ----------------------------------------------------------------------------


def _public_order_case(cli: Cli, first: str) -> str:
    """A scuffle between neighbours the police station decides to mediate; the first
    session on ``first``."""
    case = cli.open("2026-04-28", organisation="城派", flow="public_order",
                    dispute_type="neighbourhood")  # fmt: skip
    cli.step(case, "first_session", first, kind="mediation", summary="双方同意调解，第一次调解")
    return case


def test_public_order_second_session_across_may_day_must_be_completed_by_the_seventh_day(
    cli: Cli,
) -> None:
    """公安机关办理行政案件程序规定 art. 183: a second session must be *completed* within 7
    working days of the first. The first is on Wed 4/29, the eve of 劳动节; the make-up
    Saturday 5/9 counts."""
    case = _public_order_case(cli, "2026-04-29")
    # Another scuffle, first session the same day (its end comes late, below).
    slow = _public_order_case(cli, "2026-04-29")
    # A third: one party refuses before the first session (arts. 178-179): no mediation.
    refusing = cli.open("2026-04-28", organisation="城派", flow="public_order",
                        dispute_type="neighbourhood")  # fmt: skip
    cli.step(refusing, "refuse", "2026-04-29", party="李四", reason="不同意调解")
    after = cli.advance(refusing, "first_session", "2026-04-29", kind="mediation", summary="x")
    assert after.exit_code == 5 and cli.state(refusing, "2026-04-29") == "refused"
    # 4/30 (1), [5/1-5/5], 5/6 (2), 5/7 (3), 5/8 (4), Sat 5/9 调休 (5), 5/11 (6), Tue 5/12 (7).
    clock = cli.deadline(case, "second_session", "2026-04-29")
    assert (clock["starts_on"], clock["due"]) == ("2026-04-29", "2026-05-12")
    assert "公安机关办理行政案件程序规定第一百八十三条" in clock["legal_basis"]
    cli.step(case, "second_session", "2026-05-11", kind="mediation", summary="第二次调解")
    cli.step(
        case, "agree", "2026-05-12", **_agreement("2026-05-15", terms="李四赔偿张三医药费800元")
    )
    assert cli.deadline(case, "second_session", "2026-05-12")["status"] == "met"
    # The other's second session starts on the last day, Tue 5/12, and its agreement comes
    # Wed 5/13. The clock ran until mediation ended: on 5/13 it is overdue, and the
    # agreement is recorded as late (逾期完成).
    cli.step(slow, "second_session", "2026-05-12", kind="mediation", summary="第二次调解")
    rows = {r["case_number"]: r for r in _overdue(cli, "2026-05-13")}
    assert (rows[slow]["due"], rows[slow]["days_overdue"]) == ("2026-05-12", 1)
    assert case not in rows
    cli.step(slow, "agree", "2026-05-13", **_agreement("2026-05-20"))
    assert cli.deadline(slow, "second_session", "2026-05-13")["status"] == "late"
    # Performed: no penalty; not performed: the penalty, and the parties told they may sue
    # (art. 185).
    cli.step(case, "performed", "2026-05-15", summary="李四已当场支付800元")
    assert cli.state(case, "2026-05-15") == "no_penalty"
    cli.step(slow, "not_performed", "2026-05-21", reason="李四逾期未赔偿", penalty="罚款200元")
    assert cli.state(slow, "2026-05-21") == "penalised"


# -- 劳动争议 ----------------------------------------------------------------------------


def test_labour_fifteen_days_from_receipt_continued_by_consent_then_not_performed(
    cli: Cli,
) -> None:
    """劳动争议调解仲裁法 art. 14: 15 days from the day the committee *received* the
    application (Fri 9/11), not the day it was typed in (Wed 9/16). The parties agree, while
    the 15 days run, to go on; agreement is reached in the agreed time; the employer does
    not pay by the agreed day and the worker is told of arbitration (art. 15)."""
    case = cli.open("2026-09-16", flow="labour", dispute_type="labour",
                    received_at="2026-09-11T16:20:00+08:00")  # fmt: skip
    # Received Fri 9/11: 9/12 .. 9/26 are the 15 days; Sat 9/26 is in 中秋 (9/25-9/27) →
    # Mon 9/28. (From the typing day it would be 9/17 .. 10/1 → 10/8, after 国庆.)
    period = cli.deadline(case, "mediation_period", "2026-09-16")
    assert (period["starts_on"], period["due"]) == ("2026-09-11", "2026-09-28")
    assert "劳动争议调解仲裁法第十四条" in period["legal_basis"]
    cli.step(case, "accept", "2026-09-16")
    cli.step(case, "assign", "2026-09-16", "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", "2026-09-16")
    cli.step(case, "record_session", "2026-09-17", kind="mediation", summary="加班费数额核对")
    # Thu 9/24, inside the 15 days: the worker alone cannot extend; both agree to Fri 10/16.
    before = _unchanged(cli, case, "2026-09-24")
    alone = cli.advance(case, "agree_to_continue", "2026-09-24", reason="需核对考勤",
                        consented_by="张三", new_due="2026-10-16")  # fmt: skip
    assert alone.exit_code == 5 and "李四" in alone.stderr
    assert _unchanged(cli, case, "2026-09-24") == before
    cli.step(case, "agree_to_continue", "2026-09-24", reason="需核对考勤",
             consented_by="张三、李四", new_due="2026-10-16")  # fmt: skip
    assert cli.deadline(case, "mediation_period", "2026-09-24")["due"] == "2026-10-16"
    # Tue 9/29, the day after the statutory 15 days: no lapse, mediation goes on.
    cli.scheduler("2026-09-29")
    assert cli.state(case, "2026-09-29") == "mediating"
    cli.step(case, "agree_written", "2026-10-12",
             **_agreement("2026-10-23", terms="公司于2026年10月23日前支付加班费6000元"))  # fmt: skip
    assert cli.deadline(case, "mediation_period", "2026-10-12")["status"] == "met"
    cli.sign_all(case, "2026-10-12")
    # In effect Mon 10/12: 30 days 10/13 .. 11/11 → Wed 11/11 to apply for confirmation.
    window = cli.deadline(case, "confirmation_window", "2026-10-12")
    assert window["due"] == "2026-11-11" and "民事诉讼法第二百零五条" in window["legal_basis"]
    # Fri 10/23 passes unpaid: on Mon 10/26 the worker is told of arbitration, the step
    # offered under art. 15 of the labour statute (not the 人民调解法).
    offered = {t["trigger"]: t for t in cli.json("case", "next", case, day="2026-10-26")["next"]}
    basis = offered["not_performed"]["legal_basis"]
    assert basis.startswith("劳动争议调解仲裁法第十五条"), basis
    done = advance_json(cli, case, "not_performed", "2026-10-26", party="李四",
                        summary="公司逾期未支付加班费，告知张三可申请劳动争议仲裁")  # fmt: skip
    assert done["to_state"] == "not_performed"
    assert cli.state(case, "2026-10-26") == "not_performed"
