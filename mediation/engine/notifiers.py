"""Where the scheduler's reminders and overdue notices go: a log file and e-mail.

Configured by environment (docs/admin/scheduler.md, "Notifiers"):

- ``MEDIATION_NOTIFY_LOG``: a file that receives one JSON line per notification;
- ``MEDIATION_SMTP_HOST`` (and ``MEDIATION_SMTP_PORT``, default 25; ``MEDIATION_SMTP_FROM``;
  ``MEDIATION_SMTP_TO``, comma-separated; ``MEDIATION_SMTP_STARTTLS=1``;
  ``MEDIATION_SMTP_USER`` / ``MEDIATION_SMTP_PASSWORD``): e-mail over SMTP.

Messages name the case, the deadline and its legal basis, never a party's personal data.
"""

from __future__ import annotations

import json
import os
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from mediation.domain.clock import BUSINESS_TZ
from mediation.errors import UsageError
from mediation.i18n import _


class Notifier(Protocol):
    def send(self, subject: str, body: str, *, kind: str, at: datetime) -> None: ...


@dataclass
class LogFileNotifier:
    """Appends one JSON line per notification."""

    path: Path

    def send(self, subject: str, body: str, *, kind: str, at: datetime) -> None:
        line = {
            "at": at.astimezone(BUSINESS_TZ).isoformat(timespec="seconds"),
            "kind": kind,
            "subject": subject,
            "body": body,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")


@dataclass
class SmtpNotifier:
    """Sends each notification as a plain-text UTF-8 e-mail."""

    host: str
    port: int
    sender: str
    recipients: list[str]
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0

    def send(self, subject: str, body: str, *, kind: str, at: datetime) -> None:
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["X-Mediation-Kind"] = kind
        msg["Date"] = format_datetime(at)
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                if not self.starttls:
                    raise UsageError(
                        _("拒绝以未加密方式发送 SMTP 口令"),
                        hint=_("请设置 MEDIATION_SMTP_STARTTLS=1（或去掉 MEDIATION_SMTP_USER）"),
                    )
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)


def notifiers_from_env(environ: dict[str, str] | None = None) -> list[Notifier]:
    """The notifiers the environment configures (possibly none)."""
    env = dict(os.environ) if environ is None else environ
    out: list[Notifier] = []
    if env.get("MEDIATION_NOTIFY_LOG"):
        out.append(LogFileNotifier(Path(env["MEDIATION_NOTIFY_LOG"])))
    if env.get("MEDIATION_SMTP_HOST"):
        recipients = [r.strip() for r in env.get("MEDIATION_SMTP_TO", "").split(",") if r.strip()]
        if not recipients:
            raise UsageError(
                _("已设置 MEDIATION_SMTP_HOST，但 MEDIATION_SMTP_TO 为空"),
                hint="set MEDIATION_SMTP_TO=督办@example.org (comma-separated)",
            )
        try:
            port = int(env.get("MEDIATION_SMTP_PORT", "25"))
        except ValueError:
            raise UsageError(_("MEDIATION_SMTP_PORT 不是数字"), hint=_("例如 25 或 587")) from None
        out.append(
            SmtpNotifier(
                host=env["MEDIATION_SMTP_HOST"],
                port=port,
                sender=env.get("MEDIATION_SMTP_FROM", "mediation@localhost"),
                recipients=recipients,
                starttls=env.get("MEDIATION_SMTP_STARTTLS") == "1",
                user=env.get("MEDIATION_SMTP_USER"),
                password=env.get("MEDIATION_SMTP_PASSWORD"),
            )
        )
    return out
