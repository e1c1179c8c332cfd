"""The product's URLs, plus /bench/floor/: a DRF view that authenticates no one and does nothing,
answered through the same gunicorn, middleware and renderer as the API: the framework's floor."""

from typing import Any

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from practice.urls import urlpatterns as product


class Floor(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [path("bench/floor/", Floor.as_view()), *product]
