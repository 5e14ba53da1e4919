"""Bulk intake: a 12345 work-order export, a grid worker's weekly report, a court's or a
petition bureau's referral list — CSV (UTF-8 or GBK), an Excel workbook (``.xlsx``) or
JSON — imported all or nothing.

Every row is validated (the same rules as ``case open``), organisation codes are checked,
and a row whose source reference (``external_ref``: the work-order or referral number) was
already imported for that channel, or appears twice in the file, is refused. If any row has
a problem, nothing is imported and a row-level error report (CSV: row, field, problem, fix)
is written; fix the rows and import the same file again. Otherwise all rows are imported in
one transaction. A partial import is never possible: a half-imported export is the hardest
thing to untangle by hand.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mediation.domain import taxonomy
from mediation.domain.files import MAX_IMPORT_FILE_BYTES, decode_text, read_bounded
from mediation.domain.intake import Intake, validate
from mediation.domain.spreadsheet import (
    CSV_ENCODING,
    csv_cell,
    looks_like_xls,
    looks_like_xlsx,
    xlsx_rows,
)
from mediation.engine.organisations import retired_at
from mediation.errors import FieldProblem, ValidationError
from mediation.i18n import _
from mediation.storage._tables import dispute_table, organisation_table
from mediation.storage.store import Store

#: CSV columns (also accepted as flat JSON records). Party columns carry a role prefix.
ROW_FIELDS = {
    "external_ref": "来源单号：12345工单号、网格事件编号、法院/信访/公安文号（同一渠道内唯一）",
    "organisation": "受理的调委会代码（可用 --org 统一指定）",
    "dispute_type": "纠纷类型",
    "title": "纠纷名称",
    "summary": "纠纷简要情况",
    "claims": "申请事项",
    "received_at": "收到时间（ISO 8601）",
    "risk_level": "风险等级 red/yellow/green",
    "application_mode": "申请方式",
    "referring_organ": "移送/委派机关（可用 --referring-organ 统一指定）",
}
PARTY_COLUMNS = ("name", "kind", "gender", "id_number", "phone", "address", "legal_representative")
for _role in ("applicant", "respondent"):
    for _col in PARTY_COLUMNS:
        ROW_FIELDS[f"{_role}_{_col}"] = f"{taxonomy.PARTY_ROLES[_role]}：{_col}"


@dataclass
class RowProblem:
    row: int
    field: str
    problem: str
    fix: str


@dataclass
class ImportResult:
    """What an import did (``imported``) or why it refused the file (``problems``)."""

    rows: int
    imported: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    report: str | None = None
    #: Rows imported although the same parties already had an open case of the same
    #: dispute type (:mod:`mediation.engine.duplicates`), in the database or earlier in
    #: the file: ``row``, the new ``case_number``, and ``duplicates`` (case number and
    #: organisation code of each). They are imported all the same; the caller warns.
    duplicates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return len({p.row for p in self.problems})


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as a person would count it, record) for CSV, an Excel workbook or JSON.

    The file's size is checked before anything is parsed; text may be UTF-8 or GBK
    (:func:`mediation.domain.files.decode_text`); a workbook is read from its first sheet,
    whose first row names the same columns as a CSV file's header.
    """
    raw = read_bounded(path, MAX_IMPORT_FILE_BYTES)
    if looks_like_xls(raw):
        raise ValueError("这是旧版 Excel 文件（.xls）：请在 Excel 中另存为 .xlsx 或 CSV UTF-8")
    if path.suffix.lower() in (".xlsx", ".xlsm") or looks_like_xlsx(raw):
        yield from _table(enumerate(xlsx_rows(raw, source=str(path)), 1))
        return
    text = decode_text(raw, source=str(path))
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        records = data.get("records") if isinstance(data, dict) else data
        if not isinstance(records, list):
            raise ValueError(_('JSON 导入文件应为记录的列表，或 {"records": [...]}'))
        yield from enumerate(records, 1)
        return
    yield from _table(enumerate(csv.reader(io.StringIO(text)), 1))


def _table(
    lines: Iterator[tuple[int, list[str]]],
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Records from numbered rows whose first row is the header (a CSV file's lines, a
    sheet's rows); empty rows are skipped, row numbers are kept."""
    header: list[str] | None = None
    for line, cells in lines:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            unknown = [c for c in header if c and c not in ROW_FIELDS]
            if unknown:
                raise ValueError(
                    _("未知的 CSV 列：{unknown}；可用的列：{known}").format(
                        unknown="、".join(unknown), known="、".join(ROW_FIELDS)
                    )
                )
            continue
        yield (
            line,
            {k: (v or "").strip() for k, v in zip(header, cells, strict=False) if k},
        )


def _intake_record(rec: dict[str, Any], channel: str, defaults: dict[str, str]) -> dict[str, Any]:
    """A flat row (or a nested intake record) as an intake record for ``validate``."""
    out = {k: v for k, v in rec.items() if k != "external_ref" and v not in ("", None)}
    if "parties" not in rec:
        out = {k: v for k, v in out.items() if not k.startswith(("applicant_", "respondent_"))}
        parties = []
        for role in ("applicant", "respondent"):
            party = {
                col: rec[f"{role}_{col}"]
                for col in PARTY_COLUMNS
                if rec.get(f"{role}_{col}") not in ("", None)
            }
            parties.append({"role": role, **party})
        out["parties"] = parties
    out["channel"] = channel
    for key, value in defaults.items():
        out.setdefault(key, value)
    if rec.get("external_ref"):
        out["referral_ref"] = str(rec["external_ref"])
    return out


def _prefixed(problem: FieldProblem, rec: dict[str, Any]) -> str:
    """Name the CSV column for a party field (parties[1].phone -> respondent_phone)."""
    name = problem.field
    if name == "referral_ref":
        return "external_ref"
    if "parties" in rec or not name.startswith("parties["):
        return name
    index, _, col = name[len("parties[") :].partition("].")
    role = ("applicant", "respondent")[int(index)] if index.isdigit() and int(index) < 2 else None
    return f"{role}_{col}" if role and col else name


def check(
    store: Store,
    path: Path,
    *,
    channel: str,
    org: str | None,
    referring_organ: str | None,
    only_org: str | None = None,
) -> tuple[list[tuple[int, Intake]], list[RowProblem], int]:
    """Validate every row; return the intakes, the problems found and the row count.

    :param only_org: the one organisation the rows may open cases in (a mediator imports
        into their own committee only).
    """
    if channel not in taxonomy.CHANNELS:
        allowed = taxonomy.choices(taxonomy.CHANNELS)
        raise ValidationError(
            [
                FieldProblem(
                    "--channel",
                    _("未知渠道 {channel}").format(channel=repr(channel)),
                    _("可选：{choices}").format(choices=allowed),
                )
            ],
            source="命令行",
        )
    defaults = {k: v for k, v in (("organisation", org), ("referring_organ", referring_organ)) if v}
    good: list[tuple[int, Intake]] = []
    problems: list[RowProblem] = []
    try:
        records = list(_records(path))
    except (OSError, UnicodeDecodeError, ValueError, csv.Error, RecursionError) as exc:
        why = "嵌套过深" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise ValidationError(
            [FieldProblem(str(path), f"无法读取：{why}", _("请检查文件格式"))],
            source=str(path),
        ) from None
    seen_refs: dict[str, int] = {}
    for row, rec in records:
        if not isinstance(rec, dict):
            problems.append(RowProblem(row, "(row)", "应为对象/表", _("每行一条记录")))
            continue
        ref = str(rec.get("external_ref") or "").strip()
        if ref:
            if ref in seen_refs:
                problems.append(
                    RowProblem(
                        row,
                        "external_ref",
                        f"与第 {seen_refs[ref]} 行重复：{ref}",
                        _("请删去重复的行"),
                    )
                )
                continue
            seen_refs[ref] = row
        try:
            good.append(
                (row, validate(_intake_record(rec, channel, defaults), source=f"第 {row} 行"))
            )
        except ValidationError as exc:
            problems.extend(
                RowProblem(row, _prefixed(p, rec), p.problem, p.fix) for p in exc.problems
            )
    with store.read() as conn:
        settings = dict(
            conn.execute(select(organisation_table.c.code, organisation_table.c.periods)).all()
        )
        known = {code for code, kept in settings.items() if not retired_at(kept)}
        taken = (
            set(
                conn.execute(
                    select(dispute_table.c.referral_ref).where(
                        dispute_table.c.channel == channel,
                        dispute_table.c.referral_ref.is_not(None),
                    )
                ).scalars()
            )
            if seen_refs
            else set()
        )
    for row, record in good:
        if only_org is not None and record.organisation != only_org:
            problems.append(
                RowProblem(
                    row,
                    "organisation",
                    f"只能导入本调委会（{only_org}）的案件，不能导入到 {record.organisation!r}",
                    _("其他调委会的案件请由督办人员导入"),
                )
            )
        elif record.organisation in settings and record.organisation not in known:
            problems.append(
                RowProblem(
                    row,
                    "organisation",
                    f"调委会 {record.organisation} 已撤销，不能受理新案件",
                    _("见 mediation org list，或用 --org 指定"),
                )
            )
        elif record.organisation not in known:
            problems.append(
                RowProblem(
                    row,
                    "organisation",
                    f"未知调委会代码 {record.organisation!r}",
                    _("见 mediation org list，或用 --org 指定"),
                )
            )
        if record.referral_ref and record.referral_ref in taken:
            problems.append(
                RowProblem(
                    row,
                    "external_ref",
                    f"{record.referral_ref} 已经导入过",
                    _("请删去已导入过的行"),
                )
            )
    problems.sort(key=lambda p: p.row)
    return good, problems, len(records)


def write_report(problems: list[RowProblem], path: Path) -> None:
    with path.open("w", encoding=CSV_ENCODING, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["row", "field", "problem", "fix"])
        # The file's own words never run as a formula in a spreadsheet.
        writer.writerows(
            (p.row, csv_cell(p.field), csv_cell(p.problem), csv_cell(p.fix)) for p in problems
        )


def import_file(
    store: Store,
    path: Path,
    *,
    channel: str,
    actor: str,
    now: datetime,
    org: str | None = None,
    referring_organ: str | None = None,
    report: Path | None = None,
    only_org: str | None = None,
) -> ImportResult:
    """Import every row of ``path`` in one transaction, or none of them (see module doc)."""
    from mediation.engine.cases import open_in
    from mediation.engine.duplicates import open_duplicates

    good, problems, rows = check(
        store,
        path,
        channel=channel,
        org=org,
        referring_organ=referring_organ,
        only_org=only_org,
    )
    if problems:
        target = report or path.with_name(path.name + ".errors.csv")
        write_report(problems, target)
        return ImportResult(rows=rows, problems=problems, report=str(target))
    cal = store.calendar()
    imported = []
    duplicates = []
    with store.write() as conn:
        for row, record in good:
            found = open_duplicates(conn, record)
            number = open_in(conn, record, actor=actor, now=now, cal=cal).case_number
            imported.append(number)
            if found:
                duplicates.append({"row": row, "case_number": number, "duplicates": found})
    return ImportResult(rows=rows, imported=imported, duplicates=duplicates)
