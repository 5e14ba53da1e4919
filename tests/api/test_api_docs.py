"""The Python API page's example (docs/examples/web_handler.py) runs: a WSGI handler that
shows and advances a case as the authenticated user, and maps refusals to HTTP statuses."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from mediation import Mediation
from mediation.domain import intake
from mediation.domain.clock import FixedClock
from mediation.storage.store import Store
from tests.conftest import T0, intake_record

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "web_handler.py"


def _load_example() -> Any:
    spec = importlib.util.spec_from_file_location("web_handler", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _call(app: Any, method: str, path: str, user: str, body: bytes = b"") -> tuple[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "REMOTE_USER": user,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    seen: list[str] = []
    chunks = app(environ, lambda status, headers: seen.append(status))
    return seen[0], json.loads(b"".join(chunks) or b"null")


def test_the_docs_page_includes_the_example() -> None:
    page = (EXAMPLE.parent.parent / "api.md").read_text(encoding="utf-8")
    assert '--8<-- "docs/examples/web_handler.py"' in page


@pytest.fixture
def centre(store: Store) -> str:
    admin = Mediation(store, store.login(), clock=FixedClock(T0))
    admin.add_user("admin", name="管理员", roles=["admin"])
    admin.add_user("wang", name="王调解员", roles=["mediator"], organisation="桥头")
    admin.add_user("li", name="李调解员", roles=["mediator"], organisation="城关")
    Mediation(store, "wang", clock=FixedClock(T0)).open_case(
        intake.validate(intake_record(), source="test")
    )
    return store.url


def test_the_web_handler_shows_and_advances_as_the_authenticated_user(centre: str) -> None:
    app = _load_example().make_app(centre)
    status, shown = _call(app, "GET", "/cases/1", "wang")
    assert status == "200 OK"
    assert shown["proceeding"]["case_number"] == "（2026）桥头人调字第1号"
    assert shown["parties"][0]["id_number"] != "11010519491231002X"  # masked
    status, done = _call(app, "POST", "/cases/1/accept", "wang", b"{}")
    assert (status, done["state"]) == ("200 OK", "accepted")


def test_the_web_handler_refuses_what_the_library_refuses(centre: str) -> None:
    app = _load_example().make_app(centre)
    status, error = _call(app, "POST", "/cases/1/accept", "li", b"{}")
    assert status == "403 Forbidden" and error["exit_code"] == 9
    assert "属于其他调委会" in error["error"]
    status, error = _call(app, "GET", "/cases/99", "wang")
    assert status == "404 Not Found" and error["exit_code"] == 4
    status, error = _call(app, "POST", "/cases/1/archive", "wang", b"{}")
    assert status == "409 Conflict" and error["exit_code"] == 5
