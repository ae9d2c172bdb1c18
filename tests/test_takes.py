"""Takes through Discord: every way in, every command, the refusals, and the promises (no loss,
no leaks between guilds, survives a restart)."""

from __future__ import annotations

import csv
import io
import json

import discord
import pytest
from simcord import assert_error

from bot.errors import GuildOnly, NotAllowed, NotFound, NotSaved, TakeRejected, UserError
from bot.storage import Take
from tests.conftest import World, make_world, refuse_writes

ARTICLE = "commonfactors"


async def stored(world: World, guild_id: int | None = None) -> list[Take]:
    return await world.bot.store.export_takes(guild_id or world.guild.id, ARTICLE)


def fresh(world: World, message_id: int) -> discord.Message:
    """The message as members see it now (after edits)."""
    return next(m for m in world.channel.history() if m.id == message_id)


async def add(world: World, member: object, text: str) -> None:
    await member.send(world.channel, f"!{ARTICLE} take {text}")  # type: ignore[attr-defined]


# -- ways in ------------------------------------------------------------------------------------


async def test_prefix_take_is_saved_then_acknowledged(world: World) -> None:
    await add(world, world.alice, "The *alliance* grows out of the work 🌱")

    takes = await stored(world)
    assert len(takes) == 1
    take = takes[0]
    assert take.content == "The *alliance* grows out of the work 🌱"
    assert take.author_id == world.alice.id and take.source == "command"
    assert take.channel_id == world.channel.id and take.message_url and take.message_url.startswith("https://")
    reply = world.channel.last_message
    assert reply is not None and f"Saved your take **#{take.id}**" in reply.content


async def test_slash_take_opens_a_modal_and_saves_on_submit(world: World) -> None:
    shown = await world.alice.slash(world.channel, f"{ARTICLE} take")
    assert shown.modal is not None

    result = await world.alice.submit_modal(shown, {"take_text": "Model first,\nthen **relationship**."})

    assert result.ephemeral and result.response is not None and "Saved your take" in result.response.content
    [take] = await stored(world)
    assert take.content == "Model first,\nthen **relationship**." and take.source == "modal"


async def test_slash_take_accepts_text_directly(world: World) -> None:
    result = await world.alice.slash(world.channel, f"{ARTICLE} take", text="Straight in.")

    assert result.ephemeral and result.response is not None and "Saved your take" in result.response.content
    assert [t.content for t in await stored(world)] == ["Straight in."]


async def test_add_your_take_button_opens_the_same_modal(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE}")
    card = world.channel.last_message
    assert card is not None

    shown = await world.bob.click(card, label="Add your take")
    assert shown.modal is not None
    await world.bob.submit_modal(shown, {"take_text": "From the button."})

    [take] = await stored(world)
    assert take.author_id == world.bob.id and take.source == "button"


async def test_a_reply_to_the_summary_is_a_take(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE}")
    card = world.channel.last_message
    assert card is not None

    reply = await world.bob.send(world.channel, "Replying with my view.", reply_to=card)

    [take] = await stored(world)
    assert take.content == "Replying with my view." and take.source == "reply"
    assert take.message_url == reply.jump_url
    refreshed = fresh(world, reply.id)
    assert [str(r.emoji) for r in refreshed.reactions] == ["✅"]


async def test_a_command_sent_as_a_reply_is_not_a_take(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE}")
    card = world.channel.last_message
    assert card is not None

    await world.bob.send(world.channel, f"!{ARTICLE} faq 1", reply_to=card)

    assert await stored(world) == []


async def test_a_reply_to_someone_else_is_not_a_take(world: World) -> None:
    message = await world.alice.send(world.channel, "Hello all")
    await world.bob.send(world.channel, "Hi!", reply_to=message)

    assert await stored(world) == []


# -- refusals -------------------------------------------------------------------------------------


async def test_an_empty_take_is_refused(world: World) -> None:
    result = await world.alice.slash(world.channel, f"{ARTICLE} take", text="   ")

    assert_error(world.env, TakeRejected, contains="empty")
    assert result.ephemeral
    assert await stored(world) == []


async def test_a_too_long_take_is_refused_with_its_length(world: World) -> None:
    await add(world, world.alice, "x" * 1600)

    assert_error(world.env, TakeRejected, contains="1600 characters; the limit here is 1500")
    assert await stored(world) == []


async def test_the_same_take_twice_within_ten_minutes_is_refused(world: World) -> None:
    await add(world, world.alice, "Same words.")
    await world.env.advance_time(60)
    await add(world, world.alice, "Same words.")

    assert_error(world.env, TakeRejected, contains="already saved this exact take")
    await world.env.advance_time(600)
    await add(world, world.alice, "Same words.")
    assert len(await stored(world)) == 2


async def test_cooldown_answers_with_a_relative_time_and_only_saved_takes_start_it(world: World) -> None:
    await add(world, world.alice, "x" * 1600)  # refused: does not start the cooldown
    assert_error(world.env, TakeRejected)
    await add(world, world.alice, "Corrected and short.")
    assert len(await stored(world)) == 1

    await add(world, world.alice, "Too soon.")
    error = assert_error(world.env, TakeRejected, contains="One take every 30 s")
    assert "<t:" in str(error) and ":R>" in str(error)

    await world.env.advance_time(30)
    await add(world, world.alice, "Later.")
    assert [t.content for t in await stored(world)] == ["Corrected and short.", "Later."]


async def test_takes_are_refused_in_dms(world: World) -> None:
    await world.alice.send_dm(f"!{ARTICLE} take hello")

    assert_error(world.env, GuildOnly)
    reply = world.alice.user.dm_channel.last_message
    assert reply is not None and "not in DMs" in reply.content


async def test_a_failed_write_says_not_saved(world: World) -> None:
    await refuse_writes(world.bot.store)  # the database refuses writes; reads still work

    await add(world, world.alice, "Will this be kept?")

    error = assert_error(world.env, NotSaved)
    assert "not saved" in str(error)
    reply = world.channel.last_message
    assert reply is not None and "**not saved**" in reply.content
    await refuse_writes(world.bot.store, False)
    assert await stored(world) == []


async def test_a_failed_modal_write_hands_the_text_back(world: World) -> None:
    shown = await world.alice.slash(world.channel, f"{ARTICLE} take")
    await refuse_writes(world.bot.store)

    result = await world.alice.submit_modal(shown, {"take_text": "A long careful paragraph."})

    assert result.ephemeral and result.response is not None
    assert "**not saved**" in result.response.content and "A long careful paragraph." in result.response.content
    await refuse_writes(world.bot.store, False)
    assert await stored(world) == []


# -- reading and managing -------------------------------------------------------------------------


async def twelve_takes_listed(world: World) -> discord.Message:
    """Alice's takes "take number 0" … "11", 31 s apart; Bob lists them (newest first)."""
    for n in range(12):
        await add(world, world.alice, f"take number {n}")
        await world.env.advance_time(31)
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    listing = world.channel.last_message
    assert listing is not None
    return listing


async def test_takes_lists_newest_first_in_pages_driven_by_the_invoker(world: World) -> None:
    listing = await twelve_takes_listed(world)
    first = listing.embeds[0].description or ""
    assert first.index("take number 11") < first.index("take number 7")
    assert "take number 6" not in first
    assert "Takes 1–5 of 12" in (listing.embeds[0].footer.text or "")

    refused = await world.alice.click(listing, label="Next ›")
    assert refused.ephemeral and refused.response is not None and "Only the member" in refused.response.content

    await world.bob.click(listing, label="Next ›")
    page2 = fresh(world, listing.id)
    assert "take number 6" in (page2.embeds[0].description or "")
    await world.bob.click(page2, label="Next ›")
    page3 = fresh(world, listing.id)
    assert "take number 0" in (page3.embeds[0].description or "")

    shown = await world.bob.click(page3, label="3/3")
    assert shown.modal is not None
    refused = await world.bob.submit_modal(shown, {"page": "9"})
    assert refused.ephemeral and refused.response is not None and "from 1 to 3" in refused.response.content
    shown = await world.bob.click(page3, label="3/3")
    await world.bob.submit_modal(shown, {"page": "1"})
    assert "take number 11" in (fresh(world, listing.id).embeds[0].description or "")

    await world.env.advance_time(3600)  # the pager keeps nothing alive, so it never expires
    await world.bob.click(fresh(world, listing.id), label="≫")
    assert "take number 0" in (fresh(world, listing.id).embeds[0].description or "")


async def test_next_and_prev_turn_from_the_page_shown_while_new_takes_arrive(world: World) -> None:
    """"Next ›" and "‹ Prev" read the page beside the one on screen (a keyset, from the edge the
    button carries), so takes saved meanwhile do not repeat takes on the next page; the first page
    is always the newest takes."""
    listing = await twelve_takes_listed(world)
    assert "take number 7" in (listing.embeds[0].description or "")
    for n in (12, 13):  # saved while Bob reads the first page
        await add(world, world.alice, f"take number {n}")
        await world.env.advance_time(31)

    def shown() -> str:
        return fresh(world, listing.id).embeds[0].description or ""

    await world.bob.click(listing, label="Next ›")
    assert "take number 6" in shown() and "take number 2" in shown() and "take number 7" not in shown()
    await world.bob.click(fresh(world, listing.id), label="Next ›")
    assert "take number 1" in shown() and "take number 0" in shown()
    await world.bob.click(fresh(world, listing.id), label="‹ Prev")  # not 8–4, as counting from the newest would
    assert "take number 6" in shown() and "take number 2" in shown() and "take number 8" not in shown()
    await world.bob.click(fresh(world, listing.id), label="‹ Prev")  # the first page: the newest takes
    assert "take number 13" in shown() and "take number 9" in shown() and "take number 8" not in shown()


async def test_takes_filtered_by_member(world: World) -> None:
    await add(world, world.alice, "Alice's view")
    await add(world, world.bob, "Bob's view")

    await world.mod.send(world.channel, f"!{ARTICLE} takes {world.bob.mention}")

    listing = world.channel.last_message
    assert listing is not None
    text = listing.embeds[0].description or ""
    assert "Bob's view" in text and "Alice's view" not in text


async def test_show_edit_and_delete_own_take(world: World) -> None:
    await add(world, world.alice, "First draft")
    [take] = await stored(world)

    await world.bob.send(world.channel, f"!{ARTICLE} show {take.id}")
    shown = world.channel.last_message
    assert shown is not None and shown.embeds[0].description == "First draft"

    result = await world.alice.slash(world.channel, f"{ARTICLE} edit", take_id=take.id, text="Second draft")
    assert result.ephemeral and result.response is not None and "Updated take" in result.response.content
    [edited] = await stored(world)
    assert edited.content == "Second draft" and edited.edited_at is not None

    await world.alice.send(world.channel, f"!{ARTICLE} delete {take.id}")
    assert await stored(world) == []


async def test_slash_edit_without_text_opens_a_prefilled_modal(world: World) -> None:
    await add(world, world.alice, "Original words")
    [take] = await stored(world)

    shown = await world.alice.slash(world.channel, f"{ARTICLE} edit", take_id=take.id)
    assert shown.modal is not None
    assert "Original words" in json.dumps(shown.modal)
    await world.alice.submit_modal(shown, {"take_text": "Better words"})

    [edited] = await stored(world)
    assert edited.content == "Better words"


async def test_members_cannot_edit_or_delete_others_takes(world: World) -> None:
    await add(world, world.alice, "Mine")
    [take] = await stored(world)

    await world.bob.send(world.channel, f"!{ARTICLE} edit {take.id} hijacked")
    assert_error(world.env, NotAllowed, contains="your own")
    result = await world.bob.slash(world.channel, f"{ARTICLE} delete", take_id=take.id)
    assert_error(world.env, NotAllowed)
    assert result.ephemeral
    assert [t.content for t in await stored(world)] == ["Mine"]


async def test_moderators_can_delete_any_take_and_it_is_audited(world: World) -> None:
    await add(world, world.alice, "Off-topic")
    [take] = await stored(world)

    await world.mod.send(world.channel, f"!{ARTICLE} delete {take.id}")

    assert await stored(world) == []
    [entry] = await world.bot.store.list_audit(world.guild.id)
    assert entry.actor_id == world.mod.id and entry.action == "delete_take"


async def test_guild_isolation(world: World) -> None:
    await add(world, world.alice, "Private to the first clinic")
    [take] = await stored(world)
    other = make_world(world.env, "Hospital")

    await other.alice.send(other.channel, f"!{ARTICLE} show {take.id}")
    assert_error(world.env, NotFound)
    await other.mod.send(other.channel, f"!{ARTICLE} delete {take.id}")
    assert_error(world.env, NotFound)
    await other.bob.send(other.channel, f"!{ARTICLE} takes")
    listing = other.channel.last_message
    assert listing is not None and "Private" not in (listing.embeds[0].description or "")
    assert "No takes yet" in (listing.embeds[0].description or "")
    assert await stored(world, other.guild.id) == []
    assert len(await stored(world)) == 1


async def test_stats(world: World) -> None:
    await add(world, world.alice, "one")
    await add(world, world.bob, "two")

    result = await world.mod.slash(world.channel, f"{ARTICLE} stats")

    assert result.response is not None
    fields = {f.name: f.value for f in result.response.embeds[0].fields}
    assert fields["Takes"] == "2" and fields["Members"] == "2"
    spark = next(v for k, v in fields.items() if k.startswith("Last 30 days"))
    assert spark is not None and spark.count("▁") + spark.count("█") >= 30


async def test_mytakes_lists_own_and_downloads_privately(world: World) -> None:
    await add(world, world.alice, "=HYPERLINK(\"http://evil\")")
    await add(world, world.bob, "Bob's")

    result = await world.alice.slash(world.channel, f"{ARTICLE} mytakes")
    assert result.ephemeral and result.response is not None
    assert "HYPERLINK" in (result.response.embeds[0].description or "")
    [offer] = result.followups
    download = await world.alice.click(offer, label="Download my takes")

    assert download.ephemeral and download.response is not None
    files = {a.filename: await a.read() for a in download.response.attachments}
    rows = list(csv.DictReader(io.StringIO(files[f"my-takes-{world.guild.id}.csv"].decode("utf-8-sig"))))
    assert [r["text"] for r in rows] == ["'=HYPERLINK(\"http://evil\")"]
    data = json.loads(files[f"my-takes-{world.guild.id}.json"])
    assert [d["text"] for d in data] == ["=HYPERLINK(\"http://evil\")"]


async def test_privacy_explains_what_is_stored(world: World) -> None:
    result = await world.alice.slash(world.channel, f"{ARTICLE} privacy")

    assert result.ephemeral and result.response is not None
    text = result.response.embeds[0].description or ""
    for phrase in ("user id", "display name", "forgetme", "mytakes", "Other servers never see them",
                   "What deleting reaches", "copies people made", "what Discord itself"):
        assert phrase in text


async def test_forgetme_deletes_everywhere_after_confirmation(world: World) -> None:
    other = make_world(world.env, "Hospital")
    await add(world, world.alice, "here")
    await world.env.advance_time(31)
    await world.alice.send(world.channel, f"!{ARTICLE} take also here")
    alice_elsewhere = other.guild.add_member(world.alice.user)
    await alice_elsewhere.send(other.channel, f"!{ARTICLE} take and there")
    await add(world, world.bob, "bob stays")

    await world.alice.send(world.channel, f"!{ARTICLE} forgetme")
    question = world.channel.last_message
    # In a channel, how many takes a member has in other servers is not shown.
    assert question is not None and "all of your takes" in question.content and "3" not in question.content
    nope = await world.bob.click(question, label="Delete all my takes")
    assert nope.ephemeral and nope.response is not None and "Only the member" in nope.response.content
    assert len(await stored(world)) == 3

    await world.alice.click(question, label="Delete all my takes")

    assert [t.content for t in await stored(world)] == ["bob stays"]
    assert await stored(world, other.guild.id) == []
    assert "deleted all of your takes" in fresh(world, question.id).content


async def test_forgetme_on_slash_is_private(world: World) -> None:
    await add(world, world.alice, "mine")
    result = await world.alice.slash(world.channel, f"{ARTICLE} forgetme")
    assert result.ephemeral and result.response is not None and "all 1 of your takes" in result.response.content

    await world.alice.click(result.response, label="Cancel")

    assert len(await stored(world)) == 1


async def test_forgetme_times_out_harmlessly(world: World) -> None:
    await add(world, world.alice, "keep me")
    await world.alice.send(world.channel, f"!{ARTICLE} forgetme")
    await world.env.advance_time(61)

    assert len(await stored(world)) == 1
    last = world.channel.last_message
    assert last is not None and "nothing was deleted" in last.content


async def test_takes_and_buttons_survive_a_restart(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE}")
    card = world.channel.last_message
    assert card is not None
    await add(world, world.alice, "Before the restart")

    await world.restart()

    shown = await world.bob.click(card, label="Add your take")
    await world.bob.submit_modal(shown, {"take_text": "After the restart"})
    assert [t.content for t in await stored(world)] == ["Before the restart", "After the restart"]


async def test_retention_purges_old_takes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await add(world, world.alice, "old")
    cog = world.bot.get_cog("Takes")
    assert cog is not None
    object.__setattr__(world.bot.settings, "takes_retention_days", 1)

    await world.env.advance_time(86_400 + 60)
    removed = await cog.purge_expired()  # type: ignore[attr-defined]

    assert removed == 1 and await stored(world) == []


async def test_two_hundred_members_at_once_lose_nothing(world: World) -> None:
    members = [world.guild.add_member(world.env.create_user(f"member{n}")) for n in range(200)]
    backend = world.env.backend  # queue every message before the bot handles any of them
    for n, member in enumerate(members):
        backend.create_message(world.channel.id, member.id, f"!{ARTICLE} take concurrent take {n}")
    await world.env.settle()

    takes = await stored(world)
    acknowledged = [m for m in world.channel.history() if "Saved your take" in m.content]
    assert len(acknowledged) == 200
    assert sorted(t.content for t in takes) == sorted(f"concurrent take {n}" for n in range(200))
    assert len({t.id for t in takes}) == 200


def test_user_errors_are_command_errors() -> None:
    assert issubclass(TakeRejected, UserError)
