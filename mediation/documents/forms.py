"""The committee's own forms and records: the application and registration, the rights
notice, investigation and mediation records, follow-up visits, and the case-file cover
with its index (domain.md §5). Each builder returns its document's context (fields
documented in :mod:`mediation.documents.kinds`) and records in ``need`` what is missing.
"""

from __future__ import annotations

from typing import Any

from mediation.documents.casefile import (
    CaseFile,
    Need,
    agreement_event,
    cn_date,
    cn_datetime,
    cn_number,
    day_of,
    ending,
    mediators_of,
    names,
    parties_of,
    payload_fix,
)
from mediation.domain import taxonomy
from mediation.domain.clock import business_date
from mediation.domain.taxonomy import PERFORMANCE, SATISFACTION
from mediation.i18n import _


def _application(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    mode = case.proceeding["application_mode"]  # not initiative: casefile.excluded
    on = business_date(case.dispute["received_at"])
    applicants = parties_of(case, on, "applicant")
    respondents = parties_of(case, on, "respondent")
    basics = {"gender": "性别", "age": "年龄", "address": "单位或住址"}
    need.particulars(applicants + respondents, basics, "人民调解申请书：当事人的基本情况")
    if not applicants:
        need.add("申请人", "缺少（申请书须载明申请人）", _("申请人在受理时登记"))
    return {
        "applicants": applicants,
        "respondents": respondents,
        "third_parties": parties_of(case, on, "third_party"),
        "application_mode": taxonomy.label(taxonomy.APPLICATION_MODES, mode),
        "summary": need.text(
            case.dispute["summary"], "纠纷简要情况", "申请书", _("受理时登记（summary）")
        ),
        "claims": need.text(
            case.dispute["claims"], "申请事项", "申请书", _("受理时登记（claims）")
        ),
        "applied_on": cn_date(on),
    }


def _registration(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    accepted = case.entered(("accepted",))
    opened = case.events[0]
    on = day_of(accepted, case)
    d = case.dispute
    referral = " ".join(x for x in (d["referring_organ"], d["referral_ref"]) if x)
    return {
        "parties": parties_of(case, on),
        "dispute_title": d["title"],
        "dispute_type": taxonomy.label(taxonomy.DISPUTE_TYPES, d["dispute_type"]),
        "channel": taxonomy.label(taxonomy.CHANNELS, d["channel"]),
        "channel_group": taxonomy.CHANNEL_GROUPS.get(d["channel"], ""),
        "referral": referral,
        "risk_level": taxonomy.label(taxonomy.RISK_LEVELS, d["risk_level"]),
        "summary": need.text(
            d["summary"], "纠纷简要情况", "受理登记表", _("受理时登记（summary）")
        ),
        "received_on": cn_date(d["received_at"]),
        "accepted_on": cn_date(on),
        "registrar": case.person(opened["actor"]),
    }


def _rights_notice(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    informed = case.entered(("informed",))
    on = day_of(informed, case)
    return {
        "parties": parties_of(case, on),
        "mediators": "、".join(mediators_of(case, informed)),
        "informed_on": cn_date(on),
    }


def _nth(events: list[dict[str, Any]], seq: int) -> dict[str, Any]:
    return events[seq - 1]  # build() checked 1 <= seq <= occurrences


def _investigation(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    event = _nth(case.sessions("investigation"), seq)
    data = event["payload"]
    on = day_of(event, case)
    return {
        "session_no": cn_number(seq),
        "held_at": cn_datetime(event["occurred_at"]),
        "place": need.text(
            data.get("place"),
            f"第{seq}次调查的地点",
            "调查记录：调查地点",
            payload_fix("record_session", "place"),
        ),
        "investigators": "、".join(names(data.get("investigators")) or mediators_of(case, event)),
        "interviewees": "、".join(names(data.get("interviewees"))),
        "content": data["summary"],
        "recorder": case.person(event["actor"]),
        "parties": parties_of(case, on),
    }


def _outcome(case: CaseFile) -> dict[str, Any]:
    agreement = agreement_event(case)
    oral = case.last("agree_oral")
    ended = case.entered(("terminated", "deemed_failed", "failed", "ended", "returned", "lapsed"))
    withdrawn = case.last("withdraw", "refuse")
    empty = {"terms": "", "reason": "", "other_routes": ""}
    if agreement is not None:
        return {
            **empty,
            "kind": "agreement",
            "label": "达成书面调解协议",
            "terms": agreement["payload"].get("terms", ""),
        }
    if oral is not None:
        return {
            **empty,
            "kind": "oral",
            "label": "达成口头调解协议",
            "terms": oral["payload"].get("terms", ""),
        }
    if ended is not None:
        return {
            **empty,
            "kind": "terminated",
            "label": "调解不成，终止调解",
            **ending(case, ended),
        }
    if withdrawn is not None:
        return {
            **empty,
            "kind": "withdrawn",
            "label": "当事人撤回申请或要求终止调解",
            "reason": withdrawn["payload"].get("reason", ""),
        }
    return {**empty, "kind": "pending", "label": "调解进行中"}


def _record(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    sessions = case.sessions("mediation")  # at least one: casefile.occurrences
    rows = []
    for n, event in enumerate(sessions, 1):
        data = event["payload"]
        rows.append(
            {
                "no": cn_number(n),
                "held_at": cn_datetime(event["occurred_at"]),
                "place": need.text(
                    data.get("place"),
                    f"第{n}次调解的地点",
                    "人民调解记录：调解地点",
                    payload_fix("record_session", "place"),
                ),
                "participants": "、".join(names(data.get("participants"))),
                "summary": data["summary"],
                "accounts": str(data.get("accounts") or ""),
                "verification": str(data.get("verification") or ""),
                "risk_warning": str(data.get("risk_warning") or ""),
            }
        )
    informed = case.entered(("informed",))
    last = sessions[-1] if sessions else None
    return {
        "matter": case.dispute["title"],
        "parties": parties_of(case, day_of(last, case)),
        "mediators": "、".join(mediators_of(case, last)),
        "informed_on": cn_date(informed["occurred_at"]) if informed else "",
        "sessions": rows,
        "outcome": _outcome(case),
        "recorder": case.person(last["actor"]) if last else "",
    }


def _agreement_ref(case: CaseFile) -> str:
    written = agreement_event(case)
    if written is not None:
        spec = next((s for s in case.flow.documents if s.kind == "agreement"), None)
        title = spec.label if spec else "调解协议书"
        return f"{case.case_number}{title}（{cn_date(written['occurred_at'])}达成）"
    oral = case.last("agree_oral")
    if oral is not None:
        return f"{case.case_number}口头调解协议（{cn_date(oral['occurred_at'])}达成）"
    return ""


def _follow_up(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    event = _nth(case.events_of("follow_up"), seq)
    data = event["payload"]
    return {
        "visit_no": cn_number(seq),
        "visited_on": cn_date(event["occurred_at"]),
        "visitor": case.person(str(data.get("visitor") or event["actor"])),
        "parties": parties_of(case, day_of(event, case)),
        "matter": case.dispute["title"],
        "agreement_ref": need.text(
            _agreement_ref(case),
            "所涉调解协议",
            "回访记录：协议编号",
            _("回访须针对一份调解协议"),
        ),
        "performance": PERFORMANCE.get(
            data.get("performance", ""), str(data.get("performance", ""))
        ),
        "summary": data["summary"],
        # The code's label (满意...); a follow-up recorded before codes were checked keeps
        # its own text.
        "satisfaction": SATISFACTION.get(
            str(data.get("satisfaction") or ""), str(data.get("satisfaction") or "")
        ),
        "lawsuit": str(data.get("lawsuit") or ""),
        "renewed_conflict": str(data.get("renewed_conflict") or ""),
        "measures": str(data.get("measures") or ""),
    }


#: The case file's order (domain.md §5): (title, kinds that fill the slot); a slot without
#: kinds is a paper item, listed for the archivist to fill in.
FILE_ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("人民调解申请书", ("application",)),
    ("人民调解受理登记表", ("registration",)),
    ("当事人权利义务告知书", ("rights_notice",)),
    ("当事人身份证明", ()),
    ("授权委托书（如有）", ()),
    ("调查记录", ("investigation",)),
    ("证据材料", ()),
    ("人民调解记录", ("record",)),
    ("调解协议书", ("agreement", "oral_agreement")),
    ("终止调解告知书", ("termination",)),
    ("履行凭证", ()),
    ("回访记录", ("follow_up",)),
    ("司法确认材料", ("confirmation_application",)),
    ("卷内备考表", ()),
)


def document_date(case: CaseFile, kind: str, seq: int) -> str:
    """The date a document of the case bears (卷内目录「日期」): the day of the step it
    records; for a kind without its own rule, the day the case reached it."""
    from mediation.documents.casefile import spec_of

    event: dict[str, Any] | None
    if kind == "application":
        return cn_date(case.dispute["received_at"])
    if kind == "investigation":
        found = case.sessions("investigation")
        event = found[seq - 1] if len(found) >= seq else None
    elif kind == "record":
        held = case.sessions("mediation")
        event = held[-1] if held else None
    elif kind == "follow_up":
        found = case.events_of("follow_up")
        event = found[seq - 1] if len(found) >= seq else None
    elif kind == "agreement":
        event = agreement_event(case)
    elif kind == "oral_agreement":
        event = case.last("agree_oral")
    else:
        event = case.entered(spec_of(case, kind).after)
    return cn_date(event["occurred_at"]) if event else ""


def file_order(kind: str) -> int:
    """Where a kind goes in the case file (:data:`FILE_ORDER`); kinds it does not name
    (letters to a court or a petition bureau...) go after those it does, before the file
    note (卷内备考表, the last slot)."""
    slot = next((i for i, (_, kinds) in enumerate(FILE_ORDER) if kind in kinds), None)
    return len(FILE_ORDER) - 1 if slot is None else slot


def index_of(case: CaseFile, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 卷内目录: the paper items of :data:`FILE_ORDER` and ``documents`` (each with
    kind, seq, title, pages, status) in the file's order, numbered, with each document's
    date and its page numbers (页号), counted from the first page after the cover and the
    index (which are not numbered), in the order given."""
    made = sorted(documents, key=lambda d: (file_order(d["kind"]), d["seq"]))
    page = 1
    numbers = {}
    for d in made:
        first, page = page, page + d["pages"]
        numbers[(d["kind"], d["seq"])] = f"{first}" if d["pages"] == 1 else f"{first}–{page - 1}"
    entries: list[dict[str, Any]] = []
    by_slot: dict[int, list[dict[str, Any]]] = {}
    for d in made:
        by_slot.setdefault(file_order(d["kind"]), []).append(d)
    for i, (label, kinds) in enumerate(FILE_ORDER):
        for d in by_slot.get(i, []):
            entries.append(
                {
                    "title": d["title"],
                    "date": document_date(case, d["kind"], d["seq"]),
                    "pages": str(d["pages"]),
                    "page_no": numbers[(d["kind"], d["seq"])],
                    "note": "已签章" if d["status"] == "signed" else "",
                }
            )
        if not kinds:
            paper = {"title": label, "date": "", "pages": "", "page_no": "", "note": "纸质材料"}
            entries.append(paper)
    for n, entry in enumerate(entries, 1):
        entry["no"] = n
    return entries


def cover_fields(case: CaseFile, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The cover and 卷内目录 of a case file holding ``documents`` (see :func:`index_of`)."""
    archived = case.entered(("archived",))
    accepted = case.entered(("accepted",))
    return {
        "dispute_title": case.dispute["title"],
        "dispute_type": taxonomy.label(taxonomy.DISPUTE_TYPES, case.dispute["dispute_type"]),
        "parties": parties_of(case, day_of(archived, case)),
        "mediators": "、".join(mediators_of(case)),
        "opened_on": cn_date(accepted["occurred_at"] if accepted else case.proceeding["opened_at"]),
        "closed_on": cn_date(archived["occurred_at"]) if archived else "",
        "outcome": taxonomy.label(taxonomy.OUTCOMES, case.proceeding["outcome"]),
        "archivist": case.person(archived["actor"]) if archived else "",
        "index": index_of(case, documents),
        "total_pages": sum(d["pages"] for d in documents),
    }


def _cover(case: CaseFile, seq: int, need: Need) -> dict[str, Any]:
    return cover_fields(case, [d for d in case.documents if d["kind"] != "cover"])


BUILDERS = {
    "application": _application,
    "registration": _registration,
    "rights_notice": _rights_notice,
    "investigation": _investigation,
    "record": _record,
    "follow_up": _follow_up,
    "cover": _cover,
}
