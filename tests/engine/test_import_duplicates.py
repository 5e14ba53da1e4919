"""``intake import`` warns, row by row, about a dispute already open with the same parties
and dispute type (in the database, or earlier in the same file), imports it all the same,
and lists those rows in its summary: as ``case open`` does for one record."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from mediation.cli import app
from mediation.engine.imports import ROW_FIELDS
from tests.conftest import intake_record

NOW = {"MEDIATION_NOW": "2026-03-02T09:00:00+08:00"}
ZHANG_ID = "11010519491231002X"  # 张三 of intake_record()


def _row(ref: str, applicant: str, respondent: str, dispute_type: str, **more: str) -> dict:
    row = dict.fromkeys(ROW_FIELDS, "")
    row.update(
        external_ref=ref,
        organisation="城关",
        dispute_type=dispute_type,
        title="12345工单：邻里纠纷",
        summary="来电人反映邻里纠纷。",
        applicant_name=applicant,
        respondent_name=respondent,
        **more,
    )
    return row


def _csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(ROW_FIELDS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_import_warns_per_duplicate_row_and_still_imports(store, db_url: str, tmp_path: Path):
    runner = CliRunner()
    record = tmp_path / "intake.json"
    record.write_text(json.dumps(intake_record(), ensure_ascii=False), encoding="utf-8")
    opened = runner.invoke(app, ["--db", db_url, "case", "open", "--from", str(record)], env=NOW)
    assert opened.exit_code == 0, opened.output  # （2026）桥头人调字第1号: 张三 v 李四, 邻里

    path = _csv(
        tmp_path / "hotline.csv",
        [
            # row 2: the same parties (张三 by ID number, 李四 by name), the same type
            _row("GD1", "张三", "李四", "neighbourhood", applicant_id_number=ZHANG_ID),
            # row 3: the same parties, another type: not the same dispute
            _row("GD2", "张三", "李四", "contract", applicant_id_number=ZHANG_ID),
            # row 4: new parties; row 5: the same again, later in the file
            _row("GD3", "王五", "赵六", "neighbourhood"),
            _row("GD4", "王五", "赵六", "neighbourhood"),
        ],
    )
    args = ["--db", db_url, "intake", "import", str(path), "--channel", "hotline"]
    result = runner.invoke(app, args, env=NOW)
    assert result.exit_code == 0, result.output
    warnings = result.stderr.splitlines()
    assert warnings == [
        "注意：第 2 行（（2026）城关人调字第1号）的当事人、纠纷类型与未结案件 "
        "（2026）桥头人调字第1号（桥头）相同，请核实是否重复登记",
        "注意：第 5 行（（2026）城关人调字第4号）的当事人、纠纷类型与未结案件 "
        "（2026）城关人调字第3号（城关）相同，请核实是否重复登记",
    ]
    lines = result.stdout.splitlines()
    assert lines[0] == "已导入 4 件：（2026）城关人调字第1号 … （2026）城关人调字第4号"
    assert lines[1].startswith("其中 2 件可能重复登记（第 2、5 行）")

    again = _csv(
        tmp_path / "grid.csv",
        [_row("W1", "王五", "赵六", "neighbourhood")],
    )
    as_json = runner.invoke(
        app,
        ["--db", db_url, "intake", "import", str(again), "--channel", "grid", "--json"],
        env=NOW,
    )
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["imported"] == ["（2026）城关人调字第5号"]
    assert data["duplicates"] == [
        {
            "row": 2,
            "case_number": "（2026）城关人调字第5号",
            "duplicates": [
                {"case_number": "（2026）城关人调字第3号", "organisation": "城关"},
                {"case_number": "（2026）城关人调字第4号", "organisation": "城关"},
            ],
        }
    ]
