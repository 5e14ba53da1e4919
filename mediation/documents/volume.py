"""The whole case file (卷宗) bound as one PDF: the cover and the index (卷内目录) first,
then every document of the case in the file's order (domain.md §5;
:data:`mediation.documents.forms.FILE_ORDER`).

:func:`bind` takes each document the case has now: a sealed one as stored (its signed
bytes), any other rendered again from the record as it stands and stored (as
``doc render`` does), so the volume shows the current record and every page in it is a
document kept with the case whose hash is on record. A document that cannot be made
(missing fields) stops the volume before anything is written, with the list of what is
missing. The index numbers the pages from the first page after the cover and the index
(which are not numbered); the PDF's page labels and bookmarks follow the same numbering.
Each volume handed out is recorded as an access event (``doc_casefile``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from datetime import datetime
from typing import Any

from sqlalchemy import select

from mediation.documents import context as C
from mediation.documents import forms
from mediation.documents import kinds as K
from mediation.documents.service import DocumentSigned, pdf_of, render
from mediation.documents.stored import case_number_of, check_recorded
from mediation.errors import FieldProblem
from mediation.storage._tables import document_table
from mediation.storage.audit import append_access
from mediation.storage.refs import resolve
from mediation.storage.store import Store
from mediation.workflows import DocumentSpec

#: The cover's legal basis when the flow does not declare a cover (立卷归档).
COVER_BASIS = "人民调解法 art. 27"


def _contents(case: C.CaseFile) -> list[tuple[DocumentSpec, int]]:
    """The documents the volume holds, in the file's order (the cover is made anew)."""
    made = [(spec, seq) for spec, seq in C.available(case) if spec.kind != "cover"]
    return sorted(made, key=lambda item: (forms.file_order(item[0].kind), item[1]))


def _refuse_incomplete(
    case: C.CaseFile, contents: list[tuple[DocumentSpec, int]], now: Any
) -> None:
    """Every document that would be rendered can be: else nothing is written."""
    signed = {(d["kind"], d["seq"]) for d in case.documents if d["status"] == "signed"}
    problems: list[FieldProblem] = []
    for spec, seq in contents:
        if (spec.kind, seq) in signed:
            continue
        built = C.build(case, spec.kind, seq, now=now)
        what = spec.label + (f"（第{seq}份）" if seq > 1 else "")
        problems.extend(
            FieldProblem(f"{what}：{p.field}", p.problem, p.fix) for p in built.problems
        )
    if problems:
        raise C.DocumentIncomplete(problems, source=f"{case.case_number} 的卷宗")


def bind(store: Store, case_ref: str | int, *, actor: str, now: datetime) -> dict[str, Any]:
    """The case file of a case as one PDF: cover and index, then its documents.

    :raises NotFoundError: for an unknown case.
    :raises DocumentIncomplete: listing, document by document, what is missing (nothing
        is written).
    :raises TamperedError: when a stored document does not have the hash on record.
    """
    with store.read() as conn:
        pid = resolve(conn, case_ref)[0]
        case = C.gather(conn, pid)
    contents = _contents(case)
    _refuse_incomplete(case, contents, now)
    signed = {(d["kind"], d["seq"]) for d in case.documents if d["status"] == "signed"}
    for spec, seq in contents:
        if (spec.kind, seq) not in signed:
            with contextlib.suppress(DocumentSigned):  # sealed meanwhile: that one goes in
                render(store, pid, spec.kind, actor=actor, now=now, seq=seq)
    with store.write() as conn:
        case_number = case_number_of(conn, pid)
        rows = {
            (r.kind, r.seq): r
            for r in conn.execute(
                select(document_table).where(document_table.c.proceeding_id == pid)
            )
        }
        parts = [rows[(spec.kind, seq)] for spec, seq in contents]
        for row in parts:
            check_recorded(conn, pid, case_number, row)
        append_access(
            conn,
            action="doc_casefile",
            actor=actor,
            subject=case_number,
            detail={
                "documents": [
                    {"kind": r.kind, "seq": r.seq, "sha256": r.sha256, "status": r.status}
                    for r in parts
                ]
            },
            now=now,
        )
        case = C.gather(conn, pid)
    return _assemble(case, parts, now=now)


def _assemble(case: C.CaseFile, parts: list[Any], *, now: datetime) -> dict[str, Any]:
    from pypdf import PdfReader, PdfWriter
    from pypdf.constants import PageLabelStyle

    readers = [PdfReader(io.BytesIO(bytes(r.content))) for r in parts]
    documents = [
        {
            "kind": r.kind,
            "seq": r.seq,
            "title": r.title,
            "pages": len(reader.pages),
            "status": r.status,
        }
        for r, reader in zip(parts, readers, strict=True)
    ]
    cover_pdf, cover_pages = pdf_of(_cover(case, documents, now=now))
    index = forms.index_of(case, documents)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cover_pdf)))
    listed = []
    page = cover_pages
    for r, reader, entry in zip(parts, readers, [e for e in index if e["page_no"]], strict=True):
        writer.append(reader, import_outline=False)
        writer.add_outline_item(title=r.title, page_number=page)
        listed.append(
            {
                "no": entry["no"],
                "kind": r.kind,
                "seq": r.seq,
                "title": r.title,
                "date": entry["date"],
                "status": r.status,
                "pages": len(reader.pages),
                "page_no": entry["page_no"],
                "sha256": r.sha256,
            }
        )
        page += len(reader.pages)
    _unsign(writer)
    writer.set_page_label(0, cover_pages - 1, prefix="封面")
    if page > cover_pages:
        writer.set_page_label(cover_pages, page - 1, style=PageLabelStyle.DECIMAL, start=1)
    writer.add_metadata(
        {
            "/Title": f"{case.case_number} 卷宗",
            "/Author": case.organisation["name"],
            "/Creator": "mediation",
        }
    )
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    return {
        "case_number": case.case_number,
        "cover_pages": cover_pages,
        "documents": listed,
        "pages": page,
        "size": len(pdf),
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "content": pdf,
    }


def _unsign(writer: Any) -> None:
    """A sealed document's signature covers its own file, not the volume: the volume keeps
    the seal's picture (as a printable stamp annotation) but not the signature fields,
    which a viewer would report as broken. The sealed file itself comes from ``doc get``."""
    from pypdf.generic import NameObject, NumberObject

    root = writer._root_object
    if "/AcroForm" in root:
        del root["/AcroForm"]
    for page in writer.pages:
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            if annot.get("/FT") != "/Sig":
                continue
            for key in ("/FT", "/V", "/T", "/Ff", "/Lock", "/SV", "/Parent", "/DA"):
                if key in annot:
                    del annot[key]
            annot[NameObject("/Subtype")] = NameObject("/Stamp")
            annot[NameObject("/F")] = NumberObject(4 | 128)  # printed, locked


def _cover(case: C.CaseFile, documents: list[dict[str, Any]], *, now: datetime) -> C.Built:
    """The cover and index of the volume, with the template of the ``cover`` kind."""
    from mediation.domain.clock import BUSINESS_TZ

    kind = K.KINDS["cover"]
    spec = next(
        (s for s in case.flow.documents if s.kind == "cover"),
        DocumentSpec("cover", kind.label, COVER_BASIS, ("archived",)),
    )
    context = {
        "title": spec.label,
        "case_number": case.case_number,
        "organisation": case.organisation["name"],
        "legal_basis": spec.legal_basis,
        "rendered_at": now.astimezone(BUSINESS_TZ).isoformat(timespec="seconds"),
        "training": case.training,
        **forms.cover_fields(case, documents),
    }
    return C.Built(spec, kind, 1, context, [])


__all__ = ["bind"]
