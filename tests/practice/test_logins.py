"""API logins: the lockout after refused passwords, and hashed, expiring, revocable tokens."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from practice.logins import TooManyAttempts
from practice.models import AuthToken
from practice.services import user_create_or_update

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PASSWORD = "a long enough password"


@pytest.fixture
def sam() -> User:
    return user_create_or_update(username="sam", role="scheduler", password=PASSWORD)


def login(username: str = "sam", password: str = PASSWORD, ip: str = "10.0.0.1") -> tuple[int, dict, dict]:  # type: ignore[type-arg]
    response = APIClient(REMOTE_ADDR=ip).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    return response.status_code, response.json(), dict(response.headers)


def me(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/me/").status_code


def post_with(token: str, path: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.post(path).status_code


# --- Lockout ----------------------------------------------------------------------------------


def test_five_refused_logins_lock_the_username_with_429_and_retry_after(
    sam: User, caplog: pytest.LogCaptureFixture
) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        for attempt in range(5):
            # From a new address each time: the username alone locks.
            assert login(password="wrong password", ip=f"10.0.1.{attempt}")[0] == 400
            traveller.shift(dt.timedelta(minutes=1))
        with caplog.at_level("WARNING", logger="practice.logins"):
            status, body, headers = login(password="wrong password", ip="10.0.2.1")
    assert status == 429
    assert body["error"]["code"] == TooManyAttempts.code
    assert set(body["error"]) >= {"code", "message", "fields"}
    # The first failure (09:00) leaves the 15-minute window at 09:15; it is now 09:05.
    assert headers["Retry-After"] == "600"


def test_a_lockout_is_logged_without_the_password(sam: User, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="practice.logins"):
        for _ in range(5):
            login(password="guess-number-x")
    (record,) = [r for r in caplog.records if r.name == "practice.logins"]
    assert record.levelname == "WARNING"
    assert record.ip == "10.0.0.1"  # type: ignore[attr-defined]
    assert record.username_sha256 == hashlib.sha256(b"sam").hexdigest()[:16]  # type: ignore[attr-defined]
    assert "guess-number-x" not in caplog.text


def test_the_right_password_is_refused_while_locked_and_accepted_after_the_window(sam: User) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        for _ in range(5):
            login(password="wrong password")
        status, body, _ = login()
        assert status == 429
        assert "token" not in body
        traveller.shift(dt.timedelta(minutes=15, seconds=1))
        status, body, _ = login()
        assert status == 200
        assert me(body["token"]) == 200


def test_one_address_is_locked_out_across_usernames(sam: User) -> None:
    for number in range(5):
        assert login(username=f"guess{number}", password="wrong password", ip="10.9.9.9")[0] == 400
    assert login(ip="10.9.9.9")[0] == 429
    # The username itself is not locked: from another address sam logs in.
    assert login(ip="10.0.0.2")[0] == 200


def test_four_refused_logins_do_not_lock_and_a_success_forgives_the_username(sam: User) -> None:
    for attempt in range(4):
        login(password="wrong password", ip=f"10.0.3.{attempt}")
    assert login(ip="10.0.4.1")[0] == 200
    for attempt in range(4):
        login(password="wrong password", ip=f"10.0.5.{attempt}")
    assert login(ip="10.0.6.1")[0] == 200


# --- Tokens -----------------------------------------------------------------------------------


def test_two_logins_give_two_tokens_and_both_work(sam: User) -> None:
    first, second = login()[1]["token"], login()[1]["token"]
    assert first != second
    assert me(first) == 200 and me(second) == 200


def test_the_stored_token_is_a_hash_not_the_secret(sam: User) -> None:
    secret = login()[1]["token"]
    (stored,) = AuthToken.objects.filter(user=sam)
    assert stored.key_hash != secret
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert not AuthToken.objects.filter(key_hash=secret).exists()


def test_the_login_says_when_the_token_expires(sam: User) -> None:
    with time_machine.travel(NOW, tick=False):
        body = login()[1]
    assert dt.datetime.fromisoformat(body["expires_at"]) == NOW + dt.timedelta(hours=12)


def test_a_token_expires_after_twelve_idle_hours(sam: User) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        token = login()[1]["token"]
        traveller.shift(dt.timedelta(hours=11, minutes=59))
        assert me(token) == 200  # use renews the idle time
        traveller.shift(dt.timedelta(hours=11, minutes=59))
        assert me(token) == 200
        traveller.shift(dt.timedelta(hours=12))
        response = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.exists()


def test_a_token_expires_seven_days_after_login_however_much_it_is_used(sam: User) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        token = login()[1]["token"]
        for _ in range(16):
            traveller.shift(dt.timedelta(hours=10))
            assert me(token) == 200
        traveller.shift(dt.timedelta(hours=8, seconds=1))  # 7 days and a second after login
        assert me(token) == 401


def test_last_used_is_written_at_most_once_a_minute(sam: User) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        token = login()[1]["token"]
        traveller.shift(dt.timedelta(seconds=30))
        me(token)
        assert AuthToken.objects.get().last_used_at == NOW
        traveller.shift(dt.timedelta(seconds=30))
        me(token)
        assert AuthToken.objects.get().last_used_at == NOW + dt.timedelta(minutes=1)


def test_logout_revokes_only_the_token_in_use(sam: User) -> None:
    first, second = login()[1]["token"], login()[1]["token"]
    assert post_with(first, "/api/v1/auth/logout/") == 204
    assert me(first) == 401
    assert me(second) == 200


def test_logout_all_revokes_every_token_of_the_user_only(sam: User) -> None:
    user_create_or_update(username="ada", role="administrator", password=PASSWORD)
    first, second = login()[1]["token"], login()[1]["token"]
    other = login(username="ada")[1]["token"]
    assert post_with(first, "/api/v1/auth/logout-all/") == 204
    assert me(first) == 401 and me(second) == 401
    assert me(other) == 200


def test_logging_out_needs_a_login(anonymous_client: APIClient) -> None:
    assert anonymous_client.post("/api/v1/auth/logout/").status_code == 401
    assert anonymous_client.post("/api/v1/auth/logout-all/").status_code == 401


def test_changing_the_password_revokes_every_token(sam: User) -> None:
    token = login()[1]["token"]
    sam.set_password("another long password")
    sam.save()
    assert me(token) == 401


def test_resetting_a_login_with_the_service_revokes_its_tokens(sam: User) -> None:
    token = login()[1]["token"]
    user_create_or_update(username="sam", role="scheduler", password="another long password")
    assert me(token) == 401


def test_deactivating_the_user_revokes_every_token(sam: User) -> None:
    token = login()[1]["token"]
    sam.is_active = False
    sam.save(update_fields=["is_active"])
    assert not AuthToken.objects.exists()
    assert me(token) == 401


def test_other_changes_to_the_user_keep_the_tokens(sam: User) -> None:
    token = login()[1]["token"]
    sam.first_name = "Sam"
    sam.save()
    sam.save(update_fields=["last_login"])
    assert me(token) == 200


def test_the_admin_lists_logins_without_their_secrets(sam: User, client) -> None:  # type: ignore[no-untyped-def]
    secret = login()[1]["token"]
    login(username="nobody", password="wrong password")
    client.force_login(user_create_or_update(username="ada", role="administrator", password=PASSWORD))
    tokens = client.get("/admin/practice/authtoken/")
    assert tokens.status_code == 200
    assert b"sam" in tokens.content
    assert secret.encode() not in tokens.content
    assert AuthToken.objects.get(user=sam).key_hash.encode() not in tokens.content
    failures = client.get("/admin/practice/loginfailure/")
    assert failures.status_code == 200
    assert b"nobody" in failures.content


def test_the_schema_documents_the_lockout_and_both_logouts(scheduler_client: APIClient) -> None:
    paths = scheduler_client.get("/api/v1/schema/?format=json").json()["paths"]
    locked = paths["/api/v1/auth/token/"]["post"]["responses"]["429"]
    assert "Retry-After" in locked["headers"]
    assert "204" in paths["/api/v1/auth/logout/"]["post"]["responses"]
    assert "204" in paths["/api/v1/auth/logout-all/"]["post"]["responses"]


def test_a_forwarded_address_is_ignored_unless_a_proxy_of_ours_added_it(
    sam: User,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    names = iter(range(100))

    def refused(forwarded: str) -> int:
        # A new username each time: only the address can lock.
        return (
            APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
            .post("/api/v1/auth/token/", {"username": f"u{next(names)}", "password": "wrong"}, format="json")
            .status_code
        )

    # Without a trusted proxy, a new X-Forwarded-For each time does not dodge the lockout.
    assert [refused(f"192.0.2.{n}") for n in range(6)] == [400] * 5 + [429]
    settings.TRUSTED_PROXY_COUNT = 1
    # Behind one proxy, the entry it appended is the client: 203.0.113.7, not the spoofed one.
    assert [refused(f"198.51.100.{n}, 203.0.113.7") for n in range(5)] == [400] * 5
    assert refused("198.51.100.99, 203.0.113.7") == 429
    assert refused("203.0.113.8") == 400
