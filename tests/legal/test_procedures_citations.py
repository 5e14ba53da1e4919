"""Citations and documents that issue 14 found wrong ("Citations and smaller points"),
through the real CLI on both databases:

- labour and land-contract flows cite their own statutes, not the 人民调解法 / 若干规定;
- the art. 29 fields are "可以载明": a refusal to render says the centre requires them, and
  the place of performance is 人民调解工作若干规定 art. 35;
- the 司法确认申请书 names the parties as joint applicants and lists the 财产权利证明
  attachment (民事诉讼法解释 art. 354).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal.helpers import EXAMPLES, Cli


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    yield Cli(runner, db_url, tmp_path)


@pytest.mark.parametrize(
    ("flow", "statute"),
    [("labour", "劳动争议调解仲裁法"), ("land_contract", "农村土地承包经营纠纷调解仲裁法")],
)
def test_labour_and_land_flows_cite_their_own_statutes(cli: Cli, flow: str, statute: str) -> None:
    shown = cli.json("workflow", "show", flow, day="2026-03-02")
    bases = [t["legal_basis"] for t in shown["transitions"]]
    bases += [d["legal_basis"] for d in shown.get("deadlines", [])]
    assert bases
    for basis in bases:
        assert "人民调解法" not in basis and "人民调解工作若干规定" not in basis, basis
    assert any(statute in b for b in bases)
    if flow == "land_contract":
        cited = " ".join(bases)
        for art in ("第三条", "第四条", "第七条", "第八条"):
            assert art in cited


def test_a_missing_agreement_field_is_the_centre_s_requirement(cli: Cli, tmp_path: Path) -> None:
    """A place of performance given as a blank: the agreement is recorded, but rendering it
    is refused (exit 3) — because the centre requires the field; the law only says the
    agreement "可以载明" it, and the place of performance is 若干规定 art. 35."""
    case = cli.open("2026-03-02")
    data = tmp_path / "agreement.json"
    fields = {
        line.split(" = ")[0]: line.split(" = ")[1].split("#")[0].strip().strip('"')
        for line in (EXAMPLES / "agreement.toml").read_text("utf-8").splitlines()
        if " = " in line
    }
    data.write_text(json.dumps({**fields, "performance_place": " "}, ensure_ascii=False), "utf-8")
    cli.step(case, "accept", "2026-03-02")
    cli.step(case, "assign", "2026-03-02", "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", "2026-03-02")
    cli.step(case, "record_session", "2026-03-02", kind="mediation", summary="调解")
    cli.step(case, "agree_written", "2026-03-02", "--data", str(data))
    refused = cli("doc", "render", case, "agreement", day="2026-03-02")
    assert refused.exit_code == 3, (refused.stdout, refused.stderr)
    assert "本中心要求" in refused.stderr and "若干规定第三十五条" in refused.stderr
    assert "可以载明" in refused.stderr


def test_the_confirmation_application_names_joint_applicants_and_property_proof(
    cli: Cli, tmp_path: Path
) -> None:
    from tests.conftest import intake_record

    parties = intake_record()["parties"]
    assert isinstance(parties, list)
    respondent = {**parties[1], "gender": "male", "address": "浙江省江城市青山县城关镇桥头村14号"}
    case = cli.open("2026-03-02", parties=[parties[0], respondent])
    cli.to_agreement(case, "2026-03-02")
    cli.sign_all(case, "2026-03-02")
    assert cli.apply_confirmation(case, "2026-03-03").exit_code == 0
    pdf = tmp_path / "application.pdf"
    cli.ok("doc", "render", case, "confirmation_application", "-o", str(pdf), day="2026-03-03")
    text = (
        subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        )
        .stdout.replace(" ", "")
        .replace("\n", "")
    )
    assert "共同申请人" in text and "共同提出申请" in text
    assert "财产权利证明" in text
