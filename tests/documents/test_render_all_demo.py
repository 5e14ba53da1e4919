"""Issue 15, documents: ``doc render-all`` plans only documents a case can have (no 申请书
for a case the committee opened on its own initiative, no 人民调解记录 before a mediation
session), exits 0 on the demo's data, and Ctrl-C stops it cleanly: what was made stays,
「已中断：已生成 N 份」, exit 130.

The demo is made with the real ``mediation demo`` command on both databases; Ctrl-C is a
real SIGINT sent to the process group of a real ``mediation`` process (as a terminal
sends it), with one process and with worker processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mediation.cli import app
from mediation.storage._tables import access_event_table, proceeding_table
from mediation.storage.store import Store
from tests.conftest import interruptible

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-06-30T17:00:00+08:00"


@pytest.fixture
def demo_db(db_url: str, tmp_path: Path) -> str:
    runner = CliRunner()
    args = ["--db", db_url, "demo", "--quiet", "--agreement", str(tmp_path / "demo.pdf")]
    result = runner.invoke(app, args, env={"MEDIATION_NOW": NOW, **_keys(tmp_path)})
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return db_url


def _keys(tmp_path: Path) -> dict[str, str]:
    return {
        "MEDIATION_KEY_DIR": str(tmp_path / "keys"),
        "MEDIATION_FONT_CACHE": str(tmp_path / "fonts"),
    }


def _renders(db: str) -> int:
    with Store(db) as store, store.read() as conn:
        return int(
            conn.execute(
                select(func.count()).where(access_event_table.c.action == "doc_render")
            ).scalar_one()
        )


def test_render_all_plans_only_what_each_case_can_have_and_exits_0_on_the_demo(
    demo_db: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"MEDIATION_NOW": NOW, **_keys(tmp_path)}
    result = runner.invoke(
        app, ["--db", demo_db, "doc", "render-all", "-j", "1", "--json"], env=env
    )
    assert result.exit_code == 0, (result.stdout[-2000:], result.stderr)
    data = json.loads(result.stdout)
    assert data["counts"]["refused"] == data["counts"]["failed"] == 0, data["documents"]
    assert data["counts"]["rendered"] > 40
    with Store(demo_db) as store, store.read() as conn:
        initiative = set(
            conn.execute(
                select(proceeding_table.c.case_number).where(
                    proceeding_table.c.application_mode == "initiative"
                )
            ).scalars()
        )
    assert initiative  # the demo has cases opened on the committee's own initiative
    applications = {d["case_number"] for d in data["documents"] if d["kind"] == "application"}
    assert applications and not applications & initiative
    # Nor a 人民调解记录 for a case without a mediation session: each record was rendered.
    assert all(d["status"] == "rendered" for d in data["documents"] if d["kind"] == "record")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_stops_render_all_and_keeps_what_was_made(
    demo_db: str, tmp_path: Path, jobs: str
) -> None:
    before = _renders(demo_db)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MEDIATION_NOW": NOW,
        **_keys(tmp_path),
    }
    command = [sys.executable, "-c", "from mediation.cli import main; main()"]
    process = subprocess.Popen(
        [*command, "--db", demo_db, "doc", "render-all", "-j", jobs],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=interruptible,
    )
    try:
        deadline = time.monotonic() + 120
        while _renders(demo_db) == before and process.poll() is None:
            assert time.monotonic() < deadline, "no document was rendered"
            time.sleep(0.02)
        assert process.poll() is None, "render-all finished before it could be interrupted"
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, (out, err)
    found = re.search(r"已中断：已生成 (\d+) 份，其余 (\d+) 份未生成", err)
    assert found, err
    assert "Traceback" not in err and "Aborted" not in err
    made, left = int(found[1]), int(found[2])
    assert made == _renders(demo_db) - before  # what it says it made is what was stored
    assert made >= 1 and left >= 1
