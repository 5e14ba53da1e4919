"""What ``case advance`` is given, read as the flow declares it: the trigger by its name
or by the label the system shows (``受理`` for ``accept``), the data fields the trigger's
step accepts (``Transition.requires`` and ``.optional``) and nothing else, and each
coded value (``kind=调查``) by its code or its label (:data:`taxonomy.CHOICE_FIELDS`).

Anything else is invalid input (:class:`ValidationError`, exit 3) with a did-you-mean,
before the case is touched: a mistyped field name would otherwise be stored unread and
the document that needs it refused later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mediation.domain import taxonomy
from mediation.errors import FieldProblem, ValidationError
from mediation.workflows import Flow


def trigger_named(flow: Flow, state: str, text: str) -> str:
    """The trigger ``text`` names in ``flow``: itself, or the trigger whose label it is
    (the one allowed in ``state`` when labels repeat). Unknown text is returned as given:
    the engine says which triggers the state allows."""
    text = text.strip()
    if any(t.trigger == text for t in flow.transitions):
        return text
    labelled = [t for t in flow.transitions if t.label == text]
    for candidates in ([t for t in labelled if state in t.source], labelled):
        names = {t.trigger for t in candidates}
        if len(names) == 1:
            return names.pop()
    return text


def checked_payload(
    flow: Flow, trigger: str, payload: Mapping[str, Any], *, source: str | None = None
) -> dict[str, Any]:
    """``payload`` with labels of coded fields turned into their codes.

    :param source: what the problems are reported for (default ``case advance TRIGGER``).

    :raises ValidationError: (exit 3) naming each field the trigger's step does not
        accept (with the likely one meant) and each coded value that is neither a code nor
        a label.
    """
    fields = flow.fields_of(trigger)
    if not fields and not any(t.trigger == trigger for t in flow.transitions):
        return dict(payload)  # not this flow's trigger: the engine refuses it (exit 5)
    problems: list[FieldProblem] = []
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key not in fields:
            near = taxonomy.closest(key, fields)
            accepted = "、".join(fields) or "（该操作不需要数据）"
            fix = f"是否应为 {near!r}？" if near else f"{trigger} 可填写的字段：{accepted}"
            problems.append(FieldProblem(f"--set {key}", f"{trigger} 没有这个字段", fix))
            continue
        table = taxonomy.CHOICE_FIELDS.get(key)
        if table is not None and isinstance(value, str) and value.strip():
            code = taxonomy.code_of(table, value)
            if code is None:
                near = taxonomy.closest(value, [*table, *table.values()])
                options = taxonomy.choices(table)
                fix = f"是否应为 {near!r}？可选：{options}" if near else f"可选：{options}"
                problems.append(FieldProblem(f"--set {key}", f"未知取值 {value!r}", fix))
                continue
            value = code
        out[key] = value
    if problems:
        raise ValidationError(problems, source=source or f"case advance {trigger}")
    return out
