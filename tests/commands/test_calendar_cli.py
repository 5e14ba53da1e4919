"""Loading a year's calendar through the CLI recomputes provisional deadlines, on both
databases, and records each change on its case."""

from __future__ import annotations

import json
from pathlib import Path

from mediation.cli import app
from mediation.storage.store import Store
from tests.conftest import intake_record

YEAR_2027 = """
year = 2027
source = "测试用通知（非真实数据）"
holidays = ["2027-01-01..2027-01-03", "2027-01-20"]
workdays = ["2027-01-24"]
"""


def _cli(runner, db_url, *args, now="2026-12-20T10:00:00+08:00"):
    return runner.invoke(app, ["--db", db_url, *args], env={"MEDIATION_NOW": now})


def test_calendar_load_recomputes_provisional_deadlines(store, db_url, runner, tmp_path: Path):
    store.close()
    intake = tmp_path / "intake.json"
    intake.write_text(json.dumps(intake_record(), ensure_ascii=False), encoding="utf-8")
    assert _cli(runner, db_url, "case", "open", "--from", str(intake)).exit_code == 0
    out = _cli(runner, db_url, "case", "advance", "1", "accept")
    assert out.exit_code == 0, out.output
    assert "2027-01-20（暂定）" in out.output

    show = json.loads(_cli(runner, db_url, "case", "show", "1", "--json").output)
    (deadline,) = show["deadlines"]
    assert (deadline["due"], deadline["provisional"]) == ("2027-01-20", True)
    version = show["proceeding"]["version"]

    year = tmp_path / "2027.toml"
    year.write_text(YEAR_2027, encoding="utf-8")
    out = _cli(
        runner, db_url, "calendar", "load", str(year), "--json", now="2026-12-21T09:00:00+08:00"
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["recomputed"][0]["previous_due"] == "2027-01-20"
    assert result["recomputed"][0]["due"] == "2027-01-21"

    show = json.loads(_cli(runner, db_url, "case", "show", "1", "--json").output)
    (deadline,) = show["deadlines"]
    assert (deadline["due"], deadline["provisional"]) == ("2027-01-21", False)
    assert show["proceeding"]["version"] == version + 1
    events = json.loads(_cli(runner, db_url, "case", "history", "1", "--json").output)["events"]
    assert events[-1]["trigger"] == "recompute_deadline"
    assert events[-1]["actor"] == Store(db_url).login()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))

    shown = json.loads(_cli(runner, db_url, "calendar", "show", "2027", "--json").output)
    assert shown["source"] == "loaded" and shown["provisional"] is False
    assert "2027-01-20" in shown["weekday_holidays"]
    assert shown["weekend_workdays"] == ["2027-01-24"]

    # Loading again replaces the year and changes nothing further.
    out = _cli(runner, db_url, "calendar", "load", str(year), "--json")
    assert json.loads(out.output) == {"year": 2027, "replaced": True, "recomputed": []}


def test_bad_calendar_file_writes_nothing(store, db_url, runner, tmp_path: Path):
    store.close()
    bad = tmp_path / "2027.toml"
    bad.write_text('year = 2027\nholidays = ["2027-02-30"]\n', encoding="utf-8")
    out = _cli(runner, db_url, "calendar", "load", str(bad))
    assert out.exit_code == 3
    assert "holidays[0]" in out.output
    shown = json.loads(_cli(runner, db_url, "calendar", "show", "2027", "--json").output)
    assert shown["source"] == "provisional"


def test_deadline_compute_matches_the_engine_rules(runner, tmp_path: Path):
    db = str(tmp_path / "none.db")
    out = runner.invoke(
        app, ["--db", db, "deadline", "compute", "2026-01-31", "--months", "1", "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {"due": "2026-02-28", "provisional": False}
    out = runner.invoke(
        app, ["--db", db, "deadline", "compute", "2026-12-30", "--working-days", "5", "--json"]
    )
    assert json.loads(out.output) == {"due": "2027-01-07", "provisional": True}
    out = runner.invoke(
        app, ["--db", db, "deadline", "compute", "2026-01-31", "--days", "1", "--months", "1"]
    )
    assert out.exit_code == 2 and "中的一项" in out.output
    assert not Path(db).exists()  # computing a date creates no database


def test_missing_next_year_warning_from_december(runner, tmp_path: Path):
    db = str(tmp_path / "none.db")
    args = ["--db", db, "deadline", "compute", "2026-12-02", "--days", "3"]
    late = runner.invoke(app, args, env={"MEDIATION_NOW": "2026-12-01T08:00:00+08:00"})
    early = runner.invoke(app, args, env={"MEDIATION_NOW": "2026-11-30T08:00:00+08:00"})
    assert "2027 年节假日安排尚未载入" in late.output
    assert "尚未载入" not in early.output
