from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ImageChoiceForm(forms.Form):
    """Pick one of the stored pictures, paste a URL, or go back to the automatic choice."""

    image = forms.IntegerField(required=False)
    url = forms.URLField(label=_("Or paste an image URL"), required=False, max_length=1000)
    automatic = forms.BooleanField(required=False)

    def clean_url(self):
        url = self.cleaned_data.get("url", "")
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(_("Use an http or https address."))
        return url

    def clean(self):
        data = super().clean()
        if not (data.get("image") or data.get("url") or data.get("automatic")):
            raise forms.ValidationError(_("Choose a picture or paste a URL."))
        return data
