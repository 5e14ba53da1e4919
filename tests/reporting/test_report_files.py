"""Reports as files a centre opens in Excel on Chinese Windows, and as JSON a program reads:
valid JSON when there is nothing to report, CSV with a BOM, Excel workbooks (``--format
xlsx``) whose cells never run as formulas. Through the CLI, on both databases."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mediation.cli import app
from mediation.domain import intake
from mediation.engine import cases
from mediation.reporting import reports
from tests.conftest import T0, intake_record

FORMULA = '=HYPERLINK("http://evil.example/","点我")'
BOM = b"\xef\xbb\xbf"
REPORTS = {
    "overdue": ["report", "overdue", "--as-of", "2026-04-08"],
    "due-soon": ["report", "due-soon", "--as-of", "2026-03-30", "--within", "7"],
    "stats": ["report", "stats", "--as-of", "2026-04-08", "--by", "mediator"],
}


@pytest.fixture
def overdue_case(store) -> str:
    """A case accepted on T0 (its one-month clock due 2026-04-02) whose mediator's name is a
    spreadsheet formula."""
    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    for trigger, data in (
        ("accept", None),
        ("assign", {"mediators": [FORMULA], "selection": "designated"}),
    ):
        cases.advance(store, opened.proceeding_id, trigger, actor="t", now=T0, payload=data)
    store.close()
    return opened.case_number


def _cli(runner, db_url, *args):
    return runner.invoke(app, ["--db", db_url, *args])


@pytest.mark.parametrize("report", ["overdue", "due-soon"])
def test_json_of_an_empty_report_is_an_empty_list(store, db_url, runner, report):
    store.close()
    out = _cli(runner, db_url, *REPORTS[report], "--format", "json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == []
    assert out.stdout.strip() == "[]"


def test_json_of_a_report_is_a_list_of_rows(overdue_case, db_url, runner):
    out = _cli(runner, db_url, *REPORTS["overdue"], "--format", "json")
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [(r["case_number"], r["due"]) for r in rows] == [(overdue_case, "2026-04-02")]


def test_json_of_statistics_with_no_cases_is_valid(store, db_url, runner):
    store.close()
    out = _cli(runner, db_url, *REPORTS["stats"], "--format", "json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["total"]["received"] == 0


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_csv_is_utf8_with_a_bom_for_excel(overdue_case, db_url, runner, tmp_path, report):
    path = tmp_path / f"{report}.csv"
    out = _cli(runner, db_url, *REPORTS[report], "--format", "csv", "-o", str(path))
    assert out.exit_code == 0, out.output
    raw = path.read_bytes()
    assert raw.startswith(BOM) and raw.count(BOM) == 1
    cells = [c for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"))) for c in row]
    assert "'" + FORMULA in cells  # still neutralised
    # Redirected stdout (`> report.csv`) is a file too.
    out = _cli(runner, db_url, *REPORTS[report], "--format", "csv")
    assert out.stdout_bytes == raw


def _cells(path: Path) -> list[list[object]]:
    book = load_workbook(path)
    assert len(book.worksheets) == 1
    return [[c.value for c in row] for row in book.worksheets[0].iter_rows()]


def _no_formulas(path: Path) -> None:
    book = load_workbook(path)
    for row in book.worksheets[0].iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str) and cell.value.startswith("="):
                assert cell.quotePrefix, cell.coordinate
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in archive.read(n) for n in sheets)


def test_overdue_as_an_excel_workbook(overdue_case, db_url, runner, tmp_path):
    path = tmp_path / "督办.xlsx"
    old = os.umask(0o022)
    try:
        out = _cli(runner, db_url, *REPORTS["overdue"], "--format", "xlsx", "-o", str(path))
    finally:
        os.umask(old)
    assert (out.exit_code, out.stdout) == (0, ""), out.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = _cells(path)
    assert rows[0][:4] == ["调委会代码", "调委会", "层级", "案号"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["案号"] == overdue_case
    assert row["届满日"].date() == date(2026, 4, 2)  # a date cell, not text
    assert row["逾期天数"] == 6  # a number
    assert row["承办调解员"] == FORMULA  # shown as typed, stored as text
    assert row["暂定"] == "否"
    _no_formulas(path)


def test_due_soon_and_statistics_as_excel_workbooks(overdue_case, db_url, runner, tmp_path):
    soon = tmp_path / "soon.xlsx"
    out = _cli(runner, db_url, *REPORTS["due-soon"], "--format", "xlsx", "-o", str(soon))
    assert out.exit_code == 0, out.output
    assert _cells(soon)[1][3] == overdue_case
    _no_formulas(soon)
    stats = tmp_path / "stats.xlsx"
    out = _cli(runner, db_url, *REPORTS["stats"], "--format", "xlsx", "-o", str(stats))
    assert out.exit_code == 0, out.output
    rows = _cells(stats)
    assert rows[0][:2] == ["调解员", "收案（件）"]
    assert [r[0] for r in rows[1:]] == [FORMULA, "合计"]
    assert rows[-1][1] == 1  # a number
    _no_formulas(stats)


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_a_workbook_is_never_printed_on_a_terminal(overdue_case, db_url, runner, report):
    out = _cli(runner, db_url, *REPORTS[report], "--format", "xlsx")
    assert out.exit_code == 2, out.output
    assert out.stdout == ""
    assert "Excel 工作簿" in out.stderr and "-o" in out.stderr
    assert "Traceback" not in out.output


def test_a_workbook_is_never_written_through_a_symlink(overdue_case, db_url, runner, tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / "report.xlsx"
    link.symlink_to(target)
    for report in sorted(REPORTS):
        out = _cli(runner, db_url, *REPORTS[report], "--format", "xlsx", "-o", str(link))
        assert out.exit_code == 3 and "符号链接" in out.stderr, out.output
    assert target.read_text(encoding="utf-8") == "keep me"


def test_the_workbook_writer_neutralises_every_formula_start(tmp_path):
    from mediation.domain.spreadsheet import xlsx_bytes

    risky = ["=1+1", "+1", "-A1", "@SUM(A1)", "\tx", "ok", "\x01bad control"]
    path = tmp_path / "x.xlsx"
    path.write_bytes(xlsx_bytes([["头"], *([v] for v in risky), [-3]], sheet="s"))
    book = load_workbook(path)
    cells = [row[0] for row in book.worksheets[0].iter_rows()]
    assert [c.value for c in cells] == ["头", *risky[:-1], "bad control", -3]
    assert all(c.data_type != "f" for c in cells)
    assert [c.quotePrefix for c in cells[1:6]] == [True] * 5


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "html", "pdf"])
def test_a_file_asked_for_is_written_for_an_empty_report(store, db_url, runner, tmp_path, fmt):
    """Nothing overdue: nothing printed (cron stays silent), but ``-o FILE`` is written, so
    a supervisor who asked for the day's report has it, with its columns and no rows."""
    store.close()
    target = tmp_path / f"overdue.{fmt}"
    out = _cli(runner, db_url, *REPORTS["overdue"], "--format", fmt, "-o", str(target))
    assert out.exit_code == 0, out.output
    assert out.stdout == ""
    assert target.exists()
    if fmt == "csv":
        text = target.read_bytes().decode("utf-8-sig")
        assert text.splitlines()[0].split(",")[0] == reports.HEADERS_ZH[reports.COLUMNS[0]]
        assert len(text.splitlines()) == 1
    elif fmt == "xlsx":
        sheet = load_workbook(target).worksheets[0]
        values = [v for row in sheet.iter_rows(values_only=True) for v in row if v]
        assert reports.HEADERS_ZH[reports.COLUMNS[0]] in values
    elif fmt == "pdf":
        text = subprocess.run(
            ["pdftotext", str(target), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "超期案件督办表" in text
