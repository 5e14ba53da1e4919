"""Asking in a terminal: the shared prompt (:func:`ask`), the intake of ``case open``
without a file (:func:`ask_intake`), and the data a step's documents will need
(:func:`complete_step` for ``case advance``).

Every answer is checked as it is typed, with the same rules as an intake file
(:mod:`mediation.domain.intake`) or the step's data, and asked again when wrong. Ctrl-C
or Ctrl-D at any prompt ends the command with 「已取消」 on stderr and exit status 130
(what a shell reports for an interrupted command), nothing written.
"""

import sys
from collections.abc import Callable, Mapping
from typing import Any

import typer

#: The exit status of a command the user cancelled at a prompt (128 + SIGINT).
CANCELLED = 130

#: A check of one answer: the value to keep, or a problem to show before asking again.
Check = Callable[[str], tuple[Any, str | None]]


def cancelled() -> typer.Exit:
    """Say 「已取消」 on stderr; the exit (130) to raise."""
    typer.echo("已取消", err=True)
    return typer.Exit(CANCELLED)


def interactive() -> bool:
    """Whether someone can answer: stdin is a terminal."""
    return sys.stdin.isatty()


def ask(
    question: str,
    *,
    default: str | None = None,
    required: bool = True,
    check: Check | None = None,
) -> Any:
    """Ask ``question`` until the answer passes ``check``; an empty answer is the
    ``default``, or (not ``required``) None.

    :raises typer.Exit: (130, 「已取消」) on Ctrl-C or Ctrl-D.
    """
    while True:
        try:
            answer = typer.prompt(
                question,
                default=default if default is not None else ("" if not required else None),
                show_default=bool(default),
            )
        except typer.Abort:
            raise cancelled() from None
        text = str(answer).strip()
        if not text:
            if required:
                typer.echo("  此项必填，请输入", err=True)
                continue
            return None
        if check is None:
            return text
        value, problem = check(text)
        if problem is None:
            return value
        typer.echo(f"  {problem}，请重新输入", err=True)


def _choice(table: Mapping[str, str], *, extra: Mapping[str, str] | None = None) -> Check:
    """A code of ``table`` given as the code or its label, with a did-you-mean."""
    from mediation.domain import taxonomy

    def check(text: str) -> tuple[Any, str | None]:
        code = taxonomy.code_of(table, text)
        if code is not None:
            return code, None
        near = taxonomy.closest(text, [*table, *table.values()])
        hint = f"是否应为 {near}？" if near else f"可选：{taxonomy.choices(table)}"
        return None, f"没有 {text!r} 这一项（{hint}）"

    return check


def _ask_choice(question: str, table: Mapping[str, str], default: str | None = None) -> Any:
    from mediation.domain import taxonomy

    typer.echo(f"{question} 可选：{taxonomy.choices(table)}")
    return ask(question, default=default, check=_choice(table))


# -- case open ------------------------------------------------------------------------

#: The intake's coded fields and their tables (mediation.domain.taxonomy).
_DISPUTE_CHOICES = {
    "dispute_type": "DISPUTE_TYPES",
    "channel": "CHANNELS",
    "application_mode": "APPLICATION_MODES",
    "risk_level": "RISK_LEVELS",
}
_PARTY_CHOICES = {
    "role": "PARTY_ROLES",
    "kind": "PARTY_KINDS",
    "gender": "GENDERS",
    "id_type": "ID_TYPES",
}
#: Defaults of the intake (mediation.domain.intake.Intake), offered at the prompt.
_DEFAULTS = {"flow": "peoples", "application_mode": "written", "risk_level": "green"}
#: Asked only for a natural person, or only for an organisation.
_PERSON_ONLY = {"gender", "ethnicity", "birth_date", "occupation"}
_ORGANISATION_ONLY = {"legal_representative"}
#: The parties a dispute needs (mediation.domain.intake.validate); more may be added.
_FIRST_ROLES = ("applicant", "respondent")
#: A party that passes every check, standing in for those not asked yet while one
#: dispute field is checked.
_STAND_IN = ({"role": "applicant", "name": "甲"}, {"role": "respondent", "name": "乙"})


#: What a coded field is called at its prompt (the schema describes it by its codes).
_CHOICE_NAMES = {
    "flow": "流程",
    "application_mode": "申请方式",
    "risk_level": "风险等级",
    "role": "身份",
    "kind": "类型",
    "gender": "性别",
}


def _question(key: str, description: str) -> str:
    return f"{_CHOICE_NAMES.get(key, description)} [{key}]"


def _dispute_check(answers: dict[str, Any], key: str) -> Check:
    """Check one dispute field through the intake's own validation of the record so far."""

    def check(text: str) -> tuple[Any, str | None]:
        problem = _intake_problem({**answers, key: text}, key)
        return text, problem

    return check


def _intake_problem(record: dict[str, Any], key: str) -> str | None:
    from mediation.domain import intake
    from mediation.errors import ValidationError

    try:
        intake.validate({**record, "parties": list(_STAND_IN)}, source="输入")
    except ValidationError as exc:
        for p in exc.problems:
            if p.field == key:
                return f"{p.problem}（{p.fix}）"
    return None


def _party_check(party: dict[str, Any], key: str) -> Check:
    """Check one party field through the intake's own validation of the party so far."""
    from mediation.domain import intake

    def check(text: str) -> tuple[Any, str | None]:
        problems, _ = intake.party_problems_and_record({**party, key: text})
        for p in problems:
            if p.field == f"parties[0].{key}":
                return text, f"{p.problem}（{p.fix}）"
        return text, None

    return check


def _organisation_check(organisations: list[dict[str, Any]]) -> Check:
    from mediation.domain import taxonomy

    working = {o["code"]: o for o in organisations if not o.get("retired_at")}
    by_name = {o["name"]: o["code"] for o in working.values()}

    def check(text: str) -> tuple[Any, str | None]:
        if text in working:
            return text, None
        if text in by_name:
            return by_name[text], None
        retired = next((o for o in organisations if o["code"] == text), None)
        if retired is not None:
            return None, f"调委会 {text} 已撤销，不能受理新案件"
        near = taxonomy.closest(text, [*working, *by_name])
        near = by_name.get(near, near) if near else None
        hint = f"是否应为 {near}？" if near else "`mediation org list` 列出全部代码"
        return None, f"没有代码为 {text!r} 的调委会（{hint}）"

    return check


def _ask_party(role: str) -> dict[str, Any]:
    """One party: every field of the intake's party schema that applies to its kind."""
    from mediation.domain import intake, taxonomy
    from mediation.domain.personal import birth_date_of

    label = taxonomy.PARTY_ROLES[role]
    typer.echo(f"— {label} —")
    party: dict[str, Any] = {"role": role}
    # The ID number before the birth date: a resident ID gives the birth date.
    order = [k for k in intake.PARTY_FIELDS if k not in ("role", "birth_date")]
    order.insert(order.index("id_number") + 1, "birth_date")
    for key in order:
        kind = party.get("kind", "person")
        if (key in _PERSON_ONLY and kind != "person") or (
            key in _ORGANISATION_ONLY and kind != "organisation"
        ):
            continue
        if key == "id_type":
            continue  # resident ID for a person, USCC for an organisation (intake's default)
        if key == "birth_date" and party.get("id_number") and kind == "person":
            try:
                party["birth_date"] = birth_date_of(str(party["id_number"]).upper()).isoformat()
            except ValueError:
                pass
            else:
                continue
        question = f"{label}{_question(key, intake.PARTY_FIELDS[key])}"
        if key in _PARTY_CHOICES:
            table = getattr(taxonomy, _PARTY_CHOICES[key])
            typer.echo(f"{question} 可选：{taxonomy.choices(table)}")
            default = "person" if key == "kind" else None
            value = ask(
                question,
                default=default,
                required=key == "kind",
                check=_choice(table),
            )
        else:
            required = key == "name" or (key == "legal_representative")
            value = ask(question, required=required, check=_party_check(party, key))
        if value is not None:
            party[key] = value
    return party


def ask_intake(organisations: list[dict[str, Any]]) -> dict[str, Any]:
    """The intake record, asked field by field in the order of the intake schema
    (:data:`mediation.domain.intake.DISPUTE_FIELDS`, :data:`~.PARTY_FIELDS`): the flow, the
    committee (did-you-mean on a mistyped code), the coded fields by code or label, the
    referral fields a referring channel needs, then the applicant, the respondent and any
    further parties (third parties). ``organisations`` as ``api.organisations()`` lists
    them.

    :raises typer.Exit: (130) when the user cancels.
    """
    from mediation.domain import intake, taxonomy
    from mediation.workflows import flow_names, get_flow

    flows = {name: get_flow(name).label for name in flow_names()}
    answers: dict[str, Any] = {}
    for key, description in intake.DISPUTE_FIELDS.items():
        question = _question(key, description)
        if key == "parties":
            continue
        if key == "flow":
            typer.echo(f"{question} 可选：{taxonomy.choices(flows)}")
            value = ask(question, default=_DEFAULTS["flow"], check=_choice(flows))
        elif key == "organisation":
            value = ask(question, check=_organisation_check(organisations))
        elif key in _DISPUTE_CHOICES:
            table = getattr(taxonomy, _DISPUTE_CHOICES[key])
            value = _ask_choice(question, table, _DEFAULTS.get(key))
        elif key in ("referring_organ", "referral_ref"):
            if answers.get("channel") not in taxonomy.REFERRAL_CHANNELS:
                continue
            value = ask(question, check=_dispute_check(answers, key))
        else:
            value = ask(question, required=key == "title", check=_dispute_check(answers, key))
        if value is not None:
            answers[key] = value
    parties = [_ask_party(role) for role in _FIRST_ROLES]
    more = {**taxonomy.PARTY_ROLES}
    while True:
        typer.echo(f"再添加当事人？输入其身份（{taxonomy.choices(more)}），直接回车结束")
        role = ask("当事人身份 [role]", required=False, check=_choice(more))
        if role is None:
            break
        parties.append(_ask_party(role))
    answers["parties"] = parties
    return answers


# -- case next and case advance -------------------------------------------------------


def step_fields(step: Mapping[str, Any]) -> list[str]:
    """A step's data fields as ``case next`` shows them (``step`` one of its entries):
    the required ones, those its documents must state (naming the documents), the other
    optional ones; each as 「label（name）」."""
    from mediation.domain import taxonomy

    def named(fields: list[dict[str, Any]]) -> str:
        return "、".join(f"{f['label']}（{f['name']}）" for f in fields)

    required = [f for f in step["fields"] if f["required"]]
    for_documents = [f for f in step["fields"] if not f["required"] and f["documents"]]
    other = [f for f in step["fields"] if not f["required"] and not f["documents"]]
    lines = []
    if required:
        lines.append(f"  必填：{named(required)}")
    for doc in step["documents"]:
        fields = [f for f in for_documents if doc["kind"] in f["documents"]]
        if fields:
            when = "、".join(
                taxonomy.label(taxonomy.CHOICE_FIELDS.get(k, {}), v) for k, v in doc["when"].items()
            )
            lines.append(
                f"  {doc['label']}{f'（记录{when}时）' if when else ''}须载明：{named(fields)}"
            )
    if other:
        lines.append(f"  可选：{named(other)}")
    return lines or ["  （不需要数据）"]


def _matches(when: Mapping[str, str], payload: Mapping[str, Any]) -> bool:
    """Whether the step's data is recorded with ``when``'s values (codes or labels)."""
    from mediation.domain import taxonomy

    for key, code in when.items():
        value = payload.get(key)
        table = taxonomy.CHOICE_FIELDS.get(key)
        if isinstance(value, str) and table is not None:
            value = taxonomy.code_of(table, value) or value
        if value != code:
            return False
    return True


def missing_for_documents(
    step: Mapping[str, Any], payload: Mapping[str, Any]
) -> dict[str, list[str]]:
    """Field → the labels of the documents that cannot be printed without it, for each
    field ``payload`` leaves out of what ``step`` (an entry of ``case next``) documents
    need."""
    missing: dict[str, list[str]] = {}
    for doc in step.get("documents", ()):
        if not _matches(doc.get("when", {}), payload):
            continue
        for field in doc["fields"]:
            if not str(payload.get(field) or "").strip():
                missing.setdefault(field, []).append(doc["label"])
    return missing


def _step_of(api: Any, case: str, trigger: str) -> dict[str, Any] | None:
    """``trigger`` (its name or label) among those the case allows now, or None."""
    allowed = api.next_triggers(case).next
    return next((n for n in allowed if trigger.strip() in (n["trigger"], n["label"])), None)


def complete_step(api: Any, case: str, trigger: str, payload: dict[str, Any]) -> None:
    """Before ``case advance``, in a terminal only: ask for the required fields left out
    and for those the step's documents need (Enter leaves one out); ``payload`` is
    completed in place. (Without a terminal nothing is read here: the step is checked
    once, by the engine, and :func:`document_warnings` speaks afterwards.)

    :raises typer.Exit: (130) when the user cancels.
    """
    from mediation.domain import taxonomy

    if not interactive():
        return
    step = _step_of(api, case, trigger)
    if step is None:
        return  # not allowed now: the engine says why
    labels = {f["name"]: f["label"] for f in step["fields"]}
    for key in step["requires"]:
        if not str(payload.get(key) or "").strip():
            question = f"{labels.get(key, key)} [{key}]"
            table = taxonomy.CHOICE_FIELDS.get(key)
            if table is not None:
                typer.echo(f"{question} 可选：{taxonomy.choices(table)}")
            payload[key] = ask(question, check=_choice(table) if table else None)
    for key, documents in missing_for_documents(step, payload).items():
        question = f"{labels.get(key, key)} [{key}]（{'、'.join(documents)}须载明，回车跳过）"
        value = ask(question, required=False)
        if value is not None:
            payload[key] = value


def document_warnings(result: Any, payload: Mapping[str, Any]) -> list[str]:
    """After ``case advance`` recorded ``result`` with ``payload``: one warning for each
    field the step's documents need that it left out, naming the documents that cannot
    then be printed."""
    from mediation.workflows import get_flow
    from mediation.workflows.fields import document_needs, field_label

    flow = get_flow(result.flow)
    transition = next(
        (
            t
            for t in flow.transitions
            if t.trigger == result.trigger and result.from_state in t.source
        ),
        None,
    )
    if transition is None:
        return []
    step = {"documents": document_needs(flow, transition)}
    return [
        f"注意：本次未记录{field_label(key)}（{key}），{'、'.join(documents)}将无法生成"
        f"（记录时用 --set {key}=… 给出）"
        for key, documents in missing_for_documents(step, payload).items()
    ]
