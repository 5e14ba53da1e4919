"""Who is acting, from something the caller cannot fake on the command line.

- **PostgreSQL**: the database login (``session_user``): every person has their own login
  (``mediation user add`` makes it: :mod:`mediation.storage.pgroles`), and the server
  authenticates it (password, peer, certificate: whatever pg_hba.conf says). The database
  holds a person's login to it too (revision 0015): row-level security scopes it to its
  user's cases, and the events it records must name it and carry the server's time.
- **SQLite** (one machine): the process's operating-system account, looked up from
  ``os.getuid()`` in the password database. Environment variables (``USER``, ``LOGNAME``,
  ``MEDIATION_USER``) are never read for this: anyone can set them.

An admin may still act for another user (``--as``, for support); that is checked and
recorded by :mod:`mediation.api`, never silent.
"""

from __future__ import annotations

import os

from sqlalchemy import Connection, text

from mediation.storage._sql import Prepared


def os_login() -> str:
    """The operating-system account this process runs as."""
    if os.name == "nt":  # pragma: no cover - Windows
        import ctypes

        size = ctypes.c_uint32(257)
        buffer = ctypes.create_unicode_buffer(size.value)
        if ctypes.windll.advapi32.GetUserNameW(buffer, ctypes.byref(size)):  # type: ignore[attr-defined]
            return buffer.value
        return "unknown"
    import pwd

    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # an account with no entry (some containers)
        return f"uid{uid}"


_SESSION_USER = Prepared(text("SELECT session_user"))


def established_login(conn: Connection) -> str:
    """The acting login on ``conn``'s database: the database login on PostgreSQL, the
    operating-system account on SQLite."""
    if conn.dialect.name == "postgresql":
        return str(_SESSION_USER(conn, {}).scalar_one())
    return os_login()
