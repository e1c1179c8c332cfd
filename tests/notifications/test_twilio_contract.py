"""The contract: what our Twilio backend sends is valid against Twilio's own OpenAPI description.

`make test` installs, from the npm registry into the git-ignored .tools/, Stoplight Prism and
Twilio's description (twilio-oai's twilio_api_v2010.json, as the pinned @twilio-alpha/mcp package
ships it); here Prism serves that description as a mock and the real twilio-python client talks to it.
Prism refuses (422) any request the description does not allow, so such a request fails here.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import time_machine

from notifications import reactions, sending
from notifications.models import Message, MessageKind, MessageStatus
from notifications.transports import TransportError, TwilioTransport
from tests.factories import AppointmentFactory, PatientFactory
from tests.notifications.conftest import MONDAY_MORNING
from tests.notifications.processes import ROOT, free_port, stop, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PRISM = ROOT / ".tools" / "prism" / "node_modules" / ".bin" / "prism"
SPEC = ROOT / ".tools" / "twilio-oai" / "twilio_api_v2010.json"


@pytest.fixture(scope="module")
def prism() -> Iterator[str]:
    assert PRISM.exists(), f"{PRISM} is missing: `make test` installs it (npm install @stoplight/prism-cli@5)"
    assert SPEC.exists(), f"{SPEC} is missing: `make test` installs it (npm pack @twilio-alpha/mcp)"
    port = free_port()
    process = subprocess.Popen(
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            requests.get(url, timeout=0.5)
        except requests.RequestException:
            return False
        return True

    try:
        assert wait_until(answers, timeout=60, interval=0.25), "prism did not start"
        yield url
    finally:
        stop(process)


@pytest.fixture
def via_prism(prism: str, settings: Any) -> None:
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = prism


def _confirmation(**patient: Any) -> Message:
    with time_machine.travel(MONDAY_MORNING, tick=False):
        appointment = AppointmentFactory(patient=PatientFactory(**patient))
        reactions.visit_booked(appointment=appointment)
    return Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)


@pytest.mark.usefixtures("via_prism")
def test_a_confirmation_is_a_valid_create_message_request() -> None:
    message = _confirmation()
    with time_machine.travel(MONDAY_MORNING, tick=False):
        sending.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED, (message.error_code, message.error_message)
    assert message.provider_sid and message.provider_sid.startswith("SM")


@pytest.mark.usefixtures("via_prism")
def test_a_text_sent_through_a_messaging_service_is_valid_too(settings: Any) -> None:
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "a" * 32
    message = _confirmation()
    with time_machine.travel(MONDAY_MORNING, tick=False):
        sending.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED, (message.error_code, message.error_message)


@pytest.mark.usefixtures("via_prism")
def test_the_lookup_before_a_resend_is_a_valid_list_request() -> None:
    message = _confirmation()
    # Prism answers with its example message, which is not ours: not found, so send.
    assert TwilioTransport().find(message) is None


@pytest.mark.usefixtures("via_prism")
def test_a_request_the_description_forbids_is_refused_as_permanent(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "not a url"  # so the StatusCallback is malformed
    message = _confirmation()
    with pytest.raises(TransportError) as refused:
        TwilioTransport().send(message)
    assert refused.value.permanent
    assert refused.value.code == "422"
