"""Issue 14: each register (人调, 医调, 委调 ...; a court's 民初, 民特) numbers its cases from 1
per organisation and year, and a database holding cases numbered the old way (one serial per
organisation and year) never repeats a number after ``db upgrade`` (revision 0018).

Every step runs the real CLI on a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from mediation.storage import migrations
from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal.helpers import Cli
from tests.legal.test_court_documents import (
    PARTIES,
    add_court,
    court_case_of,
    judicial_case,
    referred_to_agreement,
)


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    yield Cli(runner, db_url, tmp_path)


def medical(cli: Cli, day: str) -> str:
    return cli.open(day, flow="medical_committee", dispute_type="medical")


def test_a_committees_registers_each_number_from_one(cli: Cli) -> None:
    # 桥头's first 人调 case of 2026, its second, then its first 医调 case: 第1号 in its own
    # register (the old shared serial made it 医调字第3号).
    assert cli.open("2026-03-02") == "（2026）桥头人调字第1号"
    assert cli.open("2026-03-02") == "（2026）桥头人调字第2号"
    assert medical(cli, "2026-03-03") == "（2026）桥头医调字第1号"
    assert cli.open("2026-03-03") == "（2026）桥头人调字第3号"
    assert medical(cli, "2026-03-04") == "（2026）桥头医调字第2号"
    # Another committee's registers are its own.
    assert cli.open("2026-03-04", organisation="城关") == "（2026）城关人调字第1号"
    # A new year starts every register at 1 again.
    assert medical(cli, "2027-01-04") == "（2027）桥头医调字第1号"


def test_a_courts_minchu_and_minte_cases_each_number_from_one(cli: Cli) -> None:
    add_court(cli, "浙0681")
    assert judicial_case(cli, "2026-03-02") == "（2026）浙0681民初1号"
    # The simple procedure's cases are 民初 cases too: the same register.
    simple = cli.open(
        "2026-03-02", flow="judicial_simple", organisation="青山法院", parties=PARTIES
    )
    assert simple == "（2026）浙0681民初2号"
    # An agreement sent for confirmation opens the court's first 民特 case: 民特1号, not 民特3号.
    case = referred_to_agreement(cli, "2026-03-02")
    cli.sign_all(case, "2026-03-03")
    cli.step(
        case, "apply_confirmation", "2026-03-04", organisation="青山法院", consented_by="张三、李四"
    )
    assert court_case_of(cli, case, "2026-03-04") == "（2026）浙0681民特1号"
    assert judicial_case(cli, "2026-03-05") == "（2026）浙0681民初3号"
    # The 委派 case at 桥头 is in 桥头's 委调 register, from 1 as well.
    assert case == "（2026）桥头委调字第1号"


def _proceedings(store: Store) -> list[tuple[int, str, int, str]]:
    with store.read() as conn:
        rows = conn.execute(
            text(
                "SELECT case_year, case_number, case_serial, flow FROM proceeding"
                " WHERE organisation_id = (SELECT id FROM organisation WHERE code = '桥头')"
                " ORDER BY id"
            )
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_no_number_repeats_after_the_upgrade_of_a_database_holding_cases(
    cli: Cli, db_url: str
) -> None:
    # Cases in both registers, then the schema taken back to 0017 (one serial per
    # organisation and year): the 医调 case whose serial 1 a 人调 case holds is given the
    # next one, 3, as the old code would have numbered it; its printed number stays.
    assert cli.open("2026-03-02") == "（2026）桥头人调字第1号"
    assert cli.open("2026-03-02") == "（2026）桥头人调字第2号"
    assert medical(cli, "2026-03-02") == "（2026）桥头医调字第1号"
    store = Store(db_url)
    try:
        migrations.downgrade(store, "0017")
        assert store.revision() == "0017"
        assert [(n, s) for _, n, s, _ in _proceedings(store)] == [
            ("（2026）桥头人调字第1号", 1),
            ("（2026）桥头人调字第2号", 2),
            ("（2026）桥头医调字第1号", 3),
        ]
        with store.read() as conn:
            last = conn.execute(text("SELECT last FROM case_counter")).scalars().all()
        assert last == [3]  # the old code's next case would have been 第4号
    finally:
        store.close()

    upgraded = cli.ok("db", "upgrade", day="2026-03-03")
    assert f"0017 → {migrations.HEAD}" in upgraded.output
    # Each register goes on from the highest serial it used: 人调 from 2, 医调 from 3 (the
    # serial its case holds), so 医调字第1号 is never issued twice.
    assert cli.open("2026-03-03") == "（2026）桥头人调字第3号"
    assert medical(cli, "2026-03-03") == "（2026）桥头医调字第4号"
    assert cli.open("2026-03-04") == "（2026）桥头人调字第4号"
    store = Store(db_url)
    try:
        numbers = [n for _, n, _, _ in _proceedings(store)]
        assert len(numbers) == len(set(numbers)) == 6
        with store.read() as conn:
            counters = conn.execute(
                text("SELECT year, word, last FROM case_counter ORDER BY word")
            ).all()
        assert sorted(tuple(c) for c in counters) == [(2026, "人调", 4), (2026, "医调", 4)]
    finally:
        store.close()
    verified = cli("audit", "verify", day="2026-03-04")
    assert verified.exit_code == 0, verified.output
