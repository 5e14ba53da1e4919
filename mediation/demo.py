"""Demo data: committees on every level of the ladder and realistic cases in every state.

Everything goes through the same library calls a mediator's commands use (``open_case``,
``advance``), so the demo also exercises the engine. The same seed gives the same data.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from mediation import intake
from mediation._tables import organisation_table
from mediation.cases import advance, open_case
from mediation.machine import FlowMachine, load
from mediation.organisations import add_organisation
from mediation.personal import check_digit
from mediation.store import Store
from mediation.taxonomy import DEADLINE_STATUSES, label
from mediation.workflows import Transition

#: The demo ladder, top first: (code, name, level, kind, parent).
ORGANISATIONS = [
    ("江城", "江城市人民调解委员会", "city", "people_committee", None),
    ("青山", "青山县矛盾纠纷调处化解中心", "county", "centre", "江城"),
    ("城关", "城关镇人民调解委员会", "township", "people_committee", "青山"),
    ("桥头", "桥头村人民调解委员会", "village", "people_committee", "城关"),
    ("河西", "河西社区人民调解委员会", "village", "people_committee", "城关"),
]
_VILLAGES = ["桥头", "河西"]

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文辉春梅海燕德福"
_REGIONS = ["330681", "330602", "330621", "330683", "330624"]  # 浙江绍兴 districts
_TITLES = {
    "neighbourhood": ["邻里通道堆放杂物纠纷", "相邻房屋漏水纠纷", "邻里噪音纠纷"],
    "marriage_family": ["赡养费纠纷", "离婚后子女探望纠纷", "家庭财产分割纠纷"],
    "housing_homestead": ["宅基地界址纠纷", "房屋翻建遮挡采光纠纷"],
    "contract": ["装修合同款纠纷", "民间借贷纠纷", "买卖合同货款纠纷"],
    "damages": ["犬只伤人赔偿纠纷", "高空坠物损害赔偿纠纷"],
    "labour": ["拖欠农民工工资纠纷", "工伤待遇纠纷"],
    "land_forest": ["承包地边界纠纷", "山林权属纠纷"],
    "consumer": ["预付卡退费纠纷", "家电质量纠纷"],
    "property_management": ["物业费纠纷", "小区停车位纠纷"],
    "traffic": ["电动车碰撞赔偿纠纷"],
    "other": ["村民小组土地补偿款分配纠纷"],
}
# Rough mix of people's-mediation caseloads (domain.md §1-2): neighbours and families lead.
_TYPE_WEIGHTS = {
    "neighbourhood": 24,
    "marriage_family": 20,
    "housing_homestead": 10,
    "contract": 10,
    "damages": 9,
    "labour": 7,
    "land_forest": 6,
    "consumer": 5,
    "property_management": 5,
    "traffic": 2,
    "other": 2,
}
_CHANNEL_WEIGHTS = {
    "walk_in": 45,
    "grid": 20,
    "hotline": 12,
    "initiative": 10,
    "online": 8,
    "phone": 5,
}


def _person(rng: random.Random, role: str) -> dict[str, Any]:
    gender = rng.choice(["male", "female"])
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))
    seq = rng.randrange(100, 999)
    seq -= (seq % 2) != (gender == "male")  # odd for men, even for women (GB 11643)
    body = f"{rng.choice(_REGIONS)}{birth:%Y%m%d}{seq:03d}"
    name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice([1, 2])))
    return {
        "role": role,
        "name": name,
        "gender": gender,
        "ethnicity": "汉族",
        "id_number": body + check_digit(body),
        "phone": rng.choice(["138", "139", "150", "158", "187", "189"])
        + f"{rng.randrange(10**8):08d}",
        "address": f"浙江省江城市青山县城关镇{rng.choice(['桥头村', '河西社区'])}{rng.randrange(1, 200)}号",
        "occupation": rng.choice(["农民", "个体经营", "职员", "退休", "务工"]),
    }


def demo_intake(rng: random.Random, org: str) -> dict[str, Any]:
    """A realistic intake record for committee ``org``."""
    kind = rng.choices(list(_TYPE_WEIGHTS), weights=list(_TYPE_WEIGHTS.values()))[0]
    channel = rng.choices(list(_CHANNEL_WEIGHTS), weights=list(_CHANNEL_WEIGHTS.values()))[0]
    applicant, respondent = _person(rng, "applicant"), _person(rng, "respondent")
    title = rng.choice(_TITLES[kind])
    return {
        "organisation": org,
        "dispute_type": kind,
        "channel": channel,
        "application_mode": "initiative" if channel in ("grid", "initiative") else "written",
        "title": title,
        "summary": f"{applicant['name']}与{respondent['name']}因{title.removesuffix('纠纷')}发生争执，"
        "双方多次协商未果。",
        "claims": "请求调委会主持调解，依法妥善解决。",
        "risk_level": rng.choices(["green", "yellow", "red"], weights=[80, 17, 3])[0],
        "parties": [applicant, respondent],
    }


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
    return {k: data[k] for k in t.requires}


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
    table = organisation_table
    with store.read() as conn:
        existing = set(conn.execute(select(table.c.code)).scalars())
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
) -> Counter[str]:
    """Create demo data; narrate one full case through ``say`` (only the summary when
    ``quiet``). Returns the states reached."""
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
