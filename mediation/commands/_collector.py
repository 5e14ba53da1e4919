"""The garbage collector while a command starts.

Starting a command creates some 80,000 objects (typer, SQLAlchemy, the command's modules)
that nearly all live until it exits, and the collector, run after every 700 new ones,
walks them ~110 times to find almost nothing: ~25 ms of ``mediation case show``'s ~250.
So :func:`mediation.cli.main` pauses it (:func:`pause`) until the command has opened its
database (:func:`resume`, from :meth:`mediation.commands._common.Settings.api`), by
which point the heavy imports are done. What exists then is set aside for good
(``gc.freeze``: never walked again, the little start-up garbage among it freed at exit)
and collection resumes for the command's own work, so a long command (``scheduler run``,
``doc render-all``, ``demo``) collects as it always did. A command that never opens the
database is a short one; :func:`restore` turns the collector back on when ``main``
returns, for a caller that goes on running.

Only :func:`mediation.cli.main` pauses: the library, and the app run in-process (tests'
``CliRunner``), keep the collector as they found it.
"""

import gc

_paused = False


def pause() -> None:
    """Stop collecting until :func:`resume` or :func:`restore` (nothing when the collector
    is off already: whoever turned it off keeps it so)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Set aside what start-up made and collect again, if :func:`pause` stopped it."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def restore() -> None:
    """Collect again, if :func:`pause` stopped it and nothing resumed it since."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
