"""Erasure reaches the bot's own posts: once a take is deleted (by its author, a moderator,
``forgetme`` or retention) or edited, no message of the bot in any channel (or DM) still shows
the old words or, for ``forgetme``, the member's name; after a restart too.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import discord
import pytest

from bot.storage import Store
from tests.conftest import World, make_world
from tests.test_hostile_discord import assert_sent_safely

ARTICLE = "commonfactors"
EPHEMERAL = 64
ALICE_WORDS = "Alice thinks the alliance outweighs the technique"


def bot_posts(world: World) -> str:
    """Everything the bot shows in every channel and DM, for everyone (ephemeral answers aside)."""
    backend = world.env.backend
    bot_id = world.bot.user.id if world.bot.user else 0
    parts = []
    for messages in backend.messages.values():
        for message in messages.values():
            if message.author_id == bot_id and not message.flags & EPHEMERAL:
                parts += [message.content, json.dumps(message.embeds, ensure_ascii=False)]
    return "\n".join(parts)


async def alice_everywhere(world: World, count: int = 3) -> list[int]:
    """Alice's takes, quoted in public by a listing, a member listing, a ``show`` card and her
    own ``mytakes`` list; returns her takes' ids."""
    for n in range(count):
        await world.alice.send(world.channel, f"!{ARTICLE} take {ALICE_WORDS}, point {n}.")
        await world.env.advance_time(60)
    await world.bob.send(world.channel, f"!{ARTICLE} take Bob's own view stays.")
    ids = [t.id for t in await world.bot.store.member_takes(world.alice.id)]
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    await world.bob.send(world.channel, f"!{ARTICLE} takes {world.alice.mention}")
    await world.bob.send(world.channel, f"!{ARTICLE} show {ids[0]}")
    await world.alice.send(world.channel, f"!{ARTICLE} mytakes")
    slash = await world.bob.slash(world.channel, f"{ARTICLE} show", take_id=ids[-1])  # public on slash too
    assert slash.response is not None and not slash.ephemeral
    text = bot_posts(world)
    assert ALICE_WORDS in text and world.alice.name in text and not world.env.errors
    return ids


async def confirm_forgetme(world: World, actor: Any) -> None:
    await actor.send(world.channel, f"!{ARTICLE} forgetme")
    prompt = world.channel.last_message
    assert prompt is not None
    await actor.click(prompt, label="Delete all my takes")


def card_of(world: World, take_id: int) -> discord.Message | None:
    return next((m for m in world.channel.history() if m.author.bot and m.embeds
                 and (m.embeds[0].title or "").startswith(f"Take #{take_id} ")), None)


async def test_after_forgetme_no_bot_message_shows_the_members_words_or_name(world: World) -> None:
    await alice_everywhere(world)
    await confirm_forgetme(world, world.alice)
    text = bot_posts(world)
    assert ALICE_WORDS not in text and world.alice.name not in text
    assert "Bob's own view stays." in text  # the listing is redrawn, not emptied
    assert_sent_safely(world, 0)  # every redraw within Discord's limits, none can ping
    assert await world.bot.store.fetch_raw("SELECT COUNT(*) FROM quote_redraws") == [(0,)]


async def test_a_deleted_take_leaves_no_card_and_no_line_in_a_listing(world: World) -> None:
    ids = await alice_everywhere(world, count=2)
    await world.alice.send(world.channel, f"!{ARTICLE} delete {ids[0]}")
    assert card_of(world, ids[0]) is None  # the card is deleted
    text = bot_posts(world)
    assert f"{ALICE_WORDS}, point 0." not in text
    assert f"{ALICE_WORDS}, point 1." in text  # what was not deleted is still shown
    remembered = await world.bot.store.fetch_raw(f"SELECT COUNT(*) FROM take_quotes WHERE take_id = {ids[0]}")
    assert remembered == [(0,)]  # the remembered message ids went with the take


async def test_an_edit_reaches_every_message_that_quotes_the_take(world: World) -> None:
    ids = await alice_everywhere(world, count=1)
    await world.alice.send(world.channel, f"!{ARTICLE} edit {ids[0]} On reflection, the model matters too.")
    text = bot_posts(world)
    assert ALICE_WORDS not in text and "On reflection, the model matters too." in text
    card = card_of(world, ids[0])
    assert card is not None and "On reflection" in (card.embeds[0].description or "")


async def test_retention_reaches_the_bots_posts(world: World) -> None:
    await alice_everywhere(world, count=1)
    cog: Any = world.bot.get_cog("Takes")
    object.__setattr__(world.bot.settings, "takes_retention_days", 1)
    await world.env.advance_time(86_400 + 60)
    assert await cog.purge_expired() == 2  # Alice's and Bob's
    await asyncio.gather(*cog.redraw_tasks)  # the round the purge woke
    text = bot_posts(world)
    assert ALICE_WORDS not in text and "Bob's own view" not in text and world.alice.name not in text


async def test_a_moderators_delete_and_a_dm_listing_are_reached_too(world: World) -> None:
    """In an anonymous server, ``mytakes`` goes by DM: that DM is a channel too."""
    await world.alice.send(world.channel, f"!{ARTICLE} take {ALICE_WORDS}.")
    await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")
    await world.alice.send(world.channel, f"!{ARTICLE} mytakes")
    dm = world.alice.user.dm_channel
    assert dm is not None and any(ALICE_WORDS in json.dumps([e.to_dict() for e in m.embeds]) for m in dm.history())
    [take] = await world.bot.store.member_takes(world.alice.id)
    await world.mod.send(world.channel, f"!{ARTICLE} delete {take.id}")
    assert ALICE_WORDS not in bot_posts(world)


async def test_work_queued_before_a_restart_is_done_after_it(world: World) -> None:
    await alice_everywhere(world, count=1)
    # Deleted underneath the bot (as if it stopped right after the commit): nothing woke the redraw.
    store: Store = world.bot.store
    assert await store.delete_member_data(world.alice.id) == 1
    assert ALICE_WORDS in bot_posts(world)
    assert await store.fetch_raw("SELECT COUNT(*) FROM quote_redraws") != [(0,)]
    await world.restart()
    await world.env.settle()
    assert ALICE_WORDS not in bot_posts(world)
    assert await world.bot.store.fetch_raw("SELECT COUNT(*) FROM quote_redraws") == [(0,)]


async def test_a_message_gone_or_out_of_reach_is_forgotten_quietly(world: World) -> None:
    ids = await alice_everywhere(world, count=1)
    card = card_of(world, ids[0])
    assert card is not None
    world.env.backend.delete_message(world.channel.id, card.id)  # someone deleted the card
    elsewhere = make_world(world.env, "Elsewhere", world.bots)
    await world.alice.send(world.channel, f"!{ARTICLE} delete {ids[0]}")
    assert not world.env.errors
    assert ALICE_WORDS not in bot_posts(world)
    assert await world.bot.store.fetch_raw("SELECT COUNT(*) FROM quote_redraws") == [(0,)]
    assert await world.bot.store.fetch_raw(f"SELECT COUNT(*) FROM take_quotes WHERE message_id = {card.id}") == [(0,)]
    assert elsewhere.guild.name not in bot_posts(world)


@pytest.mark.parametrize("anonymous", [False, True])
async def test_a_listing_redrawn_after_a_delete_names_authors_only_as_the_server_allows(
        world: World, anonymous: bool) -> None:
    await alice_everywhere(world, count=2)
    if anonymous:
        await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")
    [first, *_] = [t.id for t in await world.bot.store.member_takes(world.bob.id)]
    await world.bob.send(world.channel, f"!{ARTICLE} delete {first}")
    text = bot_posts(world)
    assert "Bob's own view stays." not in text
    assert (world.alice.name in text) is not anonymous  # a listing redrawn now names no one in an anonymous server


async def test_turning_anonymous_on_redraws_every_post_that_names_an_author(world: World) -> None:
    """Lists and cards posted while names were shown stop naming anyone once the server goes
    anonymous; a member's own list, or one member's, is withdrawn (it would single them out)."""
    await alice_everywhere(world, count=2)
    await world.admin.send(world.channel, f"!{ARTICLE} settings")
    card = world.channel.last_message
    assert card is not None
    await world.admin.click(card, label="Anonymous lists: off")  # the settings card's button
    text = bot_posts(world)
    for member in (world.alice, world.bob):
        assert member.name not in text and str(member.id) not in text
    assert "Takes by" not in text and "Your takes" not in text and "/channels/" not in text
    assert f"{ALICE_WORDS}, point 1." in text  # the words stay, anonymous
    assert_sent_safely(world, 0)


async def test_a_redraw_discord_cannot_take_now_is_tried_again_and_one_out_of_reach_forgotten(world: World) -> None:
    ids = await alice_everywhere(world, count=2)
    card = card_of(world, ids[0])
    assert card is not None
    # Discord fails the card's deletion for now.
    world.env.inject_error("DELETE", f"/channels/{world.channel.id}/messages/{card.id}", status=500, times=1)
    # And the bot may no longer edit the listings (a moderator took its permission away).
    world.env.inject_error("PATCH", f"/channels/{world.channel.id}/messages/*", status=403, code=50013, times=None)
    await world.alice.send(world.channel, f"!{ARTICLE} delete {ids[0]}")
    assert card_of(world, ids[0]) is not None
    queued = await world.bot.store.pending_redraws(limit=10)
    assert [(r.message_id, r.attempts) for r in queued] == [(card.id, 1)]  # the listings were forgotten
    await world.env.advance_time(31)
    assert card_of(world, ids[0]) is None  # the next try deleted it
    assert await world.bot.store.pending_redraws(limit=10) == []
    assert not world.env.errors
