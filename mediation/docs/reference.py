"""The generated reference sections other than the flows: commands, exit codes, the intake
schema, the statistics figures, the documents each flow declares and the PostgreSQL grants.

Each ``render_*`` function returns a section's Markdown (without its markers), built from
the code it documents; the modules documented are imported on use.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mediation.docs.commands import PROG, cli_commands, cli_group
from mediation.docs.markdown import code, codes, markdown_inline, source_note, table

# -- commands -------------------------------------------------------------------------


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
                " / ".join(code(o) for o in opts),
                codes(envvars),
                getattr(param, "help", "") or "",
            )
        )
    commands = cli_commands(group)
    parts = [
        source_note("the command tree of `mediation.cli.app`"),
        "",
        f"Options of `{PROG}` itself come before the command"
        f" (`{PROG} --db FILE case list`, not `{PROG} case list --db FILE`):",
        "",
        table(("Option", "Environment", "Meaning"), root_options),
        "",
        f"Every command takes `--help`. {len(commands)} commands:",
        "",
        table(
            ("Command", "What it does", "Example"),
            ((code(c.name), c.help, code(c.example)) for c in commands),
        ),
    ]
    return "\n".join(parts)


# -- exit codes -----------------------------------------------------------------------


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
            source_note("mediation/errors.py (`ExitCode`)"),
            "",
            table(
                ("Code", "Name", "Meaning"),
                ((e.value, code(e.name), e.meaning or "—") for e in exit_codes()),
            ),
        )
    )


# -- the intake file ------------------------------------------------------------------


def _required(record: type, fields: Mapping[str, str]) -> dict[str, bool]:
    """Which fields the validated record cannot do without (no default in its dataclass)."""
    defaults = {
        f.name: f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        for f in dataclasses.fields(record)
    }
    return {name: defaults.get(name, False) for name in fields}


def _field_table(record: type, fields: Mapping[str, str]) -> str:
    required = _required(record, fields)
    return table(
        ("Field", "Required", "Description"),
        ((code(k), "yes" if required[k] else "", v) for k, v in fields.items()),
    )


def _code_list(labels: Mapping[str, str]) -> str:
    return ", ".join(f"`{key}` {label}" for key, label in labels.items())


def render_intake_fields() -> str:
    """The intake schema and the code tables its fields accept."""
    from mediation.domain import taxonomy
    from mediation.domain.intake import DISPUTE_FIELDS, PARTY_FIELDS, Intake, PartyRecord

    parts = [
        source_note("mediation/domain/intake.py", "mediation/domain/taxonomy.py"),
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
        table(
            ("Code", "标签"),
            ((code(k), v) for k, v in taxonomy.DISPUTE_TYPES.items()),
        ),
        "",
        "**`channel`** (来源; *referral* channels require `referring_organ` and `referral_ref`):",
        "",
        table(
            ("Code", "标签", "统计分组", "Referral"),
            (
                (
                    code(k),
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
        table(
            ("Code", "标签"),
            ((code(k), v) for k, v in taxonomy.APPLICATION_MODES.items()),
        ),
        "",
        "**Party `role`** (当事人地位):",
        "",
        table(("Code", "标签"), ((code(k), v) for k, v in taxonomy.PARTY_ROLES.items())),
        "",
        "Other coded fields: `risk_level` " + _code_list(taxonomy.RISK_LEVELS) + ";"
        " party `kind` " + _code_list(taxonomy.PARTY_KINDS) + ";"
        " `gender` " + _code_list(taxonomy.GENDERS) + ";"
        " `id_type` " + _code_list(taxonomy.ID_TYPES) + ".",
    ]
    return "\n".join(parts)


# -- statistics -----------------------------------------------------------------------


def render_figures() -> str:
    """Every figure of ``report stats``, in the report's sections, with its definition."""
    from mediation.reporting.stats import FIGURE_BY_KEY, SECTIONS

    parts = [source_note("mediation/reporting/stats/ (`FIGURES`, `SECTIONS`)")]
    for title, keys in SECTIONS:
        figures = [FIGURE_BY_KEY[k] for k in keys]
        parts += [
            "",
            f"**{title}**",
            "",
            table(
                ("指标", "单位", "口径", "依据", "Key (CSV/JSON)"),
                ((f.label, f.unit, f.definition, f.basis, code(f.key)) for f in figures),
            ),
        ]
    return "\n".join(parts)


# -- documents ------------------------------------------------------------------------


def render_flow_documents() -> str:
    """Which documents each flow declares, in the flow's order."""
    from mediation.workflows import flow_names, get_flow

    return "\n".join(
        (
            source_note("mediation/workflows/ (`documents` of each flow)"),
            "",
            table(
                ("Flow", "Documents"),
                (
                    (code(name), codes(d.kind for d in get_flow(name).documents))
                    for name in flow_names()
                ),
            ),
        )
    )


# -- PostgreSQL -----------------------------------------------------------------------


def render_pg_grants() -> str:
    """What ``mediation db grants mediation_app`` prints, for the role in schema public."""
    from mediation.storage.pgroles import grants_sql

    return "\n".join(
        (
            source_note("mediation/storage/pgroles.py"),
            "```sql",
            grants_sql("mediation_app").rstrip("\n"),
            "```",
        )
    )
