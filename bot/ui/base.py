"""One base for everything a member can click or fill in, so its errors reach the reporter.

discord.py gives views and modals an ``on_error`` hook and dynamic items none; each of our
components derives from one of the classes here, which all end in
:func:`~bot.ui.reporting.handle_interaction_error`, the same path slash commands take.
"""

from __future__ import annotations

from typing import Any, TypeVar

import discord

from bot.ui.reporting import handle_interaction_error

BaseT = TypeVar("BaseT", bound=discord.ui.Item[Any])


class ReportingView(discord.ui.View):
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, item: Any, /) -> None:
        await handle_interaction_error(interaction, error, where=type(self).__name__)


class ReportingModal(discord.ui.Modal):
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        await handle_interaction_error(interaction, error, where=type(self).__name__)


class ReportingItem(discord.ui.DynamicItem[BaseT], template=r"(?!)"):
    """A restart-proof item: subclasses give their own ``template`` and implement :meth:`act`;
    errors are reported, not lost. (This base's template matches nothing: it is never registered.)"""

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.act(interaction)
        except Exception as error:
            await handle_interaction_error(interaction, error, where=type(self).__name__)

    async def act(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError
