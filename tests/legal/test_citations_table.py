"""Citations the issue-14 review found naming the wrong article (or a statute for a body it
does not govern), pinned as corrected so that a regression fails.

Checked against the texts: 特邀调解规定 (2016) art. 14 is the notice of rights and duties
(art. 16 bars the mediator from the later trial), art. 17 the conduct of mediation;
道路交通事故处理程序规定 (2017) art. 88 the three days' notice, art. 91 the steps of the
mediation, art. 93 the 调解书 and the 调解终结书 (art. 90 is only when mediation starts and
its 10 days); 人民法院在线调解规则 (2021) art. 10 the parties' choice within 2 working days
and the court's designation within 3 (art. 12 is the mediator's confirmation), arts. 19-21,
25 the agreement, its 结案, failure and withdrawal; 农村土地承包经营纠纷调解仲裁法 art. 4
"不愿调解、调解不成 → 仲裁或者起诉" (art. 3 only says who may mediate); 医疗纠纷预防和处理条例
art. 41 the agreement before the health authority (art. 40 acceptance and periods);
公安机关办理行政案件程序规定 art. 184 the 治安调解协议书 (art. 185 its consequences);
人民调解工作若干规定 art. 37 item 2 re-mediation of an unsuitable agreement (art. 38 is
assisting the court).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.domain.articles import cn_basis
from mediation.storage.store import Store
from mediation.workflows import get_flow
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse: one command tree)
from tests.legal._procedures import add_org
from tests.legal.helpers import Cli

_COURT = "特邀调解规定"
_TRAFFIC = "道路交通事故处理程序规定"
_ONLINE = "人民法院在线调解规则"
_LAND = "农村土地承包经营纠纷调解仲裁法"
_MEDICAL = "医疗纠纷预防和处理条例"
_POLICE = "公安机关办理行政案件程序规定"

#: (flow, what, name, the corrected basis it starts with, what it said before)
CORRECTED = [
    *[
        row
        for flow in ("court_referred", "entrusted", "entrusted_simple")
        for row in (
            (flow, "transition", "inform", f"{_COURT} art. 14", f"{_COURT} art. 16"),
            (flow, "transition", "record_session", f"{_COURT} art. 17", f"{_COURT} art. 16"),
            (flow, "document", "court_rights_notice", f"{_COURT} art. 14", f"{_COURT} art. 16"),
        )
    ],
    (
        "traffic_police",
        "transition",
        "notify_parties",
        f"{_TRAFFIC} art. 88",
        f"{_TRAFFIC} art. 86",
    ),
    (
        "traffic_police",
        "transition",
        "record_session",
        f"{_TRAFFIC} art. 91",
        f"{_TRAFFIC} art. 90",
    ),
    ("traffic_police", "transition", "agree", f"{_TRAFFIC} art. 93", f"{_TRAFFIC} art. 90"),
    ("traffic_police", "transition", "end", f"{_TRAFFIC} art. 93", f"{_TRAFFIC} art. 90"),
    ("traffic_police", "document", "agreement", f"{_TRAFFIC} art. 93", f"{_TRAFFIC} art. 90"),
    ("traffic_police", "document", "termination", f"{_TRAFFIC} art. 93", f"{_TRAFFIC} art. 90"),
    ("online", "transition", "choose_mediator", f"{_ONLINE} art. 10", f"{_ONLINE} art. 12"),
    ("online", "transition", "designate_mediator", f"{_ONLINE} art. 10", f"{_ONLINE} art. 12"),
    ("online", "deadline", "selection_period", f"{_ONLINE} art. 10", f"{_ONLINE} art. 12"),
    ("online", "transition", "apply_confirmation", f"{_ONLINE} art. 20", "人民调解法"),
    ("online", "transition", "archive", f"{_ONLINE} art. 20", "人民调解法"),
    ("online", "deadline", "confirmation_window", "民事诉讼法 art. 205", "人民调解法"),
    ("online", "transition", "agree", f"{_ONLINE} art. 19", None),
    ("online", "document", "agreement", f"{_ONLINE} art. 19", None),
    ("land_contract", "transition", "refuse", f"{_LAND} art. 4", f"{_LAND} art. 3"),
    ("land_contract", "transition", "terminate", f"{_LAND} art. 4", f"{_LAND} art. 3"),
    ("land_contract", "transition", "withdraw", f"{_LAND} art. 4", f"{_LAND} art. 3"),
    ("health_admin", "transition", "agree", f"{_MEDICAL} art. 41", f"{_MEDICAL} art. 40"),
    ("health_admin", "document", "agreement", f"{_MEDICAL} art. 41", f"{_MEDICAL} art. 40"),
    (
        "public_order",
        "transition",
        "agree",
        f"{_POLICE} arts. 183-185",
        f"{_POLICE} arts. 183, 185",
    ),
    ("public_order", "document", "agreement", f"{_POLICE} art. 184", f"{_POLICE} art. 185"),
    # 人民调解工作若干规定 (2002) art. 37 item 2: an unsuitable agreement changed by mediating
    # again with both parties' consent (art. 38 is the committee assisting a court trying a
    # suit over the agreement).
    (
        "peoples",
        "transition",
        "remediate_agreement",
        "人民调解工作若干规定 art. 37（二）",
        "art. 38",
    ),
]


def _bases(flow: str, what: str, name: str) -> list[str]:
    declared = get_flow(flow)
    if what == "transition":
        return [t.legal_basis for t in declared.transitions if t.trigger == name]
    if what == "deadline":
        return [d.legal_basis for d in declared.deadlines if d.kind == name]
    return [d.legal_basis for d in declared.documents if d.kind == name]


@pytest.mark.parametrize(
    ("flow", "what", "name", "basis", "before"),
    CORRECTED,
    ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in CORRECTED],
)
def test_the_corrected_citation(
    flow: str, what: str, name: str, basis: str, before: str | None
) -> None:
    bases = _bases(flow, what, name)
    assert bases, f"{flow} declares no {what} {name}"
    for found in bases:
        assert found.startswith(basis), found
        # "art. 14" must not read as "art. 140"; the old article is gone.
        rest = found.removeprefix(basis)
        assert not rest[:1].isdigit(), found
        if before is not None:
            assert before not in found.replace(basis, ""), found


def test_the_online_flow_cites_no_people_s_mediation_law() -> None:
    """Online mediation is run by any organisation or mediator on the court's platform
    (在线调解规则 art. 5), not only by people's mediation committees."""
    declared = get_flow("online")
    bases = [t.legal_basis for t in declared.transitions if t.trigger != "record_prevention"]
    bases += [d.legal_basis for d in declared.deadlines]
    bases += [d.legal_basis for d in declared.documents]
    assert all("人民调解法" not in b for b in bases), bases


@pytest.mark.parametrize(
    ("basis", "chinese"),
    [
        (f"{_COURT} art. 14", "特邀调解规定第十四条"),
        (f"{_TRAFFIC} art. 88", "道路交通事故处理程序规定第八十八条"),
        (f"{_POLICE} arts. 183-185", "公安机关办理行政案件程序规定第一百八十三条至第一百八十五条"),
    ],
)
def test_as_users_read_them(basis: str, chinese: str) -> None:
    assert cn_basis(basis) == chinese


@pytest.fixture
def cli(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Iterator[Cli]:
    store.close()
    police = Cli(runner, db_url, tmp_path)
    add_org(police, "青交", "青山县公安局交通警察大队", "police")
    store.close()
    yield police


def test_the_refused_notice_names_article_88(cli: Cli) -> None:
    """A traffic police session notified too soon is refused, citing art. 88 (the three days'
    notice), not art. 86 (the application within 10 days)."""
    case = cli.open("2026-03-02", organisation="青交", flow="traffic_police",
                    dispute_type="traffic")  # fmt: skip
    cli.step(case, "accept", "2026-03-02", determination_received_on="2026-02-27",
             applied_on="2026-03-02", consented_by="张三、李四")  # fmt: skip
    soon = cli.refused(
        "case", "advance", case, "notify_parties", "--set", "session_on=2026-03-04",
        "--set", "place=青山县交警大队调解室", day="2026-03-02",
    )  # fmt: skip
    assert "第八十八条" in soon.stderr and "第八十六条" not in soon.stderr, soon.stderr
