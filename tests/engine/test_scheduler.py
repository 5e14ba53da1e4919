"""The deadline scheduler acts once whatever happens to it: stopped for weeks, run twice,
failing to deliver, or running in two processes against one PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from mediation.domain import intake
from mediation.domain.clock import BUSINESS_TZ
from mediation.engine import cases
from mediation.engine.notifiers import LogFileNotifier
from mediation.engine.scheduler import dispatch
from mediation.storage._tables import event_table, outbox_table
from tests.conftest import T0, intake_record


def at(day: str, hour: int = 8) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=BUSINESS_TZ)


def _medical(store, *, accepted: datetime) -> int:
    record = intake_record(
        flow="medical_committee", dispute_type="medical", title="手术并发症赔偿纠纷"
    )
    opened = cases.open_case(store, intake.validate(record), actor="t", now=accepted)
    cases.advance(store, opened.proceeding_id, "accept", actor="t", now=accepted)
    return opened.proceeding_id


def _peoples(store, *, accepted: datetime) -> int:
    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=accepted)
    cases.advance(store, opened.proceeding_id, "accept", actor="t", now=accepted)
    return opened.proceeding_id


def _events(store, pid: int) -> list[str]:
    t = event_table
    with store.read() as conn:
        return list(
            conn.execute(
                select(t.c.trigger).where(t.c.proceeding_id == pid).order_by(t.c.seq)
            ).scalars()
        )


def _outbox(store) -> list[tuple[int, str, bool]]:
    t = outbox_table
    with store.read() as conn:
        rows = conn.execute(select(t.c.deadline_id, t.c.kind, t.c.sent_at).order_by(t.c.id))
        return [(r.deadline_id, r.kind, r.sent_at is not None) for r in rows]


class Failing:
    """A notifier whose server is down."""

    def send(self, subject: str, body: str, *, kind: str, at: datetime) -> None:
        raise ConnectionRefusedError("smtp down")


def test_stopped_then_restarted_acts_exactly_once(store, tmp_path: Path):
    medical = _medical(store, accepted=T0)  # 30 working days: due 2026-04-14
    peoples = _peoples(store, accepted=T0)  # one month: due 2026-04-02
    late = _peoples(store, accepted=T0 + timedelta(days=3))  # due 2026-04-07 (清明)
    log = LogFileNotifier(tmp_path / "notices.jsonl")

    first = dispatch(store, now=at("2026-03-30"), notifiers=[log])
    assert (first.reminders, first.overdue, first.consequences) == (1, 0, [])  # 04-02 in 3 days

    # The scheduler is stopped for a month; the clock moves past every deadline.
    second = dispatch(store, now=at("2026-05-01"), notifiers=[log])
    # The medical clock's expiry is deemed failure (条例 art. 38), not an overrun: only the
    # two people's periods are overdue.
    assert second.overdue == 2
    assert [c["trigger"] for c in second.consequences] == ["deem_failed"]
    # Restarted again, and again the next day: nothing more happens.
    for day in ("2026-05-01", "2026-05-02"):
        again = dispatch(store, now=at(day, 9), notifiers=[log])
        assert (again.reminders, again.overdue, again.consequences, again.delivered) == (
            0,
            0,
            [],
            0,
        )

    assert _events(store, medical) == ["open", "accept", "deem_failed"]
    assert _events(store, peoples) == ["open", "accept"]
    assert _events(store, late) == ["open", "accept"]
    outbox = _outbox(store)
    assert len(outbox) == len(set((d, k) for d, k, _ in outbox)) == 4
    assert sorted(k for _, k, _ in outbox) == ["consequence", "overdue", "overdue", "reminder"]
    assert all(sent for *_, sent in outbox)
    lines = [json.loads(x) for x in (tmp_path / "notices.jsonl").read_text().splitlines()]
    assert len(lines) == 4
    assert not any("超期" in line["subject"] and "医调" in line["subject"] for line in lines)
    assert lines[0]["at"] == "2026-03-30T08:00:00+08:00" and "04-02" in lines[0]["subject"]
    # The consequence was recorded as the scheduler, with its legal basis.
    t = event_table
    with store.read() as conn:
        ev = conn.execute(
            select(t).where(t.c.proceeding_id == medical, t.c.trigger == "deem_failed")
        ).one()
    assert ev.actor == "scheduler" and "art. 38" in ev.note


def test_a_paused_clock_does_not_expire(store):
    pid = _medical(store, accepted=T0)
    steps = [
        ("assign", {"mediators": ["周明"], "selection": "designated"}),
        ("inform", {}),
        ("record_session", {"kind": "mediation", "summary": "首次调解"}),
    ]
    for trig, data in steps:
        cases.advance(store, pid, trig, actor="t", now=T0, payload=data)
    cases.advance(
        store,
        pid,
        "start_appraisal",
        actor="t",
        now=at("2026-03-10"),
        payload={"appraisal_body": "某司法鉴定中心", "matter": "因果关系"},
    )
    paused = dispatch(store, now=at("2026-05-20"), notifiers=[])
    assert paused.consequences == [] and paused.overdue == 0
    result = cases.advance(
        store,
        pid,
        "finish_appraisal",
        actor="t",
        now=at("2026-05-20"),
        payload={"conclusion": "存在因果关系"},
    )
    assert result.to_state == "mediating"
    # 24 working days were left on 2026-03-10 (due 04-14); from 05-20 that is 2026-06-24
    # (端午 6/19 is a holiday).
    t = event_table
    with store.read() as conn:
        payload = conn.execute(
            select(t.c.payload).where(t.c.proceeding_id == pid, t.c.trigger == "finish_appraisal")
        ).scalar_one()
    assert payload["deadline_resumed"] == {
        "kind": "mediation_period",
        "paused_on": "2026-03-10",
        "previous_due": "2026-04-14",
        "due": "2026-06-24",
    }
    fired = dispatch(store, now=at("2026-06-26"), notifiers=[])
    assert [c["trigger"] for c in fired.consequences] == ["deem_failed"]


def test_failed_delivery_is_retried_until_it_succeeds(store, tmp_path: Path):
    _peoples(store, accepted=T0)
    down = dispatch(store, now=at("2026-04-03"), notifiers=[Failing()])
    assert (down.overdue, down.delivered, down.failed_deliveries) == (1, 0, 1)
    t = outbox_table
    with store.read() as conn:
        row = conn.execute(select(t.c.attempts, t.c.last_error, t.c.sent_at)).one()
    assert row.attempts == 1 and "smtp down" in row.last_error and row.sent_at is None
    log = LogFileNotifier(tmp_path / "n.jsonl")
    up = dispatch(store, now=at("2026-04-04"), notifiers=[log])
    assert (up.overdue, up.delivered) == (0, 1)
    assert len((tmp_path / "n.jsonl").read_text().splitlines()) == 1


def test_reminders_and_overdue_notices_by_email(store):
    from aiosmtpd.controller import Controller

    received: list[object] = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        from mediation.engine.notifiers import notifiers_from_env

        notifiers = notifiers_from_env(
            {
                "MEDIATION_SMTP_HOST": "127.0.0.1",
                "MEDIATION_SMTP_PORT": str(port),
                "MEDIATION_SMTP_FROM": "scheduler@centre.example",
                "MEDIATION_SMTP_TO": "督办@centre.example, lead@centre.example",
            }
        )
        _peoples(store, accepted=T0)
        result = dispatch(store, now=at("2026-03-31"), notifiers=notifiers)
        assert result.delivered == 1
    finally:
        controller.stop()
    (mail,) = received
    assert mail.rcpt_tos == ["督办@centre.example", "lead@centre.example"]
    text = mail.content.decode("utf-8", "replace")
    assert "X-Mediation-Kind: reminder" in text


def _scheduler_proc(db_url: str, now: str, log: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "MEDIATION_NOW": now, "MEDIATION_NOTIFY_LOG": str(log)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mediation.cli",
            "--db",
            db_url,
            "scheduler",
            "run",
            "--once",
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_schedulers_on_one_database_act_once(store, db_url, tmp_path: Path):
    medicals = [_medical(store, accepted=T0) for _ in range(5)]
    for _ in range(5):
        _peoples(store, accepted=T0)
    store.close()
    log = tmp_path / "notices.jsonl"
    procs = [_scheduler_proc(db_url, "2026-05-01T08:00:00+08:00", log) for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    fired = sum(len(r["consequences"]) for r in results)
    assert fired == 5
    assert sum(r["overdue"] for r in results) == 5  # the people's; the medical ones expired
    t = event_table
    with store.read() as conn:
        counts = conn.execute(
            select(t.c.proceeding_id, func.count())
            .where(t.c.trigger == "deem_failed")
            .group_by(t.c.proceeding_id)
        ).all()
    assert sorted(counts) == [(pid, 1) for pid in medicals]
    assert len(_outbox(store)) == 10
    assert len(log.read_text().splitlines()) == 10  # each notice delivered once


def test_the_daemon_runs_at_start_and_keeps_running(store, db_url, tmp_path: Path):
    _peoples(store, accepted=T0)
    store.close()
    log = tmp_path / "notices.jsonl"
    env = {
        **os.environ,
        "MEDIATION_NOW": "2026-04-03T08:00:00+08:00",
        "MEDIATION_NOTIFY_LOG": str(log),
        # Under libfaketime (the suite is run under `faketime` to prove it depends on no
        # date) the daemon's timed waits would follow the faked clock and never end: the
        # interval is real time, so the monotonic clock stays real. Without it: no effect.
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
    printed = tmp_path / "runs.txt"

    def runs() -> list[str]:
        text = printed.read_text(encoding="utf-8") if printed.exists() else ""
        return [line for line in text.splitlines() if line.startswith("提醒")]

    with printed.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mediation.cli",
                "--db",
                db_url,
                "scheduler",
                "run",
                "--interval",
                "1",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # Until it has run at least twice (a loaded machine may take a while).
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(runs()) < 2:
                time.sleep(0.2)
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
    assert len(log.read_text().splitlines()) == 1  # one notice, however many runs
    assert len(runs()) >= 2, printed.read_text(encoding="utf-8")


def test_loading_a_calendar_keeps_the_time_a_pause_gave_back(store):
    from mediation.domain.calendar import parse_year
    from mediation.engine.deadlines import load_calendar_year

    pid = _medical(store, accepted=at("2026-12-01"))  # 30 working days reach into 2027
    for trig, data in (
        ("assign", {"mediators": ["周明"], "selection": "designated"}),
        ("inform", {}),
        ("record_session", {"kind": "mediation", "summary": "首次调解"}),
        ("start_appraisal", {"appraisal_body": "某司法鉴定中心", "matter": "因果关系"}),
    ):
        cases.advance(store, pid, trig, actor="t", now=at("2026-12-10"), payload=data)
    resumed = cases.advance(
        store,
        pid,
        "finish_appraisal",
        actor="t",
        now=at("2027-03-01"),
        payload={"conclusion": "存在因果关系"},
    )
    assert resumed.to_state == "mediating"
    year = parse_year({"year": 2027, "holidays": ["2027-01-01..2027-01-03", "2027-03-05"]})
    load_calendar_year(store, year, actor="t", now=at("2027-03-02"))
    t = event_table
    with store.read() as conn:
        payloads = conn.execute(
            select(t.c.trigger, t.c.payload).where(t.c.proceeding_id == pid).order_by(t.c.seq)
        ).all()
    resume = next(p for trig, p in payloads if trig == "finish_appraisal")["deadline_resumed"]
    recompute = [p for trig, p in payloads if trig == "recompute_deadline"]
    # Counted again from the resumption, with the loaded holiday on 3/5: one day later.
    assert recompute and recompute[-1]["previous_due"] == resume["due"]
    assert recompute[-1]["due"] > resume["due"]
    fired = dispatch(store, now=at("2027-03-10"), notifiers=[])
    assert fired.consequences == []


def test_deemed_failure_by_hand_waits_for_the_period_to_run_out(store):
    from mediation.errors import TransitionNotAllowed

    pid = _medical(store, accepted=T0)  # due 2026-04-14
    try:
        cases.advance(store, pid, "deem_failed", actor="t", now=at("2026-03-03"))
    except TransitionNotAllowed as exc:
        assert "期满前不能执行此操作" in exc.message
    else:
        raise AssertionError("deem_failed went through on day 1")
    result = cases.advance(store, pid, "deem_failed", actor="t", now=at("2026-04-15"))
    assert result.to_state == "deemed_failed"
    # The law's consequence of expiry, not a period the committee overran (逾期完成).
    assert result.deadlines_stopped[0]["status"] == "expired"


def test_an_extension_rearms_reminders_and_overdue_notices(store):
    pid = _peoples(store, accepted=T0)  # due 2026-04-02
    assert dispatch(store, now=at("2026-03-30"), notifiers=[]).reminders == 1
    # Extended on the last day, while the period still runs (after it, an extension is
    # refused: tests/legal/test_dates.py).
    cases.advance(
        store,
        pid,
        "extend",
        actor="t",
        now=at("2026-04-02", 10),
        payload={
            "reason": "双方同意继续",
            "consented_by": ["张三", "李四"],
            "new_due": "2026-05-06",
        },
    )
    assert dispatch(store, now=at("2026-04-03"), notifiers=[]).overdue == 0
    assert dispatch(store, now=at("2026-05-03"), notifiers=[]).reminders == 1
    assert dispatch(store, now=at("2026-05-07"), notifiers=[]).overdue == 1
    assert sorted((k, d) for _, k, d in _outbox_with_due(store)) == [
        ("overdue", "2026-05-06"),
        ("reminder", "2026-04-02"),
        ("reminder", "2026-05-06"),
    ]


def _outbox_with_due(store) -> list[tuple[int, str, str]]:
    t = outbox_table
    with store.read() as conn:
        return [(r.deadline_id, r.kind, r.due.isoformat()) for r in conn.execute(select(t))]
