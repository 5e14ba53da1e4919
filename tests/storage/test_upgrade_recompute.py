"""Issue 14, "Existing databases": ``db upgrade`` brings forward the running deadlines a
database made before the issue-14 fixes computed by the old rules, each change an event on
its case, and says how many (「已按新规则重新计算 N 个期限」); a second upgrade changes nothing.

The case: a written agreement reached Mon 2026-03-02, its last signature (the committee's
seal) recorded Thu 2026-03-05. The old code started the 司法确认 window at the agreement:
30 days from 3/2, 3/2 not counted, 3/3 .. 4/1 (Wed) → due 2026-04-01. The window runs from
the agreement taking effect (人民调解法 arts. 29, 33): 30 days from 3/5, 3/6 .. 4/4 (Sat,
清明 holidays 4/4-4/6) → rolled to the next working day, Tue 2026-04-07.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from mediation.documents.signatures import case_event
from mediation.domain.clock import BUSINESS_TZ
from mediation.storage import migrations
from mediation.storage._tables import (
    deadline_table,
    event_table,
    party_table,
    proceeding_table,
    signature_table,
)
from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal.helpers import ORG_NAME, Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    yield Cli(runner, db_url, tmp_path)


def _as_the_old_code(db_url: str, number: str) -> None:
    """The window as the old code started it at the agreement (with the agree_written
    event the case holds), and the last signature as it recorded it: the signature and its
    event, no ``agreement_effective`` and no window restarted. Then the schema as it was."""
    store = Store(db_url)
    try:
        with store.write() as conn:
            case = conn.execute(
                select(proceeding_table).where(proceeding_table.c.case_number == number)
            ).one()
            conn.execute(
                insert(deadline_table).values(
                    proceeding_id=case.id,
                    kind="confirmation_window",
                    label="申请司法确认期限",
                    period="30日",
                    legal_basis="人民调解法 art. 33",
                    duty=False,
                    starts_on=date(2026, 3, 2),
                    due=date(2026, 4, 1),
                    provisional=False,
                    status="open",
                    extensions=0,
                    counted_from=date(2026, 3, 2),
                    period_count=30,
                    period_unit="days",
                )
            )
            sealed = datetime(2026, 3, 5, 10, 0, tzinfo=BUSINESS_TZ)
            conn.execute(
                insert(signature_table).values(
                    proceeding_id=case.id,
                    document_kind="agreement",
                    signer_kind="committee",
                    party_id=None,
                    signer_name=ORG_NAME,
                    method="seal",
                    signed_at=sealed,
                    recorded_by="mediator1",
                    recorded_at=sealed,
                )
            )
            payload = {
                "document_kind": "agreement",
                "signer_kind": "committee",
                "signer": ORG_NAME,
                "method": "seal",
                "signed_at": sealed.isoformat(),
            }
            row = SimpleNamespace(
                id=case.id, dispute_id=case.dispute_id, state=case.state, version=case.version
            )
            case_event(
                conn,
                row,
                case.version + 1,
                "record_signature",
                actor="mediator1",
                now=sealed,
                note=f"调解委员会 {ORG_NAME} 盖章",
                payload=payload,
            )
            assert conn.execute(select(party_table.c.id)).all()
        migrations.downgrade(store, "0017")
    finally:
        store.close()


def test_db_upgrade_recomputes_a_window_the_old_code_started_at_the_agreement(
    cli: Cli, db_url: str
) -> None:
    case = cli.open("2026-03-02")
    cli.to_agreement(case, "2026-03-02")
    cli.sign(case, "张三", "party", "2026-03-04")
    cli.sign(case, "李四", "party", "2026-03-04")
    cli.sign(case, "周明", "mediator", "2026-03-04")
    _as_the_old_code(db_url, case)

    upgraded = cli.ok("db", "upgrade", day="2026-03-06")
    assert f"0017 → {migrations.HEAD}" in upgraded.output
    assert "已按新规则重新计算 1 个期限" in upgraded.output

    window = cli.deadline(case, "confirmation_window", "2026-03-06")
    assert (window["starts_on"], window["due"]) == ("2026-03-05", "2026-04-07")
    assert window["status"] == "open" and not window["provisional"]
    store = Store(db_url)
    try:
        with store.read() as conn:
            events = conn.execute(
                select(event_table.c.trigger, event_table.c.payload, event_table.c.note)
                .join(proceeding_table, proceeding_table.c.id == event_table.c.proceeding_id)
                .where(
                    proceeding_table.c.case_number == case,
                    event_table.c.trigger == "recompute_deadline",
                )
            ).all()
    finally:
        store.close()
    assert len(events) == 1
    payload = events[0].payload
    assert payload["kind"] == "confirmation_window"
    assert (payload["previous_due"], payload["due"]) == ("2026-04-01", "2026-04-07")
    assert payload["rule"] == "agreement_effective"
    assert "协议生效" in events[0].note

    again = cli.ok("db", "upgrade", day="2026-03-06")
    assert "无需升级" in again.output
    assert "已按新规则重新计算 0 个期限" in again.output
    assert cli.deadline(case, "confirmation_window", "2026-03-06")["due"] == "2026-04-07"

    verified = cli("audit", "verify", day="2026-03-06")
    assert verified.exit_code == 0, verified.output
    # The window runs: an application inside it is accepted.
    cli.apply_confirmation(case, "2026-04-03")


def test_db_upgrade_counts_a_referral_from_the_day_its_materials_were_signed_for(
    cli: Cli, db_url: str
) -> None:
    """A 委派 case whose materials were signed for on Wed 4/1 and typed in on Tue 4/7: the
    code before this change counted its 30 days from 4/7 (4/8 .. 5/7, Thu); 特邀调解规定
    art. 27 counts from the signing, 4/2 .. 5/1, 劳动节 → Wed 5/6. ``db upgrade`` brings the
    running clock forward, as an event."""
    from tests.legal.test_court_documents import REFERRED

    case = cli.open(
        "2026-04-07", flow="court_referred", received_at="2026-04-01T15:00:00+08:00", **REFERRED
    )
    store = Store(db_url)
    try:
        with store.write() as conn:  # the clock as the old code started it
            pid = conn.execute(
                select(proceeding_table.c.id).where(proceeding_table.c.case_number == case)
            ).scalar_one()
            conn.execute(
                deadline_table.update()
                .where(
                    deadline_table.c.proceeding_id == pid,
                    deadline_table.c.kind == "mediation_period",
                )
                .values(
                    starts_on=date(2026, 4, 7), counted_from=date(2026, 4, 7), due=date(2026, 5, 7)
                )
            )
    finally:
        store.close()
    upgraded = cli.ok("db", "upgrade", day="2026-04-08")
    assert "已按新规则重新计算 1 个期限" in upgraded.output
    period = cli.deadline(case, "mediation_period", "2026-04-08")
    assert (period["starts_on"], period["due"]) == ("2026-04-01", "2026-05-06")
    (event,) = [e for e in cli.events(case, "2026-04-08") if e["trigger"] == "recompute_deadline"]
    assert (event["payload"]["previous_due"], event["payload"]["due"]) == (
        "2026-05-07",
        "2026-05-06",
    )
