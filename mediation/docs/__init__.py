"""The documentation site's generated parts, and the check that they are current.

The site is ``docs/`` (MkDocs, ``mkdocs.yml`` at the repository root). Most of it is
written by hand; the reference parts are generated from the code they document, each
between two markers in its page (:data:`~mediation.docs.pages.SECTIONS` says which page):
the command tree of :data:`mediation.cli.app` (with the ``Example:`` line of every
command's docstring), :class:`mediation.errors.ExitCode`, the declared flows with their
state diagrams, the intake schema with its code tables, the statistics figures, the
documents each flow declares and the PostgreSQL grants. Beside the pages, the root help
that ``mediation --help`` prints without typer is stored in the package
(:mod:`~mediation.docs.stored_help`). Nothing in here copies a value from those modules, so the
pages and the stored help cannot drift from them unnoticed::

    python -m mediation.docs --check   # exit 1, naming each stale page and section
    python -m mediation.docs --write   # rewrite the sections (and the help) in place

Modules: :mod:`~mediation.docs.commands` (the command tree, parsing examples),
:mod:`~mediation.docs.reference` and :mod:`~mediation.docs.flows` (the sections),
:mod:`~mediation.docs.markdown` (table helpers), :mod:`~mediation.docs.pages` (markers,
check, write, the command line). Importing this package has no side effects; the
documented modules are imported on use.
"""

from mediation.docs.commands import (
    PROG,
    CommandDoc,
    DocsError,
    cli_commands,
    cli_group,
    example_command_path,
)
from mediation.docs.pages import (
    DOCS_DIR,
    README_PATH,
    ROOT,
    SECTIONS,
    check,
    generate,
    main,
    pages,
    rewrite,
    stale_sections,
    write,
)
from mediation.docs.reference import ExitCodeDoc, exit_codes

__all__ = [
    "DOCS_DIR",
    "PROG",
    "README_PATH",
    "ROOT",
    "SECTIONS",
    "CommandDoc",
    "DocsError",
    "ExitCodeDoc",
    "check",
    "cli_commands",
    "cli_group",
    "example_command_path",
    "exit_codes",
    "generate",
    "main",
    "pages",
    "rewrite",
    "stale_sections",
    "write",
]
