"""Moving a database with ``mediation export`` / ``mediation import`` (issue 6, point 5).

A rich database is built through the library (the demo's cases in every state, hand-offs,
a merge, a loaded calendar year, scheduler notices, access events) plus the rows the
document and user features write (binary documents and signature images, a signing key,
users), then exported through the CLI and imported into a fresh database of each kind:
every row of every table must come back identical, the audit chains must verify with the
source's head, and the target must go on giving fresh ids. Each refusal (a non-empty
target, another schema revision, a truncated, altered or forged file, a masked export)
must exit with its code and leave the target exactly as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Text, create_engine, insert, select, text, type_coerce, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.demo import run_demo
from mediation.domain import intake
from mediation.domain.calendar import read_year_file
from mediation.engine import cases, disputes, scheduler
from mediation.engine.deadlines import load_calendar_year
from mediation.engine.sweeps import add_sweep
from mediation.errors import ExitCode
from mediation.storage import audit
from mediation.storage._tables import (
    app_user_table,
    document_table,
    metadata,
    organisation_table,
    party_table,
    signature_table,
    signing_key_table,
)
from mediation.storage._types import JSONText
from mediation.storage.identity import os_login
from mediation.storage.store import Store
from mediation.storage.transfer.signature import signer_for
from tests.conftest import (
    EXPORT_PASSPHRASE,
    PG_URL,
    T0,
    _require_pg,
    add_runner,
    add_users,
    intake_record,
    make_training,
)

HOLIDAYS = Path(__file__).resolve().parents[2] / "data" / "holidays" / "2026.toml"
NOW = T0 + timedelta(days=120)
#: Bytes a text column could not hold: every byte value, NUL included.
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"
#: A party whose name needs a CJK Extension A character and whose address has an emoji.
RARE = {
    "role": "applicant",
    "name": "王䶮",
    "id_number": "11010519491231002X",
    "phone": "13900001111",
    "address": "浙江省江城市青山县城关镇河西社区7号🏠",
}


# -- databases ----------------------------------------------------------------------------


@contextmanager
def _fresh(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of ``kind``, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    _require_pg()  # skipped without a server, but failed under CI=true
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _build(url: str) -> None:
    """A database with rows in every table, written the way the program writes them."""
    store = Store(url)
    store.upgrade()
    make_training(store)
    add_runner(store)
    # Whoever acts on the other database after a move must be a user there too: the
    # operating-system account (SQLite) and the PostgreSQL login, both admins.
    other = {os_login(), make_url(PG_URL).username or "postgres"} - {store.login()}
    add_users(store, *sorted(other), roles=("admin", "supervisor"), organisation=None)
    try:
        load_calendar_year(store, read_year_file(HOLIDAYS), actor="管理员", now=T0)
        run_demo(
            store,
            cases=24,
            seed=11,
            now=T0 + timedelta(days=60),
            actor="演示调解员",
            say=lambda _line: None,
            quiet=True,
        )
        rare = intake.validate(
            intake_record(parties=[RARE, {"role": "respondent", "name": "李四"}])
        )
        opened = cases.open_case(store, rare, actor="登记员", now=T0.replace(microsecond=123456))
        disputes.merge(store, 2, 3, reason="同一通道纠纷重复登记", actor="督办", now=T0)
        scheduler.dispatch(store, now=NOW, notifiers=[])
        with store.write() as conn:
            _other_rows(conn, opened.proceeding_id, opened.dispute_id)
            add_sweep(
                conn,
                user=None,
                actor="网格员",
                org="桥头",
                held_on=T0.date(),
                found=3,
                cases=[opened.case_number],
                area="桥头村东片",
                now=T0,
            )
            audit.append_access(
                conn,
                action="reveal",
                actor="督办",
                subject=opened.case_number,
                detail={"command": "case show", "字段": ["id_number", "phone"]},
                now=NOW.replace(microsecond=654321),
            )
    finally:
        store.close()


def _other_rows(conn: Any, pid: int, dispute_id: int) -> None:
    """Rows of the tables the document and user commands fill, and an organisation whose
    parent has a higher id (a link to a later row)."""
    o = organisation_table
    early = conn.execute(
        insert(o)
        .values(
            code="东岸",
            name="东岸社区人民调解委员会",
            kind="people_committee",
            level="village",
            periods={},
            created_at=T0,
        )
        .returning(o.c.id)
    ).scalar_one()
    late = conn.execute(
        insert(o)
        .values(
            code="东岸镇",
            name="东岸镇人民调解委员会",
            kind="people_committee",
            level="township",
            periods={"peoples.mediation_period": [20, "working_days"]},
            created_at=T0,
        )
        .returning(o.c.id)
    ).scalar_one()
    conn.execute(update(o).where(o.c.id == early).values(parent_id=late))
    conn.execute(
        insert(app_user_table).values(
            login="admin",
            name="系统管理员",
            roles=["admin", "supervisor"],
            organisation_id=None,
            active=True,
            created_at=T0,
        )
    )
    conn.execute(
        insert(app_user_table).values(
            login="zhou",
            name="周明",
            roles=["mediator"],
            organisation_id=early,
            active=False,
            created_at=T0 + timedelta(microseconds=1),
        )
    )
    conn.execute(
        insert(signing_key_table).values(
            organisation_id=early,
            fingerprint="ab" * 32,
            subject="CN=东岸社区人民调解委员会",
            certificate="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            key_path="/srv/keys/东岸.key",
            not_before=T0,
            not_after=T0 + timedelta(days=3650),
            active=True,
            created_at=T0,
            created_by="管理员",
        )
    )
    conn.execute(
        insert(document_table).values(
            proceeding_id=pid,
            dispute_id=dispute_id,
            kind="agreement",
            seq=1,
            title="人民调解协议书",
            status="signed",
            sha256=hashlib.sha256(PDF).hexdigest(),
            size=len(PDF),
            pages=2,
            content=PDF,
            rendered_at=NOW,
            rendered_by="工作人员",
            signed_at=NOW,
            signed_by="工作人员",
            key_fingerprint="ab" * 32,
        )
    )
    party = conn.execute(
        select(party_table.c.id).where(party_table.c.dispute_id == dispute_id).limit(1)
    ).scalar_one()
    for image in (bytes(range(255, -1, -1)), None):
        conn.execute(
            insert(signature_table).values(
                proceeding_id=pid,
                document_kind="agreement",
                signer_kind="party",
                party_id=party,
                signer_name="王䶮",
                method="sign",
                signed_at=NOW,
                image=image,
                image_type="image/png" if image else None,
                recorded_by="工作人员",
                recorded_at=NOW,
            )
        )


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, by primary key; JSON columns as the stored text."""
    store = Store(url)
    try:
        with store.read() as conn:
            out = {
                "alembic_version": [
                    tuple(conn.execute(text("SELECT version_num FROM alembic_version")))
                ]
            }
            for table in metadata.sorted_tables:
                columns = [
                    type_coerce(c, Text).label(c.name) if isinstance(c.type, JSONText) else c
                    for c in table.columns
                ]
                query = select(*columns).order_by(*table.primary_key.columns)
                out[table.name] = [tuple(r) for r in conn.execute(query)]
        return out
    finally:
        store.close()


def _verify(url: str) -> audit.AuditReport:
    store = Store(url)
    try:
        with store.read() as conn:
            return audit.verify(conn)
    finally:
        store.close()


# -- the command line ---------------------------------------------------------------------


def _cli(runner: CliRunner, url: str, *args: str, input: bytes | None = None) -> Result:
    return runner.invoke(
        app,
        ["--db", url, *args],
        input=input,
        env={"MEDIATION_NOW": NOW.isoformat()},
    )


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
    return result


def _empty_target(runner: CliRunner, url: str) -> dict[str, list[tuple[Any, ...]]]:
    _ok(_cli(runner, url, "db", "upgrade"))
    return _rows(url)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A revealed export of a rich SQLite database (for the refusals)."""
    folder = tmp_path_factory.mktemp("export")
    url = f"sqlite:///{folder / 'source.db'}"
    _build(url)
    _ok(_cli(CliRunner(), url, "export", "--reveal", "-o", str(folder / "move.jsonl")))
    return (folder / "move.jsonl").read_bytes()


def _lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


def _reseal(lines: list[dict[str, Any]]) -> bytes:
    """Lines made into an export whose trailer matches them, signature included: a
    deliberate forgery by someone who knows the passphrase (without it, the signature
    gives it away first: tests/storage/test_signed_export.py)."""
    body = [
        (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        for obj in lines[:-1]
    ]
    counts = {name: 0 for name in lines[0]["tables"]}
    for obj in lines[1:-1]:
        counts[obj["table"]] += 1
    trailer = {
        "end": "mediation-export",
        "counts": counts,
        "rows": sum(counts.values()),
        "sha256": hashlib.sha256(b"".join(body)).hexdigest(),
    }
    signer = signer_for(lines[0]["signature"], EXPORT_PASSPHRASE)
    assert signer is not None
    trailer["hmac"] = signer.mac(trailer["sha256"])
    return b"".join(body) + json.dumps(trailer).encode() + b"\n"


# -- moves --------------------------------------------------------------------------------

MOVES = [
    ("sqlite", "sqlite"),
    ("sqlite", "postgresql"),
    ("postgresql", "sqlite"),
    ("postgresql", "postgresql"),
]


@pytest.mark.parametrize(
    ("source_kind", "target_kind"), MOVES, ids=[f"{a}-to-{b}" for a, b in MOVES]
)
def test_a_move_keeps_every_row_and_the_audit_chain(
    source_kind: str, target_kind: str, tmp_path: Path, runner: CliRunner
) -> None:
    with _fresh(source_kind, tmp_path) as source, _fresh(target_kind, tmp_path) as target:
        _build(source)
        moved = tmp_path / "move.jsonl"
        out = _ok(_cli(runner, source, "export", "--reveal", "-o", str(moved)))
        assert str(moved) in out.stdout and not moved.with_name("move.jsonl.partial").exists()
        before = _rows(source)
        empty_tables = [name for name, rows in before.items() if not rows]
        assert not empty_tables, f"the source should fill every table: {empty_tables}"
        # The export recorded itself before reading its snapshot, so it carries the record.
        assert [(r[1], r[2]) for r in before["access_event"]][-1] == (
            "export",
            Store(source).login(),
        )

        _empty_target(runner, target)
        out = _ok(_cli(runner, target, "import", str(moved)))
        assert "审计链校验通过" in out.stdout

        assert _rows(target) == before
        source_chain, target_chain = _verify(source), _verify(target)
        assert target_chain.ok, target_chain.problems
        assert (target_chain.head_seq, target_chain.head_hash) == (
            source_chain.head_seq,
            source_chain.head_hash,
        )
        # Byte for byte: the target exports exactly what the source exports.
        masked_source = _ok(_cli(runner, source, "export")).stdout_bytes
        assert _ok(_cli(runner, target, "export")).stdout_bytes == masked_source

        # New rows get fresh ids (PostgreSQL's sequences were moved past the imported ones).
        store = Store(target)
        try:
            opened = cases.open_case(
                store, intake.validate(intake_record()), actor="登记员", now=NOW
            )
            cases.advance(store, opened.proceeding_id, "accept", actor="登记员", now=NOW)
        finally:
            store.close()
        assert opened.proceeding_id == max(r[0] for r in before["proceeding"]) + 1
        assert opened.dispute_id == max(r[0] for r in before["dispute"]) + 1
        after = _rows(target)
        assert after["event"][-1][0] == before["event"][-1][0] + 2
        assert after["party"][-1][0] == before["party"][-1][0] + 2
        assert _verify(target).ok


@pytest.mark.upgraded  # db_url: an empty database as `db upgrade` leaves it
def test_import_reads_stdin_and_the_library_round_trips(
    db_url: str, tmp_path: Path, runner: CliRunner, export: bytes
) -> None:
    """``import -`` takes the export on stdin (``export -o - | import -``)."""
    out = _ok(_cli(runner, db_url, "import", "-", "--json", input=export))
    summary = json.loads(out.stdout)
    lines = _lines(export)
    assert summary["rows"] == lines[-1]["rows"] == len(lines) - 2
    assert summary["counts"] == lines[-1]["counts"]
    again = _ok(_cli(runner, db_url, "export", "--reveal", "-o", "-")).stdout_bytes
    # Identical but for the second export's own access event (and the head it moved).
    ours = [
        obj for obj in _lines(again)[1:-1] if obj["table"] not in ("access_event", "audit_head")
    ]
    theirs = [obj for obj in lines[1:-1] if obj["table"] not in ("access_event", "audit_head")]
    assert ours == theirs
    assert len(_rows(db_url)["access_event"]) == lines[-1]["counts"]["access_event"] + 1


def test_export_masks_personal_data_unless_revealed(
    db_url: str, tmp_path: Path, runner: CliRunner
) -> None:
    _build(db_url)
    rows = _rows(db_url)
    out = _ok(_cli(runner, db_url, "export"))
    masked = out.stdout_bytes
    assert "个人信息已遮蔽" in out.stderr
    lines = _lines(masked)
    assert lines[0]["masked"] is True
    columns = party_table.c.keys()
    secrets = [
        r[i]
        for r in rows["party"]
        for i in (columns.index("id_number"), columns.index("phone"))
        if r[i]
    ]
    assert len(secrets) > 50
    assert not [s for s in secrets if s.encode() in masked]
    assert base64.b64encode(PDF)[:400] not in masked  # nor the documents' content
    party = next(
        o["row"] for o in lines if o.get("table") == "party" and o["row"]["name"] == "王䶮"
    )
    assert party["id_number"] == "110105********002X" and party["phone"] == "139****1111"
    assert party["birth_date"] is None and "7号" not in party["address"]
    assert _rows(db_url) == rows  # a masked export records nothing

    revealed = _ok(_cli(runner, db_url, "export", "--reveal", "-o", "-")).stdout_bytes
    assert all(s.encode() in revealed for s in secrets)
    recorded = _rows(db_url)["access_event"]
    assert len(recorded) == len(rows["access_event"]) + 1 and recorded[-1][1:3] == (
        "export",
        Store(db_url).login(),
    )
    assert _verify(db_url).ok

    with _fresh("sqlite", tmp_path) as target:
        empty = _empty_target(runner, target)
        refused = _cli(runner, target, "import", "-", input=masked)
        assert refused.exit_code == ExitCode.USAGE, refused.output
        assert "隐去个人信息" in refused.output and "--reveal" in refused.output
        assert _rows(target) == empty


# -- refusals: each leaves the target as it was ------------------------------------------


def _drop_tail(data: bytes) -> bytes:
    return b"".join(data.splitlines(keepends=True)[:-40])


def _cut_mid_line(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join(lines[:-2]) + lines[-2][:20]


def _alter_phone(data: bytes) -> bytes:
    return data.replace(b'"phone":"13900001111"', b'"phone":"13900001112"', 1)


def _forge_event_note(data: bytes) -> bytes:
    lines = _lines(data)
    event = next(o for o in lines if o.get("table") == "event" and o["row"]["seq"] == 3)
    event["row"]["note"] = "（事后补记）"
    return _reseal(lines)


def _other_revision(data: bytes) -> bytes:
    lines = _lines(data)
    lines[0]["schema"] = "0005"
    return _reseal(lines)


def _drop_organisations(data: bytes) -> bytes:
    return _reseal([o for o in _lines(data) if o.get("table") != "organisation"])


REFUSALS: dict[str, tuple[Callable[[bytes], bytes], ExitCode, str]] = {
    "truncated": (_drop_tail, ExitCode.INVALID_INPUT, "文件不完整"),
    "cut-mid-line": (_cut_mid_line, ExitCode.INVALID_INPUT, "中断"),
    "altered": (_alter_phone, ExitCode.INVALID_INPUT, "校验和不符"),
    "forged-history": (_forge_event_note, ExitCode.TAMPERED, "audit chains do not verify"),
    "other-revision": (_other_revision, ExitCode.SCHEMA, "0005"),
    "missing-parents": (_drop_organisations, ExitCode.ERROR, "导入在表"),
}


@pytest.mark.upgraded  # db_url: an empty database as `db upgrade` leaves it
@pytest.mark.parametrize("via", ["file", "stdin"])
@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_file_is_refused_and_nothing_is_written(
    case: str, via: str, db_url: str, tmp_path: Path, runner: CliRunner, export: bytes
) -> None:
    change, code, message = REFUSALS[case]
    bad = change(export)
    assert bad != export
    empty = _rows(db_url)
    if via == "file":
        path = tmp_path / "bad.jsonl"
        path.write_bytes(bad)
        result = _cli(runner, db_url, "import", str(path))
    else:  # read once, inserted as it is read: the transaction is what keeps it clean
        result = _cli(runner, db_url, "import", "-", input=bad)
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert message in result.output
    assert "Traceback" not in result.output
    assert _rows(db_url) == empty


def test_a_target_holding_data_is_refused(
    store: Store, db_url: str, runner: CliRunner, export: bytes
) -> None:
    store.close()  # the fixture's store: a migrated database with the four committees
    before = _rows(db_url)
    result = _cli(runner, db_url, "import", "-", input=export)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "不是空的" in result.output and "organisation" in result.output
    assert "db upgrade" in result.output  # the hint says how to make a target
    assert _rows(db_url) == before


def test_a_target_at_another_revision_is_refused(
    db_url: str, runner: CliRunner, export: bytes
) -> None:
    store = Store(db_url)
    store.upgrade("0005")
    store.close()
    result = _cli(runner, db_url, "import", "-", input=export)
    assert result.exit_code == ExitCode.SCHEMA, result.output
    assert "0005" in result.output and "db upgrade" in result.output
    store = Store(db_url)
    try:
        assert store.revision() == "0005"
        with store.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM proceeding")).scalar() == 0
    finally:
        store.close()


def test_a_missing_target_is_refused(tmp_path: Path, runner: CliRunner, export: bytes) -> None:
    target = tmp_path / "nowhere.db"
    result = _cli(runner, str(target), "import", "-", input=export)
    assert result.exit_code == ExitCode.SCHEMA and "init" in result.output
    assert not target.exists()


def test_export_never_overwrites_and_knows_one_format(
    tmp_path: Path, runner: CliRunner, store: Store, db_url: str
) -> None:
    store.close()
    recorded = _rows(db_url)["access_event"]  # the first admin's
    taken = tmp_path / "taken.jsonl"
    taken.write_text("mine")
    result = _cli(runner, db_url, "export", "--reveal", "-o", str(taken))
    assert result.exit_code == ExitCode.USAGE and "已存在" in result.output
    assert taken.read_text() == "mine"
    result = _cli(runner, db_url, "export", "--format", "csv")
    assert result.exit_code == ExitCode.USAGE and "jsonl" in result.output
    assert _rows(db_url)["access_event"] == recorded  # refused before anything was recorded
