"""``case advance`` reads its input as the flow declares it (issue 15, part B): a field
the trigger's step does not accept is refused with a did-you-mean, as intake files are;
triggers and coded values are accepted by the Chinese labels the system shows; a bad
value is invalid input (exit 3), never a refused transition (exit 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.domain import taxonomy
from mediation.workflows import FLOW_MODULES, get_flow
from tests.commands.test_cli_peoples import (
    SIGNERS,
    advance,
    cli,
    events,
    ok,
    open_case,
    show,
    walk,
)

TO_SESSIONS = ["accept", "assign", "inform"]


def _mediating(runner: CliRunner, db: str, tmp_path: Path) -> int:
    case: int = open_case(runner, db, tmp_path)["proceeding_id"]
    walk(runner, db, case, TO_SESSIONS, "applied")
    return case


def test_unknown_set_key_refused_with_did_you_mean(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    case = _mediating(runner, db_url, tmp_path)
    result = advance(runner, db_url, case, "record_session", "--set", "plase=村委会调解室")
    assert result.exit_code == 3, result.output
    assert "--set plase" in result.stderr
    assert "'place'" in result.stderr
    assert show(runner, db_url, case)["proceeding"]["state"] == "informed"
    assert [e["trigger"] for e in events(runner, db_url, case)][-1] == "inform"


def test_optional_fields_the_documents_print_are_accepted(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    case = _mediating(runner, db_url, tmp_path)
    extra = ["--set", "place=村委会调解室", "--set", "participants=张三、李四"]
    ok(advance(runner, db_url, case, "record_session", *extra))
    payload = events(runner, db_url, case)[-1]["payload"]
    assert payload["place"] == "村委会调解室"


def test_a_trigger_needing_no_data_refuses_any(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    case = open_case(runner, db_url, tmp_path)["proceeding_id"]
    result = advance(runner, db_url, case, "accept", "--set", "reason=x")
    assert result.exit_code == 3, result.output
    assert "accept 可填写的字段：（该操作不需要数据）" in result.stderr


def test_trigger_by_its_label(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    case = open_case(runner, db_url, tmp_path)["proceeding_id"]
    result = ok(advance(runner, db_url, case, "受理"))
    assert "（accept）" in result.stdout
    assert show(runner, db_url, case)["proceeding"]["state"] == "accepted"


@pytest.mark.parametrize(
    ("trigger", "sets", "field", "code"),
    [
        ("record_session", {"kind": "调查"}, "kind", "investigation"),
        ("record_session", {"kind": "调解"}, "kind", "mediation"),
    ],
)
def test_session_kind_by_its_label(
    runner: CliRunner,
    store: object,
    db_url: str,
    tmp_path: Path,
    trigger: str,
    sets: dict[str, str],
    field: str,
    code: str,
) -> None:
    case = _mediating(runner, db_url, tmp_path)
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    ok(advance(runner, db_url, case, trigger, *args))
    assert events(runner, db_url, case)[-1]["payload"][field] == code


def test_selection_performance_satisfaction_and_method_by_label(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    case = open_case(runner, db_url, tmp_path)["proceeding_id"]
    ok(advance(runner, db_url, case, "accept"))
    ok(
        advance(
            runner,
            db_url,
            case,
            "assign",
            "--set",
            "mediators=周明",
            "--set",
            "selection=调委会指定",
            defaults=False,
        )
    )
    assert events(runner, db_url, case)[-1]["payload"]["selection"] == "designated"
    walk(runner, db_url, case, ["inform", "record_session", "agree_written"], "assigned")
    for signer, kind, method in SIGNERS:
        label = taxonomy.SIGNATURE_METHODS[method]
        args = ["doc", "record-signature", str(case), "--signer", signer, kind, "--method", label]
        ok(cli(runner, db_url, *args))
    signed = [e for e in events(runner, db_url, case) if e["trigger"] == "record_signature"]
    assert [e["payload"]["method"] for e in signed] == [m for _, _, m in SIGNERS]
    sets = ["--set", "performance=部分履行", "--set", "satisfaction=基本满意"]
    ok(advance(runner, db_url, case, "follow_up", *sets))
    payload = events(runner, db_url, case)[-1]["payload"]
    assert payload["performance"] == "partly_performed"
    assert payload["satisfaction"] == "basically_satisfied"


@pytest.mark.parametrize(
    ("trigger", "sets", "bad"),
    [
        ("record_session", ["--set", "kind=调差"], "kind"),
        ("record_session", ["--set", "kind=meditation"], "kind"),
    ],
)
def test_bad_coded_value_is_invalid_input(
    runner: CliRunner,
    store: object,
    db_url: str,
    tmp_path: Path,
    trigger: str,
    sets: list[str],
    bad: str,
) -> None:
    case = _mediating(runner, db_url, tmp_path)
    result = advance(runner, db_url, case, trigger, *sets)
    assert result.exit_code == 3, result.output
    assert f"--set {bad}" in result.stderr
    assert "是否应为" in result.stderr


def test_bad_follow_up_value_is_invalid_input(
    runner: CliRunner, store: object, db_url: str, tmp_path: Path
) -> None:
    case = open_case(runner, db_url, tmp_path)["proceeding_id"]
    walk(runner, db_url, case, ["accept", "assign", "inform", "record_session", "agree_oral"])
    result = advance(runner, db_url, case, "follow_up", "--set", "satisfaction=很满意")
    assert result.exit_code == 3, result.output
    assert "--set satisfaction" in result.stderr


def test_every_choice_field_is_checked_by_a_guard_with_its_table() -> None:
    """Each coded payload field a step accepts is one of :data:`taxonomy.CHOICE_FIELDS`
    only where a guard checks it against that table (one table, no second list)."""
    for name in FLOW_MODULES:
        for t in get_flow(name).transitions:
            for key in set(t.fields) & set(taxonomy.CHOICE_FIELDS):
                assert t.guards, (name, t.trigger, key)
