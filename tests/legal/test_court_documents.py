"""Issue 14 items 7 and 8, and the 委派/委托 procedure: the court's own documents and who a
court-docked mediation names as its mediator.

- Item 7: the 民事调解书 is the court's document (民事诉讼法 2023 art. 100: it states the
  诉讼请求, the facts and the result, is signed by the judge and the clerk, sealed by the
  court, served on the parties and effective once they sign for it), numbered
  （2026）浙0681民初N号 from the court code set on the organisation; the 民特 ruling
  confirming an agreement likewise (arts. 205-206).
- Item 8: a 委派 result letter named the system account "scheduler" as the mediator. The
  mediator is chosen by the parties from the roster or designated (特邀调解规定 art. 12)
  before mediation, and a document never prints a system account as a person.
- Missing procedure: the rights notice (art. 14), the written report when 委托 mediation
  fails (art. 26), suspension on suspected collusion (art. 18), an online agreement going on
  to 司法确认.

Every step runs the real CLI on a SQLite file and on PostgreSQL; PDFs are read with
pdftotext. Dates are worked by hand (domain.md §4: the day of the event is not counted, a
last day on a rest day moves to the next working day). 2026: Mon 3/2, Tue 3/3, ...
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mediation.errors import ExitCode
from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal.helpers import ORG_NAME, Cli

COURT = "青山县人民法院"
#: Both parties with the particulars a court document states (gender, address).
PARTIES = [
    {
        "role": "applicant",
        "name": "张三",
        "gender": "male",
        "id_number": "11010519491231002X",
        "phone": "13812345678",
        "address": "浙江省江城市青山县城关镇桥头村12号",
    },
    {
        "role": "respondent",
        "name": "李四",
        "gender": "female",
        "phone": "13987654321",
        "address": "浙江省江城市青山县城关镇桥头村14号",
    },
]
#: A court's referral (委派 before filing, 委托 after), as the intake records it.
REFERRED = {
    "channel": "court",
    "application_mode": "referral",
    "referring_organ": COURT,
    "referral_ref": "（2026）浙0681民诉前调7号",
    "parties": PARTIES,
}
BOOK = {
    "claims": "判令被告清理共用通道内堆放的杂物。",
    "facts": "原、被告系邻居，被告在共用通道堆放杂物，影响原告通行。",
    "terms": "被告于2026年3月10日前清理共用通道内的杂物，原告放弃其他诉讼请求。",
    "judge": "陈明",
    "clerk": "林晓",
    "costs": "案件受理费25元，减半收取12.5元，由被告负担。",
}


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    yield Cli(runner, db_url, tmp_path)


def add_court(cli: Cli, *court_code: str) -> None:
    """青山法院, the county court, with its court code (法院代字) when given."""
    extra = ["--court-code", court_code[0]] if court_code else []
    cli.ok("org", "add", "青山法院", COURT, "--level", "county", "--kind", "court", *extra,
           day="2026-01-02")  # fmt: skip


def render(cli: Cli, case: str, kind: str, day: str) -> tuple[Result, str]:
    """``doc render CASE KIND -o FILE``: the result and the PDF's text without whitespace
    (line breaks fall anywhere in justified CJK text); no text when refused."""
    out = cli.tmp_path / f"{kind}.pdf"
    out.unlink(missing_ok=True)
    result = cli("doc", "render", case, kind, "-o", str(out), day=day)
    if result.exit_code != 0:
        return result, ""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")  # fmt: skip
    # The tests' databases are training ones: their documents open with that mark.
    text = re.sub(r"\s+", "", text).removeprefix("培训演示·非正式文书")
    return result, text


def refused_render(cli: Cli, case: str, kind: str, day: str) -> str:
    """A document refused for what it lacks: exit 3, the reasons on stderr."""
    result, _ = render(cli, case, kind, day)
    assert result.exit_code == ExitCode.INVALID_INPUT, (
        result.exit_code,
        result.stdout,
        result.stderr,
    )
    return result.stderr


def judicial_case(cli: Cli, day: str) -> str:
    return cli.open(day, flow="judicial", organisation="青山法院", parties=PARTIES)


def agree_book(cli: Cli, case: str, day: str, **changes: str) -> Result:
    return cli.advance(case, "agree", day, **{**BOOK, **changes})


# -- item 7: the 民事调解书 -------------------------------------------------------------------


def test_the_civil_mediation_book_is_the_courts_document(cli: Cli) -> None:
    add_court(cli, "浙0681")
    # Filed Mon 2026-03-02, the court's first case of 2026: （2026）浙0681民初1号.
    case = judicial_case(cli, "2026-03-02")
    assert case == "（2026）浙0681民初1号"
    # 15 days of pre-answer mediation (普通程序, 民事调解规定 art. 4): 3/2 not counted,
    # 3/3 .. 3/17; Tue 3/17 is a working day.
    assert cli.deadline(case, "mediation_period", "2026-03-02")["due"] == "2026-03-17"
    cli.step(case, "record_session", "2026-03-04", kind="mediation", summary="双方到庭协商。")
    # The book states the claims and is signed by the judge and the clerk: without them the
    # agreement is not recorded (民事诉讼法 art. 100).
    missing = cli.advance(case, "agree", "2026-03-05", facts=BOOK["facts"], terms=BOOK["terms"])
    assert missing.exit_code == ExitCode.INVALID_INPUT
    for key in ("claims", "judge", "clerk"):
        assert key in missing.stderr
    assert agree_book(cli, case, "2026-03-05").exit_code == 0

    # Not a people's-mediation agreement: its own kind, and the flow has no 'agreement'.
    refused = cli("doc", "render", case, "agreement", day="2026-03-05")
    assert refused.exit_code == ExitCode.NOT_ALLOWED and "civil_mediation" in refused.stderr
    result, text = render(cli, case, "civil_mediation", "2026-03-05")
    assert result.exit_code == 0, result.stderr
    assert text.startswith(f"{COURT}民事调解书（2026）浙0681民初1号")
    assert "原告：张三，男" in text and "被告：李四，女" in text
    assert "申请人" not in text and "人民调解" not in text
    assert (
        "原告张三与被告李四邻里通道堆放杂物纠纷一案，本院于2026年3月2日立案后，依法适用普通程序"
        in text
    )
    assert f"向本院提出诉讼请求：{BOOK['claims']}" in text
    assert f"案件事实：{BOOK['facts']}" in text and BOOK["terms"] in text and BOOK["costs"] in text
    assert (
        "本调解书经双方当事人签收后，即具有法律效力（《中华人民共和国民事诉讼法》第一百条）" in text
    )
    assert "审判员陈明" in text and "书记员林晓" in text
    # No signature lines for the parties: they sign for it when it is served.
    assert "签名、盖章或者按指印" not in text and "当事人（签" not in text and "一式" not in text
    # Served on both parties Mon 3/9: in effect.
    cli.step(case, "served", "2026-03-09", served_on="2026-03-09")
    assert cli.state(case, "2026-03-09") == "effective"


def test_the_simple_procedure_book_says_so(cli: Cli) -> None:
    add_court(cli, "浙0681")
    case = cli.open("2026-03-02", flow="judicial_simple", organisation="青山法院", parties=PARTIES)
    # 7 days (简易程序): 3/3 .. 3/9, a Monday.
    assert cli.deadline(case, "mediation_period", "2026-03-02")["due"] == "2026-03-09"
    cli.step(case, "record_session", "2026-03-03", kind="mediation", summary="双方到庭协商。")
    assert agree_book(cli, case, "2026-03-03", costs="").exit_code == 0
    result, text = render(cli, case, "civil_mediation", "2026-03-03")
    assert result.exit_code == 0, result.stderr
    assert "依法适用简易程序" in text and "案件受理费" not in text


def test_the_court_number_comes_from_the_court_code(cli: Cli) -> None:
    add_court(cli)  # registered without its court code
    case = judicial_case(cli, "2026-03-02")
    assert case == "（2026）青山法院民初调字第1号"  # no court code: the register's own number
    cli.step(case, "record_session", "2026-03-04", kind="mediation", summary="双方到庭协商。")
    assert agree_book(cli, case, "2026-03-05").exit_code == 0
    message = refused_render(cli, case, "civil_mediation", "2026-03-05")
    assert "没有设定法院代字" in message and "org set-court-code 青山法院" in message
    # Only a court has a court code, and it has the court's form.
    not_court = cli("org", "set-court-code", "桥头", "浙0681", day="2026-03-05")
    assert not_court.exit_code == ExitCode.INVALID_INPUT and "只有人民法院" in not_court.stderr
    malformed = cli("org", "set-court-code", "青山法院", "0681", day="2026-03-05")
    assert malformed.exit_code == ExitCode.INVALID_INPUT and "格式不对" in malformed.stderr
    shown = cli.json("org", "set-court-code", "青山法院", "浙0681", day="2026-03-05")
    assert shown["court_code"] == "浙0681"
    # The book of the case filed before prints the court's number: year and serial as filed.
    result, text = render(cli, case, "civil_mediation", "2026-03-05")
    assert result.exit_code == 0, result.stderr
    assert "（2026）浙0681民初1号" in text and "青山法院民初调字" not in text
    # Cases filed from now on carry it (the court's serial goes on: 2).
    assert judicial_case(cli, "2026-03-06") == "（2026）浙0681民初2号"


def test_the_book_never_names_a_system_account_as_judge(cli: Cli) -> None:
    add_court(cli, "浙0681")
    case = judicial_case(cli, "2026-03-02")
    cli.step(case, "record_session", "2026-03-04", kind="mediation", summary="双方到庭协商。")
    assert agree_book(cli, case, "2026-03-05", judge="scheduler").exit_code == 0
    assert "「scheduler」是系统账号，不是审判员" in refused_render(
        cli, case, "civil_mediation", "2026-03-05"
    )


# -- item 7: the 民特 ruling -------------------------------------------------------------------


def referred_to_agreement(cli: Cli, day: str, flow: str = "court_referred") -> str:
    """A 委派 (or 委托) case at 桥头 taken to an agreement on ``day``: the court designates 周明,
    the parties are told their rights, one session, the agreement."""
    case = cli.open(day, flow=flow, **REFERRED)
    cli.step(case, "designate_mediator", day, mediators="周明", designated_by=COURT)
    cli.step(case, "inform", day)
    cli.step(case, "record_session", day, kind="mediation", summary="双方到场协商。")
    cli.step(
        case,
        "agree",
        day,
        "--data",
        str(Path(__file__).parents[2] / "data/examples/agreement.toml"),
    )
    return case


def court_case_of(cli: Cli, case: str, day: str) -> str:
    related = cli.json("case", "show", case, day=day)["related_proceedings"]
    number: str = next(r["case_number"] for r in related if r["flow"] == "judicial_confirmation")
    return number


@pytest.mark.parametrize("outcome", ["confirm", "dismiss"])
def test_the_confirmation_ruling_is_a_minte_ruling(cli: Cli, outcome: str) -> None:
    add_court(cli, "浙0681")
    case = referred_to_agreement(cli, "2026-03-02")
    cli.sign_all(case, "2026-03-03")  # in effect Tue 3/3: the window runs 3/4 .. 4/2 (Thu)
    assert cli.deadline(case, "confirmation_window", "2026-03-03")["due"] == "2026-04-02"
    cli.step(
        case, "apply_confirmation", "2026-03-04", organisation="青山法院", consented_by="张三、李四"
    )
    court_case = court_case_of(cli, case, "2026-03-04")
    assert court_case == "（2026）浙0681民特1号"  # the court's first case of 2026, a 民特 case
    cli.step(court_case, "accept", "2026-03-05")
    sets = {"ruling_ref": court_case, "judge": "陈明", "clerk": "林晓"}
    if outcome == "dismiss":
        sets["reason"] = "调解协议内容不明确，无法执行"
    cli.step(court_case, outcome, "2026-03-10", **sets)
    result, text = render(cli, court_case, "confirmation_ruling", "2026-03-10")
    assert result.exit_code == 0, result.stderr
    assert text.startswith(f"{COURT}民事裁定书（2026）浙0681民特1号")
    assert "申请人：张三，男" in text and "申请人：李四，女" in text
    assert f"经{ORG_NAME}主持调解" in text and "审判员陈明" in text and "书记员林晓" in text
    assert "本裁定书自即日起发生法律效力" in text
    if outcome == "confirm":
        assert "上述调解协议有效" in text and "可以向人民法院申请执行" in text
    else:
        assert "驳回申请人张三、李四的司法确认申请" in text and "无法执行" in text
        assert "也可以向人民法院提起诉讼" in text


def test_the_ruling_needs_its_judge_and_clerk(cli: Cli) -> None:
    add_court(cli, "浙0681")
    case = referred_to_agreement(cli, "2026-03-02")
    cli.sign_all(case, "2026-03-03")
    cli.step(
        case, "apply_confirmation", "2026-03-04", organisation="青山法院", consented_by="张三、李四"
    )
    court_case = court_case_of(cli, case, "2026-03-04")
    cli.step(court_case, "accept", "2026-03-05")
    cli.step(court_case, "confirm", "2026-03-10", ruling_ref=court_case)
    message = refused_render(cli, court_case, "confirmation_ruling", "2026-03-10")
    assert "审判员" in message and "书记员" in message and "--set judge=" in message


# -- item 8: who mediates a 委派/委托 case -----------------------------------------------------


def test_the_referral_letter_never_names_the_scheduler(cli: Cli) -> None:
    # Signed for the court's materials Mon 3/2: 30 days, 3/3 .. 4/1 (Wed) (特邀调解规定 art. 27).
    case = cli.open("2026-03-02", flow="court_referred", **REFERRED)
    assert cli.deadline(case, "mediation_period", "2026-03-02")["due"] == "2026-04-01"
    # Nobody designated; the period runs out and the scheduler returns the case on Thu 4/2.
    cli.scheduler("2026-04-02")
    assert cli.state(case, "2026-04-02") == "returned"
    # The letter was printed "由调解员scheduler主持调解": now it is refused.
    message = refused_render(cli, case, "court_letter", "2026-04-02")
    assert "没有选定或指定调解员" in message and "特邀调解规定第十二条" in message
    assert "系统账号" in message


def test_no_mediation_before_a_mediator_is_chosen_or_designated(cli: Cli) -> None:
    case = cli.open("2026-03-02", flow="court_referred", **REFERRED)
    early = cli.advance(case, "record_session", "2026-03-03", kind="mediation", summary="协商。")
    assert early.exit_code == ExitCode.NOT_ALLOWED
    assert "designate_mediator" in early.stderr and "choose_mediator" in early.stderr
    cli.step(case, "designate_mediator", "2026-03-03", mediators="周明", designated_by=COURT)
    # The parties are told their rights first (art. 14).
    informed = cli.advance(case, "record_session", "2026-03-03", kind="mediation", summary="协商。")
    assert informed.exit_code == ExitCode.NOT_ALLOWED and "inform" in informed.stderr
    cli.step(case, "inform", "2026-03-03")
    cli.step(case, "record_session", "2026-03-03", kind="mediation", summary="协商。")


def test_the_designated_mediator_is_named_in_full(cli: Cli) -> None:
    cli.ok("user", "add", "zhouming", "--name", "周明", "--role", "mediator", "--org", "桥头",
           day="2026-03-02")  # fmt: skip
    case = cli.open("2026-03-02", flow="court_referred", **REFERRED)
    # A system account is nobody's mediator.
    system = cli.advance(case, "designate_mediator", "2026-03-02", mediators="scheduler",
                         designated_by=COURT)  # fmt: skip
    assert system.exit_code == ExitCode.NOT_ALLOWED and "系统账号" in system.stderr
    # Designated by login: recorded (and printed) by the user's registered name.
    cli.step(case, "designate_mediator", "2026-03-02", mediators="zhouming", designated_by=COURT)
    assert cli.json("case", "show", case, day="2026-03-02")["proceeding"]["mediators"] == ["周明"]
    cli.step(case, "inform", "2026-03-02")
    cli.step(case, "record_session", "2026-03-03", kind="mediation", summary="双方分歧较大。")
    cli.step(case, "return_to_court", "2026-03-10", reason="双方对赔偿数额分歧过大",
             report_ref="桥调函〔2026〕3号")  # fmt: skip
    result, text = render(cli, case, "court_letter", "2026-03-10")
    assert result.exit_code == 0, result.stderr
    assert "由调解员周明主持调解" in text and "zhouming" not in text and "scheduler" not in text
    assert (
        "双方对赔偿数额分歧过大" in text
        and "现书面报告贵院并退回相关材料（桥调函〔2026〕3号）" in text
    )


def test_the_parties_choose_their_mediator_together(cli: Cli) -> None:
    case = cli.open("2026-03-02", flow="entrusted", **REFERRED)
    one = cli.advance(
        case, "choose_mediator", "2026-03-02", mediators="吴桂英", consented_by="张三"
    )
    assert one.exit_code == ExitCode.NOT_ALLOWED and "李四" in one.stderr
    cli.step(case, "choose_mediator", "2026-03-02", mediators="吴桂英", consented_by="张三、李四")
    cli.step(case, "inform", "2026-03-02")
    result, text = render(cli, case, "court_rights_notice", "2026-03-02")
    assert result.exit_code == 0, result.stderr
    assert f"你们之间的纠纷经{COURT}委托{ORG_NAME}调解，由调解员吴桂英主持调解" in text
    assert "特邀调解的规定》第十四条" in text and "申请调解员回避" in text
    assert "不得恶意串通、虚假调解" in text and "中止调解并向人民法院报告（第十八条）" in text


# -- 委派/委托: failure reported in writing, suspension on collusion ---------------------------


def test_a_failed_entrusted_mediation_is_reported_to_the_court(cli: Cli) -> None:
    # Entrusted Mon 3/2 (普通程序): 15 days, 3/3 .. 3/17 (Tue).
    case = cli.open("2026-03-02", flow="entrusted", **REFERRED)
    assert cli.deadline(case, "mediation_period", "2026-03-02")["due"] == "2026-03-17"
    cli.step(case, "designate_mediator", "2026-03-02", mediators="周明", designated_by=COURT)
    cli.step(case, "inform", "2026-03-02")
    cli.step(case, "record_session", "2026-03-04", kind="mediation", summary="双方分歧较大。")
    cli.step(case, "back_to_trial", "2026-03-12", reason="被告拒绝任何赔偿方案",
             report_ref="桥调函〔2026〕5号")  # fmt: skip
    result, text = render(cli, case, "court_letter", "2026-03-12")
    assert result.exit_code == 0, result.stderr
    assert text.startswith("委托调解结果函")
    assert (
        "被告拒绝任何赔偿方案" in text
        and "现书面报告贵院并退回相关材料（桥调函〔2026〕5号）" in text
    )


def test_suspected_collusion_suspends_and_is_reported(cli: Cli) -> None:
    case = cli.open("2026-03-02", flow="entrusted_simple", **REFERRED)
    cli.step(case, "designate_mediator", "2026-03-02", mediators="周明", designated_by=COURT)
    cli.step(case, "inform", "2026-03-02")
    cli.step(case, "record_session", "2026-03-03", kind="mediation", summary="双方迅速达成一致。")
    cli.step(case, "suspend", "2026-03-04", reason="双方约定以案外人的房屋抵偿债务",
             report_ref="桥调函〔2026〕6号")  # fmt: skip
    assert cli.state(case, "2026-03-04") == "suspended"
    # Suspended: no agreement can be recorded until the court has looked at it.
    early = cli.advance(case, "agree", "2026-03-04", "--data",
                        str(Path(__file__).parents[2] / "data/examples/agreement.toml"))  # fmt: skip
    assert early.exit_code == ExitCode.NOT_ALLOWED
    result, text = render(cli, case, "court_letter", "2026-03-04")
    assert result.exit_code == 0, result.stderr
    assert "已中止调解" in text and "第十八条" in text and "案外人的房屋" in text
    assert "（桥调函〔2026〕6号）" in text
    cli.step(case, "resume", "2026-03-06", reason="法院审查后认为不存在虚假调解")
    assert cli.state(case, "2026-03-06") == "mediating"


# -- an online agreement may go on to 司法确认 ---------------------------------------------------


def test_an_online_agreement_goes_on_to_confirmation(cli: Cli) -> None:
    add_court(cli, "浙0681")
    case = cli.open("2026-03-02", flow="online", parties=PARTIES)
    cli.step(case, "choose_mediator", "2026-03-02", mediators="周明")
    cli.step(case, "confirm", "2026-03-03")
    cli.step(case, "notify_other_party", "2026-03-03", party="李四")
    cli.step(case, "record_session", "2026-03-04", kind="mediation", summary="在线协商。")
    cli.step(
        case,
        "agree",
        "2026-03-05",
        "--data",
        str(Path(__file__).parents[2] / "data/examples/agreement.toml"),
    )
    # Not before it is in effect (人民调解法 art. 29).
    unsigned = cli.advance(case, "apply_confirmation", "2026-03-05", organisation="青山法院",
                           consented_by="张三、李四")  # fmt: skip
    assert unsigned.exit_code == ExitCode.NOT_ALLOWED and "尚未生效" in unsigned.stderr
    # Signed Fri 3/6: the 30 days run 3/7 .. 4/5, a Sunday in 清明 (4/4-4/6) → Tue 4/7.
    cli.sign_all(case, "2026-03-06")
    assert cli.deadline(case, "confirmation_window", "2026-03-06")["due"] == "2026-04-07"
    cli.step(
        case, "apply_confirmation", "2026-04-07", organisation="青山法院", consented_by="张三、李四"
    )
    assert cli.state(case, "2026-04-07") == "confirmation_requested"
    assert court_case_of(cli, case, "2026-04-07") == "（2026）浙0681民特1号"
