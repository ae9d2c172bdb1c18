"""A small Discord-compatible server on 127.0.0.1, for tests that run the real ``python -m bot``
process (SimCord runs the bot in-process only).

It speaks just enough of Discord's REST API and gateway for a bot to log in, sync its slash
commands, receive one guild and messages in it, and answer them: the real process, its real
signal handling, retries and logs, against a server the test controls (it can refuse the
slash sync, or hold the bot's reply to keep a command in flight).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APPLICATION_ID = 111111111111111111
GUILD_ID = 222222222222222222
CHANNEL_ID = 333333333333333333
MEMBER_ID = 444444444444444444
NOW = "2026-01-01T12:00:00.000000+00:00"


def make_token(application_id: int = APPLICATION_ID) -> str:
    """A token shaped like Discord's: the application id in base64, then two opaque parts."""
    head = base64.b64encode(str(application_id).encode()).decode().rstrip("=")
    return f"{head}.GfAkE0.{'s3cr3t-t0ken-' * 3}x"


def _json(data: Any, *, status: int = 200) -> web.Response:
    """discord.py reads a body as JSON only for exactly ``application/json`` (no charset)."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def _user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name,
            "avatar": None, "bot": bot}


@dataclass
class Request:
    method: str
    path: str
    body: Any


@dataclass
class FakeDiscord:
    token: str
    application_id: int = APPLICATION_ID
    #: (status, Discord error code, message) to answer slash-command syncs with, or None to accept.
    refuse_sync: tuple[int, int, str] | None = None
    requests: list[Request] = field(default_factory=list)
    #: Set to hold the bot's messages (POST /channels/…/messages) until it is cleared.
    hold_messages: asyncio.Event | None = None
    message_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _messages_changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    resumed: asyncio.Event = field(default_factory=asyncio.Event)
    #: While set, the gateway turns connections away (503), like Discord during an outage.
    gateway_down: bool = False
    sent_messages: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(900000000000000000))
    _socket: web.WebSocketResponse | None = None
    _sequence: int = 0
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def bot_id(self) -> int:
        return self.application_id

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._socket is not None and not self._socket.closed:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- REST -----------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await request.json() if request.can_read_body and request.content_type == "application/json" else None
        self.requests.append(Request(request.method, path, body))
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        app = f"/applications/{self.application_id}"
        if request.method == "GET" and path == "/users/@me":
            return _json(_user(self.bot_id, "commonfactors-bot", bot=True))
        if request.method == "GET" and path == "/oauth2/applications/@me":
            return _json({
                "id": str(self.application_id), "name": "commonfactors-bot", "icon": None, "description": "",
                "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
                "owner": _user(MEMBER_ID, "owner"), "summary": "",
            })
        if request.method == "PUT" and path.startswith(app) and path.endswith("/commands"):
            if self.refuse_sync is not None:
                status, code, message = self.refuse_sync
                return _json({"message": message, "code": code}, status=status)
            return _json([{**command, "id": str(next(self._ids)), "application_id": str(self.application_id),
                                       "version": "1"} for command in body or []])
        if request.method == "POST" and path == f"/channels/{CHANNEL_ID}/messages":
            self.message_arrived.set()
            if self.hold_messages is not None:
                await self.hold_messages.wait()
            message = self.message(body.get("content", "") if body else "", author=_user(self.bot_id,
                                   "commonfactors-bot", bot=True))
            message.update({"embeds": (body or {}).get("embeds", []), "components": []})
            async with self._messages_changed:
                self.sent_messages.append(message)
                self._messages_changed.notify_all()
            return _json(message)
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    # -- gateway --------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.gateway_down:
            return web.Response(status=503, text="Service Unavailable")
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                break
            payload = json.loads(frame.data)
            if payload["op"] == 1:
                await socket.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif payload["op"] == 2:
                if payload["d"].get("token") != self.token:
                    await socket.close(code=4004, message=b"Authentication failed.")
                    break
                await self._ready()
                self.identified.set()
            elif payload["op"] == 6:  # RESUME after a lost connection: carry on where it was
                await self.dispatch("RESUMED", {})
                self.resumed.set()
        return socket

    async def go_down(self) -> None:
        """Drop the gateway connection and turn new ones away, as an outage would."""
        assert self._socket is not None, "the bot has not connected"
        self.gateway_down = True
        await self._socket.close(code=1000)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._socket is not None, "the bot has not connected"
        self._sequence += 1
        await self._socket.send_json({"op": 0, "t": event, "s": self._sequence, "d": data})

    async def _ready(self) -> None:
        await self.dispatch("READY", {
            "v": 10, "user": _user(self.bot_id, "commonfactors-bot", bot=True),
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}], "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url, "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [], "relationships": [],
        })
        everyone = {"id": str(GUILD_ID), "name": "@everyone", "permissions": str((1 << 50) - 1), "position": 0,
                    "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
        await self.dispatch("GUILD_CREATE", {
            "id": str(GUILD_ID), "name": "Clinic", "icon": None, "owner_id": str(MEMBER_ID), "roles": [everyone],
            "channels": [{"id": str(CHANNEL_ID), "type": 0, "name": "journal-club", "position": 0,
                          "permission_overwrites": [], "guild_id": str(GUILD_ID)}],
            "members": [
                {"user": _user(self.bot_id, "commonfactors-bot", bot=True), "roles": [], "joined_at": NOW,
                 "deaf": False, "mute": False, "flags": 0},
                {"user": _user(MEMBER_ID, "alice"), "roles": [], "joined_at": NOW, "deaf": False, "mute": False,
                 "flags": 0},
            ],
            "member_count": 2, "features": [], "emojis": [], "stickers": [], "large": False, "unavailable": False,
            "premium_tier": 0, "threads": [], "stage_instances": [], "guild_scheduled_events": [],
            "voice_states": [], "presences": [], "joined_at": NOW, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0,
            "preferred_locale": "en-US", "system_channel_flags": 0,
        })

    def message(self, content: str, *, author: dict[str, Any] | None = None) -> dict[str, Any]:
        author = author or _user(MEMBER_ID, "alice")
        return {
            "id": str(next(self._ids)), "channel_id": str(CHANNEL_ID), "guild_id": str(GUILD_ID), "author": author,
            "member": {"roles": [], "joined_at": NOW, "deaf": False, "mute": False, "flags": 0},
            "content": content,
            "timestamp": NOW, "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0,
            "components": [],
        }

    async def wait_for_messages(self, count: int) -> list[dict[str, Any]]:
        """Wait (bounded) until the bot has sent ``count`` messages; returns them all."""
        async def enough() -> None:
            async with self._messages_changed:
                await self._messages_changed.wait_for(lambda: len(self.sent_messages) >= count)

        await asyncio.wait_for(enough(), 30)
        return self.sent_messages

    async def member_says(self, content: str) -> None:
        await self.dispatch("MESSAGE_CREATE", self.message(content))
