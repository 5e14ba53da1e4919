"""End-to-end scenarios through the real CLI (``mediation``), one clock moment per step
(``MEDIATION_NOW``), on a SQLite file and on PostgreSQL: who may consent, and windows that
run from the day something was received or held (domain.md §3.2, §3.5, §4).

Every date is worked by hand in a comment from domain.md §4: the day of the event is not
counted; a last day on a statutory rest day rolls to the next working day; "个工作日" skip
weekends and holidays (2026: 4/4-4/6 清明, 5/1-5/5 劳动节; 5/9 Saturday is a make-up working
day).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.engine.organisations import add_organisation
from mediation.storage.store import Store
from tests.conftest import T0, intake_record

ACTOR = "clerk1"


def at(day: str, time: str = "09:00") -> str:
    return f"2026-{day}T{time}:00+08:00"


def cli(runner: CliRunner, db: str, now: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", db, *args], env={"MEDIATION_NOW": now})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def advance(runner: CliRunner, db: str, now: str, case: str, trigger: str, **data: str) -> Result:
    sets = [arg for key, value in data.items() for arg in ("--set", f"{key}={value}")]
    return cli(runner, db, now, "case", "advance", case, trigger, *sets)


def show(runner: CliRunner, db: str, case: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        ok(cli(runner, db, at("03-02"), "case", "show", case, "--json")).stdout
    )
    return found


def open_case(runner: CliRunner, db: str, tmp_path: Path, now: str, **changes: Any) -> str:
    path = tmp_path / f"intake-{changes['flow']}.json"
    path.write_text(json.dumps(intake_record(**changes), ensure_ascii=False), encoding="utf-8")
    opened = json.loads(
        ok(cli(runner, db, now, "case", "open", "--from", str(path), "--json")).stdout
    )
    number: str = opened["case_number"]
    return number


@pytest.fixture
def db(store: Store, db_url: str) -> Iterator[str]:
    """The committee ladder plus a petition bureau and an administrative organ."""
    add_organisation(
        store, code="青信", name="青山县信访局", level="county", kind="petition_bureau", now=T0
    )
    add_organisation(
        store, code="青司", name="青山县司法局", level="county", kind="admin_organ", now=T0
    )
    store.close()
    yield db_url


def test_petition_reply_served_before_a_holiday_review_on_the_rolled_last_day(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    """信访工作条例 art. 35 (domain.md §3.5): 复查 within 30 days of *receiving* the reply.

    - The 处理意见 is issued Wed 4/1 and served on the petitioner Fri 4/3, the day before
      the 清明 break (4/4-4/6). The clerk records the service only on Tue 4/7 and closes
      the file the same day.
    - The window counts from the service day, not from 4/7: day 1 is Sat 4/4 (rest days
      inside the period are not deducted), day 27 is 4/30, day 28 Fri 5/1, day 30 Sun 5/3,
      inside the 劳动节 break 5/1-5/5; the last day rolls to the first working day after it:
      Wed 5/6.
    - 复查 asked on Wed 5/6, after the file was closed: accepted.
    """
    case = open_case(runner, db, tmp_path, at("03-02"), organisation="青信", flow="petition")
    ok(advance(runner, db, at("03-02", "10:00"), case, "accept"))
    ok(
        advance(
            runner,
            db,
            at("03-03"),
            case,
            "exclude",
            exclusion="administrative_dispute",
            reason="属行政争议，告知行政复议途径",
        )
    )
    ok(advance(runner, db, at("04-01"), case, "conclude", opinion="告知通过行政复议途径解决"))
    served = ok(advance(runner, db, at("04-07"), case, "record_service", served_on="2026-04-03"))
    assert "2026-05-06" in served.stdout
    closed = ok(advance(runner, db, at("04-07", "10:00"), case, "close", summary="已送达"))
    assert "closed_review_window" in closed.stdout
    window = [d for d in show(runner, db, case)["deadlines"] if d["kind"] == "review_window"]
    assert [(d["starts_on"], d["due"], d["status"]) for d in window] == [
        ("2026-04-03", "2026-05-06", "open")
    ]
    asked = advance(runner, db, at("05-06", "16:00"), case, "request_review", party="张三")
    assert asked.exit_code == 3  # the reason is required: nothing written
    ok(
        advance(
            runner,
            db,
            at("05-06", "16:00"),
            case,
            "request_review",
            party="张三",
            reason="不服处理意见",
        )
    )
    data = show(runner, db, case)
    assert data["proceeding"]["state"] == "review_requested"
    # The request stopped the window; the bureau's own 30 days to answer start (art. 35):
    # from 5/6, day 30 is Fri 6/5.
    kinds = {d["kind"]: (d["status"], d["due"]) for d in data["deadlines"]}
    assert kinds["review_window"] == ("closed", "2026-05-06")
    assert kinds["review_period"] == ("open", "2026-06-05")


def test_petition_review_one_day_late_is_refused_then_the_matter_ends(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    """Same dates (served Fri 4/3, window to Wed 5/6): 复查 asked Thu 5/7 is refused (exit 5)
    naming the day the window ended; the same day the case ends (终结)."""
    case = open_case(runner, db, tmp_path, at("03-02"), organisation="青信", flow="petition")
    ok(advance(runner, db, at("03-02", "10:00"), case, "accept"))
    ok(
        advance(
            runner, db, at("03-03"), case, "exclude", exclusion="litigation_pending", reason="涉诉"
        )
    )
    ok(advance(runner, db, at("04-01"), case, "conclude", opinion="告知依法通过诉讼途径解决"))
    ok(advance(runner, db, at("04-03"), case, "record_service", served_on="2026-04-03"))
    ok(advance(runner, db, at("04-03", "10:00"), case, "close", summary="已送达"))
    late = advance(
        runner, db, at("05-07"), case, "request_review", party="张三", reason="不服处理意见"
    )
    assert late.exit_code == 5, late.output
    assert "申请复查期限已于 2026-05-06 届满" in late.output
    ended = ok(advance(runner, db, at("05-07", "10:00"), case, "end_review_window"))
    assert "（closed）" in ended.stdout


def test_public_order_second_session_completed_on_working_day_eight_is_late(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    """治安调解 (程序规定 art. 183, domain.md §3.2): a second mediation must be *completed*
    within 7 working days of the first.

    - First session Fri 4/3. Working days after it (清明 4/4-4/6 skipped): Tue 4/7 (1),
      4/8 (2), 4/9 (3), Fri 4/10 (4), Mon 4/13 (5), 4/14 (6), Wed 4/15 (7): due 4/15.
    - The second session starts Mon 4/13, in time, and the clock keeps running.
    - The agreement comes on Thu 4/16, working day 8: the clock is recorded as 逾期完成
      (late). The agreement is then performed: no penalty (art. 185).
    """
    case = open_case(runner, db, tmp_path, at("04-03"), organisation="城关", flow="public_order")
    first = ok(
        advance(runner, db, at("04-03"), case, "first_session", kind="mediation", summary="第一次")
    )
    assert "2026-04-15" in first.stdout
    ok(advance(runner, db, at("04-13"), case, "second_session", kind="mediation", summary="第二次"))
    running = [d for d in show(runner, db, case)["deadlines"] if d["kind"] == "second_session"]
    assert [(d["starts_on"], d["due"], d["status"]) for d in running] == [
        ("2026-04-03", "2026-04-15", "open")
    ]
    agreement = {
        "facts": "李四推搡张三致其轻微伤",
        "issues": "医药费赔偿",
        "responsibility": "李四负全部责任",
        "terms": "李四于2026年4月20日前赔偿张三医药费800元",
        "performance_method": "现金支付",
        "performance_place": "城关派出所",
        "performance_deadline": "2026-04-20",
    }
    ok(advance(runner, db, at("04-16"), case, "agree", **agreement))
    data = show(runner, db, case)
    stopped = [d for d in data["deadlines"] if d["kind"] == "second_session"]
    assert [(d["due"], d["status"]) for d in stopped] == [("2026-04-15", "late")]
    ok(advance(runner, db, at("04-20"), case, "performed", summary="已当面支付800元"))
    assert show(runner, db, case)["proceeding"]["state"] == "no_penalty"


def test_public_order_party_refuses_before_the_first_session(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    """程序规定 arts. 178-179: the respondent refuses mediation before any session (Mon
    3/2): no mediation, the case ends as 当事人拒绝调解 and goes to the penalty."""
    case = open_case(runner, db, tmp_path, at("03-02"), organisation="城关", flow="public_order")
    done = ok(advance(runner, db, at("03-02"), case, "refuse", party="李四", reason="不同意调解"))
    assert "（refused）" in done.stdout
    data = show(runner, db, case)
    assert (data["proceeding"]["state"], data["proceeding"]["outcome"]) == ("refused", "refused")


def test_administrative_applicant_cannot_consent_for_the_respondent(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    """行政调解 (domain.md §3.2: 征求对方意见, the other party must consent). 张三 applies
    on Mon 3/2; the organ approves and consults 李四. 张三 trying to give the consent is
    refused (exit 5) with 李四 named; 李四's consent on Tue 3/3 opens the mediation, and the
    20 working days run from it: 3/4 (1) ... 3/31 (20), no holiday in between: due 3/31."""
    case = open_case(runner, db, tmp_path, at("03-02"), organisation="青司", flow="administrative")
    ok(advance(runner, db, at("03-02", "10:00"), case, "approve_filing", approved_by="局长"))
    ok(advance(runner, db, at("03-02", "11:00"), case, "consult"))
    wrong = advance(runner, db, at("03-03"), case, "other_party_consents", party="张三")
    assert wrong.exit_code == 5, wrong.output
    assert "张三 是申请人" in wrong.output and "李四" in wrong.output
    assert show(runner, db, case)["proceeding"]["state"] == "consulting"
    right = ok(
        advance(runner, db, at("03-03", "10:00"), case, "other_party_consents", party="李四")
    )
    assert "2026-03-31" in right.stdout
    assert show(runner, db, case)["proceeding"]["state"] == "accepted"
