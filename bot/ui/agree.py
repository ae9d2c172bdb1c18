"""[Agree] under a take shown with ``show``: a member agrees with it (or takes it back), like a 👍.

Answered from its custom id, whenever it was posted; who agrees is the member who clicked.
"""

from __future__ import annotations

import re
from typing import Any, cast

import discord

from bot.errors import GuildOnly
from bot.services import ServiceHost
from bot.ui.base import ReportingItem


class AgreeButton(ReportingItem[discord.ui.Button[Any]], template=r"cf:agree:(?P<take>[0-9]{1,19})"):
    def __init__(self, take_id: int) -> None:
        super().__init__(discord.ui.Button(label="Agree", emoji="👍", style=discord.ButtonStyle.secondary,
                                           custom_id=f"cf:agree:{take_id}"))
        self.take_id = take_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> AgreeButton:
        return cls(int(match["take"]))

    async def act(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.guild_id is None:
            raise GuildOnly("Takes belong to a server's discussion, so this works in a server channel, not in DMs.")
        host = cast(ServiceHost, interaction.client)
        agrees, count = await host.services.meetings.toggle_agreement(interaction.guild_id, self.take_id,
                                                                      interaction.user.id)
        others = f"{count} member{'s' if count != 1 else ''} agree{'s' if count == 1 else ''}"
        text = (f"You agree with take **#{self.take_id}** ({others})." if agrees else
                f"You no longer agree with take **#{self.take_id}** ({others}).")
        await interaction.response.send_message(text, ephemeral=True)


def agree_view(take_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AgreeButton(take_id))
    view.stop()
    return view
