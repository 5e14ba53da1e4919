"""Documents of an outcome or a hand-off: the written agreement (人民调解法 art. 29) with
its signature block and seal area, the oral-agreement form, the termination notice, the
application for judicial confirmation and the result feedback to a petition bureau (the
court's documents and the result letter to a referring court: :mod:`.court`). Each builder returns its document's context (fields
documented in :mod:`mediation.documents.kinds`) and records in ``need`` what is missing.
"""

from __future__ import annotations

import base64
import io
from datetime import datetime
from typing import Any

from mediation.documents import kinds as K
from mediation.documents.casefile import (
    AGREEMENT_LABELS,
    ART29,
    EXTRA_TERMS,
    PERSON_BASICS,
    CaseFile,
    DocumentNotAvailable,
    Need,
    agreement_event,
    cn_basis,
    cn_date,
    cn_datetime,
    cn_deadline,
    day_of,
    ending,
    mediators_of,
    parties_of,
    party_rows,
    payload_fix,
    spec_of,
)
from mediation.domain.taxonomy import MEDIATION_RESULTS, SIGNATURE_METHODS
from mediation.i18n import _
from mediation.workflows._common import AGREEMENT_FIELDS


def _art29_basis(key: str) -> str:
    """Why a missing agreement field stops the document: the law only says the agreement
    "可以载明" it (人民调解法 art. 29; the place of performance: 若干规定 art. 35) — it is
    the centre that requires it."""
    law = "人民调解工作若干规定 art. 35" if key == "performance_place" else "人民调解法 art. 29"
    return f"本中心要求协议书载明{AGREEMENT_LABELS[key]}；{law}：协议书可以载明"


def _art29(need: Need, data: dict[str, Any], trigger: str) -> dict[str, str]:
    values = {}
    for key in AGREEMENT_FIELDS:
        value = data.get(key)
        values[key] = need.text(
            value,
            AGREEMENT_LABELS[key],
            _art29_basis(key),
            payload_fix(trigger, key),
        )
    values["performance_deadline"] = cn_deadline(values["performance_deadline"])
    return values


def _readable(image: bytes, image_type: str | None) -> bool:
    """Whether a scanned signature is a PNG or JPEG image that can be decoded (a damaged
    scan, or one of huge pixel size, is left out: the signature's method and time are still
    printed)."""
    if image_type not in ("image/png", "image/jpeg"):
        return False
    import warnings

    from PIL import Image, UnidentifiedImageError

    from mediation.documents.signatures import MAX_IMAGE_SIDE

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image)) as picture:
                # One stored before scans were checked may be huge: left out, not decoded.
                if max(picture.size) > MAX_IMAGE_SIDE:
                    return False
                picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True


def _signatures(
    case: CaseFile, parties: list[dict[str, Any]], mediators: list[str], since: datetime
) -> dict[str, Any]:
    """The signature block: signatures belong to the agreement last reached, so those
    recorded before it (for an agreement a re-mediation replaced) are not shown."""
    rows = [
        s
        for s in case.signatures
        if s["document_kind"] == "agreement" and s["recorded_at"] >= since
    ]
    by_party = {s["party_id"]: s for s in rows if s["signer_kind"] == "party"}
    by_mediator = {s["signer_name"]: s for s in rows if s["signer_kind"] == "mediator"}
    committee = next((s for s in reversed(rows) if s["signer_kind"] == "committee"), None)

    def signer(
        role: str, name: str, row: dict[str, Any] | None, representative: str = ""
    ) -> dict[str, Any]:
        image = ""
        if row is not None and row.get("image") and _readable(row["image"], row["image_type"]):
            image = f"data:{row['image_type']};base64," + base64.b64encode(row["image"]).decode()
        return {
            "role": role,
            "name": name,
            "legal_representative": representative,
            "method": SIGNATURE_METHODS.get(row["method"], row["method"]) if row else "",
            "signed_at": cn_datetime(row["signed_at"]) if row else "",
            "image": image,
        }

    return {
        "parties": [
            signer(p["role"], p["name"], by_party.get(row["id"]), p["legal_representative"])
            for p, row in zip(parties, party_rows(case), strict=True)
        ],
        "mediators": [signer("调解员", name, by_mediator.get(name)) for name in mediators],
        "committee": signer("调解组织", case.organisation["name"], committee),
    }


def _agreement(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    event = agreement_event(case)
    if event is None:
        raise DocumentNotAvailable(
            f"{case.case_number} 没有记录书面调解协议",
            hint=_("用 `mediation case history` 查看案件记录"),
        )
    data = event["payload"]
    on = day_of(event, case)
    parties = parties_of(case, on)
    need.particulars(parties, PERSON_BASICS, ART29)
    mediators = mediators_of(case, event)
    family, mediator_title = K.FLOW_FAMILIES.get(case.flow.name, ("mediation", "调解员"))
    org = case.organisation["name"]
    return {
        "parties": parties,
        **_art29(need, data, event["trigger"]),
        "other_terms": [
            (label, str(data[key])) for key, label in EXTRA_TERMS.items() if data.get(key)
        ],
        "agreed_on": cn_date(on),
        "copies": len(parties) + 1,
        "effect": [s.format(organisation=org) for s in K.AGREEMENT_EFFECTS[family]],
        "mediator_title": mediator_title,
        # Signatures recorded since the agreement was recorded are on it.
        "signatures": _signatures(case, parties, mediators, event["recorded_at"]),
    }


def _oral_agreement(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    event = case.last("agree_oral")
    if event is None:
        raise DocumentNotAvailable(
            f"{case.case_number} 没有记录口头调解协议",
            hint=_("用 `mediation case history` 查看案件记录"),
        )
    data = event["payload"]
    on = day_of(event, case)
    parties = parties_of(case, on)
    need.particulars(parties, PERSON_BASICS, "人民调解法 art. 28：口头协议登记")
    values = {}
    for key in AGREEMENT_FIELDS:
        values[key] = need.text(
            data.get(key),
            AGREEMENT_LABELS[key],
            f"口头协议登记表：{AGREEMENT_LABELS[key]}",
            payload_fix("agree_oral", key),
        )
    values["performance_deadline"] = cn_deadline(values["performance_deadline"])
    return {
        "parties": parties,
        **values,
        "agreed_on": cn_date(on),
        "mediators": "、".join(mediators_of(case, event)),
        "registrar": case.person(event["actor"]),
    }


def _termination(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    spec = spec_of(case, "termination")
    event = case.entered(spec.after)
    assert event is not None  # available() checked it
    transition = next((t for t in case.flow.transitions if t.trigger == event["trigger"]), None)
    ended = ending(case, event)
    accepted = case.entered(("accepted",))
    sessions = [
        {"held_at": cn_datetime(e["occurred_at"]), "place": str(e["payload"].get("place") or "")}
        for e in case.events
        if e["payload"].get("kind") in ("investigation", "mediation") and "summary" in e["payload"]
    ]
    return {
        "parties": parties_of(case, day_of(event, case)),
        "accepted_on": cn_date(accepted["occurred_at"])
        if accepted
        else cn_date(case.proceeding["opened_at"]),
        "sessions": sessions,
        "summary": case.dispute["summary"],
        "terminated_on": cn_date(event["occurred_at"]),
        "reason": need.text(
            ended["reason"],
            "终止调解的理由",
            "人民调解法 art. 26",
            payload_fix(event["trigger"], "reason"),
        ),
        "basis": cn_basis(transition.legal_basis if transition else spec.legal_basis),
        "other_routes": need.text(
            ended["other_routes"],
            "其他救济途径",
            "人民调解法 art. 26",
            payload_fix(event["trigger"], "other_routes"),
        ),
    }


def _confirmation_application(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    spec = spec_of(case, "confirmation_application")
    applied = case.entered(spec.after)
    on = day_of(applied, case)
    agreement: dict[str, Any] = {
        "number": "",
        "agreed_on": "",
        "organisation": "",
        "terms": "",
        "facts": "",
    }
    event = agreement_event(case)
    data: dict[str, Any]
    if event is not None:
        data = event["payload"]
        agreement = {
            "number": case.case_number,
            "agreed_on": cn_date(event["occurred_at"]),
            "organisation": case.organisation["name"],
            "terms": data.get("terms", ""),
            "facts": data.get("facts", ""),
        }
        court = (applied or {}).get("payload", {}).get("court", "")
    else:  # the court's own case: the agreement came with the hand-off
        carried: dict[str, Any] = case.proceeding["facts"].get("carried_over") or {}
        data = next(
            (carried[t] for t in ("agree_written", "agree") if isinstance(carried.get(t), dict)), {}
        )
        if data:
            agreement = {
                "number": carried.get("from_case", ""),
                "agreed_on": cn_date((carried.get("agreement") or {}).get("effective_on")),
                "organisation": case.parent["organisation"] if case.parent else "",
                "terms": data.get("terms", ""),
                "facts": data.get("facts", ""),
            }
        court = case.organisation["name"]
    fix = _("调解协议取自达成协议的案件（agree_written / agree），随案移交法院")
    for key, label in (
        ("number", "调解协议编号"),
        ("agreed_on", "调解协议达成日期"),
        ("organisation", "主持调解的组织"),
        ("terms", "调解协议内容"),
    ):
        agreement[key] = need.text(
            agreement[key], label, "民事诉讼法解释 art. 354：申请书须载明调解协议", fix
        )
    applicants = parties_of(case, on, "applicant", "respondent")
    need.particulars(
        applicants,
        {"gender": "性别", "address": "送达地址", "phone": "联系电话"},
        "民事诉讼法解释 art. 354：当事人的基本情况和送达地址、联系方式",
    )
    return {
        "applicants": applicants,
        "court": need.text(
            court,
            "受理申请的人民法院",
            "人民调解法 art. 33",
            payload_fix("apply_confirmation", "court"),
        ),
        "agreement": agreement,
        "applied_on": cn_date(on),
    }


def _petition_feedback(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    result = case.last("record_result")
    assert result is not None
    divert = case.last("divert")
    data = result["payload"]
    code = (divert or {}).get("payload", {}).get("organisation", "")
    child = next((c for c in case.children if c["flow"] != "petition"), None)
    return {
        "petition_bureau": case.organisation["name"],
        "parties": parties_of(case, day_of(result, case)),
        "diverted_on": cn_date(divert["occurred_at"]) if divert else "",
        "mediating_organisation": need.text(
            case.organisation_names.get(code) or (child["organisation"] if child else ""),
            "承办调解的人民调解委员会",
            "结果反馈",
            _("分流时登记（divert --set organisation=调委会代码）"),
        ),
        "mediation_case_number": child["case_number"] if child else "",
        "result": MEDIATION_RESULTS.get(data.get("result", ""), str(data.get("result", ""))),
        "summary": data["summary"],
        "feedback_on": cn_date(result["occurred_at"]),
    }


#: The case file's order (domain.md §5): (kinds that fill the slot, or a paper item).

BUILDERS = {
    "agreement": _agreement,
    "oral_agreement": _oral_agreement,
    "termination": _termination,
    "confirmation_application": _confirmation_application,
    "petition_feedback": _petition_feedback,
}
