from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from practice.apis import HealthApi, TokenObtainApi

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenObtainApi.as_view(), name="token-obtain"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("practice.api_urls")),
    path("", include("locations.urls")),
    path("", include("booking.urls")),
    path("", include("notifications.urls")),
]

urlpatterns = [
    path("healthz", HealthApi.as_view(), name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("webhooks/", include("notifications.webhook_urls")),
]

handler404 = "practice.errors.json_404"
handler500 = "practice.errors.json_500"
