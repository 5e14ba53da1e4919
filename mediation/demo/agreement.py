"""Signing and sealing the walked case's agreement (``mediation demo --agreement-pdf``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from mediation.storage.store import Store

#: The demo committee key's passphrase when MEDIATION_KEY_PASSPHRASE is not set (a demo
#: key signs nothing real).
DEMO_PASSPHRASE = "demo-only-passphrase"


def sign_agreement(
    store: Store,
    pid: int,
    record: dict[str, Any],
    *,
    at: datetime,
    actor: str,
    out: Path,
    key_dir: Path | None,
    say: Callable[[str], None],
) -> None:
    """Every party and the mediator sign the walked case's agreement; the committee's key
    seals the rendered PDF (人民调解法 art. 29: signed, sealed, then effective)."""
    import os

    from mediation.documents import render_document
    from mediation.documents.keys import PASSPHRASE_ENV, init_key
    from mediation.documents.signatures import record_signature
    from mediation.documents.signing import sign_document, verify_document
    from mediation.engine.queries import case_detail

    passphrase = (os.environ.get(PASSPHRASE_ENV) or DEMO_PASSPHRASE).encode("utf-8")
    with store.read() as conn:
        case = case_detail(conn, pid)["proceeding"]
    methods = ("sign", "fingerprint")  # 签名, 按指印
    for i, party in enumerate(record["parties"]):
        record_signature(
            store,
            str(pid),
            signer=party["name"],
            signer_kind="party",
            method=methods[i % 2],
            actor=actor,
            now=at,
            signed_at=at,
        )
    record_signature(
        store,
        str(pid),
        signer=case["mediators"][0],
        signer_kind="mediator",
        method="sign",
        actor=actor,
        now=at,
        signed_at=at,
    )
    key = init_key(
        store,
        case["organisation"]["code"],
        passphrase=passphrase,
        actor=actor,
        now=at,
        directory=key_dir,
    )
    render_document(store, str(pid), "agreement", actor=actor, now=at)
    pdf = sign_document(store, str(pid), "agreement", passphrase=passphrase, actor=actor, now=at)[
        "content"
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    checked = verify_document(store, pdf, now=at, case_ref=str(pid))
    say(
        f"      调解协议书：双方及调解员签名，{case['organisation']['name']}电子签章"
        f"（证书 {key['fingerprint'][:16]}…）→ {out}；"
        + ("验签通过" if checked.ok else "验签失败：" + "；".join(c.name for c in checked.failed))
    )


def sign_in(conn: Any, pid: int, *, actor: str, now: datetime) -> None:
    """Record every signature the case's current written agreement still lacks (each party
    signs, the mediator signs, the committee seals), at ``now``, inside the caller's
    transaction: the demo's parties apply for 司法确认 only once it is in effect
    (人民调解法 arts. 29, 33)."""
    from sqlalchemy import select

    from mediation.documents.signatures import agreement_reached, insert_signature, missing
    from mediation.engine.cases import case_row
    from mediation.storage._tables import organisation_table, party_table

    while True:
        case = case_row(conn, pid, lock=True)
        since = agreement_reached(conn, case)
        org = conn.execute(
            select(organisation_table.c.name).where(organisation_table.c.id == case.organisation_id)
        ).scalar_one()
        before = missing(conn, case, since, org)
        if not before:
            return
        party_id = None
        if before.parties:
            kind, signer, method = "party", before.parties[0], "sign"
            party_id = conn.execute(
                select(party_table.c.id).where(
                    party_table.c.dispute_id == case.dispute_id, party_table.c.name == signer
                )
            ).scalar()
        elif before.mediators:
            kind, signer, method = "mediator", case.mediator or "调解员", "sign"
        else:
            kind, signer, method = "committee", org, "seal"
        insert_signature(
            conn,
            case,
            since,
            before,
            org_name=org,
            signer=signer,
            signer_kind=kind,
            party_id=party_id,
            method=method,
            signed_at=now,
            image=None,
            image_type=None,
            actor=actor,
            now=now,
        )
