"""The PHI audit trail: who read or wrote which patient's data, through the API.

Views record during the request (`audit_record`, or `AuditedMixin` on a viewset); the
`AuditMiddleware` writes what was recorded in one multi-row INSERT once the response is ready.
Only successful responses of authenticated users are recorded: a 401, 403 or 404 showed nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from practice.models import AuditAction, AuditEntry

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_PENDING = "_audit_pending"

# DRF's viewset actions, as audit actions.
VIEWSET_ACTIONS = {
    "list": AuditAction.LIST,
    "retrieve": AuditAction.READ,
    "create": AuditAction.CREATE,
    "update": AuditAction.UPDATE,
    "partial_update": AuditAction.UPDATE,
    "destroy": AuditAction.DELETE,
}


def _http_request(request: Any) -> HttpRequest:
    """Django's request under DRF's: both see the same entries."""
    return getattr(request, "_request", request)


def request_id(request: Any) -> str:
    http = _http_request(request)
    rid = getattr(http, "audit_request_id", None)
    if rid is None:
        rid = (http.META.get(REQUEST_ID_HEADER) or "")[:64] or uuid.uuid4().hex
        http.audit_request_id = rid  # type: ignore[attr-defined]
    return str(rid)


def patient_id_of(obj: Any) -> int | None:
    """An object's patient, generically: its `patient_id`, or its surgery's."""
    patient_id = getattr(obj, "patient_id", None)
    if patient_id is None and hasattr(obj, "surgery"):
        patient_id = getattr(obj.surgery, "patient_id", None)
    return patient_id


def audit_record(
    request: Any,
    *,
    action: str,
    object_type: str | Callable[[Any], str],
    objects: Iterable[Any] = (),
    object_id_of: Callable[[Any], int | None] = lambda obj: obj.pk,
    patient_id_of: Callable[[Any], int | None] = patient_id_of,
    shown_in_refusal: bool = False,
) -> None:
    """Note that the request's user did `action` on `objects`: one row each, written at the end
    of the request. Nothing for an anonymous user. `object_type` is a name, or a function of the
    object when a list mixes kinds. `shown_in_refusal`: the request's 4xx answer shows these
    objects (a possible duplicate's match), so its entries are written even though it failed."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    http = _http_request(request)
    pending: _Pending | None = http.__dict__.get(_PENDING)
    if pending is None:
        pending = _Pending(
            user_id=user.pk,
            request_id=request_id(request),
            ip=http.META.get("REMOTE_ADDR") or None,
            at=timezone.now(),
        )
        http.__dict__[_PENDING] = pending
    pending.keep_on_refusal = pending.keep_on_refusal or shown_in_refusal
    pending.rows.extend(
        (
            action,
            object_type(obj) if callable(object_type) else object_type,
            object_id_of(obj),
            patient_id_of(obj),
        )
        for obj in objects
    )


@dataclass
class _Pending:
    """A request's entries: what they share, and per row (action, object type, object id,
    patient id)."""

    user_id: int
    request_id: str
    ip: str | None
    at: dt.datetime
    rows: list[tuple[str, str, int | None, int | None]] = field(default_factory=list)
    keep_on_refusal: bool = False


# One statement, the shared values once and the rest as three arrays: no Django model instances,
# no BEGIN/COMMIT around it (autocommit), 8 parameters whatever the rows. Measured by
# bench/audit.py: for a 20-patient list, bulk_create took 3.8 ms median, this takes ~0.9 ms.
_INSERT = """
    INSERT INTO practice_auditentry
        (user_id, request_id, ip, at, action, object_type, object_id, patient_id)
    SELECT %s, %s, %s::inet, %s, row.action, row.object_type, row.object_id, row.patient_id
    FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::bigint[])
        AS row(action, object_type, object_id, patient_id)
"""


def audit_discard(request: Any) -> None:
    """Forget the request's pending entries: the work they describe was rolled back (a keyed
    request replaying an earlier answer runs the work again, then undoes it)."""
    _http_request(request).__dict__.pop(_PENDING, None)


def audit_flush(request: HttpRequest) -> int:
    """Write the request's entries in one INSERT; how many."""
    pending: _Pending | None = request.__dict__.pop(_PENDING, None)
    if pending is None or not pending.rows:
        return 0
    if connection.vendor == "postgresql":
        actions, types, object_ids, patient_ids = (list(column) for column in zip(*pending.rows, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT,
                [
                    pending.user_id,
                    pending.request_id,
                    pending.ip,
                    pending.at,
                    actions,
                    types,
                    object_ids,
                    patient_ids,
                ],
            )
    else:
        AuditEntry.objects.bulk_create(
            AuditEntry(
                user_id=pending.user_id,
                request_id=pending.request_id,
                ip=pending.ip,
                at=pending.at,
                action=action,
                object_type=object_type,
                object_id=object_id,
                patient_id=patient_id,
            )
            for action, object_type, object_id, patient_id in pending.rows
        )
    return len(pending.rows)


class AuditMiddleware:
    """Writes the audit entries a request recorded, once its response is ready. A failed request
    (status 400 and above) writes none, as it showed or changed nothing, unless its refusal showed
    patient data (`audit_record(shown_in_refusal=True)`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        pending: _Pending | None = request.__dict__.get(_PENDING)
        if response.status_code < 400 or (pending is not None and pending.keep_on_refusal):
            audit_flush(request)
        else:
            request.__dict__.pop(_PENDING, None)
        if hasattr(request, "audit_request_id"):
            response.headers.setdefault("X-Request-ID", request.audit_request_id)
        return response


class AuditedMixin:
    """For a viewset over patient data: records each list, read and write it answers.

    A list records the page it returned; a read, update or delete the object it loaded; a create
    the object `audit_created(obj)` names (the view calls it). Set `audit_object_type`; override
    `audit_patient_id` when the patient is not `obj.patient_id` (or `obj.surgery.patient_id`).
    """

    audit_object_type: str
    request: Any

    def audit_patient_id(self, obj: Any) -> int | None:
        return patient_id_of(obj)

    def audit_object_id(self, obj: Any) -> int | None:
        return obj.pk

    def audit_object_type_of(self, obj: Any) -> str:
        return self.audit_object_type

    def _audit(self, objects: Iterable[Any], action: str) -> None:
        audit_record(
            self.request,
            action=action,
            object_type=self.audit_object_type_of,
            objects=objects,
            object_id_of=self.audit_object_id,
            patient_id_of=self.audit_patient_id,
        )

    def audit_created(self, obj: Any) -> None:
        self._audit([obj], AuditAction.CREATE)

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        if page is not None:
            self._audit(page, AuditAction.LIST)
        return page

    def get_object(self) -> Any:
        obj = super().get_object()  # type: ignore[misc]
        if _http_request(self.request).method == "OPTIONS":  # DRF's metadata loads it; shows nothing
            return obj
        action = VIEWSET_ACTIONS.get(getattr(self, "action", None) or "")
        if action is None:  # a plain APIView: its method says
            action = AuditAction.READ if self.request.method in ("GET", "HEAD") else AuditAction.UPDATE
        self._audit([obj], action)
        return obj
