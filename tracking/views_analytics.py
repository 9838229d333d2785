"""Analytics pages: statistics of a period (htmx-refreshed), the year in review, the AI review."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from musictracker import ai
from musictracker.models import Profile
from tracking import charts
from tracking.models import AiReview
from tracking.stats import History, Period, PeriodError, Stats, local_today, parse_period
from tracking.stats import year_review as year_review_query

WEEKDAYS = [
    pgettext_lazy("weekday", "Mon"),
    pgettext_lazy("weekday", "Tue"),
    pgettext_lazy("weekday", "Wed"),
    pgettext_lazy("weekday", "Thu"),
    pgettext_lazy("weekday", "Fri"),
    pgettext_lazy("weekday", "Sat"),
    pgettext_lazy("weekday", "Sun"),
]


def _profile(request) -> Profile:
    profile, _created = Profile.objects.get_or_create(user=request.user)
    return profile


def _charts(stats: Stats) -> dict:
    clock = stats.clock
    step = stats.series_step
    fmt = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m"}[step]
    series = stats.series
    every = max(1, len(series) // 8)
    week = _("week of %(day)s")
    return {
        "clock": charts.bar_chart(
            [
                (
                    f"{h:02d}" if h % 3 == 0 else "",
                    n,
                    _("%(h)02d:00 — %(n)s listens") % {"h": h, "n": n},
                )
                for h, n in enumerate(clock)
            ],
            label=_("Listens by hour of day"),
        ),
        "heatmap": charts.heatmap(
            stats.heatmap,
            rows=[str(d) for d in WEEKDAYS],
            cols=[f"{h:02d}" for h in range(24)],
            label=_("Listens by weekday and hour"),
            tip_fmt=lambda i, j, v: (
                _("%(day)s %(h)02d:00 — %(n)s listens") % {"day": WEEKDAYS[i], "h": j, "n": v}
            ),
        ),
        "series": charts.bar_chart(
            [
                (
                    d.strftime(fmt) if i % every == 0 else "",
                    n,
                    f"{week % {'day': d.isoformat()} if step == 'week' else d.strftime(fmt)} — {n}",
                )
                for i, (d, n) in enumerate(series)
            ],
            label=_("Listens over the period"),
        ),
        "discovery": charts.bar_chart(
            [
                (
                    m.strftime("%Y-%m"),
                    a,
                    _("%(m)s — %(a)s new artists, %(b)s new albums")
                    % {"m": m.strftime("%Y-%m"), "a": a, "b": b},
                )
                for m, a, b in stats.discovery["months"]
            ],
            label=_("New artists per month"),
            height=120,
        ),
        "step": step,
        "fmt": fmt,
    }


def _tops(stats: Stats) -> list[dict]:
    return [
        {"kind": "artist", "title": _("Top artists"), "rows": stats.top("artist")},
        {"kind": "album", "title": _("Top albums"), "rows": stats.top("album")},
        {"kind": "track", "title": _("Top tracks"), "rows": stats.top("track")},
    ]


def _ai(request, period: Period) -> dict:
    missing = ai.missing()
    review = None
    if not missing:
        review = AiReview.objects.filter(user=request.user, period_key=period.key).first()
    profile = _profile(request)
    return {
        "missing": missing,
        "review": review,
        "style": profile.ai_review_style,
        "styles": Profile.AiStyle.choices,
    }


def _period(request, history: History, today: date):
    try:
        return parse_period(request.GET, today=today, first_day=history.first), None
    except PeriodError as exc:
        return None, str(exc)


@require_GET
def analytics(request) -> HttpResponse:
    profile = _profile(request)
    tz = profile.tzinfo
    today = local_today(tz)
    history = History.of(request.user)
    period, error = _period(request, history, today)
    ctx = {"error": error, "today": today, "history": history, "kinds": _kinds()}
    if period is not None:
        stats = Stats(request.user, period, tz, history=history, today=today)
        ctx.update(
            period=period,
            stats=stats,
            charts=_charts(stats),
            tops=_tops(stats),
            transitions=stats.transitions(),
            hours=[f"{h:02d}" for h in range(24)],
            heat_rows=list(zip([str(d) for d in WEEKDAYS], stats.heatmap, strict=True)),
            ai=_ai(request, period),
            query=urlencode(period.query),
        )
    template = "tracking/analytics.html"
    if request.htmx and not request.htmx.boosted:
        template += "#analytics-body"
    return render(request, template, ctx, status=400 if error else 200)


def _kinds() -> list[tuple[str, str]]:
    return [
        ("7d", _("Last 7 days")),
        ("30d", _("Last 30 days")),
        ("12m", _("Last 12 months")),
        ("year", _("Calendar year")),
        ("month", _("Calendar month")),
        ("all", _("All time")),
        ("custom", _("Custom range")),
    ]


@require_GET
def analytics_year(request, year: int) -> HttpResponse:
    if not 1900 <= year <= 2200:
        raise Http404
    tz = _profile(request).tzinfo
    review = year_review_query(request.user, year, tz, today=local_today(tz))
    ctx = {"review": review, "charts": _charts(review["stats"]), "year": year}
    return render(request, "tracking/analytics_year.html", ctx)


@require_POST
def analytics_review(request) -> HttpResponse:
    """Ask for a (new) AI portrait of the period: queue the task, show it as being written."""
    profile = _profile(request)
    tz = profile.tzinfo
    today = local_today(tz)
    period, error = _period(request, History.of(request.user), today)
    back = reverse("tracking:analytics")
    if period is None:
        return render(request, "tracking/analytics.html", {"error": error}, status=400)
    if ai.missing():
        return redirect(f"{back}?{urlencode(period.query)}")
    style = request.POST.get("style")
    if style in Profile.AiStyle.values and style != profile.ai_review_style:
        profile.ai_review_style = style
        profile.save(update_fields=["ai_review_style", "updated_at"])
    review, _created = AiReview.objects.update_or_create(
        user=request.user,
        period_key=period.key,
        defaults={"status": AiReview.Status.PENDING, "style": profile.ai_review_style, "error": ""},
    )
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(
            "tracking.tasks.write_ai_review",
            review.pk,
            period.kind,
            period.first.isoformat(),
            period.last.isoformat(),
        )
    )
    if request.htmx:
        review.refresh_from_db()
        return render(
            request,
            "tracking/analytics.html#ai-review",
            {
                "ai": {"missing": [], "review": review},
                "period": period,
                "query": urlencode(period.query),
            },
        )
    return redirect(f"{back}?{urlencode(period.query)}")
