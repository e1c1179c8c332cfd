"""Mobile numbers as schedulers type them: national format for the practice's country
(PHONE_REGION) or international with a +; stored and returned in E.164."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.conf import settings
from phonenumber_field.serializerfields import PhoneNumberField


def mobile_number_hint(region: str | None = None) -> str:
    """The refusal, showing the two forms accepted, from an example mobile number of the region."""
    region = region or settings.PHONENUMBER_DEFAULT_REGION
    example = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(region)
    if example is None:  # a region without example numbers in phonenumbers' metadata
        return "Enter a mobile number with its country code, like +13125550142."
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    return f"Enter a mobile number like {national} or {international}."


class MobileNumberField(PhoneNumberField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error_messages["invalid"] = mobile_number_hint(self.region)
