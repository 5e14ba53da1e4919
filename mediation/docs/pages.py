"""Where each generated section lives in ``docs/``, and the check that the pages are current.

Each generated section sits between two markers in its page::

    <!-- BEGIN GENERATED: commands -->
    ...
    <!-- END GENERATED: commands -->

The prose around the markers is written by hand; the text between them is rebuilt from
the code by :func:`write` and compared with it by :func:`check`. The command line
(:func:`main`) also checks and rewrites the root help stored in the package
(:mod:`mediation.docs.stored_help`).
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mediation.docs import flows, reference, stored_help, walkthrough
from mediation.docs.commands import DocsError

#: The repository root, beside ``pyproject.toml`` and ``mkdocs.yml``.
ROOT = Path(__file__).resolve().parents[2]
#: The site's pages (``docs_dir`` of ``mkdocs.yml``).
DOCS_DIR = ROOT / "docs"
#: The README: hand-written, links to the pages, holds no generated section.
README_PATH = ROOT / "README.md"

_MARKERS = re.compile(
    r"<!-- BEGIN GENERATED: (?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- END GENERATED: (?P=name) -->",
    re.DOTALL,
)


@dataclass(frozen=True)
class Section:
    """A generated section: the page (relative to ``docs/``) it lives in and its builder."""

    page: str
    render: Callable[[], str]


#: Section name → its page and the function building its Markdown (without the markers).
SECTIONS: dict[str, Section] = {
    "commands": Section("reference/commands.md", reference.render_commands),
    "flows": Section("reference/flows.md", flows.render_flows),
    "intake-fields": Section("reference/intake.md", reference.render_intake_fields),
    "exit-codes": Section("reference/exit-codes.md", reference.render_exit_codes),
    "figures": Section("reference/statistics.md", reference.render_figures),
    "flow-documents": Section("documents.md", reference.render_flow_documents),
    "clock-starts": Section("deadlines.md", flows.render_clock_starts),
    "pg-grants": Section("admin/postgresql.md", reference.render_pg_grants),
    # The transcripts of "A mediator's day", from a run of the day (mediation.docs.walkthrough).
    **{
        block: Section("mediators-day.md", functools.partial(walkthrough.render, block))
        for block in walkthrough.BLOCKS
    },
}


def pages() -> dict[str, list[str]]:
    """Page → the names of the sections it holds, in :data:`SECTIONS` order."""
    found: dict[str, list[str]] = {}
    for name, section in SECTIONS.items():
        found.setdefault(section.page, []).append(name)
    return found


def generate(names: Iterable[str] | None = None) -> dict[str, str]:
    """The current Markdown of the named sections (all of them by default)."""
    return {name: SECTIONS[name].render() for name in (SECTIONS if names is None else names)}


def _found_sections(text: str, page: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _MARKERS.finditer(text):
        name = match["name"]
        if name in found:
            raise DocsError(f"{page}: section {name!r} appears twice")
        if name not in SECTIONS:
            raise DocsError(f"{page}: unknown generated section {name!r}")
        if SECTIONS[name].page != page:
            raise DocsError(f"{page}: section {name!r} belongs in {SECTIONS[name].page}")
        found[name] = match["body"]
    return found


def _body(markdown: str) -> str:
    return markdown.rstrip("\n") + "\n"


def stale_sections(text: str, page: str, generated: Mapping[str, str]) -> list[str]:
    """The sections of ``page`` whose text in ``text`` differs from the code (or is missing)."""
    found = _found_sections(text, page)
    return [
        name
        for name in pages().get(page, ())
        if name in generated and found.get(name) != _body(generated[name])
    ]


def rewrite(text: str, page: str, generated: Mapping[str, str]) -> str:
    """``text`` with every generated section of ``page`` replaced by its current Markdown.

    :raises DocsError: when a section's markers are missing (there is nowhere to put it).
    """
    found = _found_sections(text, page)
    missing = [name for name in pages().get(page, ()) if name in generated and name not in found]
    if missing:
        raise DocsError(
            f"{page}: no markers for " + ", ".join(missing) + " (add"
            " `<!-- BEGIN GENERATED: NAME -->` and `<!-- END GENERATED: NAME -->`"
            " where the section belongs)"
        )

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        body = _body(generated[name]) if name in generated else match["body"]
        return f"<!-- BEGIN GENERATED: {name} -->\n{body}<!-- END GENERATED: {name} -->"

    return _MARKERS.sub(replace, text)


def _read(docs_dir: Path, page: str) -> str:
    path = docs_dir / page
    if not path.is_file():
        raise DocsError(f"{path}: no such page (it holds {', '.join(pages()[page])})")
    return path.read_text(encoding="utf-8")


def check(docs_dir: Path = DOCS_DIR) -> dict[str, list[str]]:
    """Each page with stale (or missing) sections → their names; empty when all are current."""
    generated = generate()
    stale: dict[str, list[str]] = {}
    for page in pages():
        path = docs_dir / page
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        names = stale_sections(text, page, generated)
        if names:
            stale[page] = names
    return stale


def write(docs_dir: Path = DOCS_DIR) -> dict[str, list[str]]:
    """Rewrite the generated sections of every page; return the sections that changed.

    Every page is checked before any is written, so a page without its markers leaves
    all of them as they were.
    """
    generated = generate()
    texts = {page: _read(docs_dir, page) for page in pages()}
    rewritten = {page: rewrite(text, page, generated) for page, text in texts.items()}
    changed: dict[str, list[str]] = {}
    for page, text in texts.items():
        names = stale_sections(text, page, generated)
        if names:
            (docs_dir / page).write_text(rewritten[page], encoding="utf-8")
            changed[page] = names
    return changed


def _describe(found: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{page} ({', '.join(names)})" for page, names in found.items())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mediation.docs",
        description="Check or rewrite the generated sections of the docs/ pages.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--check", action="store_true", help="exit 1 if a page or the stored help is stale"
    )
    action.add_argument(
        "--write", action="store_true", help="rewrite the sections and the stored help in place"
    )
    parser.add_argument(
        "--docs-dir", type=Path, default=DOCS_DIR, help="the pages (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    docs_dir: Path = args.docs_dir
    try:
        if args.check:
            stale = check(docs_dir)
            for page, names in stale.items():
                sections = ", ".join(repr(n) for n in names)
                print(f"{docs_dir / page}: stale section {sections}", file=sys.stderr)
            stale_help = stored_help.help_is_stale()
            if stale_help:
                print(f"{stored_help.HELP_MODULE}: stale stored help", file=sys.stderr)
            if stale or stale_help:
                print("  → run `.venv/bin/python -m mediation.docs --write`", file=sys.stderr)
                return 1
            print(
                f"{docs_dir}: {len(SECTIONS)} generated sections in {len(pages())} pages are current"
                f"; {stored_help.HELP_MODULE.name}: the stored help is current"
            )
            return 0
        changed = write(docs_dir)
        rewrote_help = stored_help.write_help()
    except (DocsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{docs_dir}: rewrote " + (_describe(changed) if changed else "nothing (current)"))
    if rewrote_help:
        print(f"{stored_help.HELP_MODULE}: rewrote the stored help")
    return 0
