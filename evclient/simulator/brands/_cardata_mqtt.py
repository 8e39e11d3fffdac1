"""The CarData simulator's MQTT side (needs ``amqtt``, the ``simulator`` extra): WebSocket adapters that hand an
aiohttp WebSocket to amqtt's broker, and the broker plugins that check the GCID and id token, allow only the
account's own topics, and tell the simulated brand of each accepted connection."""

from __future__ import annotations

import dataclasses
from typing import Any

import jwt
from aiohttp import WSMsgType, web
from amqtt.adapters import ReaderAdapter, WriterAdapter
from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

from ..world import SIGNING_KEY


class WebSocketReader(ReaderAdapter):
    """Reads MQTT bytes from binary WebSocket frames."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        self._buffer = bytearray()

    async def read(self, n: int = -1) -> bytes:
        while len(self._buffer) < max(n, 1):
            message = await self._ws.receive()
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                # amqtt treats a short read as "no data yet" and reads again: a closed socket must end its loop.
                raise EOFError("the WebSocket closed")
            if message.type is not WSMsgType.BINARY:
                continue
            self._buffer.extend(message.data)
        size = len(self._buffer) if n < 0 else min(n, len(self._buffer))
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def feed_eof(self) -> None:
        return None


class WebSocketWriter(WriterAdapter):
    """Writes MQTT bytes as binary WebSocket frames."""

    def __init__(self, ws: web.WebSocketResponse, peer: tuple[str, int] | Any) -> None:
        self._ws = ws
        self._peer = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple | list) and len(peer) >= 2 \
            else ("127.0.0.1", 0)
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        self._pending.extend(data)

    async def drain(self) -> None:
        if self._pending and not self._ws.closed:
            data = bytes(self._pending)
            self._pending.clear()
            await self._ws.send_bytes(data)

    def get_peer_info(self) -> tuple[str, int] | None:
        return self._peer

    def get_ssl_info(self) -> Any:
        return None

    async def close(self) -> None:
        await self._ws.close()


#: The simulated brands whose brokers run, by the key their broker's plugins are given. Kept here, not in the
#: brand's module, so a brand copied under another name (another module) finds its own.
OWNERS: dict[str, Any] = {}


def _owner(key: str) -> Any:
    return OWNERS.get(key)


def plugins(owner_key: str) -> dict[str, dict[str, str]]:
    """amqtt's plugin table for a broker owned by ``owner_key``: the plugins named by where they really live."""
    return {f"{plugin.__module__}.{plugin.__qualname__}": {"owner": owner_key} for plugin in (GcidAuth, GcidTopics)}


class GcidAuth(BaseAuthPlugin):
    """User name the GCID, password a valid id token issued to that GCID; one connection per GCID."""

    @dataclasses.dataclass
    class Config:
        owner: str = ""

    async def authenticate(self, *, session: Session) -> bool | None:
        sim = _owner(self.config.owner)
        if sim is None or not session.username or not session.password:
            return False
        account = sim.account_by_gcid(session.username)
        if account is not None and account.extra.get("refuse_connect"):
            return False  # a broker that refuses every CONNECT as not authorised (a test's control)
        issued, state = sim.world.token(sim.name, str(session.password))
        if account is None or issued is None or state != "ok" or issued.username != account.username:
            return False
        claims = jwt.decode(str(session.password), SIGNING_KEY, algorithms=["HS256"],
                            options={"verify_exp": False, "verify_aud": False, "verify_iat": False})
        if claims.get("gcid") != session.username:
            return False
        await sim.connected(session.username, str(session.client_id), float(issued.expires or claims["exp"]))
        return True


class GcidTopics(BaseTopicPlugin):
    """A client may subscribe to its own GCID's topics only, and only when the owner set a stream up."""

    @dataclasses.dataclass
    class Config:
        owner: str = ""

    async def topic_filtering(self, *, session: Session | None = None, topic: str | None = None,
                              action: Action | None = None) -> bool | None:
        sim = _owner(self.config.owner)
        if sim is None or session is None or topic is None:
            return False
        if action == Action.PUBLISH:
            return False  # the cars publish; clients only listen
        account = sim.account_by_gcid(session.username or "")
        if account is None or not account.extra.get("stream"):
            return False
        gcid = session.username
        return topic == f"{gcid}/+" or (topic.startswith(f"{gcid}/") and topic.count("/") == 1)
