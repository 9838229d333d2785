"""GET forms of the collection pages: they validate the URL's parameters into query filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from collection.models import CollectionItem
from collection.queries import DEFAULT_SORT, SORTS, GridFilters


class CollectionFilterForm(forms.Form):
    """Sort, filters, search and page of the Collection grid, all in the URL."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    q = forms.CharField(label=_("Search the collection"), required=False, max_length=200)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[(key, label) for key, (label, _order) in SORTS.items()],
    )
    support = forms.ChoiceField(
        label=_("Format"),
        required=False,
        choices=[("", _("All formats")), *CollectionItem.Support.choices],
    )
    genre = forms.CharField(label=_("Genre"), required=False, max_length=100)
    decade = forms.IntegerField(label=_("Decade"), required=False, min_value=1000, max_value=2100)
    never_played = forms.BooleanField(label=_("Never played"), required=False)
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, max_value=100_000)

    def clean_decade(self):
        decade = self.cleaned_data.get("decade")
        if decade is not None and decade % 10:
            raise forms.ValidationError(_("A decade is a year ending in 0, such as 1970."))
        return decade

    def filters(self) -> GridFilters:
        data = self.cleaned_data
        return GridFilters(
            sort=data.get("sort") or DEFAULT_SORT,
            support=data.get("support") or "",
            genre=(data.get("genre") or "").strip(),
            decade=data.get("decade"),
            never_played=bool(data.get("never_played")),
            q=(data.get("q") or "").strip(),
        )

    def error_text(self) -> str:
        """One readable sentence per bad parameter, naming the field."""
        parts = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else name
            parts.append(f"{label}: {' '.join(str(e) for e in errors)}")
        return " ".join(parts)
