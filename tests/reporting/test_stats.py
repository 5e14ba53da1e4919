"""The statistics report: every figure against a small dataset computed by hand, on both
databases, and the command in every format."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from mediation.cli import app
from mediation.domain import intake, personal
from mediation.domain.clock import BUSINESS_TZ
from mediation.engine import cases
from mediation.reporting import charts, stats
from mediation.storage._tables import proceeding_table
from tests.conftest import intake_record

AGREEMENT = {
    "facts": "双方因通道堆放杂物发生争执。",
    "issues": "杂物清理",
    "responsibility": "被申请人负主要责任",
    "terms": "被申请人三日内清理杂物。",
    "performance_method": "自行清理",
    "performance_place": "现场",
    "performance_deadline": "2026-04-30",
}
SESSION = {"kind": "mediation", "summary": "双方到场协商"}
ASSIGN = {"mediators": ["周明"], "selection": "designated"}
#: The report: cases opened in March 2026, looked at on 8 April.
SELECTION = stats.Selection(start=date(2026, 3, 1), end=date(2026, 3, 31), as_of=date(2026, 4, 8))


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=BUSINESS_TZ)


def parties(n: int) -> list[dict[str, str]]:
    """Parties of their own for dispute ``n`` (the same ``n``: the same parties)."""
    return [
        {"role": "applicant", "name": f"申请人{n}", "phone": f"1381234{n:04d}"},
        {"role": "respondent", "name": f"被申请人{n}", "phone": f"1391234{n:04d}"},
    ]


def names(n: int) -> list[str]:
    return [p["name"] for p in parties(n)]


def open_case(store: Any, n: int, when: datetime, **record: Any) -> int:
    data = intake_record(parties=parties(n), **record)
    return cases.open_case(store, intake.validate(data), actor="t", now=when).proceeding_id


def run(store: Any, pid: int, *steps: tuple[Any, ...]) -> Any:
    """Fire (trigger, moment[, payload]) steps on case ``pid``; return the last result.
    The step ``sign`` records every signature the written agreement lacks (it takes effect:
    人民调解法 art. 29), as the parties do before applying for 司法确认."""
    from mediation.demo.agreement import sign_in

    result = None
    for trigger, when, *payload in steps:
        if trigger == "sign":
            with store.write() as conn:
                sign_in(conn, pid, actor="t", now=when)
            continue
        data = payload[0] if payload else None
        result = cases.advance(store, pid, trigger, actor="t", now=when, payload=data)
    return result


def mediate(day: int) -> list[tuple[Any, ...]]:
    """Accept on 2026-03-``day``, assign, inform and hold a first session the same day."""
    return [
        ("accept", at(3, day, 9)),
        ("assign", at(3, day, 10), ASSIGN),
        ("inform", at(3, day, 11)),
        ("record_session", at(3, day, 14), SESSION),
    ]


@pytest.fixture
def dataset(store: Any) -> dict[str, int]:
    """Eleven cases opened in March 2026 (K's judicial-confirmation case is not one).

    case  committee      flow / type           what happened                      clock (days / working days)
    A     桥头 village   邻里, parties 1       agreed 03-12, follow-up performed/satisfied,
                                               confirmation applied and granted, archived   03-02→03-12: 10 / 8
    B     桥头 village   邻里, parties 1 again oral agreement 03-18, follow-up partly
                                               performed / basically satisfied (a repeat of A) 03-16→03-18: 2 / 2
    C     桥头 village   婚姻家庭              escalated 03-05 to 城关 (→ D)                03-02→03-05: 3 / 3
    D     城关 township  (C's dispute)         received 03-05, agreed 03-20                 03-05→03-20: 15 / 11
    E     城关 township  合同                  terminated 03-10                             03-03→03-10: 7 / 5
    F     桥头 village   损害赔偿              not accepted                                  —
    G     桥头 village   邻里                  awaiting acceptance                           —
    H     桥头 village   邻里                  accepted 03-02, nothing since: overdue (due 04-02)
    I     青山 county    合同                  withdrawn 03-06                              03-02→03-06: 4 / 4
    J     桥头 village   邻里                  agreed 04-06 (late: due 04-02), confirmation
                                               applied and dismissed                        03-02→04-06: 35 / 24 (清明 4-6 April)
    K     桥头 village   委派调解, 合同        agreed 03-09, confirmation by 青山 granted    03-02→03-09: 7 / 5
    """
    ids: dict[str, int] = {}
    ids["A"] = a = open_case(store, 1, at(3, 2, 9))
    run(
        store,
        a,
        *mediate(2),
        ("agree_written", at(3, 12), AGREEMENT),
        (
            "follow_up",
            at(3, 20),
            {"performance": "performed", "summary": "已履行", "satisfaction": "satisfied"},
        ),
        ("sign", at(3, 20, 16)),
        ("apply_confirmation", at(3, 21), {"court": "青山县人民法院", "consented_by": names(1)}),
        ("confirmation_granted", at(3, 25), {"ruling_ref": "（2026）浙0681民特1号"}),
        ("archive", at(3, 26)),
    )
    ids["B"] = b = open_case(store, 1, at(3, 16, 9))
    run(
        store,
        b,
        *mediate(16),
        ("agree_oral", at(3, 18), {"terms": "互相谅解"}),
        (
            "follow_up",
            at(3, 25),
            {
                "performance": "partly_performed",
                "summary": "部分履行",
                "satisfaction": "basically_satisfied",
            },
        ),
    )
    ids["C"] = c = open_case(store, 3, at(3, 2, 9), dispute_type="marriage_family", channel="grid")
    escalated = run(store, c, *mediate(2), ("escalate", at(3, 5), {"reason": "案情复杂"}))
    ids["D"] = d = escalated.handed_off_to.proceeding_id
    run(
        store,
        d,
        ("assign", at(3, 6), ASSIGN),
        ("inform", at(3, 6, 11)),
        ("record_session", at(3, 9), SESSION),
        ("agree_written", at(3, 20), AGREEMENT),
    )
    ids["E"] = e = open_case(
        store, 5, at(3, 3, 9), organisation="城关", dispute_type="contract", channel="hotline"
    )
    run(
        store,
        e,
        *mediate(3),
        ("terminate", at(3, 10), {"reason": "分歧较大", "other_routes": "可诉讼"}),
    )
    ids["F"] = f = open_case(store, 6, at(3, 2, 9), dispute_type="damages")
    run(store, f, ("reject", at(3, 2, 10), {"reason": "已起诉", "redirect_to": "青山县人民法院"}))
    ids["G"] = open_case(store, 7, at(3, 30, 9))
    ids["H"] = h = open_case(store, 8, at(3, 2, 9))
    run(store, h, ("accept", at(3, 2, 10)))
    ids["I"] = i = open_case(store, 9, at(3, 2, 9), organisation="青山", dispute_type="contract")
    run(store, i, *mediate(2), ("withdraw", at(3, 6), {"party": "申请人9", "reason": "已和解"}))
    ids["J"] = j = open_case(store, 10, at(3, 2, 9))
    run(
        store,
        j,
        *mediate(2),
        ("agree_written", at(4, 6), AGREEMENT),
        ("sign", at(4, 6, 16)),
        ("apply_confirmation", at(4, 7), {"court": "青山县人民法院", "consented_by": names(10)}),
        (
            "confirmation_denied",
            at(4, 7, 15),
            {"ruling_ref": "（2026）浙0681民特2号", "reason": "协议内容不明确"},
        ),
    )
    ids["K"] = k = open_case(
        store,
        11,
        at(3, 2, 9),
        flow="court_referred",
        channel="court",
        dispute_type="contract",
        referring_organ="青山县人民法院",
        referral_ref="（2026）浙0681民诉前调1号",
    )
    confirmation = run(
        store,
        k,
        (
            "designate_mediator",
            at(3, 3),
            {"mediators": ["周明"], "designated_by": "青山县人民法院"},
        ),
        ("inform", at(3, 3)),
        ("record_session", at(3, 3), SESSION),
        ("agree", at(3, 9), AGREEMENT),
        ("sign", at(3, 9, 16)),
        ("apply_confirmation", at(3, 10), {"organisation": "青山", "consented_by": names(11)}),
    ).handed_off_to.proceeding_id
    run(
        store,
        confirmation,
        ("accept", at(3, 11)),
        ("confirm", at(3, 16), {"ruling_ref": "（2026）浙0681民特3号"}),
    )
    return ids


def test_every_figure_against_the_hand_count(store, dataset):
    report = stats.compute(store, SELECTION)
    assert report.total == {
        "received": 11,  # A-K; K's confirmation case is the court's, not a mediation case
        "disputes": 10,  # D is C's dispute, received by escalation
        "awaiting": 1,  # G
        "rejected": 1,  # F
        "refused": 0,
        "accepted": 9,  # 11 - G - F
        "settled": 5,  # A, D, J, K written; B oral
        "written": 4,
        "oral": 1,
        "failed": 1,  # E
        "withdrawn": 1,  # I
        "transferred": 1,  # C, counted where it ended: D
        "in_progress": 1,  # H
        "settlement_rate": 71.4,  # 5 / (5 + 1 + 1)
        "at_village": 80.0,  # A, B, J, K of 5
        "at_township": 20.0,  # D
        "above_township": 0.0,
        # Clocks that stopped: 2, 3, 4, 7, 7, 10, 15, 35 days; 2, 3, 4, 5, 5, 8, 11, 24
        # working days (J's runs over the 清明 holidays, 4-6 April).
        "duration_median": 7,  # (7 + 7) / 2
        "duration_mean": 10.4,  # 83 / 8 = 10.375
        "working_median": 5,  # (5 + 5) / 2
        "working_mean": 7.8,  # 62 / 8 = 7.75
        "overdue": 2,  # J agreed late; H still running on 8 April, due 2 April
        "overdue_rate": 22.2,  # 2 of the 9 clocks (the 8 above and H's)
        "confirmation_applied": 3,  # A and J in the flow, K through the court
        "confirmation_rate": 75.0,  # 3 of the written agreements A, D, J, K
        "confirmed": 2,  # A, K
        "dismissed": 1,  # J
        "confirmation_refused": 0,
        "confirmation_pending": 0,
        "confirmed_rate": 66.7,  # 2 of 3 rulings
        "followed_up": 2,  # A, B
        "follow_up_rate": 50.0,  # of A, B, D, J (K's flow has no follow-up)
        "performed": 1,  # A
        "performance_rate": 50.0,
        "satisfied": 2,  # A satisfied, B basically satisfied
        "satisfaction_rate": 100.0,
        "repeats": 1,  # B: A's parties and type, two weeks before
        "repeat_rate": 10.0,  # 1 of 10 new disputes
        # Official categories (tests/reporting/test_official_figures.py has their own): the
        # mediations that ended in March, whenever opened: A 3-12, B 3-18, D 3-20, K 3-09
        # agreed, E terminated 3-10, I withdrew 3-06; J agreed on 6 April, outside.
        "official_mediated": 6,
        "official_settled": 4,
        "official_rate": 66.7,  # 4 / 6
        "agreement_amount": 0.0,  # no agreement recorded an amount
        "amount_recorded": 0,
        "people_involved": 12,  # 2 parties each
        "sweeps_held": 0,
        "sweep_found": 0,
        "sweep_opened": 0,
        **{f.key: 0 for f in stats.FIGURES if f.key.startswith("prevented_")},
    }
    assert set(report.total) == {f.key for f in stats.FIGURES}


def test_grouped_by_level(store, dataset):
    report = stats.compute(store, stats.Selection(**{**SELECTION.__dict__, "by": "level"}))
    rows = {key: figs for key, _, figs in report.rows}
    assert [label for _, label, _ in report.rows] == ["村/社区", "乡镇/街道", "县/区"]
    village, township, county = rows["village"], rows["township"], rows["county"]
    # 桥头: A B C F G H J K; 城关: D E; 青山: I.
    assert [r["received"] for r in (village, township, county)] == [8, 2, 1]
    assert (village["settled"], village["settlement_rate"], village["transferred"]) == (4, 100.0, 1)
    assert (township["settled"], township["failed"], township["settlement_rate"]) == (1, 1, 50.0)
    assert (county["withdrawn"], county["settlement_rate"]) == (1, 0.0)
    assert (village["repeats"], village["disputes"], township["disputes"]) == (1, 8, 1)
    # Village clocks: A 10, B 2, C 3, J 35, K 7 days; H overdue, J late.
    assert (village["duration_median"], village["overdue"], village["overdue_rate"]) == (7, 2, 33.3)
    assert report.charts.by_level == {"village": (4, 4), "township": (1, 2), "county": (0, 1)}
    assert report.total["received"] == 11


def test_other_groupings_add_up(store, dataset):
    for by, expected in (
        ("type", {"neighbourhood": 5, "marriage_family": 2, "contract": 3, "damages": 1}),
        ("channel", {"walk_in": 7, "grid": 2, "hotline": 1, "court": 1}),
        ("mediator", {"周明": 8, "": 3}),  # F, G and H have none assigned
        ("month", {"2026-03": 11}),
    ):
        report = stats.compute(store, stats.Selection(**{**SELECTION.__dict__, "by": by}))
        assert {k: figs["received"] for k, _, figs in report.rows} == expected, by
        assert sum(figs["settled"] for _, _, figs in report.rows) == 5, by
    assert stats.key_label("channel", "grid") == "网格员排查上报（主动调解）"


@pytest.mark.parametrize("by", [None, "level", "mediator"])
def test_a_report_run_in_parts_adds_up_to_the_same(store, dataset, monkeypatch, by):
    """A large database's report runs its costliest statements over ranges of case ids,
    side by side (forked processes on SQLite, threads on PostgreSQL); a small one's runs
    them whole, one after another. Both give the same report, figure for figure."""
    import importlib

    compute = importlib.import_module("mediation.reporting.stats.compute")  # not the function
    selection = stats.Selection(**{**SELECTION.__dict__, "by": by})
    whole = stats.compute(store, selection)
    monkeypatch.setattr(compute, "PARALLEL_FROM", 1)
    monkeypatch.setattr(compute, "part_count", lambda: 3)
    with store.read() as conn:
        assert len(compute._id_ranges(conn, 3)) == 3  # the parts are really there
    assert stats.compute(store, selection) == whole


def test_org_covers_the_committees_below_it(store, dataset):
    report = stats.compute(store, stats.Selection(**{**SELECTION.__dict__, "org": "城关"}))
    assert report.organisation == "城关镇人民调解委员会"
    assert report.total["received"] == 10  # all but I, at 青山 above 城关
    assert report.total["withdrawn"] == 0
    nothing = stats.Selection(start=date(2026, 5, 1), end=date(2026, 5, 31), as_of=date(2026, 6, 1))
    empty = stats.compute(store, nothing).total
    assert (empty["received"], empty["settlement_rate"], empty["duration_median"]) == (
        0,
        None,
        None,
    )


def test_charts(store, dataset):
    report = stats.compute(store, SELECTION)
    c = report.charts
    assert c.volume == {
        "2026-03": {"neighbourhood": 5, "marriage_family": 2, "contract": 3, "damages": 1}
    }
    assert sorted(c.durations.elements()) == [2, 3, 4, 7, 7, 10, 15, 35]
    assert c.overdue == {"2026-03": (2, 9)}
    svg = charts.volume_by_type(c.volume)
    assert svg.startswith("<svg") and "邻里" in svg and "26-03" in svg
    assert "71.4%" not in charts.settlement_by_level(c.by_level)  # per level, not overall
    assert "100.0%（4/4）" in charts.settlement_by_level(c.by_level)
    assert "本期无数据" in charts.overdue_trend({})


def test_classification_of_outcomes():
    assert stats.classify("peoples", "applied", None) == "awaiting"
    assert stats.classify("administrative", "consulting", None) == "awaiting"
    assert stats.classify("peoples", "archived", "agreement_written") == "written"
    assert stats.classify("peoples", "archived", "terminated") == "failed"
    # Re-mediation after a refused confirmation: in progress again.
    assert stats.classify("peoples", "mediating", "agreement_written") == "in_progress"
    # 司法调解: agreed, but the 调解书 not yet served.
    assert stats.classify("judicial", "agreed", None) == "in_progress"
    assert stats.classify("judicial", "effective", "agreement_written") == "written"
    assert stats.classify("court_referred", "confirmation_requested", "transferred") == "written"
    assert stats.classify("court_referred", "returned", "returned") == "failed"
    assert stats.classify("peoples", "referred_to_court", "transferred") == "transferred"
    assert stats.classify("public_order", "penalised", "terminated") == "failed"
    assert stats.classify("labour", "lapsed", "terminated") == "failed"
    for flow, states in stats.AWAITING_ACCEPTANCE.items():
        from mediation.workflows import get_flow

        assert states <= {s.name for s in get_flow(flow).states}, flow


def test_every_figure_has_a_label_and_a_definition():
    keys = [f.key for f in stats.FIGURES]
    assert len(keys) == len(set(keys))
    units = ("件", "%", "日", "次", "人", "元")
    assert all(f.label and f.definition and f.unit in units for f in stats.FIGURES)
    listed = [k for _, section in stats.SECTIONS for k in section]
    assert sorted(listed) == sorted(keys)
    page = Path(__file__).parents[2] / "docs" / "reference" / "statistics.md"
    section = page.read_text(encoding="utf-8")
    missing = [f.label for f in stats.FIGURES if f.label not in section]
    assert not missing, f"figures not defined in docs/reference/statistics.md: {missing}"


def _cli(runner, db_url, *args):
    return runner.invoke(
        app,
        [
            "--db",
            db_url,
            "report",
            "stats",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
            "--as-of",
            "2026-04-08",
            *args,
        ],
    )


def test_the_command_in_every_format(store, dataset, db_url, runner, tmp_path: Path):
    store.close()
    table = _cli(runner, db_url, "--by", "level")
    assert table.exit_code == 0, table.output
    assert "矛盾纠纷调解统计报表" in table.output and "71.4%" in table.output
    assert "乡镇/街道" in table.output and "合计" in table.output

    out = _cli(runner, db_url, "--by", "type", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out.stdout_bytes.decode("utf-8-sig"))))
    assert rows[0][:3] == ["纠纷类型", "收案（件）", "新收纠纷（件）"]
    assert rows[-1][:2] == ["合计", "11"]
    assert "调解成功率（化解率）（%）" in rows[0]

    data = json.loads(_cli(runner, db_url, "--format", "json").output)
    assert data["total"]["settled"] == 5 and data["from"] == "2026-03-01"
    assert {f["key"] for f in data["figures"]} == set(data["total"])

    html = _cli(runner, db_url, "--by", "level", "--format", "html").output
    assert html.count("<svg") == 4 and 'lang="zh-CN"' in html and "指标口径" in html

    pdf = tmp_path / "stats.pdf"
    out = _cli(runner, db_url, "--by", "level", "--format", "pdf", "-o", str(pdf))
    assert out.exit_code == 0, out.output
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "矛盾纠纷调解统计报表" in text and "各层级调解成功率" in text  # a chart's title
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts and all(" yes yes " in line for line in fonts)


def test_bad_options(store, db_url, runner):
    store.close()
    assert _cli(runner, db_url, "--by", "village").exit_code == 2
    assert _cli(runner, db_url, "--org", "城关X").exit_code == 4
    assert _cli(runner, db_url, "--format", "xls").exit_code == 2
    assert _cli(runner, db_url, "--format", "pdf").exit_code == 2
    assert _cli(runner, db_url, "--from", "2026-04-01").exit_code == 2  # after --to
    assert _cli(runner, db_url, "--as-of", "2026-13-01").exit_code == 3


def test_the_parties_key_is_stored_when_a_dispute_is_registered(store, dataset):
    """Repeats are found by ``dispute.party_key``: the same parties give the same key
    (A and B), other parties another; the upgrade through 0007 and 0009 computes the same
    keys for the disputes already there (under the secret 0009 makes anew)."""
    from sqlalchemy import select

    from mediation.storage._tables import dispute_table, party_table, proceeding_table
    from mediation.storage.migrations import downgrade, upgrade
    from mediation.storage.secret import installation_secret

    def keys() -> dict[int, str | None]:
        with store.read() as conn:
            rows = conn.execute(select(dispute_table.c.id, dispute_table.c.party_key)).all()
            return {r.id: r.party_key for r in rows}

    stored = keys()
    with store.read() as conn:
        parties = conn.execute(select(party_table)).all()
        rows = conn.execute(select(proceeding_table.c.id, proceeding_table.c.dispute_id)).all()
        dispute_of = {r.id: r.dispute_id for r in rows}

    def expected() -> dict[int, str]:
        with store.write() as conn:
            secret = installation_secret(conn)
        return {
            d: personal.party_key((p for p in parties if p.dispute_id == d), secret) for d in stored
        }

    assert stored == expected()
    assert stored[dispute_of[dataset["A"]]] == stored[dispute_of[dataset["B"]]]
    assert len(set(stored.values())) == len(stored) - 1  # only B repeats A's parties

    downgrade(store, "0006")
    assert store.revision() == "0006"
    upgrade(store)
    assert keys() == expected()
    assert stats.compute(store, SELECTION).total["repeats"] == 1


def test_a_follow_up_satisfaction_recorded_as_its_label_still_counts(store, dataset):
    """Follow-ups recorded before satisfaction codes were checked may hold the label
    (基本满意); both the SQL sums and the per-table pass count it as its code."""
    p = proceeding_table
    with store.write() as conn:
        facts = conn.execute(select(p.c.facts).where(p.c.id == dataset["B"])).scalar_one()
        facts = json.loads(facts) if isinstance(facts, str) else facts
        assert facts["follow_up"]["satisfaction"] == "basically_satisfied"
        facts["follow_up"]["satisfaction"] = "基本满意"
        conn.execute(update(p).where(p.c.id == dataset["B"]).values(facts=facts))
    assert stats.compute(store, SELECTION).total["satisfied"] == 2
