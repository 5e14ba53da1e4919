"""Bulk intake: all rows or none, with a row-level error report, on both databases."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import func, select

from mediation.cli import app
from mediation.domain.personal import check_digit
from mediation.engine.imports import ROW_FIELDS
from mediation.storage._tables import dispute_table, event_table, party_table, proceeding_table

NOW = {"MEDIATION_NOW": "2026-03-02T09:00:00+08:00"}
COLUMNS = list(ROW_FIELDS)


def _id_number(i: int) -> str:
    body = f"330681{19600101 + (i % 28):08d}{i % 1000:03d}"
    return body + check_digit(body)


def _row(i: int) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        external_ref=f"GD2026{i:06d}",
        organisation="城关",
        dispute_type="neighbourhood" if i % 2 else "物业",
        title=f"12345工单：邻里噪音扰民（第{i}号）",
        summary="来电人反映楼上夜间噪音。",
        applicant_name=f"来电人{i}",
        applicant_id_number=_id_number(i),
        applicant_phone=f"138{i:08d}",
        respondent_name=f"住户{i}",
        respondent_address=f"城关镇人民路{i}号",
    )
    return row


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _counts(store) -> dict[str, int]:
    with store.read() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (dispute_table, party_table, proceeding_table, event_table)
        }


# Twenty bad rows (0-based index into the data rows) and the field each one gets wrong.
BAD = {
    3: (
        "applicant_id_number",
        lambda r: r.update(
            applicant_id_number=r["applicant_id_number"][:-1]
            + ("0" if r["applicant_id_number"][-1] != "0" else "1")
        ),
    ),
    47: ("title", lambda r: r.update(title="")),
    88: ("dispute_type", lambda r: r.update(dispute_type="吵架")),
    120: ("organisation", lambda r: r.update(organisation="不存在")),
    151: ("applicant_phone", lambda r: r.update(applicant_phone="12ab")),
    199: ("respondent_name", lambda r: r.update(respondent_name="")),
    230: ("external_ref", lambda r: r.update(external_ref="GD2026000001")),  # duplicate of row 1
    288: ("risk_level", lambda r: r.update(risk_level="purple")),
    301: ("applicant_gender", lambda r: r.update(applicant_gender="x")),
    355: ("received_at", lambda r: r.update(received_at="昨天")),
    402: ("respondent_kind", lambda r: r.update(respondent_kind="company")),
    444: ("applicant_id_number", lambda r: r.update(applicant_id_number="33068119601340001X")),
    500: ("application_mode", lambda r: r.update(application_mode="fax")),
    555: ("title", lambda r: r.update(title="长" * 201)),
    612: ("applicant_name", lambda r: r.update(applicant_name="")),
    700: ("respondent_phone", lambda r: r.update(respondent_phone="1")),
    777: ("dispute_type", lambda r: r.update(dispute_type="")),
    820: ("organisation", lambda r: r.update(organisation="桥")),
    901: ("respondent_legal_representative", lambda r: r.update(respondent_kind="organisation")),
    999: ("applicant_id_number", lambda r: r.update(applicant_id_number="123")),
}


def test_thousand_rows_with_twenty_bad_ones_import_nothing_then_everything(
    store, db_url, runner, tmp_path: Path
):
    rows = [_row(i) for i in range(1000)]
    for index, (_, spoil) in BAD.items():
        spoil(rows[index])
    path = _write_csv(tmp_path / "12345.csv", rows)
    before = _counts(store)

    out = runner.invoke(
        app,
        ["--db", db_url, "intake", "import", str(path), "--channel", "hotline"],
        env=NOW,
    )
    assert out.exit_code == 3, out.output
    assert "1000 行中有 20 行有问题" in out.output and "未导入任何数据" in out.output
    assert _counts(store) == before

    report = tmp_path / "12345.csv.errors.csv"
    with report.open(encoding="utf-8-sig") as f:
        problems = list(csv.DictReader(f))
    # CSV rows are numbered as in a spreadsheet: the header is row 1, data row i is row i + 2.
    expected = {(index + 2, field) for index, (field, _) in BAD.items()}
    assert {(int(p["row"]), p["field"]) for p in problems} == expected
    assert all(p["problem"] and p["fix"] for p in problems)

    fixed = [_row(i) for i in range(1000)]
    out = runner.invoke(
        app,
        [
            "--db",
            db_url,
            "intake",
            "import",
            str(_write_csv(path, fixed)),
            "--channel",
            "hotline",
            "--json",
        ],
        env=NOW,
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert len(result["imported"]) == 1000 and result["problems"] == []
    after = _counts(store)
    assert after["dispute"] == before["dispute"] + 1000
    assert after["party"] == before["party"] + 2000
    assert after["event"] == before["event"] + 1000
    with store.read() as conn:
        refs = (
            conn.execute(
                select(dispute_table.c.referral_ref).where(dispute_table.c.channel == "hotline")
            )
            .scalars()
            .all()
        )
    assert sorted(refs) == [f"GD2026{i:06d}" for i in range(1000)]

    # The same export again: every row was imported before; nothing is written.
    again = runner.invoke(
        app,
        [
            "--db",
            db_url,
            "intake",
            "import",
            str(path),
            "--channel",
            "hotline",
            "--report",
            str(tmp_path / "again.csv"),
        ],
        env=NOW,
    )
    assert again.exit_code == 3
    assert _counts(store) == after
    with (tmp_path / "again.csv").open(encoding="utf-8-sig") as f:
        assert {p["field"] for p in csv.DictReader(f)} == {"external_ref"}


def test_json_referral_list_with_defaults(store, db_url, runner, tmp_path: Path):
    records = [
        {
            "external_ref": f"（2026）浙0681民诉前调{i}号",
            "dispute_type": "contract",
            "title": "买卖合同货款纠纷",
            "parties": [
                {"role": "applicant", "name": f"王{i}"},
                {
                    "role": "respondent",
                    "kind": "organisation",
                    "name": "某某商贸有限公司",
                    "legal_representative": "李某",
                },
            ],
        }
        for i in range(1, 4)
    ]
    path = tmp_path / "court.json"
    path.write_text(json.dumps({"records": records}, ensure_ascii=False), encoding="utf-8")
    out = runner.invoke(
        app,
        ["--db", db_url, "intake", "import", str(path), "--channel", "court", "--org", "青山"],
        env=NOW,
    )
    # Court referrals must name the referring court: refused row by row.
    assert out.exit_code == 3
    assert "referring_organ" in out.output
    out = runner.invoke(
        app,
        [
            "--db",
            db_url,
            "intake",
            "import",
            str(path),
            "--channel",
            "court",
            "--org",
            "青山",
            "--referring-organ",
            "青山县人民法院",
        ],
        env=NOW,
    )
    assert out.exit_code == 0, out.output
    with store.read() as conn:
        got = conn.execute(
            select(dispute_table.c.referring_organ, dispute_table.c.referral_ref).order_by(
                dispute_table.c.id
            )
        ).all()
    assert [tuple(r) for r in got] == [("青山县人民法院", r["external_ref"]) for r in records]


def test_unknown_channel_and_unreadable_file(store, db_url, runner, tmp_path: Path):
    bad_columns = tmp_path / "bad.csv"
    bad_columns.write_text("工单号,标题\n1,x\n", encoding="utf-8")
    out = runner.invoke(
        app, ["--db", db_url, "intake", "import", str(bad_columns), "--channel", "hotline"]
    )
    assert out.exit_code == 3 and "未知的 CSV 列" in out.output
    out = runner.invoke(
        app, ["--db", db_url, "intake", "import", str(bad_columns), "--channel", "fax"]
    )
    assert out.exit_code == 3 and "--channel" in out.output
