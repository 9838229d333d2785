from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from musictracker.config import mask
from musictracker.models import Profile
from musictracker.timezones import choices as tz_choices


class FirstRunForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    password_again = forms.CharField(label=_("Password, again"), widget=forms.PasswordInput)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=tz_choices)

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password_again"):
            raise forms.ValidationError(_("The two passwords differ."))
        if data.get("password"):
            validate_password(data["password"], get_user_model()(username=data.get("username", "")))
        return data


class ProfileForm(forms.ModelForm):
    """Per-user settings. The Discogs token is never sent back to the browser: the field stays
    empty, shows the masked value as its placeholder, and an empty submission keeps the token."""

    time_zone = forms.ChoiceField(label=_("Time zone"), choices=tz_choices)
    discogs_token = forms.CharField(
        label=_("Discogs personal token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    clear_discogs_token = forms.BooleanField(label=_("Remove the saved token"), required=False)

    class Meta:
        model = Profile
        fields = ["lastfm_username", "discogs_username", "discogs_token", "time_zone", "language"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.discogs_token:
            self.fields["discogs_token"].widget.attrs["placeholder"] = mask(
                self.instance.discogs_token
            )
        self.fields["lastfm_username"].widget.attrs["autocomplete"] = "off"

    def clean_discogs_token(self):
        value = self.cleaned_data.get("discogs_token", "").strip()
        return value or self.instance.discogs_token

    def clean_lastfm_username(self):
        return self.cleaned_data.get("lastfm_username", "").strip()

    def clean_discogs_username(self):
        return self.cleaned_data.get("discogs_username", "").strip()

    def save(self, commit=True):
        profile = super().save(commit=False)
        if self.cleaned_data.get("clear_discogs_token"):
            profile.discogs_token = ""
        if commit:
            profile.save()
        return profile
