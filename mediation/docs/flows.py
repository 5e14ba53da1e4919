"""The generated flow reference: every declared flow with its state diagram (Mermaid), its
states, transitions and deadlines, loaded (and so validated) the way the engine loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mediation.docs.commands import PROG
from mediation.docs.markdown import code, codes, source_note, table

if TYPE_CHECKING:
    from mediation.workflows import Flow


def _destination(flow: Flow, transition: Any) -> str:
    if transition.dest is None:
        return "(unchanged)"
    text = code(transition.dest)
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
        return code(value) if isinstance(value, str) else codes(value)

    state_order = [s.name for s in flow.states]
    return table(
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
                code(d.kind) + (" (duty)" if d.duty else " (window)"),
                d.label,
                d.period.label,
                codes(d.starts_on),
                codes(s for s in state_order if s in d.runs_in),
                *(extra(d, a) for a in extras),
                d.legal_basis,
            )
            for d in flow.deadlines
        ),
    )


def render_flow(flow: Flow, diagram: str) -> str:
    """One flow: a level-2 heading (its anchor is the flow's name), diagram and tables."""
    parts = [f"## {flow.label} (`{flow.name}`)", ""]
    if flow.description:
        parts += [flow.description, ""]
    numbers = f"（年份）<committee code>{flow.case_word}字第N号"
    if flow.court_case_type:
        numbers = (
            f"（年份）<court code>{flow.court_case_type}N号 at a court with a court code"
            f" (`org set-court-code`), else {numbers}"
        )
    parts += [
        f"Legal basis: {flow.legal_basis}. Case numbers read {numbers}; a new case starts in"
        f" `{flow.initial}` ({flow.state_label(flow.initial)}).",
        "",
        "```mermaid",
        diagram.rstrip("\n"),
        "```",
        "",
        f"**States** of `{flow.name}`:",
        "",
        table(
            ("State", "名称", "Final"),
            ((code(s.name), s.label, "final" if s.final else "") for s in flow.states),
        ),
        "",
        f"**Transitions** of `{flow.name}`"
        f" (`{PROG} case advance CASE TRIGGER`; data by `--set KEY=VALUE` or `--data FILE`; any other key is refused):",
        "",
        table(
            ("Trigger", "说明", "From", "To", "Required data", "Optional data", "Legal basis"),
            (
                (
                    code(t.trigger),
                    t.label,
                    codes(t.source),
                    _destination(flow, t),
                    codes(t.requires),
                    codes(t.optional),
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
    return "\n".join(parts)


def render_flows() -> str:
    """An index of the flows, then each flow (diagram and tables)."""
    from mediation.engine.machine import load, mermaid
    from mediation.workflows import flow_names

    flows = [load(name).flow for name in flow_names()]
    parts = [
        source_note("mediation/workflows/"),
        "",
        table(
            ("Flow", "名称", "Legal basis"),
            ((f"[`{f.name}`](#{f.name})", f.label, f.legal_basis) for f in flows),
        ),
    ]
    for flow in flows:
        parts += ["", render_flow(flow, mermaid(flow))]
    return "\n".join(parts)


def _counted_from(rule: Any) -> str:
    """The day a clock counts from, in the words of domain.md §4."""
    from mediation.workflows import AGREEMENT_EFFECTIVE

    starts = [t for t in rule.starts_on if t != "open"]
    parts = []
    if "open" in rule.starts_on:
        parts.append(
            "the day the application (or the court's materials) was received, the intake's"
            " `received_at`"
            if rule.from_receipt
            else "the day the case is opened"
        )
    for trigger in starts:
        if trigger == AGREEMENT_EFFECTIVE:
            parts.append("the day the agreement took effect (the last signature or seal)")
        elif rule.starts_from:
            parts.append(f"the day recorded as `{rule.starts_from}` on `{trigger}`")
        else:
            parts.append(f"the day of `{trigger}`")
    return "; ".join(parts)


def render_clock_starts() -> str:
    """Every clock of every flow and the day it counts from (docs/deadlines.md)."""
    from mediation.workflows import flow_names, get_flow

    rows = []
    for name in flow_names():
        for rule in get_flow(name).deadlines:
            rows.append(
                (
                    code(name),
                    code(rule.kind) + (" (duty)" if rule.duty else " (window)"),
                    rule.period.label,
                    _counted_from(rule),
                    rule.legal_basis,
                )
            )
    return "\n".join(
        [
            source_note("mediation/workflows/ (`DeadlineRule`)"),
            "",
            table(("Flow", "Clock", "Period", "Counted from", "Legal basis"), rows),
        ]
    )
