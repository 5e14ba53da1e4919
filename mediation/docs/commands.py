"""The command tree of :data:`mediation.cli.app`, and the check that an example line runs.

Every runnable command's docstring carries an ``Example: mediation ...`` line; the command
reference is built from those, and :func:`example_command_path` parses an example (or a
``$ mediation ...`` line of the docs) with the command's own parser, as a user's shell would.
The CLI is imported on use only.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mediation.docs.markdown import first_paragraph

#: The command users type; examples in docstrings start with it.
PROG = "mediation"

_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_EXAMPLE = re.compile(r"^\s*(?:Example:|示例：)\s*(?P<example>\S.*?)\s*$", re.MULTILINE)


class DocsError(Exception):
    """The code cannot be documented as it stands (e.g. a command without an example)."""


@dataclass(frozen=True)
class CommandDoc:
    """One runnable command: its path under ``mediation``, one-line help and example."""

    path: tuple[str, ...]
    help: str
    example: str

    @property
    def name(self) -> str:
        return " ".join((PROG, *self.path))


def cli_group() -> Any:
    """The click group behind :data:`mediation.cli.app`, read live from the module."""
    import typer.main

    from mediation.cli import app

    return typer.main.get_command(app)


def _is_group(command: Any) -> bool:
    return isinstance(getattr(command, "commands", None), Mapping)


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if _is_group(command):
        for name, sub in command.commands.items():
            if not getattr(sub, "hidden", False):
                yield from _walk(sub, (*path, name))
    else:
        yield path, command


def cli_commands(group: Any = None) -> list[CommandDoc]:
    """Every runnable command of the CLI, in the order the app declares them.

    :raises DocsError: naming every command whose docstring has no ``Example:`` line.
    """
    group = cli_group() if group is None else group
    docs: list[CommandDoc] = []
    lacking: list[str] = []
    for path, command in _walk(group, ()):
        text = command.help or ""
        found = _EXAMPLE.search(text)
        if found is None:
            lacking.append(" ".join((PROG, *path)))
            continue
        docs.append(CommandDoc(path, first_paragraph(text), found["example"]))
    if lacking:
        raise DocsError(
            "commands without an `Example:` line in their docstring: " + ", ".join(lacking)
        )
    return docs


def _option_takes_value(param: Any) -> bool:
    return not (getattr(param, "is_flag", False) or getattr(param, "count", False))


def example_command_path(
    example: str, group: Any = None, *, parse_arguments: bool = True
) -> tuple[str, ...]:
    """The command path an example line runs, checked against the real parser.

    Leading environment assignments (``MEDIATION_NOW=... mediation ...``) and the options
    of the groups (``--db``, ``--as``) are skipped with their values; the rest of
    the line is parsed by the command itself, so an unknown option, a missing argument or
    a bad value fails here just as it would for a user.

    :param parse_arguments: ``False`` only resolves the command path, for lines with
        placeholders such as ``mediation case show CASE --reveal``.
    :raises DocsError: when the line does not start with ``mediation`` or does not parse.
    """
    group = cli_group() if group is None else group
    try:
        words = shlex.split(example)
    except ValueError as exc:
        raise DocsError(f"{example!r}: {exc}") from exc
    while words and _ENV_ASSIGNMENT.match(words[0]):
        words.pop(0)  # `MEDIATION_DB=... mediation ...`: the shell's, not the command's
    if not words or words[0] != PROG:
        raise DocsError(f"{example!r}: an example runs `{PROG}`")
    command, rest = group, words[1:]
    path: tuple[str, ...] = ()
    help_names = {"--help", *group.context_settings.get("help_option_names", ())}
    if help_names & set(rest):
        # `--help` shows help wherever it appears; resolve the path in front of it only.
        rest = rest[: min(rest.index(h) for h in help_names if h in rest)]
        parse_arguments = False
    while _is_group(command):
        options = {
            opt: param
            for param in command.params
            for opt in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ()))
        }
        while rest and rest[0].startswith("-"):
            word = rest.pop(0)
            param = options.get(word.split("=", 1)[0])
            if param is None:
                raise DocsError(f"{example!r}: unknown option {word} before the command")
            if _option_takes_value(param) and "=" not in word:
                if not rest:
                    raise DocsError(f"{example!r}: {word} needs a value")
                rest.pop(0)
        if not rest:
            if not parse_arguments:
                return path
            raise DocsError(f"{example!r}: names no command after `{' '.join((PROG, *path))}`")
        name = rest.pop(0)
        sub = command.commands.get(name)
        if sub is None:
            raise DocsError(f"{example!r}: no command `{' '.join((PROG, *path, name))}`")
        command, path = sub, (*path, name)
    if not parse_arguments:
        return path
    try:
        command.make_context(" ".join((PROG, *path)), list(rest))
    except Exception as exc:  # the parser's own errors: unknown option, missing argument...
        format_message = getattr(exc, "format_message", None)
        message = format_message() if callable(format_message) else str(exc)
        raise DocsError(f"{example!r}: {message}") from exc
    return path
