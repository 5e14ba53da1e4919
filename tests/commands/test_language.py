"""The users' language: Chinese by default, English with ``--lang en`` or an English
locale, through the gettext catalog (mediation/locale), which must match the sources."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from mediation import i18n
from mediation.cli import app
from mediation.locale import catalog
from mediation.storage.store import Store

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real ``mediation`` command in a fresh process (the language is chosen before the
    command modules are imported, so each language needs its own process)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL")}
    environ.update({"LANG": "C.UTF-8", "PYTHONPATH": str(ROOT), "COLUMNS": "100", **env})
    return subprocess.run(
        [sys.executable, "-m", "mediation.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        check=False,
    )


def test_catalogs_match_the_sources() -> None:
    """The English .po holds exactly the strings marked in the sources, and the .mo is the
    compiled .po (run ``python -m mediation.locale.catalog --write`` when this fails)."""
    assert catalog.problems() == []


def test_language_from_the_environment() -> None:
    assert i18n.language_from_env({}) == "zh"
    assert i18n.language_from_env({"LANG": "C.UTF-8"}) == "zh"
    assert i18n.language_from_env({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.language_from_env({"LANG": "en_US.UTF-8"}) == "en"
    assert i18n.language_from_env({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}) == "en"
    assert i18n.language_from_env({"LANG": "en_US.UTF-8", "LANGUAGE": "zh_CN:en"}) == "zh"
    assert i18n.language_from_env({"LANG": "en_US.UTF-8", "MEDIATION_LANG": "zh"}) == "zh"


def test_translation_is_looked_up_when_called() -> None:
    i18n.set_language("en")
    assert i18n._("选项") == "Options"
    i18n.set_language("zh")
    assert i18n._("选项") == "选项"


def test_root_help_in_chinese_and_in_english() -> None:
    zh = cli("--help")
    assert zh.returncode == 0, zh.stderr
    assert "用法：" in zh.stdout and "选项:" in zh.stdout and "显示本帮助并退出。" in zh.stdout
    assert "Show this message" not in zh.stdout
    en = cli("--lang", "en", "--help")
    assert en.returncode == 0, en.stderr
    assert "Usage:" in en.stdout and "Options:" in en.stdout
    assert "Show this message and exit." in en.stdout
    by_locale = cli("--help", LANG="en_US.UTF-8")
    assert by_locale.stdout == en.stdout


def test_click_errors_in_chinese() -> None:
    result = cli("case", "nosuch")
    assert result.returncode == 2
    assert "错误：没有命令 'nosuch'。" in result.stderr
    assert "Error" not in result.stderr and "No such command" not in result.stderr
    english = cli("--lang", "en", "case", "nosuch")
    assert "Error: No such command 'nosuch'." in english.stderr


def test_unknown_language_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--lang", "fr", "workflow", "list"])
    assert result.exit_code == 2
    assert "不支持的语言 fr" in result.output


def test_case_help_in_chinese(runner: CliRunner) -> None:
    result = runner.invoke(app, ["case", "--help"])
    assert result.exit_code == 0
    assert "案件：开立、列出、查看、推进。" in result.output
    assert "根据登记文件开立案件" in result.output
    listing = runner.invoke(app, ["case", "list", "--help"])
    assert "当事人姓名（或其一部分）。" in listing.output
    assert "Only this" not in listing.output and "Show this message" not in listing.output


def test_case_help_in_english() -> None:
    result = cli("--lang", "en", "case", "--help")
    assert result.returncode == 0, result.stderr
    assert "Cases: open, list, show, advance." in result.stdout
    assert "Open a case from an intake file" in result.stdout
    listing = cli("--lang", "en", "case", "list", "--help")
    assert "A party's name (or a part of it)." in listing.stdout
    assert "当事人" not in listing.stdout


def test_every_help_text_is_chinese() -> None:
    """No command or option of the whole app has an English-only help text."""
    import re

    import typer.main

    def walk(command: object) -> list[str]:
        found = [getattr(command, "help", None) or ""]
        found += [getattr(p, "help", None) or "" for p in getattr(command, "params", [])]
        for sub in getattr(command, "commands", {}).values():
            found += walk(sub)
        return found

    texts = walk(typer.main.get_command(app))
    english = [t for t in texts if t and not re.search(r"[\u4e00-\u9fff]", t)]
    allowed = {"text | mermaid"}
    assert [t for t in english if t not in allowed] == []


def english_hints() -> set[tuple[str, str]]:
    """(module, hint) for every ``hint=`` string literal or f-string with no Chinese in it
    (an untranslated English hint passed to a MediationError subclass)."""
    import ast
    import re

    found = set()
    for path in sorted((ROOT / "mediation").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "hint" and isinstance(value, (ast.Constant, ast.JoinedStr)):
                    # An f-string's literal parts (what it says around the values).
                    text = (
                        str(value.value)
                        if isinstance(value, ast.Constant)
                        else "".join(
                            str(v.value) for v in value.values if isinstance(v, ast.Constant)
                        )
                    )
                    if re.search(r"[A-Za-z]{3}", text) and not re.search(r"[\u4e00-\u9fff]", text):
                        found.add((path.relative_to(ROOT).as_posix(), text))
    return found


def test_no_english_hint() -> None:
    """Every hint a user reads is Chinese (English through the catalog)."""
    assert sorted(english_hints()) == []


def test_articles_are_written_the_chinese_way(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    """In Chinese output a legal basis cites 第三十三条, never ``art. 33`` (the flows' compact
    form); English output keeps the compact form."""
    import json

    from tests.conftest import intake_record

    path = tmp_path / "intake.json"
    path.write_text(json.dumps(intake_record(), ensure_ascii=False), encoding="utf-8")
    opened = runner.invoke(app, ["--db", db_url, "case", "open", "--from", str(path)])
    assert opened.exit_code == 0, opened.stderr
    accepted = runner.invoke(app, ["--db", db_url, "case", "advance", "1", "accept"])
    assert "人民调解工作若干规定第三十三条" in accepted.stdout, accepted.stdout
    shown = runner.invoke(app, ["--db", db_url, "case", "show", "1"])
    assert "第三十三条" in shown.stdout and "art." not in shown.stdout
    flows = runner.invoke(app, ["--db", db_url, "workflow", "show", "peoples"])
    assert "art." not in flows.stdout and "人民调解法第" in flows.stdout
    i18n.set_language("en")
    try:
        english = runner.invoke(app, ["--db", db_url, "case", "show", "1"])
    finally:
        i18n.set_language("zh")
    assert "art. 33" in english.stdout


#: The errors a user reads (mediation.errors and the document errors).
_ERRORS = {
    "MediationError",
    "UsageError",
    "ValidationError",
    "NotFoundError",
    "PermissionDenied",
    "ConflictError",
    "SchemaError",
    "TamperedError",
    "TransitionNotAllowed",
    "DocumentIncomplete",
    "DocumentNotAvailable",
    "DocumentSigned",
}


def test_no_english_error_message() -> None:
    """Every error message passed to a MediationError subclass, as a literal or an
    f-string, says it in Chinese (English through the catalog)."""
    import ast
    import re

    found = []
    for path in sorted((ROOT / "mediation").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if name not in _ERRORS or not isinstance(first, (ast.Constant, ast.JoinedStr)):
                continue
            parts = [first] if isinstance(first, ast.Constant) else first.values
            text = "".join(str(p.value) for p in parts if isinstance(p, ast.Constant))
            if re.search(r"[A-Za-z]{4}", text) and not re.search(r"[\u4e00-\u9fff]", text):
                found.append((path.relative_to(ROOT).as_posix(), node.lineno, text))
    assert found == []


#: Calls whose problem and fix texts a user reads: an input file's or a command line's
#: problems (field, problem, fix), an import row's (row, field, problem, fix), a document's
#: missing particulars (field, problem, fix) and a key file's refusal (problem, fix).
#: A command's or an option's name, as a ``source=`` names it ("case list", "-o/--output").
_COMMAND = re.compile(r"-[-a-z/]+|[a-z][a-z-]*(?: [a-z-]+)?")
_PROBLEMS = {"FieldProblem": 1, "RowProblem": 2, "add": 1, "text": 1, "refuse": 0}


def _english(node: object) -> str | None:
    """The literal text of ``node`` (a string or an f-string) when it is English only."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(str(p.value) for p in node.values if isinstance(p, ast.Constant))
    else:
        return None
    if re.search(r"[A-Za-z]{4}", text) and not re.search(r"[\u4e00-\u9fff]", text):
        return text
    return None


def test_no_english_fix_or_hint() -> None:
    """Every problem, fix and hint a user reads is Chinese (English through the catalog):
    the texts given to FieldProblem / RowProblem / a document's missing particulars, every
    ``fix = ...`` and every ``hint=...``, and the ``source=`` an error names."""
    import ast

    found = []
    for path in sorted((ROOT / "mediation").rglob("*.py")):
        if "migrations" in path.parts or path.name == "_tablegen.py":
            continue
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            texts: list[object] = []
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in _PROBLEMS:
                    texts += node.args[_PROBLEMS[name] :]
                texts += [k.value for k in node.keywords if k.arg == "hint"]
                texts += [
                    k.value
                    for k in node.keywords
                    if k.arg == "source" and not _COMMAND.fullmatch(_english(k.value) or "")
                ]
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ("fix", "hint") for t in node.targets
            ):
                value = node.value
                texts += [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
            for text in texts:
                english = _english(text)
                if english is not None:
                    found.append((where, getattr(text, "lineno", 0), english))
    assert found == []
