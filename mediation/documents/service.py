"""Rendering a case's documents and keeping them with the case (the ``document`` table).

:func:`render_document` reads the case, builds the document's context (refusing, with the
list of what is missing, when a field the document cannot do without is absent), renders
the PDF outside any transaction, and then, in one write transaction, stores it — or
replaces an earlier unsigned rendering of the same document. A signed document is final:
re-rendering it is refused. Each rendering is recorded as an access event
(``doc_render``): documents print the parties' personal data in full.

Many cases at once: :mod:`mediation.documents.batch`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, insert, select, update

from mediation.documents import context as C
from mediation.documents.casefile import numbered
from mediation.errors import ConflictError, ExitCode, MediationError
from mediation.i18n import _
from mediation.storage._tables import document_table, proceeding_table
from mediation.storage.audit import append_access
from mediation.storage.refs import resolve
from mediation.storage.store import Store

#: Page geometry shared by the stylesheet and :data:`SEAL_BOX` (millimetres).
PAGE_MM = (210.0, 297.0)
MARGINS_MM = {"top": 25.0, "right": 24.0, "bottom": 25.0, "left": 28.0}
#: The committee's seal is round, 42 mm across (人民调解委员会印章); the area is a little larger.
SEAL_MM = 44.0
_PT_PER_MM = 72 / 25.4


def _seal_box() -> tuple[float, float, float, float]:
    right = (PAGE_MM[0] - MARGINS_MM["right"]) * _PT_PER_MM
    bottom = MARGINS_MM["bottom"] * _PT_PER_MM
    size = SEAL_MM * _PT_PER_MM
    return (round(right - size, 2), round(bottom, 2), round(right, 2), round(bottom + size, 2))


#: Where the committee's visible digital seal goes on the agreement's last page:
#: (x1, y1, x2, y2) in PDF points from the page's bottom-left corner. The template keeps
#: this square empty (the bottom-right corner of the text area of the last page).
SEAL_BOX = _seal_box()


class DocumentSigned(MediationError):
    """The document has been signed: it is final and is not rendered again."""

    exit_code = ExitCode.NOT_ALLOWED


@dataclass
class Rendered:
    """A document as rendered and stored."""

    document_id: int
    case_number: str
    kind: str
    seq: int
    title: str
    pages: int
    size: int
    sha256: str
    replaced: bool
    pdf: bytes


@cache
def _stylesheet(face: bool = True) -> str:
    """The documents' stylesheet, with the page geometry of :data:`SEAL_BOX`; ``face``
    registers the document face (WeasyPrint only: its URL is served from memory)."""
    from mediation.documents import _fonts

    mm = {k: f"{v:g}mm" for k, v in MARGINS_MM.items()}
    return str(
        _environment()
        .get_template("assets/doc.css")
        .render(
            margins=mm,
            seal=f"{SEAL_MM:g}mm",
            family=_fonts.DOCUMENT_FAMILY,
            fallback=_fonts.SOURCE_FAMILY,
            face_url=_fonts.FONT_URL if face else None,
        )
    )


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("mediation", "templates"),
        # HTML is escaped, always; the stylesheet (assets/doc.css) is CSS, not HTML.
        autoescape=select_autoescape(disabled_extensions=("css",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cn_number"] = C.cn_number
    env.filters["numbered"] = numbered
    return env


def html(built: C.Built) -> str:
    """The document's HTML (autoescaped; the stylesheet is applied by the renderer)."""
    return str(_environment().get_template(built.kind.template).render(**built.context))


def standalone_html(built: C.Built) -> str:
    """The HTML with the stylesheet inlined (for browsers: the benchmark, a preview)."""
    return html(built).replace("</head>", f"<style>\n{_stylesheet(face=False)}</style>\n</head>", 1)


def pdf_of(built: C.Built) -> tuple[bytes, int]:
    """Render a built document: (PDF bytes, pages), with this process's renderer."""
    from mediation.documents import _pdf

    return _pdf.renderer(_stylesheet()).pdf(html(built))


def _check(built: C.Built) -> None:
    if built.problems:
        raise C.DocumentIncomplete(
            built.problems, source=f"{built.spec.label}（{built.context['case_number']}）"
        )


def _stamp(case: C.CaseFile, built: C.Built) -> tuple[Any, ...]:
    """What the rendering depends on: if it changed meanwhile, render again."""
    return (case.proceeding["version"], len(case.signatures), repr(built.context))


def prepare(
    store: Store, case_ref: str | int, kind: str, *, now: datetime, seq: int = 1
) -> C.Built:
    """Read the case and build document ``kind`` no. ``seq`` (nothing is written).

    :raises DocumentIncomplete: listing every missing or unprintable field.
    """
    with store.read() as conn:
        pid, _number = resolve(conn, case_ref)
        case = C.gather(conn, pid)
    built = C.build(case, kind, seq, now=now)
    _check(built)
    return built


def as_sealed(
    case: C.CaseFile, kind: str, seq: int, *, now: datetime, committee: str | None
) -> tuple[bytes, int]:
    """Document ``kind`` no. ``seq`` rendered from the record as it stands when it is sealed
    (:func:`mediation.documents.signing.sign_document`): (PDF bytes, pages). ``committee``
    names the committee whose seal this is when that seal is itself the agreement's
    committee signature, recorded in the same transaction: the signature block then shows
    it, as the record will.

    :raises DocumentIncomplete: when the record no longer has what the document needs.
    :raises DocumentNotAvailable: when the case no longer has the document.
    """
    if committee is not None:
        case.signatures.append(
            {
                "document_kind": kind,
                "signer_kind": "committee",
                "signer_name": committee,
                "party_id": None,
                "method": "seal",
                "signed_at": now,
                "recorded_at": now,
                "image": None,
                "image_type": None,
            }
        )
    built = C.build(case, kind, seq, now=now)
    _check(built)
    return pdf_of(built)


def render_document(
    store: Store, case_ref: str | int, kind: str, *, actor: str, now: datetime, seq: int = 1
) -> tuple[int, bytes]:
    """Render document ``kind`` (no. ``seq``) of a case, store it, return (id, PDF bytes).

    :raises UsageError: for an unknown kind.
    :raises NotFoundError: for an unknown case.
    :raises DocumentNotAvailable: when the case's flow has no such document or the case
        has not reached it.
    :raises DocumentIncomplete: listing every missing field (nothing is written).
    :raises DocumentSigned: when the stored document is signed (nothing is written).
    """
    result = render(store, case_ref, kind, actor=actor, now=now, seq=seq)
    return result.document_id, result.pdf


def render(
    store: Store, case_ref: str | int, kind: str, *, actor: str, now: datetime, seq: int = 1
) -> Rendered:
    """:func:`render_document`, with the details of what was stored."""
    for _attempt in range(3):
        with store.read() as conn:
            pid, _number = resolve(conn, case_ref)
            case = C.gather(conn, pid)
        built = C.build(case, kind, seq, now=now)
        _check(built)
        _refuse_signed(case, kind, seq)
        pdf, pages = pdf_of(built)
        with store.write() as conn:
            fresh = C.gather(conn, _lock(conn, pid))
            again = C.build(fresh, kind, seq, now=now)
            if _stamp(fresh, again) != _stamp(case, built):
                continue  # the case changed while we rendered: render what it is now
            _refuse_signed(fresh, kind, seq)
            return _store(conn, fresh, built, pdf, pages, actor=actor, now=now)
    raise ConflictError(
        _("生成 {kind} 期间 {case} 一直在变动").format(case=case.case_number, kind=kind),
        hint=_("请重新运行命令"),
    )


def _lock(conn: Connection, pid: int) -> int:
    conn.execute(
        select(proceeding_table.c.id).where(proceeding_table.c.id == pid).with_for_update()
    ).one()
    return pid


def _refuse_signed(case: C.CaseFile, kind: str, seq: int) -> None:
    row = next((d for d in case.documents if d["kind"] == kind and d["seq"] == seq), None)
    if row is not None and row["status"] == "signed":
        raise DocumentSigned(
            f"{case.case_number} 的{row['title']}已签章，不能重新生成",
            hint=_("已签章的文书不再改动：存档的 PDF 即为记录（可用 `mediation doc verify` 核验）"),
        )


def _store(
    conn: Connection,
    case: C.CaseFile,
    built: C.Built,
    pdf: bytes,
    pages: int,
    *,
    actor: str,
    now: datetime,
) -> Rendered:
    digest = hashlib.sha256(pdf).hexdigest()
    values = {
        "title": built.spec.label,
        "status": "rendered",
        "sha256": digest,
        "size": len(pdf),
        "pages": pages,
        "content": pdf,
        "rendered_at": now,
        "rendered_by": actor,
    }
    existing = next(
        (d for d in case.documents if d["kind"] == built.kind.name and d["seq"] == built.seq), None
    )
    if existing is not None:
        conn.execute(
            update(document_table).where(document_table.c.id == existing["id"]).values(**values)
        )
        doc_id = int(existing["id"])
    else:
        doc_id = conn.execute(
            insert(document_table)
            .values(
                proceeding_id=case.proceeding["id"],
                dispute_id=case.proceeding["dispute_id"],
                kind=built.kind.name,
                seq=built.seq,
                **values,
            )
            .returning(document_table.c.id)
        ).scalar_one()
    append_access(
        conn,
        action="doc_render",
        actor=actor,
        subject=case.case_number,
        detail={
            "document_id": doc_id,
            "kind": built.kind.name,
            "seq": built.seq,
            "sha256": digest,
            "replaced": existing is not None,
        },
        now=now,
    )
    return Rendered(
        document_id=doc_id,
        case_number=case.case_number,
        kind=built.kind.name,
        seq=built.seq,
        title=built.spec.label,
        pages=pages,
        size=len(pdf),
        sha256=digest,
        replaced=existing is not None,
        pdf=pdf,
    )


def documents_of(store: Store, case_ref: str | int) -> list[dict[str, Any]]:
    """The documents a case has now: each kind and seq, with what is stored for it."""
    with store.read() as conn:
        pid, _number = resolve(conn, case_ref)
        case = C.gather(conn, pid)
    stored = {(d["kind"], d["seq"]): d for d in case.documents}
    return [
        {
            "kind": spec.kind,
            "seq": seq,
            "title": spec.label,
            "legal_basis": spec.legal_basis,
            "status": stored.get((spec.kind, seq), {}).get("status"),
            "pages": stored.get((spec.kind, seq), {}).get("pages"),
        }
        for spec, seq in C.available(case)
    ]


__all__ = [
    "SEAL_BOX",
    "DocumentSigned",
    "Rendered",
    "as_sealed",
    "documents_of",
    "prepare",
    "render",
    "render_document",
]
