"""Enrichment in the admin: its own tables, and actions on the catalogue's albums, artists,
album notes and images (queue a task or call a service; the admin holds no logic). Editing images
inline or in the image list keeps the artist's or album's best picture current."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from collection import admin as collection_admin
from collection.models import Album, AlbumMetadata, Artist, Image
from enrichment import services
from enrichment.models import AiUsage, EnrichmentState, Throttle


def _queue(func: str, *args) -> None:
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task(func, *args, group="enrichment"))


@admin.action(description=_("Regenerate the AI notes"))
def regenerate_notes(modeladmin, request, queryset):
    album_ids = (
        list(queryset.values_list("album_id", flat=True))
        if queryset.model is AlbumMetadata
        else list(queryset.values_list("pk", flat=True))
    )
    for album_id in album_ids:
        services.mark_notes_pending(album=Album(pk=album_id))
        _queue("enrichment.tasks.regenerate_notes", album_id, request.user.pk)
    modeladmin.message_user(
        request, _("New notes queued for %(n)d albums.") % {"n": len(album_ids)}, messages.SUCCESS
    )


@admin.action(description=_("Look for pictures again (every source)"))
def refresh_images(modeladmin, request, queryset):
    ids = list(queryset.values_list("pk", flat=True))
    if queryset.model is Artist:
        _queue("enrichment.tasks.refresh_images", ids, [])
    else:
        _queue("enrichment.tasks.refresh_images", [], ids)
    modeladmin.message_user(request, _("Queued."), messages.SUCCESS)


@admin.action(description=_("Show this picture (chosen over the automatic one)"))
def choose_images(modeladmin, request, queryset):
    for image in queryset.select_related("artist", "album"):
        services.choose_image(image=image)
    modeladmin.message_user(request, _("Chosen."), messages.SUCCESS)


class _KeepsBestImage:
    """After inline images are edited, store the best one on the row again."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        subject = "artist" if isinstance(form.instance, Artist) else "album"
        services.refresh_best(**{subject: form.instance})


class EnrichedArtistAdmin(_KeepsBestImage, collection_admin.ArtistAdmin):
    actions = [*collection_admin.ArtistAdmin.actions, refresh_images]
    list_display = [*collection_admin.ArtistAdmin.list_display, "has_image"]

    @admin.display(boolean=True, description=_("picture"))
    def has_image(self, obj):
        return bool(obj.image_url)


class EnrichedAlbumAdmin(_KeepsBestImage, collection_admin.AlbumAdmin):
    actions = [*collection_admin.AlbumAdmin.actions, regenerate_notes, refresh_images]


class EnrichedAlbumMetadataAdmin(collection_admin.AlbumMetadataAdmin):
    actions = [regenerate_notes]


class EnrichedImageAdmin(collection_admin.ImageAdmin):
    actions = [choose_images]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.refresh_best(**({"artist": obj.artist} if obj.artist_id else {"album": obj.album}))

    def delete_model(self, request, obj):
        subject = {"artist": obj.artist} if obj.artist_id else {"album": obj.album}
        super().delete_model(request, obj)
        services.refresh_best(**subject)


for model, model_admin in (
    (Artist, EnrichedArtistAdmin),
    (Album, EnrichedAlbumAdmin),
    (AlbumMetadata, EnrichedAlbumMetadataAdmin),
    (Image, EnrichedImageAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


@admin.register(EnrichmentState)
class EnrichmentStateAdmin(admin.ModelAdmin):
    list_display = ["service", "artist", "album", "outcome", "reason", "tried_at", "retry_after"]
    list_filter = ["service", "outcome"]
    search_fields = ["artist__name", "album__title", "reason"]
    raw_id_fields = ["artist", "album"]
    list_select_related = ["artist", "album"]


@admin.register(AiUsage)
class AiUsageAdmin(admin.ModelAdmin):
    list_display = ["name", "count"]
    search_fields = ["name"]


@admin.register(Throttle)
class ThrottleAdmin(admin.ModelAdmin):
    list_display = ["service", "next_at"]
    search_fields = ["service"]
