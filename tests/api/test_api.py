"""The library API: permissions and scope checked in the library, for any client.

These tests call :class:`mediation.Mediation` directly, as a web service or a script
would, on both databases; nothing here goes through the command line.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

import mediation
from mediation import Mediation, PermissionDenied
from mediation.domain import intake
from mediation.domain.clock import FixedClock
from mediation.engine.permissions import ROLES_FOR, Action
from mediation.storage._tables import access_event_table, event_table, proceeding_table
from mediation.storage.store import Store
from tests.conftest import T0, intake_record

#: Methods that touch no data of anyone's: opening and closing the session, the schema.
_UNCHECKED = {"connect", "close", "status"}


def _public_methods() -> dict[str, object]:
    return {
        name: member
        for name, member in inspect.getmembers(Mediation, inspect.isfunction)
        if not name.startswith("_") and name not in _UNCHECKED
    }


def test_every_exported_name_is_documented() -> None:
    assert "Mediation" in mediation.__all__
    undocumented = [
        name for name in mediation.__all__ if not inspect.getdoc(getattr(mediation, name))
    ]
    assert undocumented == []
    methods = [n for n, m in _public_methods().items() if not inspect.getdoc(m)]
    assert methods == [], "API methods without a docstring"


def test_no_api_method_returns_a_bare_dict() -> None:
    """Every action returns a typed result (a dataclass, documented and exported); lists of
    rows may stay dictionaries of labelled values."""
    untyped = {}
    for name, method in inspect.getmembers(Mediation, inspect.isfunction):
        if name.startswith("_"):
            continue
        returns = inspect.signature(method).return_annotation
        if returns is inspect.Signature.empty:
            untyped[name] = "no return annotation"
        elif str(returns).split("[", 1)[0].strip() in {"dict", "Dict", "Mapping", "MutableMapping"}:
            untyped[name] = str(returns)
    assert untyped == {}


def test_every_result_is_a_frozen_documented_export() -> None:
    import mediation.api
    from mediation.api import (
        admin_results,
        detail_results,
        document_results,
        results,
        sweep_results,
        write_results,
    )

    modules = (
        detail_results,
        results,
        admin_results,
        document_results,
        sweep_results,
        write_results,
    )
    classes = [
        c
        for module in modules
        for _, c in inspect.getmembers(module, inspect.isclass)
        if c.__module__ == module.__name__ and not c.__name__.startswith("_")
    ]
    assert len(classes) >= 17
    for cls in classes:
        assert cls.__name__ in mediation.__all__, f"{cls.__name__} is not exported"
        assert cls.__name__ in mediation.api.__all__, f"{cls.__name__} not in mediation.api"
        assert getattr(mediation, cls.__name__) is cls
        assert getattr(mediation.api, cls.__name__) is cls
        assert cls.__dataclass_params__.frozen, f"{cls.__name__} is not frozen"  # type: ignore[attr-defined]


def test_every_api_method_checks_a_declared_action() -> None:
    """Each public method names the Action it performs (``self._authorize(Action.X)``,
    ``self._case(conn, Action.X, …)``); every Action has its roles declared."""
    used: set[str] = set()
    for name, method in _public_methods().items():
        source = textwrap.dedent(inspect.getsource(method))  # type: ignore[arg-type]
        actions = {
            node.attr
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Action"
        }
        assert actions, f"Mediation.{name} checks no permission"
        used |= actions
    assert set(ROLES_FOR) == set(Action)
    # Every action is checked by some method, except REVEAL (checked inside the reading
    # methods, by Session._reveal) and those that read no database: the declared flows
    # and the grants SQL.
    assert {a.name for a in Action} - used == {
        "REVEAL",
        "DB_STATUS",
        "DB_GRANTS",
        "WORKFLOW_LIST",
        "WORKFLOW_SHOW",
    }


def test_no_command_module_checks_permissions() -> None:
    """The command line parses, calls the API and renders: it never decides who may."""
    root = Path(mediation.__file__).parent
    modules = [root / "cli.py", *sorted((root / "commands").glob("*.py"))]
    for path in modules:
        text = path.read_text(encoding="utf-8")
        for word in ("permissions", "authorize", "require_role", "may_act_on", "COMMAND_ROLES"):
            assert word not in text, f"{path.name} mentions {word}"


@pytest.fixture
def staffed(store: Store) -> Store:
    """An admin; a mediator of 桥头 (wang) and one of 城关 (li); a supervisor; one case."""
    admin = Mediation(store, store.login(), clock=FixedClock(T0))
    admin.add_user("admin", name="管理员", roles=["admin"])
    admin.add_user("wang", name="王调解员", roles=["mediator"], organisation="桥头")
    admin.add_user("li", name="李调解员", roles=["mediator"], organisation="城关")
    admin.add_user("zhou", name="周督办", roles=["supervisor"], organisation="青山")
    Mediation(store, "wang", clock=FixedClock(T0)).open_case(
        intake.validate(intake_record(), source="test")
    )
    return store


def _counts(store: Store) -> tuple[int, int, int]:
    with store.read() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (event_table, access_event_table, proceeding_table)
        )


def test_a_mediator_acts_on_their_own_committees_case(staffed: Store) -> None:
    api = Mediation(staffed, "wang", clock=FixedClock(T0))
    result = api.advance(1, "accept")
    assert (result.to_state, result.case_number) == ("accepted", "（2026）桥头人调字第1号")
    assert api.show_case(1).proceeding["state"] == "accepted"
    assert [e["trigger"] for e in api.history(1).events][-1] == "accept"


def test_another_committees_mediator_is_refused_in_the_library(staffed: Store) -> None:
    before = _counts(staffed)
    li = Mediation(staffed, "li", clock=FixedClock(T0))
    with pytest.raises(PermissionDenied, match="属于其他调委会"):
        li.advance("（2026）桥头人调字第1号", "accept")
    with pytest.raises(PermissionDenied):
        li.show_case(1)
    with pytest.raises(PermissionDenied, match="属于其他调委会"):
        li.show_case(1, reveal=True)
    with pytest.raises(
        PermissionDenied, match="需要系统管理员（admin）或督办/主管（supervisor）角色"
    ):
        Mediation(staffed, "wang", clock=FixedClock(T0)).show_case(1, reveal=True)
    with pytest.raises(PermissionDenied, match="督办"):
        li.reassign(1, ["李调解员"], reason="回避")
    with pytest.raises(PermissionDenied):
        Mediation(staffed, "nobody", clock=FixedClock(T0)).list_cases()
    assert _counts(staffed) == before  # nothing written by any refusal


def test_a_reveal_is_allowed_to_a_supervisor_and_recorded(staffed: Store) -> None:
    zhou = Mediation(staffed, "zhou", clock=FixedClock(T0))
    masked = zhou.show_case(1)
    shown = zhou.show_case(1, reveal=True)
    assert masked.parties[0]["id_number"] != shown.parties[0]["id_number"]
    assert shown.parties[0]["id_number"] == "11010519491231002X"
    with staffed.read() as conn:
        rows = conn.execute(
            select(access_event_table.c.action, access_event_table.c.actor).where(
                access_event_table.c.action == "reveal"
            )
        ).all()
    assert [(r.action, r.actor) for r in rows] == [("reveal", "zhou")]
