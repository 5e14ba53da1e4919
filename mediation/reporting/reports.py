"""Supervisors' reports: overdue deadlines (督办) and deadlines due soon.

A row is one open deadline that binds the organisation (``duty``) and whose last day has
passed (``due < as_of``): the organisation, the case, the deadline with its legal basis,
how many days overdue, and the responsible mediator. Parties' names, ID numbers, phones
and addresses are not part of these reports at all. Rows come sorted by organisation,
then most overdue first, so each organisation's list reads as one block.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter
from typing import Any, TextIO

from sqlalchemy import bindparam, select

from mediation.domain import taxonomy
from mediation.domain.spreadsheet import csv_row
from mediation.errors import NotFoundError, UsageError
from mediation.i18n import _
from mediation.storage._sql import Prepared
from mediation.storage._tables import deadline_table, organisation_table, proceeding_table
from mediation.storage.store import Store

COLUMNS = (
    "organisation",
    "organisation_name",
    "level",
    "case_number",
    "flow",
    "state",
    "deadline",
    "period",
    "due",
    "days_overdue",
    "provisional",
    "legal_basis",
    "mediator",
)
HEADERS_ZH = {
    "organisation": "调委会代码",
    "organisation_name": "调委会",
    "level": "层级",
    "case_number": "案号",
    "flow": "流程",
    "state": "状态",
    "deadline": "期限",
    "period": "期间",
    "due": "届满日",
    "days_overdue": "逾期天数",
    "provisional": "暂定",
    "legal_basis": "法律依据",
    "mediator": "承办调解员",
}


@dataclass(frozen=True)
class Filters:
    """Which deadlines a report covers; an unknown level or flow is refused, not ignored."""

    org: str | None = None
    level: str | None = None
    mediator: str | None = None
    flow: str | None = None

    def __post_init__(self) -> None:
        from mediation.workflows import FLOW_MODULES

        if self.level is not None and self.level not in taxonomy.LEVELS:
            raise UsageError(
                _("没有这种 --level：{level}").format(level=repr(self.level)),
                hint=_("可用：{values}").format(values="、".join(taxonomy.LEVELS)),
            )
        if self.flow is not None and self.flow not in FLOW_MODULES:
            raise UsageError(
                _("没有这种 --flow：{flow}").format(flow=repr(self.flow)),
                hint=_("可用：{values}").format(values="、".join(FLOW_MODULES)),
            )


def _statement(f: Filters, *, soon: bool) -> Prepared:
    from mediation.engine.clocks import overdue_conditions

    # Organisation names and flow labels are joined in Python from small tables: the
    # database only walks the open-deadline index and fetches each proceeding once.
    q = (
        select(
            proceeding_table.c.organisation_id,
            proceeding_table.c.level,
            proceeding_table.c.case_number,
            proceeding_table.c.flow,
            proceeding_table.c.state,
            deadline_table.c.label,
            deadline_table.c.period,
            deadline_table.c.due,
            deadline_table.c.provisional,
            deadline_table.c.legal_basis,
            proceeding_table.c.mediator,
        )
        .select_from(deadline_table)
        .join(proceeding_table, proceeding_table.c.id == deadline_table.c.proceeding_id)
    )
    if soon:
        q = q.where(
            deadline_table.c.status == bindparam("status"),
            deadline_table.c.duty.is_(True),
            deadline_table.c.due >= bindparam("as_of"),
            deadline_table.c.due <= bindparam("until"),
        )
    else:
        q = q.where(*overdue_conditions(bindparam("as_of"), status=bindparam("status")))
    if f.org:
        q = q.where(proceeding_table.c.organisation_id == bindparam("org_id"))
    if f.level:
        q = q.where(proceeding_table.c.level == bindparam("level"))
    if f.mediator:
        q = q.where(proceeding_table.c.mediator == bindparam("mediator"))
    if f.flow:
        q = q.where(proceeding_table.c.flow == bindparam("flow"))
    return Prepared(q)


#: One compiled statement per combination of filters in use.
_CACHE: dict[tuple[bool, ...], Prepared] = {}


def _rows(
    store: Store, f: Filters, as_of: date, within: int | None, *, for_csv: bool = False
) -> list[tuple[Any, ...]]:
    """Report rows in report order: by organisation code, then due date, then case.

    ``for_csv`` keeps dates as ISO text and says 是/否 for provisional.
    """
    from mediation.engine.machine import load

    soon = within is not None
    key = (bool(f.org), bool(f.level), bool(f.mediator), bool(f.flow), soon)
    stmt = _CACHE.get(key) or _CACHE.setdefault(key, _statement(f, soon=soon))
    with store.read() as conn:
        orgs = {
            r.id: (r.code, r.name)
            for r in conn.execute(
                select(
                    organisation_table.c.id, organisation_table.c.code, organisation_table.c.name
                )
            )
        }
        org_id = next((i for i, (code, _) in orgs.items() if code == f.org), None)
        if f.org and org_id is None:
            # A typo in a cron line must not read as "nothing overdue".
            raise NotFoundError(
                _("没有代码为 {code} 的组织").format(code=repr(f.org)),
                hint=_("用 `mediation org list` 查看组织代码"),
            )
        params: dict[str, Any] = {
            "status": "open",
            "as_of": as_of,
            "until": as_of + timedelta(days=within or 0),
            "org_id": org_id,
            "level": f.level,
            "mediator": f.mediator,
            "flow": f.flow,
        }
        raw = stmt.tuples(conn, params)
    levels = taxonomy.LEVELS
    flows: dict[str, Any] = {}
    states: dict[tuple[str, str], str] = {}
    provisional = {True: "是", False: "否"} if for_csv else None  # 1 and 0 hash alike
    ordinal = as_of.toordinal()
    to_date = date.fromisoformat
    rows = []
    for org, level, number, flow, state, label, period, due, prov, basis, mediator in raw:
        day = to_date(due) if isinstance(due, str) else due
        spec = flows.get(flow)
        if spec is None:
            spec = flows[flow] = load(flow).flow
        state_label = states.get((flow, state))
        if state_label is None:
            state_label = states[(flow, state)] = spec.state_label(state)
        code, name = orgs[org]
        rows.append(
            (
                code,
                name,
                levels.get(level, level),
                number,
                spec.label,
                state_label,
                label,
                period,
                (day.isoformat() if not isinstance(due, str) else due) if for_csv else day,
                ordinal - day.toordinal(),
                provisional[prov] if provisional else bool(prov),
                basis,
                mediator or "",
            )
        )
    rows.sort(key=itemgetter(0, 8, 3))
    return rows


def overdue_rows(
    store: Store, *, as_of: date, filters: Filters = Filters(), within: int | None = None
) -> list[dict[str, Any]]:
    """Overdue rows (or, with ``within``, rows due within that many days) as dicts; in
    Chinese the legal basis cites articles as 第N条 (mediation.domain.articles)."""
    from mediation.domain.articles import cn_basis
    from mediation.i18n import language

    rows = [dict(zip(COLUMNS, r, strict=True)) for r in _rows(store, filters, as_of, within)]
    if language() == "zh":
        for row in rows:
            row["legal_basis"] = cn_basis(row["legal_basis"] or "")
    return rows


def write_csv(
    store: Store,
    out: TextIO,
    *,
    as_of: date,
    filters: Filters = Filters(),
    within: int | None = None,
) -> int:
    """Stream the report as CSV (header in Chinese, written even for no rows); return the
    number of rows."""
    rows = _rows(store, filters, as_of, within, for_csv=True)
    writer = csv.writer(out)
    writer.writerow([HEADERS_ZH[c] for c in COLUMNS])
    writer.writerows(csv_row(r) for r in rows)  # names never run as formulas
    return len(rows)


#: Column widths in the workbook (characters; a CJK character counts two).
_XLSX_WIDTHS = (12, 24, 8, 22, 12, 14, 24, 10, 12, 10, 6, 40, 12)


def as_xlsx(rows: list[dict[str, Any]], *, as_of: date, title: str) -> bytes:
    """An Excel workbook: the CSV's columns, due dates as dates, days as numbers, on one
    sheet named after the report and its date. No cell is ever a formula."""
    from mediation.domain.spreadsheet import xlsx_bytes

    provisional = {True: "是", False: "否"}
    table = [
        [HEADERS_ZH[c] for c in COLUMNS],
        *([provisional[bool(r[c])] if c == "provisional" else r[c] for c in COLUMNS] for r in rows),
    ]
    return xlsx_bytes(table, sheet=f"{title}（截至{as_of}）", widths=_XLSX_WIDTHS)


def as_table(
    rows: list[dict[str, Any]], *, as_of: date, title: str, remaining: bool = False
) -> str:
    """Plain text, one block per organisation; ``remaining`` shows days left instead."""
    from mediation.reporting.output import table

    out = io.StringIO()
    out.write(f"{title}（截至 {as_of}，共 {len(rows)} 项）\n")
    group: str | None = None
    block: list[dict[str, Any]] = []

    def flush() -> None:
        if block:
            first = block[0]
            out.write(
                f"\n{first['organisation_name']}（{first['organisation']}，{first['level']}）"
                f" {len(block)} 项\n"
            )
            out.write(
                table(
                    [
                        (
                            r["case_number"],
                            r["state"],
                            r["deadline"],
                            r["due"].isoformat() + ("（暂定）" if r["provisional"] else ""),
                            -r["days_overdue"] if remaining else r["days_overdue"],
                            r["mediator"],
                            r["legal_basis"],
                        )
                        for r in block
                    ],
                    [
                        "案号",
                        "状态",
                        "期限",
                        "届满日",
                        "剩余天数" if remaining else "逾期天数",
                        "调解员",
                        "法律依据",
                    ],
                )
            )
            out.write("\n")

    for r in rows:
        if r["organisation"] != group:
            flush()
            group, block = r["organisation"], []
        block.append(r)
    flush()
    return out.getvalue()


def as_html(rows: list[dict[str, Any]], *, as_of: date, title: str, remaining: bool = False) -> str:
    """A self-contained HTML page (autoescaped), in Chinese."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("mediation", "templates"), autoescape=select_autoescape(["html"])
    )
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["organisation"], []).append(r)
    return env.get_template("report_overdue.html").render(
        title=title,
        as_of=as_of,
        groups=groups,
        total=len(rows),
        remaining=remaining,
        days_header="剩余天数" if remaining else "逾期天数",
    )


def as_pdf(
    rows: list[dict[str, Any]], *, as_of: date, title: str, remaining: bool = False
) -> bytes:
    """The HTML version rendered to PDF by WeasyPrint; fetches nothing from anywhere."""
    from mediation.documents._weasy import HTML

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"the report fetches no resources (asked for {url!r})")

    html = as_html(rows, as_of=as_of, title=title, remaining=remaining)
    pdf: bytes = HTML(string=html, url_fetcher=no_fetch).write_pdf()
    return pdf
