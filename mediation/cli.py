"""The ``mediation`` command's entry point, :func:`main`.

The app (the root options and the command groups) is built in
:mod:`mediation.commands.root`; :data:`app` here is that app, built on first use.

The bare ``mediation --help`` (and ``mediation`` alone, which prints the same help as a
usage error) is answered from :data:`mediation.commands.root_help.ROOT_HELP`, the text
typer prints, stored by ``python -m mediation.docs --write`` and checked by
``--check``: importing typer and building the command tree would take longer than the
0.1 s the help may take. Every other command line, and the help whenever typer would
print it differently (a narrower terminal, an output stream not in UTF-8, shell
completion), goes through typer.
"""

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

    app: typer.Typer

#: Click lays out help for ``min(columns, 80) - 2`` characters; the stored help is laid
#: out for a terminal of 80 columns or more.
STORED_HELP_COLUMNS = 80


def _stored_help(stream: Any) -> str | None:
    """The root help as typer would print it to ``stream`` now, if it is the stored one."""
    import shutil

    if stream is None or "_MEDIATION_COMPLETE" in os.environ:
        return None
    from mediation.i18n import language_from_env

    if language_from_env() != "zh":
        return None  # the stored help is the Chinese one
    encoding = (getattr(stream, "encoding", None) or "").replace("_", "-").lower()
    if encoding not in ("utf-8", "utf8"):
        return None
    if shutil.get_terminal_size().columns < STORED_HELP_COLUMNS:
        return None
    from mediation.commands.root_help import ROOT_HELP

    return ROOT_HELP


def main() -> None:
    """Console-script entry point: run the command line in :data:`sys.argv`."""
    argv = sys.argv[1:]
    if "--lang" in argv or any(a.startswith("--lang=") for a in argv):
        from mediation.i18n import choose_from_argv

        choose_from_argv(argv)  # before the command modules (and their help) are imported
    if argv in ([], ["--help"]):
        # (with --lang, or in English, typer prints it: the stored help is the Chinese one)
        # `mediation --help` prints to stdout and succeeds; `mediation` alone is a usage
        # error (exit 2) that prints the same help to stderr.
        stream = sys.stdout if argv else sys.stderr
        text = _stored_help(stream)
        if text is not None:
            try:
                stream.write(text)
                stream.flush()
            except BrokenPipeError:
                # As click does (`mediation --help | head -1`): exit 1 without a traceback,
                # and without the interpreter's failing flush at exit.
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
                raise SystemExit(1) from None
            if not argv:
                raise SystemExit(2)
            return
    from mediation.commands import _collector

    _collector.pause()  # while the command starts (_collector)
    try:
        from mediation.commands.root import run

        run()
    finally:
        _collector.restore()


def __getattr__(name: str) -> Any:
    if name == "app":
        from mediation.commands.root import full_app

        return full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
