"""Committee signing keys: ``keys init`` / ``import`` / ``list``."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled
from mediation.errors import MediationError
from mediation.i18n import _, os_error

if TYPE_CHECKING:
    from mediation.api.write_results import SigningKey

keys_app = group(_("调委会签名密钥：创建或导入、列出。"))


KeyDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-dir", help=_("密钥文件的文件夹（默认：MEDIATION_KEY_DIR 或用户数据目录）。")
    ),
]


def _key_result(key: "SigningKey", json_out: bool, verb: str) -> None:
    from mediation.reporting.output import to_json, when

    if json_out:
        echo(to_json(key.as_dict()))
        return
    echo(f"{verb}：{key.organisation_name}（{key.organisation}）的签章证书")
    echo(f"  指纹 SHA-256  {key.fingerprint}")
    echo(f"  主题          {key.subject}")
    echo(f"  有效期        {when(key.not_before)} 至 {when(key.not_after)}")
    echo(f"  密钥文件      {key.key_path}")
    for old in key.retired:
        echo(f"  已停用旧证书  {old[:16]}…")


@keys_app.command(
    "init",
    help=_(
        "为调委会创建签名密钥（ECDSA P-256）和自签名证书；密钥文件用 MEDIATION_KEY_PASSPHRASE 中的口令保护，并成为该组织的有效密钥。\n\n示例：mediation keys init 青山 --days 1825"
    ),
)
@handled
def keys_init(
    org: Annotated[str, typer.Argument(help=_("组织代码，例如 青山。"))],
    days: Annotated[
        int, typer.Option("--days", min=1, max=36_500, help=_("证书有效天数。"))
    ] = 1825,
    key_dir: KeyDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a committee's signing key (ECDSA P-256) and self-signed certificate; the key
    file is protected by the passphrase in MEDIATION_KEY_PASSPHRASE and becomes the
    organisation's active key.

    Example: mediation keys init 青山 --days 1825
    """
    from mediation.documents.keys import passphrase_from_env

    passphrase = passphrase_from_env()
    with current_settings().api() as api:
        key = api.init_key(org, passphrase=passphrase, days=days, directory=key_dir)
    _key_result(key, json_out, "已创建")


@keys_app.command(
    "import",
    help=_(
        "把 CA 签发的 PKCS#12 登记为调委会的有效签名密钥；用 MEDIATION_KEY_PASSPHRASE 打开，并以该口令保护复制到密钥文件夹。\n\n示例：mediation keys import 青山 青山县调委会.p12"
    ),
)
@handled
def keys_import(
    org: Annotated[str, typer.Argument(help=_("组织代码，例如 青山。"))],
    file: Annotated[Path, typer.Argument(help=_("CA 签发的 PKCS#12 文件（.p12/.pfx）。"))],
    key_dir: KeyDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a CA-issued PKCS#12 as the committee's active signing key; it is opened with
    MEDIATION_KEY_PASSPHRASE and copied, protected by it, to the key folder.

    Example: mediation keys import 青山 青山县调委会.p12
    """
    from mediation.documents.keys import passphrase_from_env

    passphrase = passphrase_from_env()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise MediationError(
            _("无法读取 {path}：{why}").format(path=file, why=os_error(exc)),
            hint=_("请给出 .p12 文件的路径"),
        ) from None
    with current_settings().api() as api:
        key = api.import_key(org, data, passphrase=passphrase, source=file.name, directory=key_dir)
    _key_result(key, json_out, "已导入")


@keys_app.command(
    "list",
    help=_(
        "列出各调委会的签名证书（有效的和已停用的），每个一行。\n\n示例：mediation keys list --json"
    ),
)
@handled
def keys_list(json_out: JsonOpt = False) -> None:
    """List the committees' signing certificates (active and retired), one line each.

    Example: mediation keys list --json
    """
    from mediation.reporting.output import table, to_json, when

    with current_settings().api() as api:
        rows = api.keys()
    if json_out:
        echo(to_json(rows))
        return
    echo(
        table(
            [
                (
                    r["organisation"],
                    r["fingerprint"][:16],
                    "现用" if r["active"] else "已停用",
                    when(r["not_after"])[:10],
                    r["subject"],
                    r["key_path"],
                )
                for r in rows
            ],
            ["组织", "指纹", "状态", "有效期至", "主题", "密钥文件"],
        )
    )
