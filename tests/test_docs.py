"""The documentation is checked against the code: the generated sections of the docs/ pages
current, every command documented with an example that parses, every command line of the
README and the pages parses, the site builds without a warning, and the README stays a
short front page whose Quick start is exactly what CI runs."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from mediation import docs
from mediation.errors import ExitCode

README = docs.README_PATH
DOCS = docs.DOCS_DIR
QUICK_START = ["bash setup.sh", ".venv/bin/python -m pytest"]
README_MAX_LINES = 300


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """Every Markdown page of the site, by its path relative to ``docs/``."""
    return {
        path.relative_to(DOCS).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(DOCS.rglob("*.md"))
    }


@pytest.fixture(scope="module")
def texts(readme: str, pages: dict[str, str]) -> dict[str, str]:
    """The README and every page, by their path relative to the repository root."""
    return {"README.md": readme, **{f"docs/{name}": text for name, text in pages.items()}}


@pytest.fixture(scope="module")
def group() -> Any:
    """The CLI's click group, built once (building it is the slow part)."""
    return docs.cli_group()


@pytest.fixture(scope="module")
def commands(group: Any) -> list[docs.CommandDoc]:
    return docs.cli_commands(group)


def _section(text: str, name: str) -> str:
    match = re.search(
        rf"<!-- BEGIN GENERATED: {name} -->\n(.*?)<!-- END GENERATED: {name} -->", text, re.S
    )
    assert match, f"no generated section {name!r}"
    return match[1]


# -- generated sections -----------------------------------------------------------------


def test_generated_sections_are_current() -> None:
    stale = docs.check()
    assert not stale, (
        f"stale generated sections {stale}; run `.venv/bin/python -m mediation.docs --write`"
    )


def test_every_command_is_in_the_command_reference(
    pages: dict[str, str], commands: list[docs.CommandDoc]
) -> None:
    reference = _section(pages[docs.SECTIONS["commands"].page], "commands")
    missing = [c.name for c in commands if f"| `{c.name}` |" not in reference]
    assert not missing, f"commands missing from the command reference: {missing}"


def test_every_flow_has_its_diagram(pages: dict[str, str]) -> None:
    from mediation.workflows import flow_names

    flows = _section(pages[docs.SECTIONS["flows"].page], "flows")
    for name in flow_names():
        heading = re.search(rf"^## .* \(`{name}`\)$", flows, re.M)
        assert heading, f"flow {name} has no heading"
        following = flows[heading.end() :].split("\n## ", 1)[0]
        assert "```mermaid\nstateDiagram-v2\n" in following, f"flow {name} has no diagram"


def test_check_names_a_stale_page_and_write_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "docs"
    shutil.copytree(DOCS, copy)
    page = copy / docs.SECTIONS["exit-codes"].page
    original = page.read_text(encoding="utf-8")
    page.write_text(
        original.replace(_section(original, "exit-codes"), "| 0 | `OK` | outdated |\n"),
        encoding="utf-8",
    )
    assert docs.main(["--check", "--docs-dir", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "reference/exit-codes.md" in err and "'exit-codes'" in err, err
    assert "commands" not in err  # only the stale page is named
    assert docs.main(["--write", "--docs-dir", str(copy)]) == 0
    assert page.read_text(encoding="utf-8") == original
    assert docs.main(["--check", "--docs-dir", str(copy)]) == 0


def test_missing_markers_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for page in docs.pages():
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text("# A page\n", encoding="utf-8")
    assert docs.main(["--check", "--docs-dir", str(tmp_path)]) == 1
    assert docs.main(["--write", "--docs-dir", str(tmp_path)]) == 1
    assert "no markers" in capsys.readouterr().err
    # nothing was written: every page is checked before any is rewritten
    assert all((tmp_path / p).read_text(encoding="utf-8") == "# A page\n" for p in docs.pages())


def test_a_section_in_the_wrong_page_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "docs"
    shutil.copytree(DOCS, copy)
    page = copy / docs.SECTIONS["exit-codes"].page
    page.write_text(
        page.read_text(encoding="utf-8")
        + "\n<!-- BEGIN GENERATED: commands -->\n<!-- END GENERATED: commands -->\n",
        encoding="utf-8",
    )
    with pytest.raises(docs.DocsError, match=r"belongs in reference/commands\.md"):
        docs.write(copy)


def test_the_readme_has_no_generated_section(readme: str) -> None:
    assert "<!-- BEGIN GENERATED" not in readme


def test_importing_the_module_has_no_side_effects() -> None:
    code = (
        "import sys, mediation.docs; "
        "assert 'mediation.cli' not in sys.modules, 'imports the CLI'; "
        "assert 'sqlalchemy' not in sys.modules, 'imports the ORM'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_python_m_mediation_docs_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mediation.docs", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--check" in done.stdout and "--write" in done.stdout


# -- commands and their examples --------------------------------------------------------


def test_every_command_has_an_example(commands: list[docs.CommandDoc]) -> None:
    # cli_commands() raises when one lacks it; this also catches an empty walk.
    assert commands
    assert all(re.search(rf"(^|\s){docs.PROG}\s", c.example) for c in commands)


def test_a_command_without_an_example_is_refused() -> None:
    app = typer.Typer()

    @app.command()
    def documented() -> None:
        """Has one.

        Example: mediation documented
        """

    @app.command()
    def undocumented() -> None:
        """Has none."""

    with pytest.raises(docs.DocsError, match="mediation undocumented"):
        docs.cli_commands(typer.main.get_command(app))


def test_each_example_runs_its_own_command(group: Any, commands: list[docs.CommandDoc]) -> None:
    wrong = {}
    for c in commands:
        try:
            path = docs.example_command_path(c.example, group)
        except docs.DocsError as exc:
            wrong[c.name] = str(exc)
            continue
        if path != c.path:
            wrong[c.name] = f"its example runs `{' '.join((docs.PROG, *path))}`"
    assert not wrong, wrong


def test_example_parser_rejects_what_a_user_would_get_wrong(group: Any) -> None:
    for bad in (
        "mediation case opne --from x.toml",
        "mediation case show",  # missing argument
        "mediation case list --no-such-option",
        "mediation --db",
        "mediation case",
        "python -m mediation",
    ):
        with pytest.raises(docs.DocsError):
            docs.example_command_path(bad, group)
    line = "MEDIATION_NOW=2026-03-02 mediation --db x.db --as 周明 case next 1"
    assert docs.example_command_path(line, group) == (
        "case",
        "next",
    )


def _command_lines(text: str) -> list[str]:
    """``$ mediation ...`` lines of console blocks, without environment assignments."""
    found = []
    for line in text.splitlines():
        if not line.startswith("$ "):
            continue
        words = shlex.split(line[2:])
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            words.pop(0)
        if words and words[0] in (docs.PROG, f".venv/bin/{docs.PROG}"):
            found.append(shlex.join([docs.PROG, *words[1:]]))
    return found


def test_command_lines_parse(group: Any, texts: dict[str, str]) -> None:
    """Every ``$ mediation ...`` line of the README and the pages parses."""
    lines = {name: _command_lines(text) for name, text in texts.items()}
    assert len(lines["README.md"]) >= 8, "the README's walk-through should show real commands"
    assert sum(map(len, lines.values())) >= 50, "the pages should show real commands"
    wrong = {}
    for name, found in lines.items():
        for line in found:
            try:
                docs.example_command_path(line, group)
            except docs.DocsError as exc:
                wrong[f"{name}: {line}"] = str(exc)
    assert not wrong, wrong


def test_commands_named_in_the_prose_exist(group: Any, texts: dict[str, str]) -> None:
    """`mediation X Y ...` in inline code names a real command (placeholders allowed)."""
    wrong = {}
    count = 0
    for name, text in texts.items():
        for span in re.findall(r"`((?:\.venv/bin/)?mediation [^`]+)`", text):
            count += 1
            words = span.split()
            words[0] = docs.PROG
            try:
                docs.example_command_path(shlex.join(words), group, parse_arguments=False)
            except docs.DocsError as exc:
                wrong[f"{name}: {span}"] = str(exc)
    assert count
    assert not wrong, wrong


def test_paths_named_in_the_docs_exist(texts: dict[str, str]) -> None:
    """`mediation/...`, `tests/...` and `bench/...` in inline code are real paths: the
    pages follow the package's layout."""
    root = docs.ROOT
    wrong = {}
    for name, text in texts.items():
        for span in re.findall(r"`((?:mediation|tests|bench)/[\w./-]*)`", text):
            if not (root / span).exists():
                wrong.setdefault(name, []).append(span)
    assert not wrong, wrong


def test_every_exit_code_but_success_has_a_meaning() -> None:
    codes = docs.exit_codes()
    assert [c.value for c in codes] == [int(m) for m in ExitCode]
    assert all(c.meaning for c in codes if c.value != 0), codes


# -- the README -------------------------------------------------------------------------


def _quick_start_block(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if re.match(r"^#+\s+Quick start\s*$", line)), None
    )
    assert start is not None, "README has no 'Quick start' heading"
    fence = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    return [line.strip() for line in lines[fence + 1 : end] if line.strip()]


def test_quick_start_is_exactly_the_two_commands(readme: str) -> None:
    assert _quick_start_block(readme) == QUICK_START


def test_the_readme_is_short(readme: str) -> None:
    count = len(readme.splitlines())
    assert count <= README_MAX_LINES, (
        f"README.md has {count} lines (at most {README_MAX_LINES}): move the detail to docs/"
    )


def _anchors(markdown: str) -> set[str]:
    """The anchors MkDocs gives the headings of a page (Python-Markdown's toc slugs)."""
    from markdown.extensions.toc import slugify

    headings = re.findall(
        r"^#{1,6}\s+(.+?)\s*$", re.sub(r"```.*?```", "", markdown, flags=re.S), re.M
    )
    return {slugify(h.replace("`", ""), "-") for h in headings}


def test_readme_links_into_docs_exist(readme: str) -> None:
    links = re.findall(r"\]\((docs/[^)\s]*)\)", readme)
    assert len(links) >= 10, "the README should link to the pages"
    wrong = []
    for link in links:
        path, _, anchor = link.partition("#")
        target = docs.ROOT / path
        if not target.is_file():
            wrong.append(f"{link}: no such file")
        elif anchor and anchor not in _anchors(target.read_text(encoding="utf-8")):
            wrong.append(f"{link}: no heading with that anchor")
    assert not wrong, wrong


# -- the site ---------------------------------------------------------------------------


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """`mkdocs build --strict`: no broken link or anchor, no page missing from the nav,
    no included file missing."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=docs.ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "reference" / "flows" / "index.html").is_file()
    flows = (tmp_path / "site" / "reference" / "flows" / "index.html").read_text("utf-8")
    assert flows.count('class="mermaid"') >= 1, "the flow diagrams are not rendered as Mermaid"
