from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from tracking.models import Listen, LovedTrack, NowPlaying, TrackerStatus


class OwnRowsAdmin(admin.ModelAdmin):
    """A staff member who is not a superuser sees only their own rows."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)


class CappedCountPaginator(Paginator):
    """COUNT(*) over a million listens costs ~30 ms on every page; counting at most 10,001 rows
    keeps the admin quick and still pages through the first 200 pages exactly."""

    CAP = 10_001

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP].count()


class OwnListensFirstFilter(admin.SimpleListFilter):
    """Listens are listed per user (on the (user, listened_at) index): the signed-in user's unless
    another one is picked, so the list never sorts the whole table."""

    title = "user"
    parameter_name = "user"

    def lookups(self, request, model_admin):
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.order_by("username")
        if not request.user.is_superuser:
            users = users.filter(pk=request.user.pk)
        return [(str(u.pk), u.username) for u in users]

    def queryset(self, request, queryset):
        wanted = self.value() if request.user.is_superuser else None
        return queryset.filter(
            user_id=int(wanted) if wanted and wanted.isdigit() else request.user.pk
        )


@admin.register(Listen)
class ListenAdmin(OwnRowsAdmin):
    list_display = ["listened_at", "user", "track", "artist", "album", "source"]
    list_filter = [OwnListensFirstFilter, "source"]
    search_fields = ["track__title", "artist__name", "album__title"]
    raw_id_fields = ["track", "artist", "album"]
    list_select_related = ["user", "track", "artist", "album"]
    paginator = CappedCountPaginator
    list_per_page = 50
    date_hierarchy = None  # a date hierarchy would run per-row date functions over the whole table
    show_full_result_count = False
    ordering = ["-listened_at"]


@admin.register(LovedTrack)
class LovedTrackAdmin(OwnRowsAdmin):
    list_display = ["track", "user", "loved_at", "is_on_lastfm"]
    list_filter = ["is_on_lastfm"]
    search_fields = ["track__title"]
    raw_id_fields = ["track"]
    list_select_related = ["track", "user"]


@admin.register(NowPlaying)
class NowPlayingAdmin(OwnRowsAdmin):
    list_display = ["user", "artist_name", "track_name", "source", "updated_at"]
    list_filter = ["source"]
    search_fields = ["artist_name", "track_name"]
    raw_id_fields = ["track"]
    list_select_related = ["user"]


@admin.register(TrackerStatus)
class TrackerStatusAdmin(OwnRowsAdmin):
    list_display = ["user", "is_paused", "last_success_at", "consecutive_failures", "last_added"]
    list_filter = ["is_paused"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
