from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from rest_framework.test import APIClient

from practice.permissions import ADMINISTRATORS, SCHEDULERS

pytestmark = pytest.mark.django_db


def test_an_anonymous_request_gets_401_in_the_error_shape(anonymous_client: APIClient) -> None:
    response = anonymous_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert set(response.json()["error"]) >= {"code", "message", "fields"}


def test_a_token_from_username_and_password_authenticates(anonymous_client: APIClient) -> None:
    call_command("adduser", "sam", role="scheduler", password="a long enough password")
    response = anonymous_client.post(
        "/api/v1/auth/token/", {"username": "sam", "password": "a long enough password"}, format="json"
    )
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/me/").status_code == 200


def test_a_wrong_password_is_a_400_naming_no_user(anonymous_client: APIClient) -> None:
    call_command("adduser", "sam", role="scheduler", password="a long enough password")
    response = anonymous_client.post(
        "/api/v1/auth/token/", {"username": "sam", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_an_invalid_token_is_a_401(anonymous_client: APIClient) -> None:
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert anonymous_client.get("/api/v1/me/").status_code == 401


def test_both_roles_exist_after_migrating() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {ADMINISTRATORS, SCHEDULERS}


def test_adduser_gives_an_administrator_the_admin_site_and_a_scheduler_only_the_api() -> None:
    call_command("adduser", "ada", role="administrator", password="a long enough password")
    call_command("adduser", "sam", role="scheduler", password="a long enough password")
    ada, sam = User.objects.get(username="ada"), User.objects.get(username="sam")
    assert ada.is_staff and ada.groups.filter(name=ADMINISTRATORS).exists()
    assert not sam.is_staff and sam.groups.filter(name=SCHEDULERS).exists()


def test_adduser_run_twice_changes_the_password_and_keeps_one_user() -> None:
    call_command("adduser", "sam", role="scheduler", password="first password here")
    call_command("adduser", "sam", role="scheduler", password="second password here")
    assert User.objects.filter(username="sam").count() == 1
    assert User.objects.get(username="sam").check_password("second password here")
