"""Collection grid, album and artist pages, and search. Reads come from collection.queries."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from collection import discogs_sync, queries
from collection.charts import month_bars
from collection.forms import CollectionFilterForm
from collection.models import Album, Artist
from musictracker import config

SEARCH_QUERY_MAX = 200


def _page_size() -> int:
    try:
        return max(1, int(config.get("general.collection_page_size") or 60))
    except (TypeError, ValueError):
        return 60


def _query_without(params: QueryDict, *names: str) -> str:
    """The current filters as a query string, minus some parameters (for page links)."""
    kept = params.copy()
    for name in names:
        kept.pop(name, None)
    return kept.urlencode()


@require_GET
def collection_list(request: HttpRequest) -> HttpResponse:
    form = CollectionFilterForm(request.GET)
    context = {"form": form, "error": "", "grid": None, "sorts": queries.SORTS}
    status = 200
    if form.is_valid():
        filters = form.filters()
        number = form.cleaned_data.get("page") or 1
        try:
            context["grid"] = queries.collection_grid(
                user=request.user, filters=filters, page=number, per_page=_page_size()
            )
        except queries.PageOutOfRange as exc:
            # A message and a link to the last page, answered 200 like any list state: a page
            # past the end is a stale link (the collection shrank), not a missing resource,
            # and htmx swaps only 2xx answers, so a 404 would leave the pager's click silent.
            context["error"] = _("There is no page %(n)d: these records fill %(pages)d.") % {
                "n": number,
                "pages": exc.pages,
            }
            context["last_page"] = exc.pages
    else:
        filters = queries.GridFilters()
        status = 400
        context["error"] = _("Some filters in the address are not valid. %(detail)s") % {
            "detail": form.error_text()
        }
    context["filters"] = filters
    context["query"] = _query_without(request.GET, "page")
    template = "collection/collection_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#grid"
    else:
        context["facets"] = queries.collection_facets(user=request.user)
    return render(request, template, context, status=status)


@require_GET
def album_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        page = queries.album_page(user=request.user, album_id=pk)
    except Album.DoesNotExist:
        raise Http404(_("No album with this number."))
    context = {"page": page, "album": page.album, "metadata": page.metadata}
    return render(request, "collection/album_detail.html", context)


@require_GET
def artist_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        page = queries.artist_page(user=request.user, artist_id=pk)
    except Artist.DoesNotExist:
        raise Http404(_("No artist with this number."))
    context = {"page": page, "artist": page.artist, "chart": month_bars(page.months)}
    return render(request, "collection/artist_detail.html", context)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:SEARCH_QUERY_MAX]
    suggest = request.GET.get("suggest") == "1"
    if suggest and not q:
        return HttpResponse("")  # nothing typed: the suggestion list closes
    limit = 5 if suggest else 25
    results = queries.search(user=request.user, query=q, limit=limit)
    if suggest:
        return render(request, "collection/_search_suggest.html", {"results": results, "q": q})
    return render(request, "collection/search.html", {"results": results, "q": q})


def discogs_settings_section(request) -> dict:
    """The Discogs section of Settings (musictracker.settings.SETTINGS_SECTIONS)."""
    return {"template": "settings/_discogs.html", **discogs_sync.panel_state(request.user)}


@require_http_methods(["GET", "POST"])
def discogs_sync_view(request):
    """GET: the Discogs panel (htmx loads it into Settings and Collection). POST: queue a sync
    (or resume the unfinished one) and show its progress; without htmx, go back where the
    button was."""
    if request.method == "POST":
        if not discogs_sync.missing_settings(request.profile):
            job, start = discogs_sync.queue_sync(request.user)
            if start:
                transaction.on_commit(lambda: _queue("collection.tasks.sync_discogs", job.pk))
        if not request.htmx:
            back = request.POST.get("next", "")
            if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
                back = "collection:collection-list"
            return redirect(back)
    elif not request.htmx:
        return redirect("settings")
    context = {"discogs": discogs_sync.panel_state(request.user)}
    return render(request, "collection/_discogs_sync.html", context)


def _queue(func: str, *args) -> None:
    from django_q.tasks import async_task

    async_task(func, *args)
