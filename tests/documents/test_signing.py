"""Signing (issue 5 point 3): recorded signatures, committee keys, the PAdES seal, checks.

Everything runs through the real CLI (``typer.testing.CliRunner``) against a SQLite file and
a PostgreSQL schema, with the clock pinned. The signed agreement is checked by poppler's
``pdfsig`` as well as by ``mediation doc verify``; tampered copies must fail with exit 10.
"""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.errors import ExitCode
from mediation.storage import audit
from mediation.storage._tables import access_event_table, document_table, signing_key_table
from mediation.storage.store import Store
from tests.commands.test_cli_peoples import (
    ACTOR,
    _cli_built_once,  # noqa: F401  (autouse: one command tree)
    advance,
    ok,
    open_case,
    walk,
)
from tests.conftest import add_users, intake_record

PASSPHRASE = "一二三 correct-horse-battery"
OPENED = "2026-03-02T09:00:00+08:00"
#: When the signatures are recorded and the seal applied: a week after the agreement.
NOW = "2026-03-09T16:00:00+08:00"
TO_AGREEMENT = ["accept", "assign", "inform", "record_session", "agree_written"]
PARTIES = ("张三", "李四")  # tests.conftest.intake_record
MEDIATORS = ("周明", "吴桂英")  # data/examples/assign.toml
ORG_NAME = "桥头村人民调解委员会"


@pytest.fixture(scope="session")
def font_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of cut seal fonts for the session (cutting takes ~0.3 s)."""
    return tmp_path_factory.mktemp("fonts")


@pytest.fixture
def env(tmp_path: Path, font_cache: Path) -> dict[str, str | None]:
    return {
        "MEDIATION_NOW": NOW,
        "MEDIATION_KEY_PASSPHRASE": PASSPHRASE,
        "MEDIATION_KEY_DIR": str(tmp_path / "keys"),
        "MEDIATION_FONT_CACHE": str(font_cache),
    }


@pytest.fixture
def db(store: Store, db_url: str) -> Iterator[str]:
    add_users(store, ACTOR, roles=("mediator", "staff", "supervisor"))  # test_cli_peoples' walker
    store.close()
    yield db_url


class Cli:
    """``mediation`` with the test's database and environment."""

    def __init__(self, runner: CliRunner, db: str, env: dict[str, str | None]) -> None:
        self.runner, self.db, self.env = runner, db, env

    def __call__(self, *args: str, actor: str = "staff1", **env: str | None) -> Result:
        return self.runner.invoke(app, ["--db", self.db, *args], env={**self.env, **env})

    def ok(self, *args: str, **env: str | None) -> Result:
        result = self(*args, **env)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        assert PASSPHRASE not in result.stdout + result.stderr
        return result

    def fails(self, code: ExitCode, *args: str, **env: str | None) -> Result:
        result = self(*args, **env)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert PASSPHRASE not in result.stdout + result.stderr
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)

    def events(self, case: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.json("case", "history", case)["events"]
        return found


@pytest.fixture
def cli(runner: CliRunner, db: str, env: dict[str, str | None]) -> Cli:
    return Cli(runner, db, env)


def agreed_case(cli: Cli, tmp_path: Path) -> str:
    """A people's-mediation case with a written agreement, its agreement rendered."""
    parties = intake_record()["parties"]
    assert isinstance(parties, list)
    # The agreement prints every party's basic information (人民调解法 art. 29).
    parties[1].update(gender="female", address="浙江省江城市青山县城关镇桥头村14号")
    opened = open_case(cli.runner, cli.db, tmp_path, now=OPENED, parties=parties)
    number: str = opened["case_number"]
    walk(cli.runner, cli.db, number, TO_AGREEMENT, "applied")
    render_agreement(cli.db, number)
    return number


def render_agreement(db: str, number: str) -> None:
    """The agreement as ``mediation doc render`` stores it."""
    from mediation.documents import render_document

    with Store(db) as store:
        render_document(store, number, "agreement", actor="staff1", now=datetime.fromisoformat(NOW))


def sign_all(cli: Cli, number: str) -> None:
    """Both parties and the responsible mediator sign (not yet the committee)."""
    cli.ok(
        "doc", "record-signature", number, "--signer", "张三", "--party", "--method", "fingerprint"
    )
    cli.ok("doc", "record-signature", number, "--signer", "李四", "--party", "--method", "sign")
    cli.ok("doc", "record-signature", number, "--signer", "周明", "--mediator", "--method", "sign")


def signed_agreement(cli: Cli, tmp_path: Path) -> tuple[str, Path]:
    number = agreed_case(cli, tmp_path)
    sign_all(cli, number)
    render_agreement(cli.db, number)  # again, now with the recorded signatures printed
    cli.ok("keys", "init", "桥头")
    out = tmp_path / "协议书.pdf"
    cli.ok("doc", "sign", number, "agreement", "-o", str(out))
    return number, out


def stored_document(db: str) -> Any:
    with Store(db) as store, store.read() as conn:
        return conn.execute(select(document_table)).one()


# -- keys ---------------------------------------------------------------------------------


def test_keys_init_writes_a_protected_key_and_records_its_certificate(
    cli: Cli, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    first = json.loads(cli.ok("keys", "init", "桥头", "--json").stdout)
    path = Path(first["key_path"])
    assert path.parent == (tmp_path / "keys").resolve()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key, cert, _ = pkcs12.load_key_and_certificates(path.read_bytes(), PASSPHRASE.encode())
    assert key is not None and cert is not None
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(path.read_bytes(), b"wrong")
    assert PASSPHRASE.encode() not in path.read_bytes()
    assert first["fingerprint"] == hashlib.sha256(cert.public_bytes(_der())).hexdigest()
    assert cert.subject.rfc4514_string() == f"CN={ORG_NAME},O=桥头,C=CN"
    # Valid from the (pinned) moment it was made, for the default five years.
    assert cert.not_valid_before_utc == datetime.fromisoformat(NOW).astimezone(UTC)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=1825)

    # A second key replaces the first as the active one; both stay listed.
    second = cli.json("keys", "init", "桥头", "--days", "30")
    assert second["retired"] == [first["fingerprint"]]
    listed = cli.json("keys", "list")
    assert [(k["fingerprint"], k["active"]) for k in listed] == [
        (second["fingerprint"], True),
        (first["fingerprint"], False),
    ]
    text = cli.ok("keys", "list").stdout
    assert second["fingerprint"][:16] in text and "现用" in text and "已停用" in text

    with Store(cli.db) as store, store.read() as conn:
        access = conn.execute(
            select(access_event_table.c.action, access_event_table.c.detail).order_by(
                access_event_table.c.id
            )
        ).all()
        assert audit.verify(conn).ok
    # The first admin's, and the mark of a training database (tests pin the clock).
    access = [a for a in access if a.action not in ("user_add", "training_database")]
    assert [a.action for a in access] == ["key_init", "key_init"]
    assert access[1].detail["retired"] == [first["fingerprint"]]
    assert PASSPHRASE not in json.dumps(access[0].detail, ensure_ascii=False)


def _der() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def test_a_missing_passphrase_is_refused_before_anything_is_written(
    cli: Cli, tmp_path: Path
) -> None:
    result = cli.fails(ExitCode.USAGE, "keys", "init", "桥头", MEDIATION_KEY_PASSPHRASE=None)
    assert "MEDIATION_KEY_PASSPHRASE" in result.stderr
    assert not (tmp_path / "keys").exists()
    with Store(cli.db) as store, store.read() as conn:
        assert conn.execute(select(func.count()).select_from(signing_key_table)).scalar() == 0
        added = 3  # the training mark, the first admin and the walker
        assert conn.execute(select(func.count()).select_from(access_event_table)).scalar() == added
    # An unknown organisation: refused, and no key file is left behind either.
    cli.fails(ExitCode.NOT_FOUND, "keys", "init", "无此组织")
    assert not (tmp_path / "keys").exists() or not any((tmp_path / "keys").iterdir())
    # Signing needs it too.
    number = agreed_case(cli, tmp_path)
    sign_all(cli, number)
    cli.ok("keys", "init", "桥头")
    before = stored_document(cli.db)
    result = cli.fails(ExitCode.USAGE, "doc", "sign", number, MEDIATION_KEY_PASSPHRASE=None)
    assert "MEDIATION_KEY_PASSPHRASE" in result.stderr
    wrong = cli.fails(ExitCode.USAGE, "doc", "sign", number, MEDIATION_KEY_PASSPHRASE="guess")
    assert "无法打开密钥文件" in wrong.stderr
    assert "guess" not in wrong.stderr
    after = stored_document(cli.db)
    assert (after.status, after.sha256) == ("rendered", before.sha256)


def _ca_issued_p12(tmp_path: Path, *, non_repudiation: bool = True) -> Path:
    """A PKCS#12 with a key, its certificate issued by a test CA, and the CA's certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from cryptography.x509.oid import NameOID

    start = datetime(2026, 1, 1, tzinfo=UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("测试CA"))
        .issuer_name(name("测试CA"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name(ORG_NAME))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=730))
        .add_extension(usage, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    path = tmp_path / f"ca-issued-{non_repudiation}.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"x", key, leaf, [ca], BestAvailableEncryption(PASSPHRASE.encode())
        )
    )
    return path


def test_keys_import_a_ca_issued_pkcs12_and_sign_with_it(cli: Cli, tmp_path: Path) -> None:
    p12 = _ca_issued_p12(tmp_path)
    cli.fails(
        ExitCode.INVALID_INPUT, "keys", "import", "桥头", str(p12), MEDIATION_KEY_PASSPHRASE="x"
    )
    refused = cli.fails(
        ExitCode.INVALID_INPUT,
        "keys",
        "import",
        "桥头",
        str(_ca_issued_p12(tmp_path, non_repudiation=False)),
    )
    assert "nonRepudiation" in refused.stderr
    assert cli.json("keys", "list") == []

    imported = cli.json("keys", "import", "桥头", str(p12))
    assert imported["subject"] == f"CN={ORG_NAME}"
    with Store(cli.db) as store, store.read() as conn:
        pem = conn.execute(select(signing_key_table.c.certificate)).scalar_one()
    assert pem.count("BEGIN CERTIFICATE") == 2  # the certificate, then the CA's
    cli.fails(ExitCode.INVALID_INPUT, "keys", "import", "桥头", str(p12))  # already recorded

    number = agreed_case(cli, tmp_path)
    sign_all(cli, number)
    out = tmp_path / "signed.pdf"
    cli.ok("doc", "sign", number, "-o", str(out))
    assert "验证通过" in cli.ok("doc", "verify", str(out), "--case", number).stdout


# -- recorded signatures --------------------------------------------------------------------


def test_the_agreement_takes_effect_only_with_the_last_signature(cli: Cli, tmp_path: Path) -> None:
    number = agreed_case(cli, tmp_path)
    scan = tmp_path / "zhang.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    record = ("doc", "record-signature", number)

    first = cli.ok(
        *record, "--signer", "张三", "--party", "--method", "fingerprint",
        "--at", "2026-03-09T10:00", "--image", str(scan),
    )  # fmt: skip
    assert (
        "尚待签署：当事人 李四、调解员 周明 或 吴桂英、桥头村人民调解委员会（盖章）" in first.stdout
    )
    cli.ok(*record, "--signer", "李四", "--party", "--method", "seal", "--at", "2026-03-09T10:05")
    cli.ok(
        *record, "--signer", "吴桂英", "--mediator", "--method", "sign", "--at", "2026-03-09T10:10"
    )
    assert not [e for e in cli.events(number) if e["trigger"] == "agreement_effective"]

    last = cli.json(
        *record, "--signer", ORG_NAME, "--committee", "--method", "seal", "--at", "2026-03-09T11:00"
    )
    assert last["effective_at"] == "2026-03-09T11:00:00+08:00"
    assert last["missing"] == ""
    events = cli.events(number)
    tail = [(e["trigger"], e["seq"], e["from_state"], e["to_state"]) for e in events[-5:]]
    assert tail == [
        ("record_signature", 7, "agreed_written", "agreed_written"),
        ("record_signature", 8, "agreed_written", "agreed_written"),
        ("record_signature", 9, "agreed_written", "agreed_written"),
        ("record_signature", 10, "agreed_written", "agreed_written"),
        ("agreement_effective", 11, "agreed_written", "agreed_written"),
    ]
    assert events[-5]["payload"]["image_sha256"] == hashlib.sha256(scan.read_bytes()).hexdigest()
    assert events[-1]["payload"]["effective_at"] == "2026-03-09T11:00:00+08:00"
    case = cli.json("case", "show", number)["proceeding"]
    assert (case["state"], case["version"]) == ("agreed_written", 11)
    with Store(cli.db) as store, store.read() as conn:
        assert audit.verify(conn).ok

    # Each signature once; and nothing more once it is in effect.
    again = cli.fails(
        ExitCode.NOT_ALLOWED, *record, "--signer", "张三", "--party", "--method", "sign"
    )
    assert "已记录" in again.stderr
    assert len(cli.events(number)) == len(events)


def test_bad_signatures_are_refused_and_write_nothing(cli: Cli, tmp_path: Path) -> None:
    number = agreed_case(cli, tmp_path)
    record = ("doc", "record-signature", number)
    not_png = tmp_path / "scan.txt"
    not_png.write_text("not an image")
    for code, args, says in [
        (ExitCode.NOT_ALLOWED, ("--signer", "王五", "--party", "--method", "sign"), "的当事人"),
        (ExitCode.NOT_ALLOWED, ("--signer", "郑七", "--mediator", "--method", "sign"), "的调解员"),
        (ExitCode.NOT_ALLOWED, ("--signer", "别的调委会", "--committee", "--method", "seal"), "committee"),
        (ExitCode.INVALID_INPUT, ("--signer", "周明", "--mediator", "--method", "fingerprint"), "签名"),
        (ExitCode.INVALID_INPUT, ("--signer", "张三", "--party", "--method", "stamp"), "stamp"),
        (ExitCode.INVALID_INPUT, ("--signer", "张三", "--party", "--method", "sign", "--at", "2026-03-10"), "晚于"),
        (ExitCode.INVALID_INPUT, ("--signer", "张三", "--party", "--method", "sign", "--at", "soon"), "--at"),
        (ExitCode.INVALID_INPUT, ("--signer", "张三", "--party", "--method", "sign", "--image", str(not_png)), "PNG"),
        (ExitCode.USAGE, ("--signer", "张三", "--party", "--mediator", "--method", "sign"), "中的一项"),
    ]:  # fmt: skip
        assert says in cli.fails(code, *record, *args).stderr
    history = cli.events(number)
    assert history[-1]["trigger"] == "agree_written"
    # A case without a written agreement has nothing to sign.
    other: str = open_case(cli.runner, cli.db, tmp_path, now=OPENED)["case_number"]
    refused = cli.fails(
        ExitCode.NOT_ALLOWED,
        *("doc", "record-signature", other, "--signer", "张三", "--party", "--method", "sign"),
    )
    assert "没有可签署的书面调解协议" in refused.stderr and "agree_written" in refused.stderr


def test_a_new_agreement_is_signed_again(cli: Cli, tmp_path: Path) -> None:
    """After a rejected confirmation and re-mediation, the signatures on the first
    agreement do not count for the second."""
    number = agreed_case(cli, tmp_path)
    record = ("doc", "record-signature", number)
    cli.ok(*record, "--signer", "张三", "--party", "--method", "sign")
    # In effect before it goes to 司法确认 (人民调解法 art. 29).
    cli.ok(*record, "--signer", "李四", "--party", "--method", "sign")
    cli.ok(*record, "--signer", "周明", "--mediator", "--method", "sign")
    cli.ok(*record, "--signer", ORG_NAME, "--committee", "--method", "seal")
    again = ["apply_confirmation", "confirmation_denied", "remediate", "record_session"]
    for trigger in [*again, "agree_written"]:
        ok(advance(cli.runner, cli.db, number, trigger, now="2026-03-10T09:00:00+08:00"))
    later = "2026-03-11T09:00:00+08:00"
    result = cli.ok(*record, "--signer", "李四", "--party", "--method", "sign", MEDIATION_NOW=later)
    assert "尚待签署：当事人 张三、" in result.stdout
    cli.ok(*record, "--signer", "张三", "--party", "--method", "sign", MEDIATION_NOW=later)


# -- the seal -------------------------------------------------------------------------------


def test_signing_needs_every_party_and_the_mediator_first(cli: Cli, tmp_path: Path) -> None:
    number = agreed_case(cli, tmp_path)
    cli.ok("keys", "init", "桥头")
    result = cli.fails(ExitCode.NOT_ALLOWED, "doc", "sign", number)
    assert "当事人 张三、当事人 李四、调解员 周明 或 吴桂英" in result.stderr
    cli.ok("doc", "record-signature", number, "--signer", "张三", "--party", "--method", "sign")
    result = cli.fails(ExitCode.NOT_ALLOWED, "doc", "sign", number)
    assert "张三" not in result.stderr.split("：", 1)[1] and "李四" in result.stderr
    assert stored_document(cli.db).status == "rendered"


def test_a_case_without_a_key_cannot_be_signed(cli: Cli, tmp_path: Path) -> None:
    number = agreed_case(cli, tmp_path)
    sign_all(cli, number)
    result = cli.fails(ExitCode.NOT_FOUND, "doc", "sign", number)
    assert "mediation keys init 桥头" in result.stderr


def test_the_signed_agreement_passes_pdfsig_and_doc_verify(cli: Cli, tmp_path: Path) -> None:
    number, out = signed_agreement(cli, tmp_path)
    data = out.read_bytes()
    doc = stored_document(cli.db)
    assert (doc.status, doc.content, doc.sha256, doc.size) == (
        "signed",
        data,
        hashlib.sha256(data).hexdigest(),
        len(data),
    )
    key = cli.json("keys", "list")[0]
    assert (doc.key_fingerprint, doc.signed_by) == (key["fingerprint"], Store(cli.db).login())

    # poppler, independently of pyHanko.
    pdfsig = subprocess.run(["pdfsig", str(out)], capture_output=True, text=True, check=True)
    assert "Signature Validation: Signature is Valid." in pdfsig.stdout
    assert "Total document signed" in pdfsig.stdout
    assert f"Signer Certificate Common Name: {ORG_NAME}" in pdfsig.stdout
    assert "Signature Type: ETSI.CAdES.detached" in pdfsig.stdout  # PAdES
    assert "Signing Time: Mar 09 2026 08:00:00" in pdfsig.stdout  # the pinned clock, in UTC

    verified = cli.ok("doc", "verify", str(out), "--case", number).stdout
    assert verified.count("✓") == 6 and "✗" not in verified
    assert f"验证通过：{out} 是 {number} 登记的签章文书" in verified
    report = cli.json("doc", "verify", str(out))
    assert report["ok"] and report["case_number"] == number
    assert [c["name"] for c in report["checks"]] == [
        "signature", "key", "integrity", "trust", "coverage", "recorded",
    ]  # fmt: skip

    # The seal is the committee's signature: with it the agreement took effect.
    events = cli.events(number)
    assert [e["trigger"] for e in events[-3:]] == [
        "sign_document",
        "record_signature",
        "agreement_effective",
    ]
    assert events[-3]["payload"]["sha256"] == doc.sha256
    assert events[-3]["payload"]["fingerprint"] == key["fingerprint"]
    assert events[-2]["payload"] == {
        "document_kind": "agreement",
        "method": "seal",
        "signed_at": "2026-03-09T16:00:00+08:00",
        "signer": ORG_NAME,
        "signer_kind": "committee",
    }
    with Store(cli.db) as store, store.read() as conn:
        assert audit.verify(conn).ok


def test_the_seal_is_visible_and_red_on_the_last_page(cli: Cli, tmp_path: Path) -> None:
    from PIL import Image

    from mediation.documents.signing import _seal_box

    _, out = signed_agreement(cli, tmp_path)
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True)
    last = next(line.split()[1] for line in info.stdout.splitlines() if line.startswith("Pages:"))
    assert int(last) == stored_document(cli.db).pages
    page_png = tmp_path / "page"
    render = ["pdftoppm", "-r", "72", "-png", "-singlefile", "-f", last, "-l", last]
    subprocess.run([*render, str(out), str(page_png)], check=True)
    page = Image.open(tmp_path / "page.png").convert("RGB")
    x1, y1, x2, y2 = _seal_box()
    height = page.height  # 72 dpi: one pixel per point; PDF y runs upwards
    inside = page.crop((int(x1), int(height - y2), int(x2), int(height - y1)))
    red = _red_pixels(inside)
    assert red > 300, red  # the border and the three lines of text
    outside = page.crop((0, 0, page.width, int(height - y2) - 2))
    assert _red_pixels(outside) == 0


def _red_pixels(image: Any) -> int:
    rgb = image.tobytes()
    return sum(
        1 for i in range(0, len(rgb), 3) if rgb[i] > 150 and rgb[i + 1] < 90 and rgb[i + 2] < 90
    )


def test_a_signed_document_is_neither_signed_again_nor_rendered_again(
    cli: Cli, tmp_path: Path
) -> None:
    from mediation.documents import DocumentSigned

    number, _out = signed_agreement(cli, tmp_path)
    before = (stored_document(cli.db).sha256, len(cli.events(number)))
    result = cli.fails(ExitCode.NOT_ALLOWED, "doc", "sign", number)
    assert "签章后不再改动" in result.stderr
    with pytest.raises(DocumentSigned) as refused:
        render_agreement(cli.db, number)
    assert refused.value.exit_code == ExitCode.NOT_ALLOWED
    assert (stored_document(cli.db).sha256, len(cli.events(number))) == before


# -- tampering ------------------------------------------------------------------------------


def _flipped(data: bytes, at: int) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


def test_one_byte_changed_fails_verification(cli: Cli, tmp_path: Path) -> None:
    number, out = signed_agreement(cli, tmp_path)
    data = out.read_bytes()
    start = data.index(b"/Contents <")  # the signature value: the signed ranges lie around it
    for at in (200, start // 2, start - 40, len(data) - 30):
        tampered = tmp_path / f"tampered-{at}.pdf"
        tampered.write_bytes(_flipped(data, at))
        result = cli.fails(ExitCode.TAMPERED, "doc", "verify", str(tampered), "--case", number)
        assert "未通过验证" in result.stderr and "✗" in result.stdout
        assert "文件哈希与案件登记的文书一致" in result.stderr  # the hash is never on record
    # The byte in the middle of the content: pyHanko and poppler both see the digest differ.
    middle = tmp_path / f"tampered-{start // 2}.pdf"
    report = json.loads(cli.fails(ExitCode.TAMPERED, "doc", "verify", str(middle), "--json").stdout)
    failed = {c["name"] for c in report["checks"] if not c["ok"]}
    # The certificate cannot vouch for a broken signature either; the key and the coverage
    # are still what was signed.
    assert {"integrity", "recorded"} <= failed and not {"key", "coverage"} & failed, report
    pdfsig = subprocess.run(["pdfsig", str(middle)], capture_output=True, text=True)
    assert "Signature is Valid" not in pdfsig.stdout


def test_a_byte_appended_fails_verification(cli: Cli, tmp_path: Path) -> None:
    number, out = signed_agreement(cli, tmp_path)
    longer = tmp_path / "longer.pdf"
    longer.write_bytes(out.read_bytes() + b"\n")
    result = cli.fails(ExitCode.TAMPERED, "doc", "verify", str(longer), "--case", number)
    assert "✗ 签名覆盖整个文件（签名后未追加内容）" in result.stdout
    assert "✓ 签名覆盖的内容未被改动" in result.stdout


def test_a_hash_not_on_record_fails_verification(cli: Cli, tmp_path: Path) -> None:
    _number, out = signed_agreement(cli, tmp_path)
    other: str = open_case(cli.runner, cli.db, tmp_path, now=OPENED)["case_number"]
    # The right file, but claimed for another case.
    result = cli.fails(ExitCode.TAMPERED, "doc", "verify", str(out), "--case", other)
    assert "✗ 文件哈希与案件登记的文书一致：SHA-256 " in result.stdout and other in result.stdout
    # The record changed under the file (a database edited outside mediation).
    with Store(cli.db) as store, store.write() as conn:
        conn.execute(update(document_table).values(sha256="0" * 64))
    result = cli.fails(ExitCode.TAMPERED, "doc", "verify", str(out))
    assert "✗ 文件哈希与案件登记的文书一致" in result.stdout
    assert "✓ 签名覆盖整个文件" in result.stdout  # the signature itself is still sound
    cli.fails(ExitCode.NOT_FOUND, "doc", "verify", str(out), "--case", "（2026）无此案第9号")


def test_a_pdf_without_signature_or_not_a_pdf_fails(cli: Cli, tmp_path: Path) -> None:
    number = agreed_case(cli, tmp_path)
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(stored_document(cli.db).content)
    result = cli.fails(ExitCode.TAMPERED, "doc", "verify", str(plain), "--case", number)
    assert "✗ 文件含有电子签名：文件中没有电子签名" in result.stdout
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf at all")
    cli.fails(ExitCode.TAMPERED, "doc", "verify", str(junk))
