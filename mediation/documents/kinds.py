"""The document set (domain.md §5; 人民调解文书格式, 司法部 2010), declared as data.

Each :class:`Kind` names its template (``mediation/templates/doc_<kind>.html``) and
documents every field of the context the template receives; ``tests/documents/test_documents.py``
fails when a template uses an undocumented field, when a documented field is unused, or
when the context built for a real case carries a field that is not documented.

Which kinds a case has is the flows' business: each flow declares its documents
(:class:`mediation.workflows.DocumentSpec`: kind, title, legal basis and the states after
which it exists). The title printed is the flow's; one template serves every flow that
declares the kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: Fields every document's context has (used by ``doc_base.html``).
COMMON_FIELDS = MappingProxyType(
    {
        "title": "文书名称：流程声明的标题（如「人民调解协议书」「劳动争议调解协议书」）",
        "case_number": "案号，如（2026）桥头人调字第1号",
        "organisation": "制作文书的调解组织或机关的名称",
        "legal_basis": "文书的法律依据（写入 PDF 元数据 Subject）",
        "rendered_at": "制作时间（ISO 8601，写入 PDF 元数据）",
        "training": "是否培训演示数据库的文书（是则页首标注「培训演示 · 非正式文书」）",
    }
)

#: The keys of each party in ``parties``, ``applicants``, ``respondents``... lists.
PARTY_FIELDS = MappingProxyType(
    {
        "role": "身份：申请人 / 被申请人 / 第三人（法院的调解书：原告 / 被告 / 第三人）",
        "name": "姓名或名称",
        "is_organisation": "是否为法人或其他组织",
        "gender": "性别（男/女；组织为空）",
        "ethnicity": "民族",
        "age": "年龄（周岁，按出生日期或身份证号码计算至文书日期；未知为空）",
        "occupation": "职业或职务",
        "id_type": "证件类型",
        "id_number": "证件号码（文书中完整显示）",
        "phone": "联系电话",
        "address": "住址（组织为住所地）",
        "legal_representative": "法定代表人或主要负责人（组织）",
    }
)

#: The keys of each signer in ``signatures.parties`` / ``signatures.mediators`` and of
#: ``signatures.committee`` (the agreement's signature block, from the ``signature`` table).
SIGNER_FIELDS = MappingProxyType(
    {
        "role": "签署人身份：申请人 / 被申请人 / 第三人 / 调解员 / 调解组织",
        "name": "签署人姓名或组织名称",
        "legal_representative": "代表组织签署的法定代表人（当事人为组织时）",
        "method": "签署方式：签名 / 盖章 / 按指印（尚未签署为空，文书留空白线）",
        "signed_at": "签署时间（尚未签署为空）",
        "image": "签名、印章或指印的扫描图像（data: URL，PNG/JPEG；没有为空）",
    }
)


@dataclass(frozen=True)
class Kind:
    """One kind of document: its template and the documented fields of its context."""

    name: str
    label: str
    fields: Mapping[str, str]
    #: One document per occurrence (``seq`` = 1, 2, …: the N-th investigation, visit).
    repeated: bool = False
    description: str = ""

    @property
    def template(self) -> str:
        return f"doc_{self.name}.html"

    @property
    def context_fields(self) -> dict[str, str]:
        return {**COMMON_FIELDS, **self.fields}


def _kind(name: str, label: str, description: str, repeated: bool = False, **fields: str) -> Kind:
    return Kind(name, label, MappingProxyType(fields), repeated, description)


KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        k.name: k
        for k in (
            _kind(
                "application",
                "人民调解申请书",
                "当事人的书面申请（口头申请由调解组织记录）；主动调解的案件没有申请书",
                applicants="申请人（当事人字段见 PARTY_FIELDS）",
                respondents="被申请人",
                third_parties="第三人（可为空）",
                application_mode="申请方式：书面申请 / 口头申请（已记录）/ 移送、委派",
                summary="纠纷简要情况",
                claims="申请事项",
                applied_on="申请日期（收到申请之日）",
            ),
            _kind(
                "registration",
                "人民调解受理登记表",
                "受理时登记：纠纷类型、案件来源、简要情况、当事人签名、登记人、印章",
                parties="全部当事人",
                dispute_title="纠纷名称",
                dispute_type="纠纷类型（统计口径）",
                channel="案件来源（渠道）",
                channel_group="来源统计分组：主动调解 / 依申请 / 接受委托移送",
                referral="移送、委派机关及文号（没有为空）",
                risk_level="风险等级：红 / 黄 / 绿",
                summary="纠纷简要情况",
                received_on="登记（收到）日期",
                accepted_on="受理日期",
                registrar="登记人（立案操作人）",
            ),
            _kind(
                "rights_notice",
                "当事人权利义务告知书",
                "人民调解法第二十三条、第二十四条规定的权利和义务，当事人签收",
                parties="全部当事人（签收栏）",
                mediators="调解员姓名",
                informed_on="告知日期",
            ),
            _kind(
                "investigation",
                "调查记录",
                "每次调查一份（seq = 第几次调查）",
                repeated=True,
                session_no="第几次调查",
                held_at="调查时间",
                place="调查地点（record_session 数据中的 place）",
                investigators="调查人（record_session 的 investigators，默认为本案调解员）",
                interviewees="被调查人（record_session 的 interviewees；没有记录时留空白）",
                content="调查内容（record_session 的 summary）",
                recorder="记录人（录入该次调查的用户）",
                parties="当事人",
            ),
            _kind(
                "record",
                "人民调解记录",
                "本案全部调解会议（kind=mediation 的 record_session）及调解结果",
                matter="调解事项（纠纷名称）",
                parties="当事人",
                mediators="调解员",
                informed_on="告知当事人权利义务的日期（未告知为空）",
                sessions="每次调解：no, held_at, place, participants, summary, accounts, "
                "verification, risk_warning（后三项没有记录时留空白）",
                outcome="调解结果：kind（agreement/oral/terminated/withdrawn/pending）、label、"
                "terms、reason、other_routes",
                recorder="记录人",
            ),
            _kind(
                "agreement",
                "人民调解协议书",
                "人民调解法第二十九条规定的全部事项；各方签署栏和调解组织印章区",
                parties="全部当事人（基本情况）",
                facts="纠纷的主要事实",
                issues="争议事项",
                responsibility="各方当事人的责任",
                terms="协议内容",
                performance_method="履行方式",
                performance_place="履行地点",
                performance_deadline="履行期限",
                other_terms="流程另行要求记载的事项：[(名称, 内容)]，如保险机构、司法确认告知",
                agreed_on="达成协议的日期",
                copies="份数：当事人各一份，调解组织留存一份（当事人数 + 1）",
                effect="协议效力及救济的说明（按流程，见 AGREEMENT_EFFECTS）",
                mediator_title="调解人员的称谓：人民调解员 / 调解员 / 调解人员",
                signatures="签署栏：parties、mediators（SIGNER_FIELDS 的列表）和 committee",
            ),
            _kind(
                "oral_agreement",
                "口头协议登记表",
                "口头调解协议的登记（人民调解法第二十八条），事项与书面协议相同",
                parties="全部当事人",
                facts="纠纷的主要事实（agree_oral 数据中的 facts）",
                issues="争议事项（issues）",
                responsibility="各方当事人的责任（responsibility）",
                terms="协议内容（terms）",
                performance_method="履行方式（performance_method）",
                performance_place="履行地点（performance_place）",
                performance_deadline="履行期限（performance_deadline）",
                agreed_on="达成口头协议的日期（生效日，人民调解法第三十条）",
                mediators="调解员",
                registrar="登记人",
            ),
            _kind(
                "follow_up",
                "回访记录",
                "每次回访一份（seq = 第几次回访）",
                repeated=True,
                visit_no="第几次回访",
                visited_on="回访日期",
                visitor="回访人",
                parties="当事人",
                matter="纠纷名称",
                agreement_ref="所涉调解协议（案号、文书名称、达成日期）",
                performance="履行情况：已履行 / 部分履行 / 正在履行 / 未履行",
                summary="回访情况（follow_up 的 summary）",
                satisfaction="当事人满意度（follow_up 的 satisfaction；没有记录时留空白）",
                lawsuit="是否起诉（lawsuit；没有记录时留空白）",
                renewed_conflict="有无矛盾激化迹象（renewed_conflict；没有记录时留空白）",
                measures="采取的措施（measures；没有记录时留空白）",
            ),
            _kind(
                "termination",
                "终止调解告知书",
                "调解不成终止调解（人民调解法第二十六条）：理由、依据和其他救济途径",
                parties="全部当事人",
                accepted_on="受理日期",
                sessions="调解的时间和地点：[{held_at, place}]（没有记录地点时只有时间）",
                summary="纠纷简要情况",
                terminated_on="终止日期",
                reason="终止调解的理由",
                basis="终止调解的法律依据",
                other_routes="告知的其他救济途径（仲裁、行政、诉讼）",
            ),
            _kind(
                "confirmation_application",
                "司法确认申请书",
                "双方共同申请司法确认（人民调解法第三十三条；民事诉讼法解释第三百五十四条）",
                applicants="申请人：协议的全部当事人（须有送达地址和联系电话）",
                court="受理申请的人民法院",
                agreement="所涉调解协议：number（编号）、agreed_on、organisation（主持调解的组织）、"
                "terms、facts",
                applied_on="申请日期",
            ),
            _kind(
                "court_letter",
                "委派调解结果函",
                "委派/委托调解的结果书面告知法院（特邀调解规定第十八条至第二十条、第二十六条）",
                court="委派或委托的人民法院",
                court_ref="法院的案号或委派文号",
                received_on="签收法院移交材料（开始调解）的日期",
                parties="当事人",
                mediators="选定或指定的调解员（特邀调解规定第十二条；没有指定的，拒绝制作）",
                result="调解结果：agreement（达成协议）、returned（调解不成退回）或 "
                "suspended（涉嫌虚假调解中止调解）",
                terms="协议内容（达成协议时）",
                agreed_on="达成协议的日期（达成协议时）",
                reason="调解不成或中止调解的理由（退回、中止时）",
                report_ref="书面报告的文号（退回、中止时，可为空）",
                letter_date="发函日期",
            ),
            _kind(
                "court_rights_notice",
                "当事人权利义务告知书（特邀调解）",
                "委派/委托调解开始前告知当事人权利义务（特邀调解规定第十四条），当事人签收",
                court="委派或委托的人民法院",
                referral_kind="委派（立案前）或 委托（立案后）",
                parties="全部当事人（签收栏）",
                mediators="选定或指定的调解员（没有指定的，拒绝制作）",
                informed_on="告知日期",
            ),
            _kind(
                "civil_mediation",
                "民事调解书",
                "人民法院在诉讼中调解达成协议制作的调解书（民事诉讼法第一百条）：诉讼请求、"
                "案件事实和调解结果，审判员、书记员署名，加盖法院印章，送达当事人签收后生效；"
                "没有当事人签名栏",
                case_number="法院案号，如（2026）浙0681民初123号（按法院代字编制，"
                "没有设定法院代字的，拒绝制作）",
                plaintiffs="原告（当事人字段见 PARTY_FIELDS，role 为「原告」）",
                defendants="被告（role 为「被告」）",
                third_parties="第三人（可为空）",
                matter="案由（纠纷名称）",
                filed_on="立案日期",
                procedure="适用程序：普通程序 / 简易程序",
                claims="原告的诉讼请求（agree 的 claims）",
                facts="案件的事实（agree 的 facts）",
                terms="调解结果：当事人自愿达成的协议（agree 的 terms）",
                costs="案件受理费的负担（agree 的 costs，可为空）",
                judge="审判员（agree 的 judge）",
                clerk="书记员（agree 的 clerk）",
                made_on="调解书制作日期（达成协议之日）",
            ),
            _kind(
                "confirmation_ruling",
                "民事裁定书（确认调解协议）",
                "司法确认的裁定（民事诉讼法第二百零五条、第二百零六条）：确认调解协议有效或驳回申请",
                case_number="法院案号，如（2026）浙0681民特45号（按法院代字编制，"
                "没有设定法院代字的，拒绝制作）",
                applicants="申请人：调解协议的双方当事人（role 为「申请人」）",
                agreement="所确认的调解协议：number（原案号）、organisation（主持调解的组织）、"
                "agreed_on、terms",
                applied_on="收到申请的日期",
                accepted_on="受理日期",
                result="confirmed（调解协议有效）或 dismissed（驳回申请）",
                reason="驳回的理由（驳回时）",
                judge="审判员（confirm / dismiss 的 judge）",
                clerk="书记员（confirm / dismiss 的 clerk）",
                ruled_on="裁定日期",
            ),
            _kind(
                "petition_feedback",
                "调解结果反馈函",
                "访调对接：人民调解的结果反馈信访工作机构（司法部、国家信访局 2025 意见）",
                petition_bureau="信访工作机构（本信访事项的受理机关）",
                parties="信访人及对方当事人",
                diverted_on="移送人民调解的日期",
                mediating_organisation="承办调解的人民调解委员会",
                mediation_case_number="人民调解案号（没有为空）",
                result="调解结果：达成协议 / 调解不成 / 撤回、拒绝",
                summary="调解结果的简要情况",
                feedback_on="反馈日期",
            ),
            _kind(
                "cover",
                "卷宗封面及目录",
                "立卷归档（人民调解法第二十七条）：封面与卷内目录",
                dispute_title="纠纷名称",
                dispute_type="纠纷类型",
                parties="当事人",
                mediators="调解员",
                opened_on="立案日期",
                closed_on="结案（归档）日期",
                outcome="调解结果",
                archivist="立卷人",
                index="卷内目录：[{no, title, date, pages, page_no, note}]，按卷宗材料的顺序"
                "（domain.md §5）；已制作的文书带日期、页数和页号（自封面和目录之后的第一页起编，"
                "即 doc casefile 合订的卷宗），纸质材料的页数和页号留空待填",
                total_pages="卷内已制作文书的总页数",
            ),
        )
    }
)

#: How each flow's agreement states its effect, by family (the flow's own legal basis is
#: added by the document). ``{organisation}`` is the mediating organisation's name.
AGREEMENT_EFFECTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "peoples": (
            "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖{organisation}印章之日起生效（人民调解法第二十九条）。",
            "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行（人民调解法第三十一条）；"
            "当事人之间就调解协议的履行或者内容发生争议的，一方当事人可以向人民法院提起诉讼（人民调解法第三十二条）。",
            "双方当事人认为有必要的，可以自本协议生效之日起三十日内共同向人民法院申请司法确认（人民调解法第三十三条）。",
        ),
        "court_referred": (
            "本协议自各方当事人签名、盖章或者按指印，调解员签名并加盖{organisation}印章之日起生效，送达当事人并报委派法院备案。",
            "双方当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认（人民调解法第三十三条；民事诉讼法第二百零五条）。",
        ),
        "labour": (
            "本协议由双方当事人签名或者盖章，经调解员签名并加盖{organisation}印章后生效，对双方当事人具有约束力，当事人应当履行（劳动争议调解仲裁法第十四条）。",
            "因支付拖欠劳动报酬、工伤医疗费、经济补偿或者赔偿金事项达成调解协议，用人单位在协议约定期限内不履行的，劳动者可以持本协议书依法向人民法院申请支付令（劳动争议调解仲裁法第十六条）。",
        ),
        "mediation": (
            "本协议自各方当事人签名、盖章或者按指印，调解员签名并加盖{organisation}印章之日起生效，当事人应当按照约定履行。",
        ),
        "administrative": (
            "本协议经各方当事人签名或者盖章、调解人员签名并加盖{organisation}印章后生效，当事人应当按照约定履行。",
        ),
        "public_order": (
            "本协议经各方当事人签名、调解人员签名并加盖{organisation}印章后生效。",
            "当事人达成协议并履行的，公安机关不再处罚；不履行协议的，依法予以处罚，并告知当事人可以就民事争议依法向人民法院提起民事诉讼。",
        ),
    }
)

#: flow → (effect family, title of the person who mediates).
FLOW_FAMILIES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "peoples": ("peoples", "人民调解员"),
        "medical_committee": ("peoples", "人民调解员"),
        "traffic": ("peoples", "人民调解员"),
        "court_referred": ("court_referred", "调解员"),
        "labour": ("labour", "调解员"),
        "land_contract": ("mediation", "调解员"),
        "online": ("mediation", "调解员"),
        "entrusted": ("mediation", "调解员"),
        "entrusted_simple": ("mediation", "调解员"),
        "administrative": ("administrative", "调解人员"),
        "health_admin": ("administrative", "调解人员"),
        "traffic_police": ("administrative", "调解人员"),
        "public_order": ("public_order", "调解人员"),
    }
)

__all__ = [
    "AGREEMENT_EFFECTS",
    "COMMON_FIELDS",
    "FLOW_FAMILIES",
    "KINDS",
    "PARTY_FIELDS",
    "SIGNER_FIELDS",
    "Kind",
]
