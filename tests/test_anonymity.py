"""With anonymous lists on, nothing the bot posts where others see it names (or links to) a take's
author: not lists, not one take, not a member's own list, not a pager opened before the switch."""

from __future__ import annotations

import discord
import pytest
from simcord import assert_error

from bot.errors import NotAllowed
from tests.conftest import World

ARTICLE = "commonfactors"


def visible_text(message: discord.Message) -> str:
    """Everything a reader of the channel sees in a message: text, embeds (author, fields, footer)."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or "", embed.author.name or "", embed.footer.text or ""]
        parts += [f"{field.name} {field.value}" for field in embed.fields]
    return " ".join(parts)


def channel_text(world: World) -> str:
    return "\n".join(visible_text(m) for m in world.channel.history() if m.author.bot)


async def anonymous_world(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take Alice thinks the alliance comes first.")
    await world.env.advance_time(60)
    await world.bob.send(world.channel, f"!{ARTICLE} take Bob thinks the model matters too.")
    await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")


def assert_no_author_named(world: World) -> None:
    text = channel_text(world)
    for actor in (world.alice, world.bob):
        assert actor.name not in text
        assert str(actor.id) not in text
    assert "/channels/" not in text  # no link to the take's original message either


async def test_prefix_mytakes_in_an_anonymous_server_goes_by_dm(world: World) -> None:
    await anonymous_world(world)

    await world.alice.send(world.channel, f"!{ARTICLE} mytakes")

    assert "sent your list to you by DM" in (world.channel.last_message.content if world.channel.last_message else "")
    assert "Alice thinks" not in channel_text(world).split("settings")[-1]
    assert_no_author_named(world)
    dms = [visible_text(m) for m in world.alice.user.dm_channel.history()]
    assert any("Alice thinks the alliance comes first." in text for text in dms)
    assert any("Download every take" in text for text in dms)


async def test_prefix_mytakes_with_closed_dms_points_to_the_private_slash_form(world: World) -> None:
    await anonymous_world(world)
    dm = world.alice.user.dm_channel
    world.env.inject_error("POST", f"/channels/{dm.id}/messages", status=403, code=50007,
                           message="Cannot send messages to this user", times=None)

    await world.alice.send(world.channel, f"!{ARTICLE} mytakes")

    answer = world.channel.last_message
    assert answer is not None and f"/{ARTICLE} mytakes" in answer.content and "couldn't DM you" in answer.content
    assert_no_author_named(world)


async def test_prefix_show_of_ones_own_take_does_not_name_the_author_in_the_channel(world: World) -> None:
    await anonymous_world(world)
    [alice_take] = await world.bot.store.member_takes(world.alice.id)

    await world.alice.send(world.channel, f"!{ARTICLE} show {alice_take.id}")

    shown = world.channel.last_message
    assert shown is not None and shown.embeds and "Alice thinks" in (shown.embeds[0].description or "")
    assert_no_author_named(world)


async def test_slash_show_of_ones_own_take_names_them_only_privately(world: World) -> None:
    await anonymous_world(world)
    [alice_take] = await world.bot.store.member_takes(world.alice.id)

    result = await world.alice.slash(world.channel, f"{ARTICLE} show", take_id=alice_take.id)

    assert result.ephemeral and result.response is not None
    assert result.response.embeds[0].author.name == world.alice.name


@pytest.mark.parametrize("who", ["self", "other"])
async def test_prefix_takes_of_a_member_is_refused_when_anonymous(world: World, who: str) -> None:
    await anonymous_world(world)
    target = world.alice if who == "self" else world.bob

    await world.alice.send(world.channel, f"!{ARTICLE} takes {target.mention}")

    assert_error(world.env, NotAllowed, contains="anonymous")
    assert_no_author_named(world)


async def test_a_pager_opened_before_anonymous_stops_naming_authors_on_its_next_page(world: World) -> None:
    for n in range(7):
        writer = world.guild.add_member(world.env.create_user(f"writer{n}"))
        world.env.backend.create_message(world.channel.id, writer.id, f"!{ARTICLE} take Point number {n}.")
    await world.env.settle()
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    listing = world.channel.last_message
    assert listing is not None and "writer6" in visible_text(listing)  # names shown: not anonymous yet

    await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")
    await world.bob.click(listing, label="Next ›")
    turned = world.channel.history()
    page = next(m for m in turned if m.id == listing.id)
    assert "Point number" in visible_text(page) and "writer" not in visible_text(page)

    await world.bob.click(page, label="‹ Prev")
    back = next(m for m in world.channel.history() if m.id == listing.id)
    assert "Point number 6" in visible_text(back) and "writer" not in visible_text(back)


async def test_a_moderators_private_pager_keeps_names(world: World) -> None:
    await anonymous_world(world)
    result = await world.mod.slash(world.channel, f"{ARTICLE} takes")
    assert result.ephemeral and result.response is not None
    assert "bob-clinic" in visible_text(result.response)  # type: ignore[arg-type]
