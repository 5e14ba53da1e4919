"""The transcripts of "A mediator's day" (``docs/mediators-day.md``), made by running the day.

:data:`DAY` lists the day's commands, each with the moment ``MEDIATION_NOW`` pins and the
transcript block (a generated section of the page) it is shown in; a step without a block
runs without being shown (the second case the supervisor's reports find). :func:`transcripts`
runs them all, in order, through the real command line (typer's runner, in this process)
against a new training database in a temporary folder, and returns each block's Markdown.

What differs from one machine to the next is normalised, so the page is the same wherever
it is made: the temporary folder reads ``/tmp/walk``, the account running it ``zhouming``
(the page's first admin), and files of the repository are named from its root
(``data/examples/intake.toml``).
"""

from __future__ import annotations

import functools
import re
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: The repository root, whose ``data/examples`` files the day reads.
ROOT = Path(__file__).resolve().parents[2]
#: The folder the transcript says the database is in.
SHOWN_FOLDER = "/tmp/walk"
#: The OS account the transcript says ran the day.
SHOWN_LOGIN = "zhouming"
_DAY = "2026-03-02"


@dataclass(frozen=True)
class Step:
    """One command of the day: when it runs, what it runs, and the block that shows it."""

    at: str
    command: str
    block: str | None


def _steps() -> tuple[Step, ...]:
    init = (
        "init --training --org-code 城关 --org-name 城关镇人民调解委员会 --level township"
        " --role mediator --role staff --role supervisor"
    )
    session_1 = (
        "case advance 1 record_session --set kind=investigation"
        " --set summary=现场查看共用通道，杂物约占通道一半宽度 --set place=桥头村东巷共用通道"
    )
    session_2 = (
        "case advance 1 record_session --set kind=mediation"
        " --set summary=双方到场协商，李四同意清理杂物 --set place=桥头村村委会调解室"
    )
    day = [
        ("08:30", init, "setup"),
        ("08:35", "org add 桥头 桥头村人民调解委员会 --level village --parent 城关", "setup"),
        ("09:30", "case open --from data/examples/intake.toml", "open"),
        ("09:32", "case next 1", "next"),
        ("09:35", "case advance 1 accept", "advance"),
        ("09:40", "case advance 1 assign --data data/examples/assign.toml", "advance"),
        ("10:00", "case advance 1 inform --note 已当面告知双方并签收告知书", "advance"),
        ("15:00", session_1, "advance"),
        ("16:30", session_2, "advance"),
        ("16:40", "case advance 1 archive", "refused"),
        ("17:00", "case advance 1 agree_written --data data/examples/agreement.toml", "agree"),
        ("17:05", "case show 1", "show"),
        ("17:06", "case history 1", "show"),
    ]
    steps = [Step(f"{_DAY}T{hour}", command, f"day-{block}") for hour, command, block in day]
    # The second case the supervisor's reports find: a petition referral to 城关, accepted
    # and assigned the next day, then left alone.
    steps += [
        Step("2026-03-03T09:00", "case open --from data/examples/intake-referral.json", None),
        Step("2026-03-03T09:10", "case advance 2 accept", None),
        Step("2026-03-03T09:20", "case advance 2 assign --data data/examples/assign.toml", None),
        Step("2026-03-30T08:00", "report due-soon --within 7", "day-reports"),
        Step("2026-04-08T08:00", "report overdue", "day-reports"),
    ]
    return tuple(steps)


#: The day, in order.
DAY = _steps()
#: The generated sections of the page: one per transcript block, in the page's order.
BLOCKS = tuple(dict.fromkeys(step.block for step in DAY if step.block is not None))


_DASHES = re.compile(r"^-+(  -+)*$")


def _normalise(text: str, *, folder: Path, login: str, root: Path) -> str:
    """``text`` as it would read at ``/tmp/walk`` run by ``zhouming``; the tables holding
    the login are laid out again for its width."""
    text = text.replace(f"{root}/", "").replace(str(folder), SHOWN_FOLDER)
    name = re.compile(rf"(?<![\w.-]){re.escape(login)}(?![\w.-])")
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and _DASHES.match(lines[i + 1]):
            end = i + 2
            while end < len(lines) and lines[end].strip():
                end += 1
            rows = [lines[i], *lines[i + 2 : end]]
            if any(name.search(row) for row in rows):
                out.extend(_relaid(rows, lines[i + 1], name).split("\n"))
            else:
                out.extend(lines[i:end])
            i = end
            continue
        out.append(name.sub(SHOWN_LOGIN, lines[i]))
        i += 1
    return "\n".join(out)


def _relaid(rows: list[str], dashes: str, name: re.Pattern[str]) -> str:
    """A table of :func:`mediation.reporting.output.table` (its header, rows and the line of
    dashes under the header), with the login replaced in its cells and laid out again."""
    from mediation.reporting.output import table, width

    starts = [m.start() for m in re.finditer(r"-+", dashes)]

    def cells(row: str) -> list[str]:
        found = [""] * len(starts)
        column = 0
        for ch in row:
            index = max(k for k, start in enumerate(starts) if start <= column)
            found[index] += ch
            column += width(ch)
        return [name.sub(SHOWN_LOGIN, c.strip()) for c in found]

    header, *body = (cells(row) for row in rows)
    return table(body, header)


def _run_day() -> dict[str, str]:
    from typer.testing import CliRunner

    from mediation.cli import app
    from mediation.storage.store import Store

    runner = CliRunner()
    shown: dict[str, list[str]] = {block: [] for block in BLOCKS}
    with tempfile.TemporaryDirectory(prefix="mediation-walk-") as tmp:
        folder = Path(tmp)
        db = folder / "centre.db"
        login = Store(f"sqlite:///{db}").login()
        for step in DAY:
            words = shlex.split(step.command)
            argv = [str(ROOT / w) if w.startswith("data/examples/") else w for w in words]
            env = {
                "MEDIATION_DB": str(db),
                "MEDIATION_NOW": step.at,
                "MEDIATION_USER": None,
                "MEDIATION_LOG_LEVEL": None,
                "MEDIATION_NOTIFY_LOG": None,
                "LANGUAGE": None,
                "LC_ALL": None,
                "LC_MESSAGES": None,
                "LANG": "zh_CN.UTF-8",
                "COLUMNS": "100",
            }
            result = runner.invoke(app, argv, env=env)
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise RuntimeError(f"{step.command}: {result.exception!r}") from result.exception
            if step.block is None:
                if result.exit_code != 0:
                    raise RuntimeError(f"{step.command}: exit {result.exit_code}\n{result.output}")
                continue
            output = _normalise(result.output, folder=folder, login=login, root=ROOT)
            shown[step.block].append(f"$ mediation {step.command}\n{output.rstrip()}")
    return {
        block: "```console\n" + "\n\n".join(entries) + "\n```\n" for block, entries in shown.items()
    }


@functools.cache
def transcripts() -> dict[str, str]:
    """Each transcript block of the page (its section name → Markdown): the day, run once
    per process."""
    return _run_day()


def render(block: str) -> str:
    """The Markdown of one transcript block."""
    return transcripts()[block]
