from django.contrib import admin

from musictracker.models import ApiToken, Job, Profile


class OwnRowsAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)


@admin.register(Profile)
class ProfileAdmin(OwnRowsAdmin):
    list_display = ["user", "lastfm_username", "discogs_username", "time_zone", "language"]
    search_fields = ["user__username", "lastfm_username", "discogs_username"]
    list_filter = ["language"]
    list_select_related = ["user"]
    exclude = ["discogs_token", "lastfm_session_key"]  # secrets never shown, even to admins


@admin.register(Job)
class JobAdmin(OwnRowsAdmin):
    list_display = [
        "pk",
        "user",
        "kind",
        "status",
        "done",
        "total",
        "added",
        "skipped",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["user__username", "label", "message"]
    list_select_related = ["user"]


@admin.register(ApiToken)
class ApiTokenAdmin(OwnRowsAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "user__username"]
    list_filter = ["revoked_at"]
    list_select_related = ["user"]
    readonly_fields = ["key_hash", "prefix"]
