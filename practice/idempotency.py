"""The Idempotency-Key header: a retried POST answers with its first response instead of acting twice.

The key's row is inserted, with the response, at the end of the transaction of the work it guards.
A request whose key already holds a live row rolls its work back and replays that row instead. A
second request with the same key blocks on the unique index until the first commits (PostgreSQL)
or on the write lock (SQLite's IMMEDIATE transaction), then rolls back and replays the first's
response; if the first rolled back, the second's work stands. So two concurrent requests never
both act, and a crash mid-request leaves no half-claimed key behind. Expired keys are deleted by
the beat task (`idempotency_keys_purge`), not by requests; a request takes over an expired one.

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

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from practice.audit import audit_discard
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


def _store(*, user: Any, key: str, fingerprint: str, response: Response) -> bool:
    """Record `response` as the outcome of `key`, in the work's transaction; False (nothing
    written) if a live record holds the key, committed by an earlier or a concurrent request.

    One statement, `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired RETURNING`: a record
    past its lifetime is taken over in place (the purge on beat deletes the rest), and a
    concurrent request's uncommitted record makes this one wait for its outcome on the unique
    index. Raw SQL because the ORM's upsert neither takes a WHERE nor says whether it wrote:
    a keyed booking was 23 statements and +3-11 ms over an unkeyed one with the DELETE of
    expired keys, the claim's savepoint, its INSERT and the later UPDATE."""
    now = timezone.now()
    body = storable(json.loads(json.dumps(response.data, cls=DjangoJSONEncoder)))
    field = IdempotencyKey._meta.get_field("response_body")
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    key_column = connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        # Only the table's and the columns' names are formatted in; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {table} (user_id, {key_column}, request_fingerprint, response_status,"  # noqa: S608
            " response_body, created_at) VALUES (%s, %s, %s, %s, %s, %s)"
            f" ON CONFLICT (user_id, {key_column}) DO UPDATE SET"
            " request_fingerprint = excluded.request_fingerprint,"
            " response_status = excluded.response_status, response_body = excluded.response_body,"
            f" created_at = excluded.created_at WHERE {table}.created_at < %s RETURNING id",
            [
                user.pk,
                key,
                fingerprint,
                response.status_code,
                field.get_db_prep_save(body, connection),
                now,
                now - IDEMPOTENCY_KEY_TTL,
            ],
        )
        return cursor.fetchone() is not None


def _live_record(*, user: Any, key: str) -> IdempotencyKey | None:
    cutoff = timezone.now() - IDEMPOTENCY_KEY_TTL
    return IdempotencyKey.objects.filter(user=user, key=key, created_at__gte=cutoff).first()


def _transaction_aborted() -> bool:
    """Whether PostgreSQL refuses every further statement of this transaction: a database error
    outside any savepoint (SQLite carries on after one)."""
    raw = connection.connection
    return (
        connection.vendor == "postgresql"
        and raw is not None
        and (raw.info.transaction_status == psycopg.pq.TransactionStatus.INERROR)
    )


ViewMethod = TypeVar("ViewMethod", bound=Callable[..., Response])


def idempotent(method: ViewMethod) -> ViewMethod:
    """Decorate an APIView's `post` so an Idempotency-Key header makes it safe to retry.

    The work runs first and its response is recorded last, in the same transaction (the work's
    own services keep their savepoints; the request adds no other). If the key already holds a
    live record, the work is rolled back and the record replayed: a retry acts on nothing, and
    of two concurrent requests with one key only the first to commit keeps its work."""

    @functools.wraps(method)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput.for_field(HEADER, f"Use 1 to {MAX_KEY_LENGTH} characters.")
        fingerprint = request_fingerprint(request)
        try:
            with transaction.atomic():
                try:
                    response = method(view, request, *args, **kwargs)
                    kept = True
                except Exception as error:  # noqa: BLE001 (rendered in the one error shape, as DRF would)
                    response = view.handle_exception(error)
                    # Not kept: a retry with this key acts afresh after a concurrent change.
                    kept = not isinstance(error, ConcurrentChange)
                kept = kept and response.status_code < status.HTTP_500_INTERNAL_SERVER_ERROR
                stored = kept and not _transaction_aborted()
                stored = stored and _store(
                    user=request.user, key=key, fingerprint=fingerprint, response=response
                )
                if not stored:
                    transaction.set_rollback(True)
                    audit_discard(request)  # what it would record was undone with the work
        except IntegrityError:
            # A check deferred to commit failed (a row the work refers to was deleted meanwhile):
            # the work and the key rolled back together, so a retry acts afresh.
            return view.handle_exception(ConcurrentChange())
        if stored:
            return response
        existing = _live_record(user=request.user, key=key)
        if existing is None:
            return response  # a 5xx or a concurrent change, rolled back: a retry acts afresh
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyKeyReused(fields={HEADER: [IdempotencyKeyReused.default_message]})
        return Response(
            existing.response_body,
            status=existing.response_status or status.HTTP_200_OK,
            headers={REPLAYED_HEADER: "true"},
        )

    return cast(ViewMethod, wrapper)


def idempotency_keys_purge(*, now: dt.datetime | None = None) -> int:
    """Delete keys past their lifetime; returns how many. Safe to run at any time."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
