"""Documents (domain.md §5): templates and their documented context, refusals, storage.

Cases are built with the library calls the CLI uses (``open_case``, ``advance``) on a real
database (SQLite file and PostgreSQL schema); PDFs are read back with poppler's
``pdftotext``, ``pdffonts`` and ``pdfinfo``. The helpers here (a full intake record, the
data each trigger needs, :func:`walk`) are shared by ``test_documents_*.py``.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jinja2 import meta, nodes
from sqlalchemy import func, insert, select, update

from mediation.demo.agreement import sign_in
from mediation.documents import (
    KINDS,
    SEAL_BOX,
    DocumentIncomplete,
    DocumentNotAvailable,
    DocumentSigned,
    render,
    render_document,
    service,
)
from mediation.documents import kinds as K
from mediation.documents.signatures import signatures
from mediation.domain import intake
from mediation.engine.cases import advance, open_case
from mediation.engine.machine import load
from mediation.engine.organisations import add_organisation
from mediation.engine.queries import history
from mediation.storage._tables import access_event_table, document_table, signature_table
from mediation.storage.store import Store
from mediation.workflows import Transition, flow_names, get_flow
from tests.conftest import T0

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
TEMPLATES = Path(service.__file__).resolve().parents[1] / "templates"
ACTOR = "周明"

#: Organisations beyond the conftest ladder, for flows run by courts, organs and police.
EXTRA_ORGANISATIONS = (
    ("青山法院", "青山县人民法院", "county", "court"),
    ("青山信访", "青山县信访局", "county", "petition_bureau"),
    ("青山卫健", "青山县卫生健康局", "county", "admin_organ"),
    ("城关派出所", "青山县公安局城关派出所", "township", "police"),
)
#: Where each flow's cases are opened, and through which channel.
FLOW_HOME = {
    "judicial": ("青山法院", "court"),
    "judicial_simple": ("青山法院", "court"),
    "judicial_confirmation": ("青山法院", "court"),
    "court_referred": ("桥头", "court"),
    "entrusted": ("桥头", "court"),
    "entrusted_simple": ("桥头", "court"),
    "online": ("桥头", "court"),
    "petition": ("青山信访", "petition"),
    "administrative": ("青山卫健", "walk_in"),
    "health_admin": ("青山卫健", "walk_in"),
    "traffic_police": ("城关派出所", "police"),
    "public_order": ("城关派出所", "police"),
}


#: The court's code (法院代字) its own cases are numbered with: （2026）浙0681民初1号.
COURT_CODES = {"青山法院": "浙0681"}


def add_extra_organisations(store: Store) -> None:
    for code, name, level, kind in EXTRA_ORGANISATIONS:
        add_organisation(
            store,
            code=code,
            name=name,
            level=level,
            kind=kind,
            now=T0,
            court_code=COURT_CODES.get(code),
        )


def full_record(flow: str = "peoples", **overrides: Any) -> dict[str, Any]:
    """The example intake (every particular of both parties), opened in ``flow``."""
    record: dict[str, Any] = tomllib.loads((EXAMPLES / "intake.toml").read_text("utf-8"))
    record["parties"][1]["birth_date"] = "1980-05-01"
    org, channel = FLOW_HOME.get(flow, ("桥头", "walk_in"))
    record.update(flow=flow, organisation=org, channel=channel)
    if channel != "walk_in":
        record.update(
            referring_organ="青山县人民法院" if channel == "court" else "青山县信访局",
            referral_ref="（2026）浙0681民诉前调7号",
            application_mode="referral",
        )
    record.update(overrides)
    return record


AGREEMENT = tomllib.loads((EXAMPLES / "agreement.toml").read_text("utf-8"))
#: What a session records beyond kind and summary (optional keys documents read).
SESSION_EXTRAS = {
    "place": "桥头村人民调解委员会调解室",
    "participants": "张三、李四、周明、吴桂英",
    "accounts": "张三称通道被堵影响出行；李四称杂物系临时堆放。",
    "verification": "经现场查看属实。",
    "risk_warning": "双方情绪平稳，无激化风险。",
}


def payload_for(
    trigger: str, requires: tuple[str, ...], at: datetime, names: list[str]
) -> dict[str, Any]:
    """Valid data for one firing of ``trigger`` at ``at``."""
    day = at.date()
    data: dict[str, Any] = {
        **AGREEMENT,
        "performance_deadline": (day + timedelta(days=18)).isoformat(),
        "reason": "双方分歧过大",
        "redirect_to": "青山县人民法院",
        "party": names[0],
        "mediators": ["周明", "吴桂英"],
        "selection": "designated",
        "kind": "mediation",
        "summary": "双方到场协商，李四同意清理杂物。",
        "consented_by": names,
        "new_due": (day + timedelta(days=60)).isoformat(),
        "other_routes": "可依法申请仲裁或向人民法院提起诉讼",
        "police_organ": "青山县公安局城关派出所",
        "measures": "劝离双方，约定冷静期",
        "accepted_by": "青山县人民法院",
        "accepted_on": day.isoformat(),
        "place": "青山县交警大队调解室",
        "performance": "performed",
        "court": "青山县人民法院",
        "ruling_ref": "（2026）浙0681民特12号",
        "organisation": "桥头",
        "court_ref": "（2026）浙0681民诉前调7号",
        "approved_by": "王局长",
        "exclusion": "party_refuses",
        "result": "agreement",
        "opinion": "已调解结案",
        "organ": "青山县人民法院",
        "appraisal_body": "江城市医学会",
        "matter": "医疗损害鉴定",
        "conclusion": "构成一级医疗事故",
        "insurer": "中国人民财产保险青山支公司",
        "session_on": (day + timedelta(days=5)).isoformat(),
        "determination_received_on": day.isoformat(),
        "applied_on": day.isoformat(),
        "confirmation_notice": "已告知双方可以申请司法确认",
        "decision": "出具调解书",
        "report_ref": "桥调函〔2026〕3号",
        "served_on": day.isoformat(),
        "penalty": "警告",
        "claims": "判令被告清理共用通道内堆放的杂物。",
        "judge": "陈法官",
        "clerk": "林书记员",
        "designated_by": "青山县人民法院",
    }
    payload = {key: data[key] for key in requires}
    if trigger.startswith("other_party_"):  # 行政调解: the respondent answers (domain.md §3.2)
        payload["party"] = names[-1]
    if "summary" in requires and "kind" in requires:
        payload.update(SESSION_EXTRAS)
    if trigger == "agree_oral":  # the form wants what a written agreement states
        payload.update({key: data[key] for key in AGREEMENT})
    return payload


def path_to(flow: str, target: str) -> list[Transition]:
    """The shortest run of transitions from the initial state to ``target`` that a user
    can fire now (not the consequences of an expired period)."""
    machine = load(flow)
    start = machine.flow.initial
    queue: deque[tuple[str, list[Transition]]] = deque([(start, [])])
    seen = {start}
    while queue:
        state, path = queue.popleft()
        if state == target:
            return path
        for t in machine.allowed(state):
            if t.dest and t.dest not in seen and "period_expired" not in t.guards:
                seen.add(t.dest)
                queue.append((t.dest, [*path, t]))
    raise ValueError(f"{target} is unreachable in {flow}")


def walk(
    store: Store,
    flow: str,
    target: str,
    *,
    record: dict[str, Any] | None = None,
    start: datetime = T0,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> tuple[int, datetime]:
    """Open a case in ``flow`` and take it by the shortest path to ``target``.

    :returns: the case id and the time of its last step.
    """
    record = record or full_record(flow)
    names = [p["name"] for p in record["parties"] if p["role"] in ("applicant", "respondent")]
    opened = open_case(store, intake.validate(record), actor=ACTOR, now=start)
    at = start
    agreement = None
    for t in path_to(flow, target):
        if "agreement_in_effect" in t.guards and agreement != "agree_oral":
            # 司法确认 only of a written agreement in effect: signed half an hour after the
            # last step, before it is applied for (人民调解法 arts. 29, 33).
            sign_agreement(store, opened.proceeding_id, at + timedelta(minutes=30))
        if "record_agreement" in t.effects:
            agreement = t.trigger
        if "notified_session_reached" in t.guards:
            # The mediation starts on the day notified to the parties (session_on, 5 days
            # on: at least 3 days' notice, 道路交通事故处理程序规定 art. 88).
            at += timedelta(days=5)
        at += timedelta(hours=1)
        payload = payload_for(t.trigger, t.requires, at, names)
        payload.update((overrides or {}).get(t.trigger, {}))
        advance(store, opened.proceeding_id, t.trigger, actor=ACTOR, now=at, payload=payload)
    return opened.proceeding_id, at


def step(store: Store, pid: int, trigger: str, at: datetime, **payload: Any) -> Any:
    return advance(store, pid, trigger, actor=ACTOR, now=at, payload=payload)


def sign_agreement(store: Store, pid: int, at: datetime) -> None:
    """Every party and the mediator sign the case's written agreement and the committee
    seals it, at ``at``: it takes effect (人民调解法 art. 29)."""
    with store.write() as conn:
        sign_in(conn, pid, actor=ACTOR, now=at)


def assert_signed_before_applying(store: Store, pid: int) -> None:
    """Each application for 司法确认 of the case followed its agreement's taking effect: every
    signature recorded at or after the agreement was reached, and before the application."""
    reaching = {
        t.trigger
        for flow in flow_names()
        for t in get_flow(flow).transitions
        if "record_agreement" in t.effects
    }
    events = history(store, str(pid))["events"]
    applications = [e for e in events if e["trigger"] == "apply_confirmation"]
    assert applications
    for applied in applications:
        before = [e for e in events if e["seq"] < applied["seq"]]
        agreed = max((e for e in before if e["trigger"] in reaching), key=lambda e: e["seq"])
        since = [e for e in before if e["seq"] > agreed["seq"]]
        signed = [e for e in since if e["trigger"] == "record_signature"]
        effective = [e for e in since if e["trigger"] == "agreement_effective"]
        assert {e["payload"]["signer_kind"] for e in signed} == {"party", "mediator", "committee"}
        assert len(effective) == 1, [e["trigger"] for e in before]
        for e in [*signed, *effective]:
            assert agreed["occurred_at"] <= e["occurred_at"] < applied["occurred_at"], e
        for e in signed:
            signed_at = datetime.fromisoformat(e["payload"]["signed_at"])
            assert agreed["occurred_at"] <= signed_at < applied["occurred_at"], e


# -- reading PDFs ---------------------------------------------------------------------


def pdftext(
    pdf: bytes, *, first: int | None = None, last: int | None = None, layout: bool = False
) -> str:
    args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else [])]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    out = subprocess.run([*args, "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return out.decode("utf-8")


def flat(text: str) -> str:
    """Text without any whitespace: line breaks fall anywhere in justified CJK text."""
    return re.sub(r"\s+", "", text)


def pdffonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """The font table rows (name, type..., emb, sub, uni, object, id)."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:] if line.strip()]


def pdfinfo(pdf: bytes) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    info = {}
    for line in out.decode("utf-8").splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def assert_fonts_embedded_subsets(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    rows = pdffonts(pdf, tmp_path)
    assert rows, "no fonts in the PDF"
    for row in rows:
        # ... emb sub uni object ID: emb and sub are the 5th and 4th columns from the end.
        assert row[-5:-3] == ["yes", "yes"], f"font not an embedded subset: {row}"
    return rows


# -- templates and their documented context -------------------------------------------------


def _variables(name: str) -> set[str]:
    """The context variables a template reads (names it imports macros as excluded)."""
    env = service._environment()
    source = env.loader.get_source(env, name)[0]
    tree = env.parse(source)
    imported = {node.target for node in tree.find_all(nodes.Import)}
    return set(meta.find_undeclared_variables(tree)) - imported


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_template_uses_exactly_its_documented_context(kind: str) -> None:
    used = _variables(KINDS[kind].template) | _variables("doc_base.html")
    documented = set(KINDS[kind].context_fields)
    assert used - documented == set(), f"{kind}: used but undocumented in kinds.py"
    assert documented - used == set(), f"{kind}: documented but unused by its template"


def test_every_document_template_is_a_kind() -> None:
    shared = {"doc_base.html", "doc_macros.html"}
    templates = {p.name for p in TEMPLATES.glob("doc_*.html")} - shared
    assert templates == {k.template for k in KINDS.values()}


def test_macros_use_every_documented_party_and_signer_field() -> None:
    source = "".join(p.read_text("utf-8") for p in TEMPLATES.glob("doc_*.html"))
    for field in K.PARTY_FIELDS:
        assert re.search(rf"\bp\.{field}\b", source), f"party field {field} is never printed"
    for field in K.SIGNER_FIELDS:
        assert re.search(rf"\bs\.{field}\b", source), f"signer field {field} is never printed"


def test_every_declared_document_kind_has_a_template() -> None:
    from mediation.workflows import flow_names

    declared = {d.kind for name in flow_names() for d in get_flow(name).documents}
    assert declared <= set(KINDS), (
        f"flows declare kinds without a template: {declared - set(KINDS)}"
    )


def test_seal_box_is_the_bottom_right_of_the_text_area() -> None:
    x1, y1, x2, y2 = SEAL_BOX
    mm = 72 / 25.4
    assert (x2, y1) == (round((210 - 24) * mm, 2), round(25 * mm, 2))
    assert x2 - x1 == pytest.approx(44 * mm, abs=0.01) and y2 - y1 == pytest.approx(
        44 * mm, abs=0.01
    )


# -- the agreement --------------------------------------------------------------------------


@pytest.fixture
def doc_store(store: Store) -> Store:
    add_extra_organisations(store)
    return store


def _agreed(store: Store, **kwargs: Any) -> tuple[int, datetime]:
    return walk(store, "peoples", "agreed_written", **kwargs)


def test_agreement_has_every_statutory_field(doc_store: Store, tmp_path: Path) -> None:
    record = full_record()
    record["parties"].append(
        {"role": "third_party", "name": "王五", "gender": "male", "address": "桥头村16号"}
    )
    pid, at = _agreed(doc_store, record=record)
    doc_id, pdf = render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    text = flat(pdftext(pdf))
    for name in ("张三", "李四", "王五"):
        assert name in text
    for key in (
        "facts",
        "issues",
        "responsibility",
        "terms",
        "performance_method",
        "performance_place",
    ):
        assert flat(AGREEMENT[key]) in text, key
    assert "履行期限：2026年3月20日" in text  # the deadline given as 2026-03-20
    assert "一式四份" in text  # three parties + the committee
    assert "人民调解法第二十九条" in text and "（2026）桥头人调字第1号" in text
    assert_fonts_embedded_subsets(pdf, tmp_path)
    with doc_store.read() as conn:
        row = conn.execute(select(document_table).where(document_table.c.id == doc_id)).one()
    assert row.content == pdf and row.kind == "agreement" and row.status == "rendered"
    assert row.pages == int(pdfinfo(pdf)["Pages"]) and row.size == len(pdf)


def test_pdf_is_a4_with_title_and_case_number_in_its_metadata(doc_store: Store) -> None:
    pid, at = _agreed(doc_store)
    _, pdf = render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    info = pdfinfo(pdf)
    assert info["Title"] == "人民调解协议书"
    assert (
        "（2026）桥头人调字第1号" in info["Subject"]
        and "（2026）桥头人调字第1号" in info["Keywords"]
    )
    assert info["Author"] == "桥头村人民调解委员会"
    assert info["Page size"].startswith("595.276 x 841.89")


def test_html_is_simplified_chinese(doc_store: Store) -> None:
    pid, at = _agreed(doc_store)
    built = service.prepare(doc_store, pid, "agreement", now=at)
    assert service.html(built).startswith('<!DOCTYPE html>\n<html lang="zh-CN">')


def test_rare_name_characters_print(doc_store: Store, tmp_path: Path) -> None:
    record = full_record()
    record["parties"][0]["name"] = "王䶮"  # CJK extension A
    record["parties"][1]["name"] = "李𠈌"  # CJK extension B
    pid, at = _agreed(doc_store, record=record)
    _, pdf = render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    text = pdftext(pdf)
    assert "王䶮" in text and "李𠈌" in text
    rows = assert_fonts_embedded_subsets(pdf, tmp_path)
    # The document face, and the full Noto Serif face for the two rare characters.
    assert len(rows) == 2


def test_a_character_no_font_has_is_refused_not_printed_as_a_box(doc_store: Store) -> None:
    record = full_record()
    record["parties"][1]["name"] = "李\U00030000"  # CJK extension G: no installed font has it
    pid, at = _agreed(doc_store, record=record)
    with pytest.raises(DocumentIncomplete) as caught:
        render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    assert (
        "U+30000" in caught.value.message and "没有任何已安装的字体可以显示" in caught.value.message
    )
    assert "parties[1].name" in caught.value.message
    _assert_nothing_written(doc_store)


def _assert_nothing_written(store: Store) -> None:
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(document_table)).scalar() == 0
        renders = select(func.count()).where(access_event_table.c.action == "doc_render")
        assert conn.execute(renders).scalar() == 0


def test_missing_party_particulars_refuse_the_agreement(doc_store: Store) -> None:
    """intake_record()'s respondent has only a name and a phone: art. 29 wants more."""
    from tests.conftest import intake_record

    pid, at = _agreed(doc_store, record=intake_record())
    with pytest.raises(DocumentIncomplete) as caught:
        render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    message = caught.value.message
    assert "被申请人李四的性别" in message and "被申请人李四的住址" in message
    assert "申请人张三" not in message  # the applicant's particulars are complete
    assert caught.value.exit_code == 3
    _assert_nothing_written(doc_store)


def test_organisation_party_needs_its_representative(doc_store: Store) -> None:
    record = full_record()
    record["parties"][1] = {
        "role": "respondent",
        "kind": "organisation",
        "name": "青山物业管理有限公司",
        "address": "青山县城关镇人民路1号",
        "legal_representative": "赵六",
    }
    pid, at = _agreed(doc_store, record=record)
    _, pdf = render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    text = flat(pdftext(pdf))
    assert "被申请人：青山物业管理有限公司，住所地：青山县城关镇人民路1号，法定代表人：赵六" in text
    assert "（法定代表人：赵六）" in text  # in the signature block


def test_oral_agreement_needs_the_fields_agree_oral_does_not_require(doc_store: Store) -> None:
    pid, at = walk(doc_store, "peoples", "mediating")
    at += timedelta(hours=1)
    step(doc_store, pid, "agree_oral", at, terms="李四当日清理杂物，张三不再追究。")
    with pytest.raises(DocumentIncomplete) as caught:
        render_document(doc_store, str(pid), "oral_agreement", actor=ACTOR, now=at)
    for label in (
        "纠纷的主要事实",
        "争议事项",
        "各方当事人的责任",
        "履行方式",
        "履行地点",
        "履行期限",
    ):
        assert label in caught.value.message
    assert "协议内容:" not in caught.value.message  # terms were given
    assert "--set performance_place=" in caught.value.message

    # The same step with every field given renders.
    pid, at = walk(doc_store, "peoples", "mediating")
    at += timedelta(hours=1)
    step(doc_store, pid, "agree_oral", at, **{**AGREEMENT, "performance_deadline": "当场履行"})
    _, pdf = render_document(doc_store, str(pid), "oral_agreement", actor=ACTOR, now=at)
    text = flat(pdftext(pdf))
    assert "口头协议登记表" in text and "当场履行" in text and flat(AGREEMENT["terms"]) in text


def test_record_needs_the_place_of_each_session(doc_store: Store) -> None:
    pid, at = walk(
        doc_store,
        "peoples",
        "mediating",
        overrides={"record_session": {"place": ""}},
    )
    with pytest.raises(DocumentIncomplete) as caught:
        render_document(doc_store, str(pid), "record", actor=ACTOR, now=at)
    assert "第1次调解的地点" in caught.value.message
    # A second session with its place does not make up for the first.
    at += timedelta(hours=1)
    step(
        doc_store, pid, "record_session", at, kind="mediation", summary="再次协商。", place="调解室"
    )
    with pytest.raises(DocumentIncomplete):
        render_document(doc_store, str(pid), "record", actor=ACTOR, now=at)

    pid, at = walk(doc_store, "peoples", "mediating")
    _, pdf = render_document(doc_store, str(pid), "record", actor=ACTOR, now=at)
    text = flat(pdftext(pdf))
    assert flat(SESSION_EXTRAS["place"]) in text and flat(SESSION_EXTRAS["accounts"]) in text


def test_application_for_confirmation_opened_at_court_without_agreement_is_refused(
    doc_store: Store,
) -> None:
    """A judicial-confirmation case opened directly has no agreement to confirm on record."""
    pid, at = walk(doc_store, "judicial_confirmation", "applied")
    with pytest.raises(DocumentIncomplete) as caught:
        render_document(doc_store, str(pid), "confirmation_application", actor=ACTOR, now=at)
    for label in ("调解协议编号", "调解协议达成日期", "主持调解的组织", "调解协议内容"):
        assert label in caught.value.message


# -- availability ---------------------------------------------------------------------------


def test_a_document_exists_only_once_the_case_reached_it(doc_store: Store) -> None:
    pid, at = walk(doc_store, "peoples", "mediating")
    with pytest.raises(DocumentNotAvailable) as caught:
        render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    assert "尚未到达「达成书面协议」" in caught.value.message
    assert "record" in (caught.value.hint or "")
    with pytest.raises(DocumentNotAvailable) as caught:
        render_document(doc_store, str(pid), "court_letter", actor=ACTOR, now=at)
    assert "没有「委派调解结果函」" in caught.value.message
    with pytest.raises(DocumentNotAvailable):
        render_document(doc_store, str(pid), "record", actor=ACTOR, now=at, seq=2)
    _assert_nothing_written(doc_store)


def test_initiative_cases_have_no_application(doc_store: Store) -> None:
    record = full_record(application_mode="initiative", channel="grid")
    pid, at = walk(doc_store, "peoples", "applied", record=record)
    with pytest.raises(DocumentNotAvailable) as caught:
        render_document(doc_store, str(pid), "application", actor=ACTOR, now=at)
    assert "主动调解" in caught.value.message


def test_repeated_documents_are_numbered(doc_store: Store) -> None:
    pid, at = walk(doc_store, "peoples", "mediating")
    for n, summary in enumerate(("查看通道。", "走访邻居王五。"), 1):
        at += timedelta(hours=1)
        step(
            doc_store,
            pid,
            "record_session",
            at,
            kind="investigation",
            summary=summary,
            place=f"现场{n}",
        )
    first = render(doc_store, str(pid), "investigation", actor=ACTOR, now=at, seq=1)
    second = render(doc_store, str(pid), "investigation", actor=ACTOR, now=at, seq=2)
    assert first.document_id != second.document_id
    assert "第一次调查" in flat(pdftext(first.pdf)) and "查看通道" in flat(pdftext(first.pdf))
    assert "第二次调查" in flat(pdftext(second.pdf)) and "走访邻居王五" in flat(pdftext(second.pdf))


# -- storing --------------------------------------------------------------------------------


def test_rerendering_replaces_the_unsigned_document_in_place(doc_store: Store) -> None:
    pid, at = _agreed(doc_store)
    first = render(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    later = at + timedelta(days=1)
    again = render(doc_store, str(pid), "agreement", actor="吴桂英", now=later)
    assert again.document_id == first.document_id and again.replaced and not first.replaced
    with doc_store.read() as conn:
        rows = conn.execute(select(document_table)).all()
        events = conn.execute(
            select(access_event_table.c.actor, access_event_table.c.detail)
            .where(access_event_table.c.action == "doc_render")
            .order_by(access_event_table.c.id)
        ).all()
    assert len(rows) == 1 and rows[0].rendered_by == "吴桂英" and rows[0].sha256 == again.sha256
    assert rows[0].content == again.pdf
    assert [(e.actor, e.detail["replaced"]) for e in events] == [(ACTOR, False), ("吴桂英", True)]


def test_a_signed_document_is_never_rendered_again(doc_store: Store) -> None:
    pid, at = _agreed(doc_store)
    doc_id, pdf = render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    with doc_store.write() as conn:  # what `doc sign` leaves behind
        conn.execute(
            update(document_table)
            .where(document_table.c.id == doc_id)
            .values(status="signed", signed_at=at, signed_by=ACTOR)
        )
    with pytest.raises(DocumentSigned) as caught:
        render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=at + timedelta(days=1))
    assert caught.value.exit_code == 5 and "已签章" in caught.value.message
    with doc_store.read() as conn:
        row = conn.execute(select(document_table).where(document_table.c.id == doc_id)).one()
        renders = conn.execute(
            select(func.count()).where(access_event_table.c.action == "doc_render")
        ).scalar()
    assert row.content == pdf and row.status == "signed" and renders == 1


# -- signatures and the seal ------------------------------------------------------------------


def _png(width: int = 60, height: int = 20) -> bytes:
    """A small PNG (a scanned signature stand-in)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _sign(store: Store, pid: int, at: datetime, **values: Any) -> None:
    with store.write() as conn:
        conn.execute(
            insert(signature_table).values(
                proceeding_id=pid,
                document_kind="agreement",
                signed_at=at,
                recorded_by=ACTOR,
                recorded_at=at,
                **values,
            )
        )


def test_signature_block_shows_what_was_recorded_and_blank_lines_otherwise(
    doc_store: Store, tmp_path: Path
) -> None:
    pid, at = _agreed(doc_store)
    _, unsigned = render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    rows = _signature_rows(unsigned)
    assert set(rows) == {"张三", "李四", "周明", "吴桂英"}
    assert all(re.fullmatch(r"年\s+月\s+日", when) for when in rows.values()), rows
    with doc_store.read() as conn:
        from mediation.storage._tables import party_table

        zhang = conn.execute(select(party_table.c.id).where(party_table.c.name == "张三")).scalar()
    signed_at = datetime(2026, 3, 3, 10, 30, tzinfo=T0.tzinfo)
    _sign(
        doc_store,
        pid,
        signed_at,
        signer_kind="party",
        party_id=zhang,
        signer_name="张三",
        method="sign",
        image=_png(),
        image_type="image/png",
    )
    _sign(doc_store, pid, signed_at, signer_kind="mediator", signer_name="周明", method="sign")
    _sign(
        doc_store,
        pid,
        signed_at,
        signer_kind="committee",
        signer_name="桥头村人民调解委员会",
        method="seal",
    )
    _, pdf = render_document(doc_store, str(pid), "agreement", actor=ACTOR, now=signed_at)
    rows = _signature_rows(pdf)
    assert rows["张三"].endswith("2026年3月3日10时30分") and rows["周明"].endswith(
        "2026年3月3日10时30分"
    )
    assert "（已签名）" in rows["周明"]  # recorded without a scan
    assert re.fullmatch(r"年\s+月\s+日", rows["李四"]) and re.fullmatch(
        r"年\s+月\s+日", rows["吴桂英"]
    )
    text = flat(pdftext(pdf))
    assert "桥头村人民调解委员会盖章（已盖章）" in text
    assert "桥头村人民调解委员会（印章）2026年3月3日10时30分" in text  # the seal's date
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True)
    assert len(listing.stdout.splitlines()) == 3, listing.stdout  # header, rule, the scan


def test_signatures_of_an_agreement_replaced_by_remediation_are_not_shown(
    doc_store: Store,
) -> None:
    pid, at = _agreed(doc_store)
    # The first agreement is signed by both parties and 周明 and sealed (in effect, so the
    # parties may apply for 司法确认), then denied and replaced.
    sign_agreement(doc_store, pid, at + timedelta(hours=1))
    first = {(s["signer_kind"], s["signer_name"]) for s in signatures(doc_store, str(pid))}
    assert {("mediator", "周明"), ("party", "张三"), ("party", "李四")} <= first
    at += timedelta(days=1)
    step(
        doc_store,
        pid,
        "apply_confirmation",
        at,
        court="青山县人民法院",
        consented_by=["张三", "李四"],
    )
    assert_signed_before_applying(doc_store, pid)
    step(
        doc_store,
        pid,
        "confirmation_denied",
        at,
        ruling_ref="（2026）浙0681民特13号",
        reason="协议内容不明确",
    )
    step(doc_store, pid, "remediate", at)
    step(doc_store, pid, "agree_written", at + timedelta(hours=1), **AGREEMENT)
    _, pdf = render_document(
        doc_store, str(pid), "agreement", actor=ACTOR, now=at + timedelta(hours=2)
    )
    rows = _signature_rows(pdf)
    assert re.fullmatch(r"年\s+月\s+日", rows["周明"])
    for party in ("张三", "李四"):  # the parties signed the old one too
        assert re.fullmatch(r"年\s+月\s+日", rows[party]), rows
    assert "（已盖章）" not in flat(pdftext(pdf))  # nor the committee's seal


def _signature_rows(pdf: bytes) -> dict[str, str]:
    """Signer name → the rest of its row of the signature block (laid-out text)."""
    rows = {}
    for line in pdftext(pdf, layout=True).splitlines():
        found = re.match(r"\s*(?:申请人|被申请人|人民调解员)：(\S+)\s+(.*\S)", line)
        if found and ("年" in found[2] or "已" in found[2]):
            rows[found[1]] = found[2]
    return rows


def _words(pdf: bytes, page: int) -> list[tuple[float, float, float, float, str]]:
    """(x1, y1, x2, y2, word) on ``page`` in PDF points from the bottom-left corner."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', out)[1])  # type: ignore[index]
    words = []
    for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out
    ):
        x1, y1, x2, y2 = (float(v) for v in m.groups()[:4])
        words.append((x1, height - y2, x2, height - y1, m[5]))
    return words


@pytest.mark.parametrize("length", [1, 60])
def test_the_seal_box_on_the_last_page_holds_only_the_name_and_date(
    doc_store: Store, length: int
) -> None:
    terms = "被申请人于2026年3月20日前清理通道内全部杂物，今后不再堆放。" * length
    pid, at = _agreed(doc_store, overrides={"agree_written": {"terms": terms}})
    result = render(doc_store, str(pid), "agreement", actor=ACTOR, now=at)
    assert (result.pages > 2) == (length > 1)
    words = _words(result.pdf, result.pages)
    x1, y1, x2, y2 = SEAL_BOX
    inside = [w[4] for w in words if w[0] < x2 and w[2] > x1 and w[1] < y2 and w[3] > y1]
    # The seal is stamped over the organisation's name and date (盖章处), nothing else.
    assert inside == ["桥头村人民调解委员会（印章）", "2026年3月2日"], inside


def test_cover_lists_the_documents_of_the_file_in_order(doc_store: Store) -> None:
    pid, at = walk(doc_store, "peoples", "mediating")
    at += timedelta(hours=1)
    step(doc_store, pid, "terminate", at, reason="双方分歧过大", other_routes="可依法提起诉讼")
    step(doc_store, pid, "archive", at + timedelta(hours=1))
    for kind in ("application", "registration", "rights_notice"):
        render(doc_store, str(pid), kind, actor=ACTOR, now=at)
    result = render(doc_store, str(pid), "cover", actor=ACTOR, now=at)
    text = pdftext(result.pdf)
    assert "人民调解卷宗" in flat(text) and "卷内目录" in flat(text)
    order = [
        line
        for line in text.splitlines()
        if line.strip()
        in ("人民调解申请书", "人民调解受理登记表", "当事人权利义务告知书", "当事人身份证明")
    ]
    assert order == [
        "人民调解申请书",
        "人民调解受理登记表",
        "当事人权利义务告知书",
        "当事人身份证明",
    ]
    assert "卷内已制作文书共3页" in flat(text)


def test_data_is_escaped_not_interpreted(doc_store: Store) -> None:
    record = full_record(summary='<img src="file:///etc/passwd"> & <b>粗体</b>')
    pid, at = walk(doc_store, "peoples", "applied", record=record)
    _, pdf = render_document(doc_store, str(pid), "application", actor=ACTOR, now=at)
    assert '<img src="file:///etc/passwd"> & <b>粗体</b>' in pdftext(pdf).replace("\n", "")


def test_page_counts_of_a_peoples_case_file(doc_store: Store) -> None:
    pid, at = walk(doc_store, "peoples", "mediating")
    at += timedelta(hours=1)
    step(doc_store, pid, "agree_written", at, **AGREEMENT)
    step(doc_store, pid, "follow_up", at, performance="performed", summary="已清理。")
    step(doc_store, pid, "archive", at + timedelta(hours=1))
    pages = {
        kind: render(doc_store, str(pid), kind, actor=ACTOR, now=at).pages
        for kind in ("application", "registration", "rights_notice", "record", "agreement")
    }
    pages["cover"] = render(doc_store, str(pid), "cover", actor=ACTOR, now=at).pages
    # One-page forms; the record and the agreement run onto a second page for their
    # signatures and seal; the cover has its index on a page of its own.
    assert pages == {
        "application": 1,
        "registration": 1,
        "rights_notice": 1,
        "record": 2,
        "agreement": 2,
        "cover": 2,
    }
