"""HTTP for evclient: the only module that touches aiohttp.

A :class:`Transport` sends one :class:`Request` and returns a :class:`Response` with the whole body read,
or raises one of evclient's connection errors. It never decides what a status code means (the brand's
error decoder does) and never retries (the account does, through its scheduler).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import logging
import math
import ssl as _ssl
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
from yarl import URL

from .errors import (
    AccountClosed,
    ConnectionFailed,
    InvalidInputError,
    RedirectRefused,
    RequestTimeout,
    ResponseError,
    SessionClosed,
)
from .redact import redact_url
from .validate import positive_seconds

_LOG = logging.getLogger("evclient.http")


def _positive_seconds(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    positive_seconds(f"Timeouts.{attribute.name}", value)


@attrs.frozen
class Timeouts:
    """Per-request limits in seconds (positive, finite)."""

    connect: float = attrs.field(default=10.0, validator=_positive_seconds)
    total: float = attrs.field(default=30.0, validator=_positive_seconds)


@attrs.frozen(kw_only=True)
class Request:
    """One HTTP request, described without aiohttp types.

    ``server`` names one of the brand's servers (its base URL is looked up at send time); ``endpoint``
    is the label errors and logs use. ``idempotent`` requests (GETs by default) may be retried.
    ``cookies`` are sent as they are: evclient keeps no cookie jar, so no state travels unseen.
    """

    method: str
    server: str
    path: str
    endpoint: str
    params: Mapping[str, str] | None = None
    json: Any = None
    data: Mapping[str, str] | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    authenticated: bool = True
    idempotent: bool | None = None
    cookies: Mapping[str, str] = attrs.field(factory=dict, repr=False)

    @property
    def retryable(self) -> bool:
        return self.method == "GET" if self.idempotent is None else self.idempotent


@attrs.frozen
class Response:
    """A whole HTTP answer. Header names are lower case; ``cookies`` are those the answer set."""

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)
    endpoint: str
    cookies: Mapping[str, str] = attrs.field(factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; anything else is a :class:`ResponseError` naming the endpoint."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as err:
            # RecursionError: a body of nested brackets deeper than the parser goes (no server sends one).
            kind = "an empty body" if not self.body.strip() else "a body that is not JSON"
            raise ResponseError(
                f"{self.endpoint}: HTTP {self.status} with {kind}", endpoint=self.endpoint, status=self.status
            ) from err

    def json_or_none(self) -> Any:
        """The body as JSON, or ``None`` when it is empty or not JSON (for error decoding)."""
        try:
            return json.loads(self.body) if self.body else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None

    def server_time(self, fallback: float) -> float:
        """When the server answered by its own clock (the ``Date`` header, epoch seconds), else ``fallback``.

        Comparing the server's record times with this, not with the local clock, keeps a skewed local
        clock from matching an old record.
        """
        stamp = self.headers.get("date")
        if stamp:
            try:
                return email.utils.parsedate_to_datetime(stamp).timestamp()
            except (TypeError, ValueError, IndexError):
                pass
        return fallback

    def retry_after(self, wall_now: float) -> float | None:
        """Seconds from the ``Retry-After`` header (delta or HTTP date), if any."""
        value = self.headers.get("retry-after")
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            pass
        else:
            # NaN says nothing; the caller clamps the rest (negative, huge, infinite) to its own bounds.
            return None if math.isnan(seconds) else seconds
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return when.timestamp() - wall_now


@functools.lru_cache(maxsize=4096)
def _url(text: str, query: tuple[tuple[str, Any], ...] | None) -> URL:
    """The parsed URL with its query (cached: a poller asks for the same few URLs all day, and building
    one costs more than the rest of the request's own work)."""
    url = URL(text)
    if not url.is_absolute():
        raise ValueError(text)
    return url.with_query(dict(query)) if query else url


def _query_key(query: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...] | None:
    if not query:
        return None
    items = tuple(query.items())
    try:
        hash(items)
    except TypeError:  # a value that cannot be a cache key (a list): spell it out once
        items = tuple((k, str(v)) for k, v in items)
    return items


#: The largest answer read by default, once decompressed (a brand declares its own, larger for images).
MAX_ANSWER = 2 * 1024 * 1024


async def _read_capped(resp: aiohttp.ClientResponse, limit: int, endpoint: str) -> bytes:
    """The whole (decompressed) body, or a :class:`ResponseError` as soon as it passes ``limit`` bytes."""
    def too_large() -> ResponseError:
        return ResponseError(f"{endpoint}: HTTP {resp.status} with an answer over {limit // 1024} KiB, not read",
                             endpoint=endpoint, status=resp.status)

    declared = resp.content_length
    if declared is not None and declared > limit and "content-encoding" not in resp.headers:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


class Transport:
    """Sends requests on an injected or owned ``aiohttp.ClientSession``.

    An injected session is never closed; one the transport created is closed by :meth:`close`, after which
    nothing is sent. Redirects are never followed: a 3xx answer is a :class:`RedirectRefused`. TLS
    verification stays on unless the caller passes its own ``ssl_context``.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        timeouts: Timeouts | None = None,
        ssl_context: _ssl.SSLContext | None = None,
    ) -> None:
        self._session = session
        self._own_session: aiohttp.ClientSession | None = None
        self.timeouts = timeouts or Timeouts()
        self._timeout = aiohttp.ClientTimeout(total=self.timeouts.total, connect=self.timeouts.connect)
        self._ssl = ssl_context
        self._closed = False

    @property
    def ssl_context(self) -> _ssl.SSLContext | None:
        """The caller's own TLS context, or ``None`` (the system's trust store)."""
        return self._ssl

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise AccountClosed("this account is closed")
        if self._session is not None and (self._session.closed or self._session.connector is None
                                          or self._session.connector.closed):
            raise SessionClosed("the aiohttp session given to evclient is closed; connect again with an open one")
        if self._own_session is None or self._own_session.closed:
            # No cookie jar: cookies a brand needs (Gigya's device identity) are kept and sent explicitly,
            # and an application's jar neither leaks into our requests nor fills with our cookies.
            if self._session is None:
                session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
            else:
                # Borrow the application's connection pool (never closed by us) through a session of
                # our own, so that the settings below do not change the application's session.
                injected = self._session
                session = aiohttp.ClientSession(
                    connector=injected.connector,
                    connector_owner=False,
                    cookie_jar=aiohttp.DummyCookieJar(),
                    headers=injected.headers,
                    trust_env=injected.trust_env,
                )
            # aiohttp silently sends an idempotent request a second time after a dropped connection.
            # That request would reach the server without passing the scheduler: every retry must be ours.
            if hasattr(session, "_retry_connection"):
                session._retry_connection = False
            self._own_session = session
        return self._own_session

    async def close(self) -> None:
        """Close what this transport opened; an injected session (and its connector) stays open."""
        self._closed = True
        if self._own_session is not None and not self._own_session.closed:
            await self._own_session.close()

    async def send(
        self,
        base_url: str,
        request: Request,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        *,
        max_bytes: int = MAX_ANSWER,
    ) -> Response:
        """Send ``request`` to ``base_url`` and read the whole answer (``params``: query parameters every
        request to that server carries; the request's own win). An answer larger than ``max_bytes`` once
        decompressed is a :class:`ResponseError`: a small gzip body must not grow into gigabytes here."""
        query = {**params, **request.params} if params and request.params else (request.params or params)
        try:
            url = _url(base_url.rstrip("/") + request.path, _query_key(query))
        except ValueError as err:
            raise InvalidInputError(f"{request.endpoint}: the server URL is not valid") from err
        session = self._get_session()
        timeout = self._timeout
        sent = {**request.headers, **(headers or {})}
        if request.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in request.cookies.items())
        # Never follow a redirect: the next hop would skip the scheduler and could take credentials elsewhere.
        kwargs: dict[str, Any] = {"headers": sent, "timeout": timeout, "allow_redirects": False}
        if request.json is not None:
            kwargs["json"] = request.json
        elif request.data is not None:
            kwargs["data"] = dict(request.data)
        if self._ssl is not None:
            kwargs["ssl"] = self._ssl
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with session.request(request.method, url, **kwargs) as resp:
                body = await _read_capped(resp, max_bytes, request.endpoint)
                status = resp.status
                resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                # Parsing Set-Cookie is not free: only answers that set one (Gigya's) pay for it.
                cookies = ({name: morsel.value for name, morsel in resp.cookies.items()}
                           if "set-cookie" in resp_headers else {})
                shown = resp.url
        except TimeoutError as err:
            _LOG.debug("%s %s timed out", request.method, redact_url(url))
            raise RequestTimeout(f"{request.endpoint}: no answer within the timeout") from err
        except aiohttp.InvalidURL as err:
            raise InvalidInputError(f"{request.endpoint}: the server URL is not valid") from err
        except (aiohttp.ClientError, OSError) as err:
            _LOG.debug("%s %s failed: %s", request.method, redact_url(url), type(err).__name__)
            raise ConnectionFailed(f"{request.endpoint}: connection failed ({type(err).__name__})") from err
        if _LOG.isEnabledFor(logging.DEBUG):
            _LOG.debug(
                "%s %s -> %s (%.0f ms)", request.method, redact_url(shown), status, (loop.time() - started) * 1000
            )
        if 300 <= status < 400:
            raise RedirectRefused(
                f"{request.endpoint}: the server answered HTTP {status} (a redirect); evclient follows no redirects",
                endpoint=request.endpoint, status=status)
        return Response(status, resp_headers, body, request.endpoint, cookies)
