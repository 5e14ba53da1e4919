"""Every document every flow declares renders, for a case of that flow that reached it.

Which documents apply to which flow is the flow's declaration (``Flow.documents``); the
docs/documents.md's table of them is checked against it here. For each flow and each declared
document, a case is opened and taken by the shortest path to the first state after which
the document exists (with complete data), then rendered: its title, case number and
parties are in the text, every font is an embedded subset, and the context handed to the
template has exactly the documented fields.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from mediation.documents import KINDS, render, service
from mediation.documents import kinds as K
from mediation.storage.store import Store
from mediation.workflows import DocumentSpec, flow_names, get_flow
from tests.conftest import T0
from tests.documents.test_documents import (
    ACTOR,
    AGREEMENT,
    add_extra_organisations,
    assert_fonts_embedded_subsets,
    assert_signed_before_applying,
    flat,
    full_record,
    pdfinfo,
    pdftext,
    sign_agreement,
    step,
    walk,
)

DOCUMENTS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "documents.md"
CASES = [(flow, spec.kind) for flow in flow_names() for spec in get_flow(flow).documents]


def _case_for(store: Store, flow: str, spec: DocumentSpec) -> int:
    """A case of ``flow`` that reached the document, with the data it prints."""
    if flow == "judicial_confirmation":
        # The court's case comes from a committee's agreement, handed on by the parties.
        pid, at = walk(store, "court_referred", "agreed")
        sign_agreement(store, pid, at + timedelta(minutes=30))  # in effect (人民调解法 art. 29)
        result = step(
            store,
            pid,
            "apply_confirmation",
            at + timedelta(hours=1),
            organisation="青山法院",
            consented_by=["张三", "李四"],
        )
        assert_signed_before_applying(store, pid)
        assert result.handed_off_to is not None
        court_case = int(result.handed_off_to.proceeding_id)
        if spec.kind == "confirmation_ruling":  # the court accepts and confirms it
            step(store, court_case, "accept", at + timedelta(hours=2))
            step(store, court_case, "confirm", at + timedelta(hours=3),
                 ruling_ref="（2026）浙0681民特1号", judge="陈法官", clerk="林书记员")  # fmt: skip
        return court_case
    pid, at = walk(store, flow, spec.after[0])  # signs a written agreement before 司法确认
    if spec.kind == "confirmation_application":
        assert_signed_before_applying(store, pid)
    if spec.kind == "investigation":
        step(
            store,
            pid,
            "record_session",
            at + timedelta(hours=1),
            kind="investigation",
            summary="现场查看共用通道。",
            place="桥头村12号至14号之间共用通道",
        )
    return pid


@pytest.mark.parametrize(("flow", "kind"), CASES, ids=[f"{f}-{k}" for f, k in CASES])
def test_every_declared_document_renders(
    store: Store, flow: str, kind: str, tmp_path: Path
) -> None:
    add_extra_organisations(store)
    spec = next(s for s in get_flow(flow).documents if s.kind == kind)
    pid = _case_for(store, flow, spec)
    now = T0 + timedelta(days=1)
    built = service.prepare(store, pid, kind, now=now)
    assert set(built.context) == set(KINDS[kind].context_fields)
    for field in ("parties", "applicants"):
        for party in built.context.get(field, []):
            assert set(party) == set(K.PARTY_FIELDS)
    if kind == "agreement":
        signers = [
            *built.context["signatures"]["parties"],
            *built.context["signatures"]["mediators"],
        ]
        for signer in [*signers, built.context["signatures"]["committee"]]:
            assert set(signer) == set(K.SIGNER_FIELDS)

    result = render(store, pid, kind, actor=ACTOR, now=now)
    text = flat(pdftext(result.pdf))
    assert flat(spec.label) in text or kind == "cover"
    assert pdfinfo(result.pdf)["Title"] == spec.label
    assert result.case_number in text or kind == "petition_feedback"
    assert result.pages == int(pdfinfo(result.pdf)["Pages"]) >= 1
    assert "张三" in text and "李四" in text
    assert_fonts_embedded_subsets(result.pdf, tmp_path)
    if kind == "agreement":
        for key in ("terms", "performance_place", "performance_method"):
            assert flat(AGREEMENT[key]) in text, key
        assert re.search(r"履行期限：2026年3月\d+日", text)
    if kind == "court_letter":
        assert "青山县人民法院" in text and "（2026）浙0681民诉前调7号" in text


def test_the_docs_list_the_documents_each_flow_declares() -> None:
    """The table in the Documents page (docs/documents.md) is the flows' declarations."""
    text = DOCUMENTS_PAGE.read_text("utf-8")
    table = text.split("| Flow | Documents |\n|---|---|\n", 1)[1]
    rows = {}
    for line in table.splitlines():
        if not line.startswith("|"):
            break
        flow, kinds = (c.strip() for c in line.strip().strip("|").split("|"))
        rows[flow.strip("`")] = [k.strip("` ") for k in kinds.split(",")]
    assert rows == {f: [s.kind for s in get_flow(f).documents] for f in flow_names()}


def test_a_whole_peoples_case_file_renders(store: Store, tmp_path: Path) -> None:
    """One case through the whole people's-mediation flow has all its documents."""
    pid, at = walk(store, "peoples", "mediating")
    moves = [
        ("record_session", {"kind": "investigation", "summary": "走访邻居。", "place": "桥头村"}),
        ("agree_written", {**AGREEMENT, "performance_deadline": "2026-03-20"}),
        (
            "follow_up",
            {"performance": "performed", "summary": "已清理。", "satisfaction": "satisfied"},
        ),
        ("apply_confirmation", {"court": "青山县人民法院", "consented_by": ["张三", "李四"]}),
        ("confirmation_granted", {"ruling_ref": "（2026）浙0681民特12号"}),
        ("archive", {}),
    ]
    for trigger, payload in moves:
        at += timedelta(hours=1)
        step(store, pid, trigger, at, **payload)
        if trigger == "agree_written":
            # Both parties and the mediator sign it and the committee seals it: in effect, so
            # the parties may apply for 司法确认 (人民调解法 arts. 29, 33).
            sign_agreement(store, pid, at + timedelta(minutes=30))
    assert_signed_before_applying(store, pid)
    from mediation.documents import documents_of

    have = [(d["kind"], d["seq"]) for d in documents_of(store, pid)]
    assert have == [
        ("application", 1),
        ("registration", 1),
        ("rights_notice", 1),
        ("investigation", 1),
        ("record", 1),
        ("agreement", 1),
        ("follow_up", 1),
        ("confirmation_application", 1),
        ("cover", 1),
    ]
    rendered = {kind: render(store, pid, kind, actor=ACTOR, now=at, seq=seq) for kind, seq in have}
    # The follow-up prints the performance and satisfaction codes' labels, not the codes.
    visit = flat(pdftext(rendered["follow_up"].pdf))
    assert "已履行" in visit and "满意" in visit and "satisfied" not in visit
    cover = render(store, pid, "cover", actor=ACTOR, now=at)
    text = flat(pdftext(cover.pdf))
    for title in (
        "人民调解申请书",
        "调查记录",
        "人民调解记录",
        "人民调解协议书",
        "回访记录",
        "司法确认申请书",
    ):
        assert title in text
    assert full_record()["parties"][0]["name"] in text
