"""Committee signing keys: create or import, record, list.

:func:`init_key` creates an ECDSA P-256 key and a self-signed certificate naming the
committee (CN = its name, O = its code); :func:`import_key` takes a CA-issued PKCS#12
instead. The private key stays in a passphrase-protected PKCS#12 file outside the database
(mode 0600, in :func:`key_dir`); the certificate is recorded in ``signing_key`` and becomes
the organisation's active key, and the change is an access event in the audit chain.

The passphrase comes from ``MEDIATION_KEY_PASSPHRASE`` (:func:`passphrase_from_env`) and is
never stored, logged or printed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from mediation.domain.clock import UTC
from mediation.errors import (
    FieldProblem,
    MediationError,
    NotFoundError,
    UsageError,
    ValidationError,
)
from mediation.i18n import _, os_error
from mediation.storage._tables import organisation_table, signing_key_table
from mediation.storage.audit import append_access
from mediation.storage.store import Store

if TYPE_CHECKING:
    from cryptography import x509

PASSPHRASE_ENV = "MEDIATION_KEY_PASSPHRASE"
KEY_DIR_ENV = "MEDIATION_KEY_DIR"
DEFAULT_KEY_DAYS = 1825
#: The shortest passphrase a new or imported key file is protected with (a key file that
#: leaves the machine must withstand guessing). Opening an existing key accepts any.
MIN_PASSPHRASE_CHARS = 12


# -- settings -----------------------------------------------------------------------------


def passphrase_from_env(environ: Mapping[str, str] | None = None) -> bytes:
    """The key passphrase from ``MEDIATION_KEY_PASSPHRASE``.

    :raises UsageError: when it is not set (nothing is written then).
    """
    value = (os.environ if environ is None else environ).get(PASSPHRASE_ENV, "")
    if not value:
        raise UsageError(
            _("未设置 {env}：调委会的密钥文件受口令保护").format(env=PASSPHRASE_ENV),
            hint=_("请设置 {env}=…（取自口令管理器；口令从不保存）").format(env=PASSPHRASE_ENV),
        )
    return value.encode("utf-8")


def check_new_passphrase(passphrase: bytes) -> None:
    """Refuse a passphrase too short to protect a new key file.

    :raises ValidationError: shorter than :data:`MIN_PASSPHRASE_CHARS` characters.
    """
    chars = len(passphrase.decode("utf-8", errors="replace"))
    if chars < MIN_PASSPHRASE_CHARS:
        problem = FieldProblem(
            PASSPHRASE_ENV,
            f"口令过短（{chars} 个字符，至少 {MIN_PASSPHRASE_CHARS} 个）",
            f"请设置至少 {MIN_PASSPHRASE_CHARS} 个字符的口令（可用密码管理器生成）",
        )
        raise ValidationError([problem], source="密钥口令")


def key_dir(given: Path | None = None) -> Path:
    """Where key files go: ``given``, ``MEDIATION_KEY_DIR``, or ``mediation/keys`` in the
    user's data directory."""
    if given is not None:
        return given
    env = os.environ.get(KEY_DIR_ENV)
    if env:
        return Path(env)
    from platformdirs import user_data_path

    return user_data_path("mediation", appauthor=False) / "keys"


# -- keys ---------------------------------------------------------------------------------


def _fingerprint(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def _pem(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM).decode("ascii")


def _organisation(conn: Connection, code: str) -> Any:
    row = conn.execute(
        select(organisation_table.c.id, organisation_table.c.code, organisation_table.c.name).where(
            organisation_table.c.code == code
        )
    ).first()
    if row is None:
        raise NotFoundError(
            _("没有代码为 {code} 的组织").format(code=repr(code)),
            hint=_("用 `mediation org list` 查看组织代码"),
        )
    return row


def init_key(
    store: Store,
    org_code: str,
    *,
    passphrase: bytes,
    actor: str,
    now: datetime,
    days: int = DEFAULT_KEY_DAYS,
    directory: Path | None = None,
) -> dict[str, Any]:
    """Create a committee's signing key and self-signed certificate; it becomes the
    organisation's active key (earlier ones are kept for verifying, inactive).

    :raises NotFoundError: for an unknown organisation.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    if not 1 <= days <= 36_500:
        raise ValidationError(
            [FieldProblem("--days", f"{days} 超出范围", _("请给出 1 至 36500 天"))], source="命令行"
        )
    check_new_passphrase(passphrase)
    with store.read() as conn:
        org = _organisation(conn, org_code)
    # ECDSA P-256: small signatures, and poppler's pdfsig (NSS) validates them.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org.code),
            x509.NameAttribute(NameOID.COMMON_NAME, org.name),
        ]
    )
    start = now.astimezone(UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: what PDF signature validators ask
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _record_key(
        store,
        org,
        key,
        cert,
        [],
        passphrase=passphrase,
        directory=directory,
        actor=actor,
        now=now,
        action="key_init",
    )


def import_key(
    store: Store,
    org_code: str,
    p12: bytes,
    *,
    passphrase: bytes,
    actor: str,
    now: datetime,
    source: str = "PKCS#12",
    directory: Path | None = None,
) -> dict[str, Any]:
    """Record a CA-issued PKCS#12 (opened with ``passphrase``) as the committee's active key;
    a copy protected by the same passphrase goes to the key directory.

    :raises ValidationError: for a file that does not open, holds no key or certificate,
        is not valid now, or is not meant for signing documents.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    def refuse(problem: str, fix: str) -> ValidationError:
        return ValidationError([FieldProblem(source, problem, fix)], source="keys import")

    check_new_passphrase(passphrase)  # the copy in the key folder is protected with it
    with store.read() as conn:
        org = _organisation(conn, org_code)
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(p12, passphrase)
    except ValueError:
        raise refuse(
            "无法打开（口令错误或不是 PKCS#12 文件）",
            _("请将 {env} 设为该文件的口令").format(env=PASSPHRASE_ENV),
        ) from None
    if key is None or cert is None:
        raise refuse("文件中缺少私钥或证书", _("请连同证书一起导出私钥"))
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise refuse("私钥类型不受支持", _("请使用 RSA 或 ECDSA 私钥"))
    if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
        raise refuse("私钥与证书不匹配", _("请导出与该私钥配对的证书"))
    if not cert.not_valid_before_utc <= now.astimezone(UTC) <= cert.not_valid_after_utc:
        raise refuse(
            f"证书有效期为 {cert.not_valid_before_utc:%Y-%m-%d} 至 {cert.not_valid_after_utc:%Y-%m-%d}",
            _("请导入当前有效的证书"),
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.content_commitment:
        raise refuse(
            "证书不允许用于签署文件（缺少 nonRepudiation/contentCommitment 密钥用途）",
            _("请向证书颁发机构申请可用于签署文件的证书"),
        )
    return _record_key(
        store,
        org,
        key,
        cert,
        list(chain),
        passphrase=passphrase,
        directory=directory,
        actor=actor,
        now=now,
        action="key_import",
    )


def _record_key(
    store: Store,
    org: Any,
    key: Any,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    *,
    passphrase: bytes,
    directory: Path | None,
    actor: str,
    now: datetime,
    action: str,
) -> dict[str, Any]:
    """Write the key file, then record the certificate; a failed record removes the file."""
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    fingerprint = _fingerprint(cert)
    with store.read() as conn:
        if conn.execute(
            select(signing_key_table.c.id).where(signing_key_table.c.fingerprint == fingerprint)
        ).first():
            raise ValidationError(
                [
                    FieldProblem(
                        "certificate",
                        f"证书 {fingerprint[:16]}… 已登记",
                        _("见 mediation keys list"),
                    )
                ],
                source="密钥",
            )
    data = pkcs12.serialize_key_and_certificates(
        org.name.encode("utf-8"), key, cert, chain or None, BestAvailableEncryption(passphrase)
    )
    folder = key_dir(directory).expanduser().resolve()
    stem = org.code if re.fullmatch(r"[\w-]{1,40}", org.code) else f"org{org.id}"
    path = folder / f"{stem}-{fingerprint[:16]}.p12"
    _write_private(path, data)
    record = {
        "organisation_id": org.id,
        "fingerprint": fingerprint,
        "subject": cert.subject.rfc4514_string()[:300],
        "certificate": "".join(_pem(c) for c in [cert, *chain]),
        "key_path": str(path),
        "not_before": cert.not_valid_before_utc,
        "not_after": cert.not_valid_after_utc,
        "active": True,
        "created_at": now,
        "created_by": actor,
    }
    try:
        with store.write() as conn:
            retired = (
                conn.execute(
                    update(signing_key_table)
                    .where(
                        signing_key_table.c.organisation_id == org.id,
                        signing_key_table.c.active.is_(True),
                    )
                    .values(active=False)
                    .returning(signing_key_table.c.fingerprint)
                )
                .scalars()
                .all()
            )
            key_id = conn.execute(
                insert(signing_key_table).values(**record).returning(signing_key_table.c.id)
            ).scalar_one()
            detail = {
                "organisation": org.code,
                "fingerprint": fingerprint,
                "subject": record["subject"],
                "not_after": record["not_after"],
                "key_path": str(path),
                "retired": list(retired),
            }
            append_access(
                conn, action=action, actor=actor, subject=org.code, detail=detail, now=now
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return {
        "id": key_id,
        "organisation": org.code,
        "organisation_name": org.name,
        **{k: record[k] for k in ("fingerprint", "subject", "key_path", "not_before", "not_after")},
        "retired": list(retired),
    }


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` readable by its owner only; never overwrite."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise MediationError(
            _("无法创建密钥文件 {path}：{why}").format(path=path, why=os_error(exc)),
            hint=_("请用 --key-dir 或 {env} 指定一个可写的文件夹").format(env=KEY_DIR_ENV),
        ) from None
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def list_keys(store: Store) -> list[dict[str, Any]]:
    """Every recorded certificate (PEM, with any CA chain) by organisation, newest first;
    no key material."""
    with store.read() as conn:
        rows = conn.execute(
            select(
                signing_key_table.c.id,
                organisation_table.c.code.label("organisation"),
                signing_key_table.c.fingerprint,
                signing_key_table.c.subject,
                signing_key_table.c.not_before,
                signing_key_table.c.not_after,
                signing_key_table.c.active,
                signing_key_table.c.key_path,
                signing_key_table.c.created_at,
                signing_key_table.c.created_by,
                signing_key_table.c.certificate,
            )
            .join(
                organisation_table, organisation_table.c.id == signing_key_table.c.organisation_id
            )
            .order_by(organisation_table.c.code, signing_key_table.c.id.desc())
        ).all()
    return [dict(r._mapping) for r in rows]
