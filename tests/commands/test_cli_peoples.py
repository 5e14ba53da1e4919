"""The people's mediation flow (人民调解, domain.md §3.1) driven through the real CLI.

Every test runs ``mediation`` through ``typer.testing.CliRunner`` against a real database
(a SQLite file and a PostgreSQL schema, see ``conftest.py``) with the clock pinned by
``MEDIATION_NOW``. What the commands print is checked, and so is what they persisted
(``case show --json``, ``case history --json``).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.domain.clock import BUSINESS_TZ
from mediation.storage.store import Store
from mediation.workflows.peoples import FLOW
from tests.conftest import add_users, intake_record

NOW = "2026-03-02T09:00:00+08:00"
EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
ACTOR = "mediator1"

#: The data each trigger requires, given with --set KEY=VALUE.
SETS: dict[str, dict[str, str]] = {
    "reject": {"reason": "已由青山县人民法院受理", "redirect_to": "青山县人民法院"},
    "refuse": {"party": "李四", "reason": "明确表示不接受调解"},
    "record_session": {"kind": "investigation", "summary": "分别听取双方陈述，查看现场。"},
    "extend": {"reason": "双方希望继续协商", "consented_by": "张三、李四", "new_due": "2026-05-15"},
    "agree_oral": {"terms": "李四当日清理杂物，张三不再追究。"},
    "terminate": {"reason": "双方分歧过大", "other_routes": "可申请仲裁或向人民法院提起诉讼"},
    "withdraw": {"party": "张三", "reason": "双方已自行和解"},
    "refer_police": {
        "reason": "双方言语激烈，有动手迹象",
        "police_organ": "青山县公安局城关派出所",
    },
    "report_police": {
        "reason": "李四扬言报复",
        "police_organ": "青山县公安局城关派出所",
        "measures": "劝离双方，约定冷静期",
    },
    "remediate_agreement": {"reason": "原协议清理范围约定不清", "consented_by": "张三、李四"},
    "escalate": {"reason": "案情复杂，需上级调委会协调"},
    "court_referral": {
        "organisation": "城关",
        "court": "青山县人民法院",
        "court_ref": "（2026）浙0681民诉前调1号",
    },
    "follow_up": {"performance": "performed", "summary": "杂物已清理，双方满意。"},
    "apply_confirmation": {"court": "青山县人民法院", "consented_by": "张三、李四"},
    "confirmation_granted": {"ruling_ref": "（2026）浙0681民特12号"},
    "confirmation_denied": {"ruling_ref": "（2026）浙0681民特13号", "reason": "协议内容不明确"},
}
#: Triggers whose data comes from the example files instead (--data FILE).
DATA_FILES = {"assign": EXAMPLES / "assign.toml", "agree_written": EXAMPLES / "agreement.toml"}
#: Who signs a written agreement (``doc record-signature``): both parties, the mediator
#: (data/examples/assign.toml) and the committee's seal (人民调解法 art. 29).
SIGNERS = (
    ("张三", "--party", "fingerprint"),
    ("李四", "--party", "sign"),
    ("周明", "--mediator", "sign"),
    ("桥头村人民调解委员会", "--committee", "seal"),
)
#: The events signing records: one per signature, and the agreement taking effect.
SIGNING = ("record_signature",) * len(SIGNERS) + ("agreement_effective",)
#: In a :func:`walk`, the parties, the mediator and the committee sign the agreement.
SIGN = "sign"


# -- helpers --------------------------------------------------------------------------


def cli(runner: CliRunner, db_url: str, *args: str, now: str = NOW, actor: str = "") -> Result:
    acting = ["--as", actor] if actor else []  # the runner (an admin) acts for ``actor``
    return runner.invoke(app, ["--db", db_url, *acting, *args], env={"MEDIATION_NOW": now})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def show(runner: CliRunner, db: str, case: str | int) -> dict[str, Any]:
    data: dict[str, Any] = as_json(cli(runner, db, "case", "show", str(case), "--json"))
    return data


def events(runner: CliRunner, db: str, case: str | int) -> list[dict[str, Any]]:
    data = as_json(cli(runner, db, "case", "history", str(case), "--json"))
    found: list[dict[str, Any]] = data["events"]
    return found


_files = itertools.count()


def open_case(
    runner: CliRunner, db: str, tmp_path: Path, now: str = NOW, actor: str = "", **changes: Any
) -> dict[str, Any]:
    """Open a case from an intake file; return ``case open --json``."""
    path = tmp_path / f"intake-{next(_files)}.json"
    path.write_text(json.dumps(intake_record(**changes), ensure_ascii=False), encoding="utf-8")
    opened: dict[str, Any] = as_json(
        cli(runner, db, "case", "open", "--from", str(path), "--json", now=now, actor=actor)
    )
    assert opened["state"] == "applied"
    return opened


def dest_of(trigger: str, state: str) -> str:
    """Where the flow declaration says ``trigger`` goes from ``state``."""
    matches = [t for t in FLOW.transitions if t.trigger == trigger and state in t.source]
    assert len(matches) == 1, (trigger, state)
    return matches[0].dest or state


def advance(
    runner: CliRunner,
    db: str,
    case: str | int,
    trigger: str,
    *extra: str,
    now: str = NOW,
    actor: str = "",
    defaults: bool = True,
) -> Result:
    """``case advance`` with the trigger's usual data unless not ``defaults`` (``extra`` is
    appended, so its ``--set`` win)."""
    args = ["case", "advance", str(case), trigger]
    if defaults and trigger in DATA_FILES:
        args += ["--data", str(DATA_FILES[trigger])]
    for key, value in SETS.get(trigger, {}).items() if defaults else ():
        args += ["--set", f"{key}={value}"]
    return cli(runner, db, *args, *extra, now=now, actor=actor)


def sign_agreement(runner: CliRunner, db: str, case: str | int, now: str, actor: str = "") -> None:
    """Every :data:`SIGNERS` signs the case's written agreement at ``now``; the last puts it
    in effect (required before applying for 司法确认)."""
    for signer, kind, method in SIGNERS:
        args = ["doc", "record-signature", str(case), "--signer", signer, kind, "--method", method]
        ok(cli(runner, db, *args, now=now, actor=actor))


def hours_after(moment: str, hours: int) -> str:
    return (datetime.fromisoformat(moment) + timedelta(hours=hours)).isoformat()


def walk(
    runner: CliRunner, db: str, case: str | int, triggers: list[str], state: str | None = None
) -> str:
    """Fire ``triggers`` in order from ``state`` (read when not given), each expected to
    succeed; return the final state. :data:`SIGN` among them signs the agreement an hour
    after the steps before it; the steps after it come an hour later still."""
    if state is None:
        state = show(runner, db, case)["proceeding"]["state"]
    now = NOW
    for trigger in triggers:
        if trigger == SIGN:
            sign_agreement(runner, db, case, now=hours_after(now, 1))
            now = hours_after(now, 2)
            continue
        dest = dest_of(trigger, state)
        result = ok(advance(runner, db, case, trigger, now=now))
        assert f"（{trigger}） {state} → " in result.stdout
        assert result.stdout.splitlines()[0].endswith(f"{FLOW.state_label(dest)}（{dest}）")
        state = dest
    return state


def at(day: str, time: str = "09:00") -> str:
    return f"2026-{day}T{time}:00+08:00"


def business_iso(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(BUSINESS_TZ).isoformat(timespec="seconds")


def handed_off_to(runner: CliRunner, db: str, case: str | int) -> int:
    """The id of the proceeding a case was handed to (from its last event)."""
    last = events(runner, db, case)[-1]
    assert last["trigger"] in ("escalate", "court_referral")
    number = last["payload"]["handed_off_to"]
    found: int = show(runner, db, number)["proceeding"]["id"]
    return found


_COMMAND = functools.cache(typer.main.get_command)


@pytest.fixture(autouse=True)
def _cli_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let ``CliRunner.invoke`` reuse one command tree built from ``app``: Typer rebuilds
    it on every call otherwise (~50 ms, most of an invocation). Same app, same commands."""
    monkeypatch.setattr(
        typer.testing,
        "_get_command",
        lambda given: _COMMAND(given) if given is app else typer.main.get_command(given),
    )


@pytest.fixture
def db(store: Store, db_url: str) -> Iterator[str]:
    """``db_url`` with the committee ladder 江城 → 青山 → 城关 → 桥头 and the mediator
    :data:`ACTOR` (also staff and supervisor: the flow goes up the ladder); the fixture's
    Store closed."""
    add_users(store, ACTOR, "clerk2", roles=("mediator", "staff", "supervisor"))
    store.close()
    yield db_url


# -- 1. every transition ----------------------------------------------------------------

#: The happy path: (when, trigger, from, to, actor, extra CLI arguments).
HAPPY: list[tuple[str, str, str | None, str, str, tuple[str, ...]]] = [
    (at("03-02"), "open", None, "applied", ACTOR, ()),
    (at("03-02", "10:00"), "accept", "applied", "accepted", ACTOR, ()),
    (at("03-03"), "assign", "accepted", "assigned", ACTOR, ()),
    (at("03-03", "09:30"), "inform", "assigned", "informed", ACTOR, ()),
    (at("03-04"), "record_session", "informed", "mediating", ACTOR, ()),
    (at("03-06"), "record_session", "mediating", "mediating", ACTOR, ("--set", "kind=mediation")),
    (at("03-09"), "agree_written", "mediating", "agreed_written", ACTOR, ()),
    (at("03-16"), "follow_up", "agreed_written", "followed_up", ACTOR, ("--data", "@follow_up")),
    (at("03-23"), "follow_up", "followed_up", "followed_up", ACTOR, ()),
    (at("03-24"), "apply_confirmation", "followed_up", "confirmation_applied", ACTOR, ()),
    (
        at("04-03"),
        "confirmation_denied",
        "confirmation_applied",
        "confirmation_rejected",
        ACTOR,
        (),
    ),
    (at("04-07"), "remediate", "confirmation_rejected", "mediating", ACTOR, ()),
    (at("04-08"), "record_session", "mediating", "mediating", ACTOR, ()),
    (
        at("04-09"),
        "agree_written",
        "mediating",
        "agreed_written",
        ACTOR,
        ("--set", "performance_deadline=2026-04-30"),
    ),
    (at("04-10"), "apply_confirmation", "agreed_written", "confirmation_applied", ACTOR, ()),
    (at("04-20"), "confirmation_granted", "confirmation_applied", "confirmed", ACTOR, ()),
    (at("04-21"), "archive", "confirmed", "archived", "clerk2", ()),
]

#: Branch cases, each from a newly opened case (and its final state).
BRANCHES: list[tuple[list[str], str]] = [
    (["reject"], "rejected"),
    (["refuse"], "refused"),
    (["accept", "extend", "refuse"], "refused"),
    (["accept", "assign", "extend", "refuse"], "refused"),
    (["accept", "assign", "inform", "extend", "refuse"], "refused"),
    (["accept", "withdraw", "archive"], "archived"),
    (["accept", "assign", "withdraw"], "withdrawn"),
    (["accept", "assign", "inform", "withdraw"], "withdrawn"),
    (["accept", "assign", "inform", "record_session", "extend", "withdraw"], "withdrawn"),
    (["accept", "assign", "terminate", "archive"], "archived"),
    (["accept", "assign", "inform", "terminate"], "terminated"),
    (["accept", "assign", "inform", "record_session", "terminate"], "terminated"),
    (["accept", "assign", "inform", "refer_police", "archive"], "archived"),
    (["accept", "assign", "inform", "record_session", "refer_police"], "referred_police"),
    # A report to the police (art. 25) keeps the case where it is; the police taking the
    # matter over ends it, at any stage of the work.
    (
        [
            *["accept", "report_police", "assign", "report_police", "inform", "report_police"],
            *["record_session", "report_police", "agree_oral"],
        ],
        "agreed_oral",
    ),
    (["accept", "refer_police"], "referred_police"),
    (["accept", "assign", "refer_police"], "referred_police"),
    # 若干规定 art. 37 item 2: the agreement changed by mediating again after a follow-up.
    (
        [
            *["accept", "assign", "inform", "record_session", "agree_oral", "follow_up"],
            "remediate_agreement",
        ],
        "mediating",
    ),
    (["accept", "assign", "inform", "record_session", "escalate"], "escalated"),
    (["accept", "assign", "inform", "terminate", "court_referral"], "referred_to_court"),
    (
        ["accept", "assign", "inform", "record_session", "agree_oral", "follow_up", "archive"],
        "archived",
    ),
    (
        [
            *["accept", "assign", "inform", "record_session", "agree_written", SIGN],
            *["apply_confirmation", "confirmation_denied", "archive"],
        ],
        "archived",
    ),
]


def _run_happy_path(runner: CliRunner, db: str, tmp_path: Path) -> str:
    follow_up = tmp_path / "follow_up.json"
    follow_up.write_text(
        json.dumps(
            {"performance": "partly_performed", "summary": "已清理大部分杂物。"}, ensure_ascii=False
        ),
        encoding="utf-8",
    )
    opened = open_case(runner, db, tmp_path, now=HAPPY[0][0], actor=ACTOR)
    number = opened["case_number"]
    assert number == "（2026）桥头人调字第1号"
    for when, trigger, source, dest, actor, extra in HAPPY[1:]:
        own_data = "@follow_up" in extra  # only the JSON file's data
        extra = tuple(str(follow_up) if e == "@follow_up" else e for e in extra)
        result = ok(
            advance(
                runner, db, number, trigger, *extra, now=when, actor=actor, defaults=not own_data
            )
        )
        assert result.stdout.startswith(f"{number}：")
        assert f"（{trigger}） {source} → {FLOW.state_label(dest)}（{dest}）" in result.stdout
        if trigger == "agree_written":  # signed and sealed an hour later, the same day
            sign_agreement(runner, db, number, now=hours_after(when, 1), actor=ACTOR)
    return number


def test_every_transition_of_the_flow(db: str, runner: CliRunner, tmp_path: Path) -> None:
    # The happy path, with a rejected confirmation, re-mediation and a second agreement.
    number = _run_happy_path(runner, db, tmp_path)

    data = show(runner, db, number)
    p = data["proceeding"]
    # Every transition, and the signatures on each of the two written agreements.
    signed = 2 * len(SIGNING)
    assert (p["state"], p["version"]) == ("archived", len(HAPPY) + signed)
    assert p["closed_at"] == HAPPY[-1][0]
    assert p["outcome"] == "agreement_written"
    assert (p["mediator"], p["mediators"]) == ("周明", ["周明", "吴桂英"])
    assert p["facts"]["agreement"] == {"kind": "written", "effective_on": "2026-04-09"}
    assert data["next"] == []
    assert [(d["kind"], d["starts_on"], d["due"], d["status"]) for d in data["deadlines"]] == [
        ("mediation_period", "2026-03-02", "2026-04-02", "met"),
        ("confirmation_window", "2026-03-09", "2026-04-08", "closed"),
        # Re-mediation after the rejected confirmation starts a fresh month.
        ("mediation_period", "2026-04-07", "2026-05-07", "met"),
        # 30 days from 2026-04-09 is Saturday 2026-05-09, a make-up working day (调休).
        ("confirmation_window", "2026-04-09", "2026-05-09", "closed"),
    ]

    history = events(runner, db, number)
    assert [e["seq"] for e in history] == list(range(1, len(HAPPY) + signed + 1))
    expected_history = []
    for when, trig, src, dst, actor, _ in HAPPY:
        expected_history.append((when, trig, src, dst, actor))
        if trig == "agree_written":  # then signed, the agreement in effect
            expected_history += [(hours_after(when, 1), e, dst, dst, ACTOR) for e in SIGNING]
    assert [
        (e["occurred_at"], e["trigger"], e["from_state"], e["to_state"], e["actor"])
        for e in history
    ] == expected_history
    # Each application for 司法确认 came after its agreement took effect.
    for i, e in enumerate(history):
        if e["trigger"] == "apply_confirmation":
            effective = [f for f in history[:i] if f["trigger"] == "agreement_effective"][-1]
            signatures = [f for f in history[:i] if f["trigger"] == "record_signature"][-4:]
            for f in [*signatures, effective]:
                assert f["seq"] < e["seq"]
                assert datetime.fromisoformat(f["occurred_at"]) < datetime.fromisoformat(
                    e["occurred_at"]
                )
    assert {e["proceeding_id"] for e in history} == {p["id"]}
    assert [e["to_label"] for e in history][-3:] == ["已申请司法确认", "司法确认有效", "结案归档"]
    # The transitions by their step number (the signatures are no step of the flow).
    steps = [e for e in history if e["trigger"] not in SIGNING]
    by_step = dict(enumerate(steps, 1))
    assert by_step[3]["payload"] == {"mediators": ["周明", "吴桂英"], "selection": "designated"}
    assert by_step[6]["payload"]["kind"] == "mediation"
    assert by_step[8]["payload"]["performance"] == "partly_performed"  # from the JSON --data file
    assert by_step[7]["payload"]["performance_deadline"] == "2026-03-20"  # agreement.toml
    assert by_step[14]["payload"]["performance_deadline"] == "2026-04-30"  # --set overrides --data

    # Branches, each from a new case: id → (final state, number of events).
    expected = {p["id"]: ("archived", len(HAPPY) + signed)}
    for triggers, final in BRANCHES:
        case = open_case(runner, db, tmp_path)["proceeding_id"]
        assert walk(runner, db, case, triggers, state="applied") == final
        steps = len(triggers) + 1 + triggers.count(SIGN) * (len(SIGNING) - 1)
        expected[case] = (final, steps)
        if final == "escalated":
            expected[handed_off_to(runner, db, case)] = ("accepted", 1)
        if final == "referred_to_court":  # a 委派调解 proceeding at 城关, same dispute
            expected[handed_off_to(runner, db, case)] = ("received", 1)

    # Up the ladder: 桥头 (from accepted) → 城关 (from assigned) → 青山 (from informed) → 江城.
    ladder = open_case(runner, db, tmp_path)["proceeding_id"]
    state = "applied"
    for org, triggers in (
        ("城关", ["accept", "escalate"]),
        ("青山", ["assign", "escalate"]),
        ("江城", ["assign", "inform", "escalate"]),
    ):
        assert walk(runner, db, ladder, triggers, state=state) == "escalated"
        expected[ladder] = ("escalated", len(triggers) + 1)  # open or receive_escalation
        ladder, state = handed_off_to(runner, db, ladder), "accepted"
        p = show(runner, db, ladder)["proceeding"]
        assert (p["organisation"]["code"], p["state"]) == (org, "accepted")
    walk(runner, db, ladder, ["assign", "inform", "record_session"], state="accepted")
    # The city committee has no committee above it: the guard refuses, nothing changes.
    refused = advance(runner, db, ladder, "escalate")
    assert refused.exit_code == 5, refused.output
    assert "没有上级调委会" in refused.stderr
    expected[ladder] = ("mediating", 4)

    # Every (trigger, source) pair declared by the flow was fired, and nothing else.
    declared = {(t.trigger, src) for t in FLOW.transitions for src in t.source}
    cases = as_json(cli(runner, db, "case", "list", "--json", "--limit", "500"))
    assert {c["id"]: c["state"] for c in cases} == {k: v[0] for k, v in expected.items()}
    fired: set[tuple[str, str]] = set()
    for case in cases:
        recorded = events(runner, db, case["id"])
        assert [e["seq"] for e in recorded] == list(range(1, expected[case["id"]][1] + 1))
        assert recorded[-1]["to_state"] == case["state"]
        for e in recorded:
            if e["trigger"] in SIGNING:  # no transition: the agreement signed where it is
                assert e["from_state"] == e["to_state"] == "agreed_written"
                continue
            if e["from_state"] is None:
                assert e["trigger"] in ("open", "receive_escalation", "receive_court_referral")
                continue
            assert e["to_state"] == dest_of(e["trigger"], e["from_state"])
            fired.add((e["trigger"], e["from_state"]))
    assert declared - fired == set()
    assert fired - declared == set()


# -- 2. escalation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "starts_on", "due"),
    [
        ("2026-03-10T10:00:00+08:00", "2026-03-10", "2026-04-10"),
        # 2026-04-04 falls in the 清明 break (4/4-4/6): the period ends on the next working day.
        ("2026-03-04T15:00:00+08:00", "2026-03-04", "2026-04-07"),
        # 17:30 UTC is already 01:30 on 3/10 in Beijing: the business date counts.
        ("2026-03-09T17:30:00+00:00", "2026-03-10", "2026-04-10"),
    ],
    ids=["plain", "ends-in-holiday", "utc-evening"],
)
def test_escalation_opens_a_proceeding_one_level_up(
    db: str, runner: CliRunner, tmp_path: Path, when: str, starts_on: str, due: str
) -> None:
    opened = open_case(runner, db, tmp_path)
    original = opened["case_number"]
    ok(advance(runner, db, original, "accept"))

    result = ok(advance(runner, db, original, "escalate", now=when))
    assert "accepted → 已上报上级调委会（escalated）" in result.stdout
    assert "期限结束：调解期限（至 2026-04-02）按期完成" in result.stdout
    assert "移交：（2026）城关人调字第1号（已受理）" in result.stdout

    old = show(runner, db, original)
    p = old["proceeding"]
    assert (p["state"], p["outcome"], p["outcome_label"]) == (
        "escalated",
        "escalated",
        "上报上级调委会",
    )
    assert p["closed_at"] == business_iso(when)
    assert p["version"] == 3
    assert old["next"] == []
    assert [(d["kind"], d["status"]) for d in old["deadlines"]] == [("mediation_period", "met")]
    assert [r["case_number"] for r in old["related_proceedings"]] == ["（2026）城关人调字第1号"]
    last = events(runner, db, original)[-1]
    assert (last["trigger"], last["from_state"], last["to_state"]) == (
        "escalate",
        "accepted",
        "escalated",
    )
    assert last["payload"]["handed_off_to"] == "（2026）城关人调字第1号"

    new = show(runner, db, "（2026）城关人调字第1号")
    q = new["proceeding"]
    assert q["state"] == "accepted"
    assert q["dispute_id"] == p["dispute_id"] == opened["dispute_id"]
    assert new["dispute"]["id"] == opened["dispute_id"]
    assert q["parent_id"] == p["id"]
    assert (q["organisation"]["code"], q["level"]) == ("城关", "township")
    assert q["application_mode"] == "referral"
    assert q["handoff_reason"] == SETS["escalate"]["reason"]
    assert (q["version"], q["closed_at"], q["opened_at"]) == (1, None, business_iso(when))
    assert [(d["kind"], d["starts_on"], d["due"], d["status"]) for d in new["deadlines"]] == [
        ("mediation_period", starts_on, due, "open")
    ]
    assert [n["trigger"] for n in new["next"]] == [
        "refuse",
        "assign",
        "extend",
        "withdraw",
        "report_police",
        "refer_police",
        "escalate",
        "record_prevention",  # every open state (workflows._common)
    ]
    (first,) = events(runner, db, q["id"])
    assert (
        first["seq"],
        first["trigger"],
        first["from_state"],
        first["to_state"],
        first["actor"],
    ) == (
        1,
        "receive_escalation",
        None,
        "accepted",
        Store(db).login(),  # who escalated: the runner
    )
    assert first["payload"]["from_case"] == original
    assert first["payload"]["from_organisation"] == "桥头"

    # The closed proceeding takes no more triggers.
    again = advance(runner, db, original, "escalate", now=when)
    assert again.exit_code == 5, again.output
    assert "「已上报上级调委会」" in again.stderr
    assert "本程序已结束" in again.stderr


# -- 3. extension --------------------------------------------------------------------------


def test_extension_needs_both_parties_and_a_later_date(
    db: str, runner: CliRunner, tmp_path: Path
) -> None:
    case = open_case(runner, db, tmp_path)["proceeding_id"]
    ok(advance(runner, db, case, "accept"))
    assert show(runner, db, case)["deadlines"][0]["due"] == "2026-04-02"

    def extend(*sets: str) -> Result:
        args = ["case", "advance", str(case), "extend", "--set", "reason=双方希望继续协商"]
        for item in sets:
            args += ["--set", item]
        return cli(runner, db, *args, now=at("03-20"))

    def unchanged() -> None:
        data = show(runner, db, case)
        assert data["proceeding"]["version"] == 2
        assert [(d["due"], d["extensions"]) for d in data["deadlines"]] == [("2026-04-02", 0)]
        assert len(events(runner, db, case)) == 2

    one_side = extend("consented_by=张三", "new_due=2026-04-30")
    assert one_side.exit_code == 5, one_side.output
    assert "须经双方当事人同意" in one_side.stderr
    assert "consented_by" in one_side.stderr
    assert "「已受理」" in one_side.stderr
    unchanged()

    stranger = extend("consented_by=张三、王五", "new_due=2026-04-30")
    assert stranger.exit_code == 5, stranger.output
    unchanged()

    earlier = extend("consented_by=张三、李四", "new_due=2026-04-01")
    assert earlier.exit_code == 5, earlier.output
    assert "应晚于当前期限 2026-04-02" in earlier.stderr
    unchanged()

    data_file = tmp_path / "extend.json"
    data_file.write_text(
        json.dumps(
            {"reason": "双方申请延长", "consented_by": ["张三", "李四"], "new_due": "2026-04-30"},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    result = ok(
        cli(
            runner,
            db,
            "case",
            "advance",
            str(case),
            "extend",
            "--data",
            str(data_file),
            now=at("03-20"),
        )
    )
    assert "accepted → 已受理（accepted）" in result.stdout
    data = show(runner, db, case)
    assert data["proceeding"]["state"] == "accepted"
    assert data["proceeding"]["version"] == 3
    assert [(d["kind"], d["due"], d["extensions"], d["status"]) for d in data["deadlines"]] == [
        ("mediation_period", "2026-04-30", 1, "open")
    ]
    last = events(runner, db, case)[-1]
    assert (last["trigger"], last["from_state"], last["to_state"]) == (
        "extend",
        "accepted",
        "accepted",
    )
    assert last["payload"]["previous_due"] == "2026-04-02"
    assert last["payload"]["consented_by"] == ["张三", "李四"]
    assert last["payload"]["new_due"] == "2026-04-30"

    # A second extension, agreed with a comma-separated list, later again.
    ok(extend("consented_by=李四,张三", "new_due=2026-05-15"))
    assert [(d["due"], d["extensions"]) for d in show(runner, db, case)["deadlines"]] == [
        ("2026-05-15", 2)
    ]
    assert events(runner, db, case)[-1]["payload"]["previous_due"] == "2026-04-30"


# -- 4. errors ---------------------------------------------------------------------------


def _allowed_in_hint(stderr: str) -> set[str]:
    hint = stderr.split("现在可以执行：", 1)[1]
    return set(re.findall(r"([a-z_]+)（", hint))


def test_trigger_not_allowed_names_state_and_allowed_triggers(
    db: str, runner: CliRunner, tmp_path: Path
) -> None:
    case = open_case(runner, db, tmp_path)["case_number"]
    ok(advance(runner, db, case, "accept"))

    result = advance(runner, db, case, "inform")
    assert result.exit_code == 5, result.output
    assert result.stdout == ""
    assert "当前状态为「已受理」（accepted），inform 不能在此状态执行" in result.stderr
    assert _allowed_in_hint(result.stderr) == {
        "refuse",
        "assign",
        "extend",
        "withdraw",
        "report_police",
        "refer_police",
        "escalate",
        "record_prevention",
    }
    assert "assign（指派调解员）" in result.stderr

    unknown = advance(runner, db, case, "approve")
    assert unknown.exit_code == 5, unknown.output
    assert "approve 不是本流程的操作" in unknown.stderr
    assert "「已受理」" in unknown.stderr

    assert show(runner, db, case)["proceeding"]["version"] == 2
    assert len(events(runner, db, case)) == 2


def test_unknown_case_exits_4(db: str, runner: CliRunner, tmp_path: Path) -> None:
    open_case(runner, db, tmp_path)
    for args in (
        ["case", "advance", "99", "accept"],
        ["case", "advance", "（2026）桥头人调字第99号", "accept"],
        ["case", "show", "99"],
        ["case", "history", "（2026）城关人调字第1号"],
        ["case", "next", "99"],
    ):
        result = cli(runner, db, *args)
        assert result.exit_code == 4, (args, result.output)
        assert "没有案件" in result.stderr
        assert "mediation case list" in result.stderr


def test_missing_data_exits_3_and_writes_nothing(
    db: str, runner: CliRunner, tmp_path: Path
) -> None:
    case = open_case(runner, db, tmp_path)["proceeding_id"]

    result = cli(runner, db, "case", "advance", str(case), "reject")
    assert result.exit_code == 3, result.output
    assert "reject 的数据 有 2 处错误，未写入任何数据" in result.stderr
    assert "reason: 缺少必填字段" in result.stderr
    assert "redirect_to: 缺少必填字段" in result.stderr

    partial = cli(
        runner, db, "case", "advance", str(case), "reject", "--set", "reason=已由法院受理"
    )
    assert partial.exit_code == 3, partial.output
    assert "redirect_to: 缺少必填字段" in partial.stderr
    assert "reason:" not in partial.stderr

    empty = cli(
        runner,
        db,
        "case",
        "advance",
        str(case),
        "reject",
        "--set",
        "reason=",
        "--set",
        "redirect_to=法院",
    )
    assert empty.exit_code == 3, empty.output
    assert "reason: 缺少必填字段" in empty.stderr

    malformed = cli(runner, db, "case", "advance", str(case), "reject", "--set", "reason")
    assert malformed.exit_code == 3, malformed.output
    assert "应为 KEY=VALUE" in malformed.stderr

    p = show(runner, db, case)["proceeding"]
    assert (p["state"], p["version"], p["facts"]) == ("applied", 1, {})
    assert [e["trigger"] for e in events(runner, db, case)] == ["open"]

    # With the data it goes through.
    ok(advance(runner, db, case, "reject"))
    assert show(runner, db, case)["proceeding"]["state"] == "rejected"


# -- 5. read commands ----------------------------------------------------------------------


def test_case_next_lists_allowed_triggers(db: str, runner: CliRunner, tmp_path: Path) -> None:
    case = open_case(runner, db, tmp_path)["proceeding_id"]
    ok(advance(runner, db, case, "accept"))

    data = as_json(cli(runner, db, "case", "next", str(case), "--json"))
    assert (data["case_number"], data["state"], data["state_label"]) == (
        "（2026）桥头人调字第1号",
        "accepted",
        "已受理",
    )
    assert [(n["trigger"], n["label"], n["dest"], n["dest_label"]) for n in data["next"]] == [
        ("refuse", "一方当事人明确拒绝调解", "refused", "当事人拒绝调解"),
        ("assign", "指派调解员", "assigned", "已指派调解员"),
        ("extend", "经双方同意延长调解期限", "accepted", "已受理"),
        ("withdraw", "当事人撤回申请或要求终止调解", "withdrawn", "当事人撤回"),
        (
            "report_police",
            "可能激化，采取预防措施并报告公安机关（调解继续）",
            "accepted",
            "已受理",
        ),
        (
            "refer_police",
            "公安机关已受理（接手处理），终止调解",
            "referred_police",
            "公安机关已受理，调解终止",
        ),
        ("escalate", "上报上一级调委会", "escalated", "已上报上级调委会"),
        ("record_prevention", "登记防止纠纷激化情况", "accepted", "已受理"),
    ]
    assert {n["trigger"]: n["requires"] for n in data["next"]}["assign"] == [
        "mediators",
        "selection",
    ]

    text = ok(cli(runner, db, "case", "next", str(case))).stdout
    assert "当前状态：已受理" in text
    assert "指派调解员" in text

    walk(runner, db, case, ["withdraw"], state="accepted")
    withdrawn = as_json(cli(runner, db, "case", "next", str(case), "--json"))
    # 撤回 is not final (what the case prevented may still be recorded)
    assert [n["trigger"] for n in withdrawn["next"]] == ["archive", "record_prevention"]
    walk(runner, db, case, ["archive"], state="withdrawn")
    final = as_json(cli(runner, db, "case", "next", str(case), "--json"))
    assert (final["state"], final["state_label"], final["next"]) == ("archived", "结案归档", [])
    assert "没有可执行的操作" in ok(cli(runner, db, "case", "next", str(case))).stdout


def test_case_list_filters(db: str, runner: CliRunner, tmp_path: Path) -> None:
    a = open_case(runner, db, tmp_path)["proceeding_id"]
    ok(advance(runner, db, a, "accept"))
    b = open_case(runner, db, tmp_path, title="相邻房屋漏水纠纷")["proceeding_id"]
    c = as_json(
        cli(runner, db, "case", "open", "--from", str(EXAMPLES / "intake-referral.json"), "--json")
    )["proceeding_id"]

    def ids(*args: str) -> list[int]:
        return [r["id"] for r in as_json(cli(runner, db, "case", "list", "--json", *args))]

    assert ids() == [c, b, a]  # newest first
    assert ids("--state", "accepted") == [a]
    assert ids("--org", "城关") == [c]
    assert ids("--state", "applied", "--org", "桥头") == [b]
    assert ids("--state", "mediating") == []
    assert ids("--org", "城关", "--state", "accepted") == []
    assert ids("--limit", "2") == [c, b]

    (row,) = as_json(cli(runner, db, "case", "list", "--json", "--state", "accepted"))
    assert row["case_number"] == "（2026）桥头人调字第1号"
    assert (row["state_label"], row["organisation"], row["dispute_type_label"]) == (
        "已受理",
        "桥头",
        "邻里",
    )
    (ref,) = as_json(cli(runner, db, "case", "list", "--json", "--org", "城关"))
    assert (ref["case_number"], ref["title"], ref["dispute_type"]) == (
        "（2026）城关人调字第1号",
        "装修合同款纠纷",
        "contract",
    )

    assert (
        "没有符合条件的案件" in ok(cli(runner, db, "case", "list", "--state", "confirmed")).stdout
    )


def test_case_show_masks_personal_data_unless_revealed(
    db: str, runner: CliRunner, tmp_path: Path
) -> None:
    case = open_case(runner, db, tmp_path)["proceeding_id"]

    text = ok(cli(runner, db, "case", "show", str(case))).stdout
    assert "申请人 张三 110105********002X 138****5678" in text
    assert "被申请人 李四 139****4321" in text
    for secret in ("11010519491231002X", "13812345678", "13987654321", "桥头村12号"):
        assert secret not in text

    masked = show(runner, db, case)
    applicant, respondent = masked["parties"]
    assert (applicant["id_number"], applicant["phone"]) == ("110105********002X", "138****5678")
    assert respondent["phone"] == "139****4321"
    assert "桥头村12号" not in applicant["address"]
    raw = ok(cli(runner, db, "case", "show", str(case), "--json")).stdout
    for secret in ("11010519491231002X", "13812345678", "13987654321", "桥头村12号"):
        assert secret not in raw

    revealed = ok(cli(runner, db, "case", "show", str(case), "--reveal")).stdout
    assert (
        "申请人 张三 11010519491231002X 13812345678 浙江省江城市青山县城关镇桥头村12号" in revealed
    )
    assert "被申请人 李四 13987654321" in revealed
    (applicant, respondent) = as_json(
        cli(runner, db, "case", "show", str(case), "--json", "--reveal")
    )["parties"]
    assert (applicant["id_number"], applicant["phone"]) == ("11010519491231002X", "13812345678")
    assert respondent["phone"] == "13987654321"


def test_masked_show_does_not_disclose_the_id_number(
    db: str, runner: CliRunner, tmp_path: Path
) -> None:
    case = open_case(runner, db, tmp_path)["proceeding_id"]
    (applicant, _) = show(runner, db, case)["parties"]
    masked = applicant["id_number"]
    assert masked == "110105********002X"
    hidden = masked.replace("*", "")
    rebuilt = str(applicant.get("birth_date") or "").replace("-", "")
    assert masked[:6] + rebuilt + masked[-4:] != "11010519491231002X", (hidden, rebuilt)


def test_workflow_list_and_mermaid(db: str, runner: CliRunner) -> None:
    flows = as_json(cli(runner, db, "workflow", "list", "--json"))
    (peoples,) = [f for f in flows if f["name"] == "peoples"]
    assert peoples["label"] == "人民调解"
    assert [(s["name"], s["label"], s["final"]) for s in peoples["states"]] == [
        (s.name, s.label, s.final) for s in FLOW.states
    ]
    assert {s["name"] for s in peoples["states"] if s["final"]} == {
        "rejected",
        "refused",
        "escalated",
        "referred_to_court",
        "archived",
    }

    diagram = ok(cli(runner, db, "workflow", "show", "peoples", "--format", "mermaid")).stdout
    lines = diagram.splitlines()
    assert lines[0] == "stateDiagram-v2"
    for s in FLOW.states:
        assert f"    {s.name} : {s.label}" in lines
    assert "    [*] --> applied" in lines
    for t in FLOW.transitions:
        for src in t.source:
            assert f"    {src} --> {t.dest or src} : {t.label}" in lines
    assert "    archived --> [*]" in lines

    unknown = cli(runner, db, "workflow", "show", "arbitration")
    assert unknown.exit_code == 4, unknown.output
    assert "peoples" in unknown.stderr


# -- 6. demo -------------------------------------------------------------------------------


def test_demo_fills_every_state(db_url: str, runner: CliRunner) -> None:
    """The demo on an empty database (it creates the schema itself)."""
    cases = len(FLOW.states)
    result = cli(runner, db_url, "demo", "--cases", str(cases), "--seed", "1", "--quiet", actor="")
    ok(result)

    rows = as_json(cli(runner, db_url, "case", "list", "--json", "--limit", "500"))
    states = {r["state"] for r in rows if r["flow"] == "peoples"}
    assert states == {s.name for s in FLOW.states}
    # One case per state, the narrated walk-through, and the proceedings the escalated and
    # the court-referred cases were handed to (the latter a 委派调解 proceeding).
    assert len(rows) == cases + 3
    assert {r["flow"] for r in rows} == {"peoples", "court_referred"}
    orgs = as_json(cli(runner, db_url, "org", "list", "--json"))
    assert {o["code"] for o in orgs} >= {"江城", "青山", "城关", "桥头", "河西"}
    walked = show(runner, db_url, 1)
    if db_url.startswith("sqlite"):
        # The parties and the mediator sign, the committee seals, the agreement takes effect.
        assert (walked["proceeding"]["state"], walked["proceeding"]["version"]) == ("archived", 17)
        triggers = [e["trigger"] for e in events(runner, db_url, 1)]
        assert triggers.count("record_signature") == 4  # two parties, mediator, seal
        assert "sign_document" in triggers and "agreement_effective" in triggers
        pdf = Path(db_url.removeprefix("sqlite:///")).with_name("mediation-agreement.pdf")
        verified = cli(runner, db_url, "doc", "verify", str(pdf))
        assert verified.exit_code == 0, verified.output
    else:  # no file to put it beside: no signed agreement unless --agreement names one
        # The signatures are still recorded before 司法确认 is applied for (the 11 steps,
        # four signatures and the agreement taking effect), but no PDF is signed.
        assert (walked["proceeding"]["state"], walked["proceeding"]["version"]) == ("archived", 16)
        triggers = [e["trigger"] for e in events(runner, db_url, 1)]
        assert triggers.count("record_signature") == 4  # two parties, mediator, seal
        assert "agreement_effective" in triggers and "sign_document" not in triggers
        assert triggers.index("agreement_effective") < triggers.index("apply_confirmation")


def test_demo_quiet_prints_the_summary(tmp_path: Path, runner: CliRunner) -> None:
    db_url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = ok(cli(runner, db_url, "demo", "--cases", "3", "--seed", "1", "--quiet", actor=""))
    assert "已生成 4 件演示案件" in result.stdout
