"""Guards of the procedures around a mediation: notices before it, hand-offs after it
fails, objections after a court's ruling (issue 14, "Missing procedure").

Registered in the same tables as :mod:`mediation.engine.guards` (imported by
:mod:`mediation.engine.machine`, which loads the flows that name them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from mediation.domain.clock import business_date
from mediation.domain.periods import Period, compute_due
from mediation.domain.taxonomy import SETTLEMENTS
from mediation.engine.guards import _choice, _open_deadline, _parse_date, guard
from mediation.storage._tables import event_table

if TYPE_CHECKING:
    from mediation.engine.controller import Controller

_TRAFFIC_RULES = "道路交通事故处理程序规定"
#: The regulation's "三日", a period in working days (道路交通事故处理程序规定 art. 112).
_THREE_WORKING_DAYS = Period(3, "working_days")


def _last_event(ctl: Controller, trigger: str) -> object:
    """The latest event ``trigger`` of this proceeding (its occurred_at and payload)."""
    return ctl.conn.execute(
        select(event_table.c.occurred_at, event_table.c.payload)
        .where(
            event_table.c.proceeding_id == ctl.proceeding["id"],
            event_table.c.trigger == trigger,
        )
        .order_by(event_table.c.seq.desc())
        .limit(1)
    ).first()


@guard
def parties_notified_three_days_ahead(ctl: Controller) -> str | None:
    """Traffic police mediation: the time and place agreed with the parties are notified
    at least 3 days before the mediation (道路交通事故处理程序规定 art. 88), the
    regulation's days being working days (art. 112): the session is on or after the third
    working day after the notice."""
    session = _parse_date(ctl.payload.get("session_on"))
    if session is None:
        return "session_on（调解日期）应为日期（YYYY-MM-DD）"
    earliest = compute_due(ctl.today, _THREE_WORKING_DAYS, ctl.cal).due
    if session < earliest:
        return (
            f"调解日期 {session} 距今不足3个工作日：应于调解时间三日前通知当事人"
            f"（{_TRAFFIC_RULES} arts. 88, 112，以工作日计），最早可约定 {earliest}"
        )
    return None


@guard
def notified_session_reached(ctl: Controller) -> str | None:
    """Traffic police mediation starts on or after the day notified to the parties."""
    notice = _last_event(ctl, "notify_parties")
    if notice is None:
        return (
            f"尚未通知当事人调解时间、地点（{_TRAFFIC_RULES} art. 88）："
            "先执行 notify_parties 并提前三日通知"
        )
    session = _parse_date(notice.payload.get("session_on"))  # type: ignore[attr-defined]
    if session is not None and ctl.today < session:
        return f"已通知的调解日期为 {session}，不能提前开始调解"
    return None


@guard
def within_three_days_of_failure(ctl: Controller) -> str | None:
    """After a failed people's mediation, the parties may jointly apply for traffic police
    mediation within 3 days (道路交通事故处理程序规定 art. 85), the regulation's days being
    working days (art. 112): the third working day after the termination."""
    ended = _last_event(ctl, "terminate")
    if ended is None:
        return "人民调解尚未终止，不能申请公安机关交通管理部门调解"
    day = business_date(ended.occurred_at)  # type: ignore[attr-defined]
    last = compute_due(day, _THREE_WORKING_DAYS, ctl.cal).due
    if ctl.today > last:
        return (
            f"人民调解于 {day} 终止，申请公安机关交通管理部门调解须在三日内（以工作日计，"
            f"至 {last}）提出（{_TRAFFIC_RULES} arts. 85, 112），已逾期：可向人民法院提起民事诉讼"
        )
    return None


@guard
def accepted_elsewhere_already(ctl: Controller) -> str | None:
    """医疗纠纷预防和处理条例 arts. 31, 40: a court's or the other body's *acceptance* of the
    dispute ends this mediation, a mere application does not. ``accepted_on`` is the day it
    was accepted: a date, not after today (an acceptance still to come ends nothing)."""
    accepted = _parse_date(ctl.payload.get("accepted_on"))
    if accepted is None:
        return "accepted_on（受理日期）应为日期（YYYY-MM-DD）"
    if accepted > ctl.today:
        return (
            f"受理日期 {accepted} 晚于今天 {ctl.today}：纠纷已被受理才终止调解，"
            "仅提出申请、尚未受理的，调解继续（医疗纠纷预防和处理条例 arts. 31, 40）"
        )
    return None


#: Who may object to a special-procedure ruling, and within what (民事诉讼法解释 art. 372).
OBJECTORS = {"party": "当事人", "third_party": "利害关系人"}


@guard
def objection_in_time(ctl: Controller) -> str | None:
    """An objection to a confirmation ruling (民事诉讼法解释 art. 372): a party within 15
    days of receiving the ruling (the ``objection_window`` started by ``record_ruling_service``;
    before the service is recorded the window has not started); a third party within 6
    months of the day it knew or ought to have known its rights were harmed
    (``known_on``)."""
    role = ctl.payload.get("objector_role")
    if role not in OBJECTORS:
        options = "、".join(f"{k}（{v}）" for k, v in OBJECTORS.items())
        return f"objector_role 为 {role!r}，应为 {options} 之一"
    if role == "party":
        due = _open_deadline(ctl, "objection_window")
        if due is not None and ctl.today > due:
            return (
                f"当事人提出异议的期限（收到裁定之日起十五日）已于 {due} 届满"
                "（民事诉讼法解释 art. 372）"
            )
        return None
    known = _parse_date(ctl.payload.get("known_on"))
    if known is None:
        return "利害关系人提出异议须填写 known_on（知道或者应当知道其民事权益受到侵害之日）"
    if known > ctl.today:
        return f"known_on {known} 晚于今天 {ctl.today}"
    last = compute_due(known, Period(6, "months"), ctl.cal).due
    if ctl.today > last:
        return (
            f"利害关系人应自知道或者应当知道其民事权益受到侵害之日起六个月内提出异议，"
            f"已于 {last} 届满（民事诉讼法解释 art. 372）"
        )
    return None


@guard
def settlement_is_known(ctl: Controller) -> str | None:
    """治安调解: the parties settled by themselves or through a people's mediation
    committee (治安管理处罚法 art. 9, third paragraph), one of :data:`SETTLEMENTS`."""
    return _choice(ctl.payload.get("settled_by"), SETTLEMENTS, "settled_by")
