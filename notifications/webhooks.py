"""Twilio's webhooks: inbound texts and delivery status. Each request must carry a valid
X-Twilio-Signature computed over PUBLIC_BASE_URL (what Twilio called, not the Host a proxy passed
on); a forged or missing one is a 403 and changes nothing. Both answer TwiML.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from notifications.callbacks import message_status_record
from notifications.inbound import inbound_receive
from practice.errors import InvalidInput

SIGNATURE_HEADER = "HTTP_X_TWILIO_SIGNATURE"


class HasTwilioSignature(BasePermission):
    message = "The request is not signed by Twilio."

    def has_permission(self, request: Request, view: Any) -> bool:
        signature = request.META.get(SIGNATURE_HEADER, "")
        if not signature or not settings.TWILIO_AUTH_TOKEN:
            return False
        if settings.TWILIO_AUTH_TOKEN == settings.LOCAL_TWILIO_AUTH_TOKEN and not local_replies_allowed():
            # The development token is public: anything signed with it is forged elsewhere.
            return False
        # The path below the app's script prefix: PUBLIC_BASE_URL carries any prefix Twilio calls.
        url = str(settings.PUBLIC_BASE_URL).rstrip("/") + request.get_full_path_info()
        return bool(RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, _form(request), signature))


def local_replies_allowed() -> bool:
    """Whether the known development token may sign: only in DEBUG, with texts printed."""
    return bool(settings.DEBUG) and settings.SMS_BACKEND == "console"


def _form(request: Request) -> QueryDict:
    return request.data if isinstance(request.data, QueryDict) else QueryDict("")


def _required(data: QueryDict, *names: str) -> dict[str, str]:
    values = {name: str(data.get(name, "")).strip() for name in names}
    refused = {name: ["This field is required."] for name, value in values.items() if not value}
    refused |= {
        name: ["Null characters are not allowed."] for name, value in values.items() if "\x00" in value
    }
    if refused:
        raise InvalidInput(fields=refused)
    return values


def _optional(data: QueryDict, name: str) -> str:
    # PostgreSQL text cannot hold NUL; Twilio never sends one, so it carries no meaning.
    return str(data.get(name, "") or "").replace("\x00", "")


def _message_id(value: str) -> int | None:
    # Our own id, from the StatusCallback URL we gave Twilio; anything else is no id.
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def twiml(reply: str = "") -> HttpResponse:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return HttpResponse(str(response), content_type="text/xml")


TWIML = OpenApiResponse(response=OpenApiTypes.STR, description="TwiML (text/xml): the reply, if any.")
FORGED = OpenApiResponse(description="Missing or forged X-Twilio-Signature: nothing changed.")
SIGNATURE = OpenApiParameter(
    "X-Twilio-Signature",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Twilio's HMAC-SHA1 of PUBLIC_BASE_URL + path and the form parameters.",
)


class TwilioInboundApi(APIView):
    """A patient texted the practice: STOP/START/HELP, YES or C to confirm, R to be called back;
    anything else goes to the schedulers' worklist."""

    authentication_classes: list[type] = []
    permission_classes = [HasTwilioSignature]
    parser_classes = [FormParser]

    @extend_schema(
        request=inline_serializer(
            "TwilioInbound",
            {
                "MessageSid": serializers.CharField(),
                "From": serializers.CharField(),
                "Body": serializers.CharField(),
            },
        ),
        parameters=[SIGNATURE],
        responses={200: TWIML, 403: FORGED},
        tags=["webhooks"],
        auth=[],
    )
    def post(self, request: Request) -> HttpResponse:
        data = _form(request)
        required = _required(data, "MessageSid", "From")
        reply = inbound_receive(
            provider_sid=required["MessageSid"][:64],
            from_number=required["From"][:20],
            body=_optional(data, "Body"),
        )
        return twiml(reply)


class TwilioStatusApi(APIView):
    """Twilio reports what became of a text (queued, sent, delivered, undelivered, failed)."""

    authentication_classes: list[type] = []
    permission_classes = [HasTwilioSignature]
    parser_classes = [FormParser]

    @extend_schema(
        request=inline_serializer(
            "TwilioStatus",
            {
                "MessageSid": serializers.CharField(),
                "MessageStatus": serializers.CharField(),
                "ErrorCode": serializers.CharField(required=False),
            },
        ),
        parameters=[
            SIGNATURE,
            OpenApiParameter("message", OpenApiTypes.INT, description="Our message id, set when sending."),
        ],
        responses={200: TWIML, 403: FORGED},
        tags=["webhooks"],
        auth=[],
    )
    def post(self, request: Request) -> HttpResponse:
        data = _form(request)
        required = _required(data, "MessageSid", "MessageStatus")
        message_status_record(
            provider_sid=required["MessageSid"][:64],
            status=required["MessageStatus"],
            error_code=_optional(data, "ErrorCode").strip(),
            message_id=_message_id(request.query_params.get("message", "")),
        )
        return twiml()
