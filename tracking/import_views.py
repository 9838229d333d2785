"""Settings section and views for importing export files and downloading the whole history."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from musictracker.models import Job
from tracking import exports
from tracking.imports import FORMATS
from tracking.uploads import UploadError, max_upload_bytes, queue_import, save_upload


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Export file"),
        help_text=gettext_lazy(
            "Spotify (Streaming_History_Audio_*.json), Last.fm (CSV or JSON), ListenBrainz (ZIP,"
            " JSON or JSONL) or a Music Tracker export."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,.jsonl,.csv,.zip"}),
    )


def section(request) -> dict:
    jobs = list(Job.objects.filter(user=request.user, kind=Job.Kind.IMPORT).order_by("-pk")[:5])
    return {
        "template": "settings/_imports.html",
        "form": ImportForm(),
        "jobs": jobs,
        "formats": list(FORMATS.values()),
        "max_mb": max_upload_bytes() // 2**20,
    }


@require_POST
def import_upload(request):
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose an export file to import."))
        return redirect("/settings/#h-imports")
    try:
        path, fmt = save_upload(user=request.user, uploaded=form.cleaned_data["file"])
    except UploadError as exc:
        messages.error(request, str(exc))
        return redirect("/settings/#h-imports")
    queue_import(user=request.user, path=path, label=form.cleaned_data["file"].name)
    messages.success(request, _("Import of %(format)s queued.") % {"format": FORMATS[fmt]})
    return redirect("/settings/#h-imports")


@require_GET
def export_download(request, fmt: str):
    from tracking.api import export_response

    if fmt not in exports.FORMATS:
        messages.error(request, _("Unknown export format."))
        return redirect("/settings/#h-imports")
    return export_response(request.user, fmt)
