from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import SimpleRouter

from notifications import apis

router = SimpleRouter()
router.register("messages", apis.MessageViewSet, basename="message")

urlpatterns: list[URLPattern | URLResolver] = [
    path("worklist/", apis.WorklistApi.as_view(), name="worklist"),
    path("worklist/<int:pk>/resolve/", apis.WorklistResolveApi.as_view(), name="worklist-resolve"),
    path("", include(router.urls)),
]
