"""Roles are Django groups; these classes are what every view declares."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

ADMINISTRATORS = "administrators"
SCHEDULERS = "schedulers"
ROLE_GROUPS = {"administrator": ADMINISTRATORS, "scheduler": SCHEDULERS}


# Where a user loaded with its roles (token authentication) keeps the names of its role groups.
_ROLES_ATTRIBUTE = "_practice_role_groups"


def role_annotations(*, user_field: str) -> dict[str, Exists]:
    """Annotations saying whether the user in `user_field` is in each role's group, so that a
    query which loads a user (the token lookup) brings its roles along in the same round trip."""
    membership = User.groups.through.objects
    return {
        f"in_{group}": Exists(membership.filter(user_id=OuterRef(user_field), group__name=group))
        for group in ROLE_GROUPS.values()
    }


def user_roles_note(user: Any, *, row: Any) -> None:
    """Keep on `user`, for this request only, the role groups `role_annotations` read into `row`."""
    user_groups_note(user, groups=[group for group in ROLE_GROUPS.values() if getattr(row, f"in_{group}")])


def user_groups_note(user: Any, *, groups: Iterable[str]) -> None:
    """Keep on `user`, for this request only, which role groups it is in (read with the user)."""
    setattr(user, _ROLES_ATTRIBUTE, frozenset(groups))


def _has_role(user: Any, groups: list[str]) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    noted: frozenset[str] | None = getattr(user, _ROLES_ATTRIBUTE, None)
    if noted is not None:
        return not noted.isdisjoint(groups)
    return user.groups.filter(name__in=groups).exists()


def user_is_administrator(user: Any) -> bool:
    return _has_role(user, [ADMINISTRATORS])


def user_is_scheduler(user: Any) -> bool:
    """Schedulers book; administrators may do everything a scheduler does."""
    return _has_role(user, [ADMINISTRATORS, SCHEDULERS])


class IsAdministrator(BasePermission):
    message = "Only administrators may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_is_administrator(request.user)


class IsScheduler(BasePermission):
    """Schedulers and administrators."""

    message = "Only schedulers and administrators may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_is_scheduler(request.user)


class SchedulerReadsAdministratorWrites(BasePermission):
    """The practice's reference data: schedulers read it, administrators change it."""

    message = "Only administrators may change this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return user_is_scheduler(request.user)
        return user_is_administrator(request.user)
