"""Discord failing under the bot: a committed take stays committed, is never saved twice, and the
member still learns it was saved (a retry, a reaction or a DM); bursts and failed clean-ups."""

from __future__ import annotations

import logging

import pytest
from simcord import assert_error

from bot.errors import TooSoon
from bot.storage import Take
from tests.conftest import World

ARTICLE = "commonfactors"
TEXT = "Something worth keeping."


async def stored(world: World) -> list[Take]:
    return list(await world.bot.store.export_takes(world.guild.id, ARTICLE))


def dms(world: World, actor: object) -> list[str]:
    return [m.content for m in actor.user.dm_channel.history()]  # type: ignore[attr-defined]


def delivery_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.delivery"]


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_a_prefix_take_whose_reply_fails_is_confirmed_by_reaction_and_dm(
        world: World, status: int, caplog: pytest.LogCaptureFixture) -> None:
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=status, times=1)

    sent = await world.alice.send(world.channel, f"!{ARTICLE} take {TEXT}")

    [take] = await stored(world)
    assert take.content == TEXT
    assert not world.env.errors  # nothing unexpected, no error id shown: the take was saved and they know it
    [dm] = dms(world, world.alice)
    assert f"Saved your take **#{take.id}**" in dm and "Discord failed to deliver" in dm
    message = next(m for m in world.channel.history() if m.id == sent.id)
    assert [str(r.emoji) for r in message.reactions] == ["✅"]
    [warning] = delivery_warnings(caplog)
    assert warning.levelno == logging.WARNING and "E-" in warning.getMessage() and str(status) in warning.getMessage()
    assert warning.exc_info is None  # one line, not a traceback


async def test_a_prefix_take_with_reply_and_dm_failing_still_gets_the_reaction(world: World) -> None:
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=500, times=1)
    dm = world.alice.user.dm_channel
    world.env.inject_error("POST", f"/channels/{dm.id}/messages", status=403, code=50007, times=None)

    sent = await world.alice.send(world.channel, f"!{ARTICLE} take {TEXT}")

    assert len(await stored(world)) == 1 and not world.env.errors
    message = next(m for m in world.channel.history() if m.id == sent.id)
    assert [str(r.emoji) for r in message.reactions] == ["✅"]


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_a_slash_take_whose_callback_fails_is_answered_on_the_retry(world: World, status: int) -> None:
    world.env.inject_error("POST", "/interactions/*/callback", status=status, times=1)

    result = await world.alice.slash(world.channel, f"{ARTICLE} take", text=TEXT)

    [take] = await stored(world)
    assert result.ephemeral and result.response is not None
    assert f"Saved your take **#{take.id}**" in result.response.content
    assert not world.env.errors and not dms(world, world.alice)


@pytest.mark.parametrize(("status", "times"), [(500, None), (403, 1)])
async def test_a_slash_take_whose_callback_keeps_failing_is_confirmed_by_dm(
        world: World, status: int, times: int | None) -> None:
    world.env.inject_error("POST", "/interactions/*/callback", status=status, times=times)

    await world.alice.slash(world.channel, f"{ARTICLE} take", text=TEXT)

    [take] = await stored(world)
    assert not world.env.errors
    [dm] = dms(world, world.alice)
    assert f"Saved your take **#{take.id}**" in dm


async def test_a_form_whose_callback_fails_saves_once_and_says_so(world: World) -> None:
    shown = await world.alice.slash(world.channel, f"{ARTICLE} take")
    world.env.inject_error("POST", "/interactions/*/callback", status=500, times=1)

    result = await world.alice.submit_modal(shown, {"take_text": TEXT})

    [take] = await stored(world)
    assert result.response is not None and f"Saved your take **#{take.id}**" in result.response.content
    assert not world.env.errors


async def test_a_reply_take_whose_reaction_and_reply_fail_is_confirmed_by_dm(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE}")
    overview = world.channel.last_message
    assert overview is not None and overview.author.bot
    world.env.inject_error("PUT", f"/channels/{world.channel.id}/messages/*/reactions/*", status=403, code=50013,
                           times=None)
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=500, times=None)

    await world.bob.send(world.channel, TEXT, reply_to=overview)

    [take] = await stored(world)
    assert take.source == "reply" and not world.env.errors
    [dm] = dms(world, world.bob)
    assert f"Saved your reply as take **#{take.id}**" in dm


async def test_a_burst_of_takes_from_one_member_is_answered_once(world: World) -> None:
    backend = world.env.backend  # 200 messages queued before the bot handles any of them
    for n in range(200):
        backend.create_message(world.channel.id, world.alice.id, f"!{ARTICLE} take burst take {n}")
    await world.env.settle()

    takes = await stored(world)
    assert len(takes) == 1  # the cooldown admits exactly one
    answers = [m for m in world.channel.history() if m.author.bot]
    assert [m.content.startswith("Saved your take") for m in answers].count(True) == 1
    refusals = [m for m in answers if "One take every" in m.content]
    assert len(refusals) == 1  # the burst is answered once...
    quiet = [m for m in world.channel.history() if not m.author.bot and [str(r.emoji) for r in m.reactions] == ["⏳"]]
    assert len(quiet) == 198  # ...and every other refused message is marked, not answered
    assert_error(world.env, TooSoon, contains="One take every")  # the one answered refusal, nothing else


async def test_after_the_burst_window_a_refusal_is_answered_again(world: World) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} settings cooldown 5m")
    for text in ("First.", "Second.", "Third."):
        await world.alice.send(world.channel, f"!{ARTICLE} take {text}")
    assert_error(world.env, TooSoon, contains="One take every")
    await world.env.advance_time(31)
    await world.alice.send(world.channel, f"!{ARTICLE} take Fourth.")
    assert_error(world.env, TooSoon, contains="One take every")

    texts = [m.content for m in world.channel.history() if m.author.bot]
    assert sum("Saved your take" in t for t in texts) == 1
    assert sum("One take every" in t for t in texts) == 2  # Second, and Fourth after the window; not Third
    assert [t.content for t in await stored(world)] == ["First."]


def summaries(world: World) -> list[object]:
    return [m for m in world.channel.history()
            if m.author.bot and m.embeds and (m.embeds[0].title or "").startswith("Summary:") and m.components]


async def test_a_pin_whose_clean_up_also_fails_is_remembered_so_the_next_pin_reuses_it(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.env.inject_error("PUT", f"/channels/{world.channel.id}/messages/pins/*", status=500, times=1)
    world.env.inject_error("DELETE", f"/channels/{world.channel.id}/messages/*", status=500, times=1)

    await world.mod.send(world.channel, f"!{ARTICLE} pin")
    world.env.errors.clear()  # Discord's 500 on the pin itself is answered with an error id: not this test's point
    [left_over] = summaries(world)
    assert any("recording it so the next pin reuses it" in r.getMessage() for r in caplog.records)

    await world.mod.send(world.channel, f"!{ARTICLE} pin")

    [summary] = summaries(world)
    assert summary.id == left_over.id and summary.pinned  # type: ignore[attr-defined]
    record = await world.bot.store.get_pin(world.guild.id, world.channel.id, ARTICLE)
    assert record is not None and record.message_id == summary.id  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [500, 503, 429, 403])
async def test_a_pin_whose_follow_up_fails_still_tells_the_moderator_it_is_pinned(world: World, status: int) -> None:
    world.env.inject_error("POST", "/webhooks/*", status=status, times=1)

    result = await world.mod.slash(world.channel, f"{ARTICLE}-mod pin")

    [summary] = summaries(world)
    assert summary.pinned  # type: ignore[attr-defined]
    assert not world.env.errors  # no "something went wrong": it did not
    shown = [result.response, *result.followups]
    answers = [m.content for m in shown if m is not None and m.content] + dms(world, world.mod)
    assert sum("Pinned the summary" in a for a in answers) == 1


async def test_a_settings_change_whose_reply_fails_is_confirmed_by_dm(world: World) -> None:
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=503, times=1)

    await world.mod.send(world.channel, f"!{ARTICLE} settings cooldown 2m")

    assert (await world.bot.store.get_guild_settings(world.guild.id)).take_cooldown_seconds == 120
    assert not world.env.errors
    assert any("Changed **Take cooldown" in dm for dm in dms(world, world.mod))


async def test_a_reply_take_not_saved_is_told_by_dm_when_the_channel_refuses(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE}")
    overview = world.channel.last_message
    assert overview is not None
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=403, code=50013, times=None)

    await world.bob.send(world.channel, "\u200b\u200b", reply_to=overview)

    assert not await stored(world)
    [dm] = dms(world, world.bob)
    assert "empty" in dm
