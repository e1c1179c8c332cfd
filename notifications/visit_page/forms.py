"""The visit page's forms: plain HTML forms, checked here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from notifications.visit_page.services import CANCEL_REASONS

CANCEL_REASON_LABELS = {
    "better": _("I feel better and no longer need the visit"),
    "conflict": _("I can't come at this time"),
    "elsewhere": _("I am seeing another doctor"),
    "other": _("Another reason"),
}
assert CANCEL_REASON_LABELS.keys() == CANCEL_REASONS.keys()  # noqa: S101 (one list, two languages)


class BirthDateForm(forms.Form):
    """Day, month and year as three fields (GOV.UK's pattern): easy on a phone, no date picker."""

    day = forms.IntegerField(label=_("Day"), min_value=1, max_value=31)
    month = forms.TypedChoiceField(label=_("Month"), coerce=int, choices=[("", "—"), *sorted(MONTHS.items())])
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2100)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            try:
                data["date_of_birth"] = dt.date(data["year"], data["month"], data["day"])
            except (KeyError, ValueError) as error:
                raise forms.ValidationError(_("That date does not exist.")) from error
        return data


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you cancelling?"),
        choices=list(CANCEL_REASON_LABELS.items()),
        widget=forms.RadioSelect,
    )


class MoveForm(forms.Form):
    """One of the offered times, as "<surgeon id>@<UTC timestamp>"."""

    slot = forms.CharField(label=_("Choose a new time"))

    def clean_slot(self) -> tuple[int, dt.datetime]:
        surgeon, _at, stamp = self.cleaned_data["slot"].partition("@")
        try:
            return int(surgeon), dt.datetime.fromtimestamp(int(stamp), tz=dt.UTC)
        except (ValueError, OverflowError, OSError) as error:
            raise forms.ValidationError(_("Choose one of the times shown.")) from error
