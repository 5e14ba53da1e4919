"""Rendering machinery and the ``doc`` commands.

- The restricted URL fetcher: no local file outside the package's templates (however the
  path is encoded), no network, only PNG/JPEG inline images; WeasyPrint's own fetcher is
  shown to do what ours prevents.
- One WeasyPrint set-up per process, and memory that does not grow with each document.
- ``mediation doc render`` and ``doc render-all`` through the real CLI, on both databases.
"""

from __future__ import annotations

import base64
import http.server
import io
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.documents import _pdf, service
from mediation.storage._tables import document_table
from mediation.storage.store import Store
from tests.conftest import T0, intake_record
from tests.documents.test_documents import add_extra_organisations, pdftext, step, walk

PAGE = '<!DOCTYPE html><html lang="zh-CN"><head>{head}</head><body><p>调解</p>{body}</body></html>'


@pytest.fixture(scope="module")
def renderer() -> _pdf.Renderer:
    return _pdf.renderer(service._stylesheet())


def _page(head: str = "", body: str = "") -> str:
    return PAGE.format(head=head, body=body)


# -- the URL fetcher ------------------------------------------------------------------------


def test_weasyprint_default_fetcher_would_attach_a_local_file(tmp_path: Path) -> None:
    """What the restricted fetcher is for: by default a <link> embeds any readable file."""
    from weasyprint import HTML

    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2", encoding="utf-8")
    html = _page(head=f'<link rel="attachment" href="{secret.as_uri()}">')
    pdf = HTML(string=html).write_pdf(uncompressed_pdf=True)
    assert b"hunter2" in pdf


@pytest.mark.parametrize(
    "head, body",
    [
        ('<link rel="attachment" href="file:///etc/passwd">', ""),
        ("", '<img src="file:///etc/hostname">'),
        ("", '<img src="assets/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd">'),
        ("", '<img src="assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd">'),
        ('<link rel="stylesheet" href="file://otherhost/etc/passwd">', ""),
        ("", '<img src="data:text/html;base64,PGh0bWw+">'),
    ],
)
def test_local_files_outside_the_templates_are_refused(
    renderer: _pdf.Renderer, head: str, body: str
) -> None:
    with pytest.raises(_pdf.ResourceRefused):
        renderer.pdf(_page(head, body))


@pytest.fixture
def web_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request it gets."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"p { color: red }")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_no_request_leaves_the_machine(
    renderer: _pdf.Renderer, web_server: tuple[str, list[str]]
) -> None:
    base, seen = web_server
    for html in (
        _page(head=f'<link rel="stylesheet" href="{base}/style.css">'),
        _page(body=f'<img src="{base}/logo.png">'),
        _page(head=f"<style>@import url({base}/imported.css);</style>"),
    ):
        with pytest.raises(_pdf.ResourceRefused):
            renderer.pdf(html)
    assert seen == []
    # The server does answer: the default fetcher would have asked it.
    from weasyprint import HTML

    HTML(string=_page(head=f'<link rel="stylesheet" href="{base}/style.css">')).write_pdf()
    assert seen == ["/style.css"]


def test_the_package_assets_and_inline_images_are_served(renderer: _pdf.Renderer) -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (255, 0, 0)).save(out, format="PNG")
    image = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    pdf, pages = renderer.pdf(_page(body=f'<img src="{image}">'))
    assert pages == 1 and "调解" in pdftext(pdf)
    css = _pdf.TEMPLATES_DIR / "assets" / "doc.css"
    served = renderer.fetcher.fetch(_pdf.TEMPLATES_URL + "assets/doc.css")
    assert served.read() == css.read_bytes() and served.content_type == "text/css"
    symlinked = _pdf.TEMPLATES_URL + "assets/../../../../../../etc/passwd"
    with pytest.raises(ValueError):
        renderer.fetcher.fetch(symlinked)


# -- one set-up per process -----------------------------------------------------------------


def test_one_font_configuration_per_process(renderer: _pdf.Renderer) -> None:
    again = _pdf.renderer(service._stylesheet())
    assert again is renderer and again.font_config is renderer.font_config
    before = renderer.documents
    renderer.pdf(_page(body=f"<p>{uuid.uuid4()}</p>"))  # HTML this process has not rendered
    assert renderer.documents == before + 1


def test_the_document_face_is_cut_once_and_read_from_the_font_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cut face is kept in the font cache, named for what it was cut from and for its
    own digest: a later process reads it; a file whose bytes do not match its name is not
    used, and the face is cut again."""
    import hashlib

    from mediation.documents import _fonts

    monkeypatch.setenv("MEDIATION_FONT_CACHE", str(tmp_path))
    _fonts.document_face.cache_clear()  # as a new process
    try:
        face = _fonts.document_face()
        (kept,) = tmp_path.glob("MediationSerif-*.otf")
        assert kept.read_bytes() == face
        assert kept.stem.endswith(hashlib.sha256(face).hexdigest()[:16])
        # Another file for the same source, whole by its name: it is what a process reads.
        stem = kept.stem.rsplit("-", 1)[0]
        other = b"OTTO another cut"
        kept.unlink()
        (tmp_path / f"{stem}-{hashlib.sha256(other).hexdigest()[:16]}.otf").write_bytes(other)
        _fonts.document_face.cache_clear()
        assert _fonts.document_face() == other
        # Damaged (its bytes no longer match its name): cut again, and kept whole.
        for damaged in tmp_path.glob("*.otf"):
            damaged.write_bytes(b"OTTO damaged")
        _fonts.document_face.cache_clear()
        assert _fonts.document_face() == face
        assert {p.read_bytes() for p in tmp_path.glob("*.otf")} >= {face}
    finally:
        _fonts.document_face.cache_clear()


def test_the_same_html_is_laid_out_once_and_gives_the_same_pdf(
    renderer: _pdf.Renderer,
) -> None:
    """A document met again unchanged (rendered, then sealed) is not laid out twice: the
    renderer keeps its newest renderings, and gives the same bytes, which a new layout
    gives too (WeasyPrint's output depends on the HTML, stylesheet and fonts alone)."""
    html = _page(body=f"<p>{uuid.uuid4()}</p>")
    before = renderer.documents
    first = renderer.pdf(html)
    assert renderer.pdf(html) == first
    assert renderer.documents == before + 1
    assert renderer.render(html) == first  # laid out anew: the same bytes
    assert renderer.documents == before + 2
    other = renderer.pdf(_page(body=f"<p>{uuid.uuid4()}</p>"))
    assert other != first and renderer.documents == before + 3
    for _ in range(_pdf._KEPT_RENDERINGS):  # the oldest are forgotten
        renderer.pdf(_page(body=f"<p>{uuid.uuid4()}</p>"))
    counted = renderer.documents
    assert renderer.pdf(html) == first and renderer.documents == counted + 1


def _rss_mb() -> float:
    import gc

    gc.collect()  # garbage not yet collected is not growth (tests/conftest.py: gc thresholds)
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_memory_does_not_grow_with_each_document(renderer: _pdf.Renderer) -> None:
    html = _page(body="<p>" + "被申请人于2026年3月20日前清理通道内全部杂物。" * 40 + "</p>")
    for _ in range(5):
        renderer.render(html)  # laid out each time (pdf() would remember the first)
    start = _rss_mb()
    for _ in range(40):
        renderer.render(html)
    grown = _rss_mb() - start
    # Reused, it grows by well under 1 MB over 40 documents; a new FontConfiguration per
    # document (measured here) adds ~0.45 MB each, never given back, i.e. ~18 MB.
    assert grown < 8, f"resident memory grew {grown:.1f} MB over 40 documents"


# -- the commands -------------------------------------------------------------------------

NOW = "2026-03-03T09:00:00+08:00"


def cli(runner: CliRunner, db_url: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", db_url, *args], env={"MEDIATION_NOW": NOW})


@pytest.fixture
def agreed(store: Store) -> int:
    add_extra_organisations(store)
    pid, _ = walk(store, "peoples", "agreed_written")
    return pid


def test_doc_render_stores_and_writes_the_pdf(
    runner: CliRunner, db_url: str, agreed: int, store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "协议书.pdf"
    result = cli(
        runner, db_url, "doc", "render", "（2026）桥头人调字第1号", "agreement", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "已生成：（2026）桥头人调字第1号 人民调解协议书（agreement #1，2 页" in result.stdout
    with store.read() as conn:
        stored = conn.execute(select(document_table.c.content)).scalar_one()
    assert out.read_bytes() == stored
    again = cli(runner, db_url, "doc", "render", str(agreed), "agreement", "--json")
    data = json.loads(again.stdout)
    assert data["replaced"] is True and data["pages"] == 2 and data["output"] is None


@pytest.mark.parametrize(
    "args, code, words",
    [
        (("1", "nonsense"), 2, "没有文书种类 'nonsense'"),
        (("99", "agreement"), 4, "没有案件 '99'"),
        (("1", "cover"), 5, "尚未到达「结案归档」"),
        (("1", "court_letter"), 5, "没有「委派调解结果函」"),
        (("1", "investigation", "--seq", "1"), 5, "没有第1份调查记录"),
    ],
)
def test_doc_render_refusals(
    runner: CliRunner, db_url: str, agreed: int, args: tuple[str, ...], code: int, words: str
) -> None:
    result = cli(runner, db_url, "doc", "render", *args)
    assert result.exit_code == code, result.output
    assert words in result.stderr and "Traceback" not in result.output


def test_doc_render_lists_missing_fields_and_writes_nothing(
    runner: CliRunner, db_url: str, store: Store, tmp_path: Path
) -> None:
    walk(store, "peoples", "agreed_written", record=intake_record())
    out = tmp_path / "a.pdf"
    result = cli(runner, db_url, "doc", "render", "1", "agreement", "-o", str(out))
    assert result.exit_code == 3
    assert "被申请人李四的性别: 缺少（人民调解法第二十九条：当事人的基本情况）" in result.stderr
    assert "未写入任何数据" in result.stderr and not out.exists()


def test_doc_render_refuses_a_signed_document(
    runner: CliRunner, db_url: str, agreed: int, store: Store
) -> None:
    assert cli(runner, db_url, "doc", "render", "1", "agreement").exit_code == 0
    with store.write() as conn:
        conn.execute(update(document_table).values(status="signed"))
    result = cli(runner, db_url, "doc", "render", "1", "agreement")
    assert result.exit_code == 5 and "已签章，不能重新生成" in result.stderr


def test_render_all_renders_skips_and_reports(
    runner: CliRunner, db_url: str, agreed: int, store: Store
) -> None:
    # A second case whose agreement lacks the respondent's particulars, and a third that
    # only registered, long before --since.
    walk(store, "peoples", "agreed_written", record=intake_record(), start=T0 + timedelta(hours=1))
    walk(store, "peoples", "applied", start=T0 - timedelta(days=30))
    assert cli(runner, db_url, "doc", "render", "1", "registration").exit_code == 0
    with store.write() as conn:
        conn.execute(update(document_table).values(status="signed"))

    result = cli(runner, db_url, "doc", "render-all", "--since", "2026-03-01", "-j", "1", "--json")
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    outcomes = {(d["case_number"][-3:], d["kind"]): d["status"] for d in data["documents"]}
    assert outcomes[("第1号", "registration")] == "skipped_signed"
    assert outcomes[("第1号", "agreement")] == "rendered"
    assert outcomes[("第2号", "agreement")] == "refused"
    assert outcomes[("第2号", "application")] == "refused"  # 李四's particulars, again
    assert not any(number == "第3号" for number, _ in outcomes)  # nothing since 2026-03-01
    assert data["counts"]["skipped_signed"] == 1

    text = cli(runner, db_url, "doc", "render-all", "--kind", "agreement", "-j", "1")
    assert text.exit_code == 3
    assert "已生成 1 份 · 已签章跳过 0 份 · 缺少信息 1 份" in text.stdout
    assert "（2026）桥头人调字第2号 agreement #1：人民调解协议书" in text.stdout


def test_render_all_starts_workers_only_for_a_batch_worth_their_start() -> None:
    """``-j 0`` (the default): one worker per CPU, each with at least
    ``DOCUMENTS_PER_WORKER`` documents; a smaller batch is rendered in the command's own
    process (starting a worker costs about as much as rendering eight documents)."""
    from mediation.documents.batch import DOCUMENTS_PER_WORKER as PER
    from mediation.documents.batch import auto_jobs

    assert [auto_jobs(n, cpus=8) for n in (0, 1, 2 * PER - 1)] == [1, 1, 1]
    assert auto_jobs(2 * PER, cpus=8) == 2
    assert auto_jobs(5 * PER + 3, cpus=8) == 5
    assert auto_jobs(1000, cpus=8) == 8
    assert auto_jobs(1000, cpus=1) == 1


def test_render_all_by_default_renders_a_small_batch(
    runner: CliRunner, db_url: str, agreed: int, store: Store
) -> None:
    """Without ``-j``, a small batch is rendered whole (the default path; how many
    processes render it is ``auto_jobs``' choice, tested above)."""
    result = cli(runner, db_url, "doc", "render-all", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {
        "rendered": 5,
        "skipped_signed": 0,
        "refused": 0,
        "failed": 0,
    }


def test_render_all_with_worker_processes(
    runner: CliRunner, db_url: str, agreed: int, store: Store
) -> None:
    step(
        store,
        agreed,
        "follow_up",
        T0 + timedelta(days=1),
        performance="performed",
        summary="已清理。",
    )
    result = cli(runner, db_url, "doc", "render-all", "-j", "2")
    assert result.exit_code == 0, result.output
    assert "已生成 6 份 · 已签章跳过 0 份 · 缺少信息 0 份" in result.stdout
    assert "生成文书" in result.stderr  # the progress bar
    with store.read() as conn:
        kinds = sorted(conn.execute(select(document_table.c.kind)).scalars())
    assert kinds == [
        "agreement",
        "application",
        "follow_up",
        "record",
        "registration",
        "rights_notice",
    ]
