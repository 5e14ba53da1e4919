"""Small Markdown builders shared by the generated sections."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Sequence


def markdown_inline(text: str) -> str:
    """Docstring text as Markdown: reST ``literals`` become `code`."""
    return re.sub(r"``(.+?)``", r"`\1`", text)


def first_paragraph(text: str) -> str:
    """The first paragraph of a docstring, on one line, as Markdown."""
    paragraph = inspect.cleandoc(text or "").split("\n\n", 1)[0]
    return markdown_inline(" ".join(paragraph.split()))


def cell(value: object) -> str:
    """``value`` as one table cell: pipes escaped, on one line."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def code(value: object) -> str:
    """``value`` as inline code (nothing for an empty value)."""
    return f"`{value}`" if str(value) else ""


def codes(values: Iterable[object]) -> str:
    """Each value as inline code, separated by commas."""
    return ", ".join(code(v) for v in values)


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def source_note(*sources: str) -> str:
    """The comment opening a generated section: where it comes from, how to refresh it."""
    return (
        f"<!-- Generated from {', '.join(sources)} by `python -m mediation.docs --write`;"
        " edit the code, not this text. -->"
    )
