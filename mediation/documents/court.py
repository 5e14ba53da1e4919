"""Documents of the court-docked flows: the court's own 民事调解书 (民事诉讼法 art. 100) and
民事裁定书 confirming a mediation agreement (民特, arts. 205-206), and what a 委派/委托
mediation sends or shows: the rights notice (特邀调解规定 art. 14) and the result letter to
the court (arts. 18-20, 26).

A court's documents carry its own case number, （2026）浙0681民初123号, built from the
court code set on the organisation (``mediation org set-court-code``); they are signed by the
judge and the clerk and have no signature lines for the parties. Every person a document
names as a mediator is one the case designated (特邀调解规定 art. 12), never the system
account or the login that recorded a step: without one the document is refused.
"""

from __future__ import annotations

import re
from typing import Any

from mediation.documents.casefile import (
    CaseFile,
    Need,
    agreement_event,
    cn_date,
    day_of,
    ending,
    parties_of,
    payload_fix,
    spec_of,
)
from mediation.engine.guards import SYSTEM_ACCOUNTS
from mediation.engine.opening import court_case_number
from mediation.i18n import N_, _

#: How a court's documents name the parties of a suit (intake role → 身份).
SUIT_ROLES = {"applicant": "原告", "respondent": "被告", "third_party": "第三人"}
#: A number already in the court's form: （2026）浙0681民初123号.
_COURT_NUMBER = re.compile(r"^（\d{4}）[\u4e00-\u9fff]{1,3}[0-9]{0,4}[\u4e00-\u9fff]{1,4}\d+号$")
_SET_COURT_CODE = "set the court's code: `mediation org set-court-code {org} 浙0681` (法院代字)"


def court_number(case: CaseFile, need: Need) -> str:
    """The court's case number of ``case``: the number it was opened with when that is in the
    court's form, else built from the court code now set (year and serial as opened)."""
    stored = case.case_number
    if _COURT_NUMBER.match(stored):
        return stored
    code = case.organisation.get("court_code")
    if not code:
        need.add(
            "案号（法院代字）",
            f"{case.organisation['name']}没有设定法院代字，不能编制（2026）浙0681"
            f"{case.flow.court_case_type}123号式的案号",
            _SET_COURT_CODE.format(org=case.organisation["code"]),
        )
        return stored
    p = case.proceeding
    return court_case_number(p["case_year"], code, case.flow.court_case_type, p["case_serial"])


def _suit_parties(case: CaseFile, role: str, on: Any) -> list[dict[str, Any]]:
    return [{**p, "role": SUIT_ROLES[role]} for p in parties_of(case, on, role)]


def _signer(need: Need, data: dict[str, Any], key: str, label: str, trigger: str) -> str:
    name = need.text(
        data.get(key),
        label,
        "民事诉讼法 art. 100：由审判人员、书记员署名",
        payload_fix(trigger, key),
    )
    if name in SYSTEM_ACCOUNTS:
        need.add(label, f"「{name}」是系统账号，不是{label}", payload_fix(trigger, key))
    return name


def _civil_mediation(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    event = case.last("agree")
    assert event is not None  # available() checked the case reached 'agreed'
    data = event["payload"]
    on = day_of(event, case)
    text = {
        key: need.text(
            data.get(key),
            label,
            f"民事诉讼法 art. 100：调解书应当写明{label}",
            payload_fix("agree", key),
        )
        for key, label in (("claims", "诉讼请求"), ("facts", "案件的事实"), ("terms", "调解结果"))
    }
    plaintiffs = _suit_parties(case, "applicant", on)
    defendants = _suit_parties(case, "respondent", on)
    need.particulars(
        plaintiffs + defendants,
        {"gender": "性别", "address": "住址"},
        "民事调解书：当事人的基本情况",
    )
    procedure = "简易程序" if case.flow.name.endswith("_simple") else "普通程序"
    return {
        "case_number": court_number(case, need),
        "plaintiffs": plaintiffs,
        "defendants": defendants,
        "third_parties": _suit_parties(case, "third_party", on),
        "matter": case.dispute["title"],
        "filed_on": cn_date(case.proceeding["opened_at"]),
        "procedure": procedure,
        **text,
        "costs": str(data.get("costs") or ""),
        "judge": _signer(need, data, "judge", "审判员", "agree"),
        "clerk": _signer(need, data, "clerk", "书记员", "agree"),
        "made_on": cn_date(on),
    }


def _agreement_confirmed(case: CaseFile) -> dict[str, str]:
    """The agreement a 民特 case is about: carried over from the case that reached it."""
    carried: dict[str, Any] = case.proceeding["facts"].get("carried_over") or {}
    data: dict[str, Any] = next(
        (carried[t] for t in ("agree_written", "agree") if isinstance(carried.get(t), dict)), {}
    )
    return {
        "number": str(carried.get("from_case") or ""),
        "organisation": case.parent["organisation"] if case.parent else "",
        "agreed_on": cn_date((carried.get("agreement") or {}).get("effective_on")),
        "terms": str(data.get("terms") or ""),
    }


def _confirmation_ruling(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    spec = spec_of(case, "confirmation_ruling")
    event = case.entered(spec.after)
    assert event is not None
    data = event["payload"]
    on = day_of(event, case)
    agreement = _agreement_confirmed(case)
    fix = _("调解协议随当事人的申请一并移交，来自达成协议的案件")
    for key, label in (("organisation", "主持调解的组织"), ("terms", "调解协议内容")):
        agreement[key] = need.text(agreement[key], label, "民事裁定书：所确认的调解协议", fix)
    applicants = [{**p, "role": "申请人"} for p in parties_of(case, on, "applicant", "respondent")]
    accepted = case.entered(("accepted",))
    confirmed = event["to_state"] == "confirmed"
    return {
        "case_number": court_number(case, need),
        "applicants": applicants,
        "agreement": agreement,
        "applied_on": cn_date(case.proceeding["opened_at"]),
        "accepted_on": cn_date(accepted["occurred_at"]) if accepted else "",
        "result": "confirmed" if confirmed else "dismissed",
        "reason": "" if confirmed else ending(case, event)["reason"],
        "judge": _signer(need, data, "judge", "审判员", event["trigger"]),
        "clerk": _signer(need, data, "clerk", "书记员", event["trigger"]),
        "ruled_on": cn_date(on),
    }


def designated_mediators(case: CaseFile, need: Need, document: str) -> str:
    """The mediators the case chose or designated (特邀调解规定 art. 12), by name; refused
    (in ``need``) when nobody was, rather than naming whoever recorded a step."""
    names = list(case.proceeding["mediators"] or [])
    lead = case.proceeding["mediator"]
    if lead and lead not in names:
        names.insert(0, lead)
    fix = _(
        "请登记由谁调解：mediation case advance {case} designate_mediator "
        "--set mediators=姓名 --set designated_by=...（或 choose_mediator）；已过该步骤的案件"
        "现在不能再指定"
    ).format(case=case.case_number)
    if not names:
        need.add(
            "调解员",
            f"本案没有选定或指定调解员（特邀调解规定 art. 12），{document}不能以系统账号或录入人员代替调解员署名",
            fix,
        )
    for name in names:
        if name in SYSTEM_ACCOUNTS:
            need.add("调解员", f"「{name}」是系统账号，不是调解员", fix)
    return "、".join(names)


def _referral(case: CaseFile) -> tuple[str, str]:
    carried: dict[str, Any] = case.proceeding["facts"].get("carried_over") or {}
    found = carried.get("court_referral")
    referral: dict[str, Any] = found if isinstance(found, dict) else {}
    court = case.dispute["referring_organ"] or referral.get("court", "")
    court_ref = case.dispute["referral_ref"] or referral.get("court_ref", "")
    return str(court), str(court_ref)


_REFERRAL_FIX = N_(
    "法院及其案号随委派/移送登记（受理时的 referring_organ/referral_ref，或 court_referral 步骤的 court/court_ref）"
)


def _court_rights_notice(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    informed = case.entered(("informed",))
    on = day_of(informed, case)
    court, _ref = _referral(case)
    return {
        "court": need.text(court, "委派（委托）法院", "特邀调解规定 art. 14", _(_REFERRAL_FIX)),
        "referral_kind": "委派" if case.flow.name == "court_referred" else "委托",
        "parties": parties_of(case, on),
        "mediators": designated_mediators(case, need, "权利义务告知书"),
        "informed_on": cn_date(on),
    }


def _court_letter(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    spec = spec_of(case, "court_letter")
    event = case.entered(spec.after)
    assert event is not None
    court, court_ref = _referral(case)
    agreement = agreement_event(case)
    result = {"agreed": "agreement", "suspended": "suspended"}.get(event["to_state"], "returned")
    reason = ending(case, event)["reason"] if result != "agreement" else ""
    return {
        "court": need.text(
            court, "委派（委托）法院", "特邀调解规定 arts. 19, 26", _(_REFERRAL_FIX)
        ),
        "court_ref": need.text(
            court_ref, "法院案号或委派文号", "特邀调解规定 arts. 19, 26", _(_REFERRAL_FIX)
        ),
        # The day the materials were signed for (特邀调解规定 art. 27): the intake's
        # received_at, or the day a failed people's case was handed over by the court.
        "received_on": cn_date(
            case.dispute["received_at"]
            if case.proceeding["parent_id"] is None
            else case.proceeding["opened_at"]
        ),
        "parties": parties_of(case, day_of(event, case)),
        "mediators": designated_mediators(case, need, spec.label),
        "result": result,
        "terms": agreement["payload"].get("terms", "")
        if agreement and result == "agreement"
        else "",
        "agreed_on": cn_date(agreement["occurred_at"])
        if agreement and result == "agreement"
        else "",
        "reason": reason,
        "report_ref": str(event["payload"].get("report_ref") or "")
        if result != "agreement"
        else "",
        "letter_date": cn_date(event["occurred_at"]),
    }


BUILDERS = {
    "civil_mediation": _civil_mediation,
    "confirmation_ruling": _confirmation_ruling,
    "court_rights_notice": _court_rights_notice,
    "court_letter": _court_letter,
}
