"""Issue 15, documents: terms agreed on several lines print as numbered paragraphs
(一、二、三、 as 人民调解协议书 samples number 协议内容), and a performance deadline stated
relative to the agreement ("本协议生效之日起十日内", domain.md §5) is accepted by
``case advance`` and printed as given. Real CLI, both databases, pdftotext."""

from __future__ import annotations

from pathlib import Path

from mediation.errors import ExitCode
from tests.commands.test_cli_peoples import DATA_FILES, open_case
from tests.conftest import intake_record
from tests.documents import test_signing as signing
from tests.documents.test_doc_get_casefile import DEADLINE, agreed, pdftext, step
from tests.documents.test_signing import Cli

font_cache, env, db, cli = signing.font_cache, signing.env, signing.db, signing.cli
_cli_built_once = signing._cli_built_once


def test_terms_on_several_lines_are_numbered_paragraphs(cli: Cli, tmp_path: Path) -> None:
    number = agreed(cli, tmp_path)  # TERMS: three lines; DEADLINE: relative
    out = tmp_path / "协议书.pdf"
    cli.ok("doc", "render", number, "agreement", "-o", str(out))
    text = pdftext(out)
    terms = text[text.index("自愿达成如下协议") : text.index("履行方式、地点和期限")]
    lines = [line.strip() for line in terms.splitlines()[1:] if line.strip()]
    assert lines[0].startswith("一、李四于本协议生效之日起十日内清理通道杂物。")
    assert any(line.startswith("二、李四向张三赔礼道歉。") for line in lines)
    assert any(line.startswith("三、双方今后互谅互让") for line in lines)
    assert f"履行期限：{DEADLINE}" in text.replace(" ", "")


def test_numbering_typed_with_the_terms_is_not_doubled(cli: Cli, tmp_path: Path) -> None:
    parties = intake_record()["parties"]
    assert isinstance(parties, list)
    parties[1].update(gender="female", address="桥头村14号")
    other: str = open_case(cli.runner, cli.db, tmp_path, parties=parties)["case_number"]
    for trigger in ("accept", "assign", "inform"):
        step(cli, other, trigger)
    step(cli, other, "record_session", "kind=mediation", "summary=协商。", "place=调解室")
    step(
        cli,
        other,
        "agree_written",
        "terms=1. 李四付款五百元。\n2、张三出具收条。",
        "performance_deadline=2026-03-20",
    )
    out = tmp_path / "other.pdf"
    cli.ok("doc", "render", other, "agreement", "-o", str(out))
    flat = pdftext(out).replace(" ", "")
    assert "一、李四付款五百元。" in flat and "二、张三出具收条。" in flat
    assert "1." not in flat.split("自愿达成如下协议")[1].split("履行方式")[0]
    assert "履行期限：2026年3月20日" in flat  # a date is still printed as a date


def test_a_mistyped_date_is_still_refused(cli: Cli, tmp_path: Path) -> None:
    opened = open_case(cli.runner, cli.db, tmp_path)
    number: str = opened["case_number"]
    for trigger in ("accept", "assign", "inform"):
        step(cli, number, trigger)
    step(cli, number, "record_session", "kind=mediation", "summary=协商。", "place=调解室")
    args = ["case", "advance", number, "agree_written", "--data", str(DATA_FILES["agree_written"])]
    for bad in ("2026-13-01", "下周"):
        result = cli(*args, "--set", f"performance_deadline={bad}")
        assert result.exit_code in (ExitCode.INVALID_INPUT, ExitCode.NOT_ALLOWED), result.stdout
        assert "本协议生效之日起十日内" in result.stderr  # the hint shows what is accepted
