from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from collection import discogs_sync, merge
from collection.models import (
    Album,
    AlbumArtist,
    AlbumMetadata,
    Artist,
    ArtistAlias,
    CollectionItem,
    Image,
    Track,
    TrackArtist,
)


def _merge_action(merge_fn, noun):
    @admin.action(description=_("Merge the selected %(noun)s into the oldest one") % {"noun": noun})
    def action(modeladmin, request, queryset):
        rows = list(queryset.order_by("pk"))
        if len(rows) < 2:
            modeladmin.message_user(request, _("Select at least two to merge."), messages.WARNING)
            return
        kept = rows[0]
        for gone in rows[1:]:
            kept = merge_fn(kept=kept, gone=gone)
        modeladmin.message_user(
            request,
            _("Merged %(n)d into “%(kept)s”.") % {"n": len(rows) - 1, "kept": kept},
            messages.SUCCESS,
        )

    action.__name__ = f"merge_{noun}"
    return action


@admin.action(description=_("Split the Discogs copies into a new album (undo a wrong merge)"))
def split_album_copies(modeladmin, request, queryset):
    made = []
    for album in queryset:
        copies = list(CollectionItem.objects.filter(album=album).select_related("album"))
        if copies:
            made.append(discogs_sync.split_copies(copies))
    if not made:
        modeladmin.message_user(request, _("None of them has Discogs copies."), messages.WARNING)
        return
    modeladmin.message_user(
        request,
        _("%(n)d new album(s) made; their tracklists are fetched at the next sync.")
        % {"n": len(made)},
        messages.SUCCESS,
    )


@admin.action(description=_("Move to an album of their own (undo a wrong merge)"))
def split_item_copies(modeladmin, request, queryset):
    by_album: dict[int, list] = {}
    for item in queryset.select_related("album"):
        by_album.setdefault(item.album_id, []).append(item)
    for items in by_album.values():
        discogs_sync.split_copies(items)
    modeladmin.message_user(
        request,
        _("%(n)d new album(s) made; their tracklists are fetched at the next sync.")
        % {"n": len(by_album)},
        messages.SUCCESS,
    )


class AliasInline(admin.TabularInline):
    model = ArtistAlias
    extra = 0
    fields = ["name"]


class ArtistImageInline(admin.TabularInline):
    model = Image
    fk_name = "artist"
    extra = 0
    fields = ["url", "source", "width", "height", "is_chosen"]


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    list_display = ["name", "mbid", "discogs_id", "spotify_id", "created_at"]
    search_fields = ["name", "search_key", "aliases__name"]
    list_filter = ["created_at"]
    readonly_fields = ["name_key", "search_key", "created_at"]
    inlines = [AliasInline, ArtistImageInline]
    actions = [_merge_action(merge.merge_artists, "artists")]


@admin.register(ArtistAlias)
class ArtistAliasAdmin(admin.ModelAdmin):
    list_display = ["name", "artist"]
    search_fields = ["name", "artist__name"]
    raw_id_fields = ["artist"]
    list_select_related = ["artist"]
    readonly_fields = ["name_key"]


class AlbumArtistInline(admin.TabularInline):
    model = AlbumArtist
    extra = 0
    raw_id_fields = ["artist"]


class AlbumTrackInline(admin.TabularInline):
    model = Track
    extra = 0
    fields = ["position", "disc_number", "track_number", "title", "artist_credit", "duration"]
    show_change_link = True


class AlbumImageInline(admin.TabularInline):
    model = Image
    fk_name = "album"
    extra = 0
    fields = ["url", "source", "width", "height", "is_chosen"]


class AlbumMetadataInline(admin.StackedInline):
    model = AlbumMetadata
    extra = 0


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ["title", "artist_credit", "year", "discogs_master_id", "created_at"]
    search_fields = ["title", "search_key", "artist_credit"]
    list_filter = ["year", "created_at"]
    readonly_fields = ["match_key", "search_key", "created_at"]
    inlines = [AlbumArtistInline, AlbumTrackInline, AlbumImageInline, AlbumMetadataInline]
    actions = [_merge_action(merge.merge_albums, "albums"), split_album_copies]


class TrackArtistInline(admin.TabularInline):
    model = TrackArtist
    extra = 0
    raw_id_fields = ["artist"]


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["title", "artist_credit", "album", "duration", "track_number"]
    search_fields = ["title", "search_key", "artist_credit"]
    list_filter = ["created_at"]
    raw_id_fields = ["album", "artist"]
    list_select_related = ["album"]
    readonly_fields = ["match_key", "search_key", "created_at"]
    inlines = [TrackArtistInline]
    actions = [_merge_action(merge.merge_tracks, "tracks")]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["kind", "artist", "album", "source", "width", "height", "is_chosen"]
    list_filter = ["kind", "source", "is_chosen"]
    search_fields = ["artist__name", "album__title", "url"]
    raw_id_fields = ["artist", "album"]
    list_select_related = ["artist", "album"]


@admin.register(AlbumMetadata)
class AlbumMetadataAdmin(admin.ModelAdmin):
    list_display = ["album", "summary", "ai_status", "model_name", "generated_at"]
    list_filter = ["ai_status", "model_name"]
    search_fields = ["album__title", "summary"]
    raw_id_fields = ["album"]
    list_select_related = ["album"]


@admin.register(CollectionItem)
class CollectionItemAdmin(admin.ModelAdmin):
    list_display = ["album", "user", "support", "label", "catalogue_number", "folder", "added_at"]
    list_filter = ["support", "folder"]
    search_fields = ["album__title", "album__artist_credit", "label", "catalogue_number"]
    raw_id_fields = ["album"]  # the album a copy belongs to can be corrected here
    list_select_related = ["album", "user"]
    readonly_fields = ["discogs_release_id", "discogs_instance_id", "synced_at"]
    actions = [split_item_copies]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)
