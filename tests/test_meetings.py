"""Journal-club meetings through Discord, in simulated time: scheduled (event, announcement),
reminded, started at their time (thread, question 1), discussed (takes with their question),
moved on, ended (digest, archived thread, completed event, takes by DM), across restarts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import discord
import pytest
from simcord import assert_error

from bot import Settings
from bot.errors import BotMissingPermission, NotAllowed, UserError
from bot.meetings import MeetingRefused
from bot.storage import Meeting
from bot.when import BadWhen
from tests.conftest import World

ARTICLE = "commonfactors"
MOD = f"{ARTICLE}-mod"
HOUR = 3600.0


def texts(channel: Any) -> list[str]:
    return [m.content for m in channel.history() if m.author.bot]


async def stored_meeting(world: World) -> Meeting:
    meeting = await world.bot.store.active_meeting(world.guild.id, world.channel.id, ARTICLE)
    assert meeting is not None
    return meeting


def events(world: World) -> list[Any]:
    return list(world.env.backend.guilds[world.guild.id].scheduled_events.values())


async def until(world: World, moment: dt.datetime) -> None:
    await world.env.advance_time((moment - world.env.now()).total_seconds())


async def test_a_whole_meeting_in_simulated_time(world: World) -> None:
    # The clock starts at 2026-01-01 00:00 UTC.
    await world.mod.send(world.channel, f"!{ARTICLE} pin")
    await world.mod.send(world.channel, f"!{ARTICLE} meeting schedule 2026-01-03 19:00 for 90m")
    assert "Scheduled the journal club" in world.channel.last_message.content
    announcement = next(t for t in texts(world.channel) if t.startswith("📅"))
    start = dt.datetime(2026, 1, 3, 19, 0, tzinfo=dt.UTC)
    assert f"<t:{int(start.timestamp())}:F>" in announcement  # every reader's own zone
    [event] = events(world)
    assert event.status == 1 and event.entity_type == 3 and "Journal club" in event.name
    meeting = await stored_meeting(world)
    assert (meeting.state, meeting.duration_minutes, meeting.event_id) == ("scheduled", 90, event.id)

    await until(world, start - dt.timedelta(days=1, minutes=-1))
    assert any("tomorrow" in t for t in texts(world.channel))
    await world.restart()  # before the meeting: nothing is lost
    await until(world, start - dt.timedelta(minutes=59))
    assert any("in an hour" in t for t in texts(world.channel))

    await until(world, start + dt.timedelta(minutes=1))
    [thread] = world.channel.threads
    assert thread.name.startswith("Common Factors") or "2026-01-03" in thread.name
    question_one = thread.last_message
    assert question_one is not None and "Question 1" in question_one.content
    meeting = await stored_meeting(world)
    assert meeting.state == "running" and meeting.question == 1 and meeting.thread_id == thread.id
    assert events(world)[0].status == 2

    await world.alice.send(thread, "The alliance carries most of the effect.")
    await world.restart()  # during the meeting: the question position survives
    await world.mod.click(question_one, label="Next question")
    assert "Question 2" in thread.last_message.content
    await world.bob.send(thread, "Allegiance effects explain the rest.")
    takes = await world.bot.store.meeting_takes(world.guild.id, meeting.id)
    assert [(t.content, q) for t, q in takes] == [("The alliance carries most of the effect.", 1),
                                                  ("Allegiance effects explain the rest.", 2)]
    bobs_message = next(m for m in thread.history() if m.content.startswith("Allegiance"))
    alices_message = next(m for m in thread.history() if m.content.startswith("The alliance"))
    await world.alice.react(bobs_message, "👍")
    await world.mod.react(bobs_message, "👍")
    await world.mod.react(alices_message, "👍")
    await world.alice.react(alices_message, "👍")  # her own take: not counted
    await world.mod.unreact(alices_message, "👍")  # and taken back
    assert await world.bot.store.agreement_counts(world.guild.id, [t.id for t, _ in takes]) == {takes[1][0].id: 2}

    await world.mod.send(world.channel, f"!{ARTICLE} meeting end")
    digest = [m for m in world.channel.history() if m.embeds and "digest" in (m.embeds[0].title or "")]
    assert digest and "1 take" in digest[0].embeds[0].description
    most_agreed = next(f.value for f in digest[0].embeds[0].fields if f.name == "Most agreed")
    assert "👍 2" in most_agreed and "Allegiance effects" in most_agreed and "alliance carries" not in most_agreed
    assert world.env.backend.channels[thread.id].thread_metadata.archived
    assert events(world)[0].status == 3
    dm = world.mod.user.dm_channel.last_message
    assert dm is not None and sorted(a.filename for a in dm.attachments) == [
        f"meeting-{ARTICLE}-{meeting.id}.csv", f"meeting-{ARTICLE}-{meeting.id}.json"]
    ended = await world.bot.store.get_meeting(world.guild.id, meeting.id)
    assert ended is not None and ended.state == "ended"


async def test_the_meeting_ends_by_itself_and_after_a_restart(world: World) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} meeting schedule 2026-01-01 02:00 for 30m")
    await world.restart()
    await world.env.advance_time(2 * HOUR + 60)
    meeting = await stored_meeting(world)
    assert meeting.state == "running"
    await world.restart()
    await world.env.advance_time(HOUR)
    ended = await world.bot.store.get_meeting(world.guild.id, meeting.id)
    assert ended is not None and ended.state == "ended"
    assert any(m.embeds and "digest" in (m.embeds[0].title or "") for m in world.channel.history())


async def test_a_reminder_missed_while_the_bot_was_down_is_not_posted_late(world: World) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} meeting schedule 2026-01-03 19:00")
    cog: Any = world.bot.get_cog("Meetings")
    cog.due_work.cancel()  # the bot is "down" through the day-before reminder
    await world.env.advance_time(44 * HOUR)  # 2026-01-02 20:00, an hour after the reminder's moment
    await world.restart()
    await world.env.advance_time(60)
    assert not any("tomorrow" in t for t in texts(world.channel))
    meeting = await stored_meeting(world)
    assert meeting.reminded_day and not meeting.reminded_hour


async def test_members_see_the_next_meeting_and_cannot_run_one(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} meeting")
    assert "No journal club" in world.channel.last_message.content
    await world.mod.send(world.channel, f"!{ARTICLE} meeting schedule tomorrow 19:00")
    result = await world.alice.slash(world.channel, f"{ARTICLE} meeting")
    assert result.ephemeral and "Next journal club" in result.response.content

    await world.alice.send(world.channel, f"!{ARTICLE} meeting schedule tomorrow 20:00")
    assert_error(world.env, NotAllowed, contains="Only moderators")
    await world.alice.send(world.channel, f"!{ARTICLE} meeting-start")
    assert_error(world.env, NotAllowed)


async def test_bad_times_and_two_meetings_at_once_are_refused(world: World) -> None:
    result = await world.mod.slash(world.channel, f"{MOD} meeting-schedule", when="yesterday-ish")
    error = assert_error(world.env, BadWhen, contains="tomorrow 19:00")
    assert result is not None and error is not None
    await world.mod.send(world.channel, f"!{ARTICLE} meeting schedule 2025-12-31 10:00")
    assert_error(world.env, BadWhen, contains="already passed")

    await world.mod.send(world.channel, f"!{ARTICLE} meeting start")
    assert world.channel.threads
    await world.mod.send(world.channel, f"!{ARTICLE} meeting schedule tomorrow 19:00")
    assert_error(world.env, MeetingRefused, contains="running")
    await world.mod.send(world.channel, f"!{ARTICLE} meeting start")
    assert_error(world.env, MeetingRefused, contains="already running")


async def test_rescheduling_moves_the_event_and_cancel_cancels_it(world: World) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} meeting schedule 2026-01-05 19:00")
    await world.mod.send(world.channel, f"!{ARTICLE} meeting schedule 2026-01-06 18:00")
    assert "Moved" in world.channel.last_message.content
    [event] = events(world)
    assert event.scheduled_start_time.startswith("2026-01-06T18:00")
    await world.mod.send(world.channel, f"!{ARTICLE} meeting cancel")
    assert events(world)[0].status == 4
    assert await world.bot.store.active_meeting(world.guild.id, world.channel.id, ARTICLE) is None


async def test_without_manage_events_the_meeting_runs_without_an_event(world: World) -> None:
    me = world.guild.me
    assert me is not None
    bot_role = next(r for r in world.guild.roles.values() if r.name == "TestBot")
    permissions = discord.Permissions(world.env.backend.guilds[world.guild.id].roles[bot_role.id].permissions)
    permissions.manage_events = False
    world.env.backend.guilds[world.guild.id].roles[bot_role.id].permissions = permissions.value
    await world.mod.send(world.channel, f"!{ARTICLE} meeting schedule tomorrow 19:00")
    assert "Manage Events" in world.channel.last_message.content
    assert events(world) == []
    assert (await stored_meeting(world)).state == "scheduled"


async def test_agreeing_on_show_and_the_most_agreed_list(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take The alliance is built through the work.")
    await world.bob.send(world.channel, f"!{ARTICLE} take Models give the alliance something to do.")
    await world.env.advance_time(120)
    await world.alice.send(world.channel, f"!{ARTICLE} take A second thought of mine.")
    alice_first, alice_second = [t.id for t in await world.bot.store.member_takes(world.alice.id)]
    [bob_take] = [t.id for t in await world.bot.store.member_takes(world.bob.id)]

    shown = await world.bob.slash(world.channel, f"{ARTICLE} show", take_id=alice_first)
    clicked = await world.bob.click(shown.response, label="Agree")
    assert clicked.ephemeral and "You agree with take" in clicked.response.content
    clicked = await world.mod.click(shown.response, label="Agree")
    assert "2 members agree" in clicked.response.content
    again = await world.mod.click(shown.response, label="Agree")  # a second click takes it back
    assert "no longer agree" in again.response.content and "1 member agrees" in again.response.content
    own = await world.alice.click(shown.response, label="Agree")
    assert "your own take" in own.response.content
    await world.bot.services.meetings.agree(world.guild.id, bob_take, world.alice.id)
    await world.bot.services.meetings.agree(world.guild.id, bob_take, world.mod.id)

    shown = await world.alice.slash(world.channel, f"{ARTICLE} show", take_id=alice_first)
    assert any(f.name == "Agreed" and f.value == "👍 1" for f in shown.response.embeds[0].fields)
    await world.alice.send(world.channel, f"!{ARTICLE} takes top")
    listing = world.channel.last_message.embeds[0]
    assert listing.title.startswith("Most agreed takes")
    assert listing.description.index(f"#{bob_take}") < listing.description.index(f"#{alice_first}")
    assert f"#{alice_second}" not in listing.description  # no one agrees with it (yet)
    assert "👍 2" in listing.description and "most agreed first" in listing.footer.text
    result = await world.alice.slash(world.channel, f"{ARTICLE} takes", sort="top")
    assert "Most agreed" in (result.response.embeds[0].title or "")

    # Erasure: Alice's agreements go with her.
    await world.bot.services.takes.forget_member(world.alice.id)
    assert await world.bot.store.agreement_counts(world.guild.id, [bob_take]) == {bob_take: 1}


async def test_the_next_article_poll_and_its_result_after_a_restart(world: World) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} poll 2")
    assert "Posted the poll" in world.channel.last_message.content
    poll_message = next(m for m in world.channel.history() if m.poll is not None)
    assert poll_message.poll.question == "Which article next?"
    titles = [a.text for a in poll_message.poll.answers]
    assert len(titles) == len(world.bot.articles) and all(len(t) <= 55 for t in titles)
    await world.alice.vote(poll_message, answer=2)
    await world.bob.vote(poll_message, answer=2)
    await world.mod.vote(poll_message, answer=1)
    await world.restart()  # the poll closes after a restart all the same
    await world.env.advance_time(2 * HOUR + 1)
    result = world.channel.last_message.content
    assert result.startswith("📊") and f"*{titles[1]}* won with 2 votes of 3" in result


async def test_poll_refusals(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} poll")
    assert_error(world.env, NotAllowed)
    await world.mod.send(world.channel, f"!{ARTICLE} poll 500")
    assert_error(world.env, UserError, contains="from 1 to 168 hours")


async def test_without_create_public_threads_the_refusal_names_it(world: World) -> None:
    me = world.guild.me
    assert me is not None
    locked = world.guild.create_text_channel(
        "no-threads", overwrites={me: discord.PermissionOverwrite(create_public_threads=False)})
    result = await world.mod.slash(locked, f"{MOD} meeting-start")
    assert result.ephemeral
    assert_error(world.env, BotMissingPermission, contains="Create Public Threads")
    assert locked.threads == []

    # A meeting due to start there says so in the channel, once, instead of a traceback.
    await world.mod.send(locked, f"!{ARTICLE} meeting schedule in 30 minutes")
    await world.env.advance_time(31 * 60)
    notes = [t for t in texts(locked) if "Create Public Threads" in t]
    assert len(notes) == 1 and "couldn't start" in notes[0]
    assert await world.bot.store.active_meeting(world.guild.id, locked.id, ARTICLE) is None


async def test_a_restart_after_the_meeting_changes_nothing(world: World) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} meeting start")
    [thread] = world.channel.threads
    await world.alice.send(thread, "A take in the thread.")
    await world.mod.send(thread, f"!{ARTICLE} meeting end")  # from inside the thread
    digests = len([m for m in world.channel.history() if m.embeds and "digest" in (m.embeds[0].title or "")])
    await world.restart()
    await world.env.advance_time(3 * HOUR)
    assert len([m for m in world.channel.history() if m.embeds and "digest" in (m.embeds[0].title or "")]) == digests
    await world.alice.send(world.channel, f"!{ARTICLE} meeting")
    assert "No journal club" in world.channel.last_message.content
    [take] = await world.bot.store.export_takes(world.guild.id, ARTICLE)
    assert take.content == "A take in the thread."


class TestWithoutMessageContent:
    @pytest.fixture
    def settings(self, data_dir: Path, database_url: str) -> Settings:
        return Settings(data_dir=data_dir, database_url=database_url, message_content_intent=False)

    async def test_members_answer_with_take_in_the_thread(self, world: World) -> None:
        await world.mod.slash(world.channel, f"{MOD} meeting-start")
        [thread] = world.channel.threads
        question = thread.last_message
        assert "`/commonfactors take <your text>`" in question.content or "take <your text>" in question.content
        assert "Add your take" in [c.label for row in question.components for c in row.children]
        await world.alice.slash(thread, f"{ARTICLE} take", text="Taken with the command in the thread.")
        meeting = await stored_meeting(world)
        [(take, number)] = await world.bot.store.meeting_takes(world.guild.id, meeting.id)
        assert take.content == "Taken with the command in the thread." and number == 1


async def test_times_are_read_in_the_servers_zone_and_reminders_can_be_turned_off(world: World) -> None:
    await world.admin.send(world.channel, f"!{ARTICLE} settings timezone america/new_york")
    await world.admin.send(world.channel, f"!{ARTICLE} settings meeting_reminders off")
    await world.mod.send(world.channel, f"!{ARTICLE} meeting schedule 2026-01-03 19:00")
    meeting = await stored_meeting(world)
    assert meeting.starts_at == dt.datetime(2026, 1, 4, 0, 0, tzinfo=dt.UTC)  # 19:00 in New York (UTC-5)
    await world.env.advance_time(3 * 24 * HOUR + 60)
    assert not any(t.startswith("⏰") for t in texts(world.channel))  # no reminders
    assert world.channel.threads  # but the meeting started
    await world.admin.send(world.channel, f"!{ARTICLE} settings timezone Mars/Olympus_Mons")
    assert_error(world.env, UserError, contains="not a time zone I know")


async def test_meetings_are_scheduled_in_the_channel_not_in_a_thread(world: World) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} meeting start")
    [thread] = world.channel.threads
    await world.mod.send(thread, f"!{ARTICLE} meeting schedule tomorrow 19:00")
    assert_error(world.env, MeetingRefused, contains="in the channel itself")


async def test_erasing_a_take_redraws_the_meetings_digest_without_it(world: World) -> None:
    from tests.test_erasure import bot_posts, confirm_forgetme

    await world.mod.send(world.channel, f"!{ARTICLE} meeting start")
    [thread] = world.channel.threads
    alice_words = "Alice reads the alliance as a product of early progress."
    await world.alice.send(thread, alice_words)
    await world.bob.send(thread, "Bob keeps his view on allegiance.")
    alices = next(m for m in thread.history() if m.content == alice_words)
    await world.bob.react(alices, "👍")
    await world.mod.send(world.channel, f"!{ARTICLE} meeting end")
    posted = bot_posts(world)
    assert alice_words in posted and world.alice.name in posted  # quoted and named in the digest

    await world.restart()  # the digests are remembered in the database, not in memory
    await confirm_forgetme(world, world.alice)
    posted = bot_posts(world)
    assert alice_words not in posted and world.alice.name not in posted
    digests = [m for channel in (world.channel, thread) for m in channel.history()
               if m.author.bot and m.embeds and "digest" in (m.embeds[0].title or "")]
    assert len(digests) == 2
    for digest in digests:
        assert "1 take" in (digest.embeds[0].description or "")
        assert all(f.name != "Most agreed" for f in digest.embeds[0].fields)  # her take was the only agreed one
    assert await world.bot.store.fetch_raw("SELECT COUNT(*) FROM quote_redraws") == [(0,)]


async def test_a_poll_that_closed_while_the_bot_was_down_is_answered_once_when_it_is_back(world: World) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} poll 1")
    poll_message = next(m for m in world.channel.history() if m.poll is not None)
    titles = [a.text for a in poll_message.poll.answers]
    await world.alice.vote(poll_message, answer=1)
    assert await world.bot.store.fetch_raw("SELECT COUNT(*) FROM polls") == [(1,)]
    cog: Any = world.bot.get_cog("Meetings")
    cog.due_work.cancel()  # the bot is "down": it neither hears the poll close nor looks for it
    world.bot.remove_listener(cog.on_raw_message_edit, "on_raw_message_edit")
    await world.env.advance_time(3 * HOUR)
    assert not any(t.startswith("📊") for t in texts(world.channel))

    await world.restart()
    await world.env.advance_time(60)
    results = [t for t in texts(world.channel) if t.startswith("📊")]
    assert len(results) == 1 and f"*{titles[0]}* won with 1 vote of 1" in results[0]
    assert await world.bot.store.fetch_raw("SELECT COUNT(*) FROM polls") == [(0,)]  # owed no more

    await world.restart()  # answered once, whatever happens next
    await world.env.advance_time(HOUR)
    assert len([t for t in texts(world.channel) if t.startswith("📊")]) == 1


async def test_forged_agree_and_next_question_ids_reach_nothing_in_another_server(world: World) -> None:
    """[Agree] and [Next question] name a take or a meeting in their ids; the server, the member
    and the moderator's rights come from the click, so a forged id reaches nothing elsewhere."""
    from tests.conftest import make_world

    other = make_world(world.env, "Other", world.bots)
    await other.alice.send(other.channel, f"!{ARTICLE} take Another server's take.")
    [theirs] = await world.bot.store.member_takes(other.alice.id)
    await other.mod.send(other.channel, f"!{ARTICLE} meeting start")
    meeting = await world.bot.store.active_meeting(other.guild.id, other.channel.id, ARTICLE)
    assert meeting is not None and meeting.question == 1
    assert world.bot.user is not None

    def bot_message_with(custom_id: str) -> Any:
        button = {"type": 2, "style": 2, "label": "Forged", "custom_id": custom_id}
        stored = world.env.backend.create_message(world.channel.id, world.bot.user.id, "Forged controls.",
                                                  components=[{"type": 1, "components": [button]}])
        return next(m for m in world.channel.history() if m.id == stored.id)

    agree = f"cf:agree:{theirs.id}"
    refused = await world.bob.click(bot_message_with(agree), custom_id=agree)
    assert refused.ephemeral and refused.response is not None
    assert refused.response.content == f"There is no take #{theirs.id} in this server."
    assert await world.bot.store.agreement_counts(other.guild.id, [theirs.id]) == {}

    forward = f"cfm:next:{meeting.id}"
    refused = await world.mod.click(bot_message_with(forward), custom_id=forward)
    assert refused.ephemeral and refused.response is not None
    assert refused.response.content == "That meeting no longer exists."
    after = await world.bot.store.get_meeting(other.guild.id, meeting.id)
    assert after is not None and after.question == 1
