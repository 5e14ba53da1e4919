"""Document commands: ``doc render`` / ``render-all`` / ``get`` / ``casefile`` / ``sign`` /
``verify`` / ``record-signature``."""

import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mediation.commands._common import (
    JsonOpt,
    check_output,
    current_settings,
    echo,
    group,
    handled,
    write_file,
)
from mediation.errors import ExitCode, MediationError
from mediation.i18n import _, os_error

doc_app = group(_("文书：中文 PDF 卷宗；已签名的协议书。"))


@doc_app.command(
    "render",
    help=_(
        '把案件的一份文书生成 PDF 并随案保存；未签名的旧版本被替换，已签名的则拒绝（退出码 5）。缺少法定字段的文书被拒绝，并列出缺少的字段（退出码 3）。\n\n示例：mediation doc render "（2026）桥头人调字第1号" agreement -o 协议书.pdf'
    ),
)
@handled
def doc_render(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    kind: Annotated[
        str,
        typer.Argument(help=_("文书种类：application、registration、agreement、cover 等。")),
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help=_("同时把 PDF 写到此文件。"))
    ] = None,
    seq: Annotated[
        int,
        typer.Option("--seq", min=1, help=_("重复文书中的第几份（第 N 次回访等）。")),
    ] = 1,
    json_out: JsonOpt = False,
) -> None:
    """Render one document of a case as a PDF and keep it with the case; an unsigned
    earlier rendering is replaced, a signed one is refused (exit 5). A document whose
    statutory fields are missing is refused with the list of them (exit 3).

    Example: mediation doc render "（2026）桥头人调字第1号" agreement -o 协议书.pdf
    """
    from mediation.reporting.output import to_json

    check_output(output)
    with current_settings().api() as api:
        result = api.render(case, kind, seq=seq)
    if output is not None:
        write_file(output, result.pdf)
    if json_out:
        data = {k: v for k, v in result.__dict__.items() if k != "pdf"}
        echo(to_json({**data, "output": str(output) if output else None}))
        return
    echo(
        f"{'已重新生成' if result.replaced else '已生成'}：{result.case_number} {result.title}"
        f"（{result.kind} #{result.seq}，{result.pages} 页，{result.size // 1024} KB，"
        f"文书 id {result.document_id}）"
    )
    if output is not None:
        echo(f"已写入 {output}")


@doc_app.command(
    "render-all",
    help=_(
        "用多个并行进程和进度条生成各案件现有的全部文书（或只生成某日以来有事件的案件的文书）。已签名的文书跳过；缺少字段的文书列出而不生成（退出码 3）。按 Ctrl-C 停止：已生成的文书保留（退出码 130）。\n\n示例：mediation doc render-all --since 2026-03-01 --kind agreement -j 2"
    ),
)
@handled
def doc_render_all(
    since: Annotated[
        str | None,
        typer.Option("--since", help=_("只看此日期当日或之后有事件的案件。")),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help=_("只生成此种文书。"))] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "-j",
            "--jobs",
            min=0,
            max=64,
            help=_("工作进程数（0：自动，每个 CPU 一个，文书不多时在本进程内生成）。"),
        ),
    ] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Render every document the cases have now (or only those of cases with events since
    a date) with parallel worker processes (by default one per CPU, none for a batch too
    small to pay for their start) and a progress bar. Signed documents are
    skipped; documents with missing fields are listed, not rendered (exit 3). Ctrl-C
    stops it: the documents already made are kept (exit 130).

    Example: mediation doc render-all --since 2026-03-01 --kind agreement -j 2
    """
    from mediation.documents.batch import Outcome, auto_jobs
    from mediation.domain.clock import parse_day
    from mediation.reporting.output import to_json

    since_day = parse_day(since, "--since") if since else None
    outcomes: list[Outcome] = []
    with current_settings().api() as api:
        work = api.plan_documents(since=since_day, kind=kind)
        workers = min(jobs, max(len(work), 1)) if jobs else auto_jobs(len(work))
        batch = api.render_all(work, jobs=workers)

        def collect(update: Any = None) -> None:
            # Ctrl-C is held while a document is stored and counted, so that what the
            # message says was made is what was stored; it takes effect right after.
            while True:
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
                try:
                    try:
                        outcome = next(batch)
                    except StopIteration:
                        return
                    outcomes.append(outcome)
                    if update is not None:
                        update(1)
                finally:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

        try:
            if json_out or not work:
                collect()
            else:
                with typer.progressbar(length=len(work), label="生成文书", file=sys.stderr) as bar:
                    collect(bar.update)
        except KeyboardInterrupt:
            # What was stored stays (one transaction per document); nothing more starts.
            outcomes.extend(batch.stop())
            done = sum(o.status == "rendered" for o in outcomes)
            typer.echo(
                f"\n已中断：已生成 {done} 份，其余 {len(work) - len(outcomes)} 份未生成",
                err=True,
            )
            typer.echo("  → 已生成的文书已保存；重新运行本命令可生成其余文书", err=True)
            raise typer.Exit(130) from None
    counts = {
        s: sum(o.status == s for o in outcomes)
        for s in ("rendered", "skipped_signed", "refused", "failed")
    }
    if json_out:
        echo(to_json({"counts": counts, "documents": outcomes}))
    else:
        echo(
            f"已生成 {counts['rendered']} 份 · 已签章跳过 {counts['skipped_signed']} 份 · "
            f"缺少信息 {counts['refused']} 份"
            + (f" · 失败 {counts['failed']} 份" if counts["failed"] else "")
        )
        for o in outcomes:
            if o.status in ("refused", "failed"):
                echo(f"  {o.case_number} {o.kind} #{o.seq}：{o.message}")
    if counts["failed"]:
        raise typer.Exit(int(ExitCode.ERROR))
    if counts["refused"]:
        raise typer.Exit(int(ExitCode.INVALID_INPUT))


def _deliver(output: Path | None, default: str, data: bytes) -> str:
    """Write a stored PDF: to ``output`` (``-`` for standard output), else to ``default``
    in the current folder. Never through a symbolic link; a new file is readable by its
    owner only; a file that already holds these bytes is left as it is; an existing file of
    the default name is not replaced (only a file named with ``-o`` is). Returns what was
    done, to tell the user."""
    from mediation.errors import FieldProblem, ValidationError

    if output is not None and str(output) == "-":
        stream = sys.stdout.buffer
        if stream.isatty():
            raise ValidationError(
                [
                    FieldProblem(
                        "-o -", "标准输出是终端，不能输出 PDF", "重定向到文件，或用 -o 文件名"
                    )
                ],
                source="-o/--output",
            )
        stream.write(data)
        stream.flush()
        return ""
    target = output or Path(default.replace("/", "／").replace("\\", "＼"))
    check_output(target)
    if target.is_file():
        try:
            same = target.read_bytes() == data
        except OSError:
            same = False
        if same:
            return f"{target} 已是同一份文件，未改写"
        if output is None:
            raise ValidationError(
                [
                    FieldProblem(
                        str(target), "文件已存在，内容不同，未覆盖", "用 -o 指定要写入的文件"
                    )
                ],
                source="doc",
            )
    write_file(target, data)
    return f"已写入 {target}"


@doc_app.command(
    "get",
    help=_(
        "逐字节写出案件保存的文书：签名后为盖章的 PDF（可通过 `doc verify`），否则为保存的生成件。先核对其字节与记录的哈希（不一致时退出码 10）；从未生成的文书退出码为 4。内容相同的已有文件保持不动。\n\n示例：mediation doc get 1 agreement -o 协议书.pdf"
    ),
)
@handled
def doc_get(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    kind: Annotated[str, typer.Argument(help=_("文书种类：agreement、record、cover 等。"))],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help=_("把 PDF 写到这里（- 表示标准输出；默认：当前目录下的 案件号+题名.pdf）。"),
        ),
    ] = None,
    seq: Annotated[
        int,
        typer.Option("--seq", min=1, help=_("重复文书中的第几份（第 N 次回访等）。")),
    ] = 1,
    json_out: JsonOpt = False,
) -> None:
    """Write a document as the case keeps it, byte for byte: the sealed PDF once it is
    signed (it passes `doc verify`), else the stored rendering. Its bytes are checked
    against the hash on record first (exit 10 if they differ); a document never rendered
    is exit 4. An existing file with the same bytes is left alone.

    Example: mediation doc get 1 agreement -o 协议书.pdf
    """
    from mediation.reporting.output import to_json

    if output is not None and str(output) == "-" and json_out:
        from mediation.errors import UsageError

        raise UsageError("--json 与 -o - 不能同时使用", hint="用 -o 文件名 写出 PDF")
    check_output(None if output is None or str(output) == "-" else output)
    with current_settings().api() as api:
        result = api.get_document(case, kind, seq=seq)
    name = f"{result.case_number}{result.title}" + (f"（第{seq}份）" if seq > 1 else "")
    done = _deliver(output, f"{name}.pdf", result.content)
    if json_out:
        data = {k: v for k, v in result.as_dict().items() if k != "content"}
        echo(to_json({**data, "output": done}))
        return
    if not done:
        return
    state = "已签章" if result.status == "signed" else "未签章"
    echo(
        f"{result.case_number} {result.title}（{state}，{result.pages} 页，{result.size} 字节，"
        f"SHA-256 {result.sha256[:16]}…）"
    )
    echo(done)


@doc_app.command(
    "casefile",
    help=_(
        "把整个卷宗装订成一个 PDF：先是封面和卷内目录（序号、题名、日期、页号），再按卷宗顺序排列案件的每份文书。已盖章的文书按原样装入；其余文书根据记录重新生成并保存（同 `doc render`）。有文书缺少字段时在写入任何内容前停止，并列出缺少的字段（退出码 3）。\n\n示例：mediation doc casefile 1 -o 卷宗.pdf"
    ),
)
@handled
def doc_casefile(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help=_("把 PDF 写到这里（- 表示标准输出；默认：当前目录下的 案件号卷宗.pdf）。"),
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Bind the whole case file (卷宗) as one PDF: the cover and the index (卷内目录:
    number, title, date, page numbers) first, then every document of the case in the
    file's order. Sealed documents go in as sealed; the others are rendered again from the
    record and stored (as `doc render` does). A document with missing fields stops it
    before anything is written, with the list (exit 3).

    Example: mediation doc casefile 1 -o 卷宗.pdf
    """
    from mediation.reporting.output import to_json

    if output is not None and str(output) == "-" and json_out:
        from mediation.errors import UsageError

        raise UsageError("--json 与 -o - 不能同时使用", hint="用 -o 文件名 写出 PDF")
    check_output(None if output is None or str(output) == "-" else output)
    with current_settings().api() as api:
        result = api.casefile(case)
    done = _deliver(output, f"{result.case_number}卷宗.pdf", result.content)
    if json_out:
        data = {k: v for k, v in result.as_dict().items() if k != "content"}
        echo(to_json({**data, "output": done}))
        return
    if not done:
        return
    echo(
        f"{result.case_number} 卷宗：封面和卷内目录 {result.cover_pages} 页，"
        f"文书 {len(result.documents)} 份 {result.pages - result.cover_pages} 页"
    )
    for d in result.documents:
        mark = "（已签章）" if d["status"] == "signed" else ""
        echo(f"  {d['no']:>2}  {d['title']}{mark}  第 {d['page_no']} 页")
    echo(done)


@doc_app.command(
    "sign",
    help=_(
        "用组织的有效密钥（其文件用 MEDIATION_KEY_PASSPHRASE 打开）给案件已生成的文书加盖调委会电子印章（PAdES，最后一页有可见印章）。协议书须先由每位当事人和调解员签名。签名后的文书即为定稿。\n\n示例：mediation doc sign 1 agreement -o 协议书.pdf"
    ),
)
@handled
def doc_sign(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    kind: Annotated[str, typer.Argument(help=_("文书种类。"))] = "agreement",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help=_("同时把签名后的 PDF 写到这里。"))
    ] = None,
    seq: Annotated[int | None, typer.Option("--seq", min=1, help=_("重复文书中的第几份。"))] = None,
    json_out: JsonOpt = False,
) -> None:
    """Apply the committee's digital seal (PAdES, a visible seal on the last page) to a
    case's rendered document with the organisation's active key (its file is opened with
    MEDIATION_KEY_PASSPHRASE). For the agreement every party and the mediator must have
    signed first. A signed document is final.

    Example: mediation doc sign 1 agreement -o 协议书.pdf
    """
    from mediation.documents.keys import passphrase_from_env
    from mediation.reporting.output import to_json

    passphrase = passphrase_from_env()
    check_output(output)
    with current_settings().api() as api:
        result = api.sign(case, kind, passphrase=passphrase, seq=seq)
    if output is not None:
        write_file(output, result.content)
    if json_out:
        data = {k: v for k, v in result.as_dict().items() if k != "content"}
        echo(to_json({**data, "output": str(output) if output else None}))
        return
    echo(f"已签章：{result.case_number} {result.title}（{result.organisation}）")
    echo(f"  SHA-256  {result.sha256}（{result.size} 字节）")
    if result.effective_at is not None:
        from mediation.reporting.output import when

        echo(f"  协议生效：{when(result.effective_at)}（各方签署完毕）")
    if output is not None:
        echo(f"  已写入 {output}")


@doc_app.command(
    "verify",
    help=_(
        "核验已签名的 PDF：由已登记的调委会密钥签名，签名后未被改动（未追加内容），且哈希与案件记录的文书一致。任何一项不通过时退出码为 10。\n\n示例：mediation doc verify 协议书.pdf --case 1"
    ),
)
@handled
def doc_verify(
    file: Annotated[Path, typer.Argument(help=_("已签名的 PDF。"))],
    case: Annotated[
        str | None, typer.Option("--case", help=_("它应属于的案件（编号或 id）。"))
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a signed PDF: signed by a recorded committee key, unchanged since (nothing
    appended), and its hash equal to the document recorded for the case. Exit 10 when any
    check fails.

    Example: mediation doc verify 协议书.pdf --case 1
    """
    import dataclasses

    from mediation.errors import TamperedError
    from mediation.reporting.output import to_json

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise MediationError(
            _("无法读取 {path}：{why}").format(path=file, why=os_error(exc)),
            hint=_("请给出已签名 PDF 的路径"),
        ) from None
    with current_settings().api() as api:
        result = api.verify_document(data, case=case)
    if json_out:
        echo(to_json({**dataclasses.asdict(result), "ok": result.ok}))
    else:
        for c in result.checks:
            echo(f"{'✓' if c.ok else '✗'} {c.label}：{c.detail}")
    if not result.ok:
        failed = result.failed
        names = "；".join(c.label for c in failed) if failed else "签名检查未能完成"
        raise TamperedError(
            f"{file} 未通过验证（未通过：{names}）",
            hint=_("这不是调委会签章的那份文书；请向调委会索取存档的文本"),
        )
    if not json_out:
        echo(f"验证通过：{file} 是 {result.case_number} 登记的签章文书")


@doc_app.command(
    "record-signature",
    help=_(
        "在案件的协议书上记录一项签名：各当事人的（签名/盖章/按指印）、调解员的、调委会的印章。最后一项使协议生效。\n\n示例：mediation doc record-signature 1 --signer 张三 --party --method fingerprint"
    ),
)
@handled
def doc_record_signature(
    case: Annotated[str, typer.Argument(help=_("案件编号或 id。"))],
    signer: Annotated[str, typer.Option("--signer", help=_("签名人，与记录一致。"))],
    method: Annotated[
        str, typer.Option("--method", help=_("sign 签名 | seal 盖章 | fingerprint 按指印"))
    ],
    party: Annotated[bool, typer.Option("--party", help=_("签名人是当事人。"))] = False,
    mediator: Annotated[bool, typer.Option("--mediator", help=_("签名人是调解员。"))] = False,
    committee: Annotated[
        bool, typer.Option("--committee", help=_("调委会印章（signer：调委会名称）。"))
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help=_(
                "签名时间（默认：现在）：YYYY-MM-DD HH:MM（北京时间）或 YYYY-MM-DD。不得晚于现在，不得早于协议；早于 7 天前的只有督导人员可以记录。"
            ),
        ),
    ] = None,
    image: Annotated[
        Path | None, typer.Option("--image", help=_("签名的扫描件（PNG 或 JPEG）。"))
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a signature on the case's agreement: each party's (签名/盖章/按指印), the
    mediator's, the committee's seal. The last one makes the agreement take effect.

    Example: mediation doc record-signature 1 --signer 张三 --party --method fingerprint
    """
    from mediation.domain.clock import parse_moment
    from mediation.errors import UsageError
    from mediation.reporting.output import to_json, when

    flags = (("party", party), ("mediator", mediator), ("committee", committee))
    kinds = [kind for kind, given in flags if given]
    if len(kinds) != 1:
        raise UsageError(
            _("请只给出 --party、--mediator、--committee 中的一项"),
            hint="e.g. --signer 张三 --party --method sign",
        )
    settings = current_settings()
    signed_at = None if at is None else parse_moment(at, "--at", source="doc record-signature")
    picture = None
    if image is not None:
        from mediation.documents.signatures import MAX_IMAGE_BYTES
        from mediation.domain.files import read_bounded

        # A scan larger than the library accepts is refused before it is read whole.
        picture = read_bounded(image, MAX_IMAGE_BYTES)
    with settings.api() as api:
        result = api.record_signature(
            case,
            signer=signer,
            signer_kind=kinds[0],
            method=method,
            signed_at=signed_at,
            image=picture,
        )
    if json_out:
        echo(to_json(result.as_dict()))
        return
    echo(
        f"已记录：{result.case_number} {result.signer} {result.method_label}"
        f"（{when(result.signed_at)}）"
    )
    if result.effective_at is not None:
        echo(f"  协议生效：{when(result.effective_at)}（各方签署完毕）")
    elif result.missing:
        echo(f"  尚待签署：{result.missing}")
