"""Intake records: reading and validating the file that opens a case.

The file is JSON or TOML (schema in docs/reference/intake.md, examples in ``data/examples/``). Validation
collects every problem, naming the field and the fix, before anything is written.
Codes may be given in English (``neighbourhood``) or as the Chinese label (``邻里``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mediation.domain import taxonomy
from mediation.domain.clock import UTC, business_date, clock_from_env, parse_datetime
from mediation.domain.files import read_file
from mediation.domain.personal import birth_date_of, resident_id_problem
from mediation.errors import FieldProblem, ValidationError
from mediation.i18n import _

DISPUTE_FIELDS = {
    "organisation": "受理的调委会代码（`mediation org list`）",
    "flow": "流程，默认 peoples（人民调解）",
    "dispute_type": "纠纷类型",
    "channel": "来源渠道",
    "application_mode": "申请方式：written/oral/initiative/referral",
    "title": "纠纷名称",
    "summary": "纠纷简要情况",
    "claims": "申请事项",
    "received_at": "收到时间（ISO 8601），默认当前时间",
    "risk_level": "风险等级 red/yellow/green",
    "referring_organ": "移送/委派机关（法院、信访、公安等渠道必填）",
    "referral_ref": "移送机关的文号（法院、信访、公安等渠道必填）",
    "parties": "当事人列表",
}
PARTY_FIELDS = {
    "role": "applicant/respondent/third_party（申请人/被申请人/第三人）",
    "kind": "person/organisation，默认 person",
    "name": "姓名或名称",
    "gender": "male/female（男/女）",
    "ethnicity": "民族",
    "birth_date": "出生日期 YYYY-MM-DD",
    "id_type": "证件类型，默认 resident_id（居民身份证）",
    "id_number": "证件号码",
    "phone": "联系电话",
    "address": "住址或单位",
    "occupation": "职业或职务",
    "legal_representative": "法定代表人（组织必填）",
}
#: At most this many parties in one dispute (a larger group is registered as several
#: disputes, or through its representatives).
MAX_PARTIES = 50
#: No one registered was born before this day (nor after today).
EARLIEST_BIRTH = date(1900, 1, 1)
#: Characters that change how a name is displayed without being seen: bidirectional
#: embeddings, overrides and isolates, and zero-width spaces and joiners (a name with them
#: looks like another name, or reorders what follows it on the page).
INVISIBLE = frozenset(
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x200C, 0x200D)
) | {"\u200e", "\u200f", "\u2060", "\ufeff"}


@dataclass
class PartyRecord:
    role: str
    name: str
    kind: str = "person"
    gender: str | None = None
    ethnicity: str | None = None
    birth_date: date | None = None
    id_type: str | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    occupation: str | None = None
    legal_representative: str | None = None


@dataclass
class Intake:
    """A validated intake record."""

    organisation: str
    dispute_type: str
    channel: str
    title: str
    parties: list[PartyRecord]
    flow: str = "peoples"
    application_mode: str = "written"
    summary: str = ""
    claims: str = ""
    received_at: datetime | None = None
    risk_level: str = "green"
    referring_organ: str | None = None
    referral_ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _code(
    value: Any, table: Mapping[str, str], where: str, problems: list[FieldProblem]
) -> str | None:
    """Accept an English code or its Chinese label; report anything else."""
    code = taxonomy.code_of(table, value) if isinstance(value, str) else None
    if code is None:
        problems.append(
            FieldProblem(
                where,
                f"未知取值 {value!r}",
                _("可选：{choices}").format(choices=taxonomy.choices(table)),
            )
        )
    return code


def _unknown_keys(
    data: Mapping[str, Any], known: Mapping[str, str], prefix: str, problems: list[FieldProblem]
) -> None:
    for key in data:
        if key not in known:
            close = taxonomy.closest(str(key), known)
            fix = (
                _("是否应为 {close}？").format(close=repr(close))
                if close
                else _("可用字段：{known}").format(known="、".join(known))
            )
            problems.append(FieldProblem(f"{prefix}{key}", "未知字段", fix))


def _text(
    data: Mapping[str, Any],
    key: str,
    where: str,
    problems: list[FieldProblem],
    *,
    required: bool = False,
    max_len: int = 200,
    name: bool = False,
) -> str | None:
    """The text at ``key``, stripped; problems appended. ``name``: a name (of a party, a
    legal representative, the dispute), where invisible characters are refused too."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(
                FieldProblem(
                    where,
                    "缺少必填字段",
                    _("请填写 {key}：{what}").format(key=key, what=_describe(key)),
                )
            )
        return None
    if not isinstance(value, str):
        problems.append(
            FieldProblem(where, f"应为文本，实为 {type(value).__name__}", _("请加引号写成文本"))
        )
        return None
    value = value.strip()
    if len(value) > max_len:
        problems.append(FieldProblem(where, f"过长（{len(value)} > {max_len} 字）", _("请缩短")))
    bad = text_problem(value) or (invisible_problem(value) if name else None)
    if bad:
        problems.append(FieldProblem(where, bad, "请删去这些字符（重新输入该文字）"))
    return value


def invisible_problem(value: str) -> str | None:
    """Why ``value`` cannot be a name: it holds bidi controls or zero-width characters."""
    found = sorted({c for c in value if c in INVISIBLE})
    if found:
        codes = " ".join(f"U+{ord(c):04X}" for c in found)
        return f"含有不可见的方向控制或零宽字符 {codes}"
    return None


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text on both databases, or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "含有无效字符（孤立的 UTF-16 代理项）"
    controls = sorted({c for c in value if ord(c) < 32 and c not in "\n\r\t"})
    if controls:
        return "含有控制字符 " + " ".join(f"U+{ord(c):04X}" for c in controls)
    return None


def _describe(key: str) -> str:
    return DISPUTE_FIELDS.get(key) or PARTY_FIELDS.get(key) or key


def _party(
    raw: Any, i: int, problems: list[FieldProblem], today: date | None = None
) -> PartyRecord | None:
    at = f"parties[{i}]."
    if not isinstance(raw, dict):
        problems.append(FieldProblem(f"parties[{i}]", "应为对象/表", _("参见 data/examples/")))
        return None
    _unknown_keys(raw, PARTY_FIELDS, at, problems)
    before = len(problems)
    role = _code(raw.get("role"), taxonomy.PARTY_ROLES, at + "role", problems)
    kind = _code(raw.get("kind", "person"), taxonomy.PARTY_KINDS, at + "kind", problems)
    name = _text(raw, "name", at + "name", problems, required=True, name=True)
    gender = None
    if raw.get("gender") is not None:
        gender = _code(raw["gender"], taxonomy.GENDERS, at + "gender", problems)
    birth = None
    if raw.get("birth_date") is not None:
        try:
            birth = date.fromisoformat(str(raw["birth_date"]))
        except ValueError:
            problems.append(FieldProblem(at + "birth_date", "不是日期", _("写成 YYYY-MM-DD")))
        else:
            today = today or clock_from_env().today()
            if not EARLIEST_BIRTH <= birth <= today:
                problems.append(
                    FieldProblem(
                        at + "birth_date",
                        f"出生日期 {birth} 不可能（应在 {EARLIEST_BIRTH} 至今天 {today} 之间）",
                        "请核对出生日期，写成 YYYY-MM-DD",
                    )
                )
                birth = None
    id_number = _text(raw, "id_number", at + "id_number", problems, max_len=40)
    id_type = None
    if raw.get("id_type") is not None:
        id_type = _code(raw["id_type"], taxonomy.ID_TYPES, at + "id_type", problems)
    elif id_number:
        id_type = "uscc" if kind == "organisation" else "resident_id"
    if id_number and id_type == "resident_id":
        id_number = id_number.upper()
        problem = resident_id_problem(id_number)
        if problem:
            problems.append(
                FieldProblem(at + "id_number", f"居民身份证号码无效：{problem}", _("请核对号码"))
            )
        elif birth is not None and birth != birth_date_of(id_number):
            problems.append(
                FieldProblem(
                    at + "birth_date",
                    "与身份证号码中的出生日期不一致",
                    _("请改正其中之一"),
                )
            )
        elif birth is None:
            birth = birth_date_of(id_number)
    phone = _text(raw, "phone", at + "phone", problems, max_len=40)
    if phone is not None:
        digits = phone.replace("-", "").replace(" ", "").lstrip("+")
        if not (digits.isascii() and digits.isdigit()) or not 7 <= len(digits) <= 15:
            problems.append(
                FieldProblem(
                    at + "phone", "电话号码格式不对", _("7 至 15 位数字，例如 13812345678")
                )
            )
    legal_rep = _text(
        raw, "legal_representative", at + "legal_representative", problems, max_len=100, name=True
    )
    if kind == "organisation" and not legal_rep:
        problems.append(
            FieldProblem(at + "legal_representative", "组织当事人缺少法定代表人", _("请填写"))
        )
    if len(problems) > before or role is None or name is None or kind is None:
        return None
    return PartyRecord(
        role=role,
        name=name,
        kind=kind,
        gender=gender,
        ethnicity=_text(raw, "ethnicity", at + "ethnicity", problems, max_len=40),
        birth_date=birth,
        id_type=id_type,
        id_number=id_number,
        phone=phone,
        address=_text(raw, "address", at + "address", problems, max_len=300),
        occupation=_text(raw, "occupation", at + "occupation", problems, max_len=100),
        legal_representative=legal_rep,
    )


def party_problems_and_record(
    raw: Any, *, today: date | None = None
) -> tuple[list[FieldProblem], PartyRecord | None]:
    """One party's fields through the same checks as at intake (corrections use it:
    mediation.engine.parties); problems are named ``parties[0].FIELD``."""
    problems: list[FieldProblem] = []
    record = _party(raw, 0, problems, today)
    return problems, record


def validate(
    data: Mapping[str, Any], *, source: str = "intake", today: date | None = None
) -> Intake:
    """Validate a parsed intake record.

    :param today: the day birth dates and ``received_at`` may not be after (default: the
        clock's today, ``MEDIATION_NOW`` or the wall clock).

    :raises ValidationError: listing every problem with its field and fix.
    """
    problems: list[FieldProblem] = []
    _unknown_keys(data, DISPUTE_FIELDS, "", problems)
    organisation = _text(data, "organisation", "organisation", problems, required=True)
    flow = data.get("flow", "peoples")
    from mediation.workflows import FLOW_MODULES

    if not isinstance(flow, str) or flow not in FLOW_MODULES:
        problems.append(
            FieldProblem(
                "flow",
                f"未知流程 {flow!r}",
                _("可选：{flows}").format(flows="、".join(FLOW_MODULES)),
            )
        )
    if data.get("dispute_type") is None:
        problems.append(
            FieldProblem("dispute_type", "缺少必填字段", _("请填写 dispute_type，例如 邻里"))
        )
        dispute_type = None
    else:
        dispute_type = _code(data["dispute_type"], taxonomy.DISPUTE_TYPES, "dispute_type", problems)
    if data.get("channel") is None:
        problems.append(FieldProblem("channel", "缺少必填字段", _("请填写 channel，例如 walk_in")))
        channel = None
    else:
        channel = _code(data["channel"], taxonomy.CHANNELS, "channel", problems)
    mode = _code(
        data.get("application_mode", "written"),
        taxonomy.APPLICATION_MODES,
        "application_mode",
        problems,
    )
    risk = _code(data.get("risk_level", "green"), taxonomy.RISK_LEVELS, "risk_level", problems)
    title = _text(data, "title", "title", problems, required=True, name=True)
    summary = _text(data, "summary", "summary", problems, max_len=5000) or ""
    claims = _text(data, "claims", "claims", problems, max_len=5000) or ""
    referring_organ = _text(data, "referring_organ", "referring_organ", problems)
    referral_ref = _text(data, "referral_ref", "referral_ref", problems, max_len=100)
    if channel in taxonomy.REFERRAL_CHANNELS:
        for key, value in (("referring_organ", referring_organ), ("referral_ref", referral_ref)):
            if not value:
                problems.append(
                    FieldProblem(
                        key,
                        f"渠道 {channel} 为移送/委派，缺少必填字段",
                        _("请填写 {key}").format(key=key),
                    )
                )
    received_at = None
    if data.get("received_at") is not None:
        try:
            received_at = parse_datetime(str(data["received_at"]))
            if not 1949 <= received_at.astimezone(UTC).year <= 2100:
                raise ValueError("out of range")
        except (ValueError, OverflowError):
            problems.append(
                FieldProblem(
                    "received_at", "不是 ISO 8601 时间", _("例如 2026-03-02T09:30:00+08:00")
                )
            )
        else:
            # A clock counted from receipt starts on this day (domain.md §4); a day still
            # to come is a typing error (a clock never starts after today either).
            today = today or clock_from_env().today()
            received_on = business_date(received_at)
            if received_on > today:
                problems.append(
                    FieldProblem(
                        "received_at",
                        f"收到时间 {received_on} 晚于今天 {today}",
                        _("请填写实际收到申请（或签收材料）的时间"),
                    )
                )
    raw_parties = data.get("parties")
    parties: list[PartyRecord] = []
    if not isinstance(raw_parties, list) or not raw_parties:
        problems.append(
            FieldProblem("parties", "缺少当事人", _("至少列出一名申请人和一名被申请人"))
        )
    elif len(raw_parties) > MAX_PARTIES:
        problems.append(
            FieldProblem(
                "parties",
                f"当事人过多（{len(raw_parties)} 人，一件纠纷最多 {MAX_PARTIES} 人）",
                "请将群体性纠纷分为几件登记，或由代表人参加调解",
            )
        )
    else:
        for i, raw in enumerate(raw_parties):
            party = _party(raw, i, problems, today)
            if party is not None:
                parties.append(party)
        roles = {_code_quiet(p.get("role")) for p in raw_parties if isinstance(p, dict)}
        for needed, label in (("applicant", "申请人"), ("respondent", "被申请人")):
            if needed not in roles:
                problems.append(
                    FieldProblem(
                        "parties",
                        f"缺少{label}",
                        _('请添加 role = "{role}" 的当事人').format(role=needed),
                    )
                )
    if problems:
        raise ValidationError(problems, source=source)
    assert organisation and dispute_type and channel and title and mode and risk
    return Intake(
        organisation=organisation,
        flow=flow,
        dispute_type=dispute_type,
        channel=channel,
        application_mode=mode,
        title=title,
        summary=summary,
        claims=claims,
        received_at=received_at,
        risk_level=risk,
        referring_organ=referring_organ,
        referral_ref=referral_ref,
        parties=parties,
    )


def _code_quiet(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if value in taxonomy.PARTY_ROLES:
        return str(value)
    for code, label in taxonomy.PARTY_ROLES.items():
        if value == label:
            return code
    return None


def load(path: Path) -> Intake:
    """Read and validate an intake file."""
    return validate(read_file(path), source=str(path))
