"""What a document says: the template context of one document of one case.

:func:`build` checks that the case has the document (its flow declares it and the case
has reached it), builds its context with the kind's builder (:mod:`.forms`,
:mod:`.outcomes`), checks that every character can be printed, and returns the context
with the list of what is missing; :mod:`mediation.documents.service` refuses to render a
document with problems. :mod:`mediation.documents.kinds` documents every context field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mediation.documents import court, forms, outcomes
from mediation.documents import kinds as K
from mediation.documents.casefile import (
    CaseFile,
    DocumentIncomplete,
    DocumentNotAvailable,
    Need,
    available,
    cn_number,
    excluded,
    gather,
    now_available,
    occurrences,
    reached,
    spec_of,
)
from mediation.domain.clock import BUSINESS_TZ
from mediation.errors import FieldProblem, MediationError, UsageError
from mediation.i18n import _
from mediation.workflows import DocumentSpec

__all__ = [
    "Built",
    "CaseFile",
    "DocumentIncomplete",
    "DocumentNotAvailable",
    "available",
    "build",
    "cn_number",
    "gather",
    "sealed_contents",
    "strings",
]


@dataclass
class Built:
    """One document's context, or the problems that stop it."""

    spec: DocumentSpec
    kind: K.Kind
    seq: int
    context: dict[str, Any]
    problems: list[FieldProblem]


_BUILDERS: dict[str, Callable[[CaseFile, int, Need], dict[str, Any]]] = {
    **forms.BUILDERS,
    **outcomes.BUILDERS,
    **court.BUILDERS,
}


def build(case: CaseFile, kind: str, seq: int, *, now: datetime) -> Built:
    """The context of document ``kind`` no. ``seq`` of ``case``, with its problems.

    :raises UsageError: for an unknown kind.
    :raises DocumentNotAvailable: when the flow has no such document, or the case has not
        reached it (or has no ``seq``-th one).
    """
    if kind not in K.KINDS:
        raise UsageError(
            _("没有文书种类 {kind}").format(kind=repr(kind)),
            hint="kinds: " + ", ".join(K.KINDS),
        )
    spec = spec_of(case, kind)
    if not reached(case, spec):
        after = "、".join(case.flow.state_label(s) for s in spec.after)
        raise DocumentNotAvailable(
            f"{case.case_number} 尚未到达「{after}」，还没有{spec.label}",
            hint=_("案件现为「{state}」；现在可以生成的文书：{kinds}").format(
                state=case.flow.state_label(case.proceeding["state"]), kinds=now_available(case)
            ),
        )
    never = excluded(case, kind)
    if never:
        raise DocumentNotAvailable(
            never, hint=_("现在可生成的文书：{kinds}").format(kinds=now_available(case))
        )
    count = occurrences(case, kind)
    if not 1 <= seq <= count:
        raise DocumentNotAvailable(
            f"{case.case_number} 没有第{seq}份{spec.label}（共 {count} 份）",
            hint=_("请用 --seq 1..{count}").format(count=count)
            if count
            else _("请先登记该文书所记载的步骤"),
        )
    need = Need()
    context = {
        "title": spec.label,
        "case_number": case.case_number,
        "organisation": case.organisation["name"],
        "legal_basis": spec.legal_basis,
        "rendered_at": now.astimezone(BUSINESS_TZ).isoformat(timespec="seconds"),
        "training": case.training,
        **_BUILDERS[kind](case, seq, need),
    }
    from mediation.documents import _fonts

    for path, text in strings(context):
        bad = _fonts.unprintable(text)
        if bad:
            chars = "、".join(f"「{c}」（U+{ord(c):04X}）" for c in bad)
            need.add(
                path,
                f"{chars} 没有任何已安装的字体可以显示",
                _("请安装含该字的字体（fonts-noto-cjk 可覆盖大多数姓名用字），或改登记规范汉字"),
            )
    return Built(spec, K.KINDS[kind], seq, context, need.problems)


def sealed_contents(case: CaseFile) -> dict[tuple[str, int], tuple[str, str]]:
    """What each sealed (signed) document of ``case`` says now: (title, its context as
    text, without the rendering time), by (kind, seq). A correction of the record that
    would change one is refused: a sealed document is final."""
    out = {}
    for row in case.documents:
        if row["status"] != "signed":
            continue
        try:
            context = build(case, row["kind"], row["seq"], now=_EPOCH).context
        except MediationError as exc:
            text = f"{type(exc).__name__}: {exc}"
        else:
            text = repr({k: v for k, v in context.items() if k != "rendered_at"})
        out[(row["kind"], row["seq"])] = (row["title"], text)
    return out


_EPOCH = datetime(2000, 1, 1, tzinfo=BUSINESS_TZ)


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every text in a context, with where it is (``parties[1].name``); images skipped."""
    if isinstance(value, str):
        if not value.startswith("data:"):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from strings(item, f"{path}[{i}]")
