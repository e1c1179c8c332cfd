"""The API's token authentication: `Authorization: Token <secret>`, checked against hashed,
expiring tokens (practice.logins) instead of rest_framework.authtoken's plain, eternal keys."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's header parsing and its 401 with `WWW-Authenticate: Token`; our own token lookup."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        # Imported here: DRF imports this class while practice.errors is itself importing DRF.
        from practice.logins import token_authenticate

        token = token_authenticate(secret=key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        return token.user, token
