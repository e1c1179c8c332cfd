from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from practice.apis import AppointmentTypeViewSet, AuditEntryViewSet, MeApi, UrgencyTierViewSet

router = SimpleRouter()
router.register("appointment-types", AppointmentTypeViewSet, basename="appointment-type")
router.register("urgency-tiers", UrgencyTierViewSet, basename="urgency-tier")
router.register("audit", AuditEntryViewSet, basename="audit-entry")

urlpatterns: list[URLPattern | URLResolver] = [path("me/", MeApi.as_view(), name="me"), *router.urls]
