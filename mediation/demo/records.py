"""Made-up but realistic intake records: names, valid resident ID numbers, phones,
addresses, and a mix of dispute types and channels like a people's-mediation caseload."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from mediation.domain.personal import check_digit

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


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice([1, 2])))


def person(rng: random.Random, role: str) -> dict[str, Any]:
    gender = rng.choice(["male", "female"])
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))
    seq = rng.randrange(100, 999)
    seq -= (seq % 2) != (gender == "male")  # odd for men, even for women (GB 11643)
    body = f"{rng.choice(_REGIONS)}{birth:%Y%m%d}{seq:03d}"
    return {
        "role": role,
        "name": _name(rng),
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
    applicant, respondent = person(rng, "applicant"), person(rng, "respondent")
    # Two people of one name would be one party to the guards that tell the sides apart
    # (行政调解: only the other party consents, names_the_other_party).
    while respondent["name"] == applicant["name"]:
        respondent["name"] = _name(rng)
    title = rng.choice(_TITLES[kind])
    return {
        "organisation": org,
        "dispute_type": kind,
        "channel": channel,
        "application_mode": "initiative" if channel in ("grid", "initiative") else "written",
        "title": title,
        "summary": dispute_summary(applicant["name"], respondent["name"], title),
        "claims": "请求调委会主持调解，依法妥善解决。",
        "risk_level": rng.choices(["green", "yellow", "red"], weights=[80, 17, 3])[0],
        "parties": [applicant, respondent],
    }


def dispute_summary(applicant: str, respondent: str, title: str) -> str:
    """The intake record's 纠纷简要情况."""
    return f"{applicant}与{respondent}因{title.removesuffix('纠纷')}发生争执，双方多次协商未果。"
