from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from locations.apis import (
    BlockViewSet,
    ClosureViewSet,
    LocationHoursApi,
    LocationViewSet,
    SurgeonViewSet,
    TimeOffViewSet,
)

router = SimpleRouter()
router.register("locations", LocationViewSet, basename="location")
router.register("surgeons", SurgeonViewSet, basename="surgeon")

_list: dict[str, Any] = {"get": "list", "post": "create"}
_detail_read_delete: dict[str, Any] = {"get": "retrieve", "delete": "destroy"}
_detail: dict[str, Any] = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path("locations/<int:location_id>/hours/", LocationHoursApi.as_view(), name="location-hours"),
    path("locations/<int:location_id>/closures/", ClosureViewSet.as_view(_list), name="closure-list"),
    path(
        "locations/<int:location_id>/closures/<int:pk>/",
        ClosureViewSet.as_view(_detail_read_delete),
        name="closure-detail",
    ),
    path("surgeons/<int:surgeon_id>/blocks/", BlockViewSet.as_view(_list), name="block-list"),
    path("surgeons/<int:surgeon_id>/blocks/<int:pk>/", BlockViewSet.as_view(_detail), name="block-detail"),
    path("surgeons/<int:surgeon_id>/time-off/", TimeOffViewSet.as_view(_list), name="time-off-list"),
    path(
        "surgeons/<int:surgeon_id>/time-off/<int:pk>/",
        TimeOffViewSet.as_view(_detail_read_delete),
        name="time-off-detail",
    ),
]
