"""``scheduler run --dry-run``: what a real run would do, and nothing written.

At each moment the dry run is taken first, the database is compared with a snapshot taken
before it, and then the real run at the same moment is compared with what the dry run
listed: the reminders and overdue marks claimed, the consequences fired, the notices sent.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from mediation.cli import app
from mediation.domain import intake
from mediation.domain.clock import BUSINESS_TZ
from mediation.engine import cases
from mediation.engine.notifiers import LogFileNotifier
from mediation.engine.scheduler import dispatch, plan
from mediation.storage._tables import deadline_table, proceeding_table
from tests.conftest import T0, intake_record, snapshot


def at(day: str, hour: int = 8) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=BUSINESS_TZ)


def _open(store, *, accepted: datetime, **overrides: object) -> int:
    opened = cases.open_case(
        store, intake.validate(intake_record(**overrides)), actor="t", now=accepted
    )
    cases.advance(store, opened.proceeding_id, "accept", actor="t", now=accepted)
    return opened.proceeding_id


class Failing:
    """A notifier whose server is down: what it was given stays queued."""

    def send(self, subject: str, body: str, *, kind: str, at: datetime) -> None:
        raise ConnectionRefusedError("smtp down")


def _claimed(store, column: str, now: datetime) -> list[tuple[str, str]]:
    """(case number, deadline label) of the deadlines whose ``column`` was set at ``now``."""
    d, p = deadline_table, proceeding_table
    with store.read() as conn:
        rows = conn.execute(
            select(p.c.case_number, d.c.label)
            .join(p, p.c.id == d.c.proceeding_id)
            .where(d.c[column] == now)
            .order_by(d.c.id)
        )
        return [tuple(r) for r in rows]


def test_the_dry_run_lists_exactly_what_the_real_run_then_does(store, tmp_path: Path):
    _open(store, accepted=T0, flow="medical_committee", dispute_type="medical")  # due 04-14
    _open(store, accepted=T0)  # one month: due 04-02
    _open(store, accepted=T0 + timedelta(days=3))  # due 04-07
    log = tmp_path / "notices.jsonl"
    sent: list[str] = []

    for now, notifiers in (
        (at("2026-03-30"), [Failing()]),  # a reminder, left queued: the SMTP server is down
        (at("2026-05-01"), [LogFileNotifier(log)]),
        (at("2026-05-02"), [LogFileNotifier(log)]),  # nothing left to do
    ):
        before = snapshot(store)
        planned = plan(store, now=now)
        assert snapshot(store) == before, f"the dry run at {now} wrote to the database"

        done = dispatch(store, now=now, notifiers=notifiers)
        assert [(r["case_number"], r["deadline"]) for r in planned.reminders] == _claimed(
            store, "reminded_at", now
        )
        assert [(r["case_number"], r["deadline"]) for r in planned.overdue] == _claimed(
            store, "overdue_at", now
        )
        assert list(planned.consequences) == done.consequences
        new = (
            [json.loads(x)["subject"] for x in log.read_text().splitlines()] if log.exists() else []
        )
        if isinstance(notifiers[0], LogFileNotifier):
            assert [n["subject"] for n in planned.notifications] == new[len(sent) :]
            assert done.delivered == len(planned.notifications)
        else:
            assert done.failed_deliveries == len(planned.notifications) == 1
        sent = new

        if now == at("2026-03-30"):
            assert len(planned.reminders) == 1 and "04-02" in planned.notifications[0]["subject"]
        if now == at("2026-05-01"):
            # The medical clock expires (deemed failure), it is not marked overdue.
            assert len(planned.overdue) == 2
            assert [c["trigger"] for c in planned.consequences] == ["deem_failed"]
            # The reminder queued a month ago goes first, then this run's notices.
            kinds = [n["kind"] for n in planned.notifications]
            assert kinds == ["reminder", "consequence", "overdue", "overdue"]
        if now == at("2026-05-02"):
            assert planned.empty


def test_scheduler_run_dry_run_on_the_command_line(store, db_url: str):
    _open(store, accepted=T0)  # due 04-02
    runner = CliRunner()
    before = snapshot(store)
    env = {"MEDIATION_NOW": "2026-04-08T08:00:00+08:00"}

    shown = runner.invoke(app, ["--db", db_url, "scheduler", "run", "--dry-run"], env=env)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("演练（--dry-run）：若于 2026-04-08 08:00 运行一次")
    assert "未写入、未发送任何内容" in lines[0]
    assert "标记超期 1 项：" in lines
    assert "  （2026）桥头人调字第1号 调解期限 2026-04-02 届满" in lines
    assert "期满自动处理 0 项" in lines
    assert "发送通知 1 项：" in lines

    as_json = runner.invoke(
        app, ["--db", db_url, "scheduler", "run", "--dry-run", "--json"], env=env
    )
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert [r["case_number"] for r in data["overdue"]] == ["（2026）桥头人调字第1号"]
    assert data["reminders"] == [] and len(data["notifications"]) == 1
    assert snapshot(store) == before

    real = runner.invoke(app, ["--db", db_url, "scheduler", "run", "--once", "--json"], env=env)
    assert real.exit_code == 0, real.output
    assert json.loads(real.stdout)["overdue"] == 1
