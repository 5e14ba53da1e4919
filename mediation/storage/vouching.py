"""What the audit chain vouches for: the signing keys it saw created or imported, and the
documents it saw sealed.

A row in ``signing_key`` or ``document`` is only a claim: anyone able to write the tables
can insert one (a self-made certificate carrying a committee's name, a PDF signed with it).
``doc verify`` therefore trusts a key only when a ``key_init`` / ``key_import`` access
event with that certificate's fingerprint is in the chain with its own hash intact, and a
sealed document only when a ``sign_document`` case event with the file's hash is.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Connection, String, select

from mediation.storage._tables import access_event_table, event_table
from mediation.storage.audit import access_hash, event_hash

KEY_ACTIONS = ("key_init", "key_import")


def certificate_fingerprint(pem: str) -> str | None:
    """SHA-256 of a PEM certificate's DER bytes, as keys are recorded; None when unreadable."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        return None
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def key_event(conn: Connection, fingerprint: str, organisation: str) -> Any | None:
    """The access event that created or imported the key ``fingerprint`` for
    ``organisation``, its hash intact; None when the chain has none."""
    rows = conn.execute(
        select(access_event_table).where(
            access_event_table.c.action.in_(KEY_ACTIONS),
            access_event_table.c.subject == organisation,
            access_event_table.c.detail.cast(String).like(f'%"fingerprint":"{fingerprint}"%'),
        )
    ).all()
    for row in rows:
        detail = row.detail or {}
        if (
            detail.get("fingerprint") == fingerprint
            and detail.get("organisation") == organisation
            and row.hash == access_hash(dict(row._mapping))
        ):
            return row
    return None


def sealing_event(conn: Connection, proceeding_id: int, sha256: str) -> Any | None:
    """The ``sign_document`` event of case ``proceeding_id`` that sealed the file with hash
    ``sha256``, its hash intact; None when the chain has none."""
    rows = conn.execute(
        select(event_table).where(
            event_table.c.proceeding_id == proceeding_id,
            event_table.c.trigger == "sign_document",
        )
    ).all()
    for row in rows:
        if (row.payload or {}).get("sha256") == sha256 and row.hash == event_hash(
            dict(row._mapping), prev_hash=row.prev_hash or ""
        ):
            return row
    return None
