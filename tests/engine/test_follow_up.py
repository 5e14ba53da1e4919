"""A follow-up visit's (回访) codes: performance is required and satisfaction optional, and
both must be one of their codes, or the statistics would silently not count them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mediation.engine import cases
from mediation.errors import MediationError
from mediation.storage._tables import event_table
from mediation.storage.store import Store
from tests.conftest import T0
from tests.documents.test_documents import walk


def _agreed(store: Store) -> int:
    pid, _ = walk(store, "peoples", "agreed_written", start=T0)
    return pid


def _events(store: Store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(event_table)).scalar_one()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"performance": "done"}, "performance"),
        ({"performance": "performed", "satisfaction": "满意"}, "satisfaction"),
        ({"performance": "performed", "satisfaction": "very"}, "satisfaction"),
    ],
)
def test_a_follow_up_with_an_unknown_code_is_refused(
    store: Store, payload: dict[str, str], field: str
) -> None:
    pid = _agreed(store)
    before = _events(store)
    later = T0 + timedelta(days=10)
    with pytest.raises(MediationError) as refused:
        cases.advance(
            store,
            pid,
            "follow_up",
            actor="周明",
            now=later,
            payload={**payload, "summary": "已回访"},
        )
    message = str(refused.value)
    option = {"performance": "performed（已履行）", "satisfaction": "satisfied（满意）"}[field]
    assert f"{field} 为 {payload[field]!r}" in message and option in message, message
    assert _events(store) == before


@pytest.mark.parametrize("satisfaction", ["satisfied", "basically_satisfied", "dissatisfied", ""])
def test_a_follow_up_with_known_codes_is_recorded(store: Store, satisfaction: str) -> None:
    pid = _agreed(store)
    payload = {
        "performance": "partly_performed",
        "summary": "部分履行",
        "satisfaction": satisfaction,
    }
    done = cases.advance(
        store, pid, "follow_up", actor="周明", now=T0 + timedelta(days=10), payload=payload
    )
    assert done.to_state == "followed_up"
