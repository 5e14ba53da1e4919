"""Finding cases the way a mediator types them (issue 15, part A): case numbers however
their brackets and serial are written, ``case list`` filters and paging, typos in a
filter, and the warning when the same parties already have an open case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import advance, cli, ok, open_case, show
from tests.conftest import add_users

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


# -- case list ------------------------------------------------------------------------

ZHANG_ID = "11010519491231002X"


def _cases(runner: CliRunner, db: str, tmp_path: Path) -> tuple[int, int, int]:
    """Three cases: 张三 v 李四 (桥头, neighbourhood, received 2026-02-20), 王五 v 赵六
    (桥头, contract, received 2026-03-01, filed an hour later), and the referral example
    (城关, contract)."""
    a = open_case(runner, db, tmp_path, received_at="2026-02-20T10:00:00+08:00")
    b = open_case(
        runner,
        db,
        tmp_path,
        now="2026-03-02T10:00:00+08:00",
        title="装修款结算纠纷",
        dispute_type="合同",
        received_at="2026-03-01T10:00:00+08:00",
        parties=[
            {"role": "applicant", "name": "王五", "phone": "139-0000-1111"},
            {"role": "respondent", "name": "赵六"},
        ],
    )
    c = open_case(
        runner,
        db,
        tmp_path,
        now="2026-03-02T11:00:00+08:00",
        organisation="城关",
        title="相邻漏水纠纷",
        parties=[
            {"role": "applicant", "name": "张三丰", "phone": "13700000000"},
            {"role": "respondent", "name": "孙七"},
        ],
    )
    return a["proceeding_id"], b["proceeding_id"], c["proceeding_id"]


def _ids(runner: CliRunner, db: str, *args: str) -> list[int]:
    result = ok(cli(runner, db, "case", "list", "--json", *args, now="2026-03-02T12:00:00+08:00"))
    return [r["id"] for r in json.loads(result.stdout)]


def test_list_filters(runner: CliRunner, store: object, db_url: str, tmp_path: Path) -> None:
    a, b, c = _cases(runner, db_url, tmp_path)
    assert _ids(runner, db_url) == [c, b, a]  # latest filed first
    assert _ids(runner, db_url, "--party", "张三") == [c, a]  # a part of the name
    assert _ids(runner, db_url, "--party", "张三丰") == [c]
    assert _ids(runner, db_url, "--id-number", ZHANG_ID) == [a]
    assert _ids(runner, db_url, "--id-number", ZHANG_ID.lower()) == [a]
    assert _ids(runner, db_url, "--id-number", ZHANG_ID[:-1]) == []  # exact, not a part
    assert _ids(runner, db_url, "--phone", "13812345678") == [a]
    assert _ids(runner, db_url, "--phone", "13900001111") == [b]  # stored as 139-0000-1111
    assert _ids(runner, db_url, "--phone", "1381234") == []
    assert _ids(runner, db_url, "--text", "漏水") == [c]
    assert _ids(runner, db_url, "--type", "合同") == [b]
    assert _ids(runner, db_url, "--type", "contract") == [b]
    assert _ids(runner, db_url, "--from", "2026-03-01") == [c, b]
    assert _ids(runner, db_url, "--to", "2026-02-20") == [a]
    assert _ids(runner, db_url, "--from", "2026-02-21", "--to", "2026-03-01") == [b]
    assert _ids(runner, db_url, "--org", "桥头村人民调解委员会") == [b, a]  # by name too
    assert _ids(runner, db_url, "--state", "申请登记") == [c, b, a]  # by label
    assert _ids(runner, db_url, "--party", "%") == []  # taken literally


def test_list_state_by_label(runner: CliRunner, store: object, db_url: str, tmp_path: Path) -> None:
    a, _, _ = _cases(runner, db_url, tmp_path)
    for trigger in ("accept", "assign", "inform", "record_session"):
        ok(advance(runner, db_url, a, trigger))
    assert _ids(runner, db_url, "--state", "调查调解中") == [a]
    assert _ids(runner, db_url, "--state", "mediating") == [a]


def test_list_mine_and_overdue(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    a, b, _ = _cases(runner, db_url, tmp_path)
    ok(advance(runner, db_url, a, "accept"))
    ok(
        advance(
            runner,
            db_url,
            a,
            "assign",
            "--set",
            "mediators=mediator1",
            "--set",
            "selection=designated",
            defaults=False,
        )
    )
    # --mine: the cases assigned to the acting login (here mediator1, acted for by the admin).
    add_users(Store(db_url), "mediator1")
    mine = cli(runner, db_url, "case", "list", "--mine", "--json", actor="mediator1")
    assert [r["id"] for r in json.loads(ok(mine).stdout)] == [a]
    assert _ids(runner, db_url, "--mine") == []  # the runner has none
    ok(advance(runner, db_url, b, "accept", now="2026-03-02T12:00:00+08:00"))
    # The month to mediate b (accepted 2026-03-02) ends 2026-04-02: overdue from the 3rd.
    late = "2026-04-10T09:00:00+08:00"

    found = json.loads(
        ok(cli(runner, db_url, "case", "list", "--json", "--overdue", now=late)).stdout
    )
    assert {r["id"] for r in found} == {a, b}
    assert _ids(runner, db_url, "--overdue") == []


def test_list_pages_and_counts(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    a, b, c = _cases(runner, db_url, tmp_path)
    assert _ids(runner, db_url, "--limit", "2") == [c, b]
    assert _ids(runner, db_url, "--limit", "2", "--offset", "2") == [a]
    out = ok(cli(runner, db_url, "case", "list")).stdout
    assert out.rstrip().endswith("共 3 件，显示 1–3")
    out = ok(cli(runner, db_url, "case", "list", "--limit", "1", "--offset", "1")).stdout
    assert out.rstrip().endswith("共 3 件，显示 2–2")
    assert "王五、赵六" in out


def test_list_json_parties_masked(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:

    a, _, _ = _cases(runner, db_url, tmp_path)
    result = ok(cli(runner, db_url, "case", "list", "--json", "--id-number", ZHANG_ID))
    (row,) = json.loads(result.stdout)
    assert row["id"] == a
    zhang, li = row["parties"]
    assert (zhang["name"], zhang["role"], zhang["role_label"]) == ("张三", "applicant", "申请人")
    assert zhang["id_number"] == "110105********002X"
    assert zhang["phone"] == "138****5678"
    assert li["name"] == "李四"
    assert ZHANG_ID not in result.stdout
    assert "13812345678" not in result.stdout
    assert "party_key" not in result.stdout


@pytest.mark.parametrize(
    ("args", "option", "meant"),
    [
        (["--state", "mediatng"], "--state", "mediating"),
        (["--state", "调查调节中"], "--state", "调查调解中"),
        (["--org", "桥投"], "--org", "桥头"),
        (["--mediator", "zhouming"], "--mediator", "zhou_ming"),
        (["--flow", "peopels"], "--flow", "peoples"),
        (["--level", "vilage"], "--level", "village"),
        (["--type", "邻理"], "--type", "邻里"),
        (["--status", "opne"], "--status", "open"),
    ],
)
def test_list_filter_typo_is_invalid_input(
    runner: CliRunner,
    store: object,
    db_url: str,
    tmp_path: Path,
    args: list[str],
    option: str,
    meant: str,
) -> None:
    a, _, _ = _cases(runner, db_url, tmp_path)
    ok(advance(runner, db_url, a, "accept"))
    ok(
        advance(
            runner,
            db_url,
            a,
            "assign",
            "--set",
            "mediators=zhou_ming",
            "--set",
            "selection=designated",
            defaults=False,
        )
    )
    result = cli(runner, db_url, "case", "list", *args)
    assert result.exit_code == 3, result.output
    assert option in result.stderr
    assert f"是否应为 {meant!r}" in result.stderr
    assert result.stdout == ""


def test_list_bad_date_is_invalid_input(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    result = cli(runner, db_url, "case", "list", "--from", "2026-13-01")
    assert result.exit_code == 3, result.output
    assert "--from" in result.stderr
    # The last day there is: the day after it cannot be computed (it was a traceback).
    result = cli(runner, db_url, "case", "list", "--to", "9999-12-31")
    assert result.exit_code == 3, result.output
    assert "--to" in result.stderr and "超出可接受的日期范围" in result.stderr


def test_render_all_bad_since_is_invalid_input(
    runner: CliRunner, store: object, db_url: str
) -> None:
    result = cli(runner, db_url, "doc", "render-all", "--since", "2026-13-01")
    assert result.exit_code == 3, result.output
    assert "--since" in result.stderr and "不是日期" in result.stderr


# -- the same parties again -------------------------------------------------------------


def _open(runner: CliRunner, db: str, tmp_path: Path, name: str, **changes: object) -> object:

    from tests.conftest import intake_record

    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(intake_record(**changes), ensure_ascii=False), encoding="utf-8")
    return cli(runner, db, "case", "open", "--from", str(path))


def test_same_parties_open_elsewhere_warn_and_still_open(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    first = ok(_open(runner, db_url, tmp_path, "first"))
    assert "注意" not in first.stderr
    # The same dispute reported at the town's centre through the hotline.
    again = ok(_open(runner, db_url, tmp_path, "again", organisation="城关", channel="hotline"))
    assert "已立案：（2026）城关人调字第1号" in again.stdout
    assert "注意：相同当事人、相同纠纷类型已有未结案件 （2026）桥头人调字第1号（桥头）" in (
        again.stderr
    )
    assert show(runner, db_url, "（2026）城关人调字第1号")["proceeding"]["state"] == "applied"


def test_other_parties_or_type_or_closed_cases_do_not_warn(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    ok(_open(runner, db_url, tmp_path, "first"))
    other_type = ok(_open(runner, db_url, tmp_path, "type", dispute_type="合同"))
    assert "注意" not in other_type.stderr
    other_party = ok(
        _open(
            runner,
            db_url,
            tmp_path,
            "party",
            parties=[
                {"role": "applicant", "name": "张三", "id_number": "11010519491231002X"},
                {"role": "respondent", "name": "王五"},
            ],
        )
    )
    assert "注意" not in other_party.stderr
    ok(advance(runner, db_url, 1, "reject"))
    ok(advance(runner, db_url, 2, "reject"))
    ok(advance(runner, db_url, 3, "reject"))
    closed = ok(_open(runner, db_url, tmp_path, "closed"))
    assert "注意" not in closed.stderr
