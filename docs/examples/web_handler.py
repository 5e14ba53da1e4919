"""A small web service embedding the engine: GET /cases/<case> shows a case as JSON,
POST /cases/<case>/<trigger> fires a trigger with the JSON body as its data.

The web server in front authenticates people and passes the login as REMOTE_USER (as
Apache's and nginx's auth modules do). The service vouches for that login, so it builds
``Mediation(store, login)`` itself (the command line's ``Mediation.connect`` instead takes
the OS account or the database login); the engine checks that user's roles and the case's
scope, exactly as it does for the command line. Run it with
``python docs/examples/web_handler.py centre.db`` and ``curl localhost:8000/cases/1``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import Any

from mediation import ExitCode, Mediation, MediationError
from mediation.storage.store import Store, resolve_url

#: The engine's exit codes as HTTP statuses.
HTTP_STATUS = {
    ExitCode.INVALID_INPUT: "422 Unprocessable Entity",
    ExitCode.NOT_FOUND: "404 Not Found",
    ExitCode.NOT_ALLOWED: "409 Conflict",
    ExitCode.CONFLICT: "409 Conflict",
    ExitCode.PERMISSION: "403 Forbidden",
}


def make_app(db: str) -> Callable[..., Iterable[bytes]]:
    """A WSGI application over the database ``db`` (one connection: serve it from one
    thread, or open a store per thread)."""
    store = Store(resolve_url(db))

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        parts = environ.get("PATH_INFO", "").strip("/").split("/")
        actor = environ.get("REMOTE_USER") or "anonymous"
        api = Mediation(store, actor)
        try:
            if environ["REQUEST_METHOD"] == "GET" and len(parts) == 2:
                result: Any = api.show_case(parts[1]).as_dict()
            elif environ["REQUEST_METHOD"] == "POST" and len(parts) == 3:
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                done = api.advance(parts[1], parts[2], payload=body)
                result = {"case_number": done.case_number, "state": done.to_state}
            else:
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"GET /cases/<case> or POST /cases/<case>/<trigger>\n"]
        except MediationError as exc:
            status = HTTP_STATUS.get(exc.exit_code, "400 Bad Request")
            error = {"error": exc.message, "hint": exc.hint, "exit_code": int(exc.exit_code)}
            start_response(status, [("Content-Type", "application/json; charset=utf-8")])
            return [json.dumps(error, ensure_ascii=False).encode()]
        start_response("200 OK", [("Content-Type", "application/json; charset=utf-8")])
        return [json.dumps(result, ensure_ascii=False, default=str).encode()]

    return app


if __name__ == "__main__":
    from wsgiref.simple_server import make_server

    make_server("127.0.0.1", 8000, make_app(sys.argv[1])).serve_forever()
