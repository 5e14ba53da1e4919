"""Finding cases the way a mediator types them (issue 15, part A): case numbers however
their brackets and serial are written, ``case list`` filters and paging, typos in a
filter, and the warning when the same parties already have an open case."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.commands.test_cli_peoples import advance, cli, ok, open_case, show

NUMBER = "（2026）桥头人调字第1号"


@pytest.mark.parametrize(
    "typed",
    [
        "(2026)桥头人调字第1号",
        "〔2026〕桥头人调字第1号",
        "[2026]桥头人调字第1号",
        "（2026）桥头人调字第01号",
        " (2026) 桥头人调字第001号 ",
        "（２０２６）桥头人调字第１号",
    ],
)
def test_case_number_found_however_typed(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path, typed: str
) -> None:
    opened = open_case(runner, db_url, tmp_path)
    assert opened["case_number"] == NUMBER
    assert show(runner, db_url, typed)["proceeding"]["case_number"] == NUMBER
    ok(advance(runner, db_url, typed, "accept"))
    assert show(runner, db_url, NUMBER)["proceeding"]["state"] == "accepted"
    ok(cli(runner, db_url, "case", "history", typed))
    ok(cli(runner, db_url, "dispute", "show", f"case:{typed}"))


def test_unknown_case_number_still_not_found(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    open_case(runner, db_url, tmp_path)
    result = cli(runner, db_url, "case", "show", "(2026)桥头人调字第2号")
    assert result.exit_code == 4
