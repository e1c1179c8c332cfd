from django.urls import URLPattern, path

from notifications.visit_page import views

# Short on purpose: the link goes in a text (`PUBLIC_BASE_URL/v/<token>`).
urlpatterns: list[URLPattern] = [
    path("<str:token>", views.visit_page, name="visit-page"),
    path("<str:token>/confirm", views.visit_confirm, name="visit-page-confirm"),
    path("<str:token>/cancel", views.visit_cancel, name="visit-page-cancel"),
    path("<str:token>/times", views.visit_times, name="visit-page-times"),
]
