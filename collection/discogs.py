"""The Discogs client: python3-discogs-client with our own timeouts, waiting and errors.

Quirks of the library this module absorbs (https://www.discogs.com/developers):
- it has no timeout by default: we set ours (`discogs.timeout_seconds`);
- on a 429 it retries up to 100 times with growing random sleeps: `backoff_enabled` is turned off
  and we wait ourselves, honouring `Retry-After` (or a minute) and telling the caller how long, so
  the sync's progress can show it;
- it follows the absolute URLs found in answers (`resource_url`, `collection_folders_url`): the
  base URL only decides the first request, which is why a test fake rewrites those URLs;
- it sends the personal token as a `token` query parameter.

Discogs allows 60 authenticated requests a minute over a moving window and reports what is left
in `X-Discogs-Ratelimit-Remaining`; when few are left we space the requests out instead of
running into 429s. Every failure leaves as a `DiscogsError` with a readable message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discogs_client
import requests
from discogs_client.exceptions import DiscogsAPIError, HTTPError, MalformedResponseError
from discogs_client.fetchers import UserTokenRequestsFetcher
from django.utils.translation import gettext as _

from musictracker import config

PER_PAGE = 100  # the largest page Discogs serves


class DiscogsError(Exception):
    """Anything that stops a Discogs request; `str()` is a message fit for the page."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class _Fetcher(UserTokenRequestsFetcher):
    """The library's token fetcher, keeping the last response's headers (Retry-After)."""

    last_headers: dict[str, str] = {}

    def request(self, method, url, data, headers, params=None):
        resp = super().request(method, url, data, headers, params=params)
        self.last_headers = dict(resp.headers)
        return resp


@dataclass
class Page:
    items: list[dict]
    page: int
    pages: int
    total: int


@dataclass
class DiscogsClient:
    """One user's view of Discogs. `sleep` and `clock` are injectable so tests do not wait."""

    username: str
    token: str
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    # Called with the number of seconds about to be waited for the rate limit (progress shows it).
    on_wait: Callable[[float], None] | None = None
    requests_made: int = 0
    waited_seconds: float = 0.0
    _times: list[float] = field(default_factory=list)

    def __post_init__(self):
        self.base_url = str(config.get("discogs.base_url", "https://api.discogs.com")).rstrip("/")
        self.per_minute = int(config.get("discogs.requests_per_minute", 60) or 60)
        self.max_waits = int(config.get("discogs.max_rate_limit_waits", 10) or 10)
        self.retries = int(config.get("discogs.retries", 2) or 0)
        timeout = self.timeout = float(config.get("discogs.timeout_seconds", 20) or 20)
        user_agent = config.get("discogs.user_agent") or "MusicTracker/0.1"
        self.client = discogs_client.Client(user_agent, user_token=self.token)
        self.client._fetcher = self.fetcher = _Fetcher(self.token)
        self.client._base_url = self.base_url
        self.client.backoff_enabled = False
        self.client.set_timeout(connect=min(10.0, timeout), read=timeout)
        self.user = self.client.user(self.username)

    # --- waiting -------------------------------------------------------------------------

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.on_wait:
            self.on_wait(seconds)
        self.waited_seconds += seconds
        self.sleep(seconds)

    def _throttle(self) -> None:
        """Before a request: if Discogs said the minute's budget is (nearly) spent, wait."""
        remaining = getattr(self.fetcher, "rate_limit_remaining", None)
        try:
            remaining = int(remaining) if remaining is not None else None
        except ValueError:
            remaining = None
        if remaining is None or remaining > 2:
            return
        now = self.clock()
        recent = [t for t in self._times if now - t < 60]
        if remaining <= 0:
            # Moving window: a slot frees when our oldest request of the last minute turns 60 s.
            wait = (recent[0] + 60 - now) if recent else 60.0
        else:
            wait = 60.0 / self.per_minute  # spread the last few requests out
        self._wait(max(0.0, wait))

    def seconds_per_request(self) -> float:
        """A steady-state estimate: the rate limit dominates any long sync."""
        return 60.0 / self.per_minute

    # --- requests ------------------------------------------------------------------------

    def call(self, fn: Callable[[], Any], what: str) -> Any:
        """Run one library call with our throttling, 429 waits, retries and error messages."""
        waits = failures = 0
        while True:
            self._throttle()
            self._times = [*self._times[-self.per_minute :], self.clock()]
            self.requests_made += 1
            try:
                return fn()
            except HTTPError as exc:
                if exc.status_code == 429:
                    waits += 1
                    if waits > self.max_waits:
                        raise DiscogsError(
                            _(
                                "Discogs kept answering “too many requests” (429) after %(n)d "
                                "waits. Nothing imported is lost; try again later and the sync "
                                "resumes where it stopped."
                            )
                            % {"n": self.max_waits},
                            status=429,
                        ) from None
                    self._wait(self._retry_after())
                    continue
                if exc.status_code >= 500 and failures < self.retries:
                    failures += 1
                    self._wait(2.0 * failures)
                    continue
                raise self._http_error(exc, what) from None
            except MalformedResponseError as exc:
                # Not JSON. With a 5xx status it is the HTML error page of the gateway in front
                # of the API (Discogs having trouble): retried and reported as that status.
                status = exc.status_code or 0
                if status >= 500 and failures < self.retries:
                    failures += 1
                    self._wait(2.0 * failures)
                    continue
                if status >= 500:
                    raise DiscogsError(
                        _(
                            "Discogs answered HTTP %(code)s while %(what)s: the service is having "
                            "trouble. Nothing imported is lost; the sync resumes at its next run."
                        )
                        % {"code": status, "what": what},
                        status=status,
                    ) from None
                raise DiscogsError(
                    _(
                        "Discogs gave an invalid response while %(what)s (not JSON, HTTP "
                        "%(code)s). Nothing imported is lost; the sync resumes at its next run."
                    )
                    % {"code": status, "what": what},
                    status=status,
                ) from None
            except requests.RequestException as exc:
                if failures < self.retries:
                    failures += 1
                    self._wait(2.0 * failures)
                    continue
                if isinstance(exc, requests.Timeout):
                    raise DiscogsError(
                        _(
                            "Discogs did not answer within %(seconds)s s while %(what)s "
                            "(timeout). Nothing imported is lost: the sync resumes at its next run."
                        )
                        % {"seconds": f"{self.timeout:g}", "what": what},
                    ) from None
                raise DiscogsError(
                    _(
                        "Could not reach Discogs at %(url)s while %(what)s (%(error)s). Nothing "
                        "imported is lost: sync again when the network is back."
                    )
                    % {"url": self.base_url, "what": what, "error": type(exc).__name__},
                ) from None
            except DiscogsAPIError as exc:
                raise DiscogsError(
                    _("Discogs gave an unreadable answer while %(what)s: %(error)s")
                    % {"what": what, "error": str(exc)[:200]}
                ) from None
            except (KeyError, TypeError, ValueError) as exc:
                raise DiscogsError(
                    _("Discogs gave an unexpected answer while %(what)s (%(error)s).")
                    % {"what": what, "error": exc}
                ) from None

    def _retry_after(self) -> float:
        value = self.fetcher.last_headers.get("Retry-After") or ""
        try:
            return max(1.0, min(float(value), 600.0))
        except ValueError:
            return 60.0

    def _http_error(self, exc: HTTPError, what: str) -> DiscogsError:
        code = exc.status_code
        detail = exc.msg.split(": ", 1)[-1]
        if code == 401:
            text = _(
                "Discogs rejected the personal token (401: %(detail)s). Check the token in "
                "Settings: generate one at discogs.com › Settings › Developers."
            )
        elif code == 403:
            text = _(
                "Discogs refused access to the collection of “%(user)s” (403: %(detail)s): the "
                "collection is private. Use that account's own personal token, or make the "
                "collection public on Discogs."
            )
        elif code == 404:
            text = _(
                "Discogs found nothing while %(what)s (404: %(detail)s). Check the Discogs "
                "username “%(user)s” in Settings."
            )
        else:
            text = _("Discogs answered %(code)s while %(what)s: %(detail)s")
        return DiscogsError(
            text % {"detail": detail, "user": self.username, "what": what, "code": code},
            status=code,
        )

    # --- endpoints -----------------------------------------------------------------------

    def identity(self) -> str:
        """The username the token belongs to (checks the token)."""
        me = self.call(self.client.identity, _("checking the token"))
        return me.data.get("username", "")

    def folders(self) -> dict[int, str]:
        """Folder id → name; folder 0 ("All") holds every instance."""
        folders = self.call(lambda: self.user.collection_folders, _("reading the folders"))
        self._folder_urls = {f.id: f.data.get("resource_url", "") for f in folders}
        return {f.id: f.name for f in folders}

    def note_fields(self) -> dict[int, str]:
        """Names of the collection's notes fields (Media Condition, Sleeve Condition, Notes…)."""
        url = f"{self.user.data['resource_url']}/collection/fields"
        try:
            data = self.call(lambda: self.client._get(url), _("reading the notes fields"))
        except DiscogsError as exc:
            if exc.status in (401, 403, 404):  # only the owner sees them; defaults will do
                return {}
            raise
        return {f["id"]: f.get("name", "") for f in data.get("fields", [])}

    def collection_page(self, page: int, folder_id: int = 0) -> Page:
        """One page of a folder, with Discogs' own pagination object."""
        urls = getattr(self, "_folder_urls", None)
        if urls is None:
            self.folders()
            urls = self._folder_urls
        folder = discogs_client.models.CollectionFolder(
            self.client,
            {
                "id": folder_id,
                "resource_url": urls.get(folder_id)
                or f"{self.base_url}/users/{self.username}/collection/folders/{folder_id}",
            },
        )
        listing = folder.releases  # the library's paginated list builds the page URL
        listing.per_page = PER_PAGE
        listing.sort("added", "asc")  # new copies come last, so a resumed cursor stays valid
        url = listing._url_for_page(page)
        data = self.call(lambda: self.client._get(url), _("reading page %(n)d") % {"n": page})
        pagination = data.get("pagination") or {}
        return Page(
            items=list(data.get("releases") or []),
            page=int(pagination.get("page", page)),
            pages=int(pagination.get("pages", page)),
            total=int(pagination.get("items", 0)),
        )

    def release(self, release_id: int) -> dict:
        """The full release: tracklist, formats, labels, genres, styles, images, artists."""

        def get():
            release = self.client.release(release_id)
            release.refresh()
            return release.data

        return self.call(get, _("reading release %(id)d") % {"id": release_id})
