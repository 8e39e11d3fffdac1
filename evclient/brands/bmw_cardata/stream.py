"""CarData's MQTT stream (``aiomqtt``, the ``cardata`` extra): one connection per owner, user name the GCID,
password the current id token, topic ``{gcid}/+``; every message carries only the keys that changed.

The connection is ended just before the id token expires (the broker would close it) and opened again with a
fresh one. A connection the broker drops soon after it opened, twice in a row, is another app taking the stream
over (BMW allows one per owner): evclient says so and waits half an hour instead of fighting it. A subscription
the broker refuses means the owner has not set a stream up in BMW's portal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from yarl import URL

from ...errors import ConnectionFailed
from ...streams import StreamEnded, StreamSink
from .models import parse_stream_data

if TYPE_CHECKING:
    from ...api import Api
    from .auth import CarDataAuth

_LOG = logging.getLogger(__name__)

KEEPALIVE = 30
#: End the connection this long before the id token expires, and open it again with a fresh one.
RENEW_BEFORE = 300.0
#: A connection dropped within this many seconds of opening counts towards "another app took it over".
SHORT = 120.0
KICKED_PAUSE = 1800.0
NO_STREAM_PAUSE = 6 * 3600.0
#: A message larger than this is not a CarData message (the broker's own limit is far below).
MAX_MESSAGE = 256 * 1024


class CarDataStream:
    """The stream's state across connections (for the kick detection and the reads after an outage)."""

    def __init__(self) -> None:
        self.short_drops = 0
        self.connected_before = False
        # One client id for every connection of this account: the broker replaces the session instead of keeping
        # one per reconnection (there is one an hour, for the id token).
        self.identifier = "evclient-" + secrets.token_hex(8)

    async def run(self, api: Api, auth: CarDataAuth, sink: StreamSink,
                  after_connect: Callable[[], Any]) -> None:
        import aiomqtt  # the optional extra: imported only when the stream runs

        await api.authenticate()
        clock = api.clock
        credentials = auth.stream_credentials(clock.wall())
        if credentials is None:
            raise StreamEnded("no id token for the stream yet", retry_after=60.0)
        gcid, id_token, id_expires = credentials
        url = URL(api.server_url("stream"))
        options: dict[str, Any] = {"hostname": url.host or "", "port": url.port or 9000, "username": gcid,
                                   "password": id_token, "keepalive": KEEPALIVE, "clean_session": True,
                                   "identifier": self.identifier}
        if url.scheme in ("ws", "wss"):
            options.update(transport="websockets", websocket_path=url.path or "/")
        if url.scheme in ("mqtts", "wss"):
            options["tls_context"] = ssl.create_default_context()
        client = aiomqtt.Client(**options)
        async with api.admitted("stream"):
            try:
                await client.__aenter__()
            except aiomqtt.MqttCodeError as err:
                _close_socket(client)
                if getattr(err, "rc", None) in (4, 5, 134, 135):
                    auth.invalidate()  # a bad or expired id token: renew it before the next attempt
                    raise StreamEnded("the stream refused the id token; renewing it", retry_after=5.0) from None
                raise ConnectionFailed(f"stream: the broker refused the connection ({err})") from None
            except aiomqtt.MqttError as err:
                _close_socket(client)
                raise ConnectionFailed(f"stream: cannot connect ({type(err).__name__})") from None
            except BaseException:
                _close_socket(client)
                raise
        opened = clock.now()
        try:
            granted = await client.subscribe(f"{gcid}/+")
            if any(_refused(code) for code in _codes(granted)):
                raise StreamEnded("BMW has no stream set up for this client id (choose the data keys to stream in "
                                  "the CarData portal)", retry_after=NO_STREAM_PAUSE)
            sink.connected()
            await after_connect()
            renew_at = clock.to_loop(id_expires - RENEW_BEFORE)
            try:
                async with asyncio.timeout_at(max(renew_at, clock.now() + 60.0)):
                    async for message in client.messages:
                        self._handle(message.payload, sink)
            except TimeoutError:
                self.short_drops = 0
                raise StreamEnded("renewing the id token before it expires", retry_after=1.0) from None
            raise ConnectionFailed("stream: the broker closed the connection")
        except aiomqtt.MqttError as err:
            lasted = clock.now() - opened
            self.short_drops = self.short_drops + 1 if lasted < SHORT else 0
            if self.short_drops >= 2:
                self.short_drops = 0
                raise StreamEnded("kicked by another connection: another app uses this account's stream (BMW allows "
                                  "one per owner)", retry_after=KICKED_PAUSE, taken_over=True) from None
            raise ConnectionFailed(f"stream: the connection broke ({type(err).__name__})") from None
        finally:
            try:
                with contextlib.suppress(Exception):
                    await client.__aexit__(None, None, None)
            finally:
                _close_socket(client)  # whatever aiomqtt managed, the socket does not outlive the connection

    @staticmethod
    def _handle(payload: Any, sink: StreamSink) -> None:
        """One message; a bad one is counted and skipped, never the end of the stream."""
        try:
            if not isinstance(payload, bytes | bytearray | str) or len(payload) > MAX_MESSAGE:
                raise ValueError("size")
            message = json.loads(payload)
            vin = str(message["vin"])
            data = message["data"]
            if not isinstance(data, dict):
                raise TypeError("data")
            values = parse_stream_data(data)
        except (ValueError, KeyError, TypeError):
            _LOG.debug("a stream message that is not CarData's, skipped")
            sink.message()
            return
        if values:
            sink.push(vin, "telematics", values, raw=message)
        else:
            sink.message()


def _codes(granted: Any) -> list[Any]:
    return list(granted) if isinstance(granted, list | tuple) else [granted]


def _refused(code: Any) -> bool:
    value = getattr(code, "value", code)
    return isinstance(value, int) and value >= 0x80


def _close_socket(client: Any) -> None:
    """aiomqtt leaves the socket of a connection that failed to open behind (a ResourceWarning later): close it."""
    paho_client = getattr(client, "_client", None)
    sock = paho_client.socket() if paho_client is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()
