"""Ways a text leaves the practice, chosen like Django's email backends by SMS_BACKEND.

`send(message)` returns the provider's id or raises `TransportError(..., permanent=bool)`;
provider quirks (which error codes are final) live in one hook per backend. Logs carry ids and
codes, never a message's body.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import sys
import threading
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from urllib.request import getproxies

import requests
from django.conf import settings
from requests.utils import should_bypass_proxies

if TYPE_CHECKING:
    from notifications.models import Message

logger = logging.getLogger(__name__)


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code


class Transport:
    def send(self, message: Message) -> str:
        raise NotImplementedError

    def find(self, message: Message, *, recorded: Collection[str] = ()) -> str | None:
        """The provider id of `message` if an earlier attempt already got it to the provider.

        Asked before resending a row whose worker died mid-send, since Twilio's create has no
        idempotency key. `recorded`: ids other rows hold already (a visit's two reminders read
        alike), never this row's. None: not found (or this backend cannot tell), so send it.
        """
        return None

    def status_callback_url(self, message: Message) -> str:
        base = str(settings.PUBLIC_BASE_URL).rstrip("/")
        return f"{base}/webhooks/twilio/status/?message={message.pk}"


class ConsoleTransport(Transport):
    """`make run`: texts go to stdout. Bodies and numbers only with DEBUG, so a production server
    deliberately set to console does not write patients' texts or numbers to its logs.

    SIDs are random (a UUID), not counted: every worker process and every restart would count
    from 1 again, and the SID column is unique."""

    def send(self, message: Message) -> str:
        sid = f"CONSOLE{uuid.uuid4().hex}"
        if settings.DEBUG:
            to, text = message.to, message.body
        else:
            to, text = f"…{message.to[-2:]}", f"<{len(message.body)} characters>"
        # The message id is ours, not the patient's: `manage.py sms_status` takes it.
        sys.stdout.write(f"SMS message={message.pk} sid={sid} to {to}: {text}\n")
        sys.stdout.flush()
        return sid


@dataclass(frozen=True)
class SentSms:
    sid: str
    message_id: int
    to: str
    body: str


class LocmemTransport(Transport):
    """Tests: texts are kept in `outbox`, in this process."""

    outbox: ClassVar[list[SentSms]] = []
    _lock = threading.Lock()
    _ids = itertools.count(1)

    def send(self, message: Message) -> str:
        with self._lock:
            sid = f"SMLOCMEM{next(self._ids):024d}"
            self.outbox.append(SentSms(sid=sid, message_id=message.pk, to=message.to, body=message.body))
        return sid

    def find(self, message: Message, *, recorded: Collection[str] = ()) -> str | None:
        with self._lock:
            return next((sms.sid for sms in self.outbox if sms.message_id == message.pk), None)


# Twilio error codes that no retry will fix.
TWILIO_PERMANENT_CODES = frozenset(
    {
        21211,  # invalid 'To' number
        21408,  # no permission to send to that region
        21610,  # the recipient replied STOP
        21612,  # the 'To' cannot be reached from this number
        21614,  # 'To' is not a mobile number
    }
)
TWILIO_OPTED_OUT_CODE = "21610"
# Twilio's clock and ours disagree a little; a match must still be from around our send.
CLOCK_SKEW = dt.timedelta(minutes=5)


class TwilioTransport(Transport):
    """The real twilio-python client, pointed at TWILIO_API_BASE_URL (a fake in tests)."""

    _local = threading.local()

    def _client(self) -> object:
        # One client (and so one pooled HTTP session) per thread: requests sessions are not
        # documented as thread-safe.
        key = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL)
        client = getattr(self._local, "clients", {}).get(key)
        if client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            base_url = str(settings.TWILIO_API_BASE_URL)
            # requests would re-read proxy and CA settings from the environment on every request
            # (a fifth of the worker's CPU per text); they are read once here instead.
            proxies = None if should_bypass_proxies(base_url, no_proxy=None) else getproxies() or None
            http_client = TwilioHttpClient(timeout=settings.SMS_SEND_TIMEOUT_SECONDS, proxy=proxies)
            assert http_client.session is not None  # noqa: S101 (pool_connections is on by default)
            http_client.session.trust_env = False
            http_client.session.verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            )
            client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
            client.api.base_url = base_url
            self._local.clients = {key: client}
        return client

    @staticmethod
    def is_permanent(*, status: int, code: int | None) -> bool:
        """The one place Twilio's quirks live: which failures are final."""
        if code in TWILIO_PERMANENT_CODES:
            return True
        if status == 429 or code == 20429 or status >= 500:
            return False
        # Any other 4xx is a request Twilio will refuse again, unchanged.
        return 400 <= status < 500

    def send(self, message: Message) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        sender: dict[str, str] = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        try:
            created = self._client().messages.create(  # type: ignore[attr-defined]
                to=message.to,
                body=message.body,
                status_callback=self.status_callback_url(message),
                **sender,
            )
        except TwilioRestException as error:
            code = str(error.code or error.status)
            raise TransportError(
                f"Twilio answered HTTP {error.status}",
                permanent=self.is_permanent(status=error.status, code=error.code),
                code=code,
            ) from error
        except requests.Timeout as error:
            # The POST may have reached Twilio: the retry asks `find` first.
            raise TransportError("Twilio did not answer in time", code="timeout") from error
        except (requests.RequestException, TwilioException) as error:
            raise TransportError(f"Twilio unreachable: {type(error).__name__}", code="network") from error
        return str(created.sid)

    def find(self, message: Message, *, recorded: Collection[str] = ()) -> str | None:
        from twilio.base.exceptions import TwilioException

        try:
            recent = self._client().messages.list(to=message.to, limit=50)  # type: ignore[attr-defined]
        except (requests.RequestException, TwilioException) as error:
            raise TransportError(f"Twilio lookup failed: {type(error).__name__}", code="network") from error
        since = message.created_at - CLOCK_SKEW
        for sent in recent:
            created = sent.date_created
            if (
                sent.body == message.body
                and str(sent.sid) not in recorded
                and (created is None or created >= since)
            ):
                return str(sent.sid)
        return None


_BACKENDS: dict[str, type[Transport]] = {
    "console": ConsoleTransport,
    "locmem": LocmemTransport,
    "twilio": TwilioTransport,
}


def get_transport() -> Transport:
    return _BACKENDS[settings.SMS_BACKEND]()
