from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from practice.apis import ApiRootApi, HealthApi, LogoutAllApi, LogoutApi, TokenObtainApi
from practice.errors import api_not_found

api_v1: list[URLPattern | URLResolver] = [
    path("", ApiRootApi.as_view(), name="api-root"),
    path("auth/token/", TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/logout/", LogoutApi.as_view(), name="logout"),
    path("auth/logout-all/", LogoutAllApi.as_view(), name="logout-all"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("practice.api_urls")),
    path("", include("locations.urls")),
    path("", include("booking.urls")),
    path("", include("notifications.urls")),
    # Last: any other path under /api/v1/ is a JSON 404, with DEBUG on as well as off.
    re_path(r"^", api_not_found),
]

urlpatterns = [
    path("healthz", HealthApi.as_view(), name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("webhooks/", include("notifications.webhook_urls")),
    path("fhir/R4/", include("fhir_api.urls")),
    # The visit page a patient opens from a text's link: no login, the token is the key.
    path("v/", include("notifications.visit_page.urls")),
    # Any other FHIR version or path: a JSON 404 rather than an HTML page.
    re_path(r"^fhir(?:/|$)", api_not_found),
]

handler404 = "practice.errors.json_404"
handler500 = "practice.errors.json_500"
