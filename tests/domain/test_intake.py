"""Opening cases from intake files (JSON and TOML) through ``mediation case open --from``.

Every test runs the real CLI against a real database (SQLite file and PostgreSQL schema,
see ``conftest.py``). A rejected file must exit with the documented code, name the field
and its fix, and write nothing: the rows of every case table are counted before and after.
The last part unit-tests :mod:`mediation.domain.personal` (GB 11643 ID numbers and masking).
"""

from __future__ import annotations

import copy
import functools
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.domain import taxonomy
from mediation.domain.personal import check_digit, mask_id, mask_phone, resident_id_problem
from mediation.storage.store import Store
from tests.conftest import intake_record

NOW = "2026-03-02T09:00:00+08:00"
EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
#: Tables a case open writes to; a rejected intake must leave every one unchanged.
CASE_TABLES = ("dispute", "party", "proceeding", "event", "deadline", "case_counter")
BAD_ID = "110105194912310021"  # 11010519491231002X with a wrong check digit


# -- helpers --------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON escapes are valid TOML escapes
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(record: dict[str, Any]) -> str:
    """``record`` as TOML: scalars first, then lists of tables as ``[[key]]``."""
    lines, tables = [], []
    for key, value in record.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, items in tables:
        for item in items:
            lines += ["", f"[[{key}]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    out = "\n".join(lines) + "\n"
    assert tomllib.loads(out) == record  # the writer itself must be right
    return out


def write_intake(directory: Path, record: dict[str, Any], fmt: str, name: str = "intake") -> Path:
    path = directory / f"{name}.{fmt}"
    if fmt == "toml":
        path.write_text(to_toml(record), encoding="utf-8")
    else:
        path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def cli(runner: CliRunner, db_url: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", db_url, *args], env={"MEDIATION_NOW": NOW})


def open_from(runner: CliRunner, db_url: str, path: Path) -> Result:
    return cli(runner, db_url, "case", "open", "--from", str(path))


def row_counts(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in CASE_TABLES
            }
    finally:
        engine.dispose()


def show(runner: CliRunner, db_url: str, case: str, *extra: str) -> dict[str, Any]:
    result = cli(runner, db_url, "case", "show", case, "--json", *extra)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def with_party(record: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    out["parties"][index].update(changes)  # type: ignore[index]
    return out


def without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


_COMMAND = functools.cache(typer.main.get_command)


@pytest.fixture(autouse=True)
def _cli_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let ``CliRunner.invoke`` reuse one command tree built from ``app``: Typer rebuilds
    it on every call otherwise (~50 ms, most of an invocation). Same app, same commands."""
    monkeypatch.setattr(
        typer.testing,
        "_get_command",
        lambda given: _COMMAND(given) if given is app else typer.main.get_command(given),
    )


@pytest.fixture
def db(store: Store, db_url: str) -> Iterator[str]:
    """``db_url`` with the committee ladder registered; the fixture's own Store is closed."""
    store.close()
    yield db_url


# -- opening ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_valid_file_opens_a_case(db: str, runner: CliRunner, tmp_path: Path, fmt: str) -> None:
    before = row_counts(db)
    result = open_from(runner, db, write_intake(tmp_path, intake_record(), fmt))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("已立案：（2026）桥头人调字第1号")
    assert "申请登记" in result.stdout
    after = row_counts(db)
    assert {t: after[t] - before[t] for t in CASE_TABLES} == {
        "dispute": 1,
        "party": 2,
        "proceeding": 1,
        "event": 1,
        "deadline": 0,  # the one-month clock starts on accept, not on application
        "case_counter": 1,
    }

    data = show(runner, db, "（2026）桥头人调字第1号", "--reveal")
    assert data["proceeding"]["state"] == "applied"
    assert data["proceeding"]["organisation"]["code"] == "桥头"
    assert data["proceeding"]["opened_at"] == NOW
    assert data["dispute"]["title"] == "邻里通道堆放杂物纠纷"
    assert (data["dispute"]["dispute_type"], data["dispute"]["channel"]) == (
        "neighbourhood",
        "walk_in",
    )
    assert data["dispute"]["created_by"] == Store(db).login()
    applicant, respondent = data["parties"]
    assert (applicant["role"], applicant["name"]) == ("applicant", "张三")
    assert applicant["id_number"] == "11010519491231002X"
    assert applicant["id_type"] == "resident_id"
    assert applicant["birth_date"] == "1949-12-31"  # derived from the ID number
    assert (respondent["role"], respondent["name"], respondent["phone"]) == (
        "respondent",
        "李四",
        "13987654321",
    )

    # The serial runs on per committee and year.
    second = open_from(runner, db, write_intake(tmp_path, intake_record(), fmt, name="second"))
    assert second.exit_code == 0, second.output
    assert "（2026）桥头人调字第2号" in second.stdout


def test_example_files_open(db: str, runner: CliRunner) -> None:
    result = open_from(runner, db, EXAMPLES / "intake.toml")
    assert result.exit_code == 0, result.output
    assert "（2026）桥头人调字第1号" in result.stdout

    result = open_from(runner, db, EXAMPLES / "intake-referral.json")
    assert result.exit_code == 0, result.output
    assert "（2026）城关人调字第1号" in result.stdout

    local = show(runner, db, "（2026）桥头人调字第1号", "--reveal")
    assert local["dispute"]["received_at"] == "2026-03-02T09:30:00+08:00"
    assert [p["ethnicity"] for p in local["parties"]] == ["汉族", "汉族"]

    referral = show(runner, db, "（2026）城关人调字第1号", "--reveal")
    assert referral["proceeding"]["organisation"]["code"] == "城关"
    assert referral["proceeding"]["application_mode"] == "referral"
    assert referral["dispute"]["dispute_type"] == "contract"  # given as the label 合同
    assert referral["dispute"]["channel"] == "petition"
    assert referral["dispute"]["referring_organ"] == "青山县信访局"
    assert referral["dispute"]["referral_ref"] == "青信转〔2026〕17号"
    company = referral["parties"][1]
    assert (company["kind"], company["legal_representative"], company["id_type"]) == (
        "organisation",
        "赵强",
        "uscc",
    )


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_chinese_labels_are_accepted_as_codes(
    db: str, runner: CliRunner, tmp_path: Path, fmt: str
) -> None:
    record = intake_record(
        dispute_type="邻里", channel="网格员排查上报", application_mode="主动调解"
    )
    record = with_party(record, 0, role="申请人", gender="男")
    record = with_party(record, 1, role="被申请人", gender="女")
    result = open_from(runner, db, write_intake(tmp_path, record, fmt))
    assert result.exit_code == 0, result.output

    data = show(runner, db, "1")
    dispute = data["dispute"]
    assert (dispute["dispute_type"], dispute["dispute_type_label"]) == ("neighbourhood", "邻里")
    assert (dispute["channel"], dispute["channel_label"]) == ("grid", "网格员排查上报")
    assert data["proceeding"]["application_mode"] == "initiative"
    assert [(p["role"], p["gender"]) for p in data["parties"]] == [
        ("applicant", "male"),
        ("respondent", "female"),
    ]


# -- rejected files write nothing ------------------------------------------------------

_VALID = intake_record()
_PETITION = intake_record(channel="petition", application_mode="referral")

BAD_RECORDS = [
    pytest.param(
        "json",
        with_party(_VALID, 0, id_number=BAD_ID),
        ["parties[0].id_number", "校验码应为 X，实为 1", "校验失败"],
        id="bad-check-digit-json",
    ),
    pytest.param(
        "toml",
        with_party(_VALID, 0, id_number=BAD_ID),
        ["parties[0].id_number", "校验码应为 X，实为 1", "校验失败"],
        id="bad-check-digit-toml",
    ),
    pytest.param(
        "toml",
        without(_VALID, "title"),
        ["title: 缺少必填字段", "请填写 title"],
        id="missing-title",
    ),
    pytest.param(
        "json",
        intake_record(parties=[copy.deepcopy(_VALID["parties"][0])]),  # type: ignore[index]
        ["parties: 缺少被申请人", 'role = "respondent"'],
        id="no-respondent",
    ),
    pytest.param(
        "toml",
        intake_record(dispute_type="邻居"),
        ["dispute_type: 未知取值 '邻居'"]
        + [f"{code}（{label}）" for code, label in taxonomy.DISPUTE_TYPES.items()],
        id="unknown-dispute-type",
    ),
    pytest.param(
        "json",
        intake_record(channel="mail"),
        ["channel: 未知取值 'mail'"]
        + [f"{code}（{label}）" for code, label in taxonomy.CHANNELS.items()],
        id="unknown-channel",
    ),
    pytest.param(
        "json",
        {**without(_VALID, "title"), "titel": "邻里通道堆放杂物纠纷"},
        ["titel: 未知字段", "是否应为 'title'？"],
        id="misspelled-key-json",
    ),
    pytest.param(
        "toml",
        {**without(_VALID, "title"), "titel": "邻里通道堆放杂物纠纷"},
        ["titel: 未知字段", "是否应为 'title'？"],
        id="misspelled-key-toml",
    ),
    pytest.param(
        "toml",
        _PETITION,
        ["referring_organ: 渠道 petition 为移送/委派", "referral_ref: 渠道 petition 为移送/委派"],
        id="petition-without-referral",
    ),
    pytest.param(
        "json",
        {**_PETITION, "referring_organ": "青山县信访局"},
        ["referral_ref: 渠道 petition 为移送/委派，缺少必填字段"],
        id="petition-without-referral-ref",
    ),
    pytest.param(
        # The clock is pinned at Mon 2026-03-02 09:00: received "tomorrow" is a typing error
        # (a clock counted from receipt would start on a day still to come).
        "json",
        {**_VALID, "received_at": "2026-03-03T09:00:00+08:00"},
        ["received_at: 收到时间 2026-03-03 晚于今天 2026-03-02", "请填写实际收到申请"],
        id="received-tomorrow",
    ),
]


@pytest.mark.parametrize(("fmt", "record", "expected"), BAD_RECORDS)
def test_invalid_intake_exits_3_and_writes_nothing(
    db: str,
    runner: CliRunner,
    tmp_path: Path,
    fmt: str,
    record: dict[str, Any],
    expected: list[str],
) -> None:
    first = open_from(runner, db, write_intake(tmp_path, intake_record(), "json", name="first"))
    assert first.exit_code == 0, first.output
    before = row_counts(db)

    result = open_from(runner, db, write_intake(tmp_path, record, fmt, name="bad"))

    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    assert "未写入任何数据" in result.stderr
    for phrase in expected:
        assert phrase in result.stderr, f"{phrase!r} not in:\n{result.stderr}"
    assert row_counts(db) == before
    # Not even a case serial was used up.
    again = open_from(runner, db, write_intake(tmp_path, intake_record(), "json", name="again"))
    assert again.exit_code == 0, again.output
    assert "（2026）桥头人调字第2号" in again.stdout


def test_only_the_wrong_fields_are_named(db: str, runner: CliRunner, tmp_path: Path) -> None:
    """Every problem is reported at once, and a valid field is not blamed."""
    record = with_party(without(_VALID, "title"), 0, id_number=BAD_ID)
    result = open_from(runner, db, write_intake(tmp_path, record, "json"))
    assert result.exit_code == 3, result.output
    assert "有 2 处错误" in result.stderr
    assert "parties[0].id_number" in result.stderr
    assert "title:" in result.stderr
    assert "dispute_type" not in result.stderr
    assert "parties[1]" not in result.stderr


def test_unknown_organisation_exits_4(db: str, runner: CliRunner, tmp_path: Path) -> None:
    before = row_counts(db)
    result = open_from(
        runner, db, write_intake(tmp_path, intake_record(organisation="河东"), "json")
    )
    assert result.exit_code == 4, result.output
    assert "没有代码为 '河东' 的组织" in result.stderr
    assert "mediation org list" in result.stderr
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.json", '{"organisation": "桥头", "title": ', "不是有效的 JSON"),
        ("broken.toml", 'organisation = "桥头"\ntitle = \n', "不是有效的 TOML"),
        ("list.json", json.dumps([intake_record()], ensure_ascii=False), "顶层应为对象/表"),
    ],
    ids=["json", "toml", "json-top-level-list"],
)
def test_malformed_file_exits_3(
    db: str, runner: CliRunner, tmp_path: Path, name: str, content: str, expected: str
) -> None:
    before = row_counts(db)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = open_from(runner, db, path)
    assert result.exit_code == 3, result.output
    assert expected in result.stderr
    assert "（文件）" in result.stderr
    assert row_counts(db) == before


def test_missing_file_exits_3(db: str, runner: CliRunner, tmp_path: Path) -> None:
    result = open_from(runner, db, tmp_path / "nowhere.toml")
    assert result.exit_code == 3, result.output
    assert "无法读取" in result.stderr
    assert row_counts(db)["dispute"] == 0


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (intake_record(flow=["peoples"]), "flow"),
        (with_party(intake_record(), 1, role=["respondent"]), "parties[1].role"),
    ],
    ids=["flow-list", "role-list"],
)
def test_wrongly_typed_values_exit_3(
    db: str, runner: CliRunner, tmp_path: Path, record: dict[str, Any], field: str
) -> None:
    result = open_from(runner, db, write_intake(tmp_path, record, "json"))
    assert result.exit_code == 3, result.output
    assert field in result.stderr
    assert row_counts(db)["dispute"] == 0


# -- mediation.domain.personal ------------------------------------------------------------------


def test_check_digit_gb11643_example() -> None:
    assert check_digit("11010519491231002") == "X"  # GB 11643-1999 example: 11010519491231002X
    assert check_digit("44052418800101001") == "4"  # the standard's other example
    assert check_digit("11010519491231003") == "8"


@pytest.mark.parametrize(
    "number", ["11010519491231002X", "11010519491231002x", "110105194912310038"]
)
def test_resident_id_valid(number: str) -> None:
    assert resident_id_problem(number) is None


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("11010519491231002", "应为18位，实为17位"),
        ("11010519491231002X1", "应为18位，实为19位"),
        ("", "应为18位，实为0位"),
        ("110105194902300021", "出生日期 19490230 不是有效日期"),
        ("110105194913310021", "出生日期 19491331 不是有效日期"),
        ("11010519491231A02X", "前17位应为数字"),
        ("11010519491231002Y", "最后一位为数字或X"),
        (BAD_ID, "校验码应为 X，实为 1"),
        ("110105194912310030", "校验码应为 8，实为 0"),
    ],
    ids=[
        "too-short",
        "too-long",
        "empty",
        "feb-30",
        "month-13",
        "letter-in-body",
        "bad-last-char",
        "bad-check-digit",
        "bad-check-digit-2",
    ],
)
def test_resident_id_problems(number: str, expected: str) -> None:
    problem = resident_id_problem(number)
    assert problem is not None
    assert expected in problem


def test_mask_id() -> None:
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_id("110105194912310038") == "110105********0038"
    assert mask_id("91330681MA2D3XYZ1K") == "913306********YZ1K"
    assert mask_id("E1234567") == "E1******"  # short documents keep only two characters
    assert mask_id(None) == ""
    assert mask_id("") == ""


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("13987654321") == "139****4321"
    assert mask_phone("0575-87651234") == "057******1234"
    assert mask_phone("1234567") == "1******"
    assert mask_phone(None) == ""
    assert mask_phone("") == ""
