"""医调委 — people's mediation of medical disputes by a 医疗纠纷人民调解委员会
(domain.md §3.6; 医疗纠纷预防和处理条例 2018).

Thirty working days from acceptance (art. 38); appraisal (鉴定) time does not count; the
committee and both sides may agree to extend; expiry without agreement is deemed failure,
which the scheduler records on its own. Parties are told they may seek judicial
confirmation (art. 39).
"""

from __future__ import annotations

from mediation.periods import Period
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

_WORKING = ("accepted", "assigned", "informed", "mediating")
_ART38 = "医疗纠纷预防和处理条例 art. 38"

FLOW = Flow(
    name="medical_committee",
    label="医疗纠纷人民调解（医调委）",
    legal_basis="《医疗纠纷预防和处理条例》；《中华人民共和国人民调解法》",
    case_word="医调",
    initial="applied",
    description="医疗纠纷人民调解委员会受理的医疗纠纷；与卫生主管部门的行政调解互斥。",
    states=(
        State("applied", "申请登记"),
        State("accepted", "已受理"),
        State("rejected", "不予受理", final=True),
        State("refused", "当事人拒绝调解", final=True),
        State("assigned", "已指派调解员"),
        State("informed", "已告知权利义务"),
        State("mediating", "调查调解中"),
        State("appraising", "鉴定中（期限中止）"),
        State("agreed_written", "达成调解协议"),
        State("terminated", "调解终止"),
        State("deemed_failed", "期满视为调解不成"),
        State("withdrawn", "当事人撤回"),
        State("followed_up", "已回访"),
        State("archived", "结案归档", final=True),
    ),
    transitions=(
        Transition(
            "accept", ("applied",), "accepted", "受理", legal_basis="医疗纠纷预防和处理条例 art. 31"
        ),
        Transition(
            "reject",
            ("applied",),
            "rejected",
            "不予受理",
            requires=("reason", "redirect_to"),
            outcome="rejected",
            legal_basis="人民调解工作若干规定 art. 22",
        ),
        Transition(
            "refuse",
            ("applied", "accepted", "assigned", "informed"),
            "refused",
            "一方当事人不同意调解",
            requires=("party", "reason"),
            guards=("names_a_party",),
            outcome="refused",
            legal_basis="医疗纠纷预防和处理条例 art. 31；人民调解法 art. 17",
        ),
        Transition(
            "assign",
            ("accepted",),
            "assigned",
            "指派调解员",
            requires=("mediators", "selection"),
            guards=("selection_is_known",),
            effects=("set_mediators",),
            legal_basis="人民调解法 art. 19",
        ),
        Transition(
            "inform",
            ("assigned",),
            "informed",
            "告知权利义务",
            legal_basis="人民调解法 arts. 23-24",
        ),
        Transition(
            "record_session",
            ("informed",),
            "mediating",
            "记录调查/调解",
            requires=("kind", "summary"),
            guards=("session_kind_is_known",),
            legal_basis="医疗纠纷预防和处理条例 art. 33",
        ),
        Transition(
            "record_session",
            ("mediating",),
            None,
            "记录调查/调解",
            requires=("kind", "summary"),
            guards=("session_kind_is_known",),
            legal_basis="医疗纠纷预防和处理条例 art. 33",
        ),
        Transition(
            "start_appraisal",
            ("mediating",),
            "appraising",
            "委托医疗损害鉴定（期限中止）",
            requires=("appraisal_body", "matter"),
            legal_basis=f"{_ART38}（鉴定时间不计入调解期限）",
        ),
        Transition(
            "finish_appraisal",
            ("appraising",),
            "mediating",
            "收到鉴定意见（期限恢复）",
            requires=("conclusion",),
            legal_basis=_ART38,
        ),
        Transition(
            "extend",
            _WORKING,
            None,
            "医调委与医患双方约定延长调解期限",
            requires=("reason", "consented_by", "new_due"),
            guards=("both_sides_consent", "new_due_is_later"),
            effects=("extend_deadline",),
            legal_basis=_ART38,
        ),
        Transition(
            "agree_written",
            ("mediating",),
            "agreed_written",
            "达成调解协议并告知可申请司法确认",
            requires=(
                "facts",
                "issues",
                "responsibility",
                "terms",
                "performance_method",
                "performance_place",
                "performance_deadline",
                "confirmation_notice",
            ),
            guards=("performance_deadline_is_date",),
            effects=("record_agreement",),
            outcome="agreement_written",
            legal_basis="医疗纠纷预防和处理条例 art. 39；人民调解法 art. 29",
        ),
        Transition(
            "terminate",
            ("assigned", "informed", "mediating"),
            "terminated",
            "调解不成，终止调解",
            requires=("reason", "other_routes"),
            outcome="terminated",
            legal_basis="人民调解法 art. 26",
        ),
        Transition(
            "deem_failed",
            _WORKING,
            "deemed_failed",
            "超过调解期限未达成协议，视为调解不成",
            guards=("mediation_period_expired",),
            outcome="terminated",
            legal_basis=f"{_ART38}（超过调解期限未达成调解协议的，视为调解不成）",
        ),
        Transition(
            "withdraw",
            (*_WORKING, "appraising"),
            "withdrawn",
            "当事人撤回申请或要求终止调解",
            requires=("party", "reason"),
            guards=("names_a_party",),
            outcome="withdrawn",
            legal_basis="人民调解法 art. 23",
        ),
        Transition(
            "follow_up",
            ("agreed_written",),
            "followed_up",
            "履行情况回访",
            requires=("performance", "summary"),
            guards=("performance_is_known",),
            legal_basis="人民调解法 art. 31",
        ),
        Transition(
            "follow_up",
            ("followed_up",),
            None,
            "履行情况回访",
            requires=("performance", "summary"),
            guards=("performance_is_known",),
            legal_basis="人民调解法 art. 31",
        ),
        Transition(
            "archive",
            ("terminated", "deemed_failed", "withdrawn", "followed_up"),
            "archived",
            "立卷归档",
            legal_basis="人民调解法 art. 27",
        ),
    ),
    deadlines=(
        DeadlineRule(
            kind="mediation_period",
            label="医疗纠纷调解期限",
            period=Period(30, "working_days"),
            legal_basis=f"{_ART38}（自受理之日起30个工作日内完成调解）",
            starts_on=("accept",),
            runs_in=frozenset({*_WORKING, "appraising"}),
            extended_by=("extend",),
            paused_by=("start_appraisal",),
            resumed_by=("finish_appraisal",),
            remind_before=5,
            on_expiry="deem_failed",
        ),
    ),
    documents=(
        DocumentSpec("registration", "人民调解受理登记表", "人民调解法 art. 17", ("accepted",)),
        DocumentSpec("record", "人民调解记录", "人民调解法 art. 27", ("mediating",)),
        DocumentSpec(
            "agreement", "人民调解协议书", "医疗纠纷预防和处理条例 art. 39", ("agreed_written",)
        ),
        DocumentSpec(
            "termination", "终止调解告知书", "人民调解法 art. 26", ("terminated", "deemed_failed")
        ),
        DocumentSpec("follow_up", "回访记录", "人民调解法 art. 31", ("followed_up",)),
        DocumentSpec("cover", "卷宗封面及目录", "人民调解法 art. 27", ("archived",)),
    ),
)
