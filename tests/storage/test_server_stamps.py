"""PostgreSQL vouches for each entry (revision 0020, mediation.storage.stamps): the server
stamps every event with its own clock and login, under a MAC keyed with a secret only the
owner reads, and ``audit verify`` reports an event backdated by a service login, or one
written or altered outside the trigger, even when its hash and the chains were computed right.

PostgreSQL only (``postgres`` marker): SQLite has no logins and is unchanged. The
application role is the one ``mediation db grants`` sets up (tests.storage.test_pgroles).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.domain import intake
from mediation.engine import cases
from mediation.errors import ExitCode
from mediation.storage import audit, migrations, stamps
from mediation.storage.pgroles import grants_sql
from mediation.storage.store import Store
from tests.conftest import intake_record
from tests.storage.test_pgroles import AppDatabase, app_database

pytestmark = pytest.mark.postgres

#: The chain's own findings: none of them may appear where only the stamps can tell.
CHAIN_KINDS = ("[edited]", "[deleted]", "[inserted]", "[head]")


def _rows(url: str, sql: str, **params: object) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def _server_now(url: str) -> datetime:
    found: datetime = _rows(url, "SELECT now()")[0][0]
    return found


@dataclass
class Centre:
    db: AppDatabase
    tmp: Path

    def run(self, *args: str) -> Result:
        """``mediation --db OWNER args``, at the server's clock (a training database)."""
        now = _server_now(self.db.owner_url).isoformat()
        return CliRunner().invoke(
            app, ["--db", self.db.owner_url, *args], env={"MEDIATION_NOW": now}
        )

    def verify(self, *args: str) -> Result:
        out = self.run("audit", "verify", *args)
        assert out.exception is None or isinstance(out.exception, SystemExit), out.output
        return out

    def open_as_service(self) -> tuple[str, int]:
        """A case the application role opens and accepts through the program, at the
        server's clock: (case number, its id)."""
        store = Store(self.db.app_url)
        try:
            now = _server_now(self.db.owner_url)
            opened = cases.open_case(store, intake.validate(intake_record()), actor="m", now=now)
            cases.advance(store, opened.proceeding_id, "accept", actor="m", now=now)
            return opened.case_number, opened.proceeding_id
        finally:
            store.close()


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[Centre]:
    """The owner ran ``init`` (its first admin) and ``db grants`` for the application role."""
    with app_database() as db:
        c = Centre(db, tmp_path)
        out = c.run("init", "--training", "--role", "supervisor")
        assert out.exit_code == 0, out.output
        yield c


def _append_event(url: str, case_id: int, trigger: str, dest: str, at: datetime) -> int:
    """Append a well-formed step to the case, as ``url``'s login, bypassing the program:
    its hash computed right, the case moved, the chain sealed. Returns the event's id."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            case = conn.execute(
                text("SELECT dispute_id, state FROM proceeding WHERE id = :p FOR UPDATE"),
                {"p": case_id},
            ).one()
            seq = conn.execute(
                text("SELECT max(seq) + 1 FROM event WHERE proceeding_id = :p"), {"p": case_id}
            ).scalar_one()
            prev = conn.execute(
                text("SELECT hash FROM event WHERE dispute_id = :d ORDER BY id DESC LIMIT 1"),
                {"d": case.dispute_id},
            ).scalar_one()
            values = {
                "dispute_id": case.dispute_id,
                "proceeding_id": case_id,
                "seq": seq,
                "trigger": trigger,
                "from_state": case.state,
                "to_state": dest,
                "actor": "m",
                "note": None,
                "payload": {},
                "occurred_at": at,
            }
            digest = audit.event_hash(values, prev_hash=prev)
            eid: int = conn.execute(
                text(
                    "INSERT INTO event (dispute_id, proceeding_id, seq, trigger, from_state, "
                    "to_state, actor, note, payload, occurred_at, prev_hash, hash) VALUES "
                    "(:dispute_id, :proceeding_id, :seq, :trigger, :from_state, :to_state, "
                    ":actor, :note, '{}', :occurred_at, :prev, :hash) RETURNING id"
                ),
                {**values, "prev": prev, "hash": digest},
            ).scalar_one()
            conn.execute(
                text("UPDATE proceeding SET state = :s, version = version + 1 WHERE id = :p"),
                {"s": dest, "p": case_id},
            )
        with engine.begin() as conn:
            conn.execute(text("SELECT mediation_seal(true)"))
        return eid
    finally:
        engine.dispose()


def _app_login(c: Centre) -> str:
    """The application role's login name."""
    return make_url(c.db.app_url).username or ""


def _problems(out: Result) -> list[str]:
    return [line.strip() for line in out.stdout.splitlines() if line.startswith("  [")]


def test_a_backdated_event_with_its_hash_right_is_reported(centre: Centre) -> None:
    """(a) The service appends a legal step with a correctly computed hash, dated two days
    back: the chains verify; the server's stamp shows the date is not when it was written,
    by the full verify and after a checkpoint."""
    c = centre
    number, case_id = c.open_as_service()
    assert "审计链完整" in c.verify().stdout  # the program's own events, at the server's time
    anchor = c.tmp / "anchor.json"
    assert c.run("audit", "checkpoint", "-o", str(anchor)).exit_code == 0
    back = _server_now(c.db.owner_url) - timedelta(days=2)
    eid = _append_event(c.db.app_url, case_id, "assign", "assigned", back)
    for args in ((), ("--since", str(anchor))):
        out = c.verify(*args)
        assert out.exit_code == ExitCode.TAMPERED, out.output
        problems = _problems(out)
        assert len(problems) == 1, out.stdout
        assert problems[0].startswith(f"[backdated] {number} 事件 #3（event id {eid}）")
        assert "倒签" in problems[0] and _app_login(c) in problems[0]
        assert not any(p.startswith(CHAIN_KINDS) for p in problems)
    # At the server's time the same step passes: the service is trusted to act for others.
    later = _rows(c.db.owner_url, "SELECT recorded_at FROM event WHERE id = :e", e=eid)[0][0]
    assert abs(later - _server_now(c.db.owner_url)) < timedelta(minutes=5)


def test_a_rewritten_history_with_the_chain_recomputed_is_reported(centre: Centre) -> None:
    """(b) The application role may not touch an event's content. A login that may (here a
    maintenance login granted UPDATE, not the owner) rewrites a step's payload and
    recomputes its hash, the dispute's chain after it and the head: the chains verify, and
    the MACs the server gave at insert no longer match."""
    c = centre
    number, _ = c.open_as_service()
    with pytest.raises(DBAPIError, match="permission denied"):
        _rows(c.db.app_url, "UPDATE event SET payload = '{\"x\": 1}' WHERE seq = 2")
    editor = f"ed_{c.db.schema}"
    c.db.roles.append(editor)
    _rows(c.db.owner_url, f'CREATE ROLE "{editor}" LOGIN')
    for sql in (
        'GRANT USAGE ON SCHEMA "{s}" TO "{r}"',
        'GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA "{s}" TO "{r}"',
        f'REVOKE ALL ON "{{s}}".{stamps.KEY_TABLE} FROM "{{r}}"',
    ):
        _rows(c.db.owner_url, sql.format(s=c.db.schema, r=editor))
    engine = create_engine(c.db.url_for(editor))
    try:
        with engine.begin() as conn:
            with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
                conn.execute(text(f"SELECT * FROM {stamps.KEY_TABLE}"))
            conn.execute(text('UPDATE event SET payload = \'{"reason":"改过"}\' WHERE seq = 2'))
            _rechain(conn)
    finally:
        engine.dispose()
    out = c.verify()
    assert out.exit_code == ExitCode.TAMPERED, out.output
    problems = _problems(out)
    assert not any(p.startswith(CHAIN_KINDS) for p in problems), out.stdout
    edited = [p for p in problems if p.startswith("[mac]")]
    assert edited and f"{number} 事件 #2" in edited[0] and "校验码不符" in edited[0]


def _rechain(conn: Any) -> None:
    """Recompute every event's hash and link in order, and the database-wide head."""
    links: dict[int, str] = {}
    rows = conn.execute(text("SELECT * FROM event ORDER BY id")).mappings().all()
    for row in rows:
        values = dict(row)
        values["payload"] = json.loads(values["payload"])
        prev = links.get(row["dispute_id"], audit.GENESIS)
        digest = audit.event_hash(values, prev_hash=prev)
        conn.execute(
            text("UPDATE event SET prev_hash = :p, hash = :h WHERE id = :i"),
            {"p": prev, "h": digest, "i": row["id"]},
        )
        links[row["dispute_id"]] = digest
    head = audit.GENESIS
    entries = conn.execute(
        text(
            "SELECT chain_seq, hash FROM event UNION ALL SELECT chain_seq, hash FROM access_event "
            "ORDER BY 1"
        )
    ).all()
    for _seq, digest in entries:
        head = audit.fold(head, digest)
    conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": len(entries), "h": head})


@pytest.mark.parametrize("table", ["event", "access_event"])
def test_a_hash_cleared_and_set_again_keeps_the_first_mac(centre: Centre, table: str) -> None:
    """The service may set a hash the program left empty (an access event's, just after
    its insert) and have it vouched for; clearing a hash and setting another in a second
    statement must not pass for that: the MAC stays the first one, which no longer
    matches."""
    c = centre
    c.open_as_service()
    entry = _rows(c.db.owner_url, f"SELECT max(id) FROM {table}")[0][0]
    if table == "event":  # the service may not touch an event at all (db grants)
        with pytest.raises(DBAPIError, match="permission denied"):
            _rows(c.db.app_url, "UPDATE event SET hash = NULL WHERE id = :i", i=entry)
        return
    _rows(c.db.app_url, f"UPDATE {table} SET hash = NULL WHERE id = :i", i=entry)
    _rows(c.db.app_url, f"UPDATE {table} SET hash = :h WHERE id = :i", h="f" * 64, i=entry)
    out = c.verify()
    assert out.exit_code == ExitCode.TAMPERED, out.output
    assert any(p.startswith("[mac] ") and f"id {entry}" in p for p in _problems(out)), out.stdout


def test_the_key_is_the_owners_alone(centre: Centre) -> None:
    """(c) Neither the application role nor a person's group may read the key; a later
    grant shows no row (row-level security), and ``db grants`` revokes it again."""
    c = centre
    person = f"p_{c.db.schema}"
    c.db.roles.append(person)
    _rows(c.db.owner_url, f'CREATE ROLE "{person}" LOGIN')
    _rows(c.db.owner_url, f'GRANT "{c.db.groups}_admin" TO "{person}"')
    for url in (c.db.app_url, c.db.url_for(person)):
        with pytest.raises(DBAPIError, match="permission denied"):
            _rows(url, f"SELECT * FROM {stamps.KEY_TABLE}")
    role = _app_login(c)
    _rows(c.db.owner_url, f'GRANT SELECT ON {stamps.KEY_TABLE} TO "{role}"')
    assert _rows(c.db.app_url, f"SELECT count(*) FROM {stamps.KEY_TABLE}") == [(0,)]
    owner = create_engine(c.db.owner_url)
    try:
        with owner.begin() as conn:
            conn.exec_driver_sql(grants_sql(role, schema=c.db.schema, groups=c.db.groups))
    finally:
        owner.dispose()
    with pytest.raises(DBAPIError, match="permission denied"):
        _rows(c.db.app_url, f"SELECT * FROM {stamps.KEY_TABLE}")
    # Nor is the key in any function's text, which every login may read.
    pads = _rows(c.db.owner_url, f"SELECT inner_pad, outer_pad FROM {stamps.KEY_TABLE}")[0]
    sources = _rows(
        c.db.app_url,
        "SELECT string_agg(prosrc, ' ') FROM pg_proc WHERE proname LIKE 'mediation%'",
    )[0][0]
    assert bytes(pads[0]).hex()[:16] not in sources and bytes(pads[1]).hex()[:16] not in sources


def test_the_recording_time_is_the_servers_whatever_the_client_sends(centre: Centre) -> None:
    """(d) The stamps are the server's: sent values are ignored, an update keeps them, and
    the MAC is HMAC-SHA256 under the owner's key over the entry and its stamps."""
    c = centre
    role = _app_login(c)
    now = _server_now(c.db.owner_url)
    (aid,) = _rows(
        c.db.app_url,
        "INSERT INTO access_event (action, actor, subject, detail, occurred_at, recorded_at, "
        "recorded_by, recorded_by_owner, db_mac) VALUES ('reveal', 'm', 'x', '{}', now(), "
        "'2000-01-01T00:00:00Z', 'postgres', true, :mac) RETURNING id",
        mac="0" * 64,
    )[0]
    row = _rows(c.db.owner_url, "SELECT * FROM access_event WHERE id = :i", i=aid)[0]._mapping
    digest = audit.access_hash({**row, "detail": json.loads(row["detail"])})
    _rows(c.db.app_url, "UPDATE access_event SET hash = :h WHERE id = :i", h=digest, i=aid)
    row = _rows(c.db.owner_url, "SELECT * FROM access_event WHERE id = :i", i=aid)[0]._mapping
    assert abs(row["recorded_at"] - now) < timedelta(minutes=1)
    assert row["recorded_by"] == role and row["recorded_by_owner"] is False
    # Not the application role's to change; the owner's update leaves them too.
    with pytest.raises(DBAPIError, match="permission denied"):
        _rows(c.db.app_url, "UPDATE access_event SET recorded_at = now() - interval '1 day'")
    _rows(c.db.owner_url, "UPDATE access_event SET recorded_at = '2000-01-01T00:00:00Z'")
    again = _rows(c.db.owner_url, "SELECT * FROM access_event WHERE id = :i", i=aid)[0]._mapping
    assert again["recorded_at"] == row["recorded_at"]
    inner, outer = _rows(c.db.owner_url, f"SELECT inner_pad, outer_pad FROM {stamps.KEY_TABLE}")[0]
    assert bytes(a ^ b for a, b in zip(inner, outer, strict=True)) == bytes([0x36 ^ 0x5C]) * 64
    at = row["recorded_at"].astimezone(UTC)
    message = (
        f"access_event {aid} '{row['hash']}' '{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}' 'false' "
        f"'{role}'"
    ).encode()
    inside = hashlib.sha256(bytes(inner) + message).digest()
    assert row["db_mac"] == hashlib.sha256(bytes(outer) + inside).hexdigest()
    out = c.verify()
    assert out.exit_code == 0, out.output


def test_an_untouched_database_verifies_after_the_upgrade_from_0019(
    centre: Centre,
) -> None:
    """(e) The service's work at the server's time verifies; so does history written before
    the upgrade, vouched for by the owner who ran it (no server time of its own), and
    what is written after it."""
    c = centre
    c.open_as_service()
    store = Store(c.db.owner_url)
    try:
        migrations.downgrade(store, "0019")
        assert not _rows(
            c.db.owner_url,
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND column_name = 'db_mac'",
        )
        c.open_as_service()  # the service at 0019: nothing stamped
        assert c.run("db", "upgrade").exit_code == 0
    finally:
        store.close()
    old = _rows(
        c.db.owner_url,
        "SELECT count(*), count(recorded_at), bool_and(recorded_by_owner), count(db_mac) "
        "FROM event",
    )[0]
    assert old == (4, 0, True, 4)
    c.open_as_service()
    out = c.verify()
    assert out.exit_code == 0, out.output
    assert "审计链完整" in out.stdout
    new = _rows(
        c.db.owner_url,
        "SELECT count(*) FROM event WHERE recorded_at IS NOT NULL AND NOT recorded_by_owner",
    )
    assert new == [(2,)]
    # The migrated rows are held by their MAC like the others: the stamps stay as they
    # are, unless the owner disables the trigger, and then the MAC no longer matches.
    _rows(c.db.owner_url, "UPDATE event SET recorded_by = 'someone' WHERE id = 1")
    assert _rows(c.db.owner_url, "SELECT recorded_by FROM event WHERE id = 1")[0][0] != "someone"
    _rows(c.db.owner_url, "ALTER TABLE event DISABLE TRIGGER mediation_stamp")
    _rows(c.db.owner_url, "UPDATE event SET recorded_by = 'someone' WHERE id = 1")
    _rows(c.db.owner_url, "ALTER TABLE event ENABLE TRIGGER mediation_stamp")
    out = c.verify()
    assert out.exit_code == ExitCode.TAMPERED, out.output
    (problem,) = _problems(out)
    assert problem.startswith("[mac] ") and "（event id 1）" in problem, problem


def test_a_chain_position_is_given_by_the_seal_alone(centre: Centre) -> None:
    """The service may not write an entry already positioned (``verify --since`` looks only
    after the checkpoint's position: an entry at -1 escaped it), nor move one."""
    c = centre
    c.open_as_service()
    anchor = c.tmp / "anchor.json"
    assert c.run("audit", "checkpoint", "-o", str(anchor)).exit_code == 0
    app, owner = c.db.app_url, c.db.owner_url
    for table in ("event", "access_event"):  # no privilege on events; the trigger besides
        with pytest.raises(DBAPIError, match=r"permission denied|审计链位置"):
            _rows(
                app, f"UPDATE {table} SET chain_seq = -1 WHERE id = (SELECT max(id) FROM {table})"
            )
    aid = _rows(
        app,
        "INSERT INTO access_event (action, actor, subject, detail, occurred_at, chain_seq) "
        "VALUES ('case_show', 'm', '1', '{}', now() - interval '2 days', -1) RETURNING id",
    )[0][0]
    assert _rows(owner, "SELECT chain_seq FROM access_event WHERE id = :i", i=aid) == [(None,)]
    out = c.verify("--since", str(anchor))
    assert out.exit_code == ExitCode.TAMPERED, out.output
    assert any(p.startswith("[backdated]") for p in _problems(out)), out.stdout


def test_the_stamping_function_serves_only_its_two_tables(centre: Centre) -> None:
    """Attached to a table of the caller's own (a temporary ``event``), the owner's
    function would give a MAC of the caller's choosing, marked as the owner's."""
    c = centre
    schema = c.db.schema
    engine = create_engine(c.db.app_url)
    try:
        with engine.begin() as conn, pytest.raises(DBAPIError, match="permission denied"):
            conn.execute(text("CREATE TEMP TABLE event (id int, hash text, chain_seq int)"))
            conn.execute(
                text(
                    "CREATE TRIGGER t BEFORE INSERT ON pg_temp.event FOR EACH ROW "
                    f'EXECUTE FUNCTION "{schema}".mediation_stamp_entry()'
                )
            )
    finally:
        engine.dispose()


def test_no_schema_function_stands_in_for_a_builtin(centre: Centre) -> None:
    """The owner's functions look in pg_catalog first: a ``sha256`` made in the schema by
    a login that was given CREATE there is never run as the owner (it saw the key)."""
    c = centre
    schema, login = c.db.schema, _app_login(c)
    _rows(c.db.owner_url, f'GRANT CREATE ON SCHEMA "{schema}" TO "{login}"')
    _rows(
        c.db.app_url,
        f'CREATE FUNCTION "{schema}".sha256(b bytea) RETURNS bytea LANGUAGE plpgsql AS $$ '
        "BEGIN CREATE TABLE IF NOT EXISTS public.leaked (pad bytea); "
        "INSERT INTO public.leaked VALUES (b); RETURN pg_catalog.sha256(b); END $$",
    )
    _rows(
        c.db.app_url,
        "INSERT INTO access_event (action, actor, subject, detail, occurred_at) "
        "VALUES ('case_show', 'm', '1', '{}', now())",
    )
    assert _rows(c.db.owner_url, "SELECT to_regclass('public.leaked')") == [(None,)]
