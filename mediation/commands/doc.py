"""Document commands: ``doc render`` / ``render-all`` / ``get`` / ``casefile`` / ``sign`` /
``verify`` / ``record-signature``."""

import sys
from pathlib import Path
from typing import Annotated

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

doc_app = group("Documents: the case file as Chinese PDF; signed agreements.")


@doc_app.command("render")
@handled
def doc_render(
    case: Annotated[str, typer.Argument(help="Case number or id.")],
    kind: Annotated[
        str,
        typer.Argument(help="Document kind: application, registration, agreement, cover, ..."),
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Also write the PDF to this file.")
    ] = None,
    seq: Annotated[
        int,
        typer.Option("--seq", min=1, help="Which one of a repeated document (N-th visit...)."),
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


@doc_app.command("render-all")
@handled
def doc_render_all(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only cases with an event on or after this date."),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this document kind.")] = None,
    jobs: Annotated[
        int,
        typer.Option("-j", "--jobs", min=0, max=64, help="Worker processes (0: one per CPU)."),
    ] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Render every document the cases have now (or only those of cases with events since
    a date) with parallel worker processes and a progress bar. Signed documents are
    skipped; documents with missing fields are listed, not rendered (exit 3). Ctrl-C
    stops it: the documents already made are kept (exit 130).

    Example: mediation doc render-all --since 2026-03-01 --kind agreement -j 2
    """
    from mediation.documents.batch import Outcome, default_jobs
    from mediation.domain.clock import parse_day
    from mediation.reporting.output import to_json

    since_day = parse_day(since, "--since") if since else None
    outcomes: list[Outcome] = []
    with current_settings().api() as api:
        work = api.plan_documents(since=since_day, kind=kind)
        workers = min(jobs or default_jobs(), max(len(work), 1))
        batch = api.render_all(work, jobs=workers)
        try:
            if json_out or not work:
                outcomes.extend(batch)
            else:
                with typer.progressbar(length=len(work), label="生成文书", file=sys.stderr) as bar:
                    for outcome in batch:
                        outcomes.append(outcome)
                        bar.update(1)
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


@doc_app.command("get")
@handled
def doc_get(
    case: Annotated[str, typer.Argument(help="Case number or id.")],
    kind: Annotated[str, typer.Argument(help="Document kind: agreement, record, cover, ...")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the PDF here (- for standard output; default: CASE+TITLE.pdf here).",
        ),
    ] = None,
    seq: Annotated[
        int,
        typer.Option("--seq", min=1, help="Which one of a repeated document (N-th visit...)."),
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


@doc_app.command("casefile")
@handled
def doc_casefile(
    case: Annotated[str, typer.Argument(help="Case number or id.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the PDF here (- for standard output; default: CASE卷宗.pdf here).",
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


@doc_app.command("sign")
@handled
def doc_sign(
    case: Annotated[str, typer.Argument(help="Case number or id.")],
    kind: Annotated[str, typer.Argument(help="Document kind.")] = "agreement",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Also write the signed PDF here.")
    ] = None,
    seq: Annotated[
        int | None, typer.Option("--seq", min=1, help="Which one of repeated documents.")
    ] = None,
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


@doc_app.command("verify")
@handled
def doc_verify(
    file: Annotated[Path, typer.Argument(help="The signed PDF.")],
    case: Annotated[
        str | None, typer.Option("--case", help="The case it must belong to (number or id).")
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
            f"cannot read {file}: {exc.strerror}", hint="give the path of the signed PDF"
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
            hint="this is not the document the committee signed; ask for the copy on record",
        )
    if not json_out:
        echo(f"验证通过：{file} 是 {result.case_number} 登记的签章文书")


@doc_app.command("record-signature")
@handled
def doc_record_signature(
    case: Annotated[str, typer.Argument(help="Case number or id.")],
    signer: Annotated[str, typer.Option("--signer", help="Who signed, as recorded.")],
    method: Annotated[
        str, typer.Option("--method", help="sign 签名 | seal 盖章 | fingerprint 按指印")
    ],
    party: Annotated[bool, typer.Option("--party", help="The signer is a party.")] = False,
    mediator: Annotated[bool, typer.Option("--mediator", help="The signer is a mediator.")] = False,
    committee: Annotated[
        bool, typer.Option("--committee", help="The committee's seal (signer: its name).")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="When it was signed (default: now): YYYY-MM-DD HH:MM (Beijing time) or "
            "YYYY-MM-DD. Not in the future, not before the agreement; more than 7 days ago "
            "only a supervisor.",
        ),
    ] = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="A scan of the signature (PNG or JPEG).")
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
            "give exactly one of --party, --mediator, --committee",
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
