from django.apps import AppConfig


class FhirApiConfig(AppConfig):
    # Not "fhir": the fhir.resources package (the tests' FHIR models) owns that top-level name.
    name = "fhir_api"
    verbose_name = "FHIR R4 scheduling"
