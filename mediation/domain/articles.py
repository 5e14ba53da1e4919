"""Articles of law as Chinese text writes them: ``人民调解法 art. 26`` → 人民调解法第二十六条.

The flows, guards and figures cite articles compactly (``art. 26``, ``arts. 23-24``,
``arts. 19, 26``); everything a user reads in Chinese writes them the one way Chinese
legal text does (第二十六条, 第二十三条至第二十四条, 第十九条、第二十六条): documents,
the command line's output and messages (mediation.commands._common), and reports.
"""

from __future__ import annotations

import re

_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 110 → 一百一十, 205 → 二百零五 (copies, sessions, articles)."""
    if n < 10:
        return _DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = _DIGITS[hundreds] + "百"
        if rest == 0:
            return head
        if rest < 10:
            return head + "零" + _DIGITS[rest]
        return head + ("一" if rest < 20 else "") + cn_number(rest)
    return str(n)


_ARTICLES = re.compile(r"\s*\barts?\.\s*(\d+(?:\s*[-–,、]\s*\d+)*)")


def cn_basis(text: str) -> str:
    """A legal basis as documents print it: ``人民调解法 art. 26`` → 人民调解法第二十六条,
    ``arts. 23-24`` → 第二十三条至第二十四条, ``arts. 19, 26`` → 第十九条、第二十六条."""

    def articles(match: re.Match[str]) -> str:
        out = []
        for part in re.split(r"\s*([-–,、])\s*", match[1]):
            if part in ("-", "–"):
                out.append("至")
            elif part in (",", "、"):
                out.append("、")
            else:
                out.append(f"第{cn_number(int(part))}条")
        return "".join(out)

    return _ARTICLES.sub(articles, text)
