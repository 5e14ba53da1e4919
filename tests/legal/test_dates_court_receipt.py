"""Issue 14 item 6 for the courts' referrals: 委派 and 委托 mediation run from the day the
mediator signed for the court's materials (特邀调解规定 art. 27: 自签收法院移交材料之日起),
recorded as the intake's ``received_at``, not from the day a clerk typed the case in
(domain.md §4: "签收之日 ... never the day a clerk typed it in").

Real CLI, SQLite file and PostgreSQL. Dates by hand (the day of the event is not counted; a
last day on a rest day moves to the next working day; 2026 holidays 4/4-4/6, 5/1-5/5 with
调休 Sat 5/9).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal._procedures import add_org
from tests.legal.helpers import Cli
from tests.legal.test_court_documents import REFERRED


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    yield Cli(runner, db_url, tmp_path)


def test_a_pre_filing_referral_counts_from_the_day_the_materials_were_signed_for(cli: Cli) -> None:
    # Signed for on Wed 4/1, typed in on Tue 4/7 (after 清明 4/4-4/6).
    # 30 days from 4/1: 4/2 .. 5/1; Fri 5/1 is 劳动节 (5/1-5/5) → Wed 5/6.
    # (From the day it was typed in, 4/7: 4/8 .. 5/7, Thu 5/7.)
    case = cli.open(
        "2026-04-07", flow="court_referred", received_at="2026-04-01T15:00:00+08:00", **REFERRED
    )
    period = cli.deadline(case, "mediation_period", "2026-04-07")
    assert (period["starts_on"], period["due"]) == ("2026-04-01", "2026-05-06")


def test_an_entrusted_simple_procedure_case_counts_from_the_signing_too(cli: Cli) -> None:
    # 简易程序, 7 days. Signed for Thu 4/30, typed in Thu 5/7 (after 劳动节).
    # 4/30 not counted: 5/1 .. 5/7 → Thu 5/7, a working day. Typed in the same day, the
    # case is already on its last day (from 5/7 it would have run to Thu 5/14).
    case = cli.open(
        "2026-05-07", flow="entrusted_simple", received_at="2026-04-30T10:00:00+08:00", **REFERRED
    )
    period = cli.deadline(case, "mediation_period", "2026-05-07")
    assert (period["starts_on"], period["due"]) == ("2026-04-30", "2026-05-07")
    assert "签收" in period["legal_basis"]


def test_a_confirmation_application_is_decided_within_3_days_of_its_receipt(cli: Cli) -> None:
    # 司法确认规定 art. 4: 收到申请后3日内决定是否受理. Received Fri 3/27, typed in Tue 3/31.
    # 3/28 (Sat), 3/29 (Sun), 3/30 (Mon) → due Mon 3/30, a working day: already passed when
    # the clerk types it in. (From 3/31 it would run 4/1 .. 4/3, Fri.)
    add_org(cli, "青法", "青山县人民法院", "court")
    case = cli.open(
        "2026-03-31",
        organisation="青法",
        flow="judicial_confirmation",
        received_at="2026-03-27T16:00:00+08:00",
    )
    period = cli.deadline(case, "acceptance_period", "2026-03-31")
    assert (period["starts_on"], period["due"]) == ("2026-03-27", "2026-03-30")


def test_an_ordinary_entrusted_case_typed_in_the_day_it_was_signed_for(cli: Cli) -> None:
    # No received_at: received when typed in, Mon 3/2. 15 days: 3/3 .. 3/17 → Tue 3/17.
    case = cli.open("2026-03-02", flow="entrusted", **REFERRED)
    period = cli.deadline(case, "mediation_period", "2026-03-02")
    assert (period["starts_on"], period["due"]) == ("2026-03-02", "2026-03-17")
