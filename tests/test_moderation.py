"""Moderation through Discord: who may use it on each path, the pinned summary and its refresh
cases, the bot missing permissions, the pin limit, exports, per-guild settings and the audit."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import discord
import pytest
from simcord import SetupError, assert_error

from bot.errors import BotMissingPermission, GuildOnly, NotAllowed, NotFound, PinLimitReached, UserError
from bot.storage import GuildSettings
from tests.conftest import World, make_world

ARTICLE = "commonfactors"
MOD = f"{ARTICLE}-mod"


def fresh(world: World, message_id: int, channel: object | None = None) -> discord.Message | None:
    history = (channel or world.channel).history()  # type: ignore[attr-defined]
    return next((m for m in history if m.id == message_id), None)


def summaries(world: World, channel: object | None = None) -> list[discord.Message]:
    """The bot's pinned-summary messages in the channel, oldest first."""
    history = (channel or world.channel).history()  # type: ignore[attr-defined]
    return [m for m in reversed(history)
            if m.author.bot and m.embeds and (m.embeds[0].title or "").startswith("Summary:") and m.components]


async def pin(world: World, how: str = "prefix") -> str:
    """Run pin as the moderator; returns the answer they saw."""
    if how == "prefix":
        await world.mod.send(world.channel, f"!{ARTICLE} pin")
        answer = world.channel.last_message
        assert answer is not None
        return answer.content
    result = await world.mod.slash(world.channel, f"{MOD} pin")
    assert result.ephemeral
    last = result.followups[-1] if result.followups else result.response
    assert last is not None
    return str(last.content)


async def audit_actions(world: World, guild_id: int | None = None) -> list[str]:
    return [e.action for e in await world.bot.store.list_audit(guild_id or world.guild.id, limit=100)]


# -- one guard, both paths ----------------------------------------------------------------------


async def test_slash_hides_the_moderator_group_from_members(world: World) -> None:
    member_sees = set(world.alice.available_commands(world.channel))
    moderator_sees = set(world.mod.available_commands(world.channel))

    assert f"{ARTICLE} take" in member_sees
    assert not any(c.startswith(MOD) for c in member_sees)
    assert {f"{MOD} pin", f"{MOD} unpin", f"{MOD} export", f"{MOD} settings", f"{MOD} audit"} <= moderator_sees
    with pytest.raises(SetupError, match="default-member-permissions"):
        await world.alice.slash(world.channel, f"{MOD} pin")


@pytest.mark.parametrize("command", ["pin", "unpin", "export", "settings", "audit",
                                     "settings prefix ?", "export 30d"])
async def test_prefix_path_refuses_members(world: World, command: str) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} {command}")

    error = assert_error(world.env, NotAllowed, contains="Only moderators")
    assert error is not None
    assert summaries(world) == []
    assert await world.bot.store.get_guild_settings(world.guild.id) == GuildSettings(guild_id=world.guild.id)
    assert await audit_actions(world) == []
    assert "Only moderators" in (world.channel.last_message.content if world.channel.last_message else "")


async def test_the_moderator_group_also_answers_on_the_prefix_path(world: World) -> None:
    await world.alice.send(world.channel, f"!{MOD} audit")
    assert_error(world.env, NotAllowed)

    await world.mod.send(world.channel, f"!{MOD} audit")
    answer = world.channel.last_message
    assert answer is not None and "Sent the audit log to your DMs" in answer.content and not answer.embeds
    dm = world.mod.user.dm_channel.last_message
    assert dm is not None and dm.embeds and "Moderator actions" in (dm.embeds[0].title or "")


async def test_moderator_commands_refuse_dms(world: World) -> None:
    await world.mod.send_dm(f"!{ARTICLE} pin")
    assert_error(world.env, GuildOnly)


async def test_the_moderator_role_setting_lets_its_members_moderate(world: World) -> None:
    facilitators = world.guild.create_role("Facilitators")
    carol = world.guild.add_member(world.env.create_user("carol"), roles=[facilitators])

    await carol.send(world.channel, f"!{ARTICLE} audit")
    assert_error(world.env, NotAllowed)

    await world.admin.send(world.channel, f"!{ARTICLE} settings moderator_role @Facilitators")
    assert "Changed **Moderator role" in (world.channel.last_message.content if world.channel.last_message else "")

    await carol.send(world.channel, f"!{ARTICLE} pin")
    assert len(summaries(world)) == 1
    # On slash, Discord's default permissions hide the group until an admin allows the role.
    with pytest.raises(SetupError):
        await carol.slash(world.channel, f"{MOD} audit")
    [command] = [c for c in await world.bot.tree.fetch_commands() if c.name == MOD]
    world.guild.set_command_permissions(command, {facilitators: True})
    result = await carol.slash(world.channel, f"{MOD} audit")
    assert result.ephemeral and result.response is not None and result.response.embeds


# -- pinned summaries ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["prefix", "slash"])
async def test_pin_posts_the_summary_with_buttons_and_pins_it(world: World, how: str) -> None:
    answer = await pin(world, how)

    assert "Pinned the summary" in answer
    [message] = summaries(world)
    assert message.pinned
    assert message.embeds[0].footer.text and "Reply to this message" in message.embeds[0].footer.text
    labels = [c.label for row in message.components for c in row.children]  # type: ignore[attr-defined]
    assert labels == ["Summary", "Citations", "FAQ", "Add your take"]
    record = await world.bot.store.get_pin(world.guild.id, world.channel.id, ARTICLE)
    assert record is not None and record.message_id == message.id
    assert await audit_actions(world) == ["pin"]


async def test_pin_again_when_unchanged_does_not_duplicate(world: World) -> None:
    await pin(world)
    [first] = summaries(world)

    answer = await pin(world)

    assert "already up to date" in answer and first.jump_url in answer
    assert [m.id for m in summaries(world)] == [first.id]
    assert fresh(world, first.id) is not None and fresh(world, first.id).pinned  # type: ignore[union-attr]


async def test_pin_again_after_the_article_changed_edits_in_place(world: World, data_dir: Path) -> None:
    await pin(world)
    [first] = summaries(world)
    path = data_dir / "commonfactors.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('short_summary = """\n', 'short_summary = """\nREVISED. ', 1), encoding="utf-8")
    await world.restart()

    answer = await pin(world)

    assert "Updated the pinned summary" in answer
    [message] = summaries(world)
    assert message.id == first.id and message.pinned
    assert (message.embeds[0].description or "").startswith("REVISED.")
    assert (first.embeds[0].description or "") != message.embeds[0].description


async def test_pin_again_after_the_message_was_deleted_posts_anew(world: World) -> None:
    await pin(world)
    [first] = summaries(world)
    await world.mod.delete(first)

    answer = await pin(world)

    assert "had been deleted" in answer
    [message] = summaries(world)
    assert message.id != first.id and message.pinned
    record = await world.bot.store.get_pin(world.guild.id, world.channel.id, ARTICLE)
    assert record is not None and record.message_id == message.id


async def test_pin_again_after_someone_unpinned_it_pins_it_again(world: World) -> None:
    await pin(world)
    [first] = summaries(world)
    await world.mod.set_pinned(first, False)

    answer = await pin(world)

    assert "pinned again" in answer
    assert [m.id for m in summaries(world)] == [first.id] and summaries(world)[0].pinned


async def test_each_channel_and_article_has_its_own_pin(world: World) -> None:
    other = world.guild.create_text_channel("reading-room")
    await pin(world)
    await world.mod.send(other, f"!{ARTICLE} pin")
    await world.mod.send(world.channel, "!placebo pin")

    assert len(summaries(world)) == 2 and len(summaries(world, other)) == 1


async def test_unpin_removes_the_summary_and_forgets_it(world: World) -> None:
    await pin(world)
    [first] = summaries(world)

    await world.mod.send(world.channel, f"!{ARTICLE} unpin")

    assert "Removed the pinned summary" in (world.channel.last_message.content if world.channel.last_message else "")
    assert fresh(world, first.id) is None
    assert await world.bot.store.get_pin(world.guild.id, world.channel.id, ARTICLE) is None
    await world.mod.send(world.channel, f"!{ARTICLE} unpin")
    assert_error(world.env, NotFound, contains="no pinned summary")
    assert await audit_actions(world) == ["unpin", "pin"]


async def test_replies_to_the_pinned_summary_are_takes(world: World) -> None:
    await pin(world)
    [message] = summaries(world)

    reply = await world.alice.send(world.channel, "The model gives the alliance something to do.", reply_to=message)

    [take] = await world.bot.store.export_takes(world.guild.id, ARTICLE)
    assert take.source == "reply" and take.author_id == world.alice.id
    assert any(r.emoji == "✅" for r in fresh(world, reply.id).reactions)  # type: ignore[union-attr]


PERMISSIONS = [
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
    ("read_message_history", "Read Message History"),
    ("pin_messages", "Pin Messages"),
]


@pytest.mark.parametrize(("permission", "label"), PERMISSIONS)
async def test_pin_names_the_permission_the_bot_lacks(world: World, permission: str, label: str) -> None:
    me = world.guild.me
    assert me is not None
    locked = world.guild.create_text_channel(
        "locked", overwrites={me: discord.PermissionOverwrite(**{permission: False})})

    result = await world.mod.slash(locked, f"{MOD} pin")

    error = assert_error(world.env, BotMissingPermission, contains=label)
    assert "#locked" in str(error) or "<#" in str(error)
    assert result.ephemeral
    assert summaries(world, locked) == []
    assert await world.bot.store.get_pin(world.guild.id, locked.id, ARTICLE) is None


async def test_prefix_pin_without_send_permission_answers_by_dm(world: World) -> None:
    me = world.guild.me
    assert me is not None
    locked = world.guild.create_text_channel(
        "locked", overwrites={me: discord.PermissionOverwrite(send_messages=False)})

    await world.mod.send(locked, f"!{ARTICLE} pin")

    assert_error(world.env, BotMissingPermission, contains="Send Messages")
    dm = world.mod.user.dm_channel.last_message
    assert dm is not None and "Send Messages" in dm.content


@pytest.mark.parametrize(("route", "label"), [
    ("/channels/*/messages/pins/*", "Pin Messages"),
    ("/channels/*/messages", "Send Messages"),
])
async def test_discord_refusing_with_50013_names_the_permission(world: World, route: str, label: str) -> None:
    method = "PUT" if "pins" in route else "POST"
    world.env.inject_error(method, route, status=403, code=50013, message="Missing Permissions")

    await pin(world, "slash")

    assert_error(world.env, BotMissingPermission, contains=f"missing **{label}**")
    assert summaries(world) == []  # a summary that could not be pinned is taken down again
    assert await world.bot.store.get_pin(world.guild.id, world.channel.id, ARTICLE) is None


async def test_pin_at_the_channel_pin_limit_says_so(world: World) -> None:
    world.env.inject_error("PUT", "/channels/*/messages/pins/*", status=400, code=30003,
                           message="Maximum number of pins reached (250)")

    await pin(world)

    assert_error(world.env, PinLimitReached, contains="250 pinned messages")
    assert summaries(world) == []
    assert await world.bot.store.get_pin(world.guild.id, world.channel.id, ARTICLE) is None
    assert "Unpin one" in (world.channel.last_message.content if world.channel.last_message else "")


# -- exports ------------------------------------------------------------------------------------


async def add(world: World, member: object, text: str, channel: object | None = None) -> None:
    await member.send(channel or world.channel, f"!{ARTICLE} take {text}")  # type: ignore[attr-defined]
    await world.env.advance_time(31)


async def files_of(message: discord.Message) -> dict[str, bytes]:
    return {a.filename: await a.read() for a in message.attachments}


async def exported(result: object) -> list[dict[str, str]]:
    """The takes in the one message with files a slash export answered with, from its JSON."""
    sent = [result.response, *result.followups]  # type: ignore[attr-defined]
    [message] = [m for m in sent if m is not None and m.attachments]
    files = await files_of(message)
    return list(json.loads(next(v for k, v in files.items() if k.endswith(".json"))))


async def test_export_sends_safe_csv_and_json_by_dm_on_the_prefix_path(world: World) -> None:
    await add(world, world.alice, "=HYPERLINK(\"http://evil.example\",\"click\")")
    await add(world, world.bob, "+1 to the model; -2 for eclecticism; @here")
    await add(world, world.alice, "Ça marche — l'alliance 🌱")

    await world.mod.send(world.channel, f"!{ARTICLE} export")

    assert "Sent the export to your DMs" in (world.channel.last_message.content if world.channel.last_message else "")
    assert not world.channel.last_message.attachments  # type: ignore[union-attr]
    dm = world.mod.user.dm_channel.last_message
    assert dm is not None and "3 takes by 2 members" in dm.content
    files = await files_of(dm)
    [csv_name] = [n for n in files if n.endswith(".csv")]
    [json_name] = [n for n in files if n.endswith(".json")]
    raw = files[csv_name]
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    texts = [r["text"] for r in rows]
    assert texts[0].startswith("'=HYPERLINK") and texts[1].startswith("'+1")
    assert texts[2] == "Ça marche — l'alliance 🌱"
    assert all(not r[k].startswith(("=", "+", "-", "@")) for r in rows for k in r)
    assert json.loads(files[json_name])[0]["text"].startswith("=HYPERLINK")  # JSON stays verbatim
    assert await audit_actions(world) == ["export"]


async def test_export_on_slash_is_private_to_the_moderator(world: World) -> None:
    await add(world, world.alice, "Relationship inside a model.")

    result = await world.mod.slash(world.channel, f"{MOD} export")

    assert result.ephemeral
    sent = [m for m in [result.response, *result.followups] if m is not None and m.attachments]
    assert len(sent) == 1 and {a.filename.rsplit(".", 1)[1] for a in sent[0].attachments} == {"csv", "json"}


async def test_export_never_includes_another_guilds_takes(world: World) -> None:
    other = make_world(world.env, "Elsewhere", bots=world.bots)
    await add(world, world.alice, "Ours.")
    await other.alice.send(other.channel, f"!{ARTICLE} take Theirs.")
    assert [t.content for t in await world.bot.store.export_takes(other.guild.id, ARTICLE)] == ["Theirs."]

    result = await world.mod.slash(world.channel, f"{MOD} export")

    data = await exported(result)
    assert [t["text"] for t in data] == ["Ours."]
    assert {t["guild_id"] for t in data} == {str(world.guild.id)}


async def test_empty_export_says_so_instead_of_sending_files(world: World) -> None:
    result = await world.mod.slash(world.channel, f"{MOD} export")

    messages = [m for m in [result.response, *result.followups] if m is not None]
    assert all(not m.attachments for m in messages)
    assert "nothing to export" in str(messages[-1].content)


async def test_export_since_and_until_select_whole_days(world: World) -> None:
    await add(world, world.alice, "Day one.")
    day_one = world.bot.clock().date()
    await world.env.advance_time(2 * 86400)
    await add(world, world.alice, "Day three.")

    result = await world.mod.slash(world.channel, f"{MOD} export", since=day_one.isoformat(),
                                   until=day_one.isoformat())
    assert [t["text"] for t in await exported(result)] == ["Day one."]

    result = await world.mod.slash(world.channel, f"{MOD} export", since="1d")
    assert [t["text"] for t in await exported(result)] == ["Day three."]


@pytest.mark.parametrize(("args", "expected"), [
    ("yesterday", "`since` must be a date"),
    ("2026-02-30", "`since` must be a date"),
    ("2026-11-20 2026-11-01", "is before"),
])
async def test_export_explains_bad_dates(world: World, args: str, expected: str) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} export {args}")
    assert_error(world.env, UserError, contains=expected)


# -- settings -----------------------------------------------------------------------------------


async def test_settings_shows_every_setting(world: World) -> None:
    result = await world.mod.slash(world.channel, f"{MOD} settings")

    assert result.ephemeral and result.response is not None
    [embed] = result.response.embeds
    names = " ".join(f.name or "" for f in embed.fields)
    for name in ("moderator_role", "take_length", "cooldown", "channels", "anonymous", "prefix"):
        assert f"`{name}`" in names


async def test_take_length_applies_at_once(world: World) -> None:
    result = await world.mod.slash(world.channel, f"{MOD} settings", name="take_length", value="100")
    assert result.response is not None and "It applies now" in result.response.content

    await world.alice.send(world.channel, f"!{ARTICLE} take {'x' * 150}")

    assert_error(world.env, UserError, contains="the limit here is 100")
    assert await world.bot.store.export_takes(world.guild.id, ARTICLE) == []


async def test_cooldown_applies_at_once(world: World) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} settings cooldown 5m")
    await world.alice.send(world.channel, f"!{ARTICLE} take One.")
    await world.env.advance_time(60)
    await world.alice.send(world.channel, f"!{ARTICLE} take Two.")

    assert_error(world.env, UserError, contains="One take every 300 s")


async def test_take_channels_apply_at_once(world: World) -> None:
    other = world.guild.create_text_channel("reading-room")
    await world.mod.send(world.channel, f"!{ARTICLE} settings channels #reading-room")

    await world.alice.send(world.channel, f"!{ARTICLE} take Here.")
    assert_error(world.env, UserError, contains=f"<#{other.id}>")
    await world.alice.send(other, f"!{ARTICLE} take There.")

    assert [t.content for t in await world.bot.store.export_takes(world.guild.id, ARTICLE)] == ["There."]
    await world.mod.send(world.channel, f"!{ARTICLE} settings channels all")
    assert (await world.bot.store.get_guild_settings(world.guild.id)).take_channel_ids == frozenset()


async def test_anonymous_lists_hide_names_from_members_not_moderators(world: World) -> None:
    await add(world, world.bob, "Bob's point.")
    await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")

    member_view = await world.alice.slash(world.channel, f"{ARTICLE} takes")
    moderator_view = await world.mod.slash(world.channel, f"{ARTICLE} takes")

    def text(result: object) -> str:
        embed = result.response.embeds[0]  # type: ignore[attr-defined]
        return " ".join([embed.description or "", *[f"{f.name} {f.value}" for f in embed.fields]])

    assert "Bob's point." in text(member_view) and "bob-clinic" not in text(member_view)
    assert "bob-clinic" in text(moderator_view)


async def test_prefix_applies_at_once_and_survives_a_restart(world: World) -> None:
    await world.admin.send(world.channel, f"!{ARTICLE} settings prefix ?")

    await world.alice.send(world.channel, f"?{ARTICLE} take With the new prefix.")
    before = len(world.channel.history())
    await world.alice.send(world.channel, f"!{ARTICLE} help")
    assert len(world.channel.history()) == before + 1  # the old prefix is not ours any more: no answer
    for mention in (f"<@{world.bot.user.id}>", f"<@!{world.bot.user.id}>"):  # type: ignore[union-attr]
        await world.alice.send(world.channel, f"{mention} {ARTICLE} faq 1")  # a mention works whatever the prefix
        assert len(world.channel.history()) == before + 3 and world.channel.last_message.embeds  # type: ignore[union-attr]
        before += 2

    await world.restart()
    await world.alice.send(world.channel, f"?{ARTICLE} takes")
    last = world.channel.last_message
    assert last is not None and last.author.bot and last.embeds
    assert [t.content for t in await world.bot.store.export_takes(world.guild.id, ARTICLE)] == ["With the new prefix."]

    await world.admin.send(world.channel, f"?{ARTICLE} settings prefix default")
    await world.alice.send(world.channel, f"!{ARTICLE} help")
    assert world.channel.last_message is not None and world.channel.last_message.author.bot


@pytest.mark.parametrize(("args", "expected"), [
    ("take_length 5", "from 20 to 4000"),
    ("take_length lots", "whole number"),
    ("cooldown 3d", "number of seconds"),
    ("cooldown 25h", "at most a day"),
    ("channels #nowhere", "no channel `#nowhere`"),
    ("moderator_role @Nobody", "no role `@Nobody`"),
    ("moderator_role @everyone", "cannot be the moderator role"),
    ("anonymous maybe", "`on`"),
    ("prefix <@1>", "cannot contain"),
    ("prefix toolong", "1 to 5 characters"),
    ("colour blue", "no setting `colour`"),
])
async def test_settings_refuse_bad_values_clearly(world: World, args: str, expected: str) -> None:
    await world.admin.send(world.channel, f"!{ARTICLE} settings {args}")

    assert_error(world.env, UserError, contains=expected)
    assert await world.bot.store.get_guild_settings(world.guild.id) == GuildSettings(guild_id=world.guild.id)
    assert await audit_actions(world) == []


async def test_settings_are_per_guild(world: World) -> None:
    other = make_world(world.env, "Elsewhere", bots=world.bots)
    await world.mod.send(world.channel, f"!{ARTICLE} settings take_length 100")

    await other.alice.send(other.channel, f"!{ARTICLE} take {'y' * 150}")

    assert len(await world.bot.store.export_takes(other.guild.id, ARTICLE)) == 1


# -- the audit ----------------------------------------------------------------------------------


async def test_audit_lists_moderator_actions_newest_first(world: World) -> None:
    await add(world, world.alice, "To be removed.")
    [take] = await world.bot.store.export_takes(world.guild.id, ARTICLE)
    await pin(world)
    await world.mod.send(world.channel, f"!{ARTICLE} settings take_length 900")
    await world.mod.send(world.channel, f"!{ARTICLE} delete {take.id}")
    await world.mod.send(world.channel, f"!{ARTICLE} export")

    result = await world.mod.slash(world.channel, f"{MOD} audit")

    assert result.ephemeral and result.response is not None
    description = result.response.embeds[0].description or ""
    order = [description.index(f"**{a}**") for a in ("export", "delete_take", "settings", "pin")]
    assert order == sorted(order)
    assert f"<@{world.mod.id}>" in description and "900 characters" in description
    assert "To be removed." not in description  # the audit records the action, never the member's words


async def test_audit_is_per_guild(world: World) -> None:
    other = make_world(world.env, "Elsewhere", bots=world.bots)
    await other.mod.send(other.channel, f"!{ARTICLE} pin")

    assert await audit_actions(world) == []
    assert await audit_actions(world, other.guild.id) == ["pin"]


# -- the settings card's controls ---------------------------------------------------------------


async def settings_card(world: World, how: str, who: object | None = None) -> discord.Message:
    actor = who or world.admin
    if how == "prefix":
        await actor.send(world.channel, f"!{ARTICLE} settings")  # type: ignore[attr-defined]
        card = world.channel.last_message
    else:
        result = await actor.slash(world.channel, f"{MOD} settings")  # type: ignore[attr-defined]
        card = result.response
    assert card is not None and card.embeds and card.components
    return card


ROLE_MENU, CHANNEL_MENU = 6, 8  # Discord's component types


def menus(message: object) -> dict[int, str]:
    """The custom ids of a message's select menus by component type (channel messages carry
    discord.py components; SimCord's interaction responses carry the raw payload)."""
    found: dict[int, str] = {}
    for row in message.components:  # type: ignore[attr-defined]
        children = row["components"] if isinstance(row, dict) else row.children
        for child in children:
            kind = child["type"] if isinstance(child, dict) else int(child.type.value)
            custom_id = child.get("custom_id") if isinstance(child, dict) else getattr(child, "custom_id", None)
            if custom_id:
                found[kind] = custom_id
    return found


def current_card(world: World, how: str, result: object) -> object:
    """Where the card is now: the edited channel message, or the edited ephemeral response."""
    if how == "prefix":
        return world.channel.last_message
    return result.response  # type: ignore[attr-defined]


@pytest.mark.parametrize("how", ["prefix", "slash"])
async def test_settings_card_picks_role_and_channels_from_menus(world: World, how: str) -> None:
    facilitators = world.guild.create_role("Facilitators")
    room = world.guild.create_text_channel("reading-room")
    card = await settings_card(world, how)

    result = await world.admin.select(card, [facilitators], custom_id=menus(card)[ROLE_MENU])
    shown = current_card(world, how, result)
    fields = " ".join(f.value or "" for f in shown.embeds[0].fields)  # type: ignore[attr-defined]
    assert f"<@&{facilitators.id}>" in fields
    await world.admin.select(shown, [room], custom_id=menus(shown)[CHANNEL_MENU])

    saved = await world.bot.store.get_guild_settings(world.guild.id)
    assert saved.moderator_role_id == facilitators.id and saved.take_channel_ids == frozenset({room.id})
    assert await audit_actions(world) == ["settings", "settings"]


async def test_settings_card_toggles_anonymous_lists(world: World) -> None:
    card = await settings_card(world, "slash", world.mod)

    result = await world.mod.click(card, label="Anonymous lists: off")

    assert (await world.bot.store.get_guild_settings(world.guild.id)).anonymous_lists
    result = await world.mod.click(current_card(world, "slash", result), label="Anonymous lists: on")
    assert not (await world.bot.store.get_guild_settings(world.guild.id)).anonymous_lists


async def test_settings_card_refuses_managed_roles_and_other_members(world: World) -> None:
    card = await settings_card(world, "prefix")
    [bot_role] = [r for r in world.guild.roles.values() if r.name == "TestBot"]
    await world.admin.select(card, [bot_role], custom_id=menus(card)[ROLE_MENU])
    assert_error(world.env, UserError, contains="managed by an integration")

    result = await world.alice.click(card, label="Anonymous lists: off")
    assert result.ephemeral and result.response is not None and "belong to the moderator" in result.response.content
    result = await world.mod.click(card, label="Anonymous lists: off")
    assert result.ephemeral and result.response is not None and "belong to the moderator" in result.response.content
    assert await world.bot.store.get_guild_settings(world.guild.id) == GuildSettings(guild_id=world.guild.id)


async def test_export_with_closed_dms_says_where_to_get_it(world: World) -> None:
    await add(world, world.alice, "Kept private.")
    dm = world.mod.user.dm_channel
    world.env.inject_error("POST", f"/channels/{dm.id}/messages", status=403, code=50007,
                           message="Cannot send messages to this user")

    await world.mod.send(world.channel, f"!{ARTICLE} export")

    assert_error(world.env, UserError, contains=f"`/{MOD} export`")
    answer = world.channel.last_message
    assert answer is not None and "DMs are closed" in answer.content and not answer.attachments


async def test_moderators_pinning_at_once_get_one_summary(world: World) -> None:
    second = world.guild.add_member(world.env.create_user("mod2"), roles=[world.guild.roles["Moderators"]])
    for member in (world.mod, second, world.mod):  # queued before the bot handles any of them
        world.env.backend.create_message(world.channel.id, member.id, f"!{ARTICLE} pin")
    await world.env.settle()

    assert len(summaries(world)) == 1
    answers = [m.content for m in world.channel.history() if m.author.bot and not m.embeds and m.content]
    assert sum("Pinned the summary" in a for a in answers) == 1
    assert sum("already up to date" in a for a in answers) == 2


async def test_settings_changed_at_once_keep_every_change(world: World) -> None:
    backend = world.env.backend
    for command in ("take_length 900", "cooldown 10", "anonymous on", "prefix ?"):
        backend.create_message(world.channel.id, world.admin.id, f"!{ARTICLE} settings {command}")
    await world.env.settle()

    saved = await world.bot.store.get_guild_settings(world.guild.id)
    assert (saved.take_max_length, saved.take_cooldown_seconds, saved.anonymous_lists, saved.prefix) == (
        900, 10, True, "?")


# -- who moderates what -------------------------------------------------------------------------


def channel_moderator(world: World) -> tuple[object, object]:
    """A member with Manage Messages in one channel only (as temp-channel bots hand out)."""
    dana = world.guild.add_member(world.env.create_user("dana"))
    own = world.guild.create_text_channel("danas-room", overwrites={
        dana: discord.PermissionOverwrite(manage_messages=True)})
    return dana, own


async def test_channel_moderators_run_their_channels_pin_but_nothing_server_wide(world: World) -> None:
    dana, own = channel_moderator(world)

    await dana.send(own, f"!{ARTICLE} pin")  # type: ignore[attr-defined]
    assert len(summaries(world, own)) == 1
    for command in ("export", "audit", "settings take_length 100", "settings"):
        await dana.send(own, f"!{ARTICLE} {command}")  # type: ignore[attr-defined]
        assert_error(world.env, NotAllowed, contains="Manage Messages in this server")
    assert world.mod.user.dm_channel.last_message is None
    await dana.send(world.channel, f"!{ARTICLE} pin")  # type: ignore[attr-defined]
    assert_error(world.env, NotAllowed)
    assert summaries(world) == []


async def test_channel_moderators_delete_takes_written_in_their_channel_only(world: World) -> None:
    dana, own = channel_moderator(world)
    await world.alice.send(own, f"!{ARTICLE} take In Dana's room.")
    await world.bob.send(world.channel, f"!{ARTICLE} take In the main room.")
    theirs, elsewhere = sorted(await world.bot.store.export_takes(world.guild.id, ARTICLE), key=lambda t: t.id)

    await dana.send(own, f"!{ARTICLE} delete {elsewhere.id}")  # type: ignore[attr-defined]
    assert_error(world.env, NotAllowed)
    await dana.send(own, f"!{ARTICLE} delete {theirs.id}")  # type: ignore[attr-defined]

    assert [t.id for t in await world.bot.store.export_takes(world.guild.id, ARTICLE)] == [elsewhere.id]


@pytest.mark.parametrize("args", ["moderator_role @Moderators", "prefix ?"])
async def test_who_moderates_and_the_prefix_take_manage_server(world: World, args: str) -> None:
    await world.mod.send(world.channel, f"!{ARTICLE} settings {args}")

    assert_error(world.env, NotAllowed, contains="Manage Server")
    assert await world.bot.store.get_guild_settings(world.guild.id) == GuildSettings(guild_id=world.guild.id)


async def test_moderators_see_names_of_anonymous_takes_only_privately(world: World) -> None:
    await add(world, world.bob, "Bob's point.")
    await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")

    await world.mod.send(world.channel, f"!{ARTICLE} takes")
    public = world.channel.last_message
    assert public is not None and public.embeds
    assert "bob-clinic" not in (public.embeds[0].description or "") and "Bob's point." in (
        public.embeds[0].description or "")
    [take] = await world.bot.store.export_takes(world.guild.id, ARTICLE)
    await world.mod.send(world.channel, f"!{ARTICLE} show {take.id}")
    shown = world.channel.last_message
    assert shown is not None and "bob-clinic" not in str(shown.embeds[0].to_dict())

    private = await world.mod.slash(world.channel, f"{ARTICLE} show", take_id=take.id)
    assert private.ephemeral and private.response is not None
    assert "bob-clinic" in str(private.response.embeds[0].to_dict())


# -- what Discord deletes -----------------------------------------------------------------------


async def test_a_deleted_take_channel_leaves_the_settings_and_is_audited(world: World) -> None:
    room = world.guild.create_text_channel("reading-room")
    gone = world.guild.create_text_channel("old-room")
    await world.mod.send(world.channel, f"!{ARTICLE} settings channels #reading-room #old-room")
    await world.mod.send(gone, f"!{ARTICLE} pin")

    world.env.backend.delete_channel(gone.id)
    await world.env.settle()

    saved = await world.bot.store.get_guild_settings(world.guild.id)
    assert saved.take_channel_ids == frozenset({room.id})
    assert await world.bot.store.get_pin(world.guild.id, gone.id, ARTICLE) is None
    [entry, *_] = await world.bot.store.list_audit(world.guild.id)
    assert "#old-room was deleted" in entry.detail


async def test_a_deleted_moderator_role_is_forgotten(world: World) -> None:
    facilitators = world.guild.create_role("Facilitators")
    await world.admin.send(world.channel, f"!{ARTICLE} settings moderator_role @Facilitators")

    world.env.backend.delete_role(world.guild.id, facilitators.id)
    await world.env.settle()

    assert (await world.bot.store.get_guild_settings(world.guild.id)).moderator_role_id is None


# -- more of pin and export ---------------------------------------------------------------------


async def test_slash_unpin_answers_privately(world: World) -> None:
    await pin(world, "slash")

    result = await world.mod.slash(world.channel, f"{MOD} unpin")

    assert result.ephemeral
    answers = [m for m in [result.response, *result.followups] if m is not None and m.content]
    assert "Removed the pinned summary" in answers[-1].content
    assert summaries(world) == []


async def test_a_large_slash_export_arrives_in_private_parts(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    # This bot's loaded extension module: a guild that allows 150 kB per message.
    monkeypatch.setattr(world.bot.extensions["cogs.moderation"], "upload_limit", lambda ctx: 150_000)
    rng = random.Random(7)
    for n in range(60):
        member = world.guild.add_member(world.env.create_user(f"writer{n}"))
        text = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(1400))
        world.env.backend.create_message(world.channel.id, member.id, f"!{ARTICLE} take {text}")
    await world.env.settle()
    assert len(await world.bot.store.export_takes(world.guild.id, ARTICLE)) == 60

    result = await world.mod.slash(world.channel, f"{MOD} export")

    with_files = [m for m in [result.response, *result.followups] if m is not None and m.attachments]
    assert len(with_files) > 1
    assert all(m.ephemeral for m in with_files)  # type: ignore[attr-defined]
    names = [a.filename for m in with_files for a in m.attachments]
    assert all("-part" in n and n.endswith(".zip") for n in names)
    assert all(sum(a.size for a in m.attachments) <= 150_000 for m in with_files)


async def test_export_until_the_end_of_time_is_fine(world: World) -> None:
    await add(world, world.alice, "Timeless.")

    result = await world.mod.slash(world.channel, f"{MOD} export", since="9999d", until="9999-12-31")

    assert [t["text"] for t in await exported(result)] == ["Timeless."]


async def test_pin_works_in_a_thread_and_needs_send_in_threads(world: World) -> None:
    world.env.backend.create_thread(world.channel.id, "week-1", world.mod.id)
    await world.env.settle()
    [thread] = world.channel.threads

    await world.mod.send(thread, f"!{ARTICLE} pin")

    assert len(summaries(world, thread)) == 1 and summaries(world, thread)[0].pinned
    me = world.guild.me
    assert me is not None
    locked = world.guild.create_text_channel("locked", overwrites={
        me: discord.PermissionOverwrite(send_messages_in_threads=False)})
    world.env.backend.create_thread(locked.id, "week-2", world.mod.id)
    await world.env.settle()
    [locked_thread] = locked.threads
    await world.mod.slash(locked_thread, f"{MOD} pin")
    assert_error(world.env, BotMissingPermission, contains="Send Messages in Threads")


async def test_the_moderator_group_help_lists_moderator_commands(world: World) -> None:
    result = await world.mod.slash(world.channel, f"{MOD} help")

    assert result.ephemeral and result.response is not None
    text = str(result.response.embeds[0].to_dict())
    for name in ("pin", "unpin", "export", "settings", "audit"):
        assert f"/{MOD} {name}" in text
    assert f"/{ARTICLE} take" not in text


async def test_an_unknown_moderator_command_gets_a_suggestion(world: World) -> None:
    await world.mod.send(world.channel, f"!{MOD} expotr")
    assert_error(world.env, UserError, contains="Did you mean `export`")
