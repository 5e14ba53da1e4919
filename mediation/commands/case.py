"""Case commands: ``case open`` / ``list`` / ``show`` / ``history`` / ``next`` /
``advance`` / ``correct`` / ``reassign`` / ``amend-party``."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mediation.commands._common import (
    JsonOpt,
    current_settings,
    echo,
    group,
    handled,
    read_data,
    warn_calendar,
)
from mediation.errors import MediationError
from mediation.i18n import _

case_app = group(_("案件：开立、列出、查看、推进。"))


@case_app.command(
    "open",
    help=_(
        "根据登记文件开立案件，或在终端中逐项回答提问。\n\n示例：mediation case open --from data/examples/intake.toml"
    ),
)
@handled
def case_open(
    from_file: Annotated[
        Path | None, typer.Option("--from", help=_("登记文件（JSON 或 TOML）。"))
    ] = None,
    interactive: Annotated[
        bool,
        typer.Option("--interactive", "-i", help=_("即使不在终端中也逐项提问。")),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Open a case from an intake file, or by answering prompts in a terminal.

    Example: mediation case open --from data/examples/intake.toml
    """
    from mediation.domain import intake
    from mediation.reporting.output import to_json

    if from_file is None:
        if not (interactive or sys.stdin.isatty()):
            raise MediationError(
                _("没有给出立案信息文件"),
                hint=_("请用 --from FILE（见 data/examples/），或用 -i 逐项提问"),
            )
        from mediation.commands._prompts import ask_intake

        with current_settings().api() as api:
            organisations = api.organisations()
        record = intake.validate(ask_intake(organisations), source="输入")
    else:
        record = intake.load(from_file)
    with current_settings().api() as api:
        opened = api.open_case(record)
    if opened.duplicates:
        found = "、".join(f"{d['case_number']}（{d['organisation']}）" for d in opened.duplicates)
        typer.echo(
            f"注意：相同当事人、相同纠纷类型已有未结案件 {found}，请核实是否重复登记"
            "（本案已立案；确属同一纠纷的，可用 `mediation dispute merge` 合并）",
            err=True,
        )
    if json_out:
        echo(to_json(opened))
        return
    echo(
        f"已立案：{opened.case_number}（纠纷 #{opened.dispute_id}，案件 id {opened.proceeding_id}），"
        f"状态：{opened.state_label}"
    )


def _day(value: str | None, option: str) -> Any:
    """A ``--from/--to`` date, within the range dates are accepted in (exit 3 otherwise)."""
    from mediation.domain.clock import parse_day

    return None if value is None else parse_day(value, option, source="case list")


@case_app.command(
    "list",
    help=_(
        "列出案件，按立案时间由近及远分页显示；可按当事人、电话、身份证号、标题、类型、受理日期、状态或调解员查找。身份证号和电话以遮蔽形式显示（--json 亦然）。\n\n示例：mediation case list --state 调查调解中 --party 张 --from 2026-03-01"
    ),
)
@handled
def case_list(
    flow: Annotated[
        str | None, typer.Option(help=_("只看此流程，例如 peoples 或 人民调解。"))
    ] = None,
    state: Annotated[
        str | None, typer.Option(help=_("只看此状态，例如 mediating 或 调查调解中。"))
    ] = None,
    org: Annotated[str | None, typer.Option(help=_("只看此组织（代码或名称）。"))] = None,
    level: Annotated[
        str | None, typer.Option(help=_("village | township | county | city（村、乡镇、县、市）"))
    ] = None,
    mediator: Annotated[str | None, typer.Option(help=_("只看此调解员的案件。"))] = None,
    mine: Annotated[
        bool, typer.Option("--mine", help=_("只看分配给我（当前登录）的案件。"))
    ] = False,
    dispute_type: Annotated[
        str | None,
        typer.Option("--type", help=_("只看此纠纷类型，例如 neighbourhood 或 邻里。")),
    ] = None,
    party: Annotated[str | None, typer.Option(help=_("当事人姓名（或其一部分）。"))] = None,
    phone: Annotated[str | None, typer.Option(help=_("当事人电话（完全一致）。"))] = None,
    id_number: Annotated[
        str | None, typer.Option("--id-number", help=_("当事人身份证号（完全一致）。"))
    ] = None,
    text: Annotated[str | None, typer.Option(help=_("纠纷标题中的文字。"))] = None,
    received_from: Annotated[
        str | None, typer.Option("--from", help=_("受理日期不早于此日（YYYY-MM-DD）。"))
    ] = None,
    received_to: Annotated[
        str | None, typer.Option("--to", help=_("受理日期不晚于此日（YYYY-MM-DD）。"))
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help=_("只看有逾期期限的案件。"))] = False,
    status: Annotated[
        str, typer.Option(help=_("open | closed | all（进行中、已结、全部）"))
    ] = "all",
    limit: Annotated[
        int, typer.Option(help=_("最多显示这么多件，按立案时间由近及远。"), min=1, max=100_000)
    ] = 50,
    offset: Annotated[
        int, typer.Option(help=_("跳过这么多件（下一页）。"), min=0, max=10_000_000)
    ] = 0,
    json_out: JsonOpt = False,
) -> None:
    """List cases, latest filed first, a page at a time; find them by party, phone, ID
    number, title, type, date received, state or mediator. ID numbers and phones are shown
    masked (--json).

    Example: mediation case list --state 调查调解中 --party 张 --from 2026-03-01
    """
    from mediation.reporting.output import table, to_json, when

    with current_settings().api() as api:
        found = api.find_cases(
            flow=flow,
            state=state,
            org=org,
            level=level,
            mediator=mediator,
            mine=mine,
            dispute_type=dispute_type,
            party=party,
            phone=phone,
            id_number=id_number,
            text=text,
            received_from=_day(received_from, "--from"),
            received_to=_day(received_to, "--to"),
            overdue=overdue,
            status=status,
            limit=limit,
            offset=offset,
        )
    rows = [r.as_dict() for r in found.cases]
    if json_out:
        echo(to_json(rows))
        return
    if not rows:
        echo("（没有符合条件的案件）")
        if found.total:
            echo(f"共 {found.total} 件，--offset {found.offset} 之后没有了")
        return
    echo(
        table(
            [
                (
                    r["id"],
                    r["case_number"],
                    r["state_label"],
                    r["dispute_type_label"],
                    r["title"],
                    "、".join(p["name"] for p in r["parties"]),
                    r["mediator"] or "",
                    when(r["opened_at"]),
                )
                for r in rows
            ],
            ["id", "案号", "状态", "类型", "纠纷", "当事人", "调解员", "立案时间"],
        )
    )
    first = found.offset + 1
    echo(f"共 {found.total} 件，显示 {first}–{found.offset + len(rows)}")


@case_app.command(
    "show",
    help=_(
        '查看案件：纠纷、当事人（遮蔽）、期限以及下一步可做的事。\n\n示例：mediation case show "（2026）城关人调字第1号"'
    ),
)
@handled
def case_show(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    reveal: Annotated[bool, typer.Option(help=_("不遮蔽显示身份证号、电话和住址。"))] = False,
    json_out: JsonOpt = False,
) -> None:
    """Show a case: dispute, parties (masked), deadlines and what can be done next.

    Example: mediation case show "（2026）城关人调字第1号"
    """
    from mediation.reporting.output import fields, to_json, when

    with current_settings().api() as api:
        data = api.show_case(case, reveal=reveal).as_dict()
    if json_out:
        echo(to_json(data))
        return
    p, d = data["proceeding"], data["dispute"]
    lines = [
        ("案号", p["case_number"]),
        ("案件 id / 纠纷", f"{p['id']} / #{d['id']}"),
        ("流程", p["flow_label"]),
        ("状态", f"{p['state_label']}（{p['state']}）"),
        ("调委会", f"{p['organisation']['name']}（{p['level_label']}）"),
        ("调解员", "、".join(p["mediators"]) or "（未指派）"),
        ("纠纷", d["title"]),
        ("类型 / 来源", f"{d['dispute_type_label']} / {d['channel_label']}"),
        ("立案", when(p["opened_at"])),
    ]
    if p["closed_at"]:
        lines.append(("结束", f"{when(p['closed_at'])}（{p['outcome_label']}）"))
    echo(fields(lines))
    echo("\n当事人：")
    for party in data["parties"]:
        extra = " ".join(x for x in (party["id_number"], party["phone"], party["address"]) if x)
        echo(f"  {party['role_label']} {party['name']} {extra}".rstrip())
    if data["deadlines"]:
        echo("\n期限：")
        for dl in data["deadlines"]:
            flag = "（暂定）" if dl["provisional"] else ""
            overdue = f" 已逾期{dl['days_overdue']}日" if dl.get("days_overdue") else ""
            echo(
                f"  {dl['label']} {dl['period']} 至 {dl['due']}{flag} {dl['status_label']}{overdue}"
                f" — {dl['legal_basis']}"
            )
    if data["corrections"]:
        echo("\n已更正的记录（现值）：")
        for c in data["corrections"]:
            by = "、".join(f"#{n}" for n in c["corrected_by"])
            echo(
                f"  #{c['seq']} {c['trigger']} {c['field']}: {c['value'] or '（空）'}（{by} 更正）"
            )
    if data["related_proceedings"]:
        echo("\n同一纠纷的其他程序：")
        for r in data["related_proceedings"]:
            echo(f"  {r['case_number']}（{r['state_label']}）")
    echo(
        "\n可执行操作："
        + ("、".join(f"{n['trigger']}（{n['label']}）" for n in data["next"]) or "无")
    )


@case_app.command(
    "history", help=_("按时间顺序显示案件已记录的事件。\n\n示例：mediation case history 1")
)
@handled
def case_history(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    json_out: JsonOpt = False,
) -> None:
    """Show the recorded events of a case, oldest first.

    Example: mediation case history 1
    """
    from mediation.reporting.output import table, to_json, when

    with current_settings().api() as api:
        data = api.history(case).as_dict()
    if json_out:
        echo(to_json(data))
        return
    echo(data["case_number"])
    echo(
        table(
            [
                (
                    e["seq"],
                    _event_time(e),
                    e["trigger"],
                    e["from_label"] or "—",
                    e["to_label"],
                    e["actor"],
                    _event_note(e),
                )
                for e in data["events"]
            ],
            ["#", "时间", "操作", "原状态", "新状态", "操作人", "备注"],
        )
    )
    corrections = [e for e in data["events"] if e["trigger"] == "correct"]
    if corrections:
        echo("\n更正：")
    for e in corrections:
        step = f"#{e['payload'].get('seq')} {e['payload'].get('trigger', '')}"
        echo(
            f"  #{e['seq']} {when(e['occurred_at'])} {e['actor']} 更正 {step}（理由：{e['note']}）"
        )
        for field_name, change in (e["payload"].get("changed") or {}).items():
            before, after = change.get("before") or "（空）", change.get("after") or "（空）"
            echo(f"    {field_name}: {before} → {after}")


def _event_time(event: dict[str, Any]) -> str:
    """When the step happened, and when it was recorded if that differs (``--at``)."""
    from mediation.reporting.output import when

    recorded = when(event["occurred_at"])
    happened = when(event.get("happened_at"))
    if not happened or happened == recorded:
        return recorded
    return f"{happened}（{recorded} 登记）"


def _event_note(event: dict[str, Any]) -> str:
    note = event["note"] or ""
    if event.get("corrected_by"):
        marks = "、".join(f"#{n}" for n in event["corrected_by"])
        note = f"{note}（已更正，见 {marks}）".lstrip()
    return note


@case_app.command(
    "next",
    help=_("列出现在可以执行的步骤，包括其名称和各自需要的数据。\n\n示例：mediation case next 1"),
)
@handled
def case_next(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    json_out: JsonOpt = False,
) -> None:
    """List the triggers allowed now, with their labels and the data each requires.

    Example: mediation case next 1
    """
    from mediation.commands._prompts import step_fields
    from mediation.reporting.output import table, to_json

    with current_settings().api() as api:
        data = api.next_triggers(case).as_dict()
    if json_out:
        echo(to_json(data))
        return
    echo(f"{data['case_number']} 当前状态：{data['state_label']}")
    if not data["next"]:
        echo("（本程序已结束，没有可执行的操作）")
        return
    echo(
        table(
            [(n["trigger"], n["label"], n["dest_label"]) for n in data["next"]],
            ["操作", "说明", "结果状态"],
        )
    )
    for n in data["next"]:
        echo(f"\n{n['trigger']}（{n['label']}）")
        echo("\n".join(step_fields(n)))


@case_app.command(
    "advance",
    help=_(
        "对案件执行一个步骤：一个事务，记录为一个事件。\n\n示例：mediation case advance 1 reject --set reason=已由法院受理 --set redirect_to=青山县人民法院"
    ),
)
@handled
def case_advance(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    trigger: Annotated[str, typer.Argument(help=_("要执行的步骤（见 `mediation case next`）。"))],
    note: Annotated[str | None, typer.Option(help=_("随事件记录的备注。"))] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help=_("含步骤数据的 JSON 或 TOML 文件。"))
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help=_("KEY=VALUE 数据字段（可重复）。"))
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help=_(
                "步骤发生的时间（如非现在）：YYYY-MM-DD HH:MM（北京时间）或 YYYY-MM-DD（09:00）。不得晚于现在，不得早于案件的上一步；早于 7 天前的只有督导人员可以记录。"
            ),
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Fire one trigger on a case: one transaction, recorded as an event.

    Example: mediation case advance 1 reject --set reason=已由法院受理 --set redirect_to=青山县人民法院
    """
    from mediation.commands._prompts import complete_step, document_warnings
    from mediation.domain.clock import parse_moment
    from mediation.domain.taxonomy import DEADLINE_STATUSES, label
    from mediation.reporting.output import to_json

    payload = read_data(data, set_)
    happened = None if at is None else parse_moment(at, "--at", source="case advance")
    with current_settings().api() as api:
        complete_step(api, case, trigger, payload)  # asks in a terminal
        result = api.advance(case, trigger, payload=payload, note=note, at=happened)
        warn_calendar(api.store.calendar(), api.clock.today())
        warnings = document_warnings(result, payload)
    for warning in warnings:
        typer.echo(warning, err=True)
    if json_out:
        echo(to_json(result))
        return
    echo(
        f"{result.case_number}：{result.trigger_label}（{result.trigger}）"
        f" {result.from_state} → {result.to_state_label}（{result.to_state}）"
    )
    for dl in result.deadlines_stopped:
        if dl.get("status"):
            status = label(DEADLINE_STATUSES, dl["status"])
            echo(f"  期限结束：{dl['label']}（至 {dl['due']}）{status}")
    for dl in result.deadlines_started:
        flag = "（暂定）" if dl["provisional"] else ""
        echo(
            f"  期限开始：{dl['label']} {dl['period']}，至 {dl['due']}{flag} — {dl['legal_basis']}"
        )
    if result.handed_off_to:
        h = result.handed_off_to
        echo(f"  移交：{h.case_number}（{h.state_label}）")


@case_app.command(
    "correct",
    help=_(
        "更正先前步骤记录的数据（调解地点、协议条款等）：记录为更正事件，含新旧值和理由；案件状态不变。文书打印更正后的值；已盖章的文书不能再更改。\n\n示例：mediation case correct 1 5 --set place=桥头村调解室 --reason 笔误"
    ),
)
@handled
def case_correct(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    seq: Annotated[
        int, typer.Argument(help=_("要更正的步骤：即 `mediation case history` 中的序号。"))
    ],
    set_: Annotated[
        list[str],
        typer.Option("--set", help=_("FIELD=VALUE，更正后的值（可重复；留空即清除）。")),
    ],
    reason: Annotated[str, typer.Option("--reason", help=_("更正记录的理由。"))],
    json_out: JsonOpt = False,
) -> None:
    """Correct data recorded by an earlier step (the place of a session, an agreement's
    terms): recorded as a correction event with the old and new values and the reason; the
    case's state does not change. Documents print the corrected values; a document already
    sealed cannot be changed.

    Example: mediation case correct 1 5 --set place=桥头村调解室 --reason 笔误
    """
    from mediation.reporting.output import to_json

    changes = read_data(None, set_)
    with current_settings().api() as api:
        result = api.correct(case, seq, changes, reason=reason)
    if json_out:
        echo(to_json(result.as_dict()))
        return
    echo(
        f"{result.case_number}：已更正 #{result.corrected_seq} {result.trigger_label}"
        f"（{result.trigger}），记为 #{result.seq}"
    )
    for field_name, change in result.changed.items():
        before, after = change["before"] or "（空）", change["after"] or "（空）"
        echo(f"  {field_name}: {before} → {after}")


@case_app.command(
    "reassign",
    help=_(
        "把进行中的案件交给其他调解员（督导人员操作）；记录为事件，含原调解员。案件状态和期限不变。\n\n示例：mediation case reassign 1 --mediator 李调解员 --reason 原调解员回避"
    ),
)
@handled
def case_reassign(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    mediator: Annotated[
        list[str], typer.Option("--mediator", help=_("新的调解员（可重复；第一位为主持人）。"))
    ],
    reason: Annotated[str, typer.Option("--reason", help=_("案件移交的理由。"))],
    json_out: JsonOpt = False,
) -> None:
    """Give a running case to other mediators (supervisors); recorded as an event with the
    previous mediators. The case's state and deadlines do not change.

    Example: mediation case reassign 1 --mediator 李调解员 --reason 原调解员回避
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        result = api.reassign(case, mediator, reason=reason)
    if json_out:
        echo(to_json(result.as_dict()))
        return
    before = "、".join(result.previous) or "（未指派）"
    echo(f"{result.case_number} 改派：{before} → {'、'.join(result.mediators)}")


@case_app.command(
    "amend-party",
    help=_(
        "更正进行中案件的当事人信息（姓名、身份证号、电话、住址等）：按登记时的规则检查，记录为事件，新旧值均遮蔽。\n\n示例：mediation case amend-party 1 李四 --set phone=13912345678 --reason 当事人更换手机号码"
    ),
)
@handled
def case_amend_party(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    party: Annotated[str, typer.Argument(help=_("登记的当事人姓名。"))],
    set_: Annotated[
        list[str],
        typer.Option("--set", help=_("FIELD=VALUE，更正后的值（可重复；留空即清除）。")),
    ],
    reason: Annotated[str, typer.Option("--reason", help=_("信息变更的理由。"))],
    role: Annotated[
        str | None,
        typer.Option(
            help=_(
                "applicant | respondent | third_party（申请人、被申请人、第三人），两位当事人同名时用。"
            )
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Correct a party's particulars (name, ID number, phone, address...) on a running case:
    checked as at intake, recorded as an event with the old and new values masked.

    Example: mediation case amend-party 1 李四 --set phone=13912345678 --reason 当事人更换手机号码
    """
    from mediation.reporting.output import to_json

    changes = read_data(None, set_)
    with current_settings().api() as api:
        result = api.amend_party(case, party, changes, reason=reason, role=role)
    if json_out:
        echo(to_json(result.as_dict()))
        return
    echo(f"{result.case_number}：已更正当事人 {result.party} 的信息")
    for field_name, change in result.changed.items():
        before, after = change["before"] or "（空）", change["after"] or "（空）"
        echo(f"  {field_name}: {before} → {after}")
