"""The schema: SQLModel tables for disputes, their proceedings, parties and history.

A *dispute* (纠纷) keeps one identity across every *proceeding* (one run of one flow at
one organisation); the append-only *event* table is the history; *deadline* rows are the
statutory clocks that the scheduler and the overdue report read. Changes to this file
need an Alembic revision in ``mediation/storage/migrations/versions``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from mediation.storage._types import JSONText, Timestamp


def _ts(nullable: bool = False) -> Any:
    return Field(default=None, sa_type=Timestamp, nullable=nullable)


class Organisation(SQLModel, table=True, defer_build=True):
    """A mediation committee, centre, court, bureau or police station."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=40, description="short code used in case numbers")
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40, description="taxonomy.ORGANISATION_KINDS")
    level: str = Field(max_length=20, description="taxonomy.LEVELS")
    parent_id: int | None = Field(default=None, foreign_key="organisation.id")
    periods: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSONText, nullable=False, server_default="{}"),
        description="local periods for rules the law leaves to local rules: flow.kind -> [n, unit]",
    )
    court_code: str | None = Field(
        default=None,
        max_length=20,
        description="a court's code (法院代字, e.g. 浙0681) its case numbers are built from",
    )
    created_at: datetime = _ts()


class User(SQLModel, table=True, defer_build=True):
    """Someone who acts on cases; every event names one."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, max_length=80)
    name: str = Field(default="", max_length=100)
    roles: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSONText, nullable=False, server_default="[]"),
        description="taxonomy.ROLES held (mediator, staff, supervisor, admin)",
    )
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    active: bool = Field(default=True)
    created_at: datetime = _ts()


class Dispute(SQLModel, table=True, defer_build=True):
    """One dispute (纠纷): the identity every proceeding and hand-off shares."""

    __tablename__ = "dispute"
    __table_args__ = (Index("ix_dispute_party_key", "party_key", "dispute_type", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    summary: str = Field(default="", sa_type=Text)
    claims: str = Field(default="", sa_type=Text, description="申请事项")
    dispute_type: str = Field(max_length=40, description="taxonomy.DISPUTE_TYPES")
    channel: str = Field(max_length=40, description="taxonomy.CHANNELS")
    referring_organ: str | None = Field(default=None, max_length=200)
    referral_ref: str | None = Field(default=None, max_length=100)
    risk_level: str = Field(default="green", max_length=10)
    received_at: datetime = _ts()
    created_at: datetime = _ts()
    created_by: str = Field(max_length=80)
    party_key: str | None = Field(
        default=None,
        max_length=32,
        description="personal.party_key of the parties, an HMAC under installation_secret "
        "(repeat detection; never shown)",
    )


class Party(SQLModel, table=True, defer_build=True):
    """申请人 / 被申请人 / 第三人 of a dispute: a person or an organisation."""

    __tablename__ = "party"
    __table_args__ = (
        Index("ix_party_dispute", "dispute_id"),
        # Finding a party's cases (``case list --id-number/--phone``) and the same parties'
        # open cases at intake: exact matches, by index.
        Index("ix_party_id_number", "id_number"),
        Index("ix_party_phone", "phone"),
        Index("ix_party_name", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id")
    role: str = Field(max_length=20, description="taxonomy.PARTY_ROLES")
    kind: str = Field(default="person", max_length=20, description="taxonomy.PARTY_KINDS")
    ordinal: int = Field(default=0)
    name: str = Field(max_length=200)
    gender: str | None = Field(default=None, max_length=10)
    ethnicity: str | None = Field(default=None, max_length=40)
    birth_date: date | None = None
    id_type: str | None = Field(default=None, max_length=40)
    id_number: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=300)
    occupation: str | None = Field(default=None, max_length=100)
    legal_representative: str | None = Field(default=None, max_length=100)


class Proceeding(SQLModel, table=True, defer_build=True):
    """One run of one flow for a dispute at one organisation (a case, 案件)."""

    __tablename__ = "proceeding"
    __table_args__ = (
        # Each register (人调, 医调, 民初, 民特 ...) numbers from 1 per organisation and year.
        UniqueConstraint(
            "organisation_id", "case_year", "case_word", "case_serial", name="uq_case_serial"
        ),
        Index("ix_proceeding_dispute", "dispute_id"),
        Index("ix_proceeding_state", "flow", "state"),
        # ``case list``: the latest filed first, a page at a time.
        Index("ix_proceeding_opened", "opened_at", "id"),
        # Covering the statistics report: it counts cases in this order without a sort.
        Index(
            "ix_proceeding_report",
            "flow",
            "state",
            "outcome",
            "level",
            "opened_at",
            "organisation_id",
            "parent_id",
            "dispute_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id")
    parent_id: int | None = Field(default=None, foreign_key="proceeding.id")
    handoff_reason: str | None = Field(default=None, sa_type=Text)
    flow: str = Field(max_length=40)
    state: str = Field(max_length=40)
    organisation_id: int = Field(foreign_key="organisation.id")
    level: str = Field(max_length=20)
    case_year: int
    case_word: str = Field(
        max_length=20, description="the register its number is in: 人调, 医调, 民初, 民特 ..."
    )
    case_serial: int
    case_number: str = Field(unique=True, max_length=80)
    application_mode: str = Field(default="written", max_length=20)
    mediator: str | None = Field(default=None, max_length=100, description="responsible mediator")
    mediators: list[str] = Field(default_factory=list, sa_column=Column(JSONText, nullable=False))
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONText, nullable=False))
    outcome: str | None = Field(default=None, max_length=40, description="taxonomy.OUTCOMES")
    opened_at: datetime = _ts()
    closed_at: datetime | None = _ts(nullable=True)
    updated_at: datetime = _ts()
    version: int = Field(default=1, description="bumped by every transition; optimistic lock")


class CaseCounter(SQLModel, table=True, defer_build=True):
    """The last case serial issued by an organisation in a year in one register (the case
    number's word: 人调, 医调, 民初, 民特 ...)."""

    __tablename__ = "case_counter"

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    year: int = Field(primary_key=True)
    word: str = Field(primary_key=True, max_length=20)
    last: int = 0


class Event(SQLModel, table=True, defer_build=True):
    """An append-only record of one transition (or a recorded action without one)."""

    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("proceeding_id", "seq", name="uq_event_seq"),
        Index("ix_event_dispute", "dispute_id"),
        Index("ix_event_dispute_chain", "dispute_id", "id"),
        UniqueConstraint("chain_seq", name="uq_event_chain_seq"),
        # The official statistics: the steps of a kind taken in a reporting period
        # (agreements, terminations, prevention records), found without reading every event.
        Index("ix_event_trigger_time", "trigger", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id")
    proceeding_id: int = Field(foreign_key="proceeding.id")
    seq: int = Field(description="1, 2, 3... within the proceeding; equals its version")
    trigger: str = Field(max_length=60)
    from_state: str | None = Field(default=None, max_length=40)
    to_state: str = Field(max_length=40)
    actor: str = Field(max_length=80)
    note: str | None = Field(default=None, sa_type=Text)
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONText, nullable=False)
    )
    occurred_at: datetime = _ts()
    # The hash chains (mediation.storage.audit): set in the writing transaction, just before commit.
    chain_seq: int | None = Field(default=None, description="position in the database-wide chain")
    prev_hash: str | None = Field(
        default=None, max_length=64, description="hash of the dispute's previous event"
    )
    hash: str | None = Field(default=None, max_length=64, description="sha256 of this event")


class Deadline(SQLModel, table=True, defer_build=True):
    """A statutory clock running on a proceeding, with its legal basis."""

    __tablename__ = "deadline"
    __table_args__ = (
        Index("ix_deadline_status_due", "status", "due"),
        Index("ix_deadline_proceeding", "proceeding_id"),
        # Covering the statistics report's clocks, looked up from their cases.
        Index(
            "ix_deadline_clock",
            "proceeding_id",
            "kind",
            "duty",
            "status",
            "starts_on",
            "due",
            "closed_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    proceeding_id: int = Field(foreign_key="proceeding.id")
    kind: str = Field(max_length=60)
    label: str = Field(max_length=100)
    period: str = Field(max_length=40, description="as the law states it, e.g. 1个月")
    legal_basis: str = Field(max_length=300)
    duty: bool = Field(default=True, description="an obligation of the organisation (overdue-able)")
    starts_on: date
    due: date
    provisional: bool = Field(default=False, description="due rests on a year without calendar")
    status: str = Field(default="open", max_length=20, description="taxonomy.DEADLINE_STATUSES")
    closed_at: datetime | None = _ts(nullable=True)
    extensions: int = 0
    paused_on: date | None = Field(default=None, description="clock stopped since (鉴定 etc.)")
    counted_from: date | None = Field(
        default=None, description="the due date is period_count period_unit from this day"
    )
    period_count: int | None = None
    period_unit: str | None = Field(default=None, max_length=20)
    reminded_at: datetime | None = _ts(nullable=True)
    overdue_at: datetime | None = _ts(nullable=True)


class Outbox(SQLModel, table=True, defer_build=True):
    """A notification the scheduler decided on, delivered by the notifiers.

    One row per (deadline, kind, due date): the decision is made exactly once, whatever the number
    of scheduler runs or machines. A dispatcher claims a row (``claimed_at``) before
    sending it, so two never send the same notice; a claim older than the lease (a
    dispatcher that died mid-send) is taken over, and delivery is retried until
    ``sent_at`` is set.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("deadline_id", "kind", "due", name="uq_outbox_once"),
        Index("ix_outbox_unsent", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, description="reminder | overdue | consequence")
    deadline_id: int = Field(foreign_key="deadline.id")
    due: date = Field(description="the deadline's due date the notice was decided for")
    proceeding_id: int = Field(foreign_key="proceeding.id")
    organisation_id: int = Field(foreign_key="organisation.id")
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=Text)
    created_at: datetime = _ts()
    claimed_at: datetime | None = _ts(nullable=True)
    sent_at: datetime | None = _ts(nullable=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)


class CalendarYear(SQLModel, table=True, defer_build=True):
    """A year's holiday calendar loaded from a data file (``mediation calendar load``)."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    source: str = Field(default="", max_length=300, description="the State Council notice")
    holidays: list[str] = Field(default_factory=list, sa_column=Column(JSONText, nullable=False))
    workdays: list[str] = Field(default_factory=list, sa_column=Column(JSONText, nullable=False))
    loaded_at: datetime = _ts()
    loaded_by: str = Field(max_length=80)


class DisputeMerge(SQLModel, table=True, defer_build=True):
    """The same dispute reported twice, merged: ``merged`` now belongs with ``kept``.

    Both intake records stay as they were; a wrong merge is split again by setting
    ``split_at`` (the row stays, so the history of merging and splitting is kept).
    """

    __tablename__ = "dispute_merge"
    __table_args__ = (Index("ix_dispute_merge_kept", "kept_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kept_id: int = Field(foreign_key="dispute.id")
    merged_id: int = Field(foreign_key="dispute.id")
    reason: str = Field(sa_type=Text)
    merged_by: str = Field(max_length=80)
    merged_at: datetime = _ts()
    split_by: str | None = Field(default=None, max_length=80)
    split_at: datetime | None = _ts(nullable=True)
    split_reason: str | None = Field(default=None, sa_type=Text)


class AccessEvent(SQLModel, table=True, defer_build=True):
    """An action that changes no case but must be accounted for: a reveal of personal
    data, a user or role change, a key created. Chained like the case events."""

    __tablename__ = "access_event"
    __table_args__ = (UniqueConstraint("chain_seq", name="uq_access_event_chain_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=40, description="reveal | user_add | user_grant | ...")
    actor: str = Field(max_length=80)
    subject: str = Field(default="", max_length=200, description="what it was about")
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONText, nullable=False))
    occurred_at: datetime = _ts()
    chain_seq: int | None = Field(default=None)
    hash: str | None = Field(default=None, max_length=64)


class AuditHead(SQLModel, table=True, defer_build=True):
    """The head of the database-wide hash chain over every event and access event."""

    __tablename__ = "audit_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    hash: str = Field(max_length=64)
    updated_at: datetime = _ts()


class InstallationSecret(SQLModel, table=True, defer_build=True):
    """The installation's secret (one row): the HMAC key of ``dispute.party_key``
    (:func:`mediation.storage.secret.installation_secret`). Never shown, never in a masked
    export; a revealed export carries it to the database it moves to."""

    __tablename__ = "installation_secret"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    secret: str = Field(max_length=64, description="32 random bytes, hex")
    created_at: datetime = _ts()


class InstallationSetting(SQLModel, table=True, defer_build=True):
    """A setting of the installation fixed when its database was made, written once:
    ``training`` (``mediation init --training``, ``demo``): a training database, where a
    pinned clock (``MEDIATION_NOW``) is honoured and every document says 「培训演示」
    (:mod:`mediation.storage.settings`)."""

    __tablename__ = "installation_setting"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
    created_at: datetime = _ts()


class FlowEdge(SQLModel, table=True, defer_build=True):
    """A step the flows allow: (flow, trigger, from state, to state); an entry into a flow
    has ``source`` ``""``, an in-place action ``source == dest``. Derived from the code by
    ``db upgrade`` (:mod:`mediation.storage.flow_edges`) and read by the trigger that
    refuses an event for a step its case's flow does not have (revision 0019)."""

    __tablename__ = "flow_edge"

    flow: str = Field(primary_key=True, max_length=40)
    trigger: str = Field(primary_key=True, max_length=60)
    source: str = Field(primary_key=True, max_length=60)
    dest: str = Field(primary_key=True, max_length=60)


class Document(SQLModel, table=True, defer_build=True):
    """A rendered document of a case file (卷宗): the PDF bytes and their hash.

    ``seq`` numbers repeated documents of one kind (one 调查记录 per investigation). A
    signed document is final: it is never re-rendered and nothing is stamped on it.
    """

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("proceeding_id", "kind", "seq", name="uq_document_kind_seq"),
        Index("ix_document_rendered_at", "rendered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    proceeding_id: int = Field(foreign_key="proceeding.id")
    dispute_id: int = Field(foreign_key="dispute.id")
    kind: str = Field(max_length=40, description="mediation.documents KINDS")
    seq: int = 1
    title: str = Field(max_length=200)
    status: str = Field(default="rendered", max_length=20, description="rendered | signed")
    sha256: str = Field(max_length=64, description="sha256 of content, as stored")
    size: int = 0
    pages: int = 0
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    rendered_at: datetime = _ts()
    rendered_by: str = Field(max_length=80)
    signed_at: datetime | None = _ts(nullable=True)
    signed_by: str | None = Field(default=None, max_length=80)
    key_fingerprint: str | None = Field(default=None, max_length=64)


class Signature(SQLModel, table=True, defer_build=True):
    """One signature on a case document (人民调解法 art. 29): a party, the mediator, or the
    committee's seal; the agreement takes effect when the last one is recorded."""

    __tablename__ = "signature"
    __table_args__ = (Index("ix_signature_proceeding", "proceeding_id", "document_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    proceeding_id: int = Field(foreign_key="proceeding.id")
    document_kind: str = Field(default="agreement", max_length=40)
    signer_kind: str = Field(max_length=20, description="party | mediator | committee")
    party_id: int | None = Field(default=None, foreign_key="party.id")
    signer_name: str = Field(max_length=100)
    method: str = Field(max_length=20, description="sign 签名 | seal 盖章 | fingerprint 按指印")
    signed_at: datetime = _ts()
    image: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    image_type: str | None = Field(default=None, max_length=40)
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = _ts()


class SigningKey(SQLModel, table=True, defer_build=True):
    """A committee's signing certificate; the private key stays in a file outside the
    database (``key_path``, a PKCS#12 protected by a passphrase)."""

    __tablename__ = "signing_key"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    fingerprint: str = Field(unique=True, max_length=64, description="sha256 of the DER cert")
    subject: str = Field(max_length=300)
    certificate: str = Field(sa_type=Text, description="PEM, with any CA chain after it")
    key_path: str = Field(max_length=500)
    not_before: datetime = _ts()
    not_after: datetime = _ts()
    active: bool = True
    created_at: datetime = _ts()
    created_by: str = Field(max_length=80)


class Sweep(SQLModel, table=True, defer_build=True):
    """A dispute sweep (矛盾纠纷排查) a committee or its grid workers held: where, when, by
    whom, how many disputes it found and how many of them were opened as cases. Counted by
    the official statistics (sweeps held, disputes found); each one recorded in the chain."""

    __tablename__ = "sweep"
    __table_args__ = (Index("ix_sweep_held", "held_on", "organisation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    held_on: date = Field(description="the business date the sweep was held")
    held_by: str = Field(max_length=80, description="login of the user who held and filed it")
    area: str = Field(default="", max_length=300, description="scope or area swept")
    found: int = Field(default=0, description="disputes found")
    opened: int = Field(default=0, description="of them, opened as cases")
    cases: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSONText, nullable=False, server_default="[]"),
        description="case numbers of the cases opened from it (when given)",
    )
    note: str = Field(default="", sa_type=Text)
    recorded_at: datetime = _ts()


# Runtime code uses the Core tables generated from these classes: mediation/storage/_tables.py
# (see mediation/storage/_tablegen.py).

metadata = SQLModel.metadata
