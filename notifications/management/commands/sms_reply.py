from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.local_webhooks import LocalWebhookError, reply_send


class Command(BaseCommand):
    help = (
        "Text the practice as a patient would: a correctly signed inbound webhook to a running "
        "service. Prints the TwiML it answers (the reply text, if any)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("phone", help="The patient's number, as stored (E.164: +13125550123).")
        parser.add_argument("body", help='What the patient texts: "YES", "C", "R", "STOP", "START", "HELP"…')
        parser.add_argument("--url", default=None, help="Where the service runs (default PUBLIC_BASE_URL).")

    def handle(self, *args: Any, phone: str, body: str, url: str | None, **options: Any) -> None:
        try:
            answer = reply_send(base_url=url or str(settings.PUBLIC_BASE_URL), from_number=phone, body=body)
        except LocalWebhookError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(answer)
