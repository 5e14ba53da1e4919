"""A case as its documents see it: read once, formatted, and what it has to show.

:func:`gather` reads everything a case's documents draw on in one read transaction (a
:class:`CaseFile`). Where the data lives: parties and the dispute come from the intake;
dates, actors and the data of each step from the case's events (``event.payload``: what
was given to ``case advance``, as corrected since by ``case correct``; the date a step
happened, declared with ``case advance --at``, else recorded); the agreement from the payload of the flow's agreeing
transition (``agree_written`` / ``agree``) or, for a case handed on, from the facts carried
over; signatures from the ``signature`` table. Some fields a document format asks for
have no transition that requires them (the place of a session, the accounts of each side,
the particulars of an oral agreement): they are read from optional payload keys given with
``case advance --set KEY=VALUE``, and a document that cannot do without them is refused
with the list of what is missing (:class:`Need`) rather than printed with gaps.

Which documents a case has is declared by its flow (``DocumentSpec.after``: the states
after which the document exists): :func:`available`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from mediation.documents import kinds as K
from mediation.domain import taxonomy
from mediation.domain.articles import cn_basis as cn_basis  # re-exported for the builders
from mediation.domain.articles import cn_number as cn_number
from mediation.domain.clock import BUSINESS_TZ, business_date
from mediation.domain.personal import birth_date_of, resident_id_problem
from mediation.engine.corrections import corrected
from mediation.engine.declared import happened
from mediation.engine.guards import SYSTEM_ACCOUNTS
from mediation.errors import ExitCode, FieldProblem, MediationError, ValidationError
from mediation.i18n import _
from mediation.storage._tables import (
    app_user_table,
    dispute_table,
    document_table,
    event_table,
    organisation_table,
    party_table,
    proceeding_table,
    signature_table,
)
from mediation.storage.settings import is_training
from mediation.workflows import DocumentSpec, Flow, get_flow

#: Labels of the agreement's art. 29 fields, for messages and the oral-agreement form.
AGREEMENT_LABELS = {
    "facts": "纠纷的主要事实",
    "issues": "争议事项",
    "responsibility": "各方当事人的责任",
    "terms": "协议内容",
    "performance_method": "履行方式",
    "performance_place": "履行地点",
    "performance_deadline": "履行期限",
}
#: Payload keys some flows add to the agreement, with the label the document prints.
EXTRA_TERMS = {"insurer": "参加调解的保险机构", "confirmation_notice": "司法确认告知"}
#: Statutory remedies a termination names when its trigger recorded none (an expiry).
DEFAULT_ROUTES = "可以依法申请仲裁、申请行政机关调解或者向人民法院提起诉讼"


class DocumentNotAvailable(MediationError):
    """The case's flow has no such document, or the case has not reached it yet."""

    exit_code = ExitCode.NOT_ALLOWED


class DocumentIncomplete(ValidationError):
    """A field the document cannot do without is missing (or cannot be printed)."""


# -- reading a case -------------------------------------------------------------------


@dataclass
class CaseFile:
    """Everything one case's documents draw on, read in one transaction."""

    proceeding: dict[str, Any]
    dispute: dict[str, Any]
    organisation: dict[str, Any]
    parties: list[dict[str, Any]]
    events: list[dict[str, Any]]
    signatures: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    parent: dict[str, Any] | None
    children: list[dict[str, Any]]
    organisation_names: dict[str, str]
    user_names: dict[str, str]
    #: A training database's (mediation.storage.settings): every document says 培训演示.
    training: bool = False
    flow: Flow = field(init=False)

    def __post_init__(self) -> None:
        self.flow = get_flow(self.proceeding["flow"])

    @property
    def case_number(self) -> str:
        return str(self.proceeding["case_number"])

    def events_of(self, *triggers: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["trigger"] in triggers]

    def last(self, *triggers: str) -> dict[str, Any] | None:
        found = self.events_of(*triggers)
        return found[-1] if found else None

    def entered(self, states: tuple[str, ...]) -> dict[str, Any] | None:
        """The last event that moved the case into one of ``states``."""
        found = [
            e for e in self.events if e["to_state"] in states and e["to_state"] != e["from_state"]
        ]
        return found[-1] if found else None

    def sessions(self, kind: str) -> list[dict[str, Any]]:
        """Recorded sessions of ``kind`` (investigation | mediation), oldest first."""
        return [
            e for e in self.events if e["payload"].get("kind") == kind and "summary" in e["payload"]
        ]

    def person(self, login: str) -> str:
        """A user's name as registered (``mediation user add``), else the login."""
        return self.user_names.get(login) or login


def gather(conn: Connection, pid: int) -> CaseFile:
    """Read case ``pid`` and what its documents need."""
    p = dict(
        conn.execute(select(proceeding_table).where(proceeding_table.c.id == pid)).one()._mapping
    )
    d = dict(
        conn.execute(select(dispute_table).where(dispute_table.c.id == p["dispute_id"]))
        .one()
        ._mapping
    )
    orgs = {
        r.id: r
        for r in conn.execute(
            select(
                organisation_table.c.id,
                organisation_table.c.code,
                organisation_table.c.name,
                organisation_table.c.kind,
                organisation_table.c.level,
                organisation_table.c.court_code,
            )
        )
    }
    here = orgs[p["organisation_id"]]
    parties = [
        dict(r._mapping)
        for r in conn.execute(
            select(party_table)
            .where(party_table.c.dispute_id == p["dispute_id"])
            .order_by(party_table.c.ordinal, party_table.c.id)
        )
    ]
    events = [
        dict(r._mapping)
        for r in conn.execute(
            select(
                event_table.c.seq,
                event_table.c.trigger,
                event_table.c.from_state,
                event_table.c.to_state,
                event_table.c.actor,
                event_table.c.payload,
                event_table.c.occurred_at,
            )
            .where(event_table.c.proceeding_id == pid)
            .order_by(event_table.c.seq)
        )
    ]
    # The data of each step as corrected since, and the time it happened (declared, or
    # recorded); ``recorded_at`` keeps when it was recorded.
    events = [
        {**e, "recorded_at": e["occurred_at"], "occurred_at": happened(e)}
        for e in corrected(events)
    ]
    signatures = [
        dict(r._mapping)
        for r in conn.execute(
            select(signature_table)
            .where(signature_table.c.proceeding_id == pid)
            .order_by(signature_table.c.id)
        )
    ]
    documents = [
        dict(r._mapping)
        for r in conn.execute(
            select(
                document_table.c.id,
                document_table.c.kind,
                document_table.c.seq,
                document_table.c.title,
                document_table.c.status,
                document_table.c.pages,
                document_table.c.sha256,
            )
            .where(document_table.c.proceeding_id == pid)
            .order_by(document_table.c.id)
        )
    ]

    def linked(row: Any) -> dict[str, Any]:
        data = dict(row._mapping)
        data["organisation"] = orgs[data.pop("organisation_id")].name
        return data

    columns = (
        proceeding_table.c.id,
        proceeding_table.c.case_number,
        proceeding_table.c.flow,
        proceeding_table.c.organisation_id,
        proceeding_table.c.opened_at,
    )
    parent = None
    if p["parent_id"] is not None:
        parent = linked(
            conn.execute(select(*columns).where(proceeding_table.c.id == p["parent_id"])).one()
        )
    children = [
        linked(r)
        for r in conn.execute(
            select(*columns)
            .where(proceeding_table.c.parent_id == pid)
            .order_by(proceeding_table.c.id)
        )
    ]
    actors = {e["actor"] for e in events}
    users = {
        r.login: r.name
        for r in conn.execute(
            select(app_user_table.c.login, app_user_table.c.name).where(
                app_user_table.c.login.in_(actors)
            )
        )
        if r.name
    }
    return CaseFile(
        proceeding=p,
        dispute=d,
        organisation={
            "code": here.code,
            "name": here.name,
            "kind": here.kind,
            "court_code": here.court_code,
        },
        parties=parties,
        events=events,
        signatures=signatures,
        documents=documents,
        parent=parent,
        children=children,
        organisation_names={r.code: r.name for r in orgs.values()},
        user_names=users,
        training=is_training(conn),
    )


# -- formatting -----------------------------------------------------------------------

# cn_number and cn_basis live in mediation.domain.articles (the CLI and reports use them too).


def cn_date(value: date | datetime | str | None) -> str:
    """2026年3月2日 (a datetime in business time)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value  # free text, e.g. an oral agreement's "当场履行"
    elif isinstance(value, datetime):
        day = business_date(value)
    else:
        day = value
    return f"{day.year}年{day.month}月{day.day}日"


def cn_deadline(value: date | str | None) -> str:
    """A performance deadline as the agreement prints it: a date (2026-04-30) in Chinese,
    anything else as given (本协议生效之日起十日内, 当场履行)."""
    if isinstance(value, date):
        return cn_date(value)
    text = "" if value is None else str(value).strip()
    try:
        return cn_date(date.fromisoformat(text))
    except ValueError:
        return text


_NUMBERING = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+\s*[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+\s*[、.．)）])\s*"
)


def numbered(text: object) -> list[str]:
    """Agreed terms as paragraphs: one line stays as written; several lines become items
    numbered 一、二、三、 (as 人民调解协议书 samples number 协议内容), any numbering typed
    with them (1. / 一、 / （一）) replaced."""
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    if len(lines) < 2:
        return lines
    return [f"{cn_number(n)}、{_NUMBERING.sub('', line)}" for n, line in enumerate(lines, 1)]


def cn_datetime(value: datetime | None) -> str:
    """2026年3月2日15时00分."""
    if value is None:
        return ""
    local = value.astimezone(BUSINESS_TZ)
    return f"{cn_date(local.date())}{local.hour}时{local.minute:02d}分"


def _age(row: dict[str, Any], on: date) -> int | None:
    born = row.get("birth_date")
    number = row.get("id_number")
    resident = row.get("id_type") in (None, "resident_id")
    if born is None and number and resident and resident_id_problem(number) is None:
        born = birth_date_of(number)
    if born is None:
        return None
    if isinstance(born, str):
        born = date.fromisoformat(born)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def party(row: dict[str, Any], on: date) -> dict[str, Any]:
    """A party as documents print it (:data:`kinds.PARTY_FIELDS`), in full."""
    organisation = row["kind"] == "organisation"
    age = None if organisation else _age(row, on)
    return {
        "role": taxonomy.label(taxonomy.PARTY_ROLES, row["role"]),
        "name": row["name"],
        "is_organisation": organisation,
        "gender": "" if organisation else taxonomy.label(taxonomy.GENDERS, row["gender"]),
        "ethnicity": row["ethnicity"] or "",
        "age": "" if age is None else age,
        "occupation": row["occupation"] or "",
        "id_type": taxonomy.label(
            taxonomy.ID_TYPES,
            row["id_type"] or ("resident_id" if row["id_number"] and not organisation else None),
        ),
        "id_number": row["id_number"] or "",
        "phone": row["phone"] or "",
        "address": row["address"] or "",
        "legal_representative": row["legal_representative"] or "",
    }


# -- checking -------------------------------------------------------------------------


class Need:
    """Collects the missing fields of one document."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def text(self, value: Any, name: str, basis: str, fix: str) -> str:
        text = "" if value is None else str(value).strip()
        if not text:
            self.problems.append(FieldProblem(name, f"缺少（{basis}）", fix))
        return text

    def add(self, name: str, problem: str, fix: str) -> None:
        self.problems.append(FieldProblem(name, problem, fix))

    def particulars(
        self, parties: list[dict[str, Any]], fields: dict[str, str], basis: str
    ) -> None:
        """Every party has ``fields`` (person) or address and representative (organisation)."""
        for p in parties:
            wanted = (
                {"address": "住所地", "legal_representative": "法定代表人"}
                if p["is_organisation"]
                else fields
            )
            for key, label in wanted.items():
                if p[key] in ("", None):
                    self.add(
                        f"{p['role']}{p['name']}的{label}",
                        f"缺少（{basis}）",
                        _(
                            "当事人的{label}在受理时登记（parties[].{key}）；已登记的用 "
                            "mediation case amend-party 案号 --set {key}=... --reason ... 更正"
                        ).format(label=label, key=key),
                    )


PERSON_BASICS = {"gender": "性别", "address": "住址"}
ART29 = "人民调解法 art. 29：当事人的基本情况"


def payload_fix(trigger: str, key: str) -> str:
    return _(
        "用 mediation case advance 案号 {trigger} --set {key}=... 登记；已登记的步骤用 "
        "mediation case correct 案号 序号 --set {key}=... --reason ... 更正"
        "（序号见 mediation case history 的 # 列）"
    ).format(trigger=trigger, key=key)


def day_of(event: dict[str, Any] | None, case: CaseFile) -> date:
    when = event["occurred_at"] if event else case.proceeding["opened_at"]
    return business_date(when)


ROLE_ORDER = {"applicant": 0, "respondent": 1, "third_party": 2}


def party_rows(case: CaseFile, *roles: str) -> list[dict[str, Any]]:
    """The case's party rows of ``roles`` (all when none), applicants first."""
    rows = [p for p in case.parties if not roles or p["role"] in roles]
    return sorted(rows, key=lambda r: ROLE_ORDER.get(r["role"], 3))


def parties_of(case: CaseFile, on: date, *roles: str) -> list[dict[str, Any]]:
    return [party(r, on) for r in party_rows(case, *roles)]


def mediators_of(case: CaseFile, fallback: dict[str, Any] | None = None) -> list[str]:
    """The case's mediators; flows without an assignment step fall back to the user who
    recorded ``fallback`` (the agreement, the session)."""
    names = list(case.proceeding["mediators"] or [])
    if case.proceeding["mediator"] and case.proceeding["mediator"] not in names:
        names.insert(0, case.proceeding["mediator"])
    if not names and fallback is not None and fallback["actor"] not in SYSTEM_ACCOUNTS:
        # Never a system account as a person (the scheduler fires expiries).
        names = [case.person(fallback["actor"])]
    return names


def names(value: Any) -> list[str]:
    """Names given as a list or as text separated by 、 , ， ; (payload fields)."""
    from mediation.engine.guards import as_list

    return as_list(value) if value else []


def ending(case: CaseFile, event: dict[str, Any]) -> dict[str, str]:
    data = event["payload"]
    transition = next((t for t in case.flow.transitions if t.trigger == event["trigger"]), None)
    reason = data.get("reason") or (transition.label if transition else "")
    return {"reason": str(reason), "other_routes": str(data.get("other_routes") or DEFAULT_ROUTES)}


def agreement_triggers(flow: Flow) -> set[str]:
    return {
        t.trigger
        for t in flow.transitions
        if "record_agreement" in t.effects and t.trigger != "agree_oral"
    }


def agreement_event(case: CaseFile) -> dict[str, Any] | None:
    return case.last(*agreement_triggers(case.flow))


# -- availability ---------------------------------------------------------------------


def spec_of(case: CaseFile, kind: str) -> DocumentSpec:
    spec = next((s for s in case.flow.documents if s.kind == kind), None)
    if spec is None:
        raise DocumentNotAvailable(
            f"{case.flow.label}（{case.flow.name}）的案件没有「{K.KINDS[kind].label}」（{kind}）",
            hint="this flow's documents: "
            + "、".join(f"{s.kind}（{s.label}）" for s in case.flow.documents),
        )
    return spec


def reached(case: CaseFile, spec: DocumentSpec) -> bool:
    """Whether the case has been in one of the states after which ``spec`` exists."""
    return any(e["to_state"] in spec.after for e in case.events)


def excluded(case: CaseFile, kind: str) -> str | None:
    """Why the case can never have document ``kind`` although its flow declares it (None:
    it can): a case the committee opened on its own initiative has no application
    (人民调解法 art. 17)."""
    if kind == "application" and case.proceeding["application_mode"] == "initiative":
        return f"{case.case_number} 为主动调解（人民调解法 art. 17），没有当事人的申请书"
    return None


def occurrences(case: CaseFile, kind: str) -> int:
    """How many documents of ``kind`` the case has now (0: none yet, or none ever)."""
    spec = next((s for s in case.flow.documents if s.kind == kind), None)
    if spec is None or not reached(case, spec) or excluded(case, kind):
        return 0
    if kind == "investigation":
        return len(case.sessions("investigation"))
    if kind == "record":  # the record of the mediation sessions: none held, none to record
        return 1 if case.sessions("mediation") else 0
    if kind == "follow_up":
        return len(case.events_of("follow_up"))
    return 1


def available(case: CaseFile) -> Iterator[tuple[DocumentSpec, int]]:
    """(spec, seq) of every document the case has now, in the flow's order."""
    for spec in case.flow.documents:
        for seq in range(1, occurrences(case, spec.kind) + 1):
            yield spec, seq


def now_available(case: CaseFile) -> str:
    found = [f"{spec.kind}" + (f" --seq {seq}" if seq > 1 else "") for spec, seq in available(case)]
    return "、".join(found) or "none yet"
