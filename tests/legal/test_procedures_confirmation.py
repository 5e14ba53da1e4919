"""The court's 司法确认 case (judicial_confirmation) after issue 14: withdrawal and deemed
withdrawal (民事诉讼法解释 art. 357), the special procedure's 30 days (民事诉讼法 art. 187),
re-mediation or suit after a dismissal (民事诉讼法 art. 206), and the objection windows after
the ruling (民事诉讼法解释 art. 372: a party within 15 days of receiving it, a third party
within 6 months of knowing its rights were harmed). Through the real CLI on both databases.

Dates by hand (domain.md §4): the day of the event is not counted; a last day on a rest day
rolls to the next working day; a month period ends on the corresponding date.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal._procedures import add_org, advance_json, deadlines, show
from tests.legal.helpers import Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    court = Cli(runner, db_url, tmp_path)
    add_org(court, "青法", "青山县人民法院", "court")
    store.close()
    yield court


def _accepted(cli: Cli) -> str:
    """Application received Mon 3/2, accepted Tue 3/3: the ruling is due in 15 days (3/4 ..
    3/18, Wed) and the special procedure's cap is 30 days (3/4 .. 4/2, Thu)."""
    case = cli.open("2026-03-02", organisation="青法", flow="judicial_confirmation")
    cli.step(case, "accept", "2026-03-03")
    return case


def test_the_special_procedure_cap_runs_beside_the_ruling_period(cli: Cli) -> None:
    case = _accepted(cli)
    (ruling,) = deadlines(cli, case, "ruling_period", "2026-03-03")
    (cap,) = deadlines(cli, case, "special_procedure_limit", "2026-03-03")
    assert (ruling["due"], cap["due"]) == ("2026-03-18", "2026-04-02")
    assert "民事诉讼法第一百八十七条" in cap["legal_basis"]
    cli.step(case, "confirm", "2026-03-16", ruling_ref="（2026）浙0681民特12号")
    (cap,) = deadlines(cli, case, "special_procedure_limit", "2026-03-16")
    assert cap["status"] == "met"


def test_withdrawal_and_deemed_withdrawal_before_the_ruling(cli: Cli) -> None:
    """解释 art. 357: a party withdraws before the ruling (Thu 3/5); another application is
    treated as withdrawn on Tue 3/10 when the parties did not supply the materials asked
    for. Both end the case as 撤回; the clocks stop in time."""
    first = _accepted(cli)
    refused = cli.refused(
        "case", "advance", first, "withdraw", "--set", "party=王五", "--set", "reason=x",
        day="2026-03-05",
    )  # fmt: skip
    assert "张三" in refused.stderr
    done = advance_json(cli, first, "withdraw", "2026-03-05", party="张三", reason="双方已自行履行")
    assert done["to_state"] == "withdrawn"
    assert show(cli, first, "2026-03-05")["proceeding"]["outcome"] == "withdrawn"
    second = _accepted(cli)
    done = advance_json(
        cli, second, "deem_withdrawn", "2026-03-10",
        reason="限期补充证明材料，申请人无正当理由逾期未补充",
    )  # fmt: skip
    assert done["to_state"] == "withdrawn"
    assert {d["status"] for d in show(cli, second, "2026-03-10")["deadlines"]} == {"met"}


def test_a_dismissed_application_goes_back_to_mediation(cli: Cli) -> None:
    """民事诉讼法 art. 206: dismissed Mon 3/16; on Fri 3/20 both parties agree to change the
    agreement by mediation: a people's-mediation case opens at 桥头村 already accepted, its
    month running 3/21 .. 4/20 (Mon). One party alone cannot send it back."""
    case = _accepted(cli)
    cli.step(case, "dismiss", "2026-03-16", ruling_ref="（2026）浙0681民特13号",
             reason="协议内容违反法律强制性规定")  # fmt: skip
    refused = cli.refused(
        "case", "advance", case, "return_to_mediation", "--set", "organisation=桥头",
        "--set", "consented_by=张三", "--set", "reason=重新调解", day="2026-03-20",
    )  # fmt: skip
    assert "李四" in refused.stderr
    done = advance_json(
        cli, case, "return_to_mediation", "2026-03-20",
        organisation="桥头", consented_by="张三、李四", reason="变更原调解协议",
    )  # fmt: skip
    assert done["to_state"] == "remediation"
    child = done["handed_off_to"]["case_number"]
    assert "人调" in child and cli.state(child, "2026-03-20") == "accepted"
    (period,) = deadlines(cli, child, "mediation_period", "2026-03-20")
    assert (period["starts_on"], period["due"]) == ("2026-03-20", "2026-04-20")
    # Or the parties sue instead (art. 206).
    other = _accepted(cli)
    cli.step(other, "dismiss", "2026-03-16", ruling_ref="（2026）浙0681民特14号", reason="x")
    sued = advance_json(cli, other, "sue", "2026-03-25", party="张三", court="青山县人民法院")
    assert sued["to_state"] == "litigation"


def test_a_party_objects_within_15_days_of_receiving_the_ruling(cli: Cli) -> None:
    """解释 art. 372. Confirmed Mon 3/16, served on 李四 Tue 3/17 (recorded Wed 3/18): the
    party's 15 days run 3/18 .. 4/1 (Wed). 李四's objection on Thu 4/2 is refused; a third
    party who learnt of the harm on Mon 3/30 is within its 6 months (to 9/30) and objects on
    4/2. The case cannot be closed before the party's window has run out."""
    case = _accepted(cli)
    cli.step(case, "confirm", "2026-03-16", ruling_ref="（2026）浙0681民特15号")
    done = advance_json(cli, case, "record_ruling_service", "2026-03-18", served_on="2026-03-17")
    (window,) = done["deadlines_started"]
    assert (window["starts_on"], window["due"]) == ("2026-03-17", "2026-04-01")
    assert cli.deadline(case, "objection_window", "2026-03-18")["duty"] is False
    closing = cli.refused("case", "advance", case, "close", day="2026-04-01")
    assert "2026-04-01" in closing.stderr
    late = cli.refused(
        "case", "advance", case, "file_objection", "--set", "objector=李四",
        "--set", "objector_role=party", "--set", "reason=协议违背真实意思", day="2026-04-02",
    )  # fmt: skip
    assert "2026-04-01" in late.stderr and "十五日" in late.stderr
    filed = advance_json(
        cli, case, "file_objection", "2026-04-02", objector="王五", objector_role="third_party",
        reason="调解协议处分了王五共有的房屋", known_on="2026-03-30",
    )  # fmt: skip
    assert filed["to_state"] == "objection_filed"
    done = advance_json(cli, case, "revoke_ruling", "2026-04-20",
                        ruling_ref="（2026）浙0681民特监1号", reason="损害案外人合法权益")  # fmt: skip
    assert done["to_state"] == "ruling_revoked"
    assert show(cli, case, "2026-04-20")["proceeding"]["outcome"] == "revoked"


def test_a_third_party_after_six_months_is_refused(cli: Cli) -> None:
    """Knew of the harm on Mon 3/2: six months end on the corresponding date Wed 9/2; an
    objection on Thu 9/3 is refused."""
    case = _accepted(cli)
    cli.step(case, "confirm", "2026-03-16", ruling_ref="（2026）浙0681民特16号")
    late = cli.refused(
        "case", "advance", case, "file_objection", "--set", "objector=王五",
        "--set", "objector_role=third_party", "--set", "reason=x",
        "--set", "known_on=2026-03-02", day="2026-09-03",
    )  # fmt: skip
    assert "2026-09-02" in late.stderr and "六个月" in late.stderr


def test_the_scheduler_closes_the_case_once_the_party_window_has_run_out(cli: Cli) -> None:
    """Served Tue 3/17: the window ends Wed 4/1 (as above); the scheduler's run on Thu 4/2
    closes the case (结案); the window is recorded as ended, not as an overrun."""
    case = _accepted(cli)
    cli.step(case, "confirm", "2026-03-16", ruling_ref="（2026）浙0681民特17号")
    cli.step(case, "record_ruling_service", "2026-03-17", served_on="2026-03-17")
    cli.scheduler("2026-04-01")
    assert cli.state(case, "2026-04-01") == "confirmed"
    cli.scheduler("2026-04-02")
    assert cli.state(case, "2026-04-02") == "closed"
    proceeding = show(cli, case, "2026-04-02")["proceeding"]
    assert proceeding["outcome"] == "confirmed" and proceeding["closed_at"]
