"""The data fields of the steps (``case advance --set FIELD=…``): what each is called in
Chinese, and which documents print a step's fields and cannot be printed without them.

A step's ``requires`` are refused when missing; its ``optional`` fields are not, yet some
of them are what a document of the case file must state (the place of a session for the
调查记录 and 人民调解记录, the art. 29 particulars for the 口头协议登记表). A step recorded
without them leaves that document unprintable (mediation.documents says which field is
missing), so ``case next`` shows them and ``case advance`` asks for them
(:func:`document_needs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from mediation.workflows._common import AGREEMENT_FIELDS
from mediation.workflows._spec import Flow, Transition

#: Every data field a step accepts, with its Chinese label (the art. 29 ones as the
#: agreement prints them: mediation.documents.casefile.AGREEMENT_LABELS).
FIELD_LABELS = MappingProxyType(
    {
        "accepted_by": "已受理的机构",
        "accepted_on": "受理日期",
        "accounts": "各方陈述",
        "claims": "诉讼请求",
        "clerk": "书记员",
        "costs": "诉讼费用负担",
        "designated_by": "指定调解员的机构",
        "judge": "审判员",
        "known_on": "知道或应当知道之日",
        "objector": "异议人",
        "objector_role": "异议人身份",
        "police_ref": "公安机关接管文号",
        "amount": "涉及金额（元）",
        "people": "涉及人数",
        "prevention": "防止激化的类别",
        "applied_on": "申请日期",
        "appraisal_body": "鉴定机构",
        "approved_by": "批准人",
        "conclusion": "鉴定结论",
        "confirmation_notice": "司法确认告知",
        "consented_by": "同意的当事人",
        "court": "人民法院",
        "court_ref": "法院案号或委派文号",
        "decision": "法院的决定",
        "determination_received_on": "收到事故认定书的日期",
        "exclusion": "不予调解的情形",
        "facts": "纠纷的主要事实",
        "insurer": "参加调解的保险机构",
        "interviewees": "被调查人",
        "investigators": "调查人",
        "issues": "争议事项",
        "kind": "调查或调解",
        "lawsuit": "是否已起诉",
        "matter": "鉴定事项",
        "measures": "采取的措施",
        "mediators": "调解员",
        "new_due": "延长后的期限",
        "opinion": "意见",
        "organ": "承办机关",
        "organisation": "接收的组织（代码）",
        "other_routes": "其他救济途径",
        "participants": "参加人",
        "party": "当事人",
        "penalty": "处罚",
        "performance": "履行情况",
        "performance_deadline": "履行期限",
        "performance_method": "履行方式",
        "performance_place": "履行地点",
        "place": "地点",
        "police_organ": "公安机关",
        "reason": "理由",
        "redirect_to": "告知当事人向何处解决",
        "renewed_conflict": "有无再生矛盾",
        "report_ref": "书面报告文号",
        "responsibility": "各方当事人的责任",
        "result": "调解结果",
        "risk_warning": "风险提示",
        "ruling_ref": "裁定书文号",
        "satisfaction": "满意程度",
        "selection": "调解员产生方式",
        "served_on": "送达日期",
        "session_on": "调解日期",
        "settled_by": "和解方式",
        "summary": "经过和内容摘要",
        "terms": "协议内容",
        "verification": "核实情况",
        "visitor": "回访人",
    }
)


def field_label(name: str) -> str:
    """A field's Chinese label (the name itself for a field not listed)."""
    return FIELD_LABELS.get(name, name)


@dataclass(frozen=True)
class DocumentFields:
    """A document that prints fields of a step's data and cannot be printed without them.

    :param document: the document kind (a flow's :class:`DocumentSpec` ``kind``).
    :param triggers: the steps whose data it reads.
    :param fields: the fields it must state.
    :param when: only for steps recorded with these values (a session of this kind).
    """

    document: str
    triggers: tuple[str, ...]
    fields: tuple[str, ...]
    when: tuple[tuple[str, str], ...] = ()


#: What the documents built in mediation.documents.forms / .outcomes read from steps.
DOCUMENT_FIELDS: tuple[DocumentFields, ...] = (
    DocumentFields(
        "investigation", ("record_session",), ("place",), when=(("kind", "investigation"),)
    ),
    DocumentFields(
        "record", ("record_session", "start_mediation"), ("place",), when=(("kind", "mediation"),)
    ),
    DocumentFields("agreement", ("agree_written", "agree"), AGREEMENT_FIELDS),
    DocumentFields("oral_agreement", ("agree_oral",), AGREEMENT_FIELDS),
    DocumentFields("confirmation_application", ("apply_confirmation",), ("court",)),
)


def document_needs(flow: Flow, transition: Transition) -> list[dict[str, Any]]:
    """The documents of ``flow`` that print fields of ``transition``'s data: for each,
    its kind and label, the fields it needs (those the step accepts) and ``when`` (the
    values the step must be recorded with for the document to read it, e.g.
    ``{"kind": "investigation"}``)."""
    labels = {d.kind: d.label for d in flow.documents}
    out = []
    for need in DOCUMENT_FIELDS:
        if need.document not in labels or transition.trigger not in need.triggers:
            continue
        fields = [f for f in need.fields if f in transition.fields]
        if fields:
            out.append(
                {
                    "kind": need.document,
                    "label": labels[need.document],
                    "fields": fields,
                    "when": dict(need.when),
                }
            )
    return out
