"""A report as people read it: plain text, CSV, an Excel workbook, a self-contained HTML
page with the charts, and PDF."""

from __future__ import annotations

import csv
from typing import Any, TextIO

from mediation.domain.spreadsheet import csv_row
from mediation.reporting.stats.figures import DIMENSION_LABELS, FIGURE_BY_KEY, FIGURES
from mediation.reporting.stats.tally import StatsReport

TITLE = "矛盾纠纷调解统计报表"
#: The columns of the per-group table in text, HTML and PDF (CSV and JSON carry all).
SUMMARY = (
    "received",
    "accepted",
    "settled",
    "settlement_rate",
    "failed",
    "withdrawn",
    "transferred",
    "in_progress",
    "duration_median",
    "overdue_rate",
    "follow_up_rate",
    "satisfaction_rate",
    "official_rate",
)
#: Sections of the full list of figures.
SECTIONS = (
    ("收案与受理", ("received", "disputes", "awaiting", "rejected", "refused", "accepted")),
    (
        "办理结果",
        ("settled", "written", "oral", "failed", "withdrawn", "transferred", "in_progress"),
    ),
    ("化解率与化解层级", ("settlement_rate", "at_village", "at_township", "above_township")),
    (
        "办理时长与超期",
        (
            "duration_median",
            "duration_mean",
            "working_median",
            "working_mean",
            "overdue",
            "overdue_rate",
        ),
    ),
    (
        "司法确认",
        (
            "confirmation_applied",
            "confirmation_rate",
            "confirmed",
            "dismissed",
            "confirmation_refused",
            "confirmation_pending",
            "confirmed_rate",
        ),
    ),
    (
        "回访",
        (
            "followed_up",
            "follow_up_rate",
            "performed",
            "performance_rate",
            "satisfied",
            "satisfaction_rate",
        ),
    ),
    ("重复纠纷", ("repeats", "repeat_rate")),
    (
        "调解（报表口径）",
        (
            "official_mediated",
            "official_settled",
            "official_rate",
            "agreement_amount",
            "amount_recorded",
            "people_involved",
        ),
    ),
    ("矛盾纠纷排查", ("sweeps_held", "sweep_found", "sweep_opened")),
    ("预防纠纷与防止激化", tuple(f.key for f in FIGURES if f.key.startswith("prevented_"))),
)


def show(key: str, value: Any) -> str:
    """A figure as people read it: 95.6%, 12.5 日, — for a rate of nothing."""
    if value is None:
        return "—"
    unit = FIGURE_BY_KEY[key].unit
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "日":
        return f"{value:g}"
    if unit == "元":
        return f"{value:,.2f}"
    return str(value)


def scope_line(report: StatsReport) -> str:
    sel = report.selection
    where = f"{report.organisation}（{sel.org}）及下级" if sel.org else "全部调委会"
    return (
        f"统计期间 {sel.start} 至 {sel.end}（按收案日期；报表口径按调解结束、排查、登记日期）"
        f" · 截至 {sel.as_of} · {where}"
    )


def as_table(report: StatsReport) -> str:
    """Plain text: the per-group table (with ``--by``), then every figure of the total."""
    from mediation.reporting.output import fields, table

    out = [TITLE, scope_line(report), ""]
    by = report.selection.by
    if by:
        headers = [DIMENSION_LABELS[by], *(FIGURE_BY_KEY[k].label for k in SUMMARY)]
        body = [[label, *(show(k, figs[k]) for k in SUMMARY)] for _, label, figs in report.rows]
        body.append(["合计", *(show(k, report.total[k]) for k in SUMMARY)])
        out += [table(body, headers), ""]
    for name, keys in SECTIONS:
        out.append(f"【{name}】")
        out.append(fields([(FIGURE_BY_KEY[k].label, _with_unit(k, report.total[k])) for k in keys]))
        out.append("")
    return "\n".join(out)


def _with_unit(key: str, value: Any) -> str:
    unit = FIGURE_BY_KEY[key].unit
    text = show(key, value)
    return text if value is None or unit == "%" else f"{text} {unit}"


def sheet_rows(report: StatsReport) -> list[list[Any]]:
    """The header (in Chinese), one row per group, then 合计; every figure a column, a
    figure of nothing (a rate with no cases) an empty cell."""
    by = report.selection.by
    rows: list[list[Any]] = [
        [DIMENSION_LABELS[by] if by else "范围", *(f"{f.label}（{f.unit}）" for f in FIGURES)]
    ]
    for _, label, figs in [*report.rows, (None, "合计", report.total)]:
        rows.append([label, *("" if figs[f.key] is None else figs[f.key] for f in FIGURES)])
    return rows


def write_csv(report: StatsReport, out: TextIO) -> None:
    """:func:`sheet_rows` as CSV."""
    writer = csv.writer(out)
    # A label (a mediator's name) never runs as a formula.
    writer.writerows(csv_row(row) for row in sheet_rows(report))


def as_xlsx(report: StatsReport) -> bytes:
    """:func:`sheet_rows` as an Excel workbook (no cell is ever a formula)."""
    from mediation.domain.spreadsheet import xlsx_bytes

    widths = [14, *(max(10, 2 * len(f.label) + 6) for f in FIGURES)]
    return xlsx_bytes(sheet_rows(report), sheet=TITLE, widths=widths)


def as_html(report: StatsReport) -> str:
    """A self-contained HTML page (autoescaped) with the four charts as inline SVG."""
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    from mediation.reporting import charts

    env = Environment(
        loader=PackageLoader("mediation", "templates"), autoescape=select_autoescape(["html"])
    )
    c = report.charts
    svgs = [
        charts.volume_by_type(c.volume),
        charts.settlement_by_level(c.by_level),
        charts.duration_distribution(c.durations),
        charts.overdue_trend(c.overdue),
    ]
    by = report.selection.by
    return env.get_template("report_stats.html").render(
        title=TITLE,
        scope=scope_line(report),
        dimension=DIMENSION_LABELS[by] if by else None,
        summary=[FIGURE_BY_KEY[k] for k in SUMMARY],
        rows=[(label, {k: show(k, figs[k]) for k in SUMMARY}) for _, label, figs in report.rows],
        total_row={k: show(k, report.total[k]) for k in SUMMARY},
        sections=[
            (name, [(FIGURE_BY_KEY[k], _with_unit(k, report.total[k])) for k in keys])
            for name, keys in SECTIONS
        ],
        figures=FIGURES,
        charts=[Markup(svg) for svg in svgs],  # our own SVG; every text in it is escaped
    )


def as_pdf(report: StatsReport) -> bytes:
    """The HTML version rendered to PDF by WeasyPrint (charts included); fetches nothing."""
    from mediation.documents._weasy import HTML

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"the report fetches no resources (asked for {url!r})")

    pdf: bytes = HTML(string=as_html(report), url_fetcher=no_fetch).write_pdf()
    return pdf
