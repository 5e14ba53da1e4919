"""Moving a database: a lossless JSON-lines export and its import (SQLite ↔ PostgreSQL).

The export is one UTF-8 file, written and read as a stream (never the whole database in
memory):

- a header line ``{"format": "mediation-export", "version": 2, "schema": "0010",
  "masked": false, "tables": [...], "signature": {"alg": "hmac-sha256", "kdf": "scrypt",
  ..., "salt": "..."}}``;
- one line per row, ``{"table": "event", "row": {...}}``, table by table in foreign-key
  order (``metadata.sorted_tables``), each table's rows by primary key, so a row's parent
  comes before it. Values are kept exactly: timestamps as UTC ISO 8601 with microseconds,
  dates as ISO dates, binary columns as ``{"$b64": "..."}``, JSON columns as JSON;
- a trailer ``{"end": "mediation-export", "counts": {...}, "rows": N, "sha256": "...",
  "hmac": "..."}``: the row count of every table and the SHA-256 of every line before it
  (header included), so a truncated or damaged file is refused; and the signature, an
  HMAC of that SHA-256 under a key derived from a passphrase both ends know
  (:mod:`.signature`), so a file edited by someone without the passphrase (a row changed
  and the SHA-256 recomputed) is refused too.

The export reads one consistent snapshot (PostgreSQL: a REPEATABLE READ, read-only
transaction; SQLite: one read transaction), so it may run while others keep working.

Personal data is masked by default (domain.md §6): ID and phone numbers and addresses as
``case show`` masks them, the birth date left out, and the rendered documents' content
and signature images left empty, the disputes' ``party_key`` empty and the installation's
secret (``installation_secret``, the key of ``party_key``) left out. Such an export says
``"masked": true`` and cannot be imported. ``reveal=True`` writes everything, the secret
included, for a move, and records an ``export`` access event in the audit chain first (so
the export carries the record of itself).

A revealed export is signed (``MEDIATION_EXPORT_PASSPHRASE``, required); a masked one,
which cannot be imported, is not. The import refuses unless the target is at the
export's schema revision and holds no data; it checks the file and its signature, inserts every row with its id in ONE transaction (batched),
moves PostgreSQL's id sequences past the imported ids, and recomputes the audit chains
(:func:`mediation.storage.audit.verify`) before committing. The chains' columns are copied as
they are — rows are inserted plainly, not re-appended — so the imported history verifies
with the same head hash as the source. The target's own secret is replaced by the
source's, as its empty audit head is, so the imported ``party_key`` values and those made
after the move compare (repeat detection). Any error leaves the target as it was.

Layout: :mod:`.fileformat` (the format, reading a file), :mod:`.export`, :mod:`.load`
(the import); what callers use is importable from here.
"""

from __future__ import annotations

from mediation.storage.transfer.export import ExportSummary, export_file, export_jsonl
from mediation.storage.transfer.fileformat import FORMAT, SPECS, VERSION, check_file
from mediation.storage.transfer.load import BATCH_BYTES, BATCH_ROWS, ImportSummary, import_jsonl
from mediation.storage.transfer.signature import PASSPHRASE_ENV, passphrase_from_env

__all__ = [
    "BATCH_BYTES",
    "BATCH_ROWS",
    "FORMAT",
    "PASSPHRASE_ENV",
    "SPECS",
    "VERSION",
    "ExportSummary",
    "ImportSummary",
    "check_file",
    "export_file",
    "export_jsonl",
    "import_jsonl",
    "passphrase_from_env",
]
