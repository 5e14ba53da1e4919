"""The parties' key of a dispute (``dispute.party_key``, repeat detection) cannot be
reversed (issue 13, point 3). SQLite and PostgreSQL.

Until revision 0009 the key was an unsalted SHA-256 of the parties' ID numbers and was
printed by ``case show --json``, ``dispute show --json`` and the masked export: with a
masked ID number (first six and last four characters) and the check digit, a mediator of
another committee recovered both ID numbers by brute force in seconds. Now the key is an
HMAC-SHA256 under the installation's secret (``installation_secret``, never shown nor in
a masked export), and it is in no output at all.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from mediation.api import Mediation
from mediation.cli import app
from mediation.domain import intake
from mediation.domain.clock import FixedClock
from mediation.domain.personal import check_digit, mask_id
from mediation.storage._tables import dispute_table, party_table
from mediation.storage.store import Store
from tests.conftest import T0, intake_record

APPLICANT_ID = "11010519491231002X"  # intake_record's applicant (张三)
RESPONDENT = "李四/13987654321"  # intake_record's respondent: no ID number, name and phone


@pytest.fixture
def staffed(store: Store) -> Store:
    """An admin, a mediator of 桥头 (wang) and one case of 桥头 (张三 and 李四)."""
    admin = Mediation(store, store.login(), clock=FixedClock(T0))
    admin.add_user("admin", name="管理员", roles=["admin"])
    admin.add_user("wang", name="王调解员", roles=["mediator"], organisation="桥头")
    Mediation(store, "wang", clock=FixedClock(T0)).open_case(
        intake.validate(intake_record(), source="test")
    )
    return store


def _stored_key(store: Store, dispute_id: int = 1) -> str:
    with store.read() as conn:
        key = conn.execute(
            select(dispute_table.c.party_key).where(dispute_table.c.id == dispute_id)
        ).scalar_one()
    assert key and len(key) == 32
    return str(key)


def _cli(store: Store, user: str, *args: str) -> str:
    result = CliRunner().invoke(app, ["--db", store.url, "--as", user, *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


# -- (a) the key is in no output ------------------------------------------------------------


def test_the_key_is_in_no_json_and_no_masked_export(staffed: Store) -> None:
    key = _stored_key(staffed)
    outputs = {
        "case show --json": _cli(staffed, "wang", "case", "show", "1", "--json"),
        "case show --reveal --json": _cli(
            staffed, "admin", "case", "show", "1", "--reveal", "--json"
        ),
        "dispute show --json": _cli(staffed, "wang", "dispute", "show", "1", "--json"),
        "dispute show --reveal --json": _cli(
            staffed, "admin", "dispute", "show", "1", "--reveal", "--json"
        ),
        "export": _cli(staffed, "admin", "export", "-o", "-"),
    }
    wang = Mediation(staffed, "wang", clock=FixedClock(T0))
    outputs["api show_case"] = json.dumps(wang.show_case(1).as_dict(), default=str)
    outputs["api dispute"] = json.dumps(wang.dispute("1").as_dict(), default=str)
    out = io.BytesIO()
    Mediation(staffed, "admin", clock=FixedClock(T0)).export(out)
    outputs["api export"] = out.getvalue().decode()
    for name, printed in outputs.items():
        assert '"title"' in printed or "邻里通道" in printed, name  # it is the case's output
        assert key not in printed, f"{name} prints the parties' key"
        if "export" not in name:
            assert "party_key" not in printed, f"{name} names the parties' key"
    for name in ("export", "api export"):
        lines = [json.loads(line) for line in outputs[name].splitlines()]
        assert lines[0]["masked"] is True
        disputes = [x["row"] for x in lines if x.get("table") == "dispute"]
        assert disputes and all(d["party_key"] is None for d in disputes)
        # ... and nothing of the installation's secret, the key of party_key.
        assert not any(x.get("table") == "installation_secret" for x in lines)
        assert lines[-1]["counts"]["installation_secret"] == 0


# -- (b) the key cannot be reversed -----------------------------------------------------------


def _sha256_key(persons: list[str]) -> str:
    """The parties' key as mediation computed it until revision 0009: a plain SHA-256."""
    text = "\x1f".join((str(len(persons)), min(persons), max(persons)))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _candidates(masked: str, year: str) -> Iterator[str]:
    """Resident ID numbers that show as ``masked`` (110105********002X), born in ``year``:
    the attacker also knows the year (say from an age in the case's summary), so only the
    four digits of the birthday are unknown (10^4 rather than the 10^8-ish of the whole
    birth date) and the test runs in milliseconds. The check digit prunes nine in ten."""
    for month_day in range(10_000):
        first17 = f"{masked[:6]}{year}{month_day:04d}{masked[14:17]}"
        if check_digit(first17) == masked[17]:
            yield first17 + masked[17]


def _brute_force(key: str, masked: str, year: str) -> str | None:
    """The applicant's ID number, searched as today's recovery works: every candidate
    hashed with plain SHA-256 as the parties' key was, compared with the stored key."""
    for number in _candidates(masked, year):
        if _sha256_key([number, RESPONDENT]) == key:
            return number
    return None


def test_brute_force_with_sha256_finds_no_id_number(staffed: Store) -> None:
    masked = mask_id(APPLICANT_ID)
    assert masked == "110105********002X"
    # The attack works on a key made as before revision 0009 ...
    assert _brute_force(_sha256_key([APPLICANT_ID, RESPONDENT]), masked, "1949") == APPLICANT_ID
    # ... and finds nothing in the key stored now.
    assert _brute_force(_stored_key(staffed), masked, "1949") is None


def test_the_key_is_the_installation_hmac_and_repeats_still_match(staffed: Store) -> None:
    from mediation.domain.personal import party_key
    from mediation.storage.secret import installation_secret

    api = Mediation(staffed, "wang", clock=FixedClock(T0))
    again = api.open_case(intake.validate(intake_record(), source="test"))
    with staffed.write() as conn:
        secret = installation_secret(conn)
        parties = list(conn.execute(select(party_table).where(party_table.c.dispute_id == 1)))
    assert len(secret) == 32
    key = _stored_key(staffed)
    assert key == party_key(parties, secret)
    assert _stored_key(staffed, again.dispute_id) == key  # same parties, same key
    # Another installation's secret gives another key for the same parties.
    assert party_key(parties, b"\x00" * 32) != key


def test_each_installation_has_its_own_secret(store: Store, tmp_path: Path) -> None:
    from mediation.storage.secret import installation_secret

    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other.upgrade()
        with store.write() as conn:
            mine = installation_secret(conn)
        with other.write() as conn:
            theirs = installation_secret(conn)
            assert installation_secret(conn) == theirs  # stable
    finally:
        other.close()
    assert mine != theirs


def test_a_lost_secret_row_is_made_again_on_first_use(store: Store) -> None:
    from mediation.storage._tables import installation_secret_table
    from mediation.storage.secret import installation_secret

    with store.write() as conn:
        conn.execute(installation_secret_table.delete())
    with store.write() as conn:
        made = installation_secret(conn)
    with store.write() as conn:
        assert installation_secret(conn) == made and len(made) == 32


def test_the_secret_is_read_once_a_transaction_and_afresh_in_the_next(store: Store) -> None:
    """Read once per transaction (opening a case uses it twice, a bulk import a thousand
    times), never carried into the next one: a secret another session put in place since
    is the one used; within a transaction, after the row was written (as an import does)
    and :func:`forget_secret` called, the new one is read."""
    from mediation.storage._tables import installation_secret_table
    from mediation.storage.secret import forget_secret, installation_secret

    replaced = "ab" * 32
    with store.write() as conn:
        first = installation_secret(conn)
        assert installation_secret(conn) == first
        conn.execute(installation_secret_table.update().values(secret=replaced))
        assert installation_secret(conn) == first  # remembered within the transaction...
        forget_secret(conn)
        assert installation_secret(conn) == bytes.fromhex(replaced)  # ...until forgotten
    other = Store(store.url)  # another session puts yet another secret in place
    try:
        with other.write() as conn:
            conn.execute(installation_secret_table.update().values(secret="cd" * 32))
    finally:
        other.close()
    with store.write() as conn:
        assert installation_secret(conn) == bytes.fromhex("cd" * 32)


# -- a move keeps the keys ------------------------------------------------------------------


def test_a_revealed_export_carries_the_secret_so_keys_match_after_import(
    staffed: Store, tmp_path: Path
) -> None:
    """The revealed export (already full personal data) carries the secret; the import
    puts it in place of the new database's own, so the imported keys and those of disputes
    registered after the move are made alike and repeats are still found."""
    from mediation.storage.secret import installation_secret

    moved = tmp_path / "move.jsonl"
    Mediation(staffed, "admin", clock=FixedClock(T0)).export(moved, reveal=True)
    target = Store(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        target.upgrade()
        with target.write() as conn:
            own = installation_secret(conn)
        Mediation(target, "admin", clock=FixedClock(T0)).import_(moved)
        with staffed.write() as conn:
            source_secret = installation_secret(conn)
        with target.write() as conn:
            assert installation_secret(conn) == source_secret != own
        key = _stored_key(target)
        assert key == _stored_key(staffed)
        again = Mediation(target, "wang", clock=FixedClock(T0)).open_case(
            intake.validate(intake_record(), source="test")
        )
        assert _stored_key(target, again.dispute_id) == key
    finally:
        target.close()


# -- existing databases ---------------------------------------------------------------------


def test_the_upgrade_replaces_every_sha256_key(db_url: str) -> None:
    """A database at 0008 holds plain SHA-256 keys; 0009 makes its secret and recomputes
    every dispute's key with it (and the downgrade puts the old keys back)."""
    from alembic import command

    from mediation.domain.personal import party_key
    from mediation.storage import migrations
    from mediation.storage.secret import installation_secret

    store = Store(db_url)
    try:
        store.upgrade("0008")
        old = _sha256_key([APPLICANT_ID, RESPONDENT])
        with store.write() as conn:
            _insert_0008_dispute(conn, old)
        store.upgrade()
        with store.write() as conn:
            secret = installation_secret(conn)
            parties = list(conn.execute(select(party_table)))
            key = conn.execute(
                select(dispute_table.c.party_key).where(dispute_table.c.id == 1)
            ).scalar_one()
            alone = conn.execute(
                select(dispute_table.c.party_key).where(dispute_table.c.id == 2)
            ).scalar_one()
        assert key != old and key == party_key(parties, secret)
        assert alone is None  # a dispute without parties keeps no key

        cfg = migrations.alembic_config(store)
        with store.write() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008")
        with store.read() as conn:
            back = conn.execute(text("SELECT party_key FROM dispute WHERE id = 1")).scalar_one()
        assert back == old
    finally:
        store.close()


def _insert_0008_dispute(conn: Any, key: str) -> None:
    conn.execute(
        text(
            "INSERT INTO dispute (id, title, summary, claims, dispute_type, channel, risk_level,"
            " received_at, created_at, created_by, party_key) VALUES (:id, '纠纷', '', '',"
            " 'neighbourhood', 'walk_in', 'green', :t, :t, 'm', :key)"
        ),
        [
            {"id": 1, "t": "2026-03-02 01:00:00.000000", "key": key},
            {"id": 2, "t": "2026-03-02 01:00:00.000000", "key": None},
        ],
    )
    conn.execute(
        text(
            "INSERT INTO party (id, dispute_id, role, kind, ordinal, name, id_number, phone)"
            " VALUES (:id, 1, :role, 'person', :ordinal, :name, :number, :phone)"
        ),
        [
            {
                "id": 1,
                "role": "applicant",
                "ordinal": 0,
                "name": "张三",
                "number": APPLICANT_ID,
                "phone": "13812345678",
            },
            {
                "id": 2,
                "role": "respondent",
                "ordinal": 1,
                "name": "李四",
                "number": None,
                "phone": "13987654321",
            },
        ],
    )
