"""/fhir/R4/: the FHIR R4 scheduling API (included by practice/urls.py)."""

from django.urls import URLPattern, URLResolver, path, re_path

from fhir_api import apis, capabilities, operations, publish
from fhir_api.http import fhir_not_found

_ID = "<str:id>"

urlpatterns: list[URLPattern | URLResolver] = [
    path("metadata", capabilities.MetadataApi.as_view(), name="fhir-metadata"),
    re_path(r"^Appointment/\$find$", operations.FindApi.as_view(), name="fhir-appointment-find"),
    re_path(r"^Appointment/\$hold$", operations.HoldApi.as_view(), name="fhir-appointment-hold"),
    re_path(r"^Appointment/\$book$", operations.BookApi.as_view(), name="fhir-appointment-book"),
    re_path(r"^\$bulk-publish$", publish.BulkPublishApi.as_view(), name="fhir-bulk-publish"),
    re_path(
        r"^\$bulk-publish/(?P<name>[a-z]+\.ndjson)$",
        publish.BulkPublishFileApi.as_view(),
        name="fhir-bulk-publish-file",
    ),
]
for _kind, _view in (
    ("Location", apis.LocationApi),
    ("Practitioner", apis.PractitionerApi),
    ("PractitionerRole", apis.PractitionerRoleApi),
    ("Schedule", apis.ScheduleApi),
    ("Slot", apis.SlotApi),
    ("Appointment", apis.AppointmentApi),
    ("Patient", apis.PatientApi),
):
    urlpatterns += [
        path(_kind, _view.as_view(), name=f"fhir-{_kind.lower()}-search"),
        path(f"{_kind}/{_ID}", _view.as_view(), name=f"fhir-{_kind.lower()}-read"),
    ]
# Last: any other path is an OperationOutcome 404.
urlpatterns.append(re_path(r"^", fhir_not_found))
