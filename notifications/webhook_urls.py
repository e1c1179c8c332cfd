from django.urls import URLPattern, path

from notifications.webhooks import TwilioInboundApi, TwilioStatusApi

urlpatterns: list[URLPattern] = [
    path("twilio/inbound/", TwilioInboundApi.as_view(), name="twilio-inbound"),
    path("twilio/status/", TwilioStatusApi.as_view(), name="twilio-status"),
]
