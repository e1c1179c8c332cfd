from django.urls import path

from practice.apis import MeApi

urlpatterns = [path("me/", MeApi.as_view(), name="me")]
