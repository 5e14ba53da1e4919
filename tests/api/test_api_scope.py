"""Every read and write is scoped in the library (issue 13, point 6), on both databases:
lists, disputes, opening and importing cases, rendering documents; assignment is by login;
a mediator may see the personal data of the cases assigned to them, recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mediation import Mediation, PermissionDenied
from mediation.domain import intake
from mediation.domain.clock import FixedClock
from mediation.storage._tables import access_event_table, dispute_table, proceeding_table
from mediation.storage.store import Store
from tests.conftest import T0, intake_record


def _as(store: Store, login: str) -> Mediation:
    return Mediation(store, login, clock=FixedClock(T0))


@pytest.fixture
def centre(store: Store) -> Store:
    """Mediators wang (桥头) and li (城关), a supervisor, staff of 桥头 and of 城关, and
    wang's namesake 王调解员 at 城关 (login wang2); one 桥头 case, accepted."""
    admin = _as(store, store.login())
    admin.add_user("admin", name="管理员", roles=["admin"])
    admin.add_user("wang", name="王调解员", roles=["mediator"], organisation="桥头")
    admin.add_user("wang2", name="王调解员", roles=["mediator"], organisation="城关")
    admin.add_user("li", name="李调解员", roles=["mediator"], organisation="城关")
    admin.add_user("zhou", name="周督办", roles=["supervisor"], organisation="青山")
    admin.add_user("chen", name="陈工作人员", roles=["staff"], organisation="城关")
    admin.add_user("qian", name="钱工作人员", roles=["staff"], organisation="桥头")
    wang = _as(store, "wang")
    wang.open_case(intake.validate(intake_record(), source="test"))
    wang.advance(1, "accept")
    return store


def _count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_case_list_shows_a_mediator_their_own_and_assigned_cases(centre: Store) -> None:
    numbers = {c.case_number for c in _as(centre, "wang").list_cases()}
    assert numbers == {"（2026）桥头人调字第1号"}
    assert _as(centre, "li").list_cases() == []
    assert len(_as(centre, "zhou").list_cases()) == 1  # a supervisor sees every case
    assert len(_as(centre, "chen").list_cases()) == 1  # reading is open to other roles
    _as(centre, "wang").advance(
        1, "assign", payload={"mediators": ["li"], "selection": "designated"}
    )
    assert [c.id for c in _as(centre, "li").list_cases()] == [1]  # assigned by login
    assert _as(centre, "wang2").list_cases() == []


def test_dispute_show_is_scoped_like_case_show(centre: Store) -> None:
    assert _as(centre, "wang").dispute("1").dispute["id"] == 1
    with pytest.raises(PermissionDenied, match="都属于其他调委会"):
        _as(centre, "li").dispute("1")
    with pytest.raises(PermissionDenied):
        _as(centre, "li").dispute("case:1", reveal=True)
    # The training mark, the runner and 7 users added, no reveal.
    assert _count(centre, access_event_table) == 9


def test_a_mediator_opens_cases_only_in_their_own_committee(centre: Store) -> None:
    before = _count(centre, dispute_table)
    with pytest.raises(PermissionDenied, match="只能在本调委会（城关）立案"):
        _as(centre, "li").open_case(intake.validate(intake_record(), source="test"))
    assert _count(centre, dispute_table) == before
    opened = _as(centre, "li").open_case(
        intake.validate(intake_record(organisation="城关"), source="test")
    )
    assert opened.case_number == "（2026）城关人调字第1号"
    # A supervisor opens anywhere.
    _as(centre, "zhou").open_case(intake.validate(intake_record(), source="test"))


def test_a_mediator_imports_only_into_their_own_committee(centre: Store, tmp_path: Path) -> None:
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([intake_record(), intake_record(organisation="城关")]), "utf-8")
    before = _count(centre, proceeding_table)
    result = _as(centre, "li").import_intake(rows, channel="hotline")
    assert [(p.row, p.field) for p in result.problems] == [(1, "organisation")]
    assert "只能导入本调委会（城关）的案件" in result.problems[0].problem
    assert _count(centre, proceeding_table) == before  # all or nothing
    assert len(_as(centre, "zhou").import_intake(rows, channel="hotline").imported) == 2


def test_staff_render_only_their_own_committees_documents(centre: Store) -> None:
    with pytest.raises(PermissionDenied, match="属于其他调委会"):
        _as(centre, "chen").render(1, "registration")
    assert _as(centre, "chen").plan_documents() == []
    planned = _as(centre, "qian").plan_documents()
    assert planned and {pid for pid, _, _ in planned} == {1}


def test_a_namesake_gets_no_access_through_a_display_name(centre: Store) -> None:
    # The case is assigned by display name (as the demo and older data do): the namesake
    # of another committee matches the name but not the login.
    _as(centre, "wang").advance(
        1, "assign", payload={"mediators": ["王调解员"], "selection": "designated"}
    )
    with pytest.raises(PermissionDenied, match="属于其他调委会"):
        _as(centre, "wang2").advance(1, "inform")
    with pytest.raises(PermissionDenied):
        _as(centre, "wang2").show_case(1)


def test_a_mediator_sees_the_personal_data_of_their_assigned_cases(centre: Store) -> None:
    with pytest.raises(PermissionDenied, match="需要"):
        _as(centre, "wang").show_case(1, reveal=True)  # their committee's, not assigned
    _as(centre, "wang").advance(
        1, "assign", payload={"mediators": ["wang"], "selection": "designated"}
    )
    shown = _as(centre, "wang").show_case(1, reveal=True)
    assert shown.parties[0]["phone"] == "13812345678"
    with centre.read() as conn:
        reveals = conn.execute(
            select(access_event_table.c.actor).where(access_event_table.c.action == "reveal")
        ).scalars()
        assert list(reveals) == ["wang"]
