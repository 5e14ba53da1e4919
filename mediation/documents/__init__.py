"""The case file as Chinese PDF documents (domain.md §5; 人民调解文书格式, 司法部 2010).

- :mod:`.kinds` — the document set, declared as data, with each template's documented
  context; which documents a flow has is declared by the flow (``DocumentSpec``).
- :mod:`.context` — reading a case and building a document's context; a document whose
  statutory fields are missing is refused with the list of what is missing.
- :mod:`.service` — rendering and storing a document; :mod:`.batch` — many at once.
- ``_pdf`` / ``_fonts`` — WeasyPrint set up once per process with a restricted URL
  fetcher, and the Song-style typeface with a coverage check for rare characters;
  ``_weasy`` — WeasyPrint imported with its native libraries found without the compiler
  (every module that renders a PDF takes WeasyPrint's names from there).

Templates: ``mediation/templates/doc_<kind>.html`` (Jinja2, autoescaped) and
``mediation/templates/assets/doc.css``.
"""

from __future__ import annotations

from mediation.documents.batch import Outcome, plan, render_all
from mediation.documents.context import DocumentIncomplete, DocumentNotAvailable
from mediation.documents.kinds import KINDS, Kind
from mediation.documents.service import (
    SEAL_BOX,
    DocumentSigned,
    Rendered,
    documents_of,
    render,
    render_document,
)

__all__ = [
    "KINDS",
    "SEAL_BOX",
    "DocumentIncomplete",
    "DocumentNotAvailable",
    "DocumentSigned",
    "Kind",
    "Outcome",
    "Rendered",
    "documents_of",
    "plan",
    "render",
    "render_all",
    "render_document",
]
