"""What members see when things go wrong or time passes: restarts between opening and using a
form or a button, failed writes, an unanswerable channel, odd input. Nothing is lost silently."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest
from simcord import assert_error

from bot.errors import NotFound, UserError
from bot.storage import StorageError, Take
from tests.conftest import World, refuse_writes

ARTICLE = "commonfactors"


async def stored(world: World) -> list[Take]:
    return await world.bot.store.export_takes(world.guild.id, ARTICLE)


# -- across a restart ---------------------------------------------------------------------------


async def test_a_take_form_open_across_a_restart_still_saves(world: World) -> None:
    shown = await world.alice.slash(world.channel, f"{ARTICLE} take")
    await world.restart()

    result = await world.alice.submit_modal(shown, {"take_text": "Written slowly, saved anyway."})

    assert result.ephemeral and result.response is not None and "Saved your take" in result.response.content
    [take] = await stored(world)
    assert take.content == "Written slowly, saved anyway." and take.source == "modal"


async def test_an_edit_form_open_across_a_restart_still_saves(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take First version.")
    [take] = await stored(world)
    shown = await world.alice.slash(world.channel, f"{ARTICLE} edit", take_id=take.id)
    await world.restart()

    result = await world.alice.submit_modal(shown, {"take_text": "Second version."})

    assert result.response is not None and f"Updated take **#{take.id}**" in result.response.content
    assert [t.content for t in await stored(world)] == ["Second version."]


async def takes_by_new_members(world: World, count: int) -> None:
    """``count`` takes ("Point 0." …), each by a member of its own, so no cooldown applies."""
    for n in range(count):
        world.env.backend.create_message(world.channel.id, world.guild.add_member(
            world.env.create_user(f"writer{n}")).id, f"!{ARTICLE} take Point {n}.")
    await world.env.settle()


async def test_a_takes_pager_keeps_working_after_a_restart(world: World) -> None:
    await takes_by_new_members(world, 12)
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    listing = world.channel.last_message
    assert listing is not None
    await world.restart()

    await world.bob.click(listing, label="Next ›")
    page2 = next(m for m in world.channel.history() if m.id == listing.id)
    assert "Point 6." in (page2.embeds[0].description or "") and "Point 11." not in (page2.embeds[0].description or "")
    shown = await world.bob.click(page2, label="2/3")
    await world.restart()  # the "Go to page" form open across a second restart still answers
    await world.bob.submit_modal(shown, {"page": "3"})
    page3 = next(m for m in world.channel.history() if m.id == listing.id)
    assert "Point 0." in (page3.embeds[0].description or "")
    refused = await world.alice.click(page3, label="‹ Prev")
    assert refused.ephemeral and refused.response is not None and "Only the member" in refused.response.content


async def test_a_takes_pager_hides_names_once_the_server_goes_anonymous(world: World) -> None:
    await takes_by_new_members(world, 7)
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    listing = world.channel.last_message
    assert listing is not None and "writer6" in (listing.embeds[0].description or "")
    await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")

    await world.bob.click(listing, label="Next ›")
    await world.bob.click(next(m for m in world.channel.history() if m.id == listing.id), label="≪")

    page1 = next(m for m in world.channel.history() if m.id == listing.id)
    assert "Point 6." in (page1.embeds[0].description or "") and "writer6" not in (page1.embeds[0].description or "")


async def test_a_confirmation_from_before_a_restart_deletes_nothing(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take Keep me.")
    await world.alice.send(world.channel, f"!{ARTICLE} forgetme")
    question = world.channel.last_message
    assert question is not None
    await world.restart()

    result = await world.alice.click(question, label="Delete all my takes")

    assert result.response is not None and "restarted" in result.response.content
    assert len(await stored(world)) == 1


# -- failures are told, and words are handed back -------------------------------------------------


async def test_a_long_take_that_failed_comes_back_as_a_file(world: World) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} settings take_length 4000")
    shown = await world.alice.slash(world.channel, f"{ARTICLE} take")
    await refuse_writes(world.bot.store)
    text = "A careful paragraph. " * 120

    result = await world.alice.submit_modal(shown, {"take_text": text})

    await refuse_writes(world.bot.store, False)
    assert result.response is not None and "**not saved**" in result.response.content
    [draft] = result.response.attachments
    assert draft.filename == "your-take.txt" and (await draft.read()).decode("utf-8") == text
    assert await stored(world) == []


async def test_a_moderators_delete_is_reported_done_even_if_the_audit_write_fails(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take Remove me.")
    [take] = await stored(world)

    async def refuse(*args: object, **kwargs: object) -> None:
        raise StorageError("disk full")

    monkeypatch.setattr(world.bot.store, "add_audit", refuse)
    await world.mod.send(world.channel, f"!{ARTICLE} delete {take.id}")

    answer = world.channel.last_message
    assert answer is not None and f"Deleted the take **#{take.id}**" in answer.content
    assert await stored(world) == []


async def test_an_article_button_failure_is_answered_with_an_id(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE}")
    card = world.channel.last_message
    assert card is not None

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(world.bot.store, "get_guild_settings", broken)
    result = await world.alice.click(card, label="Add your take")

    assert result.ephemeral and result.response is not None and "error id `E-" in result.response.content


async def test_a_take_saved_where_the_bot_cannot_answer_is_confirmed_by_dm(world: World) -> None:
    me = world.guild.me
    assert me is not None
    quiet = world.guild.create_text_channel("quiet", overwrites={
        me: discord.PermissionOverwrite(send_messages=False)})

    await world.alice.send(quiet, f"!{ARTICLE} take Heard anyway.")

    [take] = await stored(world)
    dm = world.alice.user.dm_channel.last_message
    assert dm is not None and f"Saved your take **#{take.id}**" in dm.content and "couldn't answer" in dm.content


# -- privacy ------------------------------------------------------------------------------------


async def test_anonymous_lists_do_not_link_to_the_authors_message(world: World) -> None:
    await world.bob.send(world.channel, f"!{ARTICLE} take Bob's point.")
    await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")

    await world.alice.send(world.channel, f"!{ARTICLE} takes")
    listing = world.channel.last_message
    [take] = await stored(world)
    await world.alice.send(world.channel, f"!{ARTICLE} show {take.id}")
    shown = world.channel.last_message

    assert listing is not None and shown is not None
    assert "/channels/" not in str(listing.embeds[0].to_dict()) and "/channels/" not in str(shown.embeds[0].to_dict())


async def test_mytakes_in_a_dm_covers_every_server(world: World) -> None:
    from tests.conftest import make_world

    other = make_world(world.env, "Hospital", bots=world.bots)
    await world.alice.send(world.channel, f"!{ARTICLE} take Here.")
    elsewhere = other.guild.add_member(world.alice.user)
    await elsewhere.send(other.channel, f"!{ARTICLE} take There.")

    await world.alice.send_dm(f"!{ARTICLE} mytakes")

    answer = world.alice.user.dm_channel.last_message
    assert answer is not None and "Clinic: 1 take" in answer.content and "Hospital: 1 take" in answer.content
    result = await world.alice.user.click(answer, label="Download my takes")
    assert result.response is not None
    names = [a.filename for a in result.response.attachments]
    assert names == ["my-takes-everywhere.csv", "my-takes-everywhere.json"]
    rows = (await result.response.attachments[0].read()).decode("utf-8-sig")
    assert "Here." in rows and "There." in rows


# -- odd input ----------------------------------------------------------------------------------


async def test_a_huge_faq_number_is_simply_not_found(world: World) -> None:
    await world.alice.slash(world.channel, f"{ARTICLE} faq", query="9" * 5000)
    assert_error(world.env, NotFound, contains="numbered 1 to")


async def test_a_faq_query_with_nothing_to_match_says_how_to_list_them(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} faq !!!")
    assert_error(world.env, NotFound, contains="lists every question")


async def test_takes_for_an_unknown_member_says_so(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} takes nobody-here")
    assert_error(world.env, UserError, contains="could not find a member `nobody-here`")


async def test_a_slash_take_with_text_is_recorded_as_a_command(world: World) -> None:
    await world.alice.slash(world.channel, f"{ARTICLE} take", text="Typed straight in.")
    [take] = await stored(world)
    assert take.source == "command"


async def test_the_edit_form_holds_a_take_longer_than_a_lowered_limit(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take {'w' * 300}")
    await world.mod.send(world.channel, f"!{ARTICLE} settings take_length 100")
    [take] = await stored(world)

    shown = await world.alice.slash(world.channel, f"{ARTICLE} edit", take_id=take.id)
    result = await world.alice.submit_modal(shown, {"take_text": "w" * 150})

    assert result.response is not None and "the limit here is 100" in result.response.content
    result = await world.alice.submit_modal(
        await world.alice.slash(world.channel, f"{ARTICLE} edit", take_id=take.id), {"take_text": "short now"})
    assert [t.content for t in await stored(world)] == ["short now"]


def test_migrations_never_drop_or_delete_data() -> None:
    folder = Path(__file__).parent.parent / "bot" / "storage" / "migrations"
    migrations = sorted(folder.glob("V*__*.sql"))
    assert migrations
    for path in migrations:
        sql = " ".join(path.read_text(encoding="utf-8").upper().split())
        # A member's take counter is derived from their takes (rebuild_counters recounts it) and
        # must go with their last take: deleting it loses nothing and forgets them.
        sql = sql.replace("DELETE FROM TAKE_MEMBER_COUNTS", "")
        # Which bot messages quote a take goes with the take (V5's trigger): it points at words
        # that no longer exist, and keeping it would keep a trace of them.
        sql = sql.replace("DELETE FROM TAKE_QUOTES WHERE TAKE_ID = OLD.ID", "")
        # A block's count of takes (V9) is derived from the takes' ids; a block with none left
        # held no words and goes.
        sql = sql.replace("DELETE FROM TAKE_BLOCKS", "")
        for words in ("DROP TABLE", "DROP COLUMN", "DELETE FROM", "TRUNCATE"):
            assert words not in sql, f"{path.name} contains {words}: migrations must never lose data"
