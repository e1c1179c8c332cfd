"""FHIR tests: every resource served is checked against the FHIR models of `fhir.resources`."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource`, after the FHIR R4 (R4B) model of its type accepted it (and every resource it
    holds, a Bundle's entries included); raises if it is not a valid resource."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        if "resource" in entry:
            valid(entry["resource"])
    return resource


FHIR = "/fhir/R4"
