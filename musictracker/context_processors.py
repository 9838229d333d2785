from django.conf import settings


def app(request):
    return {
        "NAV": [
            ("journal", "/journal/"),
            ("timeline", "/timeline/"),
            ("collection", "/collection/"),
            ("playlists", "/playlists/"),
            ("analytics", "/analytics/"),
            ("settings", "/settings/"),
        ],
        "LANGUAGES": settings.LANGUAGES,
    }
