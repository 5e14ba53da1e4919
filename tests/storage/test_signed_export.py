"""Signed exports (issue 13, point 2): a revealed export carries an HMAC under a key derived
from a passphrase both ends know (``MEDIATION_EXPORT_PASSPHRASE``), and ``import`` refuses a
file whose signature does not match — such as one edited (a user's roles, a party's phone, a
case's state) with only its checksum recomputed, which the checksum alone let through. On
both databases, source and target of the same kind."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.domain import intake
from mediation.engine import cases
from mediation.errors import ExitCode
from mediation.storage._tables import access_event_table, app_user_table
from mediation.storage.store import Store
from tests.conftest import EXPORT_PASSPHRASE, T0, intake_record
from tests.storage.test_transfer import _fresh

OTHER_PASSPHRASE = "another-long-passphrase"


def _cli(
    runner: CliRunner, url: str, *args: str, passphrase: str | None = EXPORT_PASSPHRASE
) -> Result:
    env = {"MEDIATION_EXPORT_PASSPHRASE": passphrase}  # None: unset
    return runner.invoke(app, ["--db", url, *args], env=env)


@pytest.fixture
def exported(store: Store, tmp_path: Path, runner: CliRunner) -> Path:
    """A revealed, signed export of a database with a user and an accepted case."""
    opened = cases.open_case(
        store, intake.validate(intake_record(), source="test"), actor="wang", now=T0
    )
    cases.advance(store, opened.proceeding_id, "accept", actor="wang", now=T0)
    path = tmp_path / "move.jsonl"
    result = _cli(runner, store.url, "export", "--reveal", "-o", str(path))
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def target(store: Store, tmp_path: Path, runner: CliRunner) -> Iterator[str]:
    """A new, empty database of the same kind as ``store``, made with ``db upgrade``."""
    with _fresh(store.dialect, tmp_path) as url:
        result = _cli(runner, url, "db", "upgrade")
        assert result.exit_code == 0, result.output
        yield url


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def _recompute_checksum(lines: list[dict[str, Any]]) -> bytes:
    """What an editor without the passphrase can do: fix the trailer's SHA-256 (and
    counts), keep the old signature."""
    body = [
        (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        for obj in lines[:-1]
    ]
    trailer = dict(lines[-1])
    trailer["sha256"] = hashlib.sha256(b"".join(body)).hexdigest()
    return b"".join(body) + json.dumps(trailer).encode() + b"\n"


def _row(lines: list[dict[str, Any]], table: str) -> dict[str, Any]:
    return next(o["row"] for o in lines if o.get("table") == table)


def _grant_admin(lines: list[dict[str, Any]]) -> None:
    _row(lines, "app_user")["roles"] = ["admin"]


def _change_phone(lines: list[dict[str, Any]]) -> None:
    _row(lines, "party")["phone"] = "13000000000"


def _change_state(lines: list[dict[str, Any]]) -> None:
    _row(lines, "proceeding")["state"] = "agreed_written"


def _strip_signature(lines: list[dict[str, Any]]) -> None:
    lines[0]["signature"] = None
    lines[-1]["hmac"] = None


EDITS: dict[str, tuple[Callable[[list[dict[str, Any]]], None], str]] = {
    "roles": (_grant_admin, "签名不符"),
    "phone": (_change_phone, "签名不符"),
    "state": (_change_state, "签名不符"),
    "signature-stripped": (_strip_signature, "没有签名"),
}


def _imported_nothing(url: str) -> bool:
    store = Store(url)
    try:
        with store.read() as conn:
            return conn.execute(select(func.count()).select_from(app_user_table)).scalar() == 0
    finally:
        store.close()


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_export_with_its_checksum_recomputed_is_refused(
    edit: str, exported: Path, target: str, runner: CliRunner, tmp_path: Path
) -> None:
    change, message = EDITS[edit]
    lines = _lines(exported)
    change(lines)
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(_recompute_checksum(lines))
    for source in ("file", "stdin"):
        if source == "file":
            result = _cli(runner, target, "import", str(forged))
        else:
            result = runner.invoke(
                app,
                ["--db", target, "import", "-"],
                input=forged.read_bytes(),
                env={"MEDIATION_EXPORT_PASSPHRASE": EXPORT_PASSPHRASE},
            )
        assert result.exit_code == ExitCode.INVALID_INPUT, (source, result.output)
        assert message in result.output and "Traceback" not in result.output
        assert _imported_nothing(target)


def test_the_signed_export_imports_with_the_same_passphrase_only(
    exported: Path, target: str, runner: CliRunner
) -> None:
    header = _lines(exported)[0]
    assert header["version"] == 2 and header["signature"]["alg"] == "hmac-sha256"
    assert EXPORT_PASSPHRASE not in exported.read_text(encoding="utf-8")

    wrong = _cli(runner, target, "import", str(exported), passphrase=OTHER_PASSPHRASE)
    assert wrong.exit_code == ExitCode.INVALID_INPUT and "签名不符" in wrong.output
    missing = _cli(runner, target, "import", str(exported), passphrase=None)
    assert missing.exit_code == ExitCode.USAGE and "MEDIATION_EXPORT_PASSPHRASE" in missing.output
    assert _imported_nothing(target)

    ok = _cli(runner, target, "import", str(exported))
    assert ok.exit_code == 0, ok.output
    assert "审计链校验通过" in ok.output


def test_a_revealed_export_needs_a_long_enough_passphrase(
    store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "move.jsonl"
    unset = _cli(runner, store.url, "export", "--reveal", "-o", str(path), passphrase=None)
    assert unset.exit_code == ExitCode.USAGE, unset.output
    assert "需要签名口令" in unset.output
    short = _cli(runner, store.url, "export", "--reveal", "-o", str(path), passphrase="short")
    assert short.exit_code == ExitCode.INVALID_INPUT, short.output
    assert "至少需要 12 个" in short.output
    assert not path.exists()
    with store.read() as conn:  # refused before the export was recorded
        exports = select(func.count()).where(access_event_table.c.action == "export")
        assert conn.execute(exports).scalar() == 0
    # A masked copy cannot be imported and is not signed: no passphrase needed.
    masked = _cli(runner, store.url, "export", "-o", str(path), passphrase=None)
    assert masked.exit_code == 0, masked.output
    assert _lines(path)[0]["signature"] is None


def test_an_export_of_the_previous_format_is_refused(
    exported: Path, target: str, runner: CliRunner, tmp_path: Path
) -> None:
    lines = _lines(exported)
    lines[0]["version"] = 1
    del lines[0]["signature"]
    del lines[-1]["hmac"]
    old = tmp_path / "old.jsonl"
    old.write_bytes(_recompute_checksum(lines))
    result = _cli(runner, target, "import", str(old))
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert "没有签名" in result.output
    assert _imported_nothing(target)
