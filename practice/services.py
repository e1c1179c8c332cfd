"""Practice-wide writes."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import transaction

from practice.errors import InvalidInput
from practice.permissions import ADMINISTRATORS, ROLE_GROUPS


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
