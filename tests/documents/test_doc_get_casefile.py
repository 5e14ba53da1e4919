"""Issue 15, documents: ``doc sign`` seals the record as it stands, ``doc get`` hands out a
stored document byte for byte, ``doc casefile`` binds the whole 卷宗 as one PDF.

Everything runs through the real CLI against a SQLite file and a PostgreSQL schema, with
the clock pinned; the PDFs are read back with poppler's pdftotext / pdfinfo.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mediation.errors import ExitCode
from mediation.storage._tables import access_event_table, document_table
from mediation.storage.store import Store
from tests.commands.test_cli_peoples import DATA_FILES, open_case
from tests.conftest import intake_record
from tests.documents import test_signing as signing
from tests.documents.test_signing import OPENED, Cli, sign_all

# The signing tests' fixtures: a database, the environment (key folder, passphrase), the CLI.
font_cache, env, db, cli = signing.font_cache, signing.env, signing.db, signing.cli
_cli_built_once = signing._cli_built_once

TERMS = "李四于本协议生效之日起十日内清理通道杂物。\n李四向张三赔礼道歉。\n双方今后互谅互让，不再因此事发生争执。"
DEADLINE = "本协议生效之日起十日内"
LATER = "2026-03-20T10:00:00+08:00"


def pdftext(path: Path, first: int | None = None, last: int | None = None) -> str:
    pages = [] if first is None else ["-f", str(first), "-l", str(last or first)]
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)[1])  # type: ignore[index]


def step(cli: Cli, number: str, trigger: str, *sets: str, now: str = OPENED) -> None:
    args = ["case", "advance", number, trigger]
    if trigger in DATA_FILES:
        args += ["--data", str(DATA_FILES[trigger])]
    for item in sets:
        args += ["--set", item]
    cli.ok(*args, MEDIATION_NOW=now)


def agreed(cli: Cli, tmp_path: Path, *, place: bool = True) -> str:
    """A case with an investigation, a mediation session and a written agreement on three
    numbered terms with a relative deadline; nothing rendered yet."""
    parties = intake_record()["parties"]
    assert isinstance(parties, list)
    parties[1].update(
        gender="female", address="浙江省江城市青山县城关镇桥头村14号", birth_date="1980-05-01"
    )
    number: str = open_case(cli.runner, cli.db, tmp_path, now=OPENED, parties=parties)[
        "case_number"
    ]
    where = ("place=桥头村村委会调解室",) if place else ()
    step(cli, number, "accept")
    step(cli, number, "assign")
    step(cli, number, "inform")
    step(cli, number, "record_session", "kind=investigation", "summary=查看通道现场。", *where)
    step(
        cli,
        number,
        "record_session",
        "kind=mediation",
        "summary=双方当面协商。",
        "place=桥头村村委会调解室",
    )
    step(cli, number, "agree_written", f"terms={TERMS}", f"performance_deadline={DEADLINE}")
    return number


def sealed(cli: Cli, tmp_path: Path) -> tuple[str, Path]:
    """Render the agreement, then record the signatures, then seal: the order in which a
    sealed agreement used to keep blank signature lines."""
    number = agreed(cli, tmp_path)
    cli.ok("doc", "render", number, "agreement")
    sign_all(cli, number)
    cli.ok("keys", "init", "桥头")
    out = tmp_path / "sealed.pdf"
    cli.ok("doc", "sign", number, "agreement", "-o", str(out))
    return number, out


def access_count(db: str, action: str) -> int:
    with Store(db) as store, store.read() as conn:
        return int(
            conn.execute(
                select(func.count()).where(access_event_table.c.action == action)
            ).scalar_one()
        )


def documents(db: str) -> list[Any]:
    with Store(db) as store, store.read() as conn:
        return list(conn.execute(select(document_table).order_by(document_table.c.id)))


# -- doc sign -------------------------------------------------------------------------------


def test_sign_prints_the_signatures_recorded_after_the_rendering(cli: Cli, tmp_path: Path) -> None:
    number, out = sealed(cli, tmp_path)
    text = pdftext(out)
    block = flat(text[text.index("本协议于") :])
    # Both parties and the mediator as recorded (at MEDIATION_NOW: 2026-03-09 16:00), and
    # the committee's seal that `doc sign` itself records.
    assert "申请人：张三（已按指印）2026年3月9日16时00分" in block
    assert "被申请人：李四（已签名）2026年3月9日16时00分" in block
    assert "人民调解员：周明（已签名）2026年3月9日16时00分" in block
    assert "桥头村人民调解委员会盖章（已盖章）" in block
    # Only the second mediator, whose signature the agreement does not need, is left blank.
    assert block.count("年月日") == 1 and "吴桂英年月日" in block
    result = cli.ok("doc", "verify", str(out), "--case", number)
    assert "验证通过" in result.stdout
    # The stored rendering made before the signatures is gone: the sealed bytes are stored.
    (row,) = documents(cli.db)
    assert row.status == "signed" and row.content == out.read_bytes()
    sign = [e for e in cli.events(number) if e["trigger"] == "sign_document"][-1]
    assert sign["payload"]["rendered_sha256"] != sign["payload"]["replaced_sha256"]


# -- doc get --------------------------------------------------------------------------------


def test_get_writes_the_sealed_pdf_as_stored(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, out = sealed(cli, tmp_path)
    got = tmp_path / "copy.pdf"
    before = access_count(cli.db, "doc_get")
    result = cli.ok("doc", "get", number, "agreement", "-o", str(got))
    assert got.read_bytes() == out.read_bytes()
    assert stat.S_IMODE(got.stat().st_mode) == 0o600
    digest = hashlib.sha256(got.read_bytes()).hexdigest()
    sign = [e for e in cli.events(number) if e["trigger"] == "sign_document"][-1]
    assert sign["payload"]["sha256"] == digest  # the hash the chain recorded
    assert "已签章" in result.stdout and f"已写入 {got}" in result.stdout
    assert access_count(cli.db, "doc_get") == before + 1
    cli.ok("doc", "verify", str(got), "--case", number)
    # The same bytes again: the file is left alone.
    again = cli.ok("doc", "get", number, "agreement", "-o", str(got))
    assert "未改写" in again.stdout
    # Standard output, byte for byte.
    piped = cli("doc", "get", number, "agreement", "-o", "-")
    assert piped.exit_code == 0 and piped.stdout_bytes == out.read_bytes()
    # The default name, in the current folder; an existing different file is not replaced.
    monkeypatch.chdir(tmp_path)
    default = tmp_path / f"{number}人民调解协议书.pdf"
    cli.ok("doc", "get", number, "agreement")
    assert default.read_bytes() == out.read_bytes()
    default.write_bytes(b"mine")
    refused = cli.fails(ExitCode.INVALID_INPUT, "doc", "get", number, "agreement")
    assert "文件已存在" in refused.stderr and default.read_bytes() == b"mine"


def test_get_never_writes_through_a_link_nor_what_was_not_rendered(
    cli: Cli, tmp_path: Path
) -> None:
    number, _ = sealed(cli, tmp_path)
    target = tmp_path / "target.txt"
    target.write_text("keep")
    link = tmp_path / "link.pdf"
    os.symlink(target, link)
    result = cli.fails(ExitCode.INVALID_INPUT, "doc", "get", number, "agreement", "-o", str(link))
    assert "符号链接" in result.stderr and target.read_text() == "keep"
    missing = cli.fails(
        ExitCode.NOT_FOUND, "doc", "get", number, "record", "-o", str(tmp_path / "r.pdf")
    )
    assert "还没有已生成的人民调解记录" in missing.stderr
    assert f"mediation doc render {number} record" in missing.stderr
    assert not (tmp_path / "r.pdf").exists()


def test_get_refuses_a_stored_document_that_is_not_the_one_on_record(
    cli: Cli, tmp_path: Path
) -> None:
    number, out = sealed(cli, tmp_path)
    forged = out.read_bytes().replace(b"%%EOF", b"%%EOF\n%", 1)
    with Store(cli.db) as store, store.write() as conn:
        conn.execute(document_table.update().values(content=forged))
    got = tmp_path / "copy.pdf"
    result = cli.fails(ExitCode.TAMPERED, "doc", "get", number, "agreement", "-o", str(got))
    assert "与登记的哈希不符" in result.stderr and not got.exists()


# -- doc casefile ---------------------------------------------------------------------------


def test_casefile_binds_cover_index_and_every_document(cli: Cli, tmp_path: Path) -> None:
    number, sealed_pdf = sealed(cli, tmp_path)
    step(cli, number, "follow_up", "performance=performed", "summary=杂物已清理。", now=LATER)
    volume = tmp_path / "卷宗.pdf"
    data = cli.json("doc", "casefile", number, "-o", str(volume))
    kinds = [(d["kind"], d["seq"]) for d in data["documents"]]
    assert kinds == [
        ("application", 1),
        ("registration", 1),
        ("rights_notice", 1),
        ("investigation", 1),
        ("record", 1),
        ("agreement", 1),
        ("follow_up", 1),
    ]
    cover = data["cover_pages"]
    assert page_count(volume) == data["pages"] == cover + sum(d["pages"] for d in data["documents"])
    index = flat(pdftext(volume, 1, cover))
    assert "卷内目录" in index and number in index
    first = 1
    for d in data["documents"]:
        pages = d["pages"]
        numbers = f"{first}" if pages == 1 else f"{first}–{first + pages - 1}"
        assert d["page_no"] == numbers
        # The index row: number, title, date, page count and page numbers (页号).
        assert f"{d['no']}{d['title']}{d['date']}{pages}{numbers}" in index, d
        # ... and that page of the volume is that document.
        assert flat(d["title"]) in flat(pdftext(volume, cover + first)), d
        first += pages
    assert "当事人身份证明" in index and "纸质材料" in index
    # The sealed agreement goes in as sealed: its signatures and the seal, its bytes stored.
    agreement = next(d for d in data["documents"] if d["kind"] == "agreement")
    assert agreement["status"] == "signed"
    assert agreement["sha256"] == hashlib.sha256(sealed_pdf.read_bytes()).hexdigest()
    start = cover + int(agreement["page_no"].split("–")[0])
    text = flat(pdftext(volume, start, start + agreement["pages"] - 1))
    assert "申请人：张三（已按指印）" in text
    assert stat.S_IMODE(volume.stat().st_mode) == 0o600
    assert access_count(cli.db, "doc_casefile") == 1


def test_casefile_with_a_document_missing_fields_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    number = agreed(cli, tmp_path, place=False)
    volume = tmp_path / "卷宗.pdf"
    result = cli.fails(ExitCode.INVALID_INPUT, "doc", "casefile", number, "-o", str(volume))
    assert "调查记录：第1次调查的地点" in result.stderr
    assert not volume.exists() and documents(cli.db) == []
