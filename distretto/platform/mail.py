"""E-mail: logged in development, sent by the outbox worker when SMTP is configured."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from flask import current_app

from distretto.platform import outbox

logger = logging.getLogger("distretto.mail")


def send_mail(to: str, subject: str, body: str, *, platform: bool = True) -> None:
    """Queue an e-mail in the current transaction.

    Without ``SMTP_HOST`` the message is written to the log at once, which is
    how invitation and reset links reach a developer; with it, the worker sends.
    """
    if not current_app.config.get("SMTP_HOST"):
        logger.warning("e-mail to %s: %s\n%s", to, subject, body)
        if current_app.testing:
            current_app.extensions.setdefault("distretto.sent_mail", []).append(
                {"to": to, "subject": subject, "body": body}
            )
        return
    outbox.enqueue("mail.send", {"to": to, "subject": subject, "body": body}, platform=platform)


@outbox.handler("mail.send")
def deliver(payload: dict[str, Any]) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message.set_content(payload["body"])
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=30) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)
