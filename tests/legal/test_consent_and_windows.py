"""Consent and time windows that the law ties to a particular person or day (issue 14
items 4, 10, 11; the 治安调解 procedure).

Every rule here is traced to ``/work/shared/domain.md``: §3.2 (行政调解: the *other* party
consents; 治安调解: 治安管理处罚法 art. 9, 公安机关办理行政案件程序规定 arts. 178-179, 183,
185), §3.5 (信访工作条例 arts. 35-36: 复查/复核 within 30 days of *receiving* the written
reply) and §4 (counting: the day of the event is not counted; a last day on a rest day
rolls to the next working day; working days skip the holidays). Each date is worked by hand
in a comment. Both databases run every test (the ``store`` fixture).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from mediation.domain import intake
from mediation.domain.clock import BUSINESS_TZ
from mediation.engine import cases
from mediation.engine.organisations import add_organisation
from mediation.errors import TransitionNotAllowed
from mediation.storage._tables import deadline_table
from mediation.storage.store import Store
from tests.conftest import T0, intake_record


def at(day: str, time: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"2026-{day}T{time}:00").replace(tzinfo=BUSINESS_TZ)


def _open(store: Store, flow: str, org: str, **changes: Any) -> int:
    record = intake_record(organisation=org, flow=flow, **changes)
    return cases.open_case(store, intake.validate(record), actor="t", now=T0).proceeding_id


def _go(store: Store, pid: int, trigger: str, when: datetime, **payload: Any) -> Any:
    return cases.advance(store, pid, trigger, actor="t", now=when, payload=payload)


def _deadlines(store: Store, pid: int, kind: str) -> list[tuple[date, str, date]]:
    """(starts_on, status, due) of every clock ``kind`` of the case, in the order started."""
    d = deadline_table
    with store.read() as conn:
        rows = conn.execute(
            select(d.c.starts_on, d.c.status, d.c.due)
            .where(d.c.proceeding_id == pid, d.c.kind == kind)
            .order_by(d.c.id)
        ).all()
    return [(r.starts_on, r.status, r.due) for r in rows]


# -- item 11: 行政调解, the other party consents --------------------------------------------


def _administrative(store: Store) -> int:
    add_organisation(
        store, code="青司", name="青山县司法局", level="county", kind="admin_organ", now=T0
    )
    pid = _open(store, "administrative", "青司")
    _go(store, pid, "approve_filing", T0, approved_by="局长")
    _go(store, pid, "consult", T0)
    return pid


def test_the_applicant_cannot_consent_for_the_other_party(store: Store) -> None:
    """domain.md §3.2: 征求对方意见 (the other party must consent). 张三 applied; 李四 is the
    respondent, so only 李四's consent opens the mediation."""
    pid = _administrative(store)
    with pytest.raises(TransitionNotAllowed) as refused:
        _go(store, pid, "other_party_consents", T0, party="张三")
    assert "李四" in refused.value.message and "申请人" in refused.value.message
    with pytest.raises(TransitionNotAllowed, match="李四"):
        _go(store, pid, "other_party_refuses", T0, party="张三", reason="不愿意")
    done = _go(store, pid, "other_party_consents", T0, party="李四")
    assert done.to_state == "accepted"


def test_each_consent_message_names_what_is_consented_to(store: Store) -> None:
    """The joint-consent guard served three different acts (延长期限, 移送人民调解, 申请司法
    确认) with one message about extending the period."""
    from mediation.engine.controller import Controller
    from mediation.engine.guards import GUARDS
    from mediation.storage._tables import proceeding_table

    pid = _open(store, "peoples", "桥头")
    with store.read() as conn:
        proceeding = conn.execute(select(proceeding_table).where(proceeding_table.c.id == pid))
        row = proceeding.one()._asdict()
        said = {}
        for trigger in ("extend", "divert", "apply_confirmation"):
            ctl = Controller(
                state="mediating",
                trigger=trigger,
                proceeding=row,
                payload={"consented_by": "张三"},
                conn=conn,
                now=T0,
                today=T0.date(),
                actor="t",
            )
            said[trigger] = GUARDS["both_sides_consent"](ctl)
    assert said["extend"] is not None and "延长调解期限" in said["extend"]
    assert said["divert"] is not None and "移送人民调解" in said["divert"]
    assert said["apply_confirmation"] is not None and "司法确认" in said["apply_confirmation"]
    for message in (said["divert"], said["apply_confirmation"]):
        assert "延长" not in message and "李四" in message


# -- item 10 and the procedure: 治安调解 ----------------------------------------------------


def _public_order(store: Store) -> int:
    return _open(store, "public_order", "城关")


def _terms(terms: str, deadline: str) -> dict[str, str]:
    """An agreement's fields (治安调解协议书, 程序规定 art. 184)."""
    return {
        "facts": "李四推搡张三致其轻微伤",
        "issues": "医药费赔偿",
        "responsibility": "李四负全部责任",
        "terms": terms,
        "performance_method": "现金支付",
        "performance_place": "城关派出所",
        "performance_deadline": deadline,
    }


def test_public_order_seven_working_days_bind_the_end_of_mediation(store: Store) -> None:
    """程序规定 art. 183: a second mediation must be *completed* within 7 working days of the
    first. First session Mon 3/2; 7 working days: 3/3, 3/4, 3/5, 3/6, 3/9, 3/10, 3/11 → due
    Wed 3/11. The second session starts 3/9 (in time), the agreement comes on Thu 3/12,
    working day 8: the clock ran until the agreement and is recorded as late (逾期完成)."""
    pid = _public_order(store)
    first = _go(store, pid, "first_session", at("03-02"), kind="mediation", summary="第一次调解")
    (started,) = first.deadlines_started
    assert started["due"] == date(2026, 3, 11)
    second = _go(store, pid, "second_session", at("03-09"), kind="mediation", summary="第二次")
    assert second.deadlines_stopped == []  # starting the second session ends nothing
    assert _deadlines(store, pid, "second_session") == [
        (date(2026, 3, 2), "open", date(2026, 3, 11))
    ]
    _go(store, pid, "agree", at("03-12"), **_terms("李四赔偿张三医药费800元", "2026-03-20"))
    assert _deadlines(store, pid, "second_session") == [
        (date(2026, 3, 2), "late", date(2026, 3, 11))
    ]


def test_public_order_mediation_ended_on_the_seventh_working_day_is_in_time(
    store: Store,
) -> None:
    """Same clock (due Wed 3/11); no agreement on 3/11, working day 7 → met, and the
    penalty follows (art. 185)."""
    pid = _public_order(store)
    _go(store, pid, "first_session", at("03-02"), kind="mediation", summary="第一次调解")
    _go(store, pid, "second_session", at("03-10"), kind="mediation", summary="第二次")
    done = _go(store, pid, "not_agreed", at("03-11"), reason="赔偿数额分歧", penalty="罚款200元")
    assert done.to_state == "penalised"
    assert _deadlines(store, pid, "second_session") == [
        (date(2026, 3, 2), "met", date(2026, 3, 11))
    ]


def test_public_order_cites_its_statutes() -> None:
    from mediation.engine.machine import load

    machine = load("public_order")
    assert "治安管理处罚法" in machine.flow.legal_basis and "art. 9" in machine.flow.legal_basis
    for art in ("178", "179", "183", "185"):
        assert art in machine.flow.legal_basis
    rule = machine.rules["second_session"]
    assert "完成" in rule.legal_basis and "第一次调解" in rule.legal_basis
    assert rule.runs_in == frozenset({"first_held", "mediating"})


def test_a_party_may_refuse_before_the_first_session(store: Store) -> None:
    """程序规定 arts. 178-179: mediation needs both parties' consent; a party who refuses
    before the first session means no mediation, and the case goes to the penalty."""
    pid = _public_order(store)
    with pytest.raises(TransitionNotAllowed, match="当事人"):
        _go(store, pid, "refuse", T0, party="王五", reason="不愿调解")
    done = _go(store, pid, "refuse", T0, party="李四", reason="明确表示不接受调解")
    assert done.to_state == "refused"
    with store.read() as conn:
        from mediation.storage._tables import proceeding_table as p

        outcome, closed = conn.execute(
            select(p.c.outcome, p.c.closed_at).where(p.c.id == pid)
        ).one()
    assert outcome == "refused" and closed is not None
    other = _public_order(store)
    _go(store, other, "first_session", T0, kind="mediation", summary="第一次调解")
    with pytest.raises(TransitionNotAllowed):  # after the first session: not_agreed
        _go(store, other, "refuse", T0, party="李四", reason="不愿调解")


def test_public_order_performed_agreement_means_no_penalty(store: Store) -> None:
    """程序规定 art. 185: performed → no penalty; not performed → penalty and notice to sue."""
    pid = _public_order(store)
    _go(store, pid, "first_session", T0, kind="mediation", summary="第一次调解")
    _go(store, pid, "agree", T0, **_terms("李四当场赔礼道歉", "2026-03-02"))
    assert _go(store, pid, "performed", T0, summary="已履行").to_state == "no_penalty"
    other = _public_order(store)
    _go(store, other, "first_session", T0, kind="mediation", summary="第一次调解")
    _go(store, other, "agree", T0, **_terms("李四赔偿500元", "2026-03-10"))
    done = _go(store, other, "not_performed", at("03-11"), reason="逾期未付", penalty="罚款")
    assert done.to_state == "penalised"


# -- item 4: 信访 复查/复核 windows from the day the reply is received ----------------------


def _petition(store: Store) -> int:
    """A petition excluded from mediation and answered on Wed 4/1 (处理意见)."""
    add_organisation(
        store, code="青信", name="青山县信访局", level="county", kind="petition_bureau", now=T0
    )
    pid = _open(store, "petition", "青信")
    _go(store, pid, "accept", T0)
    _go(store, pid, "exclude", at("03-03"), exclusion="administrative_dispute", reason="行政争议")
    _go(store, pid, "conclude", at("04-01"), opinion="依法告知通过行政复议途径解决")
    return pid


def test_review_requested_in_the_window_after_the_file_was_closed(store: Store) -> None:
    """信访工作条例 art. 35: 复查 within 30 days of receiving the written reply. Served Fri
    4/3 (recorded by the clerk only on Tue 4/7: the window counts from the service day);
    day 1 is 4/4, day 30 is Sun 5/3, inside the Labour Day break 5/1-5/5 → the window ends
    Wed 5/6. The file was closed on 4/7 right after recording the service; a 复查 request
    on 5/6 is still accepted."""
    pid = _petition(store)
    served = _go(store, pid, "record_service", at("04-07"), served_on="2026-04-03")
    (window,) = served.deadlines_started
    assert (window["starts_on"], window["due"]) == (date(2026, 4, 3), date(2026, 5, 6))
    closed = _go(store, pid, "close", at("04-07"), summary="处理意见已送达")
    assert closed.to_state == "closed_review_window"
    done = _go(store, pid, "request_review", at("05-06"), party="张三", reason="不服处理意见")
    assert done.to_state == "review_requested"


def test_review_requested_after_the_window_is_refused(store: Store) -> None:
    """Same dates: the window ended Wed 5/6, so a request on Thu 5/7 is refused; the case
    can then end (终结)."""
    pid = _petition(store)
    _go(store, pid, "record_service", at("04-03"), served_on="2026-04-03")
    _go(store, pid, "close", at("04-03"), summary="处理意见已送达")
    with pytest.raises(TransitionNotAllowed, match="2026-05-06"):
        _go(store, pid, "request_review", at("05-07"), party="张三", reason="不服处理意见")
    with pytest.raises(TransitionNotAllowed):  # not before the window ran out
        _go(store, pid, "end_review_window", at("05-06"))
    assert _go(store, pid, "end_review_window", at("05-07")).to_state == "closed"


def test_service_day_is_a_real_day_not_before_the_reply(store: Store) -> None:
    pid = _petition(store)
    for bad in ("2026-03-31", "2026-04-08", "不知道"):  # before the reply; in the future
        with pytest.raises((TransitionNotAllowed,)):
            _go(store, pid, "record_service", at("04-07"), served_on=bad)
    _go(store, pid, "record_service", at("04-07"), served_on="2026-04-02")
    with pytest.raises(TransitionNotAllowed, match="已登记"):
        _go(store, pid, "record_service", at("04-08"), served_on="2026-04-03")


def test_recheck_window_runs_from_receipt_of_the_review_opinion(store: Store) -> None:
    """信访工作条例 art. 36: 复核 within 30 days of receiving the 复查意见. Served Wed 5/20:
    day 1 is 5/21, day 30 is Fri 6/19, the Dragon Boat break 6/19-6/21 → ends Mon 6/22.
    Closed right after; 复核 on 6/22 accepted; on 6/23 it would be refused."""
    pid = _petition(store)
    _go(store, pid, "record_service", at("04-03"), served_on="2026-04-03")
    _go(store, pid, "request_review", at("04-20"), party="张三", reason="不服处理意见")
    _go(store, pid, "answer_review", at("05-15"), opinion="维持原处理意见")
    served = _go(store, pid, "record_review_service", at("05-20"), served_on="2026-05-20")
    (window,) = served.deadlines_started
    assert window["due"] == date(2026, 6, 22)
    assert _go(store, pid, "close", at("05-21"), summary="已送达").to_state == (
        "closed_recheck_window"
    )
    with pytest.raises(TransitionNotAllowed, match="2026-06-22"):
        cases.advance(
            store,
            pid,
            "request_recheck",
            actor="t",
            now=at("06-23"),
            payload={"party": "张三", "reason": "不服复查意见"},
        )
    done = _go(store, pid, "request_recheck", at("06-22"), party="张三", reason="不服复查意见")
    assert done.to_state == "recheck_requested"
