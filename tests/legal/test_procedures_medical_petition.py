"""医疗 and 信访 procedures after issue 14, through the real CLI on both databases.

- 医疗纠纷预防和处理条例 arts. 31, 40: the 医调委 and the health authority do not mediate
  the same dispute at once — what bars the one is the other (or a court) having *accepted*
  it, not a mere application; once that happens the mediation ends, an appraisal under way
  included.
- 信访工作条例 art. 23: an organ that finds the matter outside its remit objects within 5
  working days of receiving it.

Dates by hand (domain.md §4): the day of the event is not counted; working days skip
weekends and holidays.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal._procedures import add_org, advance_json, deadlines, show
from tests.legal.helpers import EXAMPLES, Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    found = Cli(runner, db_url, tmp_path)
    add_org(found, "青卫", "青山县卫生健康局", "admin_organ")
    store.close()
    yield found


def _same_dispute(cli: Cli, day: str) -> tuple[str, str]:
    """A 医调委 case (at 桥头, standing in for the committee) and an application to the
    health authority for the same medical dispute, merged into one dispute."""
    committee = cli.open(day, flow="medical_committee", dispute_type="medical")
    authority = cli.open(day, organisation="青卫", flow="health_admin", dispute_type="medical")
    keep = show(cli, committee, day)["proceeding"]["dispute_id"]
    merged = show(cli, authority, day)["proceeding"]["dispute_id"]
    cli.ok("dispute", "merge", str(keep), str(merged), "--reason", "同一医疗纠纷", day=day)
    return committee, authority


def test_a_mere_application_elsewhere_does_not_bar_acceptance(cli: Cli) -> None:
    """The health authority has only an application (申请, not accepted): the 医调委 accepts
    on Mon 3/2. From then on the authority may not accept the same dispute."""
    committee, authority = _same_dispute(cli, "2026-03-02")
    assert advance_json(cli, committee, "accept", "2026-03-02")["to_state"] == "accepted"
    barred = cli.refused("case", "advance", authority, "accept", day="2026-03-03")
    assert committee in barred.stderr and "受理" in barred.stderr


def test_mediation_ends_when_a_court_accepts_the_suit_during_an_appraisal(cli: Cli) -> None:
    """Accepted Mon 3/2; appraisal from Tue 3/10 (the 30 working days stand still from that
    day); the court accepts a suit on Fri 3/20: the committee ends its mediation while the
    appraisal is still under way. The clock, judged on the day it stopped running (3/10),
    is met, not overrun."""
    case = cli.open("2026-03-02", flow="medical_committee", dispute_type="medical")
    cli.step(case, "accept", "2026-03-02")
    cli.step(case, "assign", "2026-03-02", "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", "2026-03-02")
    cli.step(case, "record_session", "2026-03-03", kind="mediation", summary="医患双方陈述")
    cli.step(case, "start_appraisal", "2026-03-10", appraisal_body="江城市医学会",
             matter="医疗损害责任鉴定")  # fmt: skip
    done = advance_json(
        cli, case, "end_accepted_elsewhere", "2026-03-20", accepted_by="青山县人民法院",
        accepted_on="2026-03-20", reason="患方已起诉，法院已立案受理",
    )  # fmt: skip
    assert done["to_state"] == "terminated"
    (period,) = deadlines(cli, case, "mediation_period", "2026-03-20")
    assert period["status"] == "met"
    assert show(cli, case, "2026-03-20")["proceeding"]["outcome"] == "terminated"


def test_the_health_authority_ends_its_mediation_once_the_committee_accepts(cli: Cli) -> None:
    authority = cli.open("2026-03-02", organisation="青卫", flow="health_admin",
                         dispute_type="medical")  # fmt: skip
    cli.step(authority, "accept", "2026-03-03")
    done = advance_json(
        cli, authority, "end_accepted_elsewhere", "2026-03-06", accepted_by="青山县医调委",
        accepted_on="2026-03-05", reason="双方改向医调委申请并已受理",
    )  # fmt: skip
    assert done["to_state"] == "failed"


def test_an_organ_objects_to_a_matter_outside_its_remit_within_5_working_days(
    cli: Cli,
) -> None:
    """Received Mon 3/2 (typed in Wed 3/4): 5 working days 3/3, 3/4, 3/5, 3/6, 3/9 → Mon
    3/9. An objection on Tue 3/10 is refused; on another petition, on 3/9 it is accepted."""
    received = "2026-03-02T10:00:00+08:00"
    late = cli.open("2026-03-04", organisation="青卫", flow="petition", received_at=received)
    window = cli.deadline(late, "remit_objection_window", "2026-03-04")
    assert (window["starts_on"], window["due"], window["duty"]) == (
        "2026-03-02",
        "2026-03-09",
        False,
    )
    refused = cli.refused(
        "case", "advance", late, "object_remit", "--set", "organ=青山县信访局",
        "--set", "reason=属劳动保障部门职权", day="2026-03-10",
    )  # fmt: skip
    assert "2026-03-09" in refused.stderr
    in_time = cli.open("2026-03-04", organisation="青卫", flow="petition", received_at=received)
    done = advance_json(cli, in_time, "object_remit", "2026-03-09", organ="青山县信访局",
                        reason="属劳动保障部门职权")  # fmt: skip
    assert done["to_state"] == "remit_objected"
