"""``case next`` shows, for each trigger, its data fields with their Chinese labels and the
fields its documents will need; ``case advance`` without a terminal warns, after recording
the step, of each such field left out and of the document that cannot then be printed.
The declarations behind them (mediation.workflows.fields) match the flows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.documents.casefile import AGREEMENT_LABELS
from mediation.storage.store import Store
from mediation.workflows import flow_names, get_flow
from mediation.workflows.fields import DOCUMENT_FIELDS, FIELD_LABELS
from tests.conftest import intake_record

NOW = "2026-03-02T09:00:00+08:00"
EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"


def cli(runner: CliRunner, db: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", db, *args], env={"MEDIATION_NOW": NOW})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def mediating_case(runner: CliRunner, db: str, tmp_path: Path) -> str:
    """A case informed of its rights, ready for its first session."""
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(intake_record(), ensure_ascii=False), encoding="utf-8")
    case = json.loads(ok(cli(runner, db, "case", "open", "--from", str(path), "--json")).stdout)
    pid = str(case["proceeding_id"])
    for step in (["accept"], ["assign", "--data", str(EXAMPLES / "assign.toml")], ["inform"]):
        ok(cli(runner, db, "case", "advance", pid, *step))
    return pid


def next_of(runner: CliRunner, db: str, case: str) -> dict[str, dict[str, Any]]:
    data = json.loads(ok(cli(runner, db, "case", "next", case, "--json")).stdout)
    return {n["trigger"]: n for n in data["next"]}


def test_case_next_lists_each_triggers_fields_and_what_its_documents_need(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    case = mediating_case(runner, db_url, tmp_path)
    session = next_of(runner, db_url, case)["record_session"]
    # Compatible: the names as before, and now each field with its label and documents.
    assert session["requires"] == ["kind", "summary"]
    assert "place" in session["optional"]
    place = next(f for f in session["fields"] if f["name"] == "place")
    assert place == {
        "name": "place",
        "label": "地点",
        "required": False,
        "documents": ["investigation", "record"],
    }
    assert session["documents"] == [
        {
            "kind": "investigation",
            "label": "调查记录",
            "fields": ["place"],
            "when": {"kind": "investigation"},
        },
        {
            "kind": "record",
            "label": "人民调解记录",
            "fields": ["place"],
            "when": {"kind": "mediation"},
        },
    ]
    text = ok(cli(runner, db_url, "case", "next", case)).stdout
    assert "record_session（记录调查/调解）" in text
    assert "  必填：调查或调解（kind）、经过和内容摘要（summary）" in text
    assert "  调查记录（记录调查时）须载明：地点（place）" in text
    assert "  人民调解记录（记录调解时）须载明：地点（place）" in text
    assert "  必填：理由（reason）、其他救济途径（other_routes）" in text  # terminate

    ok(
        cli(
            runner,
            db_url,
            "case",
            "advance",
            case,
            "record_session",
            "--set",
            "kind=mediation",
            "--set",
            "summary=双方陈述",
            "--set",
            "place=村委会",
        )
    )
    oral = next_of(runner, db_url, case)["agree_oral"]
    assert oral["documents"][0]["label"] == "口头协议登记表"
    assert oral["documents"][0]["fields"] == list(AGREEMENT_LABELS)
    text = ok(cli(runner, db_url, "case", "next", case)).stdout
    assert "  必填：协议内容（terms）" in text
    assert (
        "  口头协议登记表须载明：纠纷的主要事实（facts）、争议事项（issues）、"
        "各方当事人的责任（responsibility）、履行方式（performance_method）、"
        "履行地点（performance_place）、履行期限（performance_deadline）"
    ) in text


def test_advance_without_a_terminal_warns_of_the_document_it_leaves_unprintable(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    case = mediating_case(runner, db_url, tmp_path)
    recorded = ok(
        cli(
            runner,
            db_url,
            "case",
            "advance",
            case,
            "record_session",
            "--set",
            "kind=调查",
            "--set",
            "summary=查看现场",
        )
    )
    assert recorded.stderr.strip() == (
        "注意：本次未记录地点（place），调查记录将无法生成（记录时用 --set place=… 给出）"
    )
    # ... which is what the document then says.
    refused = cli(
        runner, db_url, "doc", "render", case, "investigation", "-o", str(tmp_path / "x.pdf")
    )
    assert refused.exit_code == 3, refused.output
    assert "调查地点" in refused.stderr

    # A mediation session with its place: nothing to warn of.
    quiet = ok(
        cli(
            runner,
            db_url,
            "case",
            "advance",
            case,
            "record_session",
            "--set",
            "kind=mediation",
            "--set",
            "summary=双方协商",
            "--set",
            "place=村委会调解室",
        )
    )
    assert quiet.stderr == ""

    oral = ok(
        cli(runner, db_url, "case", "advance", case, "agree_oral", "--set", "terms=李四清理杂物")
    )
    warnings = oral.stderr.strip().splitlines()
    assert len(warnings) == 6, warnings
    assert warnings[0] == (
        "注意：本次未记录纠纷的主要事实（facts），口头协议登记表将无法生成（记录时用 --set facts=… 给出）"
    )
    # A refused step warns of nothing: only the refusal.
    refused_step = cli(
        runner, db_url, "case", "advance", case, "record_session", "--set", "kind=调查"
    )
    assert refused_step.exit_code == 5, refused_step.output
    assert "注意" not in refused_step.stderr


@pytest.mark.parametrize("flow_name", flow_names())
def test_the_document_fields_are_fields_the_steps_accept(flow_name: str) -> None:
    flow = get_flow(flow_name)
    documents = {d.kind for d in flow.documents}
    for t in flow.transitions:
        for name in t.fields:
            assert name in FIELD_LABELS, f"{flow_name}.{t.trigger}: no label for {name}"
    for need in DOCUMENT_FIELDS:
        if need.document not in documents:
            continue
        for t in flow.transitions:
            if t.trigger in need.triggers:
                assert set(need.fields) <= set(t.fields), (flow_name, t.trigger, need.document)


def test_the_agreement_labels_are_the_documents_own() -> None:
    assert {k: FIELD_LABELS[k] for k in AGREEMENT_LABELS} == AGREEMENT_LABELS
