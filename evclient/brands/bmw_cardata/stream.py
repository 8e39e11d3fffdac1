"""CarData's MQTT stream (``aiomqtt``, the ``cardata`` extra): one connection per owner, user name the GCID,
password the current id token, topic ``{gcid}/+``; every message carries only the keys that changed.

This module only connects: it tells the runner when the id token runs out (``sink.connected(until=...)``, a
little before, since the broker closes the connection then), raises ``StreamRefused`` for a refused CONNECT and
``StreamEnded`` when the broker refuses the subscription (the owner has not set a stream up in BMW's portal).
Reconnecting, the back-off after refusals and counting the drops soon after opening are the core runner's
(:mod:`evclient.streams`), as the brand's ``StreamSpec`` declares them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from yarl import URL

from ...errors import ConnectionFailed
from ...streams import StreamEnded, StreamRefused, StreamSink
from .models import parse_stream_data

if TYPE_CHECKING:
    from ...api import Api
    from .auth import CarDataAuth

_LOG = logging.getLogger(__name__)

KEEPALIVE = 30
#: End the connection this long before the id token expires, and open it again with a fresh one.
RENEW_BEFORE = 300.0
#: A connection dropped within this many seconds of opening is a short drop (two in a row: another app, usually).
SHORT = 120.0
#: A subscription refused: the owner has set no stream up; looked at again this much later.
NO_STREAM_PAUSE = 6 * 3600.0
#: What a TLS verification failure means, whichever layer reports it.
UNTRUSTED = "the broker's certificate is not trusted; give connect() the ssl_context that trusts its CA"
#: A message larger than this is not a CarData message (the broker's own limit is far below).
MAX_MESSAGE = 256 * 1024


class CarDataStream:
    """One account's MQTT connections: the same client id for each, so the broker replaces the session instead of
    keeping one per reconnection (there is one an hour, for the id token)."""

    def __init__(self) -> None:
        self.identifier = "evclient-" + secrets.token_hex(8)

    async def run(self, api: Api, auth: CarDataAuth, sink: StreamSink) -> None:
        """One connection, from CONNECT to its end."""
        import aiomqtt  # the optional extra: imported only when the stream runs

        await api.authenticate()
        clock = api.clock
        credentials = auth.stream_credentials(clock.wall())
        if credentials is None:
            raise StreamEnded("no id token for the stream yet", retry_after=60.0, outage=True)
        gcid, id_token, id_expires = credentials
        url = URL(api.server_url("stream"))
        options: dict[str, Any] = {"hostname": url.host or "", "port": url.port or 9000, "username": gcid,
                                   "password": id_token, "keepalive": KEEPALIVE, "clean_session": True,
                                   "identifier": self.identifier}
        if url.scheme in ("ws", "wss"):
            options.update(transport="websockets", websocket_path=url.path or "/")
        if url.scheme in ("mqtts", "wss"):
            # The application's own context where it gave one (a private CA, the simulator's), else the system's:
            # verification is never turned off.
            options["tls_context"] = api.ssl_context or ssl.create_default_context()
        wall = clock.wall

        def handle(message: Any) -> None:
            try:
                self._handle(message.payload, sink, wall())
            except Exception:  # never into paho's read loop: a message must not end the connection
                _LOG.exception("a CarData stream message could not be handled")

        # Each message is handled as paho reads it, not queued for an iterator: aiomqtt's iterator costs a task
        # and an asyncio.wait per message, more than all evclient does with one (benchmarks/stream.py).
        client = aiomqtt.Client(**options, queue_type=_inline(handle))
        async with api.admitted("stream"):
            try:
                await client.__aenter__()
            except aiomqtt.MqttCodeError as err:
                _close_socket(client)
                if getattr(err, "rc", None) in (4, 5, 134, 135):
                    raise StreamRefused(f"the broker refused the connection ({err})") from None
                raise ConnectionFailed(f"stream: the broker refused the connection ({err})") from None
            except aiomqtt.MqttError as err:
                _close_socket(client, err)
                raise ConnectionFailed(f"stream: cannot connect ({_why(err)})") from None
            except ssl.SSLCertVerificationError as err:
                _close_socket(client, err)
                raise ConnectionFailed(f"stream: cannot connect ({UNTRUSTED})") from None
            except OSError as err:  # refused, reset, a TLS handshake the server ended
                _close_socket(client, err)
                raise ConnectionFailed(f"stream: cannot connect ({type(err).__name__})") from None
            except BaseException:
                _close_socket(client)
                raise
        try:
            granted = await client.subscribe(f"{gcid}/+")
            if any(_refused(code) for code in _codes(granted)):
                raise StreamEnded("BMW has no stream set up for this client id (choose the data keys to stream in "
                                  "the CarData portal)", retry_after=NO_STREAM_PAUSE, outage=True)
            # The broker closes the connection when the id token expires: the runner replaces it a little before.
            sink.connected(until=id_expires - RENEW_BEFORE)
            async for _ in client.messages:
                pass  # nothing is queued: this only waits for the connection's end
            raise ConnectionFailed("stream: the broker closed the connection")
        except aiomqtt.MqttError as err:
            raise ConnectionFailed(f"stream: the connection broke ({type(err).__name__})") from None
        finally:
            try:
                with contextlib.suppress(Exception):
                    await client.__aexit__(None, None, None)
            finally:
                _close_socket(client)  # whatever aiomqtt managed, the socket does not outlive the connection

    @staticmethod
    def _handle(payload: Any, sink: StreamSink, wall_now: float) -> None:
        """One message; a bad one, or a bad field of one, is counted and skipped, never the end of the stream."""
        try:
            if not isinstance(payload, bytes | bytearray | str) or len(payload) > MAX_MESSAGE:
                raise ValueError("size")
            message = json.loads(payload)
            vin = message["vin"]
            data = message["data"]
            if not isinstance(vin, str) or not isinstance(data, dict):
                raise TypeError("vin or data")
        except (ValueError, KeyError, TypeError, RecursionError):
            _LOG.debug("a stream message that is not CarData's, skipped")
            sink.rejected()
            return
        parsed = parse_stream_data(data, wall_now)
        if parsed.rejected or parsed.restamped:
            _LOG.debug("a stream message with %d broken and %d future-stamped entries", parsed.rejected,
                       parsed.restamped)
            sink.rejected(fields=parsed.rejected, restamped=parsed.restamped)
        if parsed.values:
            sink.push(vin, "telematics", parsed.values, raw=message, keys=parsed.values.keys())
        else:
            sink.message()


def _inline(handle: Callable[[Any], None]) -> type[asyncio.Queue[Any]]:
    """A queue for aiomqtt that queues nothing: every message put in it is handled at once."""

    class Inline(asyncio.Queue[Any]):
        def put_nowait(self, item: Any) -> None:
            handle(item)

    return Inline


def _why(err: Exception) -> str:
    """An MQTT error's kind, and the TLS trouble under it where that is what it was."""
    cause = err.__cause__ or err.__context__
    if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(err):
        return UNTRUSTED
    return type(err).__name__


def _codes(granted: Any) -> list[Any]:
    return list(granted) if isinstance(granted, list | tuple) else [granted]


def _refused(code: Any) -> bool:
    value = getattr(code, "value", code)
    return isinstance(value, int) and value >= 0x80


def _close_socket(client: Any, failure: BaseException | None = None) -> None:
    """aiomqtt leaves the socket of a connection that failed to open behind (a ResourceWarning later): close it.
    A TLS handshake that failed leaves its socket only in the failure's frames (paho had not kept it yet)."""
    paho_client = getattr(client, "_client", None)
    sock = paho_client.socket() if paho_client is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()
    seen: set[int] = set()
    while failure is not None and id(failure) not in seen:
        seen.add(id(failure))
        trace = failure.__traceback__
        while trace is not None:
            for value in list(trace.tb_frame.f_locals.values()):
                if isinstance(value, socket.socket):
                    with contextlib.suppress(OSError):
                        value.close()
            trace = trace.tb_next
        failure = failure.__cause__ or failure.__context__
