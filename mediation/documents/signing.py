"""The committee's digital seal on a case document, and checking a sealed PDF.

:func:`sign_document` renders the document again from the record as it stands, applies a
PAdES B-B signature (no time-stamp authority: no network) with pyHanko, whose appearance is
the committee's round red seal (:mod:`mediation.documents.seal`) over the organisation's
name and date on the last page, and stores the signed bytes and their hash with the case; a
signed document is final (never re-rendered, nothing stamped on it).
For the agreement the seal is the committee's signature (:mod:`mediation.documents.signatures`).

:func:`verify_document` checks a PDF: a signature by a recorded committee key, intact and
trusted, covering the entire file, and the file's hash equal to a signed document recorded
for a case (:data:`CHECKS`).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from mediation.documents.casefile import gather
from mediation.documents.keys import PASSPHRASE_ENV
from mediation.documents.service import as_sealed
from mediation.documents.signatures import (
    agreement_reached,
    case_event,
    insert_signature,
    missing,
)
from mediation.domain.clock import BUSINESS_TZ
from mediation.engine.cases import case_row
from mediation.errors import (
    ConflictError,
    MediationError,
    NotFoundError,
    TransitionNotAllowed,
    UsageError,
)
from mediation.i18n import _, os_error
from mediation.storage._tables import (
    document_table,
    organisation_table,
    proceeding_table,
    signing_key_table,
)
from mediation.storage.refs import resolve
from mediation.storage.store import Store
from mediation.storage.vouching import certificate_fingerprint, key_event, sealing_event

SEAL_FIELD = "CommitteeSeal"


# -- the committee's digital seal ---------------------------------------------------------


def _seal_box() -> tuple[float, float, float, float]:
    """Where the seal goes on the last page (PDF points from the bottom left corner)."""
    from mediation.documents import SEAL_BOX

    return SEAL_BOX


def _document(conn: Connection, pid: int, kind: str, seq: int | None = None) -> Any:
    """The case's rendered document of ``kind`` (its latest, unless ``seq`` is given)."""
    query = select(document_table).where(
        document_table.c.proceeding_id == pid, document_table.c.kind == kind
    )
    if seq is not None:
        query = query.where(document_table.c.seq == seq)
    row = conn.execute(query.order_by(document_table.c.seq.desc()).limit(1)).first()
    if row is None:
        raise NotFoundError(
            (
                _("本案没有已生成的第 {seq} 份 {kind} 文书").format(seq=seq, kind=kind)
                if seq
                else _("本案没有已生成的 {kind} 文书").format(kind=kind)
            ),
            hint=_("请先生成：mediation doc render 案号 {kind}").format(kind=kind),
        )
    return row


def sign_document(
    store: Store,
    case_ref: str,
    kind: str = "agreement",
    *,
    passphrase: bytes,
    actor: str,
    now: datetime,
    seq: int | None = None,
) -> dict[str, Any]:
    """Seal the case's rendered document with its committee's active key (PAdES B-B, a
    visible seal on the last page) and store the signed bytes, their hash, and a
    ``sign_document`` event in one transaction. What is sealed is the document rendered
    again from the record as it stands (signatures recorded after the stored rendering
    are printed); the record changing meanwhile is a conflict (nothing is written). For the agreement this is the committee's
    seal: every party and the mediator must have signed, and it may make the agreement
    take effect.

    :raises TransitionNotAllowed: when the document is already signed, or signatures are
        missing.
    :raises NotFoundError: without a rendered document, an active key, or the key file.
    :raises DocumentIncomplete: when the record no longer has what the document prints.
    :raises UsageError: when the passphrase does not open the key file.
    """
    with store.read() as conn:
        pid, _number = resolve(conn, case_ref)
        case = case_row(conn, pid)
        doc = _document(conn, pid, kind, seq)
        org = conn.execute(
            select(organisation_table.c.code, organisation_table.c.name).where(
                organisation_table.c.id == case.organisation_id
            )
        ).one()
        if doc.status == "signed":
            raise TransitionNotAllowed(
                f"{case.case_number} 的{doc.title}已于 {_local(doc.signed_at)} 签章，签章后不再改动",
                hint=_("可用 `mediation doc verify 文件 --case {case}` 核验").format(
                    case=case.case_number
                ),
            )
        key = conn.execute(
            select(
                signing_key_table.c.fingerprint,
                signing_key_table.c.key_path,
                signing_key_table.c.not_after,
            ).where(
                signing_key_table.c.organisation_id == case.organisation_id,
                signing_key_table.c.active.is_(True),
            )
        ).first()
        if key is None:
            raise NotFoundError(
                _("{org} 还没有签章密钥").format(org=org.name),
                hint=_(
                    "请用 `mediation keys init {code}` 生成，或导入 CA 签发的 PKCS#12 文件"
                ).format(code=org.code),
            )
        if key.not_after < now:
            raise TransitionNotAllowed(
                f"{org.name} 的签章证书已于 {_local(key.not_after)} 过期",
                hint=_("请生成新密钥：mediation keys init {code}").format(code=org.code),
            )
        committee = None
        if kind == "agreement":
            unsigned = missing(conn, case, agreement_reached(conn, case), org.name)
            committee = org.name if unsigned.committee else None
            unsigned.committee = None  # this seal is the committee's
            if unsigned:
                raise TransitionNotAllowed(
                    f"协议书尚未由以下各方签署：{unsigned.describe()}",
                    hint=_(
                        "请先记录各方签署：mediation doc record-signature 案号 --signer 姓名 --party --method sign"
                    ),
                )
        record = gather(conn, pid)
    # What is sealed is the record as it stands now, not the stored rendering: signatures
    # recorded after that rendering are printed (a sealed document can never be redone).
    pdf, pages = as_sealed(record, kind, doc.seq, now=now, committee=committee)
    rendered_sha256 = hashlib.sha256(pdf).hexdigest()
    signed = _seal_pdf(
        pdf,
        key_path=Path(key.key_path),
        fingerprint=key.fingerprint,
        passphrase=passphrase,
        org_name=org.name,
        reason=f"{doc.title}（{case.case_number}）",
        now=now,
    )
    digest = hashlib.sha256(signed).hexdigest()
    with store.write() as conn:
        case = case_row(conn, pid, lock=True)
        current = conn.execute(
            select(document_table.c.status, document_table.c.sha256).where(
                document_table.c.id == doc.id
            )
        ).first()
        still_active = conn.execute(
            select(signing_key_table.c.active).where(
                signing_key_table.c.fingerprint == key.fingerprint
            )
        ).scalar()
        if (
            current is None
            or (current.status, current.sha256) != ("rendered", doc.sha256)
            or case.version != record.proceeding["version"]
            or not still_active
        ):
            raise ConflictError(
                f"{case.case_number} 的案件记录、{doc.title}或签章密钥在签章时被他人改动，未保存",
                hint=_("请重新运行命令"),
            )
        conn.execute(
            update(document_table)
            .where(document_table.c.id == doc.id)
            .values(
                content=signed,
                sha256=digest,
                size=len(signed),
                pages=pages,
                status="signed",
                signed_at=now,
                signed_by=actor,
                key_fingerprint=key.fingerprint,
            )
        )
        version = case.version + 1
        case_event(
            conn,
            case,
            version,
            "sign_document",
            actor=actor,
            now=now,
            note=f"{org.name}电子签章：{doc.title}",
            payload={
                "kind": kind,
                "seq": doc.seq,
                "sha256": digest,
                "rendered_sha256": rendered_sha256,
                "replaced_sha256": doc.sha256,
                "fingerprint": key.fingerprint,
            },
        )
        effective_at = None
        if kind == "agreement":
            since = agreement_reached(conn, case)
            before = missing(conn, case, since, org.name)
            if before.committee:
                recorded = insert_signature(
                    conn,
                    case,
                    since,
                    before,
                    org_name=org.name,
                    signer=org.name,
                    signer_kind="committee",
                    party_id=None,
                    method="seal",
                    signed_at=now,
                    image=None,
                    image_type=None,
                    actor=actor,
                    now=now,
                    version=version,
                )
                effective_at = recorded["effective_at"]
    return {
        "case_number": case.case_number,
        "kind": kind,
        "seq": doc.seq,
        "title": doc.title,
        "organisation": org.code,
        "sha256": digest,
        "size": len(signed),
        "fingerprint": key.fingerprint,
        "signed_at": now,
        "effective_at": effective_at,
        "content": signed,
    }


def _local(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def _quiet_pyhanko_dsa_import() -> None:
    """Keep cryptography's DSA deprecation out of the user's terminal.

    cryptography 51 deprecates DSA and warns on every access to a name of its ``dsa``
    module; pyHanko (0.38, the latest) imports ``DSAPrivateKey`` there for an
    ``isinstance`` check, so every command that signs or verifies printed a
    CryptographyDeprecationWarning although no DSA key is ever used (committee keys are
    ECDSA P-256: :mod:`mediation.documents.keys`). Only that warning, raised by that import,
    is ignored; a DSA key actually loaded still warns (from cryptography's own code).
    Remove this when pyHanko stops importing the name.
    """
    import warnings

    from cryptography.utils import CryptographyDeprecationWarning

    warnings.filterwarnings(
        "ignore",
        message="DSA is deprecated",
        category=CryptographyDeprecationWarning,
        module=r"pyhanko\.sign\.signers\.pdf_cms\Z",
    )


def _seal_pdf(
    pdf: bytes,
    *,
    key_path: Path,
    fingerprint: str,
    passphrase: bytes,
    org_name: str,
    reason: str,
    now: datetime,
) -> bytes:
    """``pdf`` with a PAdES B-B signature and a visible seal on its last page."""
    _quiet_pyhanko_dsa_import()
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter

    from mediation.documents.seal import stamp_style

    try:
        p12 = key_path.read_bytes()
    except OSError as exc:
        raise NotFoundError(
            _("无法读取密钥文件 {path}：{why}").format(path=key_path, why=os_error(exc)),
            hint=_("请从备份恢复密钥文件，或用 `mediation keys init` 生成新密钥"),
        ) from None
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(p12, [], passphrase=passphrase)
    except ValueError:
        raise UsageError(
            _("{env} 无法打开密钥文件 {path}").format(env=PASSPHRASE_ENV, path=key_path),
            hint=_("请设为生成或导入密钥时设定的口令"),
        ) from None
    if hashlib.sha256(signer.signing_cert.dump()).hexdigest() != fingerprint:
        raise MediationError(
            _("密钥文件 {path} 不含登记的证书 {fingerprint}…").format(
                path=key_path, fingerprint=fingerprint[:16]
            ),
            hint=_("请恢复正确的密钥文件，或用 `mediation keys init` 生成新密钥"),
        )
    style = stamp_style(org_name)
    x1, y1, x2, y2 = _seal_box()
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=org_name,
        name=org_name,
    )

    class _AtNow(signers.PdfSigner):
        """Sign at ``now`` (the injected clock), not at the wall clock."""

        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = now
            return session

    spec = SigFieldSpec(SEAL_FIELD, on_page=-1, box=(int(x1), int(y1), int(x2), int(y2)))
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = _AtNow(meta, signer, stamp_style=style, new_field_spec=spec).sign_pdf(writer)
    except Exception as exc:  # pyHanko raises many kinds on a malformed PDF
        raise MediationError(
            _("文书未能签章：{why}").format(why=exc),
            hint=_("请用 `mediation doc render` 重新生成"),
        ) from None
    signed: bytes = out.getvalue()
    return signed


# -- verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One check of :func:`verify_document` and what it found."""

    name: str  #: signature | key | integrity | trust | coverage | recorded
    label: str
    ok: bool
    detail: str


@dataclass
class Verification:
    """What :func:`verify_document` checked; ``ok`` when every check passed."""

    sha256: str
    size: int
    checks: list[Check] = field(default_factory=list)
    case_number: str | None = None
    title: str | None = None
    organisation: str | None = None
    fingerprint: str | None = None
    signed_at: datetime | None = None

    @property
    def ok(self) -> bool:
        names = {c.name for c in self.checks}
        return all(c.ok for c in self.checks) and names >= set(CHECKS)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


#: The checks, in order, with their labels.
CHECKS = {
    "signature": "文件含有电子签名",
    "key": "签名证书为已登记的调解组织证书",
    "integrity": "签名覆盖的内容未被改动",
    "trust": "证书可信且签署时有效",
    "coverage": "签名覆盖整个文件（签名后未追加内容）",
    "recorded": "文件哈希与案件登记的文书一致",
}


def verify_document(
    store: Store, data: bytes, *, now: datetime, case_ref: str | None = None
) -> Verification:
    """Check a signed PDF against the database; see :data:`CHECKS`. Never raises for a bad
    file: the failed checks say what is wrong.

    :raises NotFoundError: when ``case_ref`` names no case.
    """
    result = Verification(sha256=hashlib.sha256(data).hexdigest(), size=len(data))

    def check(name: str, ok: bool, detail: str) -> None:
        result.checks.append(Check(name, CHECKS[name], ok, detail))

    _verify_signature(store, data, now=now, result=result, check=check)
    with store.read() as conn:
        query = (
            select(
                document_table.c.kind,
                document_table.c.title,
                document_table.c.status,
                document_table.c.sha256,
                document_table.c.content,
                document_table.c.key_fingerprint,
                document_table.c.signed_at,
                document_table.c.proceeding_id,
                proceeding_table.c.case_number,
            )
            .join(proceeding_table, proceeding_table.c.id == document_table.c.proceeding_id)
            .where(document_table.c.sha256 == result.sha256)
        )
        where = "任何案件"
        if case_ref is not None:
            pid, _number = resolve(conn, case_ref)
            query = query.where(document_table.c.proceeding_id == pid)
            where = conn.execute(
                select(proceeding_table.c.case_number).where(proceeding_table.c.id == pid)
            ).scalar_one()
        row = conn.execute(query.order_by(document_table.c.id).limit(1)).first()
        sealed = row is not None and sealing_event(conn, row.proceeding_id, result.sha256)
    if row is None:
        check("recorded", False, f"SHA-256 {result.sha256} 与{where}登记的文书均不一致")
    elif row.status != "signed":
        check("recorded", False, f"{row.case_number} 的{row.title}登记为未签章")
    elif hashlib.sha256(row.content).hexdigest() != row.sha256:
        check(
            "recorded", False, f"{row.case_number} 的{row.title}在数据库中的副本与登记的哈希不一致"
        )
    elif result.fingerprint is not None and row.key_fingerprint != result.fingerprint:
        check("recorded", False, f"{row.case_number} 的{row.title}登记的签章证书与文件中的不同")
    elif not sealed:
        check(
            "recorded",
            False,
            f"{row.case_number} 的{row.title}在文书表中登记为已签章，但审计链中没有签章记录"
            "（sign_document）：该登记可能是绕过本系统直接写入数据库的",
        )
    else:
        result.case_number, result.title = row.case_number, row.title
        check(
            "recorded",
            True,
            f"{row.case_number} {row.title}，{_local(row.signed_at)} 签章，SHA-256 {result.sha256}",
        )
    return result


def _verify_signature(
    store: Store, data: bytes, *, now: datetime, result: Verification, check: Any
) -> None:
    _quiet_pyhanko_dsa_import()
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        embedded = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
        if not embedded:
            check("signature", False, "文件中没有电子签名")
            return
        # Our documents carry one seal; with more, the last must cover the whole file.
        sig = embedded[-1]
        cert = sig.signer_cert
        claimed = sig.self_reported_timestamp
    except Exception as exc:  # a damaged file can fail anywhere in the parser
        check("signature", False, f"无法读取文件中的签名：{type(exc).__name__}: {exc}")
        return
    check("signature", True, f"签名字段 {sig.field_name}，共 {len(embedded)} 个签名")
    fingerprint = hashlib.sha256(cert.dump()).hexdigest()
    with store.read() as conn:
        key = conn.execute(
            select(
                signing_key_table.c.certificate,
                signing_key_table.c.active,
                organisation_table.c.code,
                organisation_table.c.name,
            )
            .join(
                organisation_table, organisation_table.c.id == signing_key_table.c.organisation_id
            )
            .where(signing_key_table.c.fingerprint == fingerprint)
        ).first()
    if key is None:
        check(
            "key",
            False,
            f"签名证书 {fingerprint[:16]}…（{cert.subject.human_friendly}）未在本系统登记",
        )
        return
    with store.read() as conn:
        vouched = key_event(conn, fingerprint, key.code)
    if certificate_fingerprint(key.certificate) != fingerprint or vouched is None:
        check(
            "key",
            False,
            f"签名证书 {fingerprint[:16]}…（{cert.subject.human_friendly}）在密钥表中有登记，"
            "但审计链中没有创建或导入它的记录（keys init / keys import）："
            "该证书可能是绕过本系统直接写入数据库的",
        )
        return
    result.fingerprint, result.organisation = fingerprint, key.code
    result.signed_at = claimed
    state = "现用" if key.active else "已停用"
    check("key", True, f"{key.name}（{key.code}）的证书 {fingerprint[:16]}…（{state}）")
    root = next(iter(load_certs_from_pemder_data(key.certificate.encode("ascii"))))
    # A B-B signature carries no trusted time: the certificate is checked at the time the
    # signer states, which the recorded document's signing time confirms.
    context = ValidationContext(
        trust_roots=[root], moment=claimed or now, allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        status = validate_pdf_signature(sig, context)
    except Exception as exc:
        check("integrity", False, f"签名无法验证：{type(exc).__name__}: {exc}")
        return
    if status.intact and status.valid:
        check("integrity", True, f"签名值正确（{status.md_algorithm.upper()}）")
    elif not status.intact:
        check("integrity", False, "签名覆盖的内容已被改动（摘要不符）")
    else:
        check("integrity", False, "签名值无效")
    if status.trusted:
        check("trust", True, f"签署时间 {_local(claimed)}，证书在该时间有效")
    elif not (status.intact and status.valid):
        check("trust", False, "签名无效，证书无从认定")
    else:
        problem = str(status.trust_problem_indic or "不可信")
        check("trust", False, f"证书验证失败（{problem}，签署时间 {_local(claimed)}）")
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE and status.docmdp_ok is not False:
        check("coverage", True, f"全部 {len(data)} 字节均在签名范围内")
    else:
        covered = status.coverage.name if status.coverage else "unknown"
        check("coverage", False, f"签名之后文件被追加或修改（{covered}）")
