from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import SimpleRouter

from booking.apis import (
    appointments,
    conflicts,
    holds,
    patients,
    referrals,
    reports,
    simulations,
    slots,
    surgeries,
    waitlist,
)

router = SimpleRouter()
router.register("patients", patients.PatientViewSet, basename="patient")
router.register("appointments", appointments.AppointmentViewSet, basename="appointment")
router.register("holds", holds.HoldViewSet, basename="hold")
router.register("waitlist", waitlist.WaitlistEntryViewSet, basename="waitlist-entry")
router.register("surgeries", surgeries.SurgeryViewSet, basename="surgery")
router.register("referrals", referrals.ReferralViewSet, basename="referral")
router.register("follow-ups", surgeries.FollowUpViewSet, basename="follow-up")

urlpatterns: list[URLPattern | URLResolver] = [
    path("slots/", slots.SlotListApi.as_view(), name="slot-list"),
    path("slots/earliest/", slots.SlotEarliestApi.as_view(), name="slot-earliest"),
    path("slots/check/", slots.SlotCheckApi.as_view(), name="slot-check"),
    path("reports/access/", reports.AccessReportApi.as_view(), name="report-access"),
    path("reports/simulate/", simulations.SimulationCreateApi.as_view(), name="simulation-create"),
    path("reports/simulate/<int:pk>/", simulations.SimulationDetailApi.as_view(), name="simulation-detail"),
    path(
        "reports/simulate/<int:pk>/chart/", simulations.SimulationChartApi.as_view(), name="simulation-chart"
    ),
    path("conflicts/", conflicts.ConflictListApi.as_view(), name="conflict-list"),
    path(
        "appointments/<int:pk>/confirm/",
        appointments.AppointmentConfirmApi.as_view(),
        name="appointment-confirm",
    ),
    path(
        "appointments/<int:pk>/cancel/",
        appointments.AppointmentCancelApi.as_view(),
        name="appointment-cancel",
    ),
    path(
        "appointments/<int:pk>/reschedule/",
        appointments.AppointmentRescheduleApi.as_view(),
        name="appointment-reschedule",
    ),
    path(
        "appointments/<int:pk>/check-in/",
        appointments.AppointmentCheckInApi.as_view(),
        name="appointment-check-in",
    ),
    path(
        "appointments/<int:pk>/complete/",
        appointments.AppointmentCompleteApi.as_view(),
        name="appointment-complete",
    ),
    path(
        "appointments/<int:pk>/no-show/",
        appointments.AppointmentNoShowApi.as_view(),
        name="appointment-no-show",
    ),
    path("", include(router.urls)),
]
