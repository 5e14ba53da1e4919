"""The 医调委 flow's graph, written out for review (医疗纠纷预防和处理条例 arts. 31-39)."""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.engine.machine import load

WORKING = ("accepted", "assigned", "informed", "mediating")

MEDICAL_EDGES = {
    ("applied", "accept", "accepted"),
    ("applied", "reject", "rejected"),
    *((s, "refuse", "refused") for s in ("applied", "accepted", "assigned", "informed")),
    ("accepted", "assign", "assigned"),
    ("assigned", "inform", "informed"),
    ("informed", "record_session", "mediating"),
    ("mediating", "record_session", "mediating"),
    ("mediating", "start_appraisal", "appraising"),  # the clock stops (art. 38)
    ("appraising", "finish_appraisal", "mediating"),  # and runs again
    *((s, "extend", s) for s in WORKING),
    ("mediating", "agree_written", "agreed_written"),
    *((s, "terminate", "terminated") for s in ("assigned", "informed", "mediating")),
    *((s, "deem_failed", "deemed_failed") for s in WORKING),  # expiry = deemed failure
    *((s, "withdraw", "withdrawn") for s in (*WORKING, "appraising")),
    # a court or the health authority accepted it: mediation ends, appraisal or not (art. 31)
    *((s, "end_accepted_elsewhere", "terminated") for s in (*WORKING, "appraising")),
    # a report to the police (人民调解法 art. 25) keeps the mediation going
    *((s, "report_police", s) for s in WORKING),
    ("agreed_written", "follow_up", "followed_up"),
    ("followed_up", "follow_up", "followed_up"),
    ("agreed_written", "apply_confirmation", "confirmation_applied"),
    ("followed_up", "apply_confirmation", "confirmation_applied"),
    ("confirmation_applied", "confirmation_granted", "confirmed"),
    ("confirmation_applied", "confirmation_denied", "confirmation_rejected"),
    ("confirmation_rejected", "remediate", "mediating"),
    *(
        (s, "archive", "archived")
        for s in (
            "terminated",
            "deemed_failed",
            "withdrawn",
            "followed_up",
            "confirmed",
            "confirmation_rejected",
        )
    ),
}


def test_medical_committee_edges():
    machine = load("medical_committee")
    spec = {(src, t.trigger, t.dest or src) for t in machine.flow.transitions for src in t.source}
    expected = MEDICAL_EDGES | _prevention_edges(machine.flow)
    assert spec == expected
    lib = {
        (src, trig, tr[0].dest or src)
        for trig, event in machine.machine.events.items()
        for src, tr in event.transitions.items()
    }
    assert lib == expected


def test_medical_committee_clock():
    (period, window) = load("medical_committee").flow.deadlines
    assert period.period == Period(30, "working_days")
    assert "art. 38" in period.legal_basis
    assert (period.paused_by, period.resumed_by, period.on_expiry) == (
        ("start_appraisal",),
        ("finish_appraisal",),
        "deem_failed",
    )
    assert "appraising" in period.runs_in
    assert window.period == Period(30, "days") and not window.duty


def _prevention_edges(flow) -> set[tuple[str, str, str]]:
    """What every mediation flow adds (workflows._common.with_common_actions): recording
    what the case prevented, in place, from each state that is not final."""
    return {(s.name, "record_prevention", s.name) for s in flow.states if not s.final}
