"""Roles are Django groups; these classes are what every view declares."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

ADMINISTRATORS = "administrators"
SCHEDULERS = "schedulers"
ROLE_GROUPS = {"administrator": ADMINISTRATORS, "scheduler": SCHEDULERS}


def _has_role(user: Any, groups: list[str]) -> bool:
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser) or user.groups.filter(name__in=groups).exists()


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
