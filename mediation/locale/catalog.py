"""Build and check the translation catalogs (a developer's tool: it needs Babel, a dev
dependency; the running program reads the compiled ``.mo`` with the standard library).

``python -m mediation.locale.catalog --write`` extracts every string wrapped in ``_()``,
``N_()`` or ``ngettext()`` under ``mediation/``, updates each language's ``mediation.po``
(new strings added untranslated, vanished ones dropped, translations kept) and compiles it
to ``mediation.mo``. ``--check`` writes nothing and exits 1 when a ``.po`` is stale against
the sources or a ``.mo`` against its ``.po`` (tests/commands/test_language.py runs it).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from mediation.i18n import DOMAIN, LANGUAGES
from mediation.i18n import LOCALE_DIR as _LOCALE_DIR

LOCALE_DIR = Path(_LOCALE_DIR)

SOURCE_DIR = LOCALE_DIR.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
METHOD_MAP = [("**.py", "python")]


def extracted() -> Catalog:
    """Every marked string of the sources, with where it occurs (file paths only)."""
    template = Catalog(domain=DOMAIN, locale="zh", project="mediation")
    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(SOURCE_DIR), METHOD_MAP, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if filename.startswith("locale/"):
            continue
        template.add(message, locations=[(f"mediation/{filename}", 0)], context=context)
    return template


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read(path: Path, lang: str) -> Catalog:
    if not path.exists():
        return Catalog(domain=DOMAIN, locale=lang, project="mediation")
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def updated_po(lang: str, template: Catalog) -> bytes:
    """The ``.po`` of ``lang`` brought up to date with ``template``."""
    catalog = _read(po_path(lang), lang)
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    catalog.obsolete.clear()
    out = io.BytesIO()
    write_po(out, catalog, width=100, sort_output=True, include_lineno=False, ignore_obsolete=True)
    return out.getvalue()


def compiled_mo(po: bytes, lang: str) -> bytes:
    """The ``.mo`` compiled from the ``.po`` text ``po``."""
    catalog = read_po(io.BytesIO(po), locale=lang, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def _msgids(po: bytes, lang: str) -> set[object]:
    catalog = read_po(io.BytesIO(po), locale=lang, domain=DOMAIN)
    return {m.id for m in catalog if m.id}


def problems() -> list[str]:
    """What is stale, one line each (empty when every catalog is current)."""
    template = extracted()
    found = []
    for lang in LANGUAGES[1:]:
        path = po_path(lang)
        current = path.read_bytes() if path.exists() else b""
        wanted = updated_po(lang, template)
        if _msgids(current, lang) != _msgids(wanted, lang):
            found.append(f"{path} is stale against the sources")
        mo = path.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled_mo(current, lang):
            found.append(f"{mo} is stale against {path.name}")
    return found


def untranslated(lang: str = "en") -> list[str]:
    """The strings of ``lang``'s catalog not yet translated."""
    catalog = _read(po_path(lang), lang)
    return [str(m.id) for m in catalog if m.id and not m.string]


def write() -> None:
    template = extracted()
    for lang in LANGUAGES[1:]:
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        po = updated_po(lang, template)
        path.write_bytes(po)
        path.with_suffix(".mo").write_bytes(compiled_mo(po, lang))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mediation.locale.catalog")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="update the .po and .mo files")
    action.add_argument("--check", action="store_true", help="exit 1 when one is stale")
    action.add_argument("--untranslated", action="store_true", help="list English gaps")
    args = parser.parse_args(argv)
    if args.write:
        write()
        return 0
    if args.untranslated:
        for message in untranslated():
            print(message)
        return 0
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print("run: python -m mediation.locale.catalog --write", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
