"""Intake files as a centre really has them: an Excel workbook, a CSV saved by Excel on
Chinese Windows (GBK), a JSON or TOML file saved by Notepad in GBK — read, or refused with
「请另存为 UTF-8」, never a codec error. Through the CLI, on both databases."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from mediation.cli import app
from mediation.errors import ExitCode
from mediation.storage._tables import dispute_table, party_table
from tests.conftest import intake_record

HEADER = [
    "external_ref",
    "organisation",
    "dispute_type",
    "title",
    "applicant_name",
    "applicant_phone",
    "respondent_name",
    "received_at",
]
ROWS = [
    [
        "GD2026000001",
        "城关",
        "邻里",
        "12345工单：楼上噪音扰民",
        "王秀兰",
        "13812345678",
        "赵强",
        "",
    ],
    [
        "GD2026000002",
        "城关",
        "物业",
        "12345工单：物业费纠纷",
        "钱多多",
        "13912345678",
        "某物业",
        "",
    ],
]


def _import(runner, db_url, path: Path, *more: str):
    return runner.invoke(
        app,
        ["--db", db_url, "intake", "import", str(path), "--channel", "hotline", "--json", *more],
    )


def _disputes(store) -> list[tuple[str, str]]:
    with store.read() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(dispute_table.c.referral_ref, dispute_table.c.title).order_by(
                    dispute_table.c.id
                )
            )
        ]


def _refused(result, *words: str) -> str:
    text = result.stdout + result.stderr
    assert result.exit_code == ExitCode.INVALID_INPUT, (result.exit_code, text, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in text and "codec" not in text
    for word in words:
        assert word in text, text
    return text


def _csv(rows: list[list[str]]) -> str:
    return "\r\n".join(",".join(r) for r in [HEADER, *rows]) + "\r\n"


def test_a_gbk_csv_saved_by_excel_imports(store, db_url, runner, tmp_path):
    path = tmp_path / "12345周报.csv"
    path.write_bytes(_csv(ROWS).encode("gbk"))
    out = _import(runner, db_url, path)
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.stdout)["imported"]) == 2
    assert _disputes(store) == [(r[0], r[3]) for r in ROWS]
    with store.read() as conn:
        names = set(conn.execute(select(party_table.c.name)).scalars())
    assert {"王秀兰", "赵强", "钱多多", "某物业"} <= names


def test_a_gbk_csv_with_a_bad_row_gets_its_report_in_utf8_with_a_bom(
    store, db_url, runner, tmp_path
):
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv([ROWS[0], [*ROWS[1][:2], "吵架", *ROWS[1][3:]]]).encode("gbk"))
    out = _import(runner, db_url, path)
    assert out.exit_code == 3, out.output
    report = Path(json.loads(out.stdout)["report"]).read_bytes()
    assert report.startswith(b"\xef\xbb\xbf")
    assert "吵架" in report.decode("utf-8-sig")
    assert _disputes(store) == []


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("external_ref,title\n1,Café Müller\n".encode("cp1252"), id="cp1252"),
        pytest.param(b"\x00\x81\xff\xfe garbage \xff\xff\x80", id="binary"),
    ],
)
def test_an_unreadable_encoding_is_refused_with_advice(store, db_url, runner, tmp_path, raw):
    path = tmp_path / "export.csv"
    path.write_bytes(raw)
    _refused(_import(runner, db_url, path), "请另存为 UTF-8")
    assert _disputes(store) == []


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_an_excel_workbook_imports(store, db_url, runner, tmp_path):
    rows: list[list[object]] = [list(r) for r in ROWS]
    rows[0][5] = 13812345678  # a phone number typed as a number
    rows[1][7] = "2026-03-01T08:30:00+08:00"
    path = _workbook(tmp_path / "12345周报.xlsx", [rows[0], [None] * 8, rows[1]])
    out = _import(runner, db_url, path)
    assert out.exit_code == 0, out.output
    assert _disputes(store) == [(r[0], r[3]) for r in ROWS]
    with store.read() as conn:
        phones = set(conn.execute(select(party_table.c.phone)).scalars())
    assert "13812345678" in phones


def test_a_workbook_row_problem_names_the_row_excel_shows(store, db_url, runner, tmp_path):
    path = _workbook(
        tmp_path / "bad.xlsx", [list(ROWS[0]), [None] * 8, [*ROWS[1][:2], "吵架", *ROWS[1][3:]]]
    )
    out = _import(runner, db_url, path)
    assert out.exit_code == 3, out.output
    problems = json.loads(out.stdout)["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(4, "dispute_type")]


def test_a_workbook_with_unknown_columns_is_refused(store, db_url, runner, tmp_path):
    book = Workbook()
    book.active.append(["工单号", "标题"])
    book.active.append(["1", "x"])
    path = tmp_path / "columns.xlsx"
    book.save(path)
    _refused(_import(runner, db_url, path), "工单号")


def test_a_workbook_too_large_unpacked_is_refused_before_parsing(
    store, db_url, runner, tmp_path, monkeypatch
):
    from mediation.domain import spreadsheet

    path = _workbook(tmp_path / "big.xlsx", [list(ROWS[0])] * 50)
    unpacked = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    monkeypatch.setattr(spreadsheet, "MAX_XLSX_UNPACKED_BYTES", unpacked - 1)

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed a workbook over the limit")

    monkeypatch.setattr("openpyxl.load_workbook", no_parsing)
    _refused(_import(runner, db_url, path), "解压后过大")
    assert _disputes(store) == []


def test_a_file_over_the_size_cap_is_refused_before_reading(
    store, db_url, runner, tmp_path, monkeypatch
):
    from mediation.engine import imports

    path = _workbook(tmp_path / "big.xlsx", [list(ROWS[0])])
    monkeypatch.setattr(imports, "MAX_IMPORT_FILE_BYTES", path.stat().st_size - 1)
    _refused(_import(runner, db_url, path), "文件过大")


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ("另存为 .xlsx",)),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", ("不是有效的 Excel 工作簿",)),
    ],
)
def test_what_is_not_a_workbook_is_refused_clearly(
    store, db_url, runner, tmp_path, name, raw, words
):
    path = tmp_path / name
    path.write_bytes(raw)
    _refused(_import(runner, db_url, path), *words)


def test_an_intake_record_saved_in_gbk_opens_a_case(store, db_url, runner, tmp_path):
    record = intake_record()
    toml = tmp_path / "intake.toml"
    lines = [
        f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in record.items() if k != "parties"
    ]
    for party in record["parties"]:  # type: ignore[union-attr]
        lines.append("[[parties]]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in party.items()]
    toml.write_bytes("\n".join(lines).encode("gbk"))
    jsn = tmp_path / "intake.json"
    jsn.write_bytes(json.dumps(record, ensure_ascii=False).encode("gb18030"))
    for path in (toml, jsn):
        out = runner.invoke(app, ["--db", db_url, "case", "open", "--from", str(path), "--json"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["case_number"]
    assert [title for _, title in _disputes(store)] == [record["title"]] * 2
    bad = tmp_path / "latin.json"
    bad.write_bytes(json.dumps({"title": "Café, Müller"}, ensure_ascii=False).encode("cp1252"))
    _refused(
        runner.invoke(app, ["--db", db_url, "case", "open", "--from", str(bad)]), "请另存为 UTF-8"
    )


def test_a_calendar_saved_in_gbk_loads(store, db_url, runner, tmp_path):
    store.close()
    path = tmp_path / "2027.toml"
    path.write_bytes(
        'year = 2027\nsource = "国务院办公厅关于2027年部分节假日安排的通知"\n'
        'holidays = ["2027-01-01..2027-01-03"]  # 元旦\n'.encode("gbk")
    )
    out = runner.invoke(app, ["--db", db_url, "calendar", "load", str(path)])
    assert out.exit_code == 0, out.output
    assert "已载入 2027 年" in out.stdout
