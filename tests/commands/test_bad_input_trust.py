"""Bad input that looks harmless (issue 13, point 8): each gets a clear error (exit 3, a
Chinese message naming the field and the fix) and writes nothing, or is made harmless.

Signature scans of huge pixel size, a document that fails in a batch, spreadsheet formulas
in CSV outputs, dates out of range, impossible birth dates, too many parties, bidi and
zero-width characters in names, oversized input files, outputs through symlinks, file
modes of personal data, and short key passphrases.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import struct
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.domain import intake
from mediation.engine import cases
from mediation.errors import ExitCode, ValidationError
from mediation.storage._tables import (
    document_table,
    event_table,
    party_table,
    signature_table,
)
from mediation.storage.store import Store
from tests.conftest import T0, intake_record
from tests.documents import test_signing as signing
from tests.documents.test_signing import Cli, agreed_case

# The signing tests' fixtures: a database, the environment (key folder, passphrase), the CLI.
font_cache, env, db, cli = signing.font_cache, signing.env, signing.db, signing.cli
_cli_built_once = signing._cli_built_once

NOW = "2026-03-09T16:00:00+08:00"


def run(runner: CliRunner, db_url: str, *args: str, **environ: str) -> Result:
    return runner.invoke(app, ["--db", db_url, *args], env=environ or None)


def refused(result: Result, *words: str) -> str:
    """Exit 3 with a message, not a traceback; ``words`` in what was printed."""
    text = result.stdout + result.stderr
    assert result.exit_code == ExitCode.INVALID_INPUT, (result.exit_code, text, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in text
    for word in words:
        assert word in text, text
    return text


def count(store: Store, table: Any) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def png(width: int, height: int) -> bytes:
    """A small, real PNG of ``width`` × ``height`` px (drawn by Pillow)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, "PNG")
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A 1×1 PNG whose header declares ``width`` × ``height`` px (a decompression bomb)."""
    data = bytearray(png(1, 1))
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


# -- 1. signature images of huge pixel size -----------------------------------------------


def test_signature_image_of_huge_pixel_size_is_refused(cli: Cli, tmp_path: Path) -> None:
    number = agreed_case(cli, tmp_path)
    before = cli.json("case", "history", number)["events"]
    for size in ((20_000, 20_000), (12_000, 12_000), (4_001, 10)):
        scan = tmp_path / f"scan-{size[0]}.png"
        scan.write_bytes(png_declaring(*size))
        args = ("--signer", "张三", "--party", "--method", "sign", "--image", str(scan))
        result = cli("doc", "record-signature", number, *args)
        refused(result, "--image", "像素过大", "4000×4000")
    assert cli.json("case", "history", number)["events"] == before
    with Store(cli.db) as store:
        assert count(store, signature_table) == 0


def test_a_large_signature_image_is_stored_downscaled(cli: Cli, tmp_path: Path) -> None:
    from PIL import Image

    number = agreed_case(cli, tmp_path)
    scan = tmp_path / "scan.png"
    scan.write_bytes(png(3_000, 1_000))
    args = ("--signer", "张三", "--party", "--method", "sign", "--image", str(scan))
    cli.ok("doc", "record-signature", number, *args)
    with Store(cli.db) as store, store.read() as conn:
        stored = conn.execute(select(signature_table.c.image, signature_table.c.image_type)).one()
    with Image.open(io.BytesIO(stored.image)) as picture:
        assert max(picture.size) <= 1_200
        assert picture.size == (1_200, 400)
    assert stored.image_type == "image/png"


# -- 2. a document that fails in a batch ---------------------------------------------------


def test_render_all_goes_on_past_a_legacy_bomb_image(cli: Cli, tmp_path: Path) -> None:
    """A scan stored before images were checked, declaring 20000×20000 px: the agreement
    still renders (without the scan), and so does everything else."""
    number = agreed_case(cli, tmp_path)
    with Store(cli.db) as store, store.write() as conn:
        pid = conn.execute(
            select(document_table.c.proceeding_id).where(document_table.c.kind == "agreement")
        ).scalar_one()
        party = conn.execute(
            select(party_table.c.id).where(party_table.c.name == "张三")
        ).scalar_one()
        conn.execute(
            signature_table.insert().values(
                proceeding_id=pid,
                document_kind="agreement",
                signer_kind="party",
                party_id=party,
                signer_name="张三",
                method="sign",
                signed_at=T0 + timedelta(days=7),
                image=png_declaring(20_000, 20_000),
                image_type="image/png",
                recorded_by="staff1",
                recorded_at=T0 + timedelta(days=7),
            )
        )
    result = cli("doc", "render-all", "-j", "1", "--json")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    data = json.loads(result.stdout)
    agreement = [d for d in data["documents"] if d["kind"] == "agreement"]
    assert [d["status"] for d in agreement] == ["rendered"], (number, agreement)


def test_render_all_lists_a_failed_document_and_goes_on(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mediation.documents import batch

    agreed_case(cli, tmp_path)
    real = batch.render

    def render(store: Store, pid: int, kind: str, **kw: Any) -> Any:
        if kind == "agreement":
            raise RuntimeError("字体文件损坏")
        return real(store, pid, kind, **kw)

    monkeypatch.setattr(batch, "render", render)
    result = cli("doc", "render-all", "-j", "1")
    assert result.exit_code == ExitCode.ERROR, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "失败 1 份" in result.stdout
    assert "agreement #1：" in result.stdout and "字体文件损坏" in result.stdout
    rendered = re.search(r"已生成 (\d+) 份", result.stdout)
    assert rendered and int(rendered.group(1)) >= 1  # the others were rendered


# -- 3. spreadsheet formulas in CSV outputs ------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/","点我")'


@pytest.fixture
def formula_case(store: Store) -> str:
    """A case whose mediator's name is a spreadsheet formula, overdue by 2027."""
    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    for trigger, data in (
        ("accept", {}),
        ("assign", {"mediators": [FORMULA, "-1+2"], "selection": "designated"}),
    ):
        cases.advance(store, opened.proceeding_id, trigger, actor="t", now=T0, payload=data)
    return opened.case_number


def _number(cell: str) -> bool:
    """Numbers (days overdue: -31) are written as numbers."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _csv_cells(text: str) -> list[str]:
    import csv

    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


@pytest.mark.parametrize(
    "args",
    [
        ("report", "overdue", "--as-of", "2027-01-01", "--format", "csv"),
        ("report", "due-soon", "--within", "3000", "--format", "csv"),
        ("report", "stats", "--by", "mediator", "--format", "csv"),
    ],
)
def test_csv_cells_never_run_as_formulas(
    runner: CliRunner, store: Store, db_url: str, formula_case: str, args: tuple[str, ...]
) -> None:
    result = run(runner, db_url, *args)
    assert result.exit_code in (0, 8), (result.stdout, result.stderr, result.exception)
    cells = _csv_cells(result.stdout)
    assert any(FORMULA in c for c in cells), cells
    risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(c)]
    assert risky == [], risky
    assert "'" + FORMULA in cells or any(c.startswith("'" + FORMULA) for c in cells)


def test_one_csv_cell_helper_for_every_csv_writer() -> None:
    from mediation.domain.spreadsheet import csv_cell
    from mediation.engine import imports

    assert imports.csv_cell is csv_cell
    assert [csv_cell(v) for v in ("=1", "+1", "-1", "@A", "\tx", "\rx", "张三", 5)] == [
        "'=1",
        "'+1",
        "'-1",
        "'@A",
        "'\tx",
        "'\rx",
        "张三",
        5,
    ]


# -- 4. dates out of range -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("deadline", "compute", "9999-12-31", "--months", "1"), "START"),
        (("deadline", "compute", "0001-01-01", "--days", "1"), "START"),
        (("report", "stats", "--from", "0001-01-01", "--to", "9999-12-31"), "--from"),
        (("report", "stats", "--to", "9999-12-31"), "--to"),
        (("report", "overdue", "--as-of", "9999-12-31"), "--as-of"),
    ],
)
def test_dates_out_of_range_are_refused(
    runner: CliRunner, store: Store, db_url: str, args: tuple[str, ...], field: str
) -> None:
    refused(run(runner, db_url, *args), field, "1949-10-01", "2199-12-31")


def test_mediation_now_out_of_range_is_refused(
    runner: CliRunner, store: Store, db_url: str
) -> None:
    for now in ("9999-12-31", "0001-01-01T00:00:00+08:00"):
        result = run(runner, db_url, "report", "overdue", MEDIATION_NOW=now)
        refused(result, "MEDIATION_NOW", "2199-12-31")


# -- 5. birth dates ------------------------------------------------------------------------


@pytest.mark.parametrize("birth", ["0001-01-01", "1899-12-31", "9999-12-31", "2026-03-03"])
def test_impossible_birth_dates_are_refused(birth: str) -> None:
    record = intake_record()
    record["parties"][1]["birth_date"] = birth  # type: ignore[index]
    with pytest.raises(ValidationError) as caught:
        intake.validate(record)
    assert [p.field for p in caught.value.problems] == ["parties[1].birth_date"]
    assert "1900-01-01" in str(caught.value)


def test_a_birth_date_today_is_accepted() -> None:
    record = intake_record()
    record["parties"][1]["birth_date"] = "2026-03-02"  # type: ignore[index]
    assert intake.validate(record).parties[1].birth_date is not None


def test_amend_party_refuses_an_impossible_birth_date(
    runner: CliRunner, store: Store, db_url: str
) -> None:
    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    before = count(store, event_table)
    for birth in ("0001-01-01", "9999-12-31"):
        result = run(
            runner,
            db_url,
            *("case", "amend-party", opened.case_number, "李四"),
            *("--set", f"birth_date={birth}", "--reason", "更正"),
        )
        refused(result, "birth_date", "1900-01-01")
    assert count(store, event_table) == before


# -- 6. too many parties -------------------------------------------------------------------


def test_too_many_parties_are_refused() -> None:
    parties = [{"role": "applicant", "name": "张三"}] + [
        {"role": "respondent", "name": f"李{i}"} for i in range(60)
    ]
    with pytest.raises(ValidationError) as caught:
        intake.validate(intake_record(parties=parties))
    assert [p.field for p in caught.value.problems] == ["parties"]
    assert "61" in str(caught.value) and "50" in str(caught.value)


def test_fifty_parties_are_accepted() -> None:
    parties = [{"role": "applicant", "name": "张三"}] + [
        {"role": "respondent", "name": f"李{i}"} for i in range(49)
    ]
    assert len(intake.validate(intake_record(parties=parties)).parties) == 50


# -- 7. bidi and zero-width characters in names --------------------------------------------


@pytest.mark.parametrize(
    "char", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200b", "\u200d", "\u2060", "\ufeff"]
)
@pytest.mark.parametrize("where", ["name", "legal_representative", "title"])
def test_invisible_characters_in_names_are_refused(char: str, where: str) -> None:
    record = intake_record()
    parties: list[dict[str, Any]] = record["parties"]  # type: ignore[assignment]
    if where == "title":
        record["title"] = f"邻里{char}纠纷"
        field = "title"
    elif where == "name":
        parties[1]["name"] = f"李{char}四"
        field = "parties[1].name"
    else:
        parties[1].update(kind="organisation", name="某公司", legal_representative=f"王{char}五")
        field = "parties[1].legal_representative"
    with pytest.raises(ValidationError) as caught:
        intake.validate(record)
    assert [p.field for p in caught.value.problems] == [field]
    assert f"U+{ord(char):04X}" in str(caught.value)


def test_amend_party_refuses_a_bidi_name(runner: CliRunner, store: Store, db_url: str) -> None:
    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    before = count(store, event_table)
    result = run(
        runner,
        db_url,
        *("case", "amend-party", opened.case_number, "李四"),
        *("--set", "name=李\u202e四", "--reason", "更正"),
    )
    refused(result, "name", "U+202E")
    assert count(store, event_table) == before


# -- 8. oversized input files --------------------------------------------------------------


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        f.truncate(size)
    return path


def test_an_oversized_intake_file_is_refused_before_parsing(
    runner: CliRunner, store: Store, db_url: str, tmp_path: Path
) -> None:
    big = _sparse(tmp_path / "intake.json", 150 * 1024 * 1024)
    before = count(store, event_table)
    refused(run(runner, db_url, "case", "open", "--from", str(big)), "10 MiB")
    assert count(store, event_table) == before


def test_an_oversized_data_file_is_refused(tmp_path: Path) -> None:
    from mediation.domain.files import read_file

    big = _sparse(tmp_path / "data.toml", 11 * 1024 * 1024)
    with pytest.raises(ValidationError, match="10 MiB"):
        read_file(big)


def test_an_oversized_bulk_import_is_refused(
    runner: CliRunner, store: Store, db_url: str, tmp_path: Path
) -> None:
    big = _sparse(tmp_path / "weekly.csv", 51 * 1024 * 1024)
    before = count(store, event_table)
    result = run(runner, db_url, "intake", "import", str(big), "--channel", "hotline")
    refused(result, "50 MiB")
    assert count(store, event_table) == before
    assert not (tmp_path / "weekly.csv.errors.csv").exists()


# -- 9. outputs never follow a symlink; new ones are the owner's only ----------------------


def full_record() -> dict[str, Any]:
    """An intake record whose application form has every party's particulars."""
    record = intake_record()
    record["parties"][1].update(  # type: ignore[index]
        gender="female", birth_date="1980-05-06", address="浙江省江城市青山县城关镇桥头村14号"
    )
    return record


def test_output_through_a_symlink_is_refused(
    runner: CliRunner, store: Store, db_url: str, tmp_path: Path
) -> None:
    cases.open_case(store, intake.validate(full_record()), actor="t", now=T0)
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / "out.pdf"
    link.symlink_to(target)
    result = run(runner, db_url, "doc", "render", "1", "application", "-o", str(link))
    refused(result, "符号链接")
    assert target.read_text(encoding="utf-8") == "keep me"
    assert link.is_symlink()
    assert count(store, document_table) == 0  # refused before rendering: nothing kept
    result = run(runner, db_url, "report", "stats", "--format", "csv", "-o", str(link))
    refused(result, "符号链接")
    assert target.read_text(encoding="utf-8") == "keep me"


def test_new_outputs_are_the_owners_only(
    runner: CliRunner, store: Store, db_url: str, tmp_path: Path
) -> None:
    cases.open_case(store, intake.validate(full_record()), actor="t", now=T0)
    old = os.umask(0o022)
    try:
        out = tmp_path / "application.pdf"
        result = run(runner, db_url, "doc", "render", "1", "application", "-o", str(out))
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        csv_out = tmp_path / "stats.csv"
        result = run(runner, db_url, "report", "stats", "--format", "csv", "-o", str(csv_out))
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(csv_out.stat().st_mode) == 0o600


# -- 10. files holding personal data are created 0600 --------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_is_the_owners_only(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIATION_NOW")  # a real database: the wall clock
    path = tmp_path / "new" / "mediation.db"
    old = os.umask(0o022)
    try:
        args = ["--org-code", "桥头", "--org-name", "桥头村人民调解委员会"]
        result = runner.invoke(app, ["--db", str(path), "init", *args])
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        with Store(f"sqlite:///{path}") as store:
            cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
            sides = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
            assert all(p.exists() for p in sides)
            assert [_mode(p) for p in sides] == [0o600, 0o600]
    finally:
        os.umask(old)
    assert _mode(path) == 0o600


def test_backup_and_export_are_the_owners_only(
    runner: CliRunner, store: Store, db_url: str, tmp_path: Path
) -> None:
    cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    old = os.umask(0o022)
    try:
        exported = tmp_path / "move.jsonl"
        result = run(runner, db_url, "export", "--reveal", "-o", str(exported))
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        assert _mode(exported) == 0o600
        if store.dialect == "sqlite":
            backup = tmp_path / "backup" / "copy.db"
            result = run(runner, db_url, "backup", str(backup))
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
            assert _mode(backup) == 0o600
    finally:
        os.umask(old)


def test_a_backup_never_writes_through_a_symlink(
    runner: CliRunner, store: Store, db_url: str, tmp_path: Path
) -> None:
    if store.dialect != "sqlite":
        pytest.skip("backup copies SQLite files")
    target = tmp_path / "elsewhere.db"
    link = tmp_path / "copy.db"
    link.symlink_to(target)  # dangling: exists() is False
    result = run(runner, db_url, "backup", str(link))
    assert result.exit_code != 0
    assert not target.exists()


def test_key_folder_and_file_are_the_owners_only(cli: Cli, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        cli.ok("keys", "init", "桥头")
    finally:
        os.umask(old)
    folder = Path(cli.env["MEDIATION_KEY_DIR"] or "")
    assert _mode(folder) == 0o700
    files = list(folder.iterdir())
    assert files and all(_mode(f) == 0o600 for f in files)


# -- 11. key passphrases -------------------------------------------------------------------


@pytest.mark.parametrize("passphrase", ["x", "short-pass1"])
def test_a_short_key_passphrase_is_refused(cli: Cli, passphrase: str) -> None:
    result = cli("keys", "init", "桥头", MEDIATION_KEY_PASSPHRASE=passphrase)
    refused(result, "MEDIATION_KEY_PASSPHRASE", "12")
    folder = Path(cli.env["MEDIATION_KEY_DIR"] or "")
    assert not folder.exists() or not any(folder.iterdir())
    assert cli.json("keys", "list") == []


def test_the_demo_passphrase_is_long_enough() -> None:
    from mediation.demo.agreement import DEMO_PASSPHRASE
    from mediation.documents.keys import MIN_PASSPHRASE_CHARS

    assert MIN_PASSPHRASE_CHARS >= 12
    assert len(DEMO_PASSPHRASE) >= MIN_PASSPHRASE_CHARS
