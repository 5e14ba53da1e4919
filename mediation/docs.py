"""The parts of README.md that are generated from the code, and the check that they are current.

Each generated part sits between two markers in README.md::

    <!-- BEGIN GENERATED: commands -->
    ...
    <!-- END GENERATED: commands -->

and is rebuilt from the code it documents: the command tree of :data:`mediation.cli.app`
(with the ``Example:`` line of every command's docstring), :class:`mediation.errors.ExitCode`,
the declared flows, and the intake schema with its code tables. Nothing in here copies a
value from those modules, so the README cannot drift from them unnoticed::

    python -m mediation.docs --check   # exit 1, naming each stale section
    python -m mediation.docs --write   # rewrite the sections in place

Importing this module has no side effects; the documented modules are imported on use.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediation.workflows import Flow

#: The README this module maintains (the repository root, beside ``pyproject.toml``).
README_PATH = Path(__file__).resolve().parent.parent / "README.md"

#: The command users type; examples in docstrings start with it.
PROG = "mediation"

_MARKERS = re.compile(
    r"<!-- BEGIN GENERATED: (?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- END GENERATED: (?P=name) -->",
    re.DOTALL,
)
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_EXAMPLE = re.compile(r"^\s*Example:\s*(?P<example>\S.*?)\s*$", re.MULTILINE)


class DocsError(Exception):
    """The code cannot be documented as it stands (e.g. a command without an example)."""


# -- the command tree -----------------------------------------------------------------


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


def markdown_inline(text: str) -> str:
    """Docstring text as Markdown: reST ``literals`` become `code`."""
    return re.sub(r"``(.+?)``", r"`\1`", text)


def first_paragraph(text: str) -> str:
    """The first paragraph of a docstring, on one line, as Markdown."""
    paragraph = inspect.cleandoc(text or "").split("\n\n", 1)[0]
    return markdown_inline(" ".join(paragraph.split()))


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


# -- Markdown helpers -----------------------------------------------------------------


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _code(value: object) -> str:
    return f"`{value}`" if str(value) else ""


def _codes(values: Iterable[object]) -> str:
    return ", ".join(_code(v) for v in values)


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _source_note(*sources: str) -> str:
    return (
        f"<!-- Generated from {', '.join(sources)} by `python -m mediation.docs --write`;"
        " edit the code, not this text. -->"
    )


# -- sections -------------------------------------------------------------------------


def render_commands() -> str:
    """The command reference: root options, then every command with its example."""
    group = cli_group()
    root_options = []
    for param in group.params:
        opts = getattr(param, "opts", ())
        if not opts or "--help" in opts:
            continue
        envvar = getattr(param, "envvar", None)
        envvars = [envvar] if isinstance(envvar, str) else list(envvar or ())
        root_options.append(
            (
                " / ".join(_code(o) for o in opts),
                _codes(envvars),
                getattr(param, "help", "") or "",
            )
        )
    commands = cli_commands(group)
    parts = [
        _source_note("mediation/cli.py"),
        "",
        f"Options of `{PROG}` itself come before the command"
        f" (`{PROG} --db FILE case list`, not `{PROG} case list --db FILE`):",
        "",
        _table(("Option", "Environment", "Meaning"), root_options),
        "",
        f"Every command takes `--help`. {len(commands)} commands:",
        "",
        _table(
            ("Command", "What it does", "Example"),
            ((_code(c.name), c.help, _code(c.example)) for c in commands),
        ),
    ]
    return "\n".join(parts)


@dataclass(frozen=True)
class ExitCodeDoc:
    value: int
    name: str
    meaning: str


def exit_codes() -> list[ExitCodeDoc]:
    """The members of :class:`~mediation.errors.ExitCode` with their ``#:`` comments.

    A comment may follow the member on its line or stand on the lines just above it
    (Sphinx's ``#:`` convention); a member without one has an empty meaning.
    """
    from mediation.errors import ExitCode

    comments: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(ExitCode).splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        member = re.match(r"(?P<name>[A-Za-z_]\w*)\s*=[^#]*(?:#:?\s*(?P<comment>.*))?$", stripped)
        if member:
            trailing = (member["comment"] or "").strip()
            comments[member["name"]] = markdown_inline(" ".join([*pending, trailing]).strip())
        pending = []
    return [ExitCodeDoc(int(m), m.name, comments.get(m.name, "")) for m in ExitCode]


def render_exit_codes() -> str:
    return "\n".join(
        (
            _source_note("mediation/errors.py (`ExitCode`)"),
            "",
            _table(
                ("Code", "Name", "Meaning"),
                ((e.value, _code(e.name), e.meaning or "—") for e in exit_codes()),
            ),
        )
    )


def _destination(flow: Flow, transition: Any) -> str:
    if transition.dest is None:
        return "(unchanged)"
    text = _code(transition.dest)
    handoff = transition.handoff
    if handoff is not None:
        where = {
            "parent": "at the committee one level up",
            "payload": "at the organisation named in `organisation`",
        }.get(handoff.organisation, f"at `{handoff.organisation}`")
        text += (
            f"; opens a `{handoff.flow}` proceeding {where},"
            f" starting in `{handoff.entry_state}` (event `{handoff.entry_trigger}`)"
        )
    return text


#: Optional clock controls of a deadline rule: attribute → column heading. A column is
#: shown only for a flow where some rule uses it.
_DEADLINE_EXTRAS = {
    "extended_by": "Extended by",
    "paused_by": "Paused by",
    "resumed_by": "Resumed by",
    "on_expiry": "On expiry",
}


def _deadline_table(flow: Flow) -> str:
    extras = [
        attr
        for attr in _DEADLINE_EXTRAS
        if any(getattr(rule, attr, None) for rule in flow.deadlines)
    ]

    def extra(rule: Any, attr: str) -> str:
        value = getattr(rule, attr, None)
        if not value:
            return ""
        return _code(value) if isinstance(value, str) else _codes(value)

    state_order = [s.name for s in flow.states]
    return _table(
        (
            "Kind",
            "名称",
            "Period",
            "Starts on",
            "Runs while in",
            *(_DEADLINE_EXTRAS[a] for a in extras),
            "Legal basis",
        ),
        (
            (
                _code(d.kind) + (" (duty)" if d.duty else " (window)"),
                d.label,
                d.period.label,
                _codes(d.starts_on),
                _codes(s for s in state_order if s in d.runs_in),
                *(extra(d, a) for a in extras),
                d.legal_basis,
            )
            for d in flow.deadlines
        ),
    )


def _render_flow(flow: Flow, diagram: str) -> str:
    parts = [
        f"### {flow.label} (`{flow.name}`)",
        "",
    ]
    if flow.description:
        parts += [flow.description, ""]
    parts += [
        f"Legal basis: {flow.legal_basis}. Case numbers read"
        f" （年份）<committee code>{flow.case_word}字第N号; a new case starts in"
        f" `{flow.initial}` ({flow.state_label(flow.initial)}).",
        "",
        f"**States** of `{flow.name}`:",
        "",
        _table(
            ("State", "名称", "Final"),
            ((_code(s.name), s.label, "final" if s.final else "") for s in flow.states),
        ),
        "",
        f"**Transitions** of `{flow.name}`"
        f" (`{PROG} case advance CASE TRIGGER`; required data by `--set KEY=VALUE` or `--data FILE`):",
        "",
        _table(
            ("Trigger", "说明", "From", "To", "Required data", "Legal basis"),
            (
                (
                    _code(t.trigger),
                    t.label,
                    _codes(t.source),
                    _destination(flow, t),
                    _codes(t.requires),
                    t.legal_basis,
                )
                for t in flow.transitions
            ),
        ),
    ]
    if flow.deadlines:
        parts += [
            "",
            f"**Deadlines** of `{flow.name}` (a *duty* binds the committee and is reported"
            " when overdue; a *window* is the parties' time to act):",
            "",
            _deadline_table(flow),
        ]
    parts += [
        "",
        "<details><summary>State diagram (Mermaid)</summary>",
        "",
        "```mermaid",
        diagram.rstrip("\n"),
        "```",
        "",
        "</details>",
    ]
    return "\n".join(parts)


def render_flows() -> str:
    """Every declared flow, loaded (and so validated) the way the engine loads it."""
    from mediation.engine.machine import load, mermaid
    from mediation.workflows import flow_names

    parts = [_source_note("mediation/workflows/")]
    for name in flow_names():
        flow = load(name).flow
        parts += ["", _render_flow(flow, mermaid(flow))]
    return "\n".join(parts)


def _required(record: type, fields: Mapping[str, str]) -> dict[str, bool]:
    """Which fields the validated record cannot do without (no default in its dataclass)."""
    defaults = {
        f.name: f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        for f in dataclasses.fields(record)
    }
    return {name: defaults.get(name, False) for name in fields}


def _field_table(record: type, fields: Mapping[str, str]) -> str:
    required = _required(record, fields)
    return _table(
        ("Field", "Required", "Description"),
        ((_code(k), "yes" if required[k] else "", v) for k, v in fields.items()),
    )


def _code_list(table: Mapping[str, str]) -> str:
    return ", ".join(f"`{code}` {label}" for code, label in table.items())


def render_intake_fields() -> str:
    """The intake schema and the code tables its fields accept."""
    from mediation.domain import taxonomy
    from mediation.domain.intake import DISPUTE_FIELDS, PARTY_FIELDS, Intake, PartyRecord

    parts = [
        _source_note("mediation/domain/intake.py", "mediation/domain/taxonomy.py"),
        "",
        "**The dispute** (top level of the file):",
        "",
        _field_table(Intake, DISPUTE_FIELDS),
        "",
        "**Each party** (`[[parties]]` in TOML, a list of objects in JSON):",
        "",
        _field_table(PartyRecord, PARTY_FIELDS),
        "",
        "**`dispute_type`** (纠纷类型):",
        "",
        _table(
            ("Code", "标签"),
            ((_code(k), v) for k, v in taxonomy.DISPUTE_TYPES.items()),
        ),
        "",
        "**`channel`** (来源; *referral* channels require `referring_organ` and `referral_ref`):",
        "",
        _table(
            ("Code", "标签", "统计分组", "Referral"),
            (
                (
                    _code(k),
                    v,
                    taxonomy.CHANNEL_GROUPS.get(k, ""),
                    "referral" if k in taxonomy.REFERRAL_CHANNELS else "",
                )
                for k, v in taxonomy.CHANNELS.items()
            ),
        ),
        "",
        "**`application_mode`** (申请方式):",
        "",
        _table(
            ("Code", "标签"),
            ((_code(k), v) for k, v in taxonomy.APPLICATION_MODES.items()),
        ),
        "",
        "**Party `role`** (当事人地位):",
        "",
        _table(("Code", "标签"), ((_code(k), v) for k, v in taxonomy.PARTY_ROLES.items())),
        "",
        "Other coded fields: `risk_level` " + _code_list(taxonomy.RISK_LEVELS) + ";"
        " party `kind` " + _code_list(taxonomy.PARTY_KINDS) + ";"
        " `gender` " + _code_list(taxonomy.GENDERS) + ";"
        " `id_type` " + _code_list(taxonomy.ID_TYPES) + ".",
    ]
    return "\n".join(parts)


#: Section name → function building its Markdown (without the markers).
SECTIONS: dict[str, Callable[[], str]] = {
    "commands": render_commands,
    "exit-codes": render_exit_codes,
    "flows": render_flows,
    "intake-fields": render_intake_fields,
    "pg-grants": lambda: _source_note("mediation/storage/pgroles.py") + "\n" + _pg_grants(),
}


def _pg_grants() -> str:
    from mediation.storage.pgroles import readme_example

    return readme_example()


# -- README -----------------------------------------------------------------------------


def generate(names: Iterable[str] | None = None) -> dict[str, str]:
    """The current Markdown of the named sections (all of them by default)."""
    return {name: SECTIONS[name]() for name in (SECTIONS if names is None else names)}


def _found_sections(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _MARKERS.finditer(text):
        name = match["name"]
        if name in found:
            raise DocsError(f"section {name!r} appears twice in the README")
        if name not in SECTIONS:
            raise DocsError(f"the README has an unknown generated section {name!r}")
        found[name] = match["body"]
    return found


def _body(markdown: str) -> str:
    return markdown.rstrip("\n") + "\n"


def stale_sections(text: str, generated: Mapping[str, str] | None = None) -> list[str]:
    """Names of the sections whose text in ``text`` differs from the code (or is missing)."""
    generated = generate() if generated is None else generated
    found = _found_sections(text)
    return [name for name in generated if found.get(name) != _body(generated[name])]


def rewrite(text: str, generated: Mapping[str, str] | None = None) -> str:
    """``text`` with every generated section replaced by its current Markdown.

    :raises DocsError: when a section's markers are missing (there is nowhere to put it).
    """
    generated = generate() if generated is None else generated
    missing = [name for name in generated if name not in _found_sections(text)]
    if missing:
        raise DocsError(
            "no markers for " + ", ".join(missing) + " (add `<!-- BEGIN GENERATED: NAME -->`"
            " and `<!-- END GENERATED: NAME -->` where the section belongs)"
        )

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        body = _body(generated[name]) if name in generated else match["body"]
        return f"<!-- BEGIN GENERATED: {name} -->\n{body}<!-- END GENERATED: {name} -->"

    return _MARKERS.sub(replace, text)


def check(readme: Path = README_PATH) -> list[str]:
    """The stale sections of ``readme`` (empty when it is current)."""
    return stale_sections(readme.read_text(encoding="utf-8"))


def write(readme: Path = README_PATH) -> list[str]:
    """Rewrite the generated sections of ``readme``; return the names of those that changed."""
    text = readme.read_text(encoding="utf-8")
    generated = generate()
    changed = stale_sections(text, generated)
    if changed:
        readme.write_text(rewrite(text, generated), encoding="utf-8")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mediation.docs",
        description="Check or rewrite the generated sections of README.md.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="exit 1 if a section is stale")
    action.add_argument("--write", action="store_true", help="rewrite the sections in place")
    parser.add_argument("--readme", type=Path, default=README_PATH, help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = check(args.readme)
            for name in stale:
                print(f"{args.readme}: section {name!r} is stale", file=sys.stderr)
            if stale:
                print("  → run `.venv/bin/python -m mediation.docs --write`", file=sys.stderr)
                return 1
            print(f"{args.readme}: {len(SECTIONS)} generated sections are current")
            return 0
        changed = write(args.readme)
    except (DocsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.readme}: rewrote " + (", ".join(changed) if changed else "nothing (current)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
