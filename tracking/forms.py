from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ManualListenForm(forms.Form):
    """A listen added by hand; date and time are in the user's time zone."""

    track = forms.CharField(label=_("Track"), max_length=500)
    artist = forms.CharField(label=_("Artist"), max_length=500)
    album = forms.CharField(label=_("Album"), max_length=500, required=False)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(
        label=_("Time"), widget=forms.TimeInput(attrs={"type": "time", "step": 60})
    )

    def __init__(self, *args, tz=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("time"):
            local = datetime.combine(data["date"], data["time"]).replace(tzinfo=self.tz)
            if local > timezone.now() + timedelta(minutes=5):
                raise forms.ValidationError(_("That moment is in the future."))
            data["listened_at"] = local
        return data


class ConfirmForm(forms.Form):
    """A POST with nothing in it but the CSRF token: deleting needs a deliberate click."""
