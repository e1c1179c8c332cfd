from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.callbacks import TWILIO_STATUSES
from notifications.local_webhooks import LocalWebhookError, status_report


class Command(BaseCommand):
    help = (
        "Report a text's delivery as Twilio's status callback would: a correctly signed request to a "
        "running service, for the message id the console backend printed. Prints its new status."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "message_id", type=int, help="Our message id (`SMS message=42 …` on the console)."
        )
        parser.add_argument("status", choices=sorted(TWILIO_STATUSES), help="Twilio's MessageStatus.")
        parser.add_argument(
            "--error-code", default="", help="Twilio's ErrorCode (21610: the carrier's STOP)."
        )
        parser.add_argument("--url", default=None, help="Where the service runs (default PUBLIC_BASE_URL).")

    def handle(
        self, *args: Any, message_id: int, status: str, error_code: str, url: str | None, **options: Any
    ) -> None:
        try:
            message = status_report(
                base_url=url or str(settings.PUBLIC_BASE_URL),
                message_id=message_id,
                status=status,
                error_code=error_code,
            )
        except LocalWebhookError as error:
            raise CommandError(str(error)) from error
        code = f" (error {message.error_code})" if message.error_code else ""
        self.stdout.write(f"message {message.pk} sid={message.provider_sid}: {message.status}{code}")
