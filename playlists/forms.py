"""Forms of the playlists pages; a generator's parameters form is built from its Param list."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from playlists import generators


class ParametersForm(forms.Form):
    """The fields of one generator, validated by `generators.clean_parameters` (one source of
    truth for ranges and defaults); `cleaned_data["parameters"]` holds the complete dict."""

    def __init__(self, generator: generators.Generator, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.generator = generator
        self.user = user
        for p in generator.params:
            common = {"label": p.label, "help_text": p.help, "required": False}
            if p.kind == "int":
                field = forms.IntegerField(min_value=p.min, max_value=p.max, **common)
                if p.default is not None:
                    field.widget.attrs["placeholder"] = str(p.default)
            elif p.kind == "choice":
                blank = [] if p.default is not None else [("", "—")]
                choices = blank + [(str(k), v) for k, v in p.choices]
                if p.name == "period":  # any past year, besides the named periods
                    year = timezone.now().year
                    choices += [(str(y), str(y)) for y in range(year - 1, year - 31, -1)]
                field = forms.ChoiceField(choices=choices, **common)
            elif p.kind == "prompt":
                common["required"] = True
                field = forms.CharField(
                    max_length=2000,
                    widget=forms.Textarea(
                        attrs={"rows": 3, "placeholder": _("calm piano for a rainy Sunday")}
                    ),
                    **common,
                )
            else:
                field = forms.CharField(max_length=300, **common)
            if p.default not in (None, "") and not self.is_bound:
                field.initial = p.default
            self.fields[p.name] = field

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["parameters"] = generators.clean_parameters(
                self.generator.key, dict(data), user=self.user
            )
        except generators.ParameterError as exc:
            self.add_error(exc.name if exc.name in self.fields else None, exc.message)
        return data


class NameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)


class AddTrackForm(forms.Form):
    track = forms.IntegerField(min_value=1)


class ReorderForm(forms.Form):
    order = forms.RegexField(regex=r"^\d+(,\d+)*$", max_length=20_000)

    def entry_ids(self) -> list[int]:
        return [int(x) for x in self.cleaned_data["order"].split(",")]


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", _("Up")), ("down", _("Down"))])
