"""Practice-wide writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.contrib.auth.models import Group, User
from django.db import models, transaction
from django.db.models import ProtectedError

from practice.errors import Conflict, InvalidInput
from practice.models import AppointmentType, UrgencyTier
from practice.permissions import ADMINISTRATORS, ROLE_GROUPS

_M = TypeVar("_M", bound=models.Model)


@transaction.atomic
def user_create_or_update(*, username: str, role: str, password: str) -> User:
    """Create a staff login with one role, or reset an existing one's role and password."""
    if role not in ROLE_GROUPS:
        raise InvalidInput.for_field("role", f"Unknown role {role!r}; use one of {', '.join(ROLE_GROUPS)}.")
    if not password:
        raise InvalidInput.for_field("password", "A password is required.")
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    # Administrators get the whole Django admin; schedulers work through the API.
    is_administrator = ROLE_GROUPS[role] == ADMINISTRATORS
    user.is_staff = is_administrator
    user.is_superuser = is_administrator
    user.save()
    user.groups.set([Group.objects.get(name=ROLE_GROUPS[role])])
    return user


# --- Reference data: appointment types, urgency tiers -----------------------------------------


class InUse(Conflict):
    code = "in_use"
    default_message = "Other records still refer to it; deactivate it instead."


def model_update(*, instance: _M, data: dict[str, Any], fields: Iterable[str]) -> _M:
    """Set the given fields from `data` (those present) and save them; the caller validates."""
    changed = [field for field in fields if field in data and getattr(instance, field) != data[field]]
    for field in changed:
        setattr(instance, field, data[field])
    if changed:
        instance.save(update_fields=changed)
    return instance


def instance_delete(*, instance: models.Model, what: str) -> None:
    """Delete a row, answering 409 (not a 500) when protected rows still refer to it."""
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as error:
        raise InUse(
            f"This {what} is still in use ({_protected_summary(error)}); deactivate it instead."
        ) from error


def _protected_summary(error: ProtectedError) -> str:
    names = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
    return ", ".join(names)


APPOINTMENT_TYPE_FIELDS = (
    "code",
    "name",
    "duration_minutes",
    "buffer_minutes",
    "min_notice_hours",
    "is_active",
)


@transaction.atomic
def appointment_type_create(
    *,
    code: str,
    name: str,
    duration_minutes: int,
    buffer_minutes: int = 0,
    min_notice_hours: int = 0,
    is_active: bool = True,
) -> AppointmentType:
    if AppointmentType.objects.filter(code=code).exists():
        raise InvalidInput.for_field("code", f"An appointment type with code {code!r} exists.")
    return AppointmentType.objects.create(
        code=code,
        name=name,
        duration_minutes=duration_minutes,
        buffer_minutes=buffer_minutes,
        min_notice_hours=min_notice_hours,
        is_active=is_active,
    )


@transaction.atomic
def appointment_type_update(*, appointment_type: AppointmentType, data: dict[str, Any]) -> AppointmentType:
    code = data.get("code")
    if code and AppointmentType.objects.filter(code=code).exclude(pk=appointment_type.pk).exists():
        raise InvalidInput.for_field("code", f"An appointment type with code {code!r} exists.")
    return model_update(instance=appointment_type, data=data, fields=APPOINTMENT_TYPE_FIELDS)


def appointment_type_delete(*, appointment_type: AppointmentType) -> None:
    instance_delete(instance=appointment_type, what="appointment type")


URGENCY_TIER_FIELDS = ("code", "name", "max_wait_days", "rank")


def _urgency_tier_validate(*, code: str | None, rank: int | None, exclude_id: int | None) -> None:
    others = UrgencyTier.objects.all() if exclude_id is None else UrgencyTier.objects.exclude(pk=exclude_id)
    if code is not None and others.filter(code=code).exists():
        raise InvalidInput.for_field("code", f"A tier with code {code!r} exists.")
    if rank is not None and others.filter(rank=rank).exists():
        raise InvalidInput.for_field(
            "rank", f"Another tier has rank {rank}; ranks order tiers, so each is unique."
        )


@transaction.atomic
def urgency_tier_create(*, code: str, name: str, max_wait_days: int, rank: int) -> UrgencyTier:
    _urgency_tier_validate(code=code, rank=rank, exclude_id=None)
    return UrgencyTier.objects.create(code=code, name=name, max_wait_days=max_wait_days, rank=rank)


@transaction.atomic
def urgency_tier_update(*, tier: UrgencyTier, data: dict[str, Any]) -> UrgencyTier:
    _urgency_tier_validate(code=data.get("code"), rank=data.get("rank"), exclude_id=tier.pk)
    return model_update(instance=tier, data=data, fields=URGENCY_TIER_FIELDS)


def urgency_tier_delete(*, tier: UrgencyTier) -> None:
    instance_delete(instance=tier, what="urgency tier")
