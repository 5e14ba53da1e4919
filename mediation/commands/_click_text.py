"""Click's and typer's own words (``Usage:``, ``Options``, ``Show this message and
exit.``, ``Error: No such command ...``) in the user's language.

typer's bundled click writes them as English literals, and typer's own ones go through
the standard library's ``gettext`` on the global domain; :func:`install` routes both
through :func:`mediation.i18n._` with the Chinese text below as the catalog's msgid.
"""

import re
from collections.abc import Callable, Sequence
from typing import IO, Any
from unicodedata import east_asian_width

import typer.core
from typer._click import _textwrap, exceptions, formatting
from typer._click import core as click_core
from typer._click.utils import echo

from mediation.i18n import N_, _

#: typer's English strings (what it passes to gettext) → our Chinese msgid.
WORDS: dict[str, str] = {
    "Options": N_("选项"),
    "Arguments": N_("参数"),
    "Commands": N_("命令"),
    "Aborted!": N_("已取消"),
    "required": N_("必填"),
    "(dynamic)": N_("（动态）"),
    "default: {default}": N_("默认：{default}"),
    "env var: {var}": N_("环境变量：{var}"),
    "Missing command.": N_("缺少命令。"),
    "No such command {name!r}.": N_("没有命令 {name!r}。"),
    "Show this message and exit.": N_("显示本帮助并退出。"),
}

#: click's English error messages (built before they reach us), as patterns → our Chinese
#: msgid. Compiled when an error is shown (by :mod:`re`, which keeps them), not at every
#: start-up.
MESSAGES: list[tuple[str, str]] = [
    (r"No such command '(?P<name>.*)'\.", N_("没有命令 '{name}'。")),
    (r"No such option: (?P<name>\S+)(?P<rest>.*)", N_("没有选项 {name}{rest}")),
    (r"Missing argument '(?P<name>.*)'\.?", N_("缺少参数 '{name}'。")),
    (r"Missing option '(?P<name>.*)'\.?", N_("缺少选项 '{name}'。")),
    (
        r"Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)",
        N_("多余的参数（{args}）"),
    ),
    (r"Option '(?P<name>.*)' requires an argument\.", N_("选项 '{name}' 需要一个值。")),
    (
        r"Option '(?P<name>.*)' requires (?P<n>\d+) arguments\.",
        N_("选项 '{name}' 需要 {n} 个值。"),
    ),
    (r"Option '(?P<name>.*)' does not take a value\.", N_("选项 '{name}' 不接受值。")),
    (
        r"(?s)Invalid value for (?P<name>.*?): (?P<why>.*)",
        N_("{name} 的值无效：{why}"),
    ),
    (r"(?s)Invalid value: (?P<why>.*)", N_("值无效：{why}")),
    (r"Missing command\.", N_("缺少命令。")),
    (r"Missing parameter: (?P<name>.*)", N_("缺少参数 {name}")),
    (r"(?s)Could not open file '(?P<name>.*)': (?P<why>.*)", N_("无法打开文件 '{name}'：{why}")),
    (r"Value must be an iterable\.", N_("应给出多个值。")),
    (
        r"(?s)Value '(?P<value>.*)' is not a valid (?P<kind>.*)\.",
        N_("'{value}' 不是有效的 {kind}。"),
    ),
    (
        r"(?s)'(?P<value>.*)' is not one of (?P<choices>.*)\.",
        N_("'{value}' 不是可选值之一：{choices}。"),
    ),
    (
        r"(?s)'(?P<value>.*)' is not a valid (?P<kind>.*)\.",
        N_("'{value}' 不是有效的 {kind}。"),
    ),
    (r"\(Possible options: (?P<options>.*)\)", N_("（可能的选项：{options}）")),
    (r"Did you mean (?P<name>.*)\?", N_("是否想输入 {name}？")),
]


def words(text: str) -> str:
    """typer's own word ``text`` in the current language."""
    msgid = WORDS.get(text)
    return text if msgid is None else _(msgid)


def message(text: str) -> str:
    """A click error message in the current language (each sentence that is known)."""
    for pattern, msgid in MESSAGES:
        found = re.fullmatch(pattern, text)
        if found:
            parts = {
                k: message(v) if k in ("why", "rest") else v for k, v in found.groupdict().items()
            }
            return _(msgid).format(**parts)
    for pattern, msgid in MESSAGES:  # a trailing sentence ("... Did you mean --x?")
        found = re.search(pattern, text)
        if found and found.start() > 0:
            # typer appends ". Did you mean ...?" to a message already translated, whose
            # full stop (。) then doubles.
            head = text[: found.start()].rstrip()
            head = message(head[:-1] if head.endswith("。.") else head)
            tail = _(msgid).format(**found.groupdict())
            return f"{head}{tail}" if head.endswith("。") else f"{head} {tail}"
    return text


def _show_click(self: exceptions.ClickException, file: IO[Any] | None = None) -> None:
    echo(
        _("错误：{message}").format(message=message(self.format_message())),
        file=file,
        err=file is None,
    )


def _show_usage(self: exceptions.UsageError, file: IO[Any] | None = None) -> None:
    err = file is None
    if self.ctx is not None:
        hint = ""
        if self.ctx.command.get_help_option(self.ctx) is not None:
            hint = _("运行 '{command} {option}' 查看帮助。").format(
                command=self.ctx.command_path, option=self.ctx.help_option_names[0]
            )
            hint += "\n"
        echo(f"{self.ctx.get_usage()}\n{hint}", file=file, err=err, color=self.ctx.color)
    echo(_("错误：{message}").format(message=message(self.format_message())), file=file, err=err)


def _wrapped_usage(original: Callable[..., None]) -> Callable[..., None]:
    def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        original(self, prog, args, _("用法：") if prefix is None else prefix)

    return write_usage


def _wrapped_dl(original: Callable[..., None]) -> Callable[..., None]:
    def write_dl(self: Any, rows: Sequence[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        rows = [(first, _translated_help(second)) for first, second in rows]
        original(self, rows, *args, **kwargs)

    return write_dl


def _translated_help(text: str) -> str:
    for english, msgid in WORDS.items():
        if text.startswith(english) and english.endswith("."):
            return _(msgid) + text[len(english) :]
    return text


def _width(text: str) -> int:
    """Terminal columns of ``text``: a wide or full-width character (CJK, full-width
    punctuation) takes two."""
    return sum(2 if east_asian_width(c) in "WF" else 1 for c in text)


#: Punctuation that never starts a line, and that never ends one (GB/T 15834 line breaking).
_NO_LINE_START = frozenset("，。、；：？！）」』》〉】”’…%,.;:!?)]}")
_NO_LINE_END = frozenset("（「『《〈【“‘([{")


class _WideTextWrapper(_textwrap.TextWrapper):
    """click's wrapper measuring terminal columns (a CJK character takes two) and breaking
    between CJK characters, never before closing or after opening punctuation, and never
    at a hyphen (``YYYY-MM-DD`` stays whole)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.break_on_hyphens = False

    def _split(self, text: str) -> list[str]:
        chunks: list[str] = []
        for chunk in super()._split(text):
            # click's extras ("[环境变量：MEDIATION_DB]", "[必填]") stay whole when short.
            whole = chunk.startswith("[") and chunk.endswith("]") and _width(chunk) <= 40
            if whole or _width(chunk) == len(chunk):
                chunks.append(chunk)
                continue
            run = ""  # narrow characters between wide ones stay together (HH:MM, 1.5)
            for char in chunk:
                if _width(char) == 1 and (run or char not in _NO_LINE_START):
                    run += char
                    continue
                if run:
                    self._add(chunks, run)
                    run = ""
                if chunks and (char in _NO_LINE_START or chunks[-1][-1] in _NO_LINE_END):
                    chunks[-1] += char
                else:
                    chunks.append(char)
            if run:
                self._add(chunks, run)
        return chunks

    @staticmethod
    def _add(chunks: list[str], run: str) -> None:
        """A run of narrow characters, kept with an opening bracket before it."""
        if chunks and chunks[-1][-1] in _NO_LINE_END:
            chunks[-1] += run
        else:
            chunks.append(run)

    def _handle_long_word(
        self, reversed_chunks: list[str], cur_line: list[str], cur_len: int, width: int
    ) -> None:
        space_left = width - cur_len
        last = reversed_chunks[-1]
        cut = 0
        while cut < len(last) and _width(last[: cut + 1]) <= space_left:
            cut += 1
        if cut == 0 and not cur_line:  # a character wider than the whole line
            cut = 1
        if cut:  # else the line is full: the word starts the next one
            cur_line.append(last[:cut])
            reversed_chunks[-1] = last[cut:]

    def _wrap_chunks(self, chunks: list[str]) -> list[str]:
        lines: list[str] = []
        chunks.reverse()
        while chunks:
            line: list[str] = []
            used = 0
            indent = self.subsequent_indent if lines else self.initial_indent
            width = self.width - _width(indent)
            if self.drop_whitespace and lines and not chunks[-1].strip():
                del chunks[-1]
            while chunks and used + _width(chunks[-1]) <= width:
                used += _width(chunks[-1])
                line.append(chunks.pop())
            if chunks and _width(chunks[-1]) > width:
                self._handle_long_word(chunks, line, used, width)
                if not chunks[-1]:
                    chunks.pop()
            if self.drop_whitespace and line and not line[-1].strip():
                line.pop()
            if line:
                lines.append(indent + "".join(line))
        return lines


def _wrapped_short_help(original: Callable[[str, int], str]) -> Callable[[str, int], str]:
    def make_default_short_help(help: str, max_length: int = 45) -> str:
        if _width(help) == len(help):
            return original(help, max_length)
        first = help.split("\n\n", 1)[0].replace("\n", "")
        sentence = re.split(r"[。；]", first, maxsplit=1)[0]
        if _width(sentence) <= max_length:
            return sentence
        cut = ""
        for char in sentence:
            if _width(cut + char) > max_length - 1:
                break
            cut += char
        return cut + "…"

    return make_default_short_help


def install() -> None:
    """Route typer's and click's own words through :func:`mediation.i18n._` (once)."""
    if getattr(formatting.HelpFormatter, "_mediation_i18n", False):
        return
    typer.core._ = words  # type: ignore[assignment]
    exceptions.ClickException.show = _show_click  # type: ignore[method-assign]
    exceptions.UsageError.show = _show_usage  # type: ignore[method-assign]
    formatting.HelpFormatter.write_usage = _wrapped_usage(formatting.HelpFormatter.write_usage)  # type: ignore[method-assign]
    formatting.HelpFormatter.write_dl = _wrapped_dl(formatting.HelpFormatter.write_dl)  # type: ignore[method-assign]
    click_core.make_default_short_help = _wrapped_short_help(click_core.make_default_short_help)  # type: ignore[assignment]
    _textwrap.TextWrapper = _WideTextWrapper  # type: ignore[misc]  # read by formatting.wrap_text
    formatting.HelpFormatter._mediation_i18n = True  # type: ignore[attr-defined]
