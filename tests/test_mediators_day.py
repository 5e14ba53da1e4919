""" "A mediator's day" (docs/mediators-day.md) is a transcript of the current code.

Its console blocks are generated sections, made by running the day
(:mod:`mediation.docs.walkthrough`); ``python -m mediation.docs --check`` (run by
tests/test_docs.py) fails when the commands print anything else. Here: that every
transcript block is generated, that the page reads the same on any machine (no real
account, no temporary folder), and that a drifted block is named and rewritten.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest

from mediation import docs
from mediation.docs import walkthrough
from mediation.storage.identity import os_login

PAGE = docs.DOCS_DIR / "mediators-day.md"


def _generated(text: str) -> dict[str, str]:
    return dict(
        re.findall(
            r"<!-- BEGIN GENERATED: (day-[\w-]+) -->\n(.*?)<!-- END GENERATED: \1 -->", text, re.S
        )
    )


def test_every_transcript_block_of_the_page_is_generated() -> None:
    text = PAGE.read_text(encoding="utf-8")
    generated = _generated(text)
    assert list(generated) == list(walkthrough.BLOCKS)
    outside = re.sub(
        r"<!-- BEGIN GENERATED: .*?<!-- END GENERATED: [\w-]+ -->", "", text, flags=re.S
    )
    hand_written = re.findall(r"```console\n(.*?)```", outside, re.S)
    assert hand_written == ["$ export MEDIATION_DB=/tmp/walk/centre.db\n"]
    assert generated == walkthrough.transcripts()


def test_the_transcript_is_the_same_on_any_machine() -> None:
    text = "\n".join(walkthrough.transcripts().values())
    assert "第一位系统管理员：zhouming（" in text
    assert "sqlite:////tmp/walk/centre.db" in text
    login = os_login()
    if login != "zhouming":
        assert not re.search(rf"(?<![\w.-]){re.escape(login)}(?![\w.-])", text)
    assert tempfile.gettempdir() + "/mediation-walk-" not in text
    assert str(docs.ROOT) not in text
    # The history's table is laid out for the name shown, not the account that ran it.
    history = text.split("$ mediation case history 1\n", 1)[1].split("```", 1)[0]
    header, dashes, *rows = history.splitlines()[1:]
    assert header.endswith("操作人    备注") and dashes.endswith("  --------  " + "-" * 26)
    assert all(row.rstrip().endswith("zhouming") for row in rows if "告知书" not in row)
    assert "  zhouming  已当面告知双方并签收告知书" in history
    assert "--------  " in dashes


def test_the_day_shows_the_current_behaviour() -> None:
    blocks = walkthrough.transcripts()
    assert "培训演示数据库" in blocks["day-setup"]
    assert "必填：理由（reason）、告知当事人向何处解决（redirect_to）" in blocks["day-next"]
    assert "archive 不能在此状态执行" in blocks["day-refused"]
    assert "期限结束：调解期限（至 2026-04-02）按期完成" in blocks["day-agree"]
    assert "（2026）城关人调字第1号  已指派调解员  调解期限  2026-04-03  5" in blocks["day-reports"]


def test_a_drifted_transcript_is_named_and_rewritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "docs"
    shutil.copytree(docs.DOCS_DIR, copy)
    page = copy / "mediators-day.md"
    original = page.read_text(encoding="utf-8")
    old = _generated(original)["day-agree"]
    page.write_text(
        original.replace(
            old, old.replace("按期完成", "按期完成\n  期限开始：申请司法确认期限 30日")
        ),
        encoding="utf-8",
    )
    assert docs.main(["--check", "--docs-dir", str(copy)]) == 1
    assert "mediators-day.md: stale section 'day-agree'" in capsys.readouterr().err
    assert docs.main(["--write", "--docs-dir", str(copy)]) == 0
    assert page.read_text(encoding="utf-8") == original
