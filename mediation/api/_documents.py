"""The case file: rendering documents, recording signatures, sealing and verifying."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediation.api._base import Session
from mediation.engine.permissions import Action

if TYPE_CHECKING:
    from mediation.api.document_results import CaseFileVolume, StoredDocument
    from mediation.api.write_results import SignatureRecorded, SignedDocument, SigningKey
    from mediation.documents import Rendered
    from mediation.documents.batch import Batch
    from mediation.documents.signing import Verification


class DocumentsAPI(Session):
    def render(self, case: str | int, kind: str, *, seq: int = 1) -> Rendered:
        """Render one document of a case as a PDF and keep it with the case.

        :raises DocumentIncomplete: (exit 3) listing the statutory fields missing.
        :raises DocumentSigned: (exit 5) when that document is already sealed.
        """
        from mediation.documents import render

        with self.store.read() as conn:
            self._case(conn, Action.DOC_RENDER, case, acting=True)
        return render(self.store, case, kind, actor=self.actor, now=self.clock.now(), seq=seq)

    def get_document(self, case: str | int, kind: str, *, seq: int = 1) -> StoredDocument:
        """A stored document byte for byte as the case keeps it (the sealed PDF once it is
        signed), checked against the hash on record; the copy is recorded (``doc_get``).

        :raises NotFoundError: (exit 4) when that document was never rendered.
        :raises TamperedError: (exit 10) when its bytes do not have the hash on record.
        """
        from mediation.api.document_results import StoredDocument
        from mediation.documents.stored import stored_document

        with self.store.read() as conn:
            self._case(conn, Action.DOC_GET, case, acting=True)
        return StoredDocument.of(
            stored_document(self.store, case, kind, seq=seq, actor=self.actor, now=self.clock.now())
        )

    def casefile(self, case: str | int) -> CaseFileVolume:
        """The whole case file as one PDF: cover and index (卷内目录) first, then every
        document of the case in the file's order, sealed ones as sealed, the others rendered
        again from the record and stored.

        :raises DocumentIncomplete: (exit 3) listing what each document misses (nothing
            is written).
        """
        from mediation.api.document_results import CaseFileVolume
        from mediation.documents.volume import bind

        with self.store.read() as conn:
            self._case(conn, Action.DOC_CASEFILE, case, acting=True)
        return CaseFileVolume.of(bind(self.store, case, actor=self.actor, now=self.clock.now()))

    def plan_documents(self, *, since: date | None = None, kind: str | None = None) -> list[Any]:
        """The documents :meth:`render_all` would render."""
        from mediation.documents import plan
        from mediation.engine.permissions import may_act_on, restricted, scope_row

        work = plan(self.store, since=since, kind=kind)
        with self.store.read() as conn:
            user = self._authorize(Action.DOC_RENDER_ALL, conn)
            if not restricted(user, acting=True):
                return work
            mine = {pid for pid in {w[0] for w in work} if may_act_on(user, scope_row(conn, pid))}
        return [w for w in work if w[0] in mine]

    def render_all(self, work: list[Any], *, jobs: int) -> Batch:
        """Render planned documents with ``jobs`` worker processes: iterate the result for
        one outcome each; its ``stop()`` ends the batch early, keeping what was made."""
        from mediation.documents import render_all

        self._authorize(Action.DOC_RENDER_ALL)
        return render_all(self.store, work, actor=self.actor, now=self.clock.now(), jobs=jobs)

    def sign(
        self, case: str | int, kind: str, *, passphrase: bytes, seq: int | None = None
    ) -> SignedDocument:
        """Seal a rendered document with the organisation's active key (PAdES); the
        result's ``content`` is the signed PDF."""
        from mediation.api.write_results import SignedDocument
        from mediation.documents.signing import sign_document

        with self.store.read() as conn:
            self._case(conn, Action.DOC_SIGN, case, acting=True)
        return SignedDocument.of(
            sign_document(
                self.store,
                str(case),
                kind,
                passphrase=passphrase,
                actor=self.actor,
                now=self.clock.now(),
                seq=seq,
            )
        )

    def verify_document(self, pdf: bytes, *, case: str | None = None) -> Verification:
        """Check a sealed PDF against the keys and documents on record."""
        from mediation.documents.signing import verify_document

        self._authorize(Action.DOC_VERIFY)
        return verify_document(self.store, pdf, now=self.clock.now(), case_ref=case)

    def record_signature(
        self,
        case: str | int,
        *,
        signer: str,
        signer_kind: str,
        method: str,
        signed_at: datetime | None = None,
        image: bytes | None = None,
    ) -> SignatureRecorded:
        """Record a signature on the case's agreement (a party's, the mediator's, the
        committee's seal); the last one makes the agreement take effect."""
        from mediation.api.write_results import SignatureRecorded
        from mediation.documents.signatures import record_signature
        from mediation.domain.taxonomy import SIGNATURE_METHODS, code_of

        # The method by its code or the label the documents print (按指印).
        method = code_of(SIGNATURE_METHODS, method) or method
        with self.store.read() as conn:
            self._case(conn, Action.DOC_RECORD_SIGNATURE, case, acting=True)
        return SignatureRecorded.of(
            record_signature(
                self.store,
                str(case),
                signer=signer,
                signer_kind=signer_kind,
                method=method,
                actor=self.actor,
                now=self.clock.now(),
                signed_at=signed_at,
                image=image,
            )
        )

    def init_key(
        self, org: str, *, passphrase: bytes, days: int, directory: Path | None = None
    ) -> SigningKey:
        """Create a committee's signing key and self-signed certificate."""
        from mediation.api.write_results import SigningKey
        from mediation.documents.keys import init_key

        self._authorize(Action.KEYS_INIT)
        return SigningKey.of(
            init_key(
                self.store,
                org,
                passphrase=passphrase,
                actor=self.actor,
                now=self.clock.now(),
                days=days,
                directory=directory,
            )
        )

    def import_key(
        self,
        org: str,
        p12: bytes,
        *,
        passphrase: bytes,
        source: str,
        directory: Path | None = None,
    ) -> SigningKey:
        """Record a CA-issued PKCS#12 as the committee's active signing key."""
        from mediation.api.write_results import SigningKey
        from mediation.documents.keys import import_key

        self._authorize(Action.KEYS_IMPORT)
        return SigningKey.of(
            import_key(
                self.store,
                org,
                p12,
                passphrase=passphrase,
                actor=self.actor,
                now=self.clock.now(),
                source=source,
                directory=directory,
            )
        )

    def keys(self) -> list[dict[str, Any]]:
        """The committees' signing certificates, active and retired."""
        from mediation.documents.keys import list_keys

        self._authorize(Action.KEYS_LIST)
        return list_keys(self.store)
