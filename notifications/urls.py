from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import SimpleRouter

from notifications import apis

router = SimpleRouter()
router.register("messages", apis.MessageViewSet, basename="message")
router.register("surgeries", apis.SurgeryViewSet, basename="surgery")
router.register("follow-ups", apis.FollowUpViewSet, basename="follow-up")

urlpatterns: list[URLPattern | URLResolver] = [
    path("worklist/", apis.WorklistApi.as_view(), name="worklist"),
    path("worklist/<int:pk>/resolve/", apis.WorklistResolveApi.as_view(), name="worklist-resolve"),
    path("", include(router.urls)),
]
