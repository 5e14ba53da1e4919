"""Demo data: committees on every level of the ladder and realistic cases in every state.

Everything goes through the same library calls a mediator's commands use (``open_case``,
``advance``), so the demo also exercises the engine. The same seed gives the same data.

Up to :data:`BULK_FROM` cases the demo narrates one case and spreads the others over every
state of people's mediation. Above it (``mediation demo --cases 100000``, for statistics
and benchmarks) :func:`run_bulk` fills a whole county: every flow in realistic shares and
outcomes, still through the engine (``open_in``/``advance_in``: deadlines, facts, events
and their audit chain as in daily use) but many cases to a transaction.

Layout: this module walks and spreads the people's-mediation cases (:func:`run_demo`);
:mod:`.records` makes up the intake records, :mod:`.agreement` signs and seals the walked
case's agreement, :mod:`.bulk` is the fast path.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mediation.demo.agreement import DEMO_PASSPHRASE, sign_agreement, sign_in
from mediation.demo.bulk import BULK_ORGANISATIONS, CHUNK, FLOW_MIX, run_bulk
from mediation.demo.records import demo_intake
from mediation.domain import intake
from mediation.domain.taxonomy import DEADLINE_STATUSES, label
from mediation.engine.cases import advance, open_case
from mediation.engine.machine import FlowMachine, load
from mediation.engine.organisations import add_organisation
from mediation.storage._tables import organisation_table
from mediation.storage.store import Store
from mediation.workflows import Transition
from mediation.workflows._common import AGREEMENT_FIELDS

__all__ = [
    "BULK_FROM",
    "BULK_ORGANISATIONS",
    "CHUNK",
    "DEMO_PASSPHRASE",
    "FLOW_MIX",
    "ORGANISATIONS",
    "demo_intake",
    "path_to",
    "run_bulk",
    "run_demo",
    "sign_agreement",
]

#: The demo ladder, top first: (code, name, level, kind, parent).
ORGANISATIONS = [
    ("江城", "江城市人民调解委员会", "city", "people_committee", None),
    ("青山", "青山县矛盾纠纷调处化解中心", "county", "centre", "江城"),
    ("城关", "城关镇人民调解委员会", "township", "people_committee", "青山"),
    ("桥头", "桥头村人民调解委员会", "village", "people_committee", "城关"),
    ("河西", "河西社区人民调解委员会", "village", "people_committee", "城关"),
]
_VILLAGES = ["桥头", "河西"]


#: Above this many cases the demo takes the fast path (:func:`run_bulk`).
BULK_FROM = 500


def _payload(
    t: Transition, rng: random.Random, record: dict[str, Any], day: date
) -> dict[str, Any]:
    names = [p["name"] for p in record["parties"]]
    data: dict[str, Any] = {
        "reason": rng.choice(["双方分歧较大", "案情复杂，需上级协调", "当事人要求"]),
        "redirect_to": "青山县人民法院",
        "party": rng.choice(names),
        "mediators": [rng.choice(["周明", "吴桂英", "郑建国", "孙秀兰"])],
        "selection": rng.choice(["designated", "chosen"]),
        "kind": rng.choice(["investigation", "mediation"]),
        "summary": "听取双方陈述，核实相关情况，释法明理。",
        "consented_by": names,
        "new_due": (day + timedelta(days=45)).isoformat(),
        "facts": record["summary"],
        "issues": "责任划分及赔偿数额",
        "responsibility": "双方各负部分责任",
        "terms": f"{names[1]}于十日内向{names[0]}支付人民币{rng.randrange(5, 80) * 100}元，双方纠纷就此了结。",
        "performance_method": "银行转账",
        "performance_place": "城关镇人民调解委员会",
        "performance_deadline": (day + timedelta(days=10)).isoformat(),
        "other_routes": "可依法申请仲裁或向人民法院提起诉讼",
        "police_organ": "青山县公安局城关派出所",
        "performance": rng.choice(["performed", "performed", "partly_performed"]),
        "court": "青山县人民法院",
        "ruling_ref": f"（{day.year}）浙0681民特{rng.randrange(1, 900)}号",
        "organisation": "城关",
        "court_ref": f"（{day.year}）浙0681民诉前调{rng.randrange(1, 900)}号",
    }
    payload = {k: data[k] for k in t.requires}
    # What the documents print that the step itself does not require: where a session was
    # held (调查记录, 人民调解记录) and an oral agreement's particulars (口头协议登记表).
    if t.trigger == "record_session":
        payload["place"] = "桥头村人民调解室"
    if t.trigger == "agree_oral":
        payload.update({k: data[k] for k in AGREEMENT_FIELDS})
    return payload


def path_to(flow: FlowMachine, target: str) -> list[Transition]:
    """The shortest run of transitions from the initial state to ``target``."""
    start = flow.flow.initial
    queue: deque[tuple[str, list[Transition]]] = deque([(start, [])])
    seen = {start}
    while queue:
        state, path = queue.popleft()
        if state == target:
            return path
        for t in flow.allowed(state):
            if t.dest and t.dest not in seen:
                seen.add(t.dest)
                queue.append((t.dest, [*path, t]))
    raise ValueError(f"{target} is unreachable")


def _ensure_organisations(store: Store, now: datetime) -> None:
    with store.read() as conn:
        existing = set(conn.execute(select(organisation_table.c.code)).scalars())
    for code, name, level, kind, parent in ORGANISATIONS:
        if code not in existing:
            add_organisation(
                store, code=code, name=name, level=level, kind=kind, parent=parent, now=now
            )


def run_demo(
    store: Store,
    *,
    cases: int,
    seed: int,
    now: datetime,
    actor: str,
    say: Callable[[str], None],
    quiet: bool = False,
    agreement_pdf: Path | None = None,
    key_dir: Path | None = None,
) -> Counter[str]:
    """Create demo data; narrate one full case through ``say`` (only the summary when
    ``quiet``). Returns the states reached.

    With ``agreement_pdf``, the walked case's parties and mediator sign its agreement, the
    committee gets a signing key (in ``key_dir``; passphrase ``MEDIATION_KEY_PASSPHRASE``
    or :data:`DEMO_PASSPHRASE`), and the sealed PDF is written there and verified."""
    summary_only = say
    if quiet:
        say = lambda _line: None  # noqa: E731
    rng = random.Random(seed)
    flow = load("peoples")
    _ensure_organisations(store, now)
    say(f"数据库：{store.display_url}")
    say("调委会：" + " → ".join(f"{c}（{n}）" for c, n, *_ in reversed(ORGANISATIONS[:4])))

    # One case walked through the whole flow, narrated step by step.
    walk = [
        "accept",
        "assign",
        "inform",
        "record_session",
        "record_session",
        "agree_written",
        "follow_up",
        "apply_confirmation",
        "confirmation_granted",
        "archive",
    ]
    record = demo_intake(rng, "桥头")
    start = now - timedelta(days=len(walk) * 2 + 2)
    opened = open_case(store, intake.validate(record), actor=actor, now=start)
    say(
        f"\n立案：{opened.case_number}「{record['title']}」 {record['parties'][0]['name']} 诉 "
        f"{record['parties'][1]['name']}，状态：{opened.state_label}"
    )
    state = opened.state
    for i, trigger in enumerate(walk, 1):
        at = start + timedelta(days=2 * i)
        t = flow.transition(trigger, state)
        assert t is not None, (trigger, state)
        if trigger == "apply_confirmation":  # once the agreement is in effect
            with store.write() as conn:
                sign_in(conn, opened.proceeding_id, actor=actor, now=at)
        result = advance(
            store,
            opened.proceeding_id,
            trigger,
            actor=actor,
            now=at,
            payload=_payload(t, rng, record, at.date()),
        )
        say(
            f"  {at:%Y-%m-%d} {result.trigger_label}：{flow.flow.state_label(state)} → "
            f"{result.to_state_label}"
        )
        for dl in result.deadlines_started:
            say(
                f"      期限开始 {dl['label']} {dl['period']} 至 {dl['due']}（{dl['legal_basis']}）"
            )
        for dl in result.deadlines_stopped:
            if dl.get("status"):
                say(f"      期限结束 {dl['label']}：{label(DEADLINE_STATUSES, dl['status'])}")
        state = result.to_state
        if trigger == "agree_written" and agreement_pdf is not None:
            sign_agreement(
                store,
                opened.proceeding_id,
                record,
                at=at + timedelta(hours=1),
                actor=actor,
                out=agreement_pdf,
                key_dir=key_dir,
                say=say,
            )

    if cases > BULK_FROM:
        made = run_bulk(store, cases=cases, rng=rng, now=now, actor=actor)
        from mediation.workflows import get_flow

        summary = "、".join(f"{get_flow(f).label} {n}" for f, n in made.most_common())
        summary_only(
            f"{'' if quiet else chr(10)}已生成 {cases + 1} 件演示案件（全部流程）：{summary}"
        )
        say("下一步：mediation report stats --by level · mediation report overdue")
        return made

    # Then cases spread over every state, on every village committee.
    reached: Counter[str] = Counter({state: 1})
    targets = [s.name for s in flow.flow.states]
    for i in range(cases):
        target = targets[i % len(targets)]
        path = path_to(flow, target)
        record = demo_intake(rng, rng.choice(_VILLAGES))
        at = now - timedelta(days=rng.randrange(len(path) + 1, 75), hours=rng.randrange(8))
        opened = open_case(store, intake.validate(record), actor=actor, now=at)
        for t in path:
            at += timedelta(days=rng.choice([0, 1, 1, 2, 3]), hours=rng.randrange(1, 5))
            at = min(at, now)
            if t.trigger == "apply_confirmation":  # once the agreement is in effect
                with store.write() as conn:
                    sign_in(conn, opened.proceeding_id, actor=actor, now=at)
            advance(
                store,
                opened.proceeding_id,
                t.trigger,
                actor=actor,
                now=at,
                payload=_payload(t, rng, record, at.date()),
            )
        reached[target] += 1
    summary = "、".join(f"{flow.flow.state_label(s)} {n}" for s, n in reached.items())
    summary_only(f"{'' if quiet else chr(10)}已生成 {cases + 1} 件演示案件：{summary}")
    say("下一步：mediation case list · mediation case show 1 · mediation case history 1")
    return reached
