"""People's mediation procedures that issue 14 found missing, walked through the real CLI
on a SQLite file and on PostgreSQL (domain.md §3.1).

- 人民调解法 art. 25: a dispute that may become a public-order or criminal case is reported
  to the police and preventive measures are taken — a duty recorded on the case, not an
  outcome; the mediation ends only if the police take the matter over.
- 人民调解工作若干规定 art. 37 item 2: an agreement found unsuitable (at a follow-up) is changed by
  mediating again with both parties' consent; the new agreement takes effect anew.

Dates by hand (domain.md §4): the day of the event is not counted; a month ends on the
corresponding date; a last day on a rest day rolls to the next working day.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal._procedures import advance_json, deadlines, show
from tests.legal.helpers import EXAMPLES, Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    yield Cli(runner, db_url, tmp_path)


def _mediating(cli: Cli, day: str) -> str:
    case = cli.open(day)
    cli.step(case, "accept", day)
    cli.step(case, "assign", day, "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", day)
    cli.step(case, "record_session", day, kind="mediation", summary="双方争执激烈。")
    return case


_REPORT = {
    "reason": "李四扬言报复，双方可能发生肢体冲突",
    "police_organ": "城关派出所",
    "measures": "劝离双方，约定三日冷静期，通知村网格员关注",
}


def test_a_police_report_is_recorded_and_the_mediation_goes_on(cli: Cli) -> None:
    """Accepted Mon 3/2: the month runs to Thu 4/2. Reported to the police Wed 3/4: the case
    stays 调查调解中, the clock runs on (still due 4/2), the report is an event of the case.
    Agreement Tue 3/10: the mediation period is met."""
    case = _mediating(cli, "2026-03-02")
    (period,) = deadlines(cli, case, "mediation_period", "2026-03-02")
    assert period["due"] == "2026-04-02"
    done = advance_json(cli, case, "report_police", "2026-03-04", **_REPORT)
    assert done["to_state"] == "mediating" and done["deadlines_stopped"] == []
    assert cli.state(case, "2026-03-04") == "mediating"
    (period,) = deadlines(cli, case, "mediation_period", "2026-03-04")
    assert (period["status"], period["due"]) == ("open", "2026-04-02")
    reported = [e for e in cli.events(case, "2026-03-04") if e["trigger"] == "report_police"]
    assert reported and reported[0]["payload"]["police_organ"] == "城关派出所"
    assert show(cli, case, "2026-03-04")["proceeding"]["outcome"] is None
    cli.step(case, "agree_written", "2026-03-10", "--data", str(EXAMPLES / "agreement.toml"))
    (period,) = deadlines(cli, case, "mediation_period", "2026-03-10")
    assert period["status"] == "met"


def test_the_mediation_ends_only_when_the_police_take_over(cli: Cli) -> None:
    """Reported Wed 3/4, mediation goes on; the police accept the case (立案) Fri 3/6: only
    then does it end, with the outcome 移送公安机关, the clock stopped in time (due 4/2)."""
    case = _mediating(cli, "2026-03-02")
    cli.step(case, "report_police", "2026-03-04", **_REPORT)
    cli.step(case, "record_session", "2026-03-05", kind="mediation", summary="继续调解。")
    done = advance_json(
        cli, case, "refer_police", "2026-03-06",
        reason="李四殴打张三致轻微伤，公安机关已立案", police_organ="城关派出所",
        police_ref="城公（治）立字〔2026〕15号",
    )  # fmt: skip
    assert done["to_state"] == "referred_police"
    proceeding = show(cli, case, "2026-03-06")["proceeding"]
    assert proceeding["outcome"] == "referred_police"
    (period,) = deadlines(cli, case, "mediation_period", "2026-03-06")
    assert period["status"] == "met"


def test_an_agreement_changed_by_mediating_again_after_a_follow_up(cli: Cli) -> None:
    """若干规定 art. 37 item 2. Agreement Mon 3/2, signed and sealed the same day: the confirmation
    window runs 3/3 .. 4/1. Follow-up Fri 3/20 finds it unsuitable. Mediating again needs
    both parties' consent (张三 alone is refused); with both, on Mon 3/23 the case is back in
    mediation with a new month (3/24 .. 4/23, Thu) and the old window is closed. A new
    agreement Wed 3/25 cannot go to the court unsigned; signed Thu 3/26 its window runs 3/27
    .. Sat 4/25, a rest day → Mon 4/27."""
    case = cli.open("2026-03-02")
    cli.to_agreement(case, "2026-03-02")
    cli.sign_all(case, "2026-03-02")
    assert cli.deadline(case, "confirmation_window", "2026-03-02")["due"] == "2026-04-01"
    cli.step(
        case, "follow_up", "2026-03-20", performance="partly_performed",
        summary="通道仅清理一半，双方认为原协议的清理范围约定不清",
    )  # fmt: skip
    refused = cli.refused(
        "case", "advance", case, "remediate_agreement", "--set", "reason=协议内容不当",
        "--set", "consented_by=张三", day="2026-03-23",
    )  # fmt: skip
    assert "再次调解变更调解协议" in refused.stderr and "李四" in refused.stderr
    done = advance_json(
        cli, case, "remediate_agreement", "2026-03-23",
        reason="原协议清理范围约定不清", consented_by="张三、李四",
    )  # fmt: skip
    assert done["to_state"] == "mediating"
    periods = deadlines(cli, case, "mediation_period", "2026-03-23")
    assert (periods[-1]["starts_on"], periods[-1]["due"], periods[-1]["status"]) == (
        "2026-03-23",
        "2026-04-23",
        "open",
    )
    assert deadlines(cli, case, "confirmation_window", "2026-03-23")[-1]["status"] == "closed"
    cli.step(case, "agree_written", "2026-03-25", "--data", str(EXAMPLES / "agreement.toml"))
    unsigned = cli.apply_confirmation(case, "2026-03-25")
    assert unsigned.exit_code == 5 and "尚未生效" in unsigned.stderr
    cli.sign_all(case, "2026-03-26")
    window = cli.deadline(case, "confirmation_window", "2026-03-26")
    assert (window["starts_on"], window["due"]) == ("2026-03-26", "2026-04-27")
    assert cli.apply_confirmation(case, "2026-04-27").exit_code == 0
