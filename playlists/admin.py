from django.contrib import admin

from playlists.models import Playlist, PlaylistTrack


class PlaylistTrackInline(admin.TabularInline):
    model = PlaylistTrack
    extra = 0
    raw_id_fields = ["track"]


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "algorithm", "status", "created_at"]
    list_filter = ["algorithm", "status"]
    search_fields = ["name", "ai_prompt"]
    list_select_related = ["user"]
    inlines = [PlaylistTrackInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)
