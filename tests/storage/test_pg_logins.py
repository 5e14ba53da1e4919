"""Issue 13, acceptance: two PostgreSQL logins made by ``mediation user add`` — an admin and a
mediator of 桥头. Whatever the mediator's login passes in ``--as`` / ``MEDIATION_USER``, it
cannot reveal, advance or render another committee's case; and bypassing the program, its
own connection cannot change that case (row-level security, revision 0015), see that case's
parties, or record an event as someone else or at another time (the recorder trigger).
It can still work its own committee's case.

PostgreSQL only (``postgres`` marker): without a server the tests skip, and fail under
``CI=true``. Every role they make is cluster-wide, so each is dropped at the end
(tests.storage.test_pgroles.app_database).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.engine.organisations import add_organisation
from mediation.errors import ExitCode
from mediation.storage.store import Store
from tests.conftest import T0, intake_record
from tests.storage.test_pgroles import AppDatabase, app_database

pytestmark = pytest.mark.postgres

ASSIGN = str(Path(__file__).resolve().parents[2] / "data" / "examples" / "assign.toml")
#: How the server refuses: row-level security, the recorder trigger, or the grants.
REFUSED = "row-level security|不是当前数据库登录|服务器的时钟|permission denied"


@dataclass
class Centre:
    db: AppDatabase
    admin: str  # the admin's login
    mediator: str  # 桥头's mediator's login
    other_case: str  # a case of 河口, opened by the owner
    tmp: Path

    def run(self, login: str | None, *args: str, stdin: str | None = None, **env: str) -> Result:
        """``mediation --db URL args`` connected as ``login`` (None: the owner), at the
        server's clock (a person's events are checked against the server's time; the test
        may run under faketime, which moves this process's clock only). The database is a
        training one, so the pinned clock is honoured by the program."""
        url = self.db.owner_url if login is None else self.db.url_for(login)
        now = _server_now(self.db.owner_url).isoformat()
        return CliRunner().invoke(
            app, ["--db", url, *args], input=stdin, env={"MEDIATION_NOW": now, **env}
        )

    def ok(self, login: str | None, *args: str, **env: str) -> Result:
        out = self.run(login, *args, **env)
        assert out.exit_code == 0, (args, out.exit_code, out.stdout, out.stderr)
        return out

    def open_case(self, login: str | None, org: str) -> str:
        path = self.tmp / f"intake-{uuid.uuid4().hex[:6]}.json"
        record = intake_record(organisation=org)
        path.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
        opened = self.ok(login, "case", "open", "--from", str(path), "--json")
        number: str = json.loads(opened.stdout)["case_number"]
        return number


def _server_now(url: str) -> datetime:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found: datetime = conn.execute(text("SELECT now()")).scalar_one()
            return found
    finally:
        engine.dispose()


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[Centre]:
    """A centre on PostgreSQL: the owner ran ``init`` (its first admin) and ``db grants``;
    it adds the admin's login (with a password, from stdin), which adds the mediator's."""
    with app_database() as db:
        suffix = db.schema.removeprefix("r_")
        admin, mediator = f"adm_{suffix}", f"med_{suffix}"
        db.roles += [mediator, admin]  # dropped at the end, whatever happens
        owner = Store(db.owner_url)
        add_organisation(owner, code="城关", name="城关镇人民调解委员会", level="township", now=T0)
        add_organisation(
            owner, code="河口", name="河口村人民调解委员会", level="village", parent="城关", now=T0
        )
        owner.close()
        c = Centre(db, admin, mediator, "", tmp_path)
        c.ok(None, "init", "--training", "--role", "supervisor")
        added = c.ok(
            None, "user", "add", admin, "--role", "admin", "--password-stdin",
            stdin="a-long-enough-password\n",
        )  # fmt: skip
        assert f"{db.groups}_admin" in added.stdout
        c.other_case = c.open_case(None, "河口")
        yield c


def _rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_user_add_makes_the_login_and_needs_createrole(centre: Centre) -> None:
    db, admin, mediator = centre.db, centre.admin, centre.mediator
    # The admin's login was made a member of the admin group, with a password.
    member = _rows(
        db.owner_url,
        "SELECT g.rolname, r.rolcanlogin, r.rolpassword IS NOT NULL FROM pg_auth_members m "
        "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_authid r ON r.oid = m.member "
        "WHERE r.rolname = :n",
        n=admin,
    )
    assert member == [(f"{db.groups}_admin", True, True)]
    # A short password is refused before anything is made.
    short = f"short_{db.schema}"
    db.roles.append(short)
    out = centre.run(None, "user", "add", short, "--role", "admin", "--password-stdin", stdin="x\n")
    assert out.exit_code == ExitCode.INVALID_INPUT and "密码过短" in out.stderr, out.output
    assert not _rows(db.owner_url, "SELECT 1 FROM pg_roles WHERE rolname = :n", n=short)
    # One transaction: the login made, then an unknown organisation: no login is left.
    out = centre.run(None, "user", "add", short, "--role", "mediator", "--org", "无此组织")
    assert out.exit_code == ExitCode.NOT_FOUND, out.output
    assert not _rows(db.owner_url, "SELECT 1 FROM pg_roles WHERE rolname = :n", n=short)
    # Without CREATEROLE the server refuses, and nothing is written: no user, no event.
    refused = centre.run(admin, "user", "add", mediator, "--role", "mediator", "--org", "桥头")
    assert refused.exit_code == ExitCode.PERMISSION, refused.output
    assert "CREATEROLE" in refused.stderr and "数据库拒绝" in refused.stderr
    assert not _rows(db.owner_url, "SELECT 1 FROM pg_roles WHERE rolname = :n", n=mediator)
    assert not _rows(db.owner_url, "SELECT 1 FROM app_user WHERE login = :n", n=mediator)
    _rows(db.owner_url, f'ALTER ROLE "{admin}" CREATEROLE')
    centre.ok(admin, "user", "add", mediator, "--role", "mediator", "--org", "桥头")
    assert _rows(
        db.owner_url,
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :n",
        n=mediator,
    ) == [(f"{db.groups}_mediator",)]
    # user grant follows: the login's groups are exactly the user's roles.
    granted = centre.ok(admin, "user", "grant", mediator, "staff")
    assert f"{db.groups}_staff" in granted.stdout
    centre.ok(admin, "user", "grant", mediator, "staff", "--revoke")
    groups = _rows(
        db.owner_url,
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :n",
        n=mediator,
    )
    assert groups == [(f"{db.groups}_mediator",)]


@pytest.fixture
def mediator_centre(centre: Centre) -> Centre:
    """:func:`centre` with the mediator of 桥头 added by the admin's login (CREATEROLE)."""
    _rows(centre.db.owner_url, f'ALTER ROLE "{centre.admin}" CREATEROLE')
    centre.ok(centre.admin, "user", "add", centre.mediator, "--role", "mediator", "--org", "桥头")
    return centre


@pytest.mark.parametrize(
    ("claim", "env"),
    [
        ((), {}),
        (("--as", "ADMIN"), {}),
        ((), {"MEDIATION_USER": "ADMIN"}),
        ((), {"MEDIATION_USER": "postgres", "LOGNAME": "postgres", "USER": "postgres"}),
    ],
    ids=["plain", "--as admin", "MEDIATION_USER=admin", "env=owner"],
)
def test_the_mediator_login_cannot_touch_another_committees_case(
    mediator_centre: Centre, claim: tuple[str, ...], env: dict[str, str]
) -> None:
    c = mediator_centre
    claim = tuple(c.admin if a == "ADMIN" else a for a in claim)
    env = {k: c.admin if v == "ADMIN" else v for k, v in env.items()}
    other = c.other_case
    before = _rows(c.db.owner_url, "SELECT state, version FROM proceeding ORDER BY id")
    for args in (
        ("case", "show", other, "--reveal"),
        ("case", "advance", other, "accept"),
        ("doc", "render", other, "application", "-o", str(c.tmp / "x.pdf")),
    ):
        out = c.run(c.mediator, *claim, *args, **env)
        assert out.exit_code in (ExitCode.PERMISSION, ExitCode.NOT_FOUND), (args, out.output)
        if out.exit_code == ExitCode.NOT_FOUND:  # row-level security hides the case
            assert "行级安全" in out.stderr, out.stderr
        assert "Traceback" not in out.output and "张三" not in out.stdout
        assert "11010519491231002X" not in out.output
    assert _rows(c.db.owner_url, "SELECT state, version FROM proceeding ORDER BY id") == before
    assert not (c.tmp / "x.pdf").exists()


def test_bypassing_the_program_the_database_refuses(mediator_centre: Centre) -> None:
    c = mediator_centre
    own = c.open_case(c.mediator, "桥头")  # its own committee's case: it may
    ((other_dispute,),) = _rows(
        c.db.owner_url, "SELECT dispute_id FROM proceeding WHERE case_number = :n", n=c.other_case
    )
    names = {"other_dispute": other_dispute, "admin": c.admin, "me": c.mediator}
    url = c.db.url_for(c.mediator)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            # Another committee's case does not exist for this login: 0 rows changed.
            changed = conn.execute(
                text("UPDATE proceeding SET state = 'closed' WHERE case_number = :n"),
                {"n": c.other_case},
            ).rowcount
            assert changed == 0
            seen = conn.execute(text("SELECT case_number FROM proceeding")).scalars().all()
            assert seen == [own]
            parties = conn.execute(text("SELECT count(*) FROM party")).scalar()
            assert parties == 2  # its own dispute's two parties, not the other's
        for sql in (
            # Moving its own case to another committee.
            "UPDATE proceeding SET organisation_id = (SELECT id FROM organisation "
            "WHERE code = '河口') WHERE case_number = :own",
            # An event recorded as the admin, or backdated.
            "INSERT INTO event (dispute_id, proceeding_id, seq, trigger, from_state, to_state,"
            " actor, payload, occurred_at) SELECT dispute_id, id, 99, 'accept', 'applied',"
            " 'accepted', :admin, '{}', now() FROM proceeding WHERE case_number = :own",
            "INSERT INTO event (dispute_id, proceeding_id, seq, trigger, from_state, to_state,"
            " actor, payload, occurred_at) SELECT dispute_id, id, 99, 'accept', 'applied',"
            " 'accepted', :me, '{}', now() - interval '1 day' FROM proceeding"
            " WHERE case_number = :own",
            "INSERT INTO access_event (action, actor, subject, detail, occurred_at) "
            "VALUES ('reveal', :admin, 'x', '{}', now())",
            # Reaching another committee's dispute by adding a case to it, or moving its
            # own case into it.
            "INSERT INTO proceeding (dispute_id, flow, state, organisation_id, level,"
            " case_year, case_serial, case_number, application_mode, mediator, mediators,"
            " facts, opened_at, updated_at, version) SELECT :other_dispute, flow, state,"
            " organisation_id, level, case_year, 99, 'x', application_mode, :me, '[]',"
            " '{}', now(), now(), 1 FROM proceeding WHERE case_number = :own",
            "UPDATE proceeding SET dispute_id = :other_dispute WHERE case_number = :own",
            # The admin's rights, by editing its own user row.
            "UPDATE app_user SET roles = '[\"admin\"]' WHERE login = :me",
        ):
            with pytest.raises(DBAPIError, match=REFUSED), engine.begin() as conn:
                conn.execute(text(sql), {**names, "own": own})
    finally:
        engine.dispose()
    # A member of the person groups with no user row here (say, a person of another
    # database whose groups share the names) is nobody: no rows, no events.
    stray = f"stray_{c.db.schema}"
    c.db.roles.append(stray)
    _rows(c.db.owner_url, f'CREATE ROLE "{stray}" LOGIN')
    _rows(c.db.owner_url, f'GRANT "{c.db.groups}_supervisor" TO "{stray}"')
    engine = create_engine(c.db.url_for(stray))
    try:
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM proceeding")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM party")).scalar() == 0
        with pytest.raises(DBAPIError, match="不是本数据库的用户"), engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO access_event (action, actor, subject, detail, occurred_at) "
                    "VALUES ('reveal', :n, 'x', '{}', now())"
                ),
                {"n": stray},
            )
    finally:
        engine.dispose()
    assert _rows(c.db.owner_url, "SELECT roles FROM app_user WHERE login = :n", n=c.mediator) == [
        ('["mediator"]',)
    ]
    verified = c.ok(None, "audit", "verify")
    assert "审计链完整" in verified.stdout


def test_the_mediator_login_works_its_own_case(mediator_centre: Centre) -> None:
    c = mediator_centre
    own = c.open_case(c.mediator, "桥头")
    c.ok(c.mediator, "case", "advance", own, "accept")
    shown = json.loads(c.ok(c.mediator, "case", "show", own, "--json").stdout)
    assert shown["proceeding"]["state"] == "accepted"
    events = _rows(
        c.db.owner_url,
        "SELECT e.actor FROM event e JOIN proceeding p ON p.id = e.proceeding_id "
        "WHERE p.case_number = :n ORDER BY e.id",
        n=own,
    )
    assert events and {a for (a,) in events} == {c.mediator}
    # The admin's login (row-level security lets admins see every case) reveals, recorded.
    revealed = c.ok(c.admin, "case", "show", c.other_case, "--reveal")
    assert "11010519491231002X" in revealed.stdout
    assert "审计链完整" in c.ok(None, "audit", "verify").stdout


def test_person_logins_do_a_days_work(mediator_centre: Centre) -> None:
    """Each role's login through the paths that write across tables: a hand-off to the
    committee above (a new case in another organisation), a document, the scheduler's run
    as a supervisor, the audit check; and a person's clock that is not the server's."""
    c = mediator_centre
    suffix = c.db.schema.removeprefix("r_")
    river, staff, sup = f"hk_{suffix}", f"st_{suffix}", f"sv_{suffix}"
    c.db.roles += [river, staff, sup]
    c.ok(c.admin, "user", "add", river, "--role", "mediator", "--org", "河口")
    c.ok(c.admin, "user", "add", staff, "--role", "staff", "--org", "桥头")
    c.ok(c.admin, "user", "add", sup, "--role", "supervisor")
    # 河口's mediator escalates its case to 城关: the new case is written by its login.
    case = c.open_case(river, "河口")
    c.ok(river, "case", "advance", case, "accept")
    out = c.ok(river, "case", "advance", case, "escalate", "--set", "reason=案情复杂")
    assert "城关人调字第1号" in out.stdout
    # 桥头's staff renders its committee's document, not another's.
    own = c.open_case(c.mediator, "桥头")
    c.ok(c.mediator, "case", "advance", own, "accept")
    pdf = c.tmp / "registration.pdf"
    c.ok(staff, "doc", "render", own, "registration", "-o", str(pdf))
    assert pdf.exists()
    refused = c.run(staff, "doc", "render", case, "application", "-o", str(c.tmp / "no.pdf"))
    assert refused.exit_code in (ExitCode.PERMISSION, ExitCode.NOT_FOUND), refused.output
    # The supervisor's login runs the scheduler (recorded as `scheduler`) and the audit.
    c.ok(sup, "scheduler", "run", "--once")
    assert "审计链完整" in c.ok(sup, "audit", "verify").stdout
    listed = c.ok(c.mediator, "case", "list", "--json").stdout
    assert case not in listed and own in listed
    # A step dated by the client's clock a day off the server's is refused, cleanly, by the
    # recorder trigger (the program honours the pinned clock: a training database).
    tomorrow = (_server_now(c.db.owner_url) + timedelta(days=1)).isoformat()
    before = _rows(c.db.owner_url, "SELECT count(*) FROM event")
    skewed = CliRunner().invoke(
        app,
        ["--db", c.db.url_for(c.mediator), "case", "advance", own, "assign", "--data", ASSIGN],
        env={"MEDIATION_NOW": tomorrow},
    )
    assert skewed.exit_code == ExitCode.ERROR, skewed.output
    assert "服务器的时钟" in skewed.stderr and "Traceback" not in skewed.output
    assert _rows(c.db.owner_url, "SELECT count(*) FROM event") == before
