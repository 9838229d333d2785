from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from collection.models import CollectionItem


@require_GET
def collection_list(request):
    items = list(CollectionItem.objects.filter(user=request.user).select_related("album")[:60])
    return render(request, "collection/collection_list.html", {"items": items})


@require_GET
def search(request):
    return render(request, "collection/search.html", {"q": request.GET.get("q", "")[:200]})
