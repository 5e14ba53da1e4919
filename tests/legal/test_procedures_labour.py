"""Labour-dispute mediation after issue 14 (劳动争议调解仲裁法; domain.md §3.6), through the
real CLI on both databases: the parties agreeing to go on past the 15 days, a party not
performing (art. 15), judicial confirmation (民事诉讼法 art. 205), and the lapse of the 15
days recorded as the law's consequence rather than as an overrun (逾期完成).

Dates by hand (domain.md §4): the day of the event is not counted; a last day on a rest day
rolls to the next working day (2026: 清明 4/4-4/6).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal._procedures import advance_json, deadlines
from tests.legal.helpers import EXAMPLES, Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    yield Cli(runner, db_url, tmp_path)


def _labour(cli: Cli, day: str = "2026-03-02") -> str:
    """Application received and registered Mon 3/2: the 15 days run 3/3 .. 3/17 (Tue)."""
    case = cli.open(day, flow="labour", dispute_type="labour")
    cli.step(case, "accept", day)
    cli.step(case, "assign", day, "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", day)
    cli.step(case, "record_session", "2026-03-03", kind="mediation", summary="拖欠工资数额核对")
    return case


def test_the_parties_agree_to_go_on_past_the_fifteen_days(cli: Cli) -> None:
    """On Mon 3/16, inside the 15 days (due 3/17), both parties agree to go on to Tue 3/31:
    one alone is refused. The scheduler does not end the case on Wed 3/18; it records the
    lapse on Wed 4/1, the day after the agreed date — as the law's consequence (期满), not as
    a period overrun by the committee."""
    case = _labour(cli)
    assert deadlines(cli, case, "mediation_period", "2026-03-02")[0]["due"] == "2026-03-17"
    refused = cli.refused(
        "case", "advance", case, "agree_to_continue", "--set", "reason=工资数额待核对",
        "--set", "consented_by=张三", "--set", "new_due=2026-03-31", day="2026-03-16",
    )  # fmt: skip
    assert "超过十五日继续调解" in refused.stderr and "李四" in refused.stderr
    done = advance_json(
        cli, case, "agree_to_continue", "2026-03-16",
        reason="工资数额待核对", consented_by="张三、李四", new_due="2026-03-31",
    )  # fmt: skip
    assert done["to_state"] == "mediating"
    assert deadlines(cli, case, "mediation_period", "2026-03-16")[0]["due"] == "2026-03-31"
    cli.scheduler("2026-03-18")
    assert cli.state(case, "2026-03-18") == "mediating"
    cli.scheduler("2026-04-01")
    assert cli.state(case, "2026-04-01") == "lapsed"
    (period,) = deadlines(cli, case, "mediation_period", "2026-04-01")
    assert period["status"] == "expired" and period["status_label"] != "逾期完成"


def test_agreeing_to_go_on_after_the_fifteen_days_is_refused(cli: Cli) -> None:
    """The 15 days ended Tue 3/17: consent given on Wed 3/18 comes too late — the parties
    may apply for arbitration (art. 14)."""
    case = _labour(cli)
    late = cli.refused(
        "case", "advance", case, "agree_to_continue", "--set", "reason=x",
        "--set", "consented_by=张三、李四", "--set", "new_due=2026-03-31", day="2026-03-18",
    )  # fmt: skip
    assert "2026-03-17" in late.stderr


def test_a_lapse_is_not_counted_as_overdue(cli: Cli) -> None:
    """Due Tue 3/17, lapsed by the scheduler Wed 3/18: the statistics count no 超期 clock."""
    case = _labour(cli)
    cli.scheduler("2026-03-18")
    assert cli.state(case, "2026-03-18") == "lapsed"
    (period,) = deadlines(cli, case, "mediation_period", "2026-03-18")
    assert period["status"] == "expired"
    import json

    stats = json.loads(
        cli.ok("report", "stats", "--from", "2026-03-01", "--to", "2026-03-31",
               "--as-of", "2026-03-31", "--format", "json", day="2026-03-31").stdout
    )  # fmt: skip
    assert _figure(stats, "overdue") == 0


def _figure(found: object, key: str) -> object:
    """The figure ``key`` anywhere in a report's JSON (its layout is the report's own)."""
    if isinstance(found, dict):
        if key in found and not isinstance(found[key], (dict, list)):
            return found[key]
        for value in found.values():
            got = _figure(value, key)
            if got is not None:
                return got
    if isinstance(found, list):
        for value in found:
            got = _figure(value, key)
            if got is not None:
                return got
    return None


def test_non_performance_and_judicial_confirmation(cli: Cli) -> None:
    """Agreement Wed 3/4, signed and sealed Thu 3/5: the 30 days to apply for confirmation
    run 3/6 .. Sat 4/4, inside 清明 (4/4-4/6) → Tue 4/7; the window cites 民事诉讼法 art. 205,
    not the 人民调解法. On another case the employer does not pay by the agreed day: the
    case records it and the worker is told of arbitration (art. 15)."""
    case = _labour(cli)
    cli.step(case, "agree_written", "2026-03-04", "--data", str(EXAMPLES / "agreement.toml"))
    cli.sign_all(case, "2026-03-05")
    window = cli.deadline(case, "confirmation_window", "2026-03-05")
    assert window["due"] == "2026-04-07" and "民事诉讼法第二百零五条" in window["legal_basis"]
    assert "人民调解法" not in window["legal_basis"]
    assert cli.apply_confirmation(case, "2026-04-07").exit_code == 0
    assert cli.state(case, "2026-04-07") == "confirmation_applied"
    other = _labour(cli)
    cli.step(other, "agree_written", "2026-03-04", "--data", str(EXAMPLES / "agreement.toml"))
    done = advance_json(
        cli, other, "not_performed", "2026-03-23", party="李四",
        summary="约定3月20日前支付工资，李四逾期未付，告知张三可申请劳动争议仲裁",
    )  # fmt: skip
    assert done["to_state"] == "not_performed"
    nxt = cli.json("case", "show", other, day="2026-03-23")
    assert nxt["proceeding"]["state"] == "not_performed"
    machine_basis = [
        t.legal_basis for t in _labour_flow().transitions if t.trigger == "not_performed"
    ]
    assert machine_basis and machine_basis[0].startswith("劳动争议调解仲裁法 art. 15")


def _labour_flow():  # type: ignore[no-untyped-def]
    from mediation.workflows import get_flow

    return get_flow("labour")
