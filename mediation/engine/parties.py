"""Correcting a party's particulars after registration (a wrong digit in a phone number, a
new address for the follow-up visit, a misspelt name).

The party's row is changed and the change is recorded as an ``amend_party`` event on the
case, in the dispute's hash chain, with the reason, which fields changed, and their old and
new values *masked* as every report masks them (the event history is shown and exported;
the full values live only in the party's row). The amended particulars pass the same
checks as at intake (:func:`mediation.domain.intake.validate`: the ID number's check digit, the
birth date it encodes, the phone's digits...), and the dispute's ``party_key`` (repeat
detection in ``report stats``) is recomputed. Rendered documents keep what they printed:
a signed agreement is evidence of what was signed; render unsigned ones again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update

from mediation.domain import taxonomy
from mediation.domain.intake import PARTY_FIELDS, PartyRecord, text_problem
from mediation.domain.personal import mask_address, mask_id, mask_phone, party_key
from mediation.engine.cases import lock_running, record_in_place
from mediation.errors import (
    FieldProblem,
    NotFoundError,
    UsageError,
    ValidationError,
)
from mediation.i18n import _
from mediation.storage._tables import dispute_table, party_table
from mediation.storage.record_rows import PARTIES_KEY, dispute_parties_digest
from mediation.storage.secret import installation_secret
from mediation.storage.store import Store

_D, _PTY = dispute_table, party_table
#: ``--role`` takes the code or its label (申请人...).
_ROLE_CODES = {label: code for code, label in taxonomy.PARTY_ROLES.items()}

#: What may be corrected: intake's party fields but the role and kind, which are what the
#: case is about.
AMENDABLE = tuple(f for f in PARTY_FIELDS if f not in ("role", "kind"))
#: How the event shows each personal field. The birth date is hidden whole: it is the very
#: part of a resident ID number that ``mask_id`` hides.
_MASKS: dict[str, Any] = {
    "id_number": mask_id,
    "phone": mask_phone,
    "address": mask_address,
    "birth_date": lambda _value: "****-**-**",
}


def _shown(column: str, value: Any) -> Any:
    """A value as the event keeps it: personal data masked (a birth date entirely)."""
    if value is None:
        return None
    if column in _MASKS:
        return _MASKS[column](str(value))
    return value


def _choose(parties: list[Any], who: str, role: str | None) -> Any:
    """The party called ``who`` (of ``role``, when given) among the dispute's parties."""
    found = [p for p in parties if p.name == who.strip() and role in (None, p.role)]
    if len(found) == 1:
        return found[0]
    names = "、".join(f"{p.name}（{taxonomy.PARTY_ROLES.get(p.role, p.role)}）" for p in parties)
    if not found:
        raise NotFoundError(
            f"这起纠纷没有名为「{who}」的当事人" + (f"（{role}）" if role else ""),
            hint=_("该纠纷的当事人：{names}").format(names=names),
        )
    raise UsageError(
        f"这起纠纷有 {len(found)} 位名为「{who}」的当事人",
        hint=_("请加 --role applicant|respondent|third_party 指明是哪一方"),
    )


def amend_party(
    store: Store,
    case: str | int,
    who: str,
    changes: Mapping[str, str | None],
    *,
    reason: str,
    actor: str,
    now: datetime,
    role: str | None = None,
) -> dict[str, Any]:
    """Correct the particulars of the party ``who`` (their name as registered) of a running
    case's dispute: ``changes`` maps field names (:data:`AMENDABLE`) to new values, ``None``
    or "" to clear one. One transaction: the party's row, the dispute's ``party_key``, the
    case's version and an ``amend_party`` event. Returns what changed, masked.

    :raises ValidationError: an unknown field, a value intake would refuse, no reason.
    :raises UsageError: when nothing would change, or ``who`` names two parties.
    :raises TransitionNotAllowed: when the case has ended.
    :raises NotFoundError: for an unknown case or party.
    """
    role = _ROLE_CODES.get(role or "", role)
    problems = [
        FieldProblem(
            f"--set {k}",
            "不能修改此项",
            _("可更正的项：{fields}").format(fields="、".join(AMENDABLE)),
        )
        for k in changes
        if k not in AMENDABLE
    ]
    bad = text_problem(reason) if reason.strip() else "缺少理由"
    if bad or len(reason) > 2000:
        fix = _("请说明为什么更正（不超过 2000 字）")
        problems.append(FieldProblem("--reason", bad or "过长", fix))
    if problems:
        raise ValidationError(problems, source="amend-party")
    with store.write() as conn:
        row = lock_running(
            conn,
            case,
            refused="不能修改当事人信息",
            hint=_("请在该纠纷正在办理的案件上更正当事人信息（如有）"),
        )
        parties = list(
            conn.execute(
                select(_PTY).where(_PTY.c.dispute_id == row.dispute_id).order_by(_PTY.c.ordinal)
            )
        )
        party = _choose(parties, who, role)
        current = {c: getattr(party, c) for c in PARTY_FIELDS}
        proposed = {**current, **{k: (v or None) for k, v in changes.items()}}
        new_number = "id_number" in changes and proposed["id_number"]
        resident = proposed.get("id_type") in (None, "resident_id")
        if new_number and resident and "birth_date" not in changes:
            proposed["birth_date"] = None  # read from the new resident ID number again
        if "id_number" in changes and not new_number and "id_type" not in changes:
            proposed["id_type"] = None  # no number, no type of number
        record = _validated(proposed)
        after = {c: getattr(record, c) for c in AMENDABLE}
        changed = {c: (current.get(c), after[c]) for c in AMENDABLE if current.get(c) != after[c]}
        if not changed:
            raise UsageError(
                f"{party.name} 的信息没有变化",
                hint=_("请用 --set 字段=值 给出与已登记内容不同的值"),
            )
        conn.execute(update(_PTY).where(_PTY.c.id == party.id).values(**after))
        now_parties = [record if p.id == party.id else p for p in parties]
        key = party_key(now_parties, installation_secret(conn))
        conn.execute(update(_D).where(_D.c.id == row.dispute_id).values(party_key=key))
        shown = {
            c: {"before": _shown(c, a), "after": _shown(c, b)} for c, (a, b) in changed.items()
        }
        version = record_in_place(
            conn,
            row,
            "amend_party",
            actor=actor,
            note=reason.strip(),
            payload={
                "party": after["name"],
                "role": party.role,
                "changed": shown,
                # What the chain vouches for (mediation.storage.record_rows).
                PARTIES_KEY: dispute_parties_digest(conn, row.dispute_id),
            },
            now=now,
        )
    return {
        "case_number": row.case_number,
        "party": after["name"],
        "role": party.role,
        "changed": shown,
        "version": version,
    }


def _validated(values: Mapping[str, Any]) -> PartyRecord:
    """``values`` through intake's own party checks; problems named as ``--set`` fields."""
    from mediation.domain.intake import party_problems_and_record

    raw = {
        k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items() if v is not None
    }
    problems, record = party_problems_and_record(raw)
    if problems or record is None:
        raise ValidationError(
            [
                FieldProblem(p.field.replace("parties[0].", "--set "), p.problem, p.fix)
                for p in problems
            ],
            source="amend-party",
        )
    return record
