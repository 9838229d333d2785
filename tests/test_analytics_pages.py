"""Analytics pages: every period, bad parameters, the htmx partial, the year in review, and the
AI portrait through the real client against a fake OpenAI-compatible server."""

from datetime import UTC, datetime

import pytest
import time_machine

from musictracker.models import Profile
from tests.fakes.openai import FakeChat
from tests.test_analytics_stats import HISTORY
from tracking.models import AiReview

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 6, 20, 12, tzinfo=UTC)


@pytest.fixture
def history(user, add_listens):
    add_listens(user, HISTORY)
    return user


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?period=7d",
        "?period=30d",
        "?period=12m",
        "?period=year&year=2024",
        "?period=month&month=2024-03",
        "?period=all",
        "?period=custom&from=2024-03-31&to=2024-04-01",
    ],
)
def test_page_for_every_period(history, client_for, django_assert_max_num_queries, query):
    client = client_for(history)
    with django_assert_max_num_queries(70):
        r = client.get(f"/analytics/{query}")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="analytics-body"' in html and "<svg" in html and "<title>" in html
    assert "As a table" in html


def test_year_page_shows_known_numbers(history, client_for):
    html = client_for(history).get("/analytics/?period=year&year=2024").content.decode()
    assert 'data-stat="listens">9<' in html
    assert "Air" in html and "Daft Punk" in html
    assert "including an estimate" in html  # one listen without a duration
    assert "00:00 — 4 listens" in html  # the clock's tooltip for midnight


@pytest.mark.parametrize(
    "query, words",
    [
        ("?period=decade", "Unknown period"),
        ("?period=year&year=abc", "is not a year"),
        ("?period=month&month=2024-99", "is not a month"),
        ("?period=custom&from=2024-05-01&to=2024-01-01", "starts after it ends"),
        ("?period=custom&from=yesterday&to=2024-01-01", "as a date"),
    ],
)
def test_bad_parameters_give_a_clear_message(history, client_for, query, words):
    r = client_for(history).get(f"/analytics/{query}")
    assert r.status_code == 400
    assert words in r.content.decode()


def test_htmx_request_gets_only_the_body(history, client_for):
    r = client_for(history).get("/analytics/?period=all", headers={"HX-Request": "true"})
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="analytics-body"')


def test_year_in_review_page(history, client_for, django_assert_max_num_queries):
    client = client_for(history)
    with django_assert_max_num_queries(40):
        r = client.get("/analytics/year/2024/")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-stat="busiest">2024-03-31<' in html
    assert "Romanthony" in html
    assert client.get("/analytics/year/1066/").status_code == 404


def test_other_users_listens_are_not_counted(history, other_user, client_for, add_listens):
    client = client_for(other_user)
    assert b'class="empty-state"' in client.get("/analytics/?period=all").content
    add_listens(other_user, [HISTORY[2]])
    html = client.get("/analytics/?period=all").content.decode()
    assert 'data-stat="listens">1<' in html


def test_ai_review_says_what_to_configure(history, client_for):
    html = client_for(history).get("/analytics/").content.decode()
    assert "ai.api_key" in html and "MUSICTRACKER_AI_API_KEY" in html


def _configure(settings, fake):
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        "ai": {
            **settings.MUSICTRACKER["ai"],
            "api_key": "test-key",
            "product_id": "1234",
            "base_url": fake.base_url,
            "timeout_seconds": 5,
        },
    }


def test_ai_review_is_written_cached_and_rewritten(
    history, client_for, settings, django_capture_on_commit_callbacks
):
    client = client_for(history)
    with FakeChat() as fake:
        _configure(settings, fake)
        fake.fail_with = [503]  # the client retries a server error
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post("/analytics/review/?period=year&year=2024")
        assert r.status_code == 302
        review = AiReview.objects.get(user=history, period_key="year:2024")
        assert review.status == "done" and "Air at dawn" in review.text
        assert review.model_name == "mistral3"
        sent = fake.requests[-1]["json"]
        assert "Top artists: Air (4)" in sent["messages"][1]["content"]
        assert "three or four sentences" in sent["messages"][0]["content"]
        asked = len(fake.requests)
        html = client.get("/analytics/?period=year&year=2024").content.decode()
        assert "Air at dawn" in html and len(fake.requests) == asked  # cached: no new call
        fake.text = "Air at first light\nDaft Punk past midnight\nspring"
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/analytics/review/?period=year&year=2024", {"style": "haiku"})
        assert Profile.objects.get(user=history).ai_review_style == "haiku"
        review.refresh_from_db()
        assert review.style == "haiku" and review.text.startswith("Air at first light")
        assert "haiku" in fake.requests[-1]["json"]["messages"][0]["content"]


def test_ai_review_failure_is_shown(
    history, client_for, settings, django_capture_on_commit_callbacks
):
    client = client_for(history)
    with FakeChat(api_key="another-key") as fake:
        _configure(settings, fake)
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/analytics/review/?period=all")
    review = AiReview.objects.get(user=history)
    assert review.status == "failed" and "401" in review.error
    assert "The AI service failed" in client.get("/analytics/?period=all").content.decode()
