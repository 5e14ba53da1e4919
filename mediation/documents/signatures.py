"""Signatures recorded on a case's written agreement (人民调解法 art. 29).

Each party signs, seals or fingerprints the agreement, the mediator signs it, the committee
seals it. :func:`record_signature` records each one (who, how, when, optionally a scan) as
a ``signature`` row and a case event; the agreement takes effect when the last of them is
recorded, as an ``agreement_effective`` event in the same transaction. Signatures count for
the agreement last reached (after a re-mediation the new agreement is signed again).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from mediation.domain.clock import BUSINESS_TZ, business_date
from mediation.domain.taxonomy import SIGNATURE_METHODS, SIGNER_KINDS
from mediation.engine.cases import case_row
from mediation.engine.clocks import restart_on_event
from mediation.engine.declared import check_declared, check_recent
from mediation.engine.machine import load
from mediation.errors import (
    FieldProblem,
    TransitionNotAllowed,
    ValidationError,
)
from mediation.i18n import _
from mediation.storage._tables import (
    event_table,
    organisation_table,
    party_table,
    proceeding_table,
    signature_table,
)
from mediation.storage.audit import append_event
from mediation.storage.record_rows import CLOCKS_KEY, clocks_digest
from mediation.storage.refs import resolve
from mediation.storage.store import Store
from mediation.workflows import AGREEMENT_EFFECTIVE, get_flow

#: The methods each kind of signer may use: the mediator signs, the committee seals.
ALLOWED_METHODS = {
    "party": ("sign", "seal", "fingerprint"),
    "mediator": ("sign",),
    "committee": ("seal",),
}
MAX_IMAGE_BYTES = 2 * 1024 * 1024
#: The largest scan accepted, in pixels each way: a larger one (a small file can declare
#: 20000×20000 px) would take gigabytes to decode, and no document could be rendered.
MAX_IMAGE_SIDE = 4000
#: Scans are stored at most this many pixels on their long side (enough for a signature
#: block printed a few centimetres wide).
STORED_IMAGE_SIDE = 1200
_IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
_EFFECT_NOTE = "调解协议书自各方当事人签名、盖章或者按指印，调解员签名并加盖调解委员会印章之日起生效（人民调解法 art. 29）"


# -- recorded signatures ------------------------------------------------------------------


def agreement_reached(conn: Connection, case: Any) -> datetime:
    """When the case's current written agreement was reached (its latest event with the
    ``record_agreement`` effect): signatures recorded since then are on that agreement.

    :raises TransitionNotAllowed: when the case has no written agreement.
    """
    flow = get_flow(case.flow)
    triggers = sorted(
        {
            t.trigger
            for t in flow.transitions
            if "record_agreement" in t.effects and t.trigger != "agree_oral"
        }
    )
    reached: datetime | None = conn.execute(
        select(event_table.c.occurred_at)
        .where(event_table.c.proceeding_id == case.id, event_table.c.trigger.in_(triggers))
        .order_by(event_table.c.seq.desc())
        .limit(1)
    ).scalar()
    if reached is None:
        raise TransitionNotAllowed(
            _("{case} 没有可签署的书面调解协议").format(case=case.case_number),
            hint=_("请先记录协议：mediation case advance {case} agree_written").format(
                case=case.case_number
            ),
        )
    return reached


@dataclass
class Required:
    """Who must still sign a document."""

    parties: list[str] = field(default_factory=list)
    mediators: list[str] = field(default_factory=list)
    committee: str | None = None

    def describe(self) -> str:
        parts = [f"当事人 {name}" for name in self.parties]
        if self.mediators:
            parts.append("调解员 " + " 或 ".join(self.mediators))
        if self.committee:
            parts.append(f"{self.committee}（盖章）")
        return "、".join(parts)

    def __bool__(self) -> bool:
        return bool(self.parties or self.mediators or self.committee)


def _recorded_since(case: Any, since: datetime) -> Any:
    return and_(
        signature_table.c.proceeding_id == case.id,
        signature_table.c.document_kind == "agreement",
        signature_table.c.recorded_at >= since,
    )


def missing(conn: Connection, case: Any, since: datetime, org_name: str) -> Required:
    """Who has not yet signed the agreement reached at ``since``."""
    signed = conn.execute(
        select(
            signature_table.c.signer_kind, signature_table.c.signer_name, signature_table.c.party_id
        ).where(_recorded_since(case, since))
    ).all()
    party_ids = {s.party_id for s in signed if s.signer_kind == "party"}
    parties = conn.execute(
        select(party_table.c.id, party_table.c.name)
        .where(party_table.c.dispute_id == case.dispute_id)
        .order_by(party_table.c.ordinal, party_table.c.id)
    ).all()
    required = Required(parties=[p.name for p in parties if p.id not in party_ids])
    if not any(s.signer_kind == "mediator" for s in signed):
        required.mediators = case_mediators(case) or ["（尚未指派调解员）"]
    if not any(s.signer_kind == "committee" for s in signed):
        required.committee = org_name
    return required


def case_mediators(case: Any) -> list[str]:
    names = list(case.mediators or [])
    if case.mediator and case.mediator not in names:
        names.insert(0, case.mediator)
    return names


def case_event(
    conn: Connection,
    case: Any,
    version: int,
    trigger: str,
    *,
    actor: str,
    now: datetime,
    note: str,
    payload: dict[str, Any],
) -> int:
    """Append a case event that changes no state, bumping the proceeding's version."""
    conn.execute(
        update(proceeding_table)
        .where(proceeding_table.c.id == case.id)
        .values(version=version, updated_at=now)
    )
    return append_event(
        conn,
        {
            "dispute_id": case.dispute_id,
            "proceeding_id": case.id,
            "seq": version,
            "trigger": trigger,
            "from_state": case.state,
            "to_state": case.state,
            "actor": actor,
            "note": note,
            "payload": payload,
            "occurred_at": now,
        },
    )


def _iso(moment: datetime) -> str:
    """A moment as event payloads carry it: ISO 8601 in business time."""
    return moment.astimezone(BUSINESS_TZ).isoformat(timespec="seconds")


def _image_type(image: bytes) -> str | None:
    return next((t for magic, t in _IMAGE_TYPES.items() if image.startswith(magic)), None)


def record_signature(
    store: Store,
    case_ref: str,
    *,
    signer: str,
    signer_kind: str,
    method: str,
    actor: str,
    now: datetime,
    signed_at: datetime | None = None,
    image: bytes | None = None,
) -> dict[str, Any]:
    """Record one signature on the case's written agreement; when it is the last one
    required (every party, a mediator of the case, the committee's seal) the agreement takes
    effect, recorded as an ``agreement_effective`` event in the same transaction.

    :raises ValidationError: for an unknown kind or method, a method that kind of signer may
        not use, a time after now or before the case's previous step, or an image that is not a PNG/JPEG under 2 MiB and
        4000×4000 px (a larger one is stored scaled down to 1200 px on its long side).
    :raises TransitionNotAllowed: when the case has no written agreement, or the signer is
        not a party, mediator or the committee of the case, or has already signed; for a
        ``signed_at`` more than 7 days ago when ``actor`` is not a supervisor.
    """
    declared = signed_at is not None
    signed_at = signed_at or now
    image, image_type = _check_input(signer, signer_kind, method, signed_at, image, now=now)
    with store.write() as conn:
        pid, _number = resolve(conn, case_ref)
        case = case_row(conn, pid, lock=True)
        since = agreement_reached(conn, case)
        if declared:
            # Bounded like any declared time (mediation.engine.declared); the signatures
            # of one agreement are made at one table, in any order.
            others = frozenset({"record_signature"})
            check_declared(conn, pid, signed_at, now=now, source="签名", ignore=others)
            check_recent(conn, actor, signed_at, now=now)
        org = conn.execute(
            select(organisation_table.c.code, organisation_table.c.name).where(
                organisation_table.c.id == case.organisation_id
            )
        ).one()
        before = missing(conn, case, since, org.name)
        name, party_id = _signer(conn, case, org, since, before, signer_kind, signer.strip())
        return insert_signature(
            conn,
            case,
            since,
            before,
            org_name=org.name,
            signer=name,
            signer_kind=signer_kind,
            party_id=party_id,
            method=method,
            signed_at=signed_at,
            image=image,
            image_type=image_type,
            actor=actor,
            now=now,
        )


def _check_input(
    signer: str,
    signer_kind: str,
    method: str,
    signed_at: datetime,
    image: bytes | None,
    *,
    now: datetime,
) -> tuple[bytes | None, str | None]:
    """Refuse bad input before the database is touched; return the image as it is to be
    stored (downscaled to :data:`STORED_IMAGE_SIDE`) and its MIME type."""
    problems = []
    if signer_kind not in SIGNER_KINDS:
        fix = _("请用 --party、--mediator 或 --committee")
        problems.append(FieldProblem("signer", f"未知签署人类型 {signer_kind!r}", fix))
    if method not in SIGNATURE_METHODS:
        fix = _("可选：sign（签名）、seal（盖章）、fingerprint（按指印）")
        problems.append(FieldProblem("--method", f"未知方式 {method!r}", fix))
    elif signer_kind in ALLOWED_METHODS and method not in ALLOWED_METHODS[signer_kind]:
        allowed = ALLOWED_METHODS[signer_kind]
        problem = f"{SIGNER_KINDS[signer_kind]}应以{'、'.join(SIGNATURE_METHODS[m] for m in allowed)}方式签署"
        problems.append(
            FieldProblem("--method", problem, _("请用 --method {method}").format(method=allowed[0]))
        )
    if signed_at > now:
        fix = _("请给出实际签署的时间")
        problems.append(FieldProblem("--at", "签署时间晚于当前时间", fix))
    if not signer.strip() or len(signer) > 100:
        problems.append(FieldProblem("--signer", "签署人姓名为空或过长", _("请给出 1 至 100 个字")))
    image_type = None
    if image is not None:
        image_type = _image_type(image)
        if image_type is None:
            fix = _("请将签名扫描为 PNG 或 JPEG 图像")
            problems.append(FieldProblem("--image", "不是 PNG 或 JPEG 图像", fix))
        elif len(image) > MAX_IMAGE_BYTES:
            problem = f"图像过大（{len(image)} 字节）"
            problems.append(FieldProblem("--image", problem, _("请控制在 2 MiB 以内")))
        else:
            image, too_large = _fitted(image, image_type)
            if too_large:
                fix = f"请重新扫描，不超过 {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} 像素（300 dpi 足够）"
                problems.append(FieldProblem("--image", too_large, fix))
    if problems:
        raise ValidationError(problems, source="签名")
    return image, image_type


def _fitted(image: bytes, image_type: str) -> tuple[bytes, str | None]:
    """(the image to store, why it cannot be stored): its pixel size is read from the
    header first, so a huge one is refused without being decoded; one larger than
    :data:`STORED_IMAGE_SIDE` is scaled down (same format). A damaged scan is kept as
    given: printing leaves it out."""
    from PIL import Image

    limit = f"最大 {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} 像素"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image)) as picture:
                width, height = picture.size
                if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
                    return image, f"图像像素过大（{width}×{height} 像素，{limit}）"
                if max(width, height) <= STORED_IMAGE_SIDE:
                    return image, None
                picture.thumbnail((STORED_IMAGE_SIDE, STORED_IMAGE_SIDE))
                out = io.BytesIO()
                if image_type == "image/jpeg":
                    small = picture if picture.mode in ("RGB", "L") else picture.convert("RGB")
                    small.save(out, "JPEG", quality=90)
                else:
                    picture.save(out, "PNG", optimize=True)
                return out.getvalue(), None
    except Image.DecompressionBombError:
        return image, f"图像像素过大（上亿像素，{limit}）"
    except (OSError, SyntaxError, ValueError):
        # Not decodable: stored as given, left out when the agreement is printed (as before).
        return image, None


def _signer(
    conn: Connection,
    case: Any,
    org: Any,
    since: datetime,
    before: Required,
    signer_kind: str,
    signer: str,
) -> tuple[str, int | None]:
    """(name to record, party id) of a signer of the case who has not signed yet."""
    once = _("每个签名只登记一次；见 mediation case history")
    if signer_kind == "party":
        row = conn.execute(
            select(party_table.c.id)
            .where(party_table.c.dispute_id == case.dispute_id, party_table.c.name == signer)
            .order_by(party_table.c.ordinal)
        ).first()
        if row is None:
            raise TransitionNotAllowed(
                _("{signer} 不是 {case} 的当事人").format(signer=signer, case=case.case_number),
                hint=_("请按登记的姓名给出当事人（见 `mediation case show`）"),
            )
        if signer not in before.parties:
            raise TransitionNotAllowed(f"当事人 {signer} 的签署已记录", hint=once)
        return signer, row.id
    if signer_kind == "mediator":
        names = case_mediators(case)
        if signer not in names:
            raise TransitionNotAllowed(
                _("{signer} 不是 {case} 的调解员（{names}）").format(
                    signer=signer, case=case.case_number, names="、".join(names) or _("尚未指派")
                ),
                hint=_("由主持调解的调解员签名"),
            )
        already = conn.execute(
            select(signature_table.c.id).where(
                _recorded_since(case, since),
                signature_table.c.signer_kind == "mediator",
                signature_table.c.signer_name == signer,
            )
        ).first()
        if already:
            raise TransitionNotAllowed(f"调解员 {signer} 的签名已记录", hint=once)
        return signer, None
    if signer not in (org.name, org.code):
        raise TransitionNotAllowed(
            _("本案的调委会是 {org}，不是 {signer}").format(org=org.name, signer=signer),
            hint=_("请用：--committee --signer {org}").format(org=org.name),
        )
    if before.committee is None:
        raise TransitionNotAllowed(f"{org.name}的盖章已记录", hint=once)
    return org.name, None


def insert_signature(
    conn: Connection,
    case: Any,
    since: datetime,
    before: Required,
    *,
    org_name: str,
    signer: str,
    signer_kind: str,
    party_id: int | None,
    method: str,
    signed_at: datetime,
    image: bytes | None,
    image_type: str | None,
    actor: str,
    now: datetime,
    version: int | None = None,
) -> dict[str, Any]:
    """Insert one signature on the agreement reached at ``since`` and its event (and
    ``agreement_effective`` when it is the last one). The caller holds the case's lock;
    ``version`` is the proceeding's version if the caller already bumped it."""
    conn.execute(
        insert(signature_table).values(
            proceeding_id=case.id,
            document_kind="agreement",
            signer_kind=signer_kind,
            party_id=party_id,
            signer_name=signer,
            method=method,
            signed_at=signed_at,
            image=image,
            image_type=image_type,
            recorded_by=actor,
            recorded_at=now,
        )
    )
    version = (version or case.version) + 1
    payload: dict[str, Any] = {
        "document_kind": "agreement",
        "signer_kind": signer_kind,
        "signer": signer,
        "method": method,
        "signed_at": _iso(signed_at),
    }
    if image is not None:
        payload["image_sha256"] = hashlib.sha256(image).hexdigest()
    note = f"{SIGNER_KINDS[signer_kind]} {signer} {SIGNATURE_METHODS[method]}"
    case_event(
        conn, case, version, "record_signature", actor=actor, now=now, note=note, payload=payload
    )
    after = missing(conn, case, since, org_name)
    effective_at = None
    if before and not after:
        # In effect from the day the last of them signed (人民调解法 art. 29).
        effective_at = conn.execute(
            select(func.max(signature_table.c.signed_at)).where(_recorded_since(case, since))
        ).scalar_one()
        version += 1
        effect: dict[str, Any] = {"document_kind": "agreement", "effective_at": _iso(effective_at)}
        # The 30 days to apply for 司法确认 run from the day it took effect (人民调解法 art. 33;
        # 民事诉讼法 art. 205), not from the day it was reached: (re)started here.
        for started in restart_on_event(
            conn,
            case,
            load(case.flow).starts.get(AGREEMENT_EFFECTIVE, ()),
            business_date(effective_at),
            now=now,
        ):
            effect[f"{started['kind']}_due"] = started["due"].isoformat()
            # The case's clocks as restarted (mediation.storage.record_rows).
            effect[CLOCKS_KEY] = clocks_digest(conn, case.id)
        case_event(
            conn,
            case,
            version,
            AGREEMENT_EFFECTIVE,
            actor=actor,
            now=now,
            note=_EFFECT_NOTE,
            payload=effect,
        )
    return {
        "case_number": case.case_number,
        "document_kind": "agreement",
        "signer_kind": signer_kind,
        "signer": signer,
        "method": method,
        "method_label": SIGNATURE_METHODS[method],
        "signed_at": signed_at,
        "missing": after.describe(),
        "effective_at": effective_at,
        "version": version,
    }


def signatures(
    store: Store, case_ref: str, document_kind: str = "agreement"
) -> list[dict[str, Any]]:
    """The signatures recorded on a case's document, in the order they were recorded."""
    with store.read() as conn:
        pid, _number = resolve(conn, case_ref)
        rows = conn.execute(
            select(
                signature_table.c.signer_kind,
                signature_table.c.signer_name,
                signature_table.c.method,
                signature_table.c.signed_at,
                signature_table.c.image_type,
                signature_table.c.recorded_at,
                signature_table.c.recorded_by,
            )
            .where(
                signature_table.c.proceeding_id == pid,
                signature_table.c.document_kind == document_kind,
            )
            .order_by(signature_table.c.id)
        ).all()
    return [dict(r._mapping) for r in rows]
