# ruff: noqa: F811  (the signing tests' fixtures are imported by name)
"""A forged seal does not verify (issue 13, point 2), on both databases.

The attack, as the application's database role could run it: sign the case's agreement
with a self-made certificate carrying the committee's name, INSERT that certificate into
``signing_key`` and the PDF into ``document``. Every cryptographic check passes (the
certificate is the trust root the table names); only the audit chain knows that no
``keys init``/``keys import`` created that key and no ``doc sign`` sealed that file.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from sqlalchemy import insert, select

from mediation.documents.signing import _seal_pdf
from mediation.errors import ExitCode
from mediation.storage._tables import document_table, organisation_table, signing_key_table
from mediation.storage.store import Store
from tests.documents.test_signing import (  # noqa: F401  (fixtures)
    NOW,
    ORG_NAME,
    PASSPHRASE,
    Cli,
    _ca_issued_p12,
    cli,
    db,
    env,
    font_cache,
    signed_agreement,
)


def _unsigned_pdf(cli: Cli, number: str) -> bytes:
    """Another of the case's documents, rendered (and so not sealed): the file to forge."""
    from mediation.documents import DocumentIncomplete, documents_of, render_document

    with Store(cli.db) as store:
        for doc in documents_of(store, number):
            if doc["status"] == "signed":
                continue
            try:
                return render_document(
                    store, number, doc["kind"], actor="staff1", now=datetime.fromisoformat(NOW)
                )[1]
            except DocumentIncomplete:
                continue
    raise AssertionError("no document of the case renders")


def _forge(cli: Cli, tmp_path: Path, number: str) -> Path:
    """Seal the genuine agreement again with a self-made key, and record key and file."""
    p12_path = _ca_issued_p12(tmp_path)
    _, cert, _ = pkcs12.load_key_and_certificates(p12_path.read_bytes(), PASSPHRASE.encode())
    assert cert is not None
    fingerprint = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    now = datetime.fromisoformat(NOW)
    forged = _seal_pdf(
        _unsigned_pdf(cli, number),
        key_path=p12_path,
        fingerprint=fingerprint,
        passphrase=PASSPHRASE.encode(),
        org_name=ORG_NAME,
        reason="伪造",
        now=now,
    )
    with Store(cli.db) as store, store.write() as conn:
        org_id = conn.execute(
            select(organisation_table.c.id).where(organisation_table.c.code == "桥头")
        ).scalar_one()
        conn.execute(
            insert(signing_key_table).values(
                organisation_id=org_id,
                fingerprint=fingerprint,
                subject=cert.subject.rfc4514_string(),
                certificate=cert.public_bytes(Encoding.PEM).decode("ascii"),
                key_path=str(p12_path),
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                active=False,
                created_at=now,
                created_by="staff1",
            )
        )
        doc = (
            conn.execute(select(document_table).where(document_table.c.kind == "agreement"))
            .one()
            ._asdict()
        )
        del doc["id"]
        doc.update(
            seq=99,
            content=forged,
            sha256=hashlib.sha256(forged).hexdigest(),
            size=len(forged),
            key_fingerprint=fingerprint,
        )
        conn.execute(insert(document_table).values(**doc))
    path = tmp_path / "forged.pdf"
    path.write_bytes(forged)
    return path


def test_a_self_made_key_inserted_into_the_tables_does_not_verify(cli: Cli, tmp_path: Path) -> None:
    number, genuine = signed_agreement(cli, tmp_path)
    cli.ok("doc", "verify", str(genuine), "--case", number)
    forged = _forge(cli, tmp_path, number)
    refused = cli.fails(ExitCode.TAMPERED, "doc", "verify", str(forged), "--case", number)
    assert "审计链中没有创建或导入它的记录" in refused.stdout
    # The genuine file still verifies; audit verify reports both forged rows.
    cli.ok("doc", "verify", str(genuine), "--case", number)
    audit = cli.fails(ExitCode.TAMPERED, "audit", "verify", actor="admin1")
    assert "审计链中没有创建或导入它的记录" in audit.stdout
    assert "登记为已签章，但审计链中没有对应的签章记录" in audit.stdout


def test_a_file_sealed_outside_the_system_does_not_verify(cli: Cli, tmp_path: Path) -> None:
    """An insider with the committee's key file and passphrase seals a file outside the
    system and records it as signed: the key is genuine, but no ``doc sign`` sealed it."""
    number, _ = signed_agreement(cli, tmp_path)
    with Store(cli.db) as store, store.read() as conn:
        key = conn.execute(select(signing_key_table)).one()
    resealed = _seal_pdf(
        _unsigned_pdf(cli, number),
        key_path=Path(key.key_path),
        fingerprint=key.fingerprint,
        passphrase=PASSPHRASE.encode(),
        org_name=ORG_NAME,
        reason="私下加盖",
        now=datetime.fromisoformat(NOW),
    )
    with Store(cli.db) as store, store.write() as conn:
        doc = (
            conn.execute(select(document_table).where(document_table.c.kind == "agreement"))
            .one()
            ._asdict()
        )
        del doc["id"]
        doc.update(
            seq=99,
            content=resealed,
            sha256=hashlib.sha256(resealed).hexdigest(),
            size=len(resealed),
        )
        conn.execute(insert(document_table).values(**doc))
    path = tmp_path / "resealed.pdf"
    path.write_bytes(resealed)
    refused = cli.fails(ExitCode.TAMPERED, "doc", "verify", str(path), "--case", number)
    assert "审计链中没有签章记录" in refused.stdout
    assert "✓ 签名证书为已登记的调解组织证书" in refused.stdout  # the key itself is genuine
