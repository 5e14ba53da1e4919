"""Personal data never appears in logs: a full demo with debug logging, scanned."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from sqlalchemy import select

from mediation.domain.personal import MaskingFilter, mask_text
from mediation.storage._tables import party_table
from mediation.storage.store import Store


def test_a_debug_logged_demo_leaks_no_id_number_or_phone(db_url: str, tmp_path) -> None:
    env = {**os.environ, "MEDIATION_NOW": "2026-03-20T09:00:00+08:00"}
    run = subprocess.run(
        [sys.executable, "-m", "mediation.cli", "--db", db_url, "--log-level", "debug", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    output = run.stdout + run.stderr
    # Debug logging really ran: the engine's SQL is in the output, its parameters hidden.
    assert "DEBUG sqlalchemy.engine" in output or "INFO sqlalchemy.engine" in output
    assert "INSERT INTO party" in output
    store = Store(db_url)
    with store.read() as conn:
        rows = conn.execute(
            select(party_table.c.id_number, party_table.c.phone, party_table.c.address)
        ).all()
    store.close()
    secrets = {v for row in rows for v in row if v}
    assert len(secrets) >= 30  # the demo's parties have ID numbers, phones and addresses
    # The engine never logs result rows (it would at DEBUG: names, addresses, birth dates).
    assert "Row (" not in output
    leaked = sorted(s for s in secrets if s in output)
    assert leaked == []


def test_the_filter_masks_what_a_careless_log_call_would_leak(caplog) -> None:
    log = logging.getLogger("mediation.test")
    handler_filter = MaskingFilter()
    record = log.makeRecord(
        "mediation.test",
        logging.INFO,
        __file__,
        1,
        "当事人张三11010519491231002X，电话13812345678，另有订单号123456789012345678901",
        (),
        None,
    )
    handler_filter.filter(record)
    message = record.getMessage()
    assert "11010519491231002X" not in message and "13812345678" not in message
    assert "110105********002X" in message and "138****5678" in message
    assert "123456789012345678901" in message  # a longer number is not an ID number
    assert mask_text("电话：13812345678。") == "电话：138****5678。"
