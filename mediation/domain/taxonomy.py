"""The one mapping table between English identifiers in code and Chinese labels for users.

Every code list the product stores (dispute types, channels, levels, party roles...) is
declared here, with the source it comes from (``../shared/domain.md`` section numbers).
Storage keeps the English code; the CLI, reports and documents show the label.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from types import MappingProxyType


def _table(*pairs: tuple[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(pairs))


#: 纠纷类型 as used in justice-bureau statistics (domain.md §2).
DISPUTE_TYPES = _table(
    ("marriage_family", "婚姻家庭"),
    ("neighbourhood", "邻里"),
    ("housing_homestead", "房屋宅基地"),
    ("contract", "合同"),
    ("business", "生产经营"),
    ("damages", "损害赔偿"),
    ("land_forest", "山林土地"),
    ("expropriation", "征地拆迁"),
    ("environment", "环境污染"),
    ("labour", "劳动争议"),
    ("consumer", "消费"),
    ("medical", "医疗"),
    ("traffic", "道路交通事故"),
    ("property_management", "物业"),
    ("village_affairs", "村务管理"),
    ("other", "其他"),
)

#: 来源 / intake channels (domain.md §2), with the official statistics group of each:
#: 主动调解 / 依申请 / 接受委托移送.
CHANNELS = _table(
    ("walk_in", "来访/当事人申请"),
    ("phone", "来电"),
    ("hotline", "12345热线"),
    ("grid", "网格员排查上报"),
    ("online", "网上申请"),
    ("initiative", "主动调解/排查"),
    ("court", "法院委派/委托"),
    ("procuratorate", "检察院移送"),
    ("petition", "信访转办"),
    ("police", "公安110/警调对接"),
    ("admin_referral", "行政机关移送"),
    ("government", "政府指定"),
)

CHANNEL_GROUPS = MappingProxyType(
    {
        "walk_in": "依申请",
        "phone": "依申请",
        "hotline": "依申请",
        "online": "依申请",
        "grid": "主动调解",
        "initiative": "主动调解",
        "court": "接受委托移送",
        "procuratorate": "接受委托移送",
        "petition": "接受委托移送",
        "police": "接受委托移送",
        "admin_referral": "接受委托移送",
        "government": "接受委托移送",
    }
)

#: Channels through which another organ refers the dispute: the intake must name the
#: referring organ and its reference number.
REFERRAL_CHANNELS = frozenset({"court", "procuratorate", "petition", "police", "admin_referral"})

#: The escalation ladder, lowest first (domain.md §2; 人民调解工作若干规定 art. 21).
LEVELS = _table(
    ("village", "村/社区"),
    ("township", "乡镇/街道"),
    ("county", "县/区"),
    ("city", "市"),
)

ORGANISATION_KINDS = _table(
    ("people_committee", "人民调解委员会"),
    ("professional_committee", "行业性专业性调解委员会"),
    ("centre", "矛盾纠纷调处化解中心"),
    ("admin_organ", "行政机关"),
    ("police", "公安机关"),
    ("court", "人民法院"),
    ("petition_bureau", "信访工作机构"),
)

PARTY_ROLES = _table(
    ("applicant", "申请人"),
    ("respondent", "被申请人"),
    ("third_party", "第三人"),
)

PARTY_KINDS = _table(("person", "自然人"), ("organisation", "法人或其他组织"))

GENDERS = _table(("male", "男"), ("female", "女"))

ID_TYPES = _table(
    ("resident_id", "居民身份证"),
    ("passport", "护照"),
    ("hk_macao_permit", "港澳居民来往内地通行证"),
    ("taiwan_permit", "台湾居民来往大陆通行证"),
    ("foreign_permanent", "外国人永久居留身份证"),
    ("uscc", "统一社会信用代码"),
)

#: How an application reached the committee (人民调解法 art. 17; 若干规定).
APPLICATION_MODES = _table(
    ("written", "书面申请"),
    ("oral", "口头申请（已记录）"),
    ("initiative", "主动调解"),
    ("referral", "移送/委派"),
)

RISK_LEVELS = _table(("red", "红"), ("yellow", "黄"), ("green", "绿"))

ROLES = _table(
    ("mediator", "调解员"),
    ("staff", "工作人员"),
    ("supervisor", "督办/主管"),
    ("admin", "系统管理员"),
)

DEADLINE_STATUSES = _table(
    ("open", "进行中"),
    ("paused", "已中止计算"),
    ("met", "按期完成"),
    ("late", "逾期完成"),
    # A period whose expiry has a statutory consequence (医调委 deemed failure, a labour
    # lapse): the consequence was recorded, nobody overran anything (not 超期).
    ("expired", "期满，依法产生相应后果"),
    ("closed", "期限届满前结束"),
    ("cancelled", "已撤销"),
)

OUTCOMES = _table(
    ("rejected", "不予受理"),
    ("refused", "当事人拒绝调解"),
    ("agreement_written", "达成书面协议"),
    ("agreement_oral", "达成口头协议"),
    ("terminated", "调解不成终止"),
    ("withdrawn", "撤回/要求终止"),
    ("referred_police", "移送公安机关"),
    ("escalated", "上报上级调委会"),
    ("transferred", "移交其他程序"),
    ("returned", "退回法院"),
    ("confirmed", "司法确认有效"),
    ("dismissed", "司法确认申请被驳回"),
    ("not_accepted", "不予受理"),
    ("revoked", "异议成立，原裁定撤销"),
    ("concluded", "办结"),
    ("archived", "结案归档"),
)


#: How the mediators were chosen (人民调解法 art. 19).
SELECTIONS = _table(("chosen", "当事人选择"), ("designated", "调委会指定"))

#: How the parties of a 治安调解 case settled without the police's mediation (治安管理处罚法
#: art. 9, 2025 text, third paragraph): by themselves, or through a people's mediation committee.
SETTLEMENTS = _table(("self", "当事人自行和解"), ("peoples", "经人民调解委员会调解"))

#: What a recorded session was.
SESSION_KINDS = _table(("investigation", "调查"), ("mediation", "调解"))

#: Petitions not to be diverted to mediation (司法部、国家信访局 2025 意见).
EXCLUSIONS = _table(
    ("reserved_organ", "应由专门机关依法定途径处理"),
    ("litigation_pending", "已进入诉讼、仲裁等法定程序"),
    ("administrative_dispute", "属行政争议"),
    ("party_refuses", "当事人不同意调解"),
)

#: 调解结果 as the mediation record (调解记录) states it.
MEDIATION_RESULTS = _table(
    ("agreement", "达成协议"),
    ("failed", "调解不成"),
    ("withdrawn", "撤回、拒绝"),
)

#: 回访: how the agreement is being performed (人民调解法 art. 31).
PERFORMANCE = _table(
    ("performed", "已履行"),
    ("partly_performed", "部分履行"),
    ("in_progress", "正在履行"),
    ("not_performed", "未履行"),
)

#: 回访 satisfaction (optional on a follow-up; counted by ``report stats``).
SATISFACTION = _table(
    ("satisfied", "满意"),
    ("basically_satisfied", "基本满意"),
    ("dissatisfied", "不满意"),
)

#: What a case prevented (人民调解法 art. 25), as the official 人民调解 statistical returns
#: count it, in cases and people (``case advance N record_prevention``).
PREVENTIONS = _table(
    ("escalation", "预防纠纷激化"),
    ("criminal", "防止民转刑"),
    ("group_petition", "防止群体性上访"),
    ("group_fight", "防止群体性械斗"),
    ("suicide", "防止自杀"),
)

#: Who signs a document, and how (人民调解法 art. 29: 签名、盖章或者按指印).
SIGNER_KINDS = _table(("party", "当事人"), ("mediator", "调解员"), ("committee", "调解委员会"))
SIGNATURE_METHODS = _table(("sign", "签名"), ("seal", "盖章"), ("fingerprint", "按指印"))

#: Units of a period, as written after its count: 30日, 10个工作日, 3个月.
PERIOD_UNITS = _table(("days", "日"), ("working_days", "个工作日"), ("months", "个月"))

#: What ``report stats --by`` groups the cases by.
STATS_DIMENSIONS = _table(
    ("level", "层级"),
    ("type", "纠纷类型"),
    ("channel", "来源渠道"),
    ("mediator", "调解员"),
    ("month", "月份"),
)

#: The payload fields of ``case advance`` whose value is a code of a table above, by field
#: name (the guards check them; the command line accepts the code or its label).
CHOICE_FIELDS = MappingProxyType(
    {
        "kind": SESSION_KINDS,
        "selection": SELECTIONS,
        "performance": PERFORMANCE,
        "satisfaction": SATISFACTION,
        "result": MEDIATION_RESULTS,
        "exclusion": EXCLUSIONS,
        "prevention": PREVENTIONS,
        "settled_by": SETTLEMENTS,
    }
)


def label(table: Mapping[str, str], code: str | None) -> str:
    """The Chinese label of ``code`` in ``table``, or the code itself when unknown."""
    if code is None:
        return ""
    return table.get(code, code)


def code_of(table: Mapping[str, str], value: str) -> str | None:
    """The code ``value`` names in ``table``: the code itself or its Chinese label (spaces
    around it ignored); None when it names none."""
    value = value.strip()
    if value in table:
        return value
    return next((code for code, text in table.items() if text == value), None)


def closest(value: str, options: Iterable[str]) -> str | None:
    """The option ``value`` was most likely meant to be (a typo), or None."""
    found = difflib.get_close_matches(value.strip(), list(options), n=1, cutoff=0.5)
    return found[0] if found else None


def choices(table: Mapping[str, str]) -> str:
    """``code（label）`` of every entry, for a message listing what may be given."""
    return "、".join(f"{code}（{text}）" for code, text in table.items())
