"""Hostile input through Discord (SimCord): takes, FAQ queries, settings values and member names
drawn from all of Unicode, markdown and mention breakers, and lengths at Discord's limits.

For every example: every command answers within Discord's limits (counted as Discord counts, in
code points) or with its clear refusal, never an unexpected error; no message the bot sends can
ping anyone; a take that is accepted is stored exactly as the member wrote it; an invisible-only
take or prefix is refused. Example counts scale with ``HYPOTHESIS_PROFILE`` (tests/fuzz.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import discord
from hypothesis import HealthCheck, assume, given
from hypothesis import strategies as st

from bot.errors import UserError
from bot.text import discord_length, has_visible_content, is_invisible
from bot.ui.rendering import within_limits
from bot.ui.reporting import _unwrap
from tests.conftest import World
from tests.fuzz import fuzz

ARTICLE = "commonfactors"
MESSAGE_LIMIT = 2000

#: Pieces an adversarial member would try: pings, markdown and code-block breakers, masked links,
#: invisible and direction-changing characters, combining marks, astral and joined emoji, NUL,
#: and half of a surrogate pair (Discord's JSON can carry a lone ``\\ud83d``).
PIECES = st.sampled_from([
    "@everyone", "@here", "<@123456789012345678>", "<@!123456789012345678>", "<@&123456789012345678>",
    "<#123456789012345678>", "```", "`", "||", "**", "__", "~~", "> ", "# ", "-# ", "[click](https://evil.example)",
    "<https://evil.example>", "\\", "\u202e", "\u2066", "\u200f", "\u200b", "\u2060", "\ufeff", "\u3164",
    "\u2800", "e\u0301\u0301\u0301", "🇫🇷", "👩\u200d⚕️", "😀", "\U0001f3fd", "\n", "\r\n", "\t", "\x00",
    "\ud83d", "'", '"', "=1+1", "+", "-", "@",
])
HOSTILE_TEXT = st.one_of(
    st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=25).map("".join),
    st.text(alphabet=st.characters(), max_size=80),
    st.tuples(st.text(min_size=1, max_size=5), st.integers(1400, 1600)).map(lambda t: (t[0] * 2000)[: t[1]]),
)


def with_fixture(examples: int) -> Any:
    """Settings for a property that reuses one simulated world across its examples."""
    base = fuzz(examples)
    return base.__class__(base, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                        HealthCheck.data_too_large])


def sent_messages(world: World, since: int) -> Iterator[dict[str, Any]]:
    """Every message payload the bot sent to Discord since request number ``since``."""
    for entry in world.env.http_requests[since:]:
        payload = entry.json
        if not isinstance(payload, dict):
            continue
        if "/callback" in entry.path:
            payload = payload.get("data") or {}
            if not isinstance(payload, dict) or not ({"content", "embeds"} & payload.keys()):
                continue
        if {"content", "embeds"} & payload.keys():
            yield payload


def assert_sent_safely(world: World, since: int) -> None:
    for payload in sent_messages(world, since):
        mentions = payload.get("allowed_mentions")
        assert mentions is not None and mentions.get("parse") == [], payload  # nothing can ping
        assert not mentions.get("users") and not mentions.get("roles") and not mentions.get("replied_user")
        content = payload.get("content") or ""
        assert discord_length(content) <= MESSAGE_LIMIT
        embeds = payload.get("embeds") or []
        assert len(embeds) <= 10
        assert all(within_limits(discord.Embed.from_dict(e)) for e in embeds)
        assert sum(len(discord.Embed.from_dict(e)) for e in embeds) <= 6000


def refusals_only(world: World, since: int) -> list[UserError]:
    """The errors since request number ``since`` began the example: refusals written for members."""
    errors = [_unwrap(e) for e in world.env.errors[ERRORS_AT[since]:]]
    unexpected = [e for e in errors if not isinstance(e, UserError)]
    assert not unexpected, unexpected
    return [e for e in errors if isinstance(e, UserError)]


#: Where each example's errors start, by the request count that marks the example's start.
ERRORS_AT: dict[int, int] = {}


async def next_example(world: World) -> int:
    """A fresh start for the next example: past cooldown and the duplicate window. Returns the
    mark from which this example's requests and errors are read."""
    await world.env.advance_time(700)
    since = len(world.env.http_requests)
    ERRORS_AT[since] = world.env.error_cursor
    return since


@with_fixture(250)
@given(text=HOSTILE_TEXT)
async def test_any_prefix_take_is_stored_exactly_or_refused_clearly(world: World, text: str) -> None:
    since = await next_example(world)
    before = {t.id for t in await world.bot.store.member_takes(world.alice.id)}

    await world.alice.send(world.channel, f"!{ARTICLE} take {text}")

    refused = refusals_only(world, since)
    assert_sent_safely(world, since)
    added = [t for t in await world.bot.store.member_takes(world.alice.id) if t.id not in before]
    if added:
        [take] = added
        assert not refused
        # Exactly what discord.py hands the command: the message after `take `, without the spaces around it.
        assert take.content == text.strip(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003"
                                          "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
        assert has_visible_content(take.content)
    else:
        assert refused or not has_visible_content(text) or not text.strip()


@with_fixture(250)
@given(text=HOSTILE_TEXT)
async def test_any_form_take_round_trips_exactly_or_is_refused_with_the_text_handed_back(
        world: World, text: str) -> None:
    assume(1 <= discord_length(text) <= 1500)  # Discord itself enforces the form's required and max_length
    since = await next_example(world)
    shown = await world.alice.slash(world.channel, f"{ARTICLE} take")
    before = {t.id for t in await world.bot.store.member_takes(world.alice.id)}

    result = await world.alice.submit_modal(shown, {"take_text": text})

    refusals_only(world, since)
    assert_sent_safely(world, since)
    added = [t for t in await world.bot.store.member_takes(world.alice.id) if t.id not in before]
    assert result.response is not None
    if added:
        assert [t.content for t in added] == [text]  # byte for byte, as typed in the form
        assert "Saved your take" in result.response.content
    else:
        answer = result.response.content
        assert "Your text" in answer or result.response.attachments  # nothing lost
        assert not has_visible_content(text) or "Character" in answer


@with_fixture(200)
@given(query=HOSTILE_TEXT)
async def test_any_faq_query_is_answered_within_limits(world: World, query: str) -> None:
    since = await next_example(world)
    await world.alice.send(world.channel, f"!{ARTICLE} faq {query}")
    result = await world.bob.slash(world.channel, f"{ARTICLE} faq", query=query[:100]) if query[:100].strip() else None
    choices = await world.bob.autocomplete(world.channel, f"{ARTICLE} faq", "query", query[:100])
    assert len(choices) <= 25  # Discord's limits for autocomplete
    assert all(1 <= discord_length(c["name"]) <= 100 and discord_length(str(c["value"])) <= 100 for c in choices)
    refusals_only(world, since)
    assert_sent_safely(world, since)
    assert result is None or result.response is not None


@with_fixture(200)
@given(name=st.sampled_from(["prefix", "channels", "moderator_role", "cooldown", "take_length", "anonymous"]),
       value=HOSTILE_TEXT)
async def test_any_settings_value_is_applied_or_refused_clearly(world: World, name: str, value: str) -> None:
    since = await next_example(world)
    await world.admin.send(world.channel, f"!{ARTICLE} settings {name} {value}")
    refusals_only(world, since)
    assert_sent_safely(world, since)
    prefix = (await world.bot.store.get_guild_settings(world.guild.id)).prefix
    if prefix is not None:
        assert has_visible_content(prefix[0]) and not any(is_invisible(c) for c in prefix)
        await world.admin.send(world.channel, f"{prefix}{ARTICLE} settings prefix default")  # back to `!`
        refusals_only(world, since)


@with_fixture(120)
@given(name=st.lists(st.one_of(PIECES, st.characters(codec="utf-8")), min_size=1, max_size=12).map("".join)
       .map(lambda n: n[:32]).filter(lambda n: n.strip()))
async def test_any_member_name_is_listed_within_limits_without_pinging(world: World, name: str) -> None:
    since = await next_example(world)
    member = world.guild.add_member(world.env.create_user(name))
    await member.send(world.channel, f"!{ARTICLE} take A plain take by someone with an odd name.")
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    await world.mod.send(world.channel, f"!{ARTICLE} export")
    refusals_only(world, since)
    assert_sent_safely(world, since)


async def test_the_payload_check_sees_every_kind_of_answer(world: World) -> None:
    """The properties above are not vacuous: channel messages, replies and interaction answers
    are all read, and an @everyone in a take reaches Discord with pings disabled."""
    since = len(world.env.http_requests)
    await world.alice.send(world.channel, f"!{ARTICLE} take @everyone look <@&123456789012345678>")
    await world.bob.slash(world.channel, f"{ARTICLE} takes")
    payloads = list(sent_messages(world, since))
    assert len(payloads) == 2
    assert_sent_safely(world, since)


async def test_a_4000_character_take_is_refused_with_the_text_handed_back_as_a_file(world: World) -> None:
    text = ("Long, careful thoughts. " * 167)[:3996] + "End."
    assert discord_length(text) == 4000
    result = await world.alice.slash(world.channel, f"{ARTICLE} take", text=text)
    assert result.response is not None and "limit here is 1500" in result.response.content
    [attached] = result.response.attachments
    assert (await attached.read()).decode("utf-8") == text
    world.env.errors.clear()


async def test_a_4000_character_take_where_allowed_is_stored_and_shown_within_limits(world: World) -> None:
    await world.admin.send(world.channel, f"!{ARTICLE} settings take_length 4000")
    text = "🧠 " + "x" * 3996 + " 🧠"
    assert discord_length(text) == 4000
    shown = await world.alice.slash(world.channel, f"{ARTICLE} take")
    since = len(world.env.http_requests)
    await world.alice.submit_modal(shown, {"take_text": text})
    [take] = await world.bot.store.member_takes(world.alice.id)
    assert take.content == text
    await world.bob.send(world.channel, f"!{ARTICLE} show {take.id}")
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    assert_sent_safely(world, since)


@with_fixture(150)
@given(text=HOSTILE_TEXT)
async def test_any_edit_is_stored_exactly_or_refused_clearly(world: World, text: str) -> None:
    assume(1 <= discord_length(text) <= 1500)
    since = await next_example(world)
    takes = await world.bot.store.member_takes(world.alice.id)
    if not takes:
        await world.alice.send(world.channel, f"!{ARTICLE} take The version before the edit.")
        takes = await world.bot.store.member_takes(world.alice.id)
    [take] = takes[:1]
    shown = await world.alice.slash(world.channel, f"{ARTICLE} edit", take_id=take.id)

    result = await world.alice.submit_modal(shown, {"take_text": text})

    refused = refusals_only(world, since)
    assert_sent_safely(world, since)
    after = await world.bot.store.get_take(world.guild.id, take.id)
    assert after is not None and result.response is not None
    if "Updated take" in result.response.content:
        assert after.content == text and not refused
    else:
        assert after.content == take.content  # unchanged, and the words handed back
        assert "Your text" in result.response.content or result.response.attachments
