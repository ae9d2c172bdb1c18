"""The rules as services, built once per bot in ``setup_hook`` and handed what they use.

Commands reach them through the context (``ctx.takes``, ``ctx.pins``, ``ctx.guild_settings``,
``ctx.audit``, ``ctx.meetings``), buttons and forms through the client (:class:`ServiceHost`). No rule takes the
whole bot: each gets the store, the clock, the locks and the other services it needs, so its
signature says what it depends on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.article import Article
from bot.audit import AuditLog
from bot.clock import Clock
from bot.guild_settings import GuildSettingsService
from bot.locks import KeyedLocks
from bot.meetings import MeetingService
from bot.pins import PinService
from bot.quotes import QuoteService
from bot.settings import Settings
from bot.signing import IdSigner
from bot.storage import Store
from bot.takes import TakeService


@dataclass(frozen=True, slots=True)
class Services:
    clock: Clock
    locks: KeyedLocks
    audit: AuditLog
    guild_settings: GuildSettingsService
    takes: TakeService
    pins: PinService
    #: Signs and checks the custom ids that name a subject (see :mod:`bot.signing`).
    signer: IdSigner
    #: Which bot messages quote which takes, so erasure reaches them (see :mod:`bot.quotes`).
    quotes: QuoteService
    meetings: MeetingService


def build_services(store: Store, settings: Settings, clock: Clock, *, signer: IdSigner) -> Services:
    locks = KeyedLocks()
    audit = AuditLog(store, clock)
    guild_settings = GuildSettingsService(store, settings, locks, audit)
    meetings = MeetingService(store, clock, guild_settings, audit, locks)
    return Services(
        clock=clock,
        locks=locks,
        audit=audit,
        guild_settings=guild_settings,
        takes=TakeService(store, clock, guild_settings, audit, locks, meeting_link=meetings.link_for),
        pins=PinService(store, clock, locks),
        signer=signer,
        quotes=QuoteService(store, clock),
        meetings=meetings,
    )


class ServiceHost(Protocol):
    """What buttons, menus and forms need from the client that received them."""

    @property
    def services(self) -> Services: ...

    @property
    def articles(self) -> Mapping[str, Article]: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def boot_id(self) -> str: ...
