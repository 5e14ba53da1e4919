"""Signed exports: an HMAC under a key derived from a passphrase both ends know.

The trailer's SHA-256 finds a file cut or damaged by accident, but anyone can recompute it
after editing a row (a user's roles, a party's phone, a case's state). The signature is
what an editor cannot recompute: ``HMAC-SHA256(key, "mediation-export\\n" + sha256)``,
where ``key = scrypt(passphrase, salt)`` with a fresh random salt per export, written in
the header (which the SHA-256 covers) with the scrypt parameters.

Why a passphrase: a move goes to a database that is empty, so nothing in it can vouch for
a key, and everything in the file (the installation's secret, the committee's certificates,
the chain) can be rewritten by whoever edits the file. A secret kept out of the file and
known to both ends can: the admin who exports chooses it (at least 12 characters), gives
it to the admin who imports by another way than the file, and each sets it in
``MEDIATION_EXPORT_PASSPHRASE``. It is never stored, logged or printed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mediation.errors import FieldProblem, UsageError, ValidationError
from mediation.i18n import _

PASSPHRASE_ENV = "MEDIATION_EXPORT_PASSPHRASE"
MIN_PASSPHRASE_CHARS = 12
ALGORITHM = "hmac-sha256"
#: scrypt's cost: about 16 MiB and a few tens of milliseconds, once per export or import.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_LABEL = b"mediation-export\n"


def passphrase_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``MEDIATION_EXPORT_PASSPHRASE``, or None when it is not set."""
    return (os.environ if environ is None else environ).get(PASSPHRASE_ENV) or None


def require_passphrase(passphrase: str | None, *, doing: str) -> str:
    """The passphrase, refused when missing (exit 2) or shorter than 12 characters (exit 3)."""
    if not passphrase:
        raise UsageError(
            f"{doing}需要签名口令：未设置 {PASSPHRASE_ENV}",
            hint=f"export {PASSPHRASE_ENV}=...（至少 {MIN_PASSPHRASE_CHARS} 个字符；"
            "导出与导入两端使用同一口令，口令另行告知，不要与文件放在一起）",
        )
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise ValidationError(
            [
                FieldProblem(
                    PASSPHRASE_ENV,
                    f"口令只有 {len(passphrase)} 个字符，至少需要 {MIN_PASSPHRASE_CHARS} 个",
                    _("请用更长的口令（几个词）"),
                )
            ],
            source=PASSPHRASE_ENV,
        )
    return passphrase


@dataclass(frozen=True)
class Signer:
    """The key of one export, and how it was derived (the header's ``signature``)."""

    key: bytes
    params: dict[str, Any]

    def mac(self, sha256_hex: str) -> str:
        return hmac.new(self.key, _LABEL + sha256_hex.encode("ascii"), "sha256").hexdigest()

    def matches(self, sha256_hex: str, mac: Any) -> bool:
        return isinstance(mac, str) and hmac.compare_digest(self.mac(sha256_hex), mac)


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32
    )


def new_signer(passphrase: str) -> Signer:
    """A signer with a fresh salt, for writing an export."""
    salt = secrets.token_bytes(16)
    params = {"alg": ALGORITHM, "kdf": "scrypt", **SCRYPT, "salt": salt.hex()}
    return Signer(_derive(passphrase, salt, **SCRYPT), params)


def signer_for(params: Any, passphrase: str) -> Signer | None:
    """The signer an export's header names, with ``passphrase``; None when the header's
    ``signature`` is not one this version writes (the caller refuses the file)."""
    if not isinstance(params, dict) or params.get("alg") != ALGORITHM:
        return None
    if params.get("kdf") != "scrypt" or any(params.get(k) != v for k, v in SCRYPT.items()):
        return None
    try:
        salt = bytes.fromhex(params["salt"])
    except (KeyError, TypeError, ValueError):
        return None
    return Signer(_derive(passphrase, salt, **SCRYPT), dict(params))
