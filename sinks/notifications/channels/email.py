"""Email over SMTP (smtplib; one connection per message, bounded by a timeout)."""

from __future__ import annotations

import hashlib
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from schemas.notifications import EmailRequested, NotificationRequest
from tessera.telemetry import mask

from ...exceptions import DeliveryError, DeliveryTimeoutError
from .. import templates
from ..config import SmtpConfig
from ..webhook_verify import ID_HEADER


def message_id(notification_id: str) -> str:
    """A stable Message-ID per notification: receivers can drop a re-sent duplicate."""
    digest = hashlib.sha256(notification_id.encode()).hexdigest()[:32]
    return f"<{digest}@tessera.notifications>"


class SmtpEmailChannel:
    name = "EMAIL"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def build(self, request: EmailRequested) -> EmailMessage:
        subject, body = templates.email(request.template, request.data)
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = request.to
        message["Subject"] = subject
        message["Date"] = formatdate(request.occurred_at / 1000, usegmt=True)
        message["Message-ID"] = message_id(request.notification_id)
        message[ID_HEADER] = request.notification_id
        message.set_content(body)
        return message

    def deliver(self, request: NotificationRequest) -> str:
        if not isinstance(request, EmailRequested):
            raise TypeError(type(request).__name__)
        message = self.build(request)
        config = self.config
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
                if config.starttls:
                    smtp.starttls()
                if config.username:
                    smtp.login(config.username, config.password)
                refused = smtp.send_message(message)
        except TimeoutError as exc:
            raise DeliveryTimeoutError(f"SMTP timeout: {exc}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(mask(f"recipient refused: {exc}"), retryable=False) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx: permanent (bad address, policy); 4xx: try again later.
            retryable = not 500 <= exc.smtp_code < 600
            raise DeliveryError(mask(f"SMTP {exc.smtp_code}"), retryable=retryable) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(mask(f"SMTP unavailable: {exc}")) from exc
        if refused:
            raise DeliveryError(mask(f"recipient refused: {refused}"), retryable=False)
        return str(message["Message-ID"])
