"""The demo's fast path (``mediation demo --cases 100000``): a whole county, every flow in
realistic shares and outcomes, through the engine's own calls, many cases to a transaction."""

from __future__ import annotations

import random
from collections import Counter, deque
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from mediation.demo.agreement import sign_in
from mediation.demo.records import demo_intake, dispute_summary
from mediation.domain import intake
from mediation.domain.calendar import WorkCalendar
from mediation.domain.periods import Period, compute_due
from mediation.engine.machine import load
from mediation.engine.organisations import add_organisation
from mediation.storage._tables import organisation_table
from mediation.storage.store import Store
from mediation.workflows import Transition

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
#: 委派/委托: the court designates the mediator and the parties are told their rights first
#: (特邀调解规定 arts. 12, 14).
_COURT = ("designate_mediator", "inform", "record_session")
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
            (45, (*_COURT, "agree", "archive")),
            (20, (*_COURT, "agree", "apply_confirmation", ">accept", ">confirm")),
            (25, (*_COURT, "return_to_court")),
            (10, _COURT),
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
            (80, ("accept", "notify_parties", "start_mediation", "agree")),
            (20, ("accept", "notify_parties", "start_mediation", "end")),
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
            (60, (*_COURT, "agree", "court_decision")),
            (40, (*_COURT, "back_to_trial")),
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


PERFORMANCE_CODES = ("performed", "partly_performed", "in_progress", "not_performed")


def bulk_payload(
    t: Transition, rng: random.Random, record: dict[str, Any], day: date, cal: WorkCalendar
) -> dict[str, Any]:
    """The data each trigger of every flow requires, made up plausibly."""
    names = [p["name"] for p in record["parties"]]
    applicant = next(p["name"] for p in record["parties"] if p["role"] == "applicant")
    # The other side: who consents to 行政调解 (names_the_other_party), is notified of an
    # online application, pays under the agreement.
    other = next(p["name"] for p in record["parties"] if p["role"] == "respondent")
    data: dict[str, Any] = {
        "reason": rng.choice(["双方分歧较大", "案情复杂，需上级协调", "当事人要求"]),
        "redirect_to": "青山县人民法院",
        "party": other,
        "mediators": [rng.choice(["周明", "吴桂英", "郑建国", "孙秀兰", "陈海燕", "刘志强"])],
        "selection": "designated",
        "kind": "mediation",
        "summary": "听取双方陈述，核实相关情况，释法明理。",
        "consented_by": names,  # both sides (both_sides_consent)
        "facts": record["summary"],
        "issues": "责任划分及赔偿数额",
        "responsibility": "双方各负部分责任",
        "terms": f"{other}于十日内向{applicant}支付人民币{rng.randrange(5, 80) * 100}元，双方纠纷就此了结。",
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
        # Notified 3 working days ahead (道路交通事故处理程序规定 arts. 88, 112); see run_bulk.
        "session_on": compute_due(day, Period(3, "working_days"), cal).due.isoformat(),
        "place": "调解室",
        "penalty": "罚款二百元",
        "served_on": day.isoformat(),
        "decision": "出具民事调解书",
        "report_ref": f"青调函〔{day.year}〕{rng.randrange(1, 900)}号",
        "exclusion": "litigation_pending",
        "designated_by": "青山县人民法院",
        "claims": "判令被告支付欠款及利息",
        "judge": rng.choice(["陈立", "王芳", "李振华"]),
        "clerk": rng.choice(["林晓", "赵敏"]),
    }
    if t.trigger == "divert":
        data["organisation"] = rng.choice(_BULK_VILLAGES)
    payload = {k: data[k] for k in t.requires}
    if t.trigger == "follow_up":  # optional: the statistics count satisfaction
        payload["satisfaction"] = rng.choices(
            ["satisfied", "basically_satisfied", "dissatisfied"], weights=[75, 20, 5]
        )[0]
    return payload


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
                    record["title"] = earlier["title"]
                    names = [p["name"] for p in earlier["parties"]]
                    record["summary"] = dispute_summary(names[0], names[1], earlier["title"])
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
                session_on: date | None = None
                for step in steps:
                    if step.startswith(">"):
                        step = step[1:]
                    at += timedelta(days=rng.choice(gaps), hours=rng.randrange(1, 4))
                    if step == "start_mediation" and session_on is not None:
                        # on the day notified, at the earliest
                        day = session_on
                        at = max(at, at.replace(year=day.year, month=day.month, day=day.day))
                    if at >= now:
                        break  # still under way today
                    t = flow.transition(step, state)
                    assert t is not None, (flow_name, step, state)
                    if step == "apply_confirmation":  # once the agreement is in effect
                        sign_in(conn, pid, actor=actor, now=at)
                    result = advance_in(
                        conn,
                        pid,
                        step,
                        actor=actor,
                        now=at,
                        cal=cal,
                        payload=(payload := bulk_payload(t, rng, record, at.date(), cal)),
                    )
                    if step == "notify_parties":
                        session_on = date.fromisoformat(payload["session_on"])
                    state = result.to_state
                    if t.handoff is not None:  # the rest happens in the next proceeding
                        assert result.handed_off_to is not None
                        pid, state = result.handed_off_to.proceeding_id, result.handed_off_to.state
                        flow = load(t.handoff.flow)
            done += min(CHUNK, cases - done)
    return made
