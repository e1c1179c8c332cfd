"""Twilio's side of the webhooks, to try replies and delivery reports without Twilio:
`manage.py sms_reply` and `manage.py sms_status` sign a form as Twilio does and post it to a
running service.

The signature is computed over PUBLIC_BASE_URL + path, which is what the webhook checks, whatever
address the request is actually sent to (`--url`: a local port behind a tunnel, a test server).
"""

from __future__ import annotations

import uuid

import requests
from django.conf import settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from notifications.models import Message


class LocalWebhookError(Exception):
    pass


def _signed_post(*, base_url: str, path: str, data: dict[str, str]) -> requests.Response:
    token = settings.TWILIO_AUTH_TOKEN
    if not token:
        raise LocalWebhookError(
            "TWILIO_AUTH_TOKEN is not set: set the service's token, or run with DEBUG=true and "
            "SMS_BACKEND=console, where both use the local development token."
        )
    signed_url = str(settings.PUBLIC_BASE_URL).rstrip("/") + path
    signature = RequestValidator(token).compute_signature(signed_url, data)
    try:
        return requests.post(
            base_url.rstrip("/") + path,
            data=data,
            headers={"X-Twilio-Signature": signature},
            timeout=10,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise LocalWebhookError(
            f"{base_url} did not answer ({type(error).__name__}): is the service running?"
        ) from error


def _checked(response: requests.Response) -> str:
    if response.status_code != 200:
        raise LocalWebhookError(f"the webhook answered HTTP {response.status_code}: {response.text[:500]}")
    return response.text


def reply_send(*, base_url: str, from_number: str, body: str) -> str:
    """Text the practice as the patient at `from_number` would; returns the TwiML answer."""
    data = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "From": from_number,
        "To": str(settings.TWILIO_FROM_NUMBER or settings.PRACTICE_PHONE),
        "Body": body,
    }
    return _checked(_signed_post(base_url=base_url, path=reverse("twilio-inbound"), data=data))


def status_report(*, base_url: str, message_id: int, status: str, error_code: str = "") -> Message:
    """Report what became of message `message_id`, as Twilio's status callback would; returns the
    row as the database holds it afterwards."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        raise LocalWebhookError(f"there is no message {message_id}")
    if not message.provider_sid:
        raise LocalWebhookError(
            f"message {message_id} has no provider SID: it has not been sent ({message.status})"
        )
    data = {"MessageSid": message.provider_sid, "MessageStatus": status}
    if error_code:
        data["ErrorCode"] = error_code
    path = f"{reverse('twilio-status')}?message={message.pk}"
    _checked(_signed_post(base_url=base_url, path=path, data=data))
    message.refresh_from_db()
    return message
