"""The overdue and due-soon reports, on both databases, through the CLI."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from mediation.cli import app
from mediation.domain import intake
from mediation.engine import cases
from mediation.engine.queries import require_case
from tests.conftest import T0, intake_record


def _open(store, org: str, *, accept_days: int | None = 0, mediator: str | None = None) -> str:
    opened = cases.open_case(
        store, intake.validate(intake_record(organisation=org)), actor="t", now=T0
    )
    if accept_days is not None:
        at = T0 + timedelta(days=accept_days)
        cases.advance(store, opened.proceeding_id, "accept", actor="t", now=at)
        if mediator:
            cases.advance(
                store,
                opened.proceeding_id,
                "assign",
                actor="t",
                now=at,
                payload={"mediators": [mediator], "selection": "designated"},
            )
    return opened.case_number


@pytest.fixture
def loaded(store):
    """Cases accepted 2026-03-02 (due 04-02), 03-05 (due 04-07: 清明 rolls it), one closed
    in time, one never accepted, across two committees."""
    a = _open(store, "桥头", mediator="周明")  # due 2026-04-02
    b = _open(store, "城关", accept_days=3, mediator="吴桂英")  # accepted 03-05, due 04-07
    c = _open(store, "桥头")  # accepted, then refused: clock stops
    pid, _ = require_case(store, c)
    cases.advance(
        store,
        pid,
        "refuse",
        actor="t",
        now=T0 + timedelta(days=1),
        payload={"party": "李四", "reason": "明确拒绝"},
    )
    _open(store, "桥头", accept_days=None)  # never accepted: no clock
    store.close()
    return {"a": a, "b": b, "c": c}


def _cli(runner, db_url, *args):
    return runner.invoke(app, ["--db", db_url, *args])


def test_overdue_rows_grouped_by_organisation(loaded, db_url, runner):
    out = _cli(runner, db_url, "report", "overdue", "--as-of", "2026-04-08", "--format", "csv")
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.stdout_bytes.decode("utf-8-sig"))))
    assert rows[0][:4] == ["调委会代码", "调委会", "层级", "案号"]
    body = [(r[0], r[3], r[8], r[9], r[12]) for r in rows[1:]]
    assert body == [
        ("城关", loaded["b"], "2026-04-07", "1", "吴桂英"),
        ("桥头", loaded["a"], "2026-04-02", "6", "周明"),
    ]
    assert all("若干规定 art. 33" in r[11] for r in rows[1:])


def test_nothing_overdue_prints_nothing_and_exits_zero(loaded, db_url, runner):
    for fmt in ("table", "csv", "html"):
        out = _cli(runner, db_url, "report", "overdue", "--as-of", "2026-04-02", "--format", fmt)
        assert (out.exit_code, out.output) == (0, ""), fmt
    out = _cli(runner, db_url, "report", "overdue", "--as-of", "2026-04-02", "--fail-if-any")
    assert (out.exit_code, out.output) == (0, "")


def test_fail_if_any_and_filters(loaded, db_url, runner):
    out = _cli(runner, db_url, "report", "overdue", "--as-of", "2026-04-03", "--fail-if-any")
    assert out.exit_code == 8
    assert loaded["a"] in out.output and loaded["b"] not in out.output
    for args, expected in (
        (["--org", "城关"], [loaded["b"]]),
        (["--mediator", "周明"], [loaded["a"]]),
        (["--level", "village"], [loaded["a"]]),
        (["--flow", "peoples"], [loaded["b"], loaded["a"]]),
        (["--flow", "medical_committee"], []),
    ):
        out = _cli(
            runner, db_url, "report", "overdue", "--as-of", "2026-04-08", "--format", "json", *args
        )
        assert out.exit_code == 0, out.output
        got = [r["case_number"] for r in json.loads(out.output)]
        assert got == expected, args


def test_a_mistyped_filter_is_an_error_not_an_empty_report(loaded, db_url, runner):
    for args, code in (
        (["--org", "桥头X"], 4),
        (["--level", "town"], 2),
        (["--flow", "people"], 2),
    ):
        out = _cli(
            runner, db_url, "report", "overdue", "--as-of", "2026-04-08", "--fail-if-any", *args
        )
        assert out.exit_code == code, (args, out.output)


def test_due_soon(loaded, db_url, runner):
    out = _cli(
        runner,
        db_url,
        "report",
        "due-soon",
        "--as-of",
        "2026-04-01",
        "--within",
        "3",
        "--format",
        "json",
    )
    rows = json.loads(out.output)
    assert [(r["case_number"], r["due"]) for r in rows] == [(loaded["a"], "2026-04-02")]
    table = _cli(runner, db_url, "report", "due-soon", "--as-of", "2026-04-01", "--within", "3")
    assert "剩余天数" in table.output


def test_pdf_is_chinese_with_embedded_fonts(loaded, db_url, runner, tmp_path: Path):
    pdf = tmp_path / "overdue.pdf"
    out = _cli(
        runner,
        db_url,
        "report",
        "overdue",
        "--as-of",
        "2026-04-08",
        "--format",
        "pdf",
        "-o",
        str(pdf),
    )
    assert out.exit_code == 0, out.output
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "超期案件督办表" in text and "城关镇人民调解委员会" in text
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    lines = fonts.splitlines()[2:]
    assert lines and all(" yes yes " in line for line in lines)
    assert any("CJK" in line for line in lines)


def test_bad_options(loaded, db_url, runner):
    assert _cli(runner, db_url, "report", "overdue", "--format", "xls").exit_code == 2
    assert _cli(runner, db_url, "report", "overdue", "--format", "pdf").exit_code == 2
    assert _cli(runner, db_url, "report", "overdue", "--as-of", "2026-13-01").exit_code == 3
