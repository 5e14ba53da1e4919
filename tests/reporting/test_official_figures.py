"""The official categories of ``report stats`` (司法行政统计·人民调解工作统计), on both
databases: 调解纠纷数 / 调解成功数 / 调解成功率 counted by the day mediation ended, 涉及金额
and 涉及人数, the sweeps (``sweep add``) and the prevention records (``record_prevention``),
every figure worked by hand below. Cases are built through the engine; sweeps, prevention
records and the report go through the command line.

The report covers March 2026 (``--from 2026-03-01 --to 2026-03-31``), looked at on 8 April.

case  opened  what happened                                    official (ended in March)
P1    02-20   agreed 03-05, amount 12000                       mediated, settled, 12000.00
P2    03-02   oral agreement 03-10, amount "3,500.50"          mediated, settled, 3500.50
P3    03-02   agreed 03-12, no amount; three parties           mediated, settled, no amount
P4    03-03   terminated 03-15                                 mediated, not settled
P5    03-20   agreed 04-02                                     ended after March: not counted
P6    02-10   terminated 02-25                                 ended before March: not counted
P8    03-05   terminated 04-03                                 ended after March: not counted
P10   02-02   agreed 02-10, confirmation dismissed 02-20,      ended again 03-03: mediated,
              re-mediated, agreed again 03-03, amount 8000     settled, 8000.00

调解纠纷数 = P1, P2, P3, P4, P10 = 5; 调解成功数 = P1, P2, P3, P10 = 4 → 80.0%.
涉及金额 = 12000 + 3500.50 + 8000 = 23500.50 (3 agreements recorded an amount; P3 did not).
涉及人数 = P1 2 + P2 2 + P3 3 + P4 2 + P10 2 = 11.

The report's own rate (cases opened in March, as they stand on 8 April): P2, P3, P5 settled,
P4, P8 failed → 3 / 5 = 60.0%; P1, P6 and P10 were opened in February.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from mediation import Mediation, PermissionDenied
from mediation.cli import app
from mediation.domain.clock import FixedClock
from mediation.errors import ExitCode, ValidationError
from mediation.storage._tables import access_event_table
from tests.conftest import add_users, intake_record
from tests.reporting.test_stats import AGREEMENT, ASSIGN, SESSION, at, parties, run

PERIOD = ("--from", "2026-03-01", "--to", "2026-03-31", "--as-of", "2026-04-08")


def open_case(store: Any, n: int, when: Any, people: list[dict[str, str]] | None = None) -> int:
    """A people's-mediation case at 桥头 for parties ``n`` (or ``people``), opened ``when``."""
    from mediation.domain import intake
    from mediation.engine import cases

    data = intake_record(parties=people or parties(n))
    return cases.open_case(store, intake.validate(data), actor="t", now=when).proceeding_id


def mediated(month: int, day: int) -> list[tuple[Any, ...]]:
    """Accept, assign, inform and a first session on 2026-``month``-``day``."""
    return [
        ("accept", at(month, day, 9)),
        ("assign", at(month, day, 10), ASSIGN),
        ("inform", at(month, day, 11)),
        ("record_session", at(month, day, 14), SESSION),
    ]


def agreement(**extra: Any) -> dict[str, Any]:
    return {**AGREEMENT, **extra}


TERMINATE = {"reason": "分歧较大", "other_routes": "可诉讼"}


def cli(runner: Any, db_url: str, *args: str, day: str = "2026-04-08", login: str | None = None):
    """``mediation --db DB [--as LOGIN] ARGS`` at 10:00 on ``day``."""
    who = ["--as", login] if login else []
    return runner.invoke(
        app, ["--db", db_url, *who, *args], env={"MEDIATION_NOW": f"{day}T10:00:00+08:00"}
    )


def ok(runner: Any, db_url: str, *args: str, **kw: Any) -> Any:
    result = cli(runner, db_url, *args, **kw)
    assert result.exit_code == 0, (args, result.exit_code, result.stdout, result.stderr)
    return result


def _number(store: Any, pid: int) -> str:
    from mediation.storage._tables import proceeding_table

    with store.read() as conn:
        return conn.execute(
            select(proceeding_table.c.case_number).where(proceeding_table.c.id == pid)
        ).scalar_one()


@pytest.fixture
def recorded(store: Any, db_url: str, runner: Any) -> dict[str, int]:
    """The cases of the module's table through the engine; their prevention records and the
    sweeps through the command line (as the runner: a supervisor), each case's steps in
    the order of their days.

    prevention          case  day    people   counted in March
    防止民转刑          P4    03-08  3        corrected on 03-09 to 4 → P4 counts once, 4 people
    防止民转刑          P2    03-06  2        → 2 cases, 6 people
    防止自杀            P2    03-06  1        → 1 case, 1 person (a case may prevent two things)
    防止群体性械斗      P3    03-11  20       → 1 case, 20 people
    预防纠纷激化        P8    03-06  2        → 1 case, 2 people
    防止群体性上访      P5    04-01  15       recorded in April: 0

    sweep               day    found  opened
    桥头 (village)      03-01  3      1 (P2, named)      counted
    城关 (township)     03-15  2      0                  counted
    桥头                02-28  5      0                  February: not counted
    → 排查次数 2, 排查发现纠纷 5, 排查后立案 1
    """
    ids: dict[str, int] = {}

    def prevent(case: str, day: str, kind: str, people: str) -> None:
        number = _number(store, ids[case])
        ok(
            runner, db_url, "case", "advance", number, "record_prevention",
            "--set", f"prevention={kind}", "--set", f"people={people}",
            "--set", "summary=调解员及时介入，稳控情绪", day=day,
        )  # fmt: skip

    ids["P1"] = p = open_case(store, 1, at(2, 20, 9))
    run(store, p, *mediated(2, 20), ("agree_written", at(3, 5), agreement(amount="12000")))
    ids["P2"] = p = open_case(store, 2, at(3, 2, 9))
    run(store, p, *mediated(3, 2))
    prevent("P2", "2026-03-06", "防止民转刑", "2")
    prevent("P2", "2026-03-06", "防止自杀", "1")
    run(store, p, ("agree_oral", at(3, 10), {"terms": "互谅", "amount": "3,500.50"}))
    third = [*parties(3), {"role": "third_party", "name": "第三人3", "phone": "13712340003"}]
    ids["P3"] = p = open_case(store, 3, at(3, 2, 9), third)
    run(store, p, *mediated(3, 2))
    prevent("P3", "2026-03-11", "防止群体性械斗", "20")
    run(store, p, ("agree_written", at(3, 12), AGREEMENT))
    ids["P4"] = p = open_case(store, 4, at(3, 3, 9))
    run(store, p, *mediated(3, 3))
    prevent("P4", "2026-03-08", "防止民转刑", "3")
    prevent("P4", "2026-03-09", "criminal", "4")  # the code does as well as the label
    run(store, p, ("terminate", at(3, 15), TERMINATE))
    ids["P5"] = p = open_case(store, 5, at(3, 20, 9))
    run(store, p, *mediated(3, 20))
    prevent("P5", "2026-04-01", "防止群体性上访", "15")
    run(store, p, ("agree_written", at(4, 2), agreement(amount=500)))
    ids["P6"] = p = open_case(store, 6, at(2, 10, 9))
    run(store, p, *mediated(2, 10), ("terminate", at(2, 25), TERMINATE))
    ids["P8"] = p = open_case(store, 8, at(3, 5, 9))
    run(store, p, *mediated(3, 5))
    prevent("P8", "2026-03-06", "预防纠纷激化", "2")
    run(store, p, ("terminate", at(4, 3), TERMINATE))
    ids["P10"] = p = open_case(store, 10, at(2, 2, 9))
    run(
        store,
        p,
        *mediated(2, 2),
        ("agree_written", at(2, 10), agreement(amount="100")),
        ("sign", at(2, 10, 16)),
        ("apply_confirmation", at(2, 12), {"court": "青山县人民法院", "consented_by": "申请人10、被申请人10"}),
        ("confirmation_denied", at(2, 20), {"ruling_ref": "（2026）浙0681民特9号", "reason": "不明确"}),
        ("remediate", at(2, 21)),
        ("agree_written", at(3, 3), agreement(amount="8000")),
    )  # fmt: skip
    p2 = _number(store, ids["P2"])
    ok(runner, db_url, "sweep", "add", "--org", "桥头", "--on", "2026-03-01", "--found", "3",
       "--case", p2, "--area", "桥头村一组至三组", day="2026-03-02")  # fmt: skip
    ok(runner, db_url, "sweep", "add", "--org", "城关", "--on", "2026-03-15", "--found", "2",
       "--note", "集镇商户走访", day="2026-03-15")  # fmt: skip
    ok(runner, db_url, "sweep", "add", "--org", "桥头", "--on", "2026-02-28", "--found", "5",
       day="2026-03-01")  # fmt: skip
    return ids


#: The official figures of March, as the module's docstring and ``recorded`` work them out.
EXPECTED = {
    "official_mediated": 5,  # P1, P2, P3, P4, P10
    "official_settled": 4,  # P1, P2, P3, P10
    "official_rate": 80.0,  # 4 / 5
    "agreement_amount": 23500.5,  # 12000 + 3500.50 + 8000 (P10's second agreement)
    "amount_recorded": 3,  # P1, P2, P10
    "people_involved": 11,  # 2 + 2 + 3 + 2 + 2
    "sweeps_held": 2,
    "sweep_found": 5,  # 3 + 2
    "sweep_opened": 1,
    "prevented_escalation": 1,  # P8
    "prevented_escalation_people": 2,
    "prevented_criminal": 2,  # P4, P2
    "prevented_criminal_people": 6,  # P4's corrected 4 + P2's 2
    "prevented_group_petition": 0,  # P5's was in April
    "prevented_group_petition_people": 0,
    "prevented_group_fight": 1,  # P3
    "prevented_group_fight_people": 20,
    "prevented_suicide": 1,  # P2
    "prevented_suicide_people": 1,
}


def test_official_figures_by_the_day_things_happened(store, db_url, runner, recorded):
    report = json.loads(ok(runner, db_url, "report", "stats", *PERIOD, "--format", "json").stdout)
    total = report["total"]
    assert {k: total[k] for k in EXPECTED} == EXPECTED
    # The report's own rate, by opening: P2, P3, P5 settled; P4, P8 failed → 3 / 5.
    assert total["settlement_rate"] == 60.0
    assert total["received"] == 5  # P2, P3, P4, P5, P8
    figures = {f["key"]: f for f in report["figures"]}
    assert "调解纠纷数" in figures["official_rate"]["definition"]
    assert figures["official_rate"]["basis"] and figures["prevented_criminal"]["basis"]
    assert "人民调解法第二十五条" in figures["prevented_criminal"]["basis"]


def test_february_counts_what_ended_in_february(store, db_url, runner, recorded):
    """February: P6 terminated 02-25. P10 agreed on 02-10 but ended again on 03-03: its last
    end is in March, so not February's. The sweep of 02-28 at 桥头 is February's."""
    report = json.loads(
        ok(
            runner,
            db_url,
            "report",
            "stats",
            "--from",
            "2026-02-01",
            "--to",
            "2026-02-28",
            "--as-of",
            "2026-04-08",
            "--format",
            "json",
        ).stdout
    )
    total = report["total"]
    assert (total["official_mediated"], total["official_settled"]) == (1, 0)  # P6
    assert total["official_rate"] == 0.0
    assert (total["sweeps_held"], total["sweep_found"]) == (1, 5)
    assert total["agreement_amount"] == 0.0


def test_grouped_and_one_organisation(store, db_url, runner, recorded):
    by_level = json.loads(
        ok(runner, db_url, "report", "stats", *PERIOD, "--by", "level", "--format", "json").stdout
    )
    rows = {r["key"]: r for r in by_level["rows"]}
    # Every case is 桥头's (village); the 城关 sweep makes a township row of its own.
    assert rows["village"]["official_mediated"] == 5
    assert (rows["village"]["sweeps_held"], rows["township"]["sweeps_held"]) == (1, 1)
    assert rows["township"]["sweep_found"] == 2
    # A sweep has no dispute type: grouped by type, sweeps are in the total only.
    by_type = json.loads(
        ok(runner, db_url, "report", "stats", *PERIOD, "--by", "type", "--format", "json").stdout
    )
    assert all(r["sweeps_held"] is None for r in by_type["rows"])
    assert by_type["total"]["sweeps_held"] == 2
    # Grouped by month: the month the mediation ended (P1 and P10 were opened in February).
    by_month = json.loads(
        ok(runner, db_url, "report", "stats", *PERIOD, "--by", "month", "--format", "json").stdout
    )
    assert [(r["key"], r["official_mediated"]) for r in by_month["rows"]] == [("2026-03", 5)]
    # 桥头 alone: its own sweep, not its parent 城关's.
    own = json.loads(
        ok(runner, db_url, "report", "stats", *PERIOD, "--org", "桥头", "--format", "json").stdout
    )
    assert (own["total"]["sweeps_held"], own["total"]["sweep_found"]) == (1, 3)
    assert own["total"]["official_rate"] == 80.0


def test_csv_and_pdf_carry_the_official_figures(store, db_url, runner, recorded, tmp_path):
    rows = list(csv.reader(io.StringIO(
        ok(runner, db_url, "report", "stats", *PERIOD, "--format", "csv").stdout
    )))  # fmt: skip
    header, total = rows[0], rows[-1]
    assert total[header.index("调解成功率（报表口径）（%）")] == "80.0"
    assert total[header.index("涉及金额（元）")] == "23500.5"
    assert total[header.index("防止民转刑（人）（人）")] == "6"
    pdf = tmp_path / "stats.pdf"
    ok(runner, db_url, "report", "stats", *PERIOD, "--format", "pdf", "-o", str(pdf))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in ("调解成功率（报表口径）", "80.0%", "涉及金额", "23,500.50 元", "排查次数",
                     "防止民转刑", "人民调解法第二十五条"):  # fmt: skip
        assert expected in text, expected


def test_a_prevention_needs_a_known_kind_and_a_count(store, db_url, runner):
    pid = open_case(store, 20, at(3, 2, 9))
    run(store, pid, *mediated(3, 2))
    number = _number(store, pid)

    def advance(trigger: str, *sets: str) -> Any:
        args = [a for pair in sets for a in ("--set", pair)]
        return cli(runner, db_url, "case", "advance", number, trigger, *args, day="2026-03-20")

    unknown = advance("record_prevention", "prevention=防止打架", "people=2", "summary=x")
    assert unknown.exit_code == ExitCode.INVALID_INPUT, unknown.stderr
    assert "prevention" in unknown.stderr
    count = advance("record_prevention", "prevention=防止自杀", "people=两人", "summary=x")
    assert count.exit_code == ExitCode.NOT_ALLOWED, count.stderr
    assert "people" in count.stderr
    amount = advance("agree_oral", "terms=互谅", "amount=-5")
    assert amount.exit_code == ExitCode.NOT_ALLOWED and "amount" in amount.stderr, amount.stderr


def test_sweeps_are_filed_by_their_committee_and_audited(store, db_url, runner):
    add_users(store, "qt_mediator", organisation="桥头")
    clock = FixedClock(at(3, 20))
    own = Mediation(store, "qt_mediator", clock=clock).add_sweep(
        "桥头", held_on=date(2026, 3, 19), found=4, opened=2, area="桥头村四组"
    )
    assert (own.organisation, own.held_by, own.found, own.opened) == ("桥头", "qt_mediator", 4, 2)
    with pytest.raises(PermissionDenied):
        Mediation(store, "qt_mediator", clock=clock).add_sweep(
            "城关", held_on=date(2026, 3, 19), found=1
        )
    with pytest.raises(ValidationError):  # more opened than found
        Mediation(store, "qt_mediator", clock=clock).add_sweep(
            "桥头", held_on=date(2026, 3, 19), found=1, opened=2
        )
    with pytest.raises(ValidationError):  # a day still to come
        Mediation(store, "qt_mediator", clock=clock).add_sweep(
            "桥头", held_on=date(2026, 3, 21), found=1
        )
    with store.read() as conn:
        events = conn.execute(
            select(access_event_table.c.actor, access_event_table.c.subject).where(
                access_event_table.c.action == "sweep_add"
            )
        ).all()
    assert [tuple(e) for e in events] == [("qt_mediator", "桥头 2026-03-19")]
    listed = json.loads(ok(runner, db_url, "sweep", "list", "--org", "城关", "--json").stdout)
    assert (listed["held"], listed["found"], listed["opened"]) == (1, 4, 2)  # 桥头 is below 城关
    text = ok(runner, db_url, "sweep", "list").stdout
    assert "桥头村四组" in text and "共 1 次排查，发现纠纷 4 件，其中已立案 2 件" in text
    verified = cli(runner, db_url, "audit", "verify")
    assert verified.exit_code == 0, verified.stdout


def test_the_migration_brings_the_sweep_table(db_url):
    """Upgrading from 0010 adds the sweep table and the events' index; downgrading drops them."""
    from alembic import command
    from sqlalchemy import inspect

    from mediation.storage import migrations
    from mediation.storage.migrations import alembic_config
    from mediation.storage.store import Store

    s = Store(db_url)
    try:
        s.upgrade("0010")
        assert "sweep" not in inspect(s.engine).get_table_names()
        assert s.upgrade() == ("0010", migrations.HEAD)
        assert "sweep" in inspect(s.engine).get_table_names()
        indexes = {i["name"] for i in inspect(s.engine).get_indexes("event")}
        assert "ix_event_trigger_time" in indexes
        cfg = alembic_config(s)
        with s.write() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0010")
        assert "sweep" not in inspect(s.engine).get_table_names()
    finally:
        s.close()
