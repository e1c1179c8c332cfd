"""The Idempotency-Key header: a retried POST answers with its first response instead of acting twice.

The key is claimed by inserting its row in the same transaction as the work it guards. A second
request with the same key blocks on the unique index until the first commits (PostgreSQL) or on
the write lock (SQLite's IMMEDIATE transaction), then finds the stored response and replays it; if
the first rolled back, the second simply acts. So two concurrent requests never both act, and a
crash mid-request leaves no half-claimed key behind.

Responses below 500 are stored and replayed (a 409 stays a 409); a 5xx, or a 409 for a
concurrent change (ConcurrentChange), is rolled back with the work, so the client may retry. Keys are per user and live `IDEMPOTENCY_KEY_TTL`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from practice.errors import ConcurrentChange, DomainError, InvalidInput, storable
from practice.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_KEY_TTL = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255

# For extend_schema(parameters=[...]) on every view method decorated with @idempotent.
OPENAPI_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Optional. A retry with the same key and body replays the first response (same status) "
        "without acting again; the same key with a different body is a 422. Keys live 24 hours."
    ),
)


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_message = "This Idempotency-Key was already used with a different request."


def request_fingerprint(request: Request) -> str:
    """sha256 of method, path and the parsed body (key order and whitespace do not matter)."""
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _claim(*, user: Any, key: str, fingerprint: str) -> IdempotencyKey | None:
    """Claim `key` for this request, or return the finished record that already holds it.

    Call inside a transaction: the claim commits or rolls back with the work.
    """
    IdempotencyKey.objects.filter(
        user=user, key=key, created_at__lt=timezone.now() - IDEMPOTENCY_KEY_TTL
    ).delete()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(user=user, key=key, request_fingerprint=fingerprint)
    except IntegrityError:
        # Another request holds the key and has committed: read its outcome.
        existing = IdempotencyKey.objects.get(user=user, key=key)
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyKeyReused(fields={HEADER: [IdempotencyKeyReused.default_message]}) from None
        return existing
    return None


def _store(*, user: Any, key: str, response: Response) -> None:
    body = storable(json.loads(json.dumps(response.data, cls=DjangoJSONEncoder)))
    IdempotencyKey.objects.filter(user=user, key=key).update(
        response_status=response.status_code, response_body=body
    )


ViewMethod = TypeVar("ViewMethod", bound=Callable[..., Response])


def idempotent(method: ViewMethod) -> ViewMethod:
    """Decorate an APIView's `post` so an Idempotency-Key header makes it safe to retry."""

    @functools.wraps(method)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput.for_field(HEADER, f"Use 1 to {MAX_KEY_LENGTH} characters.")
        try:
            with transaction.atomic():
                existing = _claim(user=request.user, key=key, fingerprint=request_fingerprint(request))
                if existing is not None:
                    return Response(
                        existing.response_body,
                        status=existing.response_status or status.HTTP_200_OK,
                        headers={REPLAYED_HEADER: "true"},
                    )
                try:
                    with transaction.atomic():
                        response = method(view, request, *args, **kwargs)
                except Exception as error:  # noqa: BLE001 (rendered in the one error shape, as DRF would)
                    response = view.handle_exception(error)
                    if isinstance(error, ConcurrentChange):
                        transaction.set_rollback(True)  # not kept: a retry with this key acts afresh
                        return response
                if response.status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
                    transaction.set_rollback(True)
                    return response
                _store(user=request.user, key=key, response=response)
                return response
        except IntegrityError:
            # A check deferred to commit failed (a row the work refers to was deleted meanwhile):
            # the work and the key rolled back together, so a retry acts afresh.
            return view.handle_exception(ConcurrentChange())

    return cast(ViewMethod, wrapper)


def idempotency_keys_purge(*, now: dt.datetime | None = None) -> int:
    """Delete keys past their lifetime; returns how many. Safe to run at any time."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
