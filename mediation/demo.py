"""Demo data: committees on every level of the ladder and realistic cases in every state.

Everything goes through the same library calls a mediator's commands use (``open_case``,
``advance``), so the demo also exercises the engine. The same seed gives the same data.

Up to :data:`BULK_FROM` cases the demo narrates one case and spreads the others over every
state of people's mediation. Above it (``mediation demo --cases 100000``, for statistics
and benchmarks) :func:`run_bulk` fills a whole county: every flow in realistic shares and
outcomes, still through the engine (``open_in``/``advance_in``: deadlines, facts, events
and their audit chain as in daily use) but many cases to a transaction.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mediation.domain import intake
from mediation.domain.personal import check_digit
from mediation.domain.taxonomy import DEADLINE_STATUSES, label
from mediation.engine.cases import advance, open_case
from mediation.engine.machine import FlowMachine, load
from mediation.engine.organisations import add_organisation
from mediation.storage._tables import organisation_table
from mediation.storage.store import Store
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


#: The demo committee key's passphrase when MEDIATION_KEY_PASSPHRASE is not set (a demo
#: key signs nothing real).
DEMO_PASSPHRASE = "demo-only-passphrase"


def sign_agreement(
    store: Store,
    pid: int,
    record: dict[str, Any],
    *,
    at: datetime,
    actor: str,
    out: Path,
    key_dir: Path | None,
    say: Callable[[str], None],
) -> None:
    """Every party and the mediator sign the walked case's agreement; the committee's key
    seals the rendered PDF (人民调解法 art. 29: signed, sealed, then effective)."""
    import os

    from mediation.documents import render_document
    from mediation.documents.keys import PASSPHRASE_ENV, init_key
    from mediation.documents.signatures import record_signature
    from mediation.documents.signing import sign_document, verify_document
    from mediation.engine.queries import case_detail

    passphrase = (os.environ.get(PASSPHRASE_ENV) or DEMO_PASSPHRASE).encode("utf-8")
    case = case_detail(store, str(pid))["proceeding"]
    methods = ("sign", "fingerprint")  # 签名, 按指印
    for i, party in enumerate(record["parties"]):
        record_signature(
            store,
            str(pid),
            signer=party["name"],
            signer_kind="party",
            method=methods[i % 2],
            actor=actor,
            now=at,
            signed_at=at,
        )
    record_signature(
        store,
        str(pid),
        signer=case["mediators"][0],
        signer_kind="mediator",
        method="sign",
        actor=actor,
        now=at,
        signed_at=at,
    )
    key = init_key(
        store,
        case["organisation"]["code"],
        passphrase=passphrase,
        actor=actor,
        now=at,
        directory=key_dir,
    )
    render_document(store, str(pid), "agreement", actor=actor, now=at)
    pdf = sign_document(store, str(pid), "agreement", passphrase=passphrase, actor=actor, now=at)[
        "content"
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    checked = verify_document(store, pdf, now=at, case_ref=str(pid))
    say(
        f"      调解协议书：双方及调解员签名，{case['organisation']['name']}电子签章"
        f"（证书 {key['fingerprint'][:16]}…）→ {out}；"
        + ("验签通过" if checked.ok else "验签失败：" + "；".join(c.name for c in checked.failed))
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


# -- many cases, fast: every flow, for statistics and benchmarks ------------------------

#: Above this many cases the demo takes the fast path (:func:`run_bulk`).
BULK_FROM = 500
#: Cases opened and walked per write transaction on the fast path.
CHUNK = 200

#: The rest of a county for the fast path: more committees on the ladder, the specialised
#: committees, and the organs that run the other flows (code, name, level, kind, parent).
BULK_ORGANISATIONS = [
    ("东岭", "东岭镇人民调解委员会", "township", "people_committee", "青山"),
    ("西溪", "西溪街道人民调解委员会", "township", "people_committee", "青山"),
    ("南塘", "南塘村人民调解委员会", "village", "people_committee", "城关"),
    ("东岭村", "东岭村人民调解委员会", "village", "people_committee", "东岭"),
    ("北坞", "北坞村人民调解委员会", "village", "people_committee", "东岭"),
    ("西溪社区", "西溪社区人民调解委员会", "village", "people_committee", "西溪"),
    ("望江", "望江社区人民调解委员会", "village", "people_committee", "西溪"),
    ("医调委", "青山县医疗纠纷人民调解委员会", "county", "professional_committee", "江城"),
    ("劳调委", "青山县劳动争议调解委员会", "county", "professional_committee", "江城"),
    ("交调委", "青山县道路交通事故纠纷人民调解委员会", "county", "professional_committee", "江城"),
    ("土调委", "青山县农村土地承包经营纠纷调解委员会", "county", "professional_committee", "江城"),
    ("青山法院", "青山县人民法院", "county", "court", None),
    ("青山信访", "青山县信访局", "county", "petition_bureau", None),
    ("青山卫健", "青山县卫生健康局", "county", "admin_organ", None),
    ("青山市监", "青山县市场监督管理局", "county", "admin_organ", None),
    ("青山交警", "青山县公安局交通警察大队", "county", "police", None),
    ("城关派出所", "青山县公安局城关派出所", "township", "police", None),
]
_BULK_VILLAGES = ["桥头", "河西", "南塘", "东岭村", "北坞", "西溪社区", "望江"]
_BULK_TOWNSHIPS = ["城关", "东岭", "西溪"]

_PEOPLE = ("accept", "assign", "inform", "record_session")
#: What happens to a case of each flow: (share of cases in %, where it is opened, its
#: dispute type (None: the usual mix), [(weight, triggers)]). People's mediation settles
#: ~95% of what it concludes (domain.md §1); courts' referrals and litigation far less.
#: A trigger prefixed ``>`` is fired on the proceeding the previous one handed off to.
FLOW_MIX: list[tuple[float, str, str, str | None, list[tuple[int, tuple[str, ...]]]]] = [
    (
        62,
        "peoples",
        "ladder",
        None,
        [
            (58, (*_PEOPLE, "record_session", "agree_written", "follow_up", "archive")),
            (10, (*_PEOPLE, "agree_oral", "follow_up")),
            (
                7,
                (
                    *_PEOPLE,
                    "agree_written",
                    "follow_up",
                    "apply_confirmation",
                    "confirmation_granted",
                    "archive",
                ),
            ),
            (4, (*_PEOPLE, "terminate", "archive")),
            (2, (*_PEOPLE, "withdraw")),
            (
                3,
                (
                    "accept",
                    "assign",
                    "inform",
                    "escalate",
                    ">assign",
                    ">inform",
                    ">record_session",
                    ">agree_written",
                    ">follow_up",
                ),
            ),
            (1, ("reject",)),
            (1, ("accept", "refuse")),
            (8, _PEOPLE),
            (2, ()),
        ],
    ),
    (
        14,
        "court_referred",
        "township",
        None,
        [
            (45, ("record_session", "agree", "archive")),
            (20, ("record_session", "agree", "apply_confirmation", ">accept", ">confirm")),
            (25, ("record_session", "return_to_court")),
            (10, ("record_session",)),
        ],
    ),
    (
        5,
        "labour",
        "劳调委",
        "labour",
        [
            (75, (*_PEOPLE, "agree_written", "follow_up", "archive")),
            (25, (*_PEOPLE, "terminate")),
        ],
    ),
    (
        5,
        "traffic",
        "交调委",
        "traffic",
        [
            (85, (*_PEOPLE, "agree_written", "follow_up", "archive")),
            (15, (*_PEOPLE, "terminate")),
        ],
    ),
    (
        1.5,
        "medical_committee",
        "医调委",
        "medical",
        [
            (65, (*_PEOPLE, "agree_written", "follow_up", "archive")),
            (35, (*_PEOPLE, "terminate")),
        ],
    ),
    (
        1.5,
        "land_contract",
        "土调委",
        "land_forest",
        [
            (85, (*_PEOPLE, "agree_written", "follow_up", "archive")),
            (15, (*_PEOPLE, "terminate")),
        ],
    ),
    (
        2,
        "administrative",
        "青山市监",
        "consumer",
        [
            (
                80,
                (
                    "approve_filing",
                    "consult",
                    "other_party_consents",
                    "record_session",
                    "agree_written",
                    "close",
                ),
            ),
            (
                20,
                (
                    "approve_filing",
                    "consult",
                    "other_party_consents",
                    "record_session",
                    "terminate",
                    "close",
                ),
            ),
        ],
    ),
    (
        0.5,
        "health_admin",
        "青山卫健",
        "medical",
        [
            (70, ("accept", "record_session", "agree", "close")),
            (30, ("accept", "record_session", "fail", "close")),
        ],
    ),
    (
        2,
        "traffic_police",
        "青山交警",
        "traffic",
        [
            (80, ("accept", "start_mediation", "agree")),
            (20, ("accept", "start_mediation", "end")),
        ],
    ),
    (
        2,
        "public_order",
        "城关派出所",
        "neighbourhood",
        [
            (85, ("first_session", "agree", "performed")),
            (15, ("first_session", "not_agreed")),
        ],
    ),
    (
        1.5,
        "judicial",
        "青山法院",
        "contract",
        [
            (55, ("record_session", "agree", "served")),
            (45, ("record_session", "to_judgment")),
        ],
    ),
    (
        1,
        "entrusted",
        "青山法院",
        "contract",
        [
            (60, ("record_session", "agree", "court_decision")),
            (40, ("record_session", "back_to_trial")),
        ],
    ),
    (
        1,
        "online",
        "青山法院",
        "contract",
        [
            (70, ("choose_mediator", "confirm", "notify_other_party", "record_session", "agree")),
            (30, ("choose_mediator", "confirm", "notify_other_party", "record_session", "fail")),
        ],
    ),
    (
        1,
        "petition",
        "青山信访",
        None,
        [
            (
                80,
                (
                    "accept",
                    "assess_suitable",
                    "divert",
                    ">accept",
                    ">assign",
                    ">inform",
                    ">record_session",
                    ">agree_written",
                    ">follow_up",
                ),
            ),
            (20, ("accept", "exclude")),
        ],
    ),
]
_REFERRED_BY = {
    "court_referred": ("court", "青山县人民法院", "（{y}）浙0681民诉前调{n}号"),
    "judicial": ("court", "青山县人民法院", "（{y}）浙0681民初{n}号"),
    "entrusted": ("court", "青山县人民法院", "（{y}）浙0681民初{n}号"),
    "online": ("court", "青山县人民法院", "（{y}）浙0681民诉前调{n}号"),
    "petition": ("petition", "青山县信访局", "青信转〔{y}〕{n}号"),
    "public_order": ("police", "青山县公安局城关派出所", "青公（城）调字〔{y}〕{n}号"),
    "traffic_police": ("police", "青山县公安局交通警察大队", "青公交认字〔{y}〕{n}号"),
}


def _bulk_payload(
    t: Transition, rng: random.Random, record: dict[str, Any], day: date
) -> dict[str, Any]:
    """The data each trigger of every flow requires, made up plausibly."""
    names = [p["name"] for p in record["parties"]]
    data: dict[str, Any] = {
        "reason": rng.choice(["双方分歧较大", "案情复杂，需上级协调", "当事人要求"]),
        "redirect_to": "青山县人民法院",
        "party": names[1],
        "mediators": [rng.choice(["周明", "吴桂英", "郑建国", "孙秀兰", "陈海燕", "刘志强"])],
        "selection": "designated",
        "kind": "mediation",
        "summary": "听取双方陈述，核实相关情况，释法明理。",
        "consented_by": names,
        "facts": record["summary"],
        "issues": "责任划分及赔偿数额",
        "responsibility": "双方各负部分责任",
        "terms": f"{names[1]}于十日内向{names[0]}支付人民币{rng.randrange(5, 80) * 100}元，双方纠纷就此了结。",
        "performance_method": "银行转账",
        "performance_place": "现场",
        "performance_deadline": (day + timedelta(days=10)).isoformat(),
        "other_routes": "可依法申请仲裁或向人民法院提起诉讼",
        "performance": rng.choices(list(PERFORMANCE_CODES), weights=[80, 10, 7, 3])[0],
        "court": "青山县人民法院",
        "ruling_ref": f"（{day.year}）浙0681民特{rng.randrange(1, 9000)}号",
        "organisation": "青山法院",
        "approved_by": "王局长",
        "insurer": "中国人民财产保险股份有限公司青山支公司",
        "confirmation_notice": "已告知当事人可申请司法确认",
        "determination_received_on": (day - timedelta(days=3)).isoformat(),
        "applied_on": day.isoformat(),
        "penalty": "罚款二百元",
        "served_on": day.isoformat(),
        "decision": "出具民事调解书",
        "report_ref": f"青调函〔{day.year}〕{rng.randrange(1, 900)}号",
        "exclusion": "litigation_pending",
    }
    if t.trigger == "divert":
        data["organisation"] = rng.choice(_BULK_VILLAGES)
    payload = {k: data[k] for k in t.requires}
    if t.trigger == "follow_up":  # optional: the statistics count satisfaction
        payload["satisfaction"] = rng.choices(
            ["satisfied", "basically_satisfied", "dissatisfied"], weights=[75, 20, 5]
        )[0]
    return payload


PERFORMANCE_CODES = ("performed", "partly_performed", "in_progress", "not_performed")


def run_bulk(
    store: Store, *, cases: int, rng: random.Random, now: datetime, actor: str
) -> Counter[str]:
    """Open ``cases`` cases across every flow, spread over the year before ``now``, and take
    each through its flow with the engine's own calls, :data:`CHUNK` cases per write
    transaction (no commit per step, so no disk flush per step). Returns cases per flow."""
    from mediation.engine.cases import advance_in, open_in

    with store.read() as conn:
        existing = set(conn.execute(select(organisation_table.c.code)).scalars())
    for code, name, level, kind, parent in BULK_ORGANISATIONS:
        if code not in existing:
            add_organisation(
                store, code=code, name=name, level=level, kind=kind, parent=parent, now=now
            )
    cal = store.calendar()
    shares = [share for share, *_ in FLOW_MIX]
    made: Counter[str] = Counter()
    recent: deque[dict[str, Any]] = deque(maxlen=500)
    done = 0
    while done < cases:
        with store.write() as conn:
            for _ in range(min(CHUNK, cases - done)):
                pick = rng.choices(FLOW_MIX, weights=shares)[0]
                _, flow_name, where, dispute_type, scripts = pick
                if where == "ladder":
                    org = rng.choices(
                        [rng.choice(_BULK_VILLAGES), rng.choice(_BULK_TOWNSHIPS), "青山"],
                        weights=[80, 17, 3],
                    )[0]
                elif where == "township":
                    org = rng.choice([*_BULK_TOWNSHIPS, "青山"])
                else:
                    org = where
                record = demo_intake(rng, org)
                record["flow"] = flow_name
                if dispute_type:
                    record["dispute_type"] = dispute_type
                if recent and rng.random() < 0.03:  # the same parties come back
                    earlier = rng.choice(recent)
                    record["parties"] = earlier["parties"]
                    record["dispute_type"] = earlier["dispute_type"]
                recent.append(record)
                referral = _REFERRED_BY.get(flow_name)
                if referral:
                    channel, organ, ref = referral
                    record.update(
                        channel=channel,
                        application_mode="referral",
                        referring_organ=organ,
                        referral_ref=ref.format(y=now.year, n=rng.randrange(1, 9000)),
                    )
                at = now - timedelta(days=rng.randrange(1, 366), hours=rng.randrange(8))
                opened = open_in(conn, intake.validate(record), actor=actor, now=at, cal=cal)
                made[flow_name] += 1
                pid = opened.proceeding_id
                flow = load(flow_name)
                state = opened.state
                steps = rng.choices([s for _, s in scripts], weights=[w for w, _ in scripts])[0]
                # One case in ten drags on (and may run over its statutory period).
                gaps = [4, 7, 9, 12] if rng.random() < 0.1 else [0, 1, 1, 2, 3, 5]
                for step in steps:
                    if step.startswith(">"):
                        step = step[1:]
                    at += timedelta(days=rng.choice(gaps), hours=rng.randrange(1, 4))
                    if at >= now:
                        break  # still under way today
                    t = flow.transition(step, state)
                    assert t is not None, (flow_name, step, state)
                    result = advance_in(
                        conn,
                        pid,
                        step,
                        actor=actor,
                        now=at,
                        cal=cal,
                        payload=_bulk_payload(t, rng, record, at.date()),
                    )
                    state = result.to_state
                    if t.handoff is not None:  # the rest happens in the next proceeding
                        assert result.handed_off_to is not None
                        pid, state = result.handed_off_to.proceeding_id, result.handed_off_to.state
                        flow = load(t.handoff.flow)
            done += min(CHUNK, cases - done)
    return made
