"""Paging for every list in the API."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """?limit=&offset=, as everywhere. A limit past `max_limit` is capped: PostgreSQL refuses a
    LIMIT beyond 2^63 outright, which would be a 500."""

    max_limit = 500
