"""`manage.py sms_reply` and `sms_status`: Twilio's signed webhooks, sent by hand to a running
service (here pytest-django's live server), so replies can be tried without Twilio."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.management import CommandError, call_command
from pytest_django.live_server_helper import LiveServer
from twilio.request_validator import RequestValidator

from booking.models import Patient
from notifications import local_webhooks, reactions
from notifications.models import InboundMessage, Message, MessageKind, MessageStatus
from notifications.transports import ConsoleTransport
from tests.factories import AppointmentFactory, PatientFactory

# The live server answers from another thread: rows must be committed, and the tables (with the
# tiers a migration seeds) restored afterwards for the tests that follow.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(__file__).resolve().parents[2]


def _run(command: str, *args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, **options)
    return out.getvalue()


def test_a_reply_sent_by_the_command_is_accepted_and_its_answer_printed(
    live_server: LiveServer, settings: Any
) -> None:
    patient = PatientFactory()
    printed = _run("sms_reply", str(patient.phone), "HELP", url=live_server.url)
    assert "<Response><Message>" in printed
    assert settings.PRACTICE_PHONE in printed
    assert InboundMessage.objects.get(patient=patient).body == "HELP"


def test_a_stop_sent_by_the_command_opts_the_patient_out(live_server: LiveServer) -> None:
    patient = PatientFactory()
    _run("sms_reply", str(patient.phone), "STOP", url=live_server.url)
    assert Patient.objects.get(pk=patient.pk).sms_opted_out_at is not None


def test_a_status_sent_by_the_command_records_the_delivery_of_a_console_text(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str], settings: Any
) -> None:
    settings.DEBUG = False
    appointment = AppointmentFactory()
    reactions.visit_booked(appointment=appointment)
    message = Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
    sid = ConsoleTransport().send(message)
    assert f"SMS message={message.pk} sid={sid} to " in capsys.readouterr().out
    Message.objects.filter(pk=message.pk).update(provider_sid=sid, status=MessageStatus.SENT)

    printed = _run("sms_status", str(message.pk), "delivered", url=live_server.url)
    assert printed.strip() == f"message {message.pk} sid={sid}: delivered"
    assert Message.objects.get(pk=message.pk).status == MessageStatus.DELIVERED


def test_a_status_for_a_text_never_sent_is_refused_before_anything_is_posted(
    live_server: LiveServer,
) -> None:
    appointment = AppointmentFactory()
    reactions.visit_booked(appointment=appointment)
    message = Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
    with pytest.raises(CommandError, match="no provider SID"):
        _run("sms_status", str(message.pk), "delivered", url=live_server.url)


def test_a_reply_signed_with_another_token_is_refused_by_the_webhook(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command and the server share this process's settings: the command's signer is given
    a token the server does not hold. The service's 403 is reported and nothing changes."""
    patient = PatientFactory()
    monkeypatch.setattr(
        local_webhooks, "RequestValidator", lambda token: RequestValidator("not-the-server-token")
    )
    with pytest.raises(CommandError, match="HTTP 403"):
        _run("sms_reply", str(patient.phone), "STOP", url=live_server.url)
    assert Patient.objects.get(pk=patient.pk).sms_opted_out_at is None
    assert not InboundMessage.objects.exists()


def test_an_unsigned_reply_is_refused_by_the_webhook(live_server: LiveServer) -> None:
    patient = PatientFactory()
    response = requests.post(
        f"{live_server.url}/webhooks/twilio/inbound/",
        data={"MessageSid": "SMUNSIGNED", "From": str(patient.phone), "Body": "STOP"},
        timeout=10,
    )
    assert response.status_code == 403
    assert Patient.objects.get(pk=patient.pk).sms_opted_out_at is None


@pytest.mark.parametrize(
    ("debug", "backend", "accepted"),
    [(True, "console", True), (False, "console", False), (True, "locmem", False), (True, "twilio", False)],
)
def test_the_local_development_token_signs_only_with_debug_and_the_console_backend(
    live_server: LiveServer, settings: Any, debug: bool, backend: str, accepted: bool
) -> None:
    """Even configured by mistake as a real server's token, the known one opens nothing there."""
    settings.TWILIO_AUTH_TOKEN = settings.LOCAL_TWILIO_AUTH_TOKEN
    settings.DEBUG = debug
    settings.SMS_BACKEND = backend
    patient = PatientFactory()
    if accepted:
        assert "<Response" in _run("sms_reply", str(patient.phone), "STOP", url=live_server.url)
    else:
        with pytest.raises(CommandError, match="HTTP 403"):
            _run("sms_reply", str(patient.phone), "STOP", url=live_server.url)
    assert (Patient.objects.get(pk=patient.pk).sms_opted_out_at is not None) is accepted


def _token_with(**variables: str) -> str:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("TWILIO_", "DEBUG", "SMS_"))
    }
    env.update({"DJANGO_SETTINGS_MODULE": "practice.settings", "SECRET_KEY": "x", **variables})
    code = "from django.conf import settings; print(repr(settings.TWILIO_AUTH_TOKEN))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_only_debug_with_console_texts_gets_the_local_token_by_default() -> None:
    assert _token_with(DEBUG="true") == repr("local-development-only-not-a-secret")
    assert _token_with(SMS_BACKEND="console") == repr("")
    assert _token_with(DEBUG="true", SMS_BACKEND="console", TWILIO_AUTH_TOKEN="mine") == repr("mine")
