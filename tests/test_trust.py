"""Nothing a client sends is trusted: a hostile member can submit a form (or press a button) with
any custom id they like. Who may act, whose takes and which server follow from the interaction;
the custom id only says what to show.
"""

from __future__ import annotations

import json
from typing import Any

import discord
from simcord import InteractionResult

from bot.errors import UserError
from bot.ui.reporting import _unwrap
from tests.conftest import World, make_world

ARTICLE = "commonfactors"


def visible_text(message: Any) -> str:
    """Everything a reader sees in a message: its text and its embeds, whole."""
    if message is None:
        return ""
    parts = [message.content or ""]
    parts += [json.dumps(embed.to_dict(), ensure_ascii=False) for embed in message.embeds]
    return "\n".join(parts)


def fresh(world: World, channel: Any, message_id: int) -> discord.Message:
    return next(m for m in channel.history() if m.id == message_id)


async def takes_by_writers(world: World, channel: Any, guild: Any, count: int, prefix: str) -> None:
    """``count`` takes, each by a member of its own (so no cooldown applies)."""
    for n in range(count):
        writer = guild.add_member(world.env.create_user(f"{prefix}-writer{n}"))
        world.env.backend.create_message(channel.id, writer.id, f"!{ARTICLE} take {prefix} point {n}.")
    await world.env.settle()


def refusals(world: World, cursor: int) -> list[BaseException]:
    """The user errors since ``cursor`` (acknowledged); anything else fails the test."""
    found = [_unwrap(e) for e in world.env.errors_since(cursor)]
    assert all(isinstance(e, UserError) for e in found), found
    world.env.errors.clear()
    return found


def assert_one_private_line(result: InteractionResult) -> str:
    answer = result.response
    assert answer is not None and result.ephemeral, "a refusal is answered privately"
    assert not answer.embeds and "\n" not in answer.content.strip()
    return answer.content


async def open_jump_form(actor: Any, listing: discord.Message) -> InteractionResult:
    indicator = next(child.label for row in listing.components for child in getattr(row, "children", [row])
                     if getattr(child, "label", None) and "/" in child.label)
    shown = await actor.click(listing, label=indicator)
    assert shown.modal is not None
    return shown


async def submit_forged(actor: Any, shown: InteractionResult, custom_id: str, page: str = "1") -> InteractionResult:
    """A hostile client: the form it was shown, submitted under another custom id."""
    shown._interaction.modal["custom_id"] = custom_id
    return await actor.submit_modal(shown, {"page": page})


def jump_id(kind: str, owner: int, subject: int) -> str:
    return f"cf:{ARTICLE}:tpjump:{kind}:{owner}:{subject}"


# -- "Go to page" forms, forged ----------------------------------------------------------------


async def test_a_forged_go_to_page_from_another_member_changes_nothing_and_shows_nothing(world: World) -> None:
    """Bob's own listing's form, submitted under an id naming Alice's "mine" list (or another
    owner's list of everyone): refused in one private line; his message still shows his page."""
    await world.alice.send(world.channel, f"!{ARTICLE} take Alice's own private thought.")
    await takes_by_writers(world, world.channel, world.guild, 11, "clinic")
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    listing = world.channel.last_message
    assert listing is not None
    before = visible_text(listing)

    for forged in (jump_id("y", world.alice.id, world.guild.id), jump_id("a", world.alice.id, 0),
                   jump_id("m", world.alice.id, world.alice.id)):
        cursor = world.env.error_cursor
        result = await submit_forged(world.bob, await open_jump_form(world.bob, listing), forged, page="3")
        refusals(world, cursor)
        line = assert_one_private_line(result)
        assert "Alice's own private thought" not in line and world.alice.name not in line
        assert visible_text(fresh(world, world.channel, listing.id)) == before


async def test_a_forged_go_to_page_naming_another_server_shows_nothing_of_it(world: World) -> None:
    """In another server, Eve submits her own form under an id naming the first server (her own
    "mine" list there, or Alice's): nothing of the first server reaches her."""
    other = make_world(world.env, "Other", world.bots)
    await world.alice.send(world.channel, f"!{ARTICLE} take Alice's words in the clinic.")
    await takes_by_writers(world, other.channel, other.guild, 11, "other")
    await other.bob.send(other.channel, f"!{ARTICLE} takes")
    listing = other.channel.last_message
    assert listing is not None
    before = visible_text(listing)

    for forged in (jump_id("y", world.alice.id, world.guild.id), jump_id("y", other.bob.id, world.guild.id)):
        cursor = world.env.error_cursor
        result = await submit_forged(other.bob, await open_jump_form(other.bob, listing), forged)
        refusals(world, cursor)
        line = assert_one_private_line(result)
        assert "clinic" not in line.lower() and world.alice.name not in line
        assert visible_text(fresh(world, other.channel, listing.id)) == before


async def test_a_forged_go_to_page_in_an_anonymous_server_names_no_one(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take Alice believes this stays anonymous.")
    await takes_by_writers(world, world.channel, world.guild, 11, "anon")
    await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    listing = world.channel.last_message
    assert listing is not None and world.alice.name not in visible_text(listing)
    before = visible_text(listing)

    for forged in (jump_id("y", world.alice.id, world.guild.id), jump_id("m", world.bob.id, world.alice.id)):
        cursor = world.env.error_cursor
        result = await submit_forged(world.bob, await open_jump_form(world.bob, listing), forged, page="1")
        refusals(world, cursor)
        line = assert_one_private_line(result)
        assert world.alice.name not in line and "Alice believes" not in line
        assert visible_text(fresh(world, world.channel, listing.id)) == before
    assert world.alice.name not in "\n".join(visible_text(m) for m in world.channel.history() if m.author.bot)
