"""Road-traffic accident mediation after issue 14 (道路交通事故处理程序规定 2017; domain.md
§3.2, §3.6), through the real CLI on both databases: the joint written application and the
notice 3 days before a police mediation (art. 88); a failed police mediation handed on to
people's mediation (art. 86); a failed people's mediation handed to the police within 3
days (art. 85); the insurer printed only where one takes part.

Dates by hand (domain.md §4): the day of the event is not counted; a last day on a rest day
rolls to the next working day; "working days" skip weekends and holidays.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal._procedures import add_org, advance_json, deadlines
from tests.legal.helpers import EXAMPLES, Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    police = Cli(runner, db_url, tmp_path)
    add_org(police, "青交", "青山县公安局交通警察大队", "police")
    store.close()
    yield police


_APPLICATION = {"determination_received_on": "2026-02-27", "applied_on": "2026-03-02"}


def _police_case(cli: Cli) -> str:
    return cli.open("2026-03-02", organisation="青交", flow="traffic_police",
                    dispute_type="traffic")  # fmt: skip


def test_a_joint_written_application_then_a_notice_three_days_ahead(cli: Cli) -> None:
    """Determination received Fri 2/27, applied Mon 3/2 (working day 1 of 10): accepted only
    as both parties' application. Notified Mon 3/2: a session on Wed 3/4 is too soon (2
    days); Thu 3/5 is 3 days ahead. Mediation cannot start Wed 3/4, before the notified day;
    it starts Thu 3/5 and the 10 working days run 3/6, 3/9-3/13, 3/16-3/19 → Thu 3/19."""
    case = _police_case(cli)
    alone = cli.refused(
        "case", "advance", case, "accept", *_sets(**_APPLICATION, consented_by="张三"),
        day="2026-03-02",
    )  # fmt: skip
    assert "李四" in alone.stderr and "共同书面申请" in alone.stderr
    cli.step(case, "accept", "2026-03-02", **_APPLICATION, consented_by="张三、李四")
    soon = cli.refused(
        "case", "advance", case, "notify_parties", "--set", "session_on=2026-03-04",
        "--set", "place=青山县交警大队调解室", day="2026-03-02",
    )  # fmt: skip
    assert "三日前" in soon.stderr
    cli.step(case, "notify_parties", "2026-03-02", session_on="2026-03-05",
             place="青山县交警大队调解室")  # fmt: skip
    early = cli.refused(
        "case", "advance", case, "start_mediation", "--set", "kind=mediation",
        "--set", "summary=x", day="2026-03-04",
    )  # fmt: skip
    assert "2026-03-05" in early.stderr
    done = advance_json(cli, case, "start_mediation", "2026-03-05", kind="mediation",
                        summary="双方到场，保险公司未到")  # fmt: skip
    assert done["deadlines_started"][0]["due"] == "2026-03-19"


def test_an_uninsured_case_reaches_its_agreement_without_an_insurer(cli: Cli) -> None:
    case = _police_case(cli)
    cli.step(case, "accept", "2026-03-02", **_APPLICATION, consented_by="张三、李四")
    cli.step(case, "notify_parties", "2026-03-02", session_on="2026-03-05", place="调解室")
    cli.step(case, "start_mediation", "2026-03-05", kind="mediation", summary="无保险车辆")
    done = advance_json(cli, case, "agree", "2026-03-05", **_agreement())
    assert done["to_state"] == "agreed"


def test_a_failed_police_mediation_goes_on_to_people_s_mediation(cli: Cli) -> None:
    """调解终结书 on Tue 3/10; on Wed 3/11 both parties apply to the 桥头村 committee
    (art. 86): a people's-mediation traffic case opens there, linked to this one."""
    case = _police_case(cli)
    cli.step(case, "accept", "2026-03-02", **_APPLICATION, consented_by="张三、李四")
    cli.step(case, "notify_parties", "2026-03-02", session_on="2026-03-05", place="调解室")
    cli.step(case, "start_mediation", "2026-03-05", kind="mediation", summary="赔偿数额分歧")
    cli.step(case, "end", "2026-03-10", reason="赔偿数额分歧较大", other_routes="人民调解或起诉")
    done = advance_json(cli, case, "refer_peoples", "2026-03-11", organisation="桥头",
                        consented_by="张三、李四", reason="双方同意人民调解")  # fmt: skip
    assert done["to_state"] == "referred_peoples"
    child = done["handed_off_to"]["case_number"]
    assert "交人调" in child and cli.state(child, "2026-03-11") == "applied"


def _peoples_failed(cli: Cli, day: str) -> str:
    """A 交调委 case (at 桥头) that ended without agreement on ``day``."""
    case = cli.open("2026-03-02", flow="traffic", dispute_type="traffic")
    cli.step(case, "accept", "2026-03-02")
    cli.step(case, "assign", "2026-03-02", "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", "2026-03-02")
    cli.step(case, "record_session", "2026-03-02", kind="mediation", summary="分歧较大")
    cli.step(case, "terminate", day, reason="赔偿数额分歧", other_routes="公安交管调解或起诉")
    return case


def test_a_failed_people_s_mediation_goes_to_the_police_within_three_days(cli: Cli) -> None:
    """Terminated Wed 3/4: the 3 days are 3/5, 3/6, Sat 3/7 — a rest day → Mon 3/9. Applied
    jointly on 3/9: a police case opens, already accepted. On another case terminated the
    same day, an application on Tue 3/10 is refused."""
    case = _peoples_failed(cli, "2026-03-04")
    alone = cli.refused(
        "case", "advance", case, "apply_police_mediation", "--set", "organisation=青交",
        "--set", "consented_by=李四", day="2026-03-09",
    )  # fmt: skip
    assert "张三" in alone.stderr
    done = advance_json(cli, case, "apply_police_mediation", "2026-03-09", organisation="青交",
                        consented_by="张三、李四")  # fmt: skip
    child = done["handed_off_to"]["case_number"]
    assert "交调" in child and cli.state(child, "2026-03-09") == "accepted"
    other = _peoples_failed(cli, "2026-03-04")
    late = cli.refused(
        "case", "advance", other, "apply_police_mediation", "--set", "organisation=青交",
        "--set", "consented_by=张三、李四", day="2026-03-10",
    )  # fmt: skip
    assert "2026-03-09" in late.stderr and "第八十五条" in late.stderr


def test_a_people_s_traffic_agreement_needs_no_insurer(cli: Cli) -> None:
    case = cli.open("2026-03-02", flow="traffic", dispute_type="traffic")
    cli.to_agreement(case, "2026-03-02")  # data/examples/agreement.toml names no insurer
    assert cli.state(case, "2026-03-02") == "agreed_written"
    assert deadlines(cli, case, "mediation_period", "2026-03-02")[0]["status"] == "met"


def _sets(**values: str) -> list[str]:
    return [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]


def _agreement() -> dict[str, str]:
    return {
        "facts": "李四驾驶无保险小型汽车倒车时撞倒张三的电动自行车",
        "issues": "车辆维修费赔偿",
        "responsibility": "李四负事故全部责任",
        "terms": "李四赔偿张三维修费1200元",
        "performance_method": "现金支付",
        "performance_place": "青山县交警大队调解室",
        "performance_deadline": "2026-03-12",
    }


def test_the_regulation_s_three_days_are_working_days(cli: Cli) -> None:
    """道路交通事故处理程序规定 art. 112(5): the regulation's "三日" are working days.

    Notice (art. 88): notified Thu 4/30, the next working days are 5/6 (1), 5/7 (2), 5/8 (3)
    after 劳动节 5/1-5/5, so a session on Wed 5/6 is too soon (in calendar days it is 6 days
    away) and the earliest is Fri 5/8.
    Application after a failed people's mediation (art. 85): terminated Thu 4/30, the last
    day is the third working day, Fri 5/8. An application on Thu 5/7 is in time (counted in
    calendar days, 5/1-5/3 with the roll-over, it would have ended Wed 5/6); one on Sat 5/9,
    a make-up working day (调休) after the last day, is late."""
    case = _police_case(cli)
    cli.step(case, "accept", "2026-03-02", **_APPLICATION, consented_by="张三、李四")
    soon = cli.refused(
        "case", "advance", case, "notify_parties", "--set", "session_on=2026-05-06",
        "--set", "place=青山县交警大队调解室", day="2026-04-30",
    )  # fmt: skip
    assert "3个工作日" in soon.stderr and "2026-05-08" in soon.stderr
    cli.step(case, "notify_parties", "2026-04-30", session_on="2026-05-08",
             place="青山县交警大队调解室")  # fmt: skip
    failed = _peoples_failed(cli, "2026-04-30")
    done = advance_json(cli, failed, "apply_police_mediation", "2026-05-07", organisation="青交",
                        consented_by="张三、李四")  # fmt: skip
    assert "交调" in done["handed_off_to"]["case_number"]
    other = _peoples_failed(cli, "2026-04-30")
    late = cli.refused(
        "case", "advance", other, "apply_police_mediation", "--set", "organisation=青交",
        "--set", "consented_by=张三、李四", day="2026-05-09",
    )  # fmt: skip
    assert "2026-05-08" in late.stderr and "工作日" in late.stderr
