"""Supervisors' statistics (统计报表): what was received, settled, at which level, how fast.

**What is counted.** A *case* (案件) is one mediation proceeding: every flow except 访调对接
(``petition``: the petition bureau's handling; a petition diverted to mediation is counted
as the people's-mediation case it becomes) and 司法确认 (``judicial_confirmation``: the
court's review of an agreement, counted under judicial confirmation below). The cases of a
report are those *opened* (收案: registered, or received by hand-off) between ``start``
and ``end``, business dates in Asia/Shanghai; their outcomes are counted as they stand
when the report runs. A dispute escalated or handed on is a new case where it arrives,
as in each committee's own register, and the case it left is counted as 移交, not as a
failure: each dispute is concluded once, in its last proceeding, so the settlement rate
is not diluted by hand-offs.

**Every figure** is declared in :data:`FIGURES` with its Chinese label and definition,
next to the code that computes it; docs/reference/statistics.md is generated from it. Where
the official statistics have a category (domain.md §2: 调解成功/调解成功率, 书面/口头协议,
主动调解/依申请/接受委托移送), the figure uses it.

**How.** Everything is counted by group (flow, state, outcome, level, month, type, clock
status, ...): Python only classifies the groups (flow, state, outcome → 调解成功, 调解不成,
...) and adds them up. Durations are histograms over (start day, stop day) pairs, the
working days counted in Python against the project calendar, so medians are exact
without a row per case. On PostgreSQL the database counts (GROUP BY). On SQLite, whose
GROUP BY sorts every row it aggregates, each query is shaped so that no row is sorted:

- cases are counted by walking ``ix_proceeding_report`` in its own (flow, state,
  outcome, level) order, which makes GROUP BY a running count;
- repeats are found through ``dispute.party_key`` (:func:`mediation.domain.personal.party_key`, stored when a
  dispute is registered) and ``ix_dispute_party_key``: only keys seen twice are looked at;
- the rest (received cases by month and type, follow-ups and confirmations from the
  facts, the mediation clocks) reads the cases in table order, their disputes and clocks
  (``ix_deadline_clock``) being stored in nearly the same order, and the rows are counted
  in Python as they stream from the driver (:class:`.selection.Count`), which costs less than the
  sort. Each case's facts are parsed once.

The work is split into parts (ranges of case ids) that run side by side, one read
transaction each, and add up (see ``bench/stats.py``).

**Layout.** :mod:`.figures` — what is counted (:data:`FIGURES`, the outcome classes,
:func:`classify`, the dimensions and their labels); :mod:`.selection` — which cases
(:class:`Selection`) and what the queries share; :mod:`.queries` — the statements;
:mod:`.tally` — adding the rows up into the figures and the report (:class:`StatsReport`);
:mod:`.compute` — running the statements side by side (:func:`compute`); :mod:`.render` —
text, CSV, Excel, HTML and PDF. Everything a caller uses is importable from this package.
"""

from __future__ import annotations

from mediation.reporting.stats.compute import compute, part_count
from mediation.reporting.stats.figures import (
    AWAITING_ACCEPTANCE,
    CLASSES,
    CLOCK,
    DIMENSION_LABELS,
    DIMENSIONS,
    FIGURE_BY_KEY,
    FIGURES,
    NOT_CASES,
    PERFORMANCE,
    REPEAT_WINDOW_MONTHS,
    SATISFACTION,
    SATISFACTION_CODE,
    SETTLED_STATES,
    Figure,
    classify,
    key_label,
)
from mediation.reporting.stats.render import (
    SECTIONS,
    SUMMARY,
    TITLE,
    as_html,
    as_pdf,
    as_table,
    as_xlsx,
    scope_line,
    sheet_rows,
    show,
    write_csv,
)
from mediation.reporting.stats.selection import Selection
from mediation.reporting.stats.tally import Charts, StatsReport, Tally

__all__ = [
    "AWAITING_ACCEPTANCE",
    "CLASSES",
    "CLOCK",
    "DIMENSIONS",
    "DIMENSION_LABELS",
    "FIGURES",
    "FIGURE_BY_KEY",
    "NOT_CASES",
    "PERFORMANCE",
    "REPEAT_WINDOW_MONTHS",
    "SATISFACTION",
    "SATISFACTION_CODE",
    "SECTIONS",
    "SETTLED_STATES",
    "SUMMARY",
    "TITLE",
    "Charts",
    "Figure",
    "Selection",
    "StatsReport",
    "Tally",
    "as_html",
    "as_pdf",
    "as_table",
    "as_xlsx",
    "classify",
    "compute",
    "key_label",
    "part_count",
    "scope_line",
    "sheet_rows",
    "show",
    "write_csv",
]
