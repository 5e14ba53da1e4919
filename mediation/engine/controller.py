"""The :class:`Controller`: what a guard or effect sees of one firing.

Its own module so that the guards (:mod:`mediation.engine.guards`) and the machine that
calls them (:mod:`mediation.engine.machine`) both depend on it rather than on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass
class Controller:
    """What a guard or effect sees of one firing; the Machine's model for that firing."""

    state: str
    trigger: str
    proceeding: dict[str, Any]
    payload: dict[str, Any]
    conn: Connection
    now: datetime
    today: date
    actor: str
    rules: dict[str, Any] = field(default_factory=dict)  # kind -> DeadlineRule of the flow
    cal: Any = None  # the WorkCalendar in force
    facts: dict[str, Any] = field(default_factory=dict)
    updates: dict[str, Any] = field(default_factory=dict)
    deadline_changes: list[tuple[str, date]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
