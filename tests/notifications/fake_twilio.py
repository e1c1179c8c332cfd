"""A fake Twilio on 127.0.0.1 speaking the Messages API, for tests and the benchmark.

It answers what the real twilio-python client sends: a form-encoded POST to
/2010-04-01/Accounts/{Sid}/Messages.json with Basic auth (201 and a message JSON) and the list
GET (filtered by To). It records every accepted text, and can be told to answer 429, 500 or a
Twilio error (21211, 21610, 21614) for the next requests or for one number, to be down (every
request answered with an error until it recovers), or to take its time answering a send.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-twilio-auth-token"
FROM_NUMBER = "+13125550199"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")
ERRORS = {
    21211: (400, "The 'To' number is not a valid phone number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
}


@dataclass
class Received:
    sid: str
    account_sid: str
    to: str
    from_: str
    messaging_service_sid: str
    body: str
    status_callback: str
    received_at: float  # time.time()
    date_created: dt.datetime


@dataclass
class FakeTwilio:
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._hold_after: int | None = None
        self._released = threading.Event()
        self._released.set()
        self._failures: list[int] = []
        self._by_number: dict[str, int] = {}
        self._outage: int | None = None
        # Seconds a send waits, after the text is accepted, before it is answered.
        self.latency = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are two writes: without this, Nagle and delayed ACKs add 40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._post(self)

            def do_GET(self) -> None:
                fake._get(self)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.requests.clear()
            self._failures.clear()
            self._by_number.clear()
            self._outage = None
        self.latency = 0.0
        self.release()

    def fail_next(self, code: int, times: int = 1) -> None:
        """Answer the next `times` sends with this Twilio error code (see ERRORS)."""
        with self._lock:
            self._failures.extend([code] * times)

    def down(self, code: int = 20503) -> None:
        """An outage: every request, send or lookup, is answered with this error until `up()`."""
        with self._lock:
            self._outage = code

    def up(self) -> None:
        with self._lock:
            self._outage = None

    def hold_after(self, count: int) -> None:
        """Once `count` texts are in, accept further ones but answer them only on `release()`:
        the sender is stuck mid-send with its text already at Twilio, deterministically."""
        with self._lock:
            self._hold_after = count
            self._released.clear()

    def release(self) -> None:
        with self._lock:
            self._hold_after = None
        self._released.set()

    def fail_number(self, number: str, code: int) -> None:
        with self._lock:
            self._by_number[number] = code

    def bodies_to(self, number: str) -> list[str]:
        with self._lock:
            return [sms.body for sms in self.received if sms.to == number]

    # --- HTTP --------------------------------------------------------------------------------

    def _authorised(self, handler: BaseHTTPRequestHandler, account_sid: str) -> bool:
        expected = base64.b64encode(f"{account_sid}:{AUTH_TOKEN}".encode()).decode()
        return handler.headers.get("Authorization", "") == f"Basic {expected}" and account_sid == ACCOUNT_SID

    def _answer(self, handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _error(self, handler: BaseHTTPRequestHandler, code: int, status: int | None = None) -> None:
        http_status, text = ERRORS.get(code, (status or 400, "Error"))
        self._answer(
            handler,
            status or http_status,
            {
                "code": code,
                "message": text,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status or http_status,
            },
        )

    def _post(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlparse(handler.path).path
        length = int(handler.headers.get("Content-Length", "0"))
        form = {key: values[0] for key, values in parse_qs(handler.rfile.read(length).decode()).items()}
        match = _MESSAGES.match(path)
        with self._lock:
            self.requests.append(("POST", path))
        if match is None:
            self._error(handler, 20404, 404)
            return
        if not self._authorised(handler, match["sid"]):
            self._error(handler, 20003, 401)
            return
        to = form.get("To", "")
        if not to or not (form.get("From") or form.get("MessagingServiceSid")) or not form.get("Body"):
            self._error(handler, 21602 if not form.get("Body") else 21604, 400)
            return
        with self._lock:
            failure = self._outage or (self._failures.pop(0) if self._failures else self._by_number.get(to))
        if failure is not None:
            self._error(handler, failure)
            return
        now = dt.datetime.now(dt.UTC)
        sms = Received(
            sid="SM" + uuid.uuid4().hex,
            account_sid=match["sid"],
            to=to,
            from_=form.get("From", ""),
            messaging_service_sid=form.get("MessagingServiceSid", ""),
            body=form["Body"],
            status_callback=form.get("StatusCallback", ""),
            received_at=time.time(),
            date_created=now,
        )
        with self._lock:
            self.received.append(sms)
            hold = self._hold_after is not None and len(self.received) > self._hold_after
        if hold:
            self._released.wait(timeout=300)
        if self.latency:
            time.sleep(self.latency)
        self._answer(handler, 201, self._resource(sms))

    def _get(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(handler.path)
        match = _MESSAGES.match(parsed.path)
        with self._lock:
            self.requests.append(("GET", parsed.path))
        if match is None:
            self._error(handler, 20404, 404)
            return
        if not self._authorised(handler, match["sid"]):
            self._error(handler, 20003, 401)
            return
        if self._outage is not None:
            self._error(handler, self._outage)
            return
        to = parse_qs(parsed.query).get("To", [""])[0]
        with self._lock:
            found = [self._resource(sms) for sms in reversed(self.received) if not to or sms.to == to]
        self._answer(
            handler,
            200,
            {
                "messages": found[:50],
                "page": 0,
                "page_size": 50,
                "first_page_uri": parsed.path,
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": parsed.path,
                "start": 0,
                "end": len(found),
            },
        )

    @staticmethod
    def _resource(sms: Received) -> dict[str, Any]:
        created = format_datetime(sms.date_created, usegmt=True)
        return {
            "sid": sms.sid,
            "account_sid": sms.account_sid,
            "to": sms.to,
            "from": sms.from_ or None,
            "messaging_service_sid": sms.messaging_service_sid or None,
            "body": sms.body,
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": created,
            "date_updated": created,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{sms.account_sid}/Messages/{sms.sid}.json",
            "subresource_uris": {},
        }
