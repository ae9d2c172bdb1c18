"""Who may do what, as one table: every command of the command tree and every registered
persistent item (article buttons, the FAQ picker, take forms) × every role, on slash and prefix.

Commands are discovered from the bot itself, so a new command fails this test until its row is
added to :data:`EXPECTED`: nothing reaches members untested. Besides the outcome of each cell,
the roles from another server must never see anything of the first: its takes, its members'
names, its audit, in any answer, file or DM.

Outcomes: ``ok`` (answered), ``refused`` (a clear refusal), ``not_found`` (as if it did not exist:
a take of another server), ``hidden`` (slash only: Discord does not offer the command to them).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from simcord import ChannelHandle
from simcord.actors import _dispatch_actor_interaction
from simcord.backend import serializers

from bot.errors import NotFound, UserError
from bot.ui.reporting import _unwrap
from bot.ui.take_form import EDIT_TAMPERED
from bot.ui.take_pager import TAMPERED, base36
from cogs.events import UNKNOWN_CONTROL
from cogs.takes import UNKNOWN_FORM
from tests.conftest import World, make_world
from tests.test_hostile_discord import assert_sent_safely

ARTICLE = "commonfactors"
MOD = f"{ARTICLE}-mod"
ROLES = ("member", "moderator", "other_moderator", "other_member", "dm", "restarted")
SECRET_A = "Secret alliance take from the first server"
SECRET_B = "Bob's secret model take from the first server"
OTHER_TAKE = "A take written in the other server"

#: command → outcome for each role, in the order of :data:`ROLES`. The slash and prefix paths
#: agree except where Discord hides a command (``hidden`` on slash is ``refused`` on prefix).
EXPECTED: dict[str, tuple[str, ...]] = {
    #                     member     moderator  other_mod  other_mem  dm         restarted
    "overview":          ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "summary":           ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "citations":         ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "faq":               ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "help":              ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "privacy":           ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "take":              ("ok",      "ok",      "ok",      "ok",      "refused", "ok"),
    "takes":             ("ok",      "ok",      "ok",      "ok",      "refused", "ok"),
    "show":              ("ok",      "ok",      "not_found", "not_found", "refused", "ok"),
    "edit":              ("ok",      "refused", "not_found", "not_found", "refused", "ok"),
    "stats":             ("ok",      "ok",      "ok",      "ok",      "refused", "ok"),
    "mytakes":           ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "forgetme":          ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "delete":            ("refused", "ok",      "not_found", "not_found", "refused", "refused"),
    "mod help":          ("hidden",  "ok",      "ok",      "hidden",  "hidden",  "hidden"),
    "mod settings":      ("hidden",  "ok",      "ok",      "hidden",  "hidden",  "hidden"),
    "mod audit":         ("hidden",  "ok",      "ok",      "hidden",  "hidden",  "hidden"),
    "mod export":        ("hidden",  "ok",      "ok",      "hidden",  "hidden",  "hidden"),
    "mod pin":           ("hidden",  "ok",      "ok",      "hidden",  "hidden",  "hidden"),
    "mod unpin":         ("hidden",  "ok",      "ok",      "hidden",  "hidden",  "hidden"),
    # Meetings, in the order a meeting goes: scheduled, called off, started, moved on, ended.
    "meeting":           ("ok",      "ok",      "ok",      "ok",      "refused", "ok"),
    "mod meeting-schedule": ("hidden", "ok",    "ok",      "hidden",  "hidden",  "hidden"),
    "mod meeting-cancel": ("hidden", "ok",      "ok",      "hidden",  "hidden",  "hidden"),
    "mod meeting-start": ("hidden",  "ok",      "ok",      "hidden",  "hidden",  "hidden"),
    "mod meeting-next":  ("hidden",  "ok",      "ok",      "hidden",  "hidden",  "hidden"),
    "mod meeting-end":   ("hidden",  "ok",      "ok",      "hidden",  "hidden",  "hidden"),
    "mod poll":          ("hidden",  "ok",      "ok",      "hidden",  "hidden",  "hidden"),
}
#: Where the prefix path differs beyond ``hidden`` → ``refused``: the moderator help is a list of
#: commands (public in the README), shown to whoever types it; only the commands themselves refuse.
PREFIX_EXPECTED: dict[str, tuple[str, ...]] = {
    "mod help": ("ok",) * len(ROLES),
}
#: The order commands run in one scene: the one that deletes runs last, after everything that reads.
ORDER = list(EXPECTED)


@dataclasses.dataclass
class Scene:
    world: World
    other: World
    alice_take: int
    bob_take: int
    other_take: int


async def build_scene(world: World) -> Scene:
    """Two servers: in the first, Alice and Bob wrote takes, a moderator pinned the summary and
    changed a setting (so there is an audit); in the other, one member wrote a take."""
    other = make_world(world.env, "Other", world.bots)
    await world.alice.send(world.channel, f"!{ARTICLE} take {SECRET_A}")
    await world.bob.send(world.channel, f"!{ARTICLE} take {SECRET_B}")
    await world.mod.send(world.channel, f"!{ARTICLE} pin")
    await world.mod.send(world.channel, f"!{ARTICLE} settings cooldown 5s")
    await other.alice.send(other.channel, f"!{ARTICLE} take {OTHER_TAKE}")
    await world.env.advance_time(120)  # past every cooldown
    takes = {t.content: t.id for t in await world.bot.store.member_takes(world.alice.id)}
    takes |= {t.content: t.id for t in await world.bot.store.member_takes(world.bob.id)}
    other_takes = await world.bot.store.member_takes(other.alice.id)
    assert not world.env.errors
    return Scene(world, other, takes[SECRET_A], takes[SECRET_B], other_takes[0].id)


def actor_of(scene: Scene, role: str) -> tuple[Any, ChannelHandle | None]:
    world, other = scene.world, scene.other
    return {
        "member": (world.alice, world.channel),
        "moderator": (world.mod, world.channel),
        "other_moderator": (other.mod, other.channel),
        "other_member": (other.alice, other.channel),
        "dm": (world.alice.user, None),
        "restarted": (world.alice, world.channel),
    }[role]


def slash_options(scene: Scene, command: str) -> dict[str, Any]:
    return {
        "take": {"text": "One more take, from the access table."},
        "show": {"take_id": scene.alice_take},
        "edit": {"take_id": scene.alice_take, "text": "Edited by the access table."},
        "delete": {"take_id": scene.bob_take},
        "mod meeting-schedule": {"when": "tomorrow 19:00"},
    }.get(command, {})


def prefix_words(scene: Scene, command: str) -> str:
    return {
        "take": "take One more take, from the access table.",
        "show": f"show {scene.alice_take}",
        "edit": f"edit {scene.alice_take} Edited by the access table.",
        "delete": f"delete {scene.bob_take}",
        "meeting-schedule": "meeting-schedule tomorrow 19:00",
    }.get(command, command)


def discovered_commands(world: World) -> set[str]:
    """Every slash leaf of the first article's groups, named as in :data:`EXPECTED`."""
    names: set[str] = set()
    for command in world.bot.tree.walk_commands():
        if isinstance(command, app_commands.Group) or command.parent is None:
            continue
        group = command.parent.name
        if group == ARTICLE:
            names.add(command.name)
        elif group == MOD:
            names.add(f"mod {command.name}")
    return names


def classify(errors: Iterable[BaseException]) -> str:
    outcome = "ok"
    for raw in errors:
        error = _unwrap(raw)
        if isinstance(error, NotFound):
            outcome = "not_found"
        elif isinstance(error, (UserError, commands.CheckFailure, app_commands.CheckFailure,
                                commands.UserInputError)):
            outcome = "refused"
        else:
            raise AssertionError(f"unexpected error: {raw!r}")
    return outcome


async def seen_text(messages: Iterable[discord.Message | Any]) -> str:
    """What messages show, attachments included (exports, downloads)."""
    parts: list[str] = []
    for message in messages:
        if message is None:
            continue
        parts.append(getattr(message, "content", "") or "")
        for embed in getattr(message, "embeds", []):
            parts.append(json.dumps(embed.to_dict(), ensure_ascii=False))
        for attachment in getattr(message, "attachments", []):
            parts.append((await attachment.read()).decode("utf-8", "replace"))
    return "\n".join(parts)


async def run_cell(scene: Scene, role: str, command: str, path: str) -> tuple[str, str]:
    """Run one command as one role; its outcome and everything the actor saw."""
    env = scene.world.env
    actor, channel = actor_of(scene, role)
    cursor = env.error_cursor
    seen: list[Any] = []
    if path == "slash":
        name = f"{MOD} {command.removeprefix('mod ')}" if command.startswith("mod ") else f"{ARTICLE} {command}"
        offered = actor.available_commands() if channel is None else actor.available_commands(channel)
        if name not in offered:
            return "hidden", ""
        options = slash_options(scene, command)
        result = await (actor.slash(name, **options) if channel is None else actor.slash(channel, name, **options))
        seen += [result.response, *result.followups]
    else:
        words = prefix_words(scene, command.removeprefix("mod "))
        group = MOD if command.startswith("mod ") else ARTICLE
        text = f"!{group}" if command == "overview" else f"!{group} {words}"
        if channel is None:
            await actor.send_dm(text)
        else:
            await actor.send(channel, text)
    outcome = classify(env.errors_since(cursor))
    env.errors.clear()
    if channel is not None:
        seen += [m for m in channel.history() if m.author.bot]
    user = getattr(actor, "user", actor)
    seen += [m for m in user.dm_channel.history() if m.author.bot]
    return outcome, await seen_text(seen)


def test_every_command_has_a_row() -> None:
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


async def test_the_table_covers_every_command_the_bot_registers(world: World) -> None:
    discovered = discovered_commands(world)
    assert discovered == set(EXPECTED), (
        f"commands without a row in EXPECTED: {sorted(discovered - set(EXPECTED))}; "
        f"rows for commands that no longer exist: {sorted(set(EXPECTED) - discovered)}")
    # Every article gets the same commands, so one article's table covers them all.
    groups = {c.name: {s.name for s in c.commands} for c in world.bot.tree.get_commands()
              if isinstance(c, app_commands.Group)}
    article_groups = [g for name, g in groups.items() if not name.endswith("-mod")]
    assert all(g == article_groups[0] for g in article_groups)


@pytest.mark.parametrize("path", ["slash", "prefix"])
@pytest.mark.parametrize("role", ROLES)
async def test_access_table(world: World, role: str, path: str) -> None:
    scene = await build_scene(world)
    if role == "restarted":
        await world.restart()
    actual: dict[str, str] = {}
    everything_seen: list[str] = []
    for command in ORDER:
        outcome, seen = await run_cell(scene, role, command, path)
        actual[command] = outcome
        everything_seen.append(seen)
    expected = {command: row[ROLES.index(role)] for command, row in EXPECTED.items()}
    if path == "prefix":
        expected = {c: "refused" if o == "hidden" else o for c, o in expected.items()}
        expected |= {command: row[ROLES.index(role)] for command, row in PREFIX_EXPECTED.items()}
    mismatches = {c: (expected[c], actual[c]) for c in ORDER if expected[c] != actual[c]}
    assert not mismatches, f"{role} on {path}: command: (expected, actual): {mismatches}"

    assert_sent_safely(world, 0)  # every answer of every command within Discord's limits, none can ping
    seen = "\n".join(everything_seen)
    if role.startswith("other_"):
        # Nothing of the first server reaches the other one: not its takes, not its members, not its audit.
        for secret in (SECRET_A, SECRET_B, world.alice.name, world.bob.name, world.mod.name, world.admin.name,
                       world.guild.name):
            assert secret not in seen, f"{secret!r} leaked to {role} on {path}"
    # The take that stays in its own server is never shown in the first one, whoever asks there.
    if role in ("member", "moderator", "restarted"):
        assert OTHER_TAKE not in seen


# -- buttons, menus and forms ----------------------------------------------------------------------

#: Every persistent item (answered from its custom id, whenever it was posted) × role. ``form``
#: is the take form the Add your take button opens, filled in and submitted.
ITEMS_EXPECTED: dict[str, tuple[str, ...]] = {
    #                     member     moderator  other_mod  other_mem  dm         restarted
    "button summary":    ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "button citations":  ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "button faq":        ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "button take":       ("ok",      "ok",      "ok",      "ok",      "refused", "ok"),
    "select faqpick":    ("ok",      "ok",      "ok",      "ok",      "ok",      "ok"),
    "form take":         ("ok",      "ok",      "ok",      "ok",      "refused", "ok"),
    # A takes list's pages, turned by the member who asked (takes are listed in servers only).
    "button pager":      ("ok",      "ok",      "ok",      "ok",      "refused", "ok"),
    # Under a question in a meeting's thread (a server's thread: nothing to click from a DM).
    "button next question": ("refused", "ok",   "ok",      "refused", "n/a",     "refused"),
    "button meeting take": ("ok",    "ok",      "ok",      "ok",      "n/a",     "ok"),
    # Under a take shown with `show` (another member's: one's own is not agreed with).
    "button agree":      ("ok",      "ok",      "ok",      "ok",      "refused", "ok"),
}
#: The registered dynamic item classes and the rows of the table they are exercised by.
ITEM_ROWS = {"ArticleButton": ["button summary", "button citations", "button faq", "button take"],
             "FaqSelect": ["select faqpick"], "PagerButton": ["button pager"],
             "NextQuestionButton": ["button next question"], "MeetingTakeButton": ["button meeting take"],
             "AgreeButton": ["button agree"]}
LABELS = {"button summary": "Summary", "button citations": "Citations", "button faq": "FAQ",
          "button take": "Add your take"}
#: Rows whose message cannot exist in a DM: the command that would post it, tried there instead.
DM_INSTEAD = {"button agree": "show {take}", "button pager": "takes"}
REFUSALS = ("not in DMs", "works in a server", "belong to a server", "Only moderators")


def registered_items(world: World) -> set[str]:
    store: Any = world.bot._connection._view_store
    return {cls.__name__ for cls in store._dynamic_items.values()}


async def test_the_item_table_covers_every_registered_persistent_item(world: World) -> None:
    assert registered_items(world) == set(ITEM_ROWS), "a new persistent item needs rows in ITEMS_EXPECTED"
    assert {row for rows in ITEM_ROWS.values() for row in rows} | {"form take"} == set(ITEMS_EXPECTED)


def item_outcome(result: Any, cursor_errors: Iterable[BaseException]) -> str:
    outcome = classify(cursor_errors)
    answer = result.response.content if result.response is not None else ""
    if outcome == "ok" and any(refusal in (answer or "") for refusal in REFUSALS):
        return "refused"
    if outcome == "ok" and not (result.acknowledged or result.modal):
        return "unanswered"
    return outcome


@pytest.mark.parametrize("role", ROLES)
async def test_item_table(world: World, role: str) -> None:
    scene = await build_scene(world)
    actor, channel = actor_of(scene, role)
    # The overview and the FAQ list, posted where the actor is, before any restart.
    if channel is None:
        await actor.send_dm(f"!{ARTICLE}")
        overview = actor.dm_channel.last_message
        await actor.send_dm(f"!{ARTICLE} faq")
        listing = actor.dm_channel.last_message
    else:
        await actor.send(channel, f"!{ARTICLE}")
        overview = channel.last_message
        await actor.send(channel, f"!{ARTICLE} faq")
        listing = channel.last_message
    assert overview is not None and listing is not None and not world.env.errors
    pages = None  # a list of takes long enough to page, asked for by the actor where they are
    if channel is not None:
        guild = scene.other.guild if role.startswith("other_") else world.guild
        for n in range(6):
            world.env.backend.create_message(channel.id, guild.add_member(
                world.env.create_user(f"pager-writer-{n}")).id, f"!{ARTICLE} take A point to page through, {n}.")
        await world.env.settle()
        await actor.send(channel, f"!{ARTICLE} takes")
        pages = channel.last_message
        assert pages is not None and not world.env.errors
    question = None  # a meeting's first question, in a thread of the actor's channel
    shown_take = None  # another member's take, shown where the actor is
    if channel is not None:
        if role.startswith("other_"):
            await scene.other.bob.send(channel, f"!{ARTICLE} take Another member's take in the other server.")
            target = (await world.bot.store.member_takes(scene.other.bob.id))[0].id
        else:
            target = scene.bob_take
        await actor.send(channel, f"!{ARTICLE} show {target}")
        shown_take = channel.last_message
        assert shown_take is not None and not world.env.errors
        moderator = scene.other.mod if role.startswith("other_") else world.mod
        await moderator.send(channel, f"!{ARTICLE} meeting start")
        question = channel.threads[0].last_message
        assert question is not None and not world.env.errors
    if role == "restarted":
        await world.restart()
        await world.env.advance_time(60)

    actual: dict[str, str] = {}
    env = world.env
    for row in ITEMS_EXPECTED:
        cursor = env.error_cursor
        if row.startswith("button") and row in LABELS:
            result = await actor.click(overview, label=LABELS[row])
        elif row == "select faqpick":
            result = await actor.select(listing, ["1"], custom_id=f"cf:{ARTICLE}:faqpick:0")
        elif row in DM_INSTEAD and (shown_take if row == "button agree" else pages) is None:
            # In a DM there is no take to show or list to page: asking for one is refused.
            await actor.send_dm(f"!{ARTICLE} {DM_INSTEAD[row].format(take=scene.bob_take)}")
            actual[row] = classify(env.errors_since(cursor))
            env.errors.clear()
            continue
        elif row == "button agree":
            result = await actor.click(shown_take, label="Agree")
        elif row in ("button next question", "button meeting take"):
            if question is None:
                actual[row] = "n/a"
                continue
            label = "Next question" if row == "button next question" else "Add your take"
            result = await actor.click(question, label=label)
        elif row == "button pager":
            result = await actor.click(pages, label="Next ›")
        else:
            shown = await actor.click(overview, label=LABELS["button take"])
            if not shown.modal:
                actual[row] = item_outcome(shown, env.errors_since(cursor))
                env.errors.clear()
                continue
            await env.advance_time(60)
            result = await actor.submit_modal(shown, {"take_text": "Written in the form, in the access table."})
        actual[row] = item_outcome(result, env.errors_since(cursor))
        env.errors.clear()
    expected = {row: outcomes[ROLES.index(role)] for row, outcomes in ITEMS_EXPECTED.items()}
    assert actual == expected
    assert_sent_safely(world, 0)
    written = [t for t in await world.bot.store.member_takes(actor.id)
               if t.content == "Written in the form, in the access table."]
    if expected["form take"] == "ok":
        guild = scene.other.guild if role.startswith("other_") else world.guild
        assert [t.guild_id for t in written] == [guild.id]  # saved once, in the server it was written in
    else:
        assert not written


# -- controls that belong to one member ------------------------------------------------------------

#: Commands whose answers carry controls for the member who asked (pagers, download, confirm,
#: the settings card), run on the prefix path so the controls sit in the channel for all to see.
OWNED_CONTROLS = {"alice": ["takes", "mytakes", "forgetme", "summary", "citations"], "admin": ["settings"]}


def transient_controls(message: discord.Message) -> list[tuple[str, str]]:
    """(kind, custom id) of every control on a message that answers only its owner."""
    found: list[tuple[str, str]] = []
    for row in message.components:
        for child in getattr(row, "children", [row]):
            custom_id = getattr(child, "custom_id", None) or ""
            owned = custom_id.startswith("cfx:") or f"cf:{ARTICLE}:tp:" in custom_id  # transient, or a takes pager
            if owned and not getattr(child, "disabled", False):
                found.append(("button" if isinstance(child, discord.Button) else "select", custom_id))
    return found


async def test_every_owned_control_refuses_everyone_but_its_owner(world: World) -> None:
    """Whatever a member is shown for themselves (a pager, their download, the forgetme
    confirmation, a moderator's settings card) does nothing for anyone else: another member,
    a moderator, or a member of another server who sees the message."""
    for n in range(7):
        await world.alice.send(world.channel, f"!{ARTICLE} take Alice's point number {n}.")
        await world.env.advance_time(60)
    for who, names in OWNED_CONTROLS.items():
        for name in names:
            await getattr(world, who).send(world.channel, f"!{ARTICLE} {name}")
    before = [(t.id, t.content) for t in await world.bot.store.member_takes(world.alice.id)]
    settings = await world.bot.store.get_guild_settings(world.guild.id)
    controls = [(m, kind, cid) for m in world.channel.history() if m.author.bot for kind, cid in transient_controls(m)]
    labels = {getattr(child, "label", None) or getattr(child, "placeholder", None)
              for message, _, cid in controls for row in message.components
              for child in getattr(row, "children", [row]) if getattr(child, "custom_id", None) == cid}
    for expected in ("Next ›", "Download my takes", "Delete all my takes", "Cancel", "Anonymous lists",
                     "Moderator role", "Channels where takes"):
        assert any(label and label.startswith(expected) for label in labels), (expected, labels)

    for message, kind, custom_id in controls:
        card = "Moderator role" in json.dumps([c.to_dict() for c in message.components])
        owner = world.admin if card else world.alice
        for intruder in (world.bob, world.mod, world.admin, world.alice):
            if intruder is owner:
                continue
            cursor = world.env.error_cursor
            if kind == "button":
                result = await intruder.click(message, custom_id=custom_id)
            else:
                result = await intruder.select(message, [], custom_id=custom_id)
            assert classify(world.env.errors_since(cursor)) == "ok"
            answer = result.response
            assert answer is not None and result.ephemeral, custom_id
            assert "Only the member who" in answer.content or "the member who asked" in answer.content \
                or "who opened" in answer.content, answer.content

    assert [(t.id, t.content) for t in await world.bot.store.member_takes(world.alice.id)] == before
    assert await world.bot.store.get_guild_settings(world.guild.id) == settings


async def test_the_settings_cards_menus_from_before_a_restart_say_so(world: World) -> None:
    """Role and channel menus carry the boot id like buttons do, so after a restart they answer
    "run the command again" instead of Discord's "This interaction failed"."""
    await world.admin.send(world.channel, f"!{ARTICLE} settings")
    card = world.channel.last_message
    assert card is not None
    menus = [cid for kind, cid in transient_controls(card) if kind == "select"]
    assert len(menus) == 2
    await world.restart()

    for custom_id in menus:
        result = await world.admin.select(card, [], custom_id=custom_id)
        assert result.response is not None and "stopped working when the bot restarted" in result.response.content
    assert not world.env.errors


# -- forged custom ids -----------------------------------------------------------------------------
#
# A hostile client sends any custom id it likes: a button id Discord never showed it (on a message
# of the bot's, in its own channel) or a form submission the bot never opened. Every family of
# ids that names a subject × every field of it forged × who sends it. Each cell is tried twice:
# forged as a client can (the tag no longer matches: refused before it is read, ``tampered``), and
# re-signed with the bot's own key (as if the key had leaked), where the interaction's own checks
# decide. In no cell does the sender see anything they could not see by asking themselves.

PRESSERS = ("owner", "other_member", "other_server", "dm")
#: (family, forged field) → the outcome of the re-signed forgery for each sender of PRESSERS.
#: The list forged is Alice's "your takes" list in the first server (a member list for
#: ``subject``); the edit form is Alice's form for her own take.
FORGED_EXPECTED: dict[tuple[str, str], tuple[str, ...]] = {
    #                               owner        other_member  other_server  dm
    ("pager", "owner"):            ("refused",   "ok",         "refused",    "refused"),
    ("pager", "server"):           ("refused",   "refused",    "refused",    "ok"),
    ("pager", "subject"):          ("ok",        "refused",    "refused",    "not_found"),
    ("pager", "page"):             ("ok",        "refused",    "refused",    "ok"),
    ("pager", "kind"):             ("ok",        "refused",    "refused",    "not_found"),
    ("jump", "owner"):             ("refused",   "ok",         "refused",    "refused"),
    ("jump", "server"):            ("refused",   "refused",    "refused",    "ok"),
    ("jump", "subject"):           ("ok",        "refused",    "refused",    "not_found"),
    ("jump", "page"):              ("refused",   "refused",    "refused",    "refused"),
    ("jump", "kind"):              ("ok",        "refused",    "refused",    "not_found"),
    # The edit form names only a take: forging it to another member's or another server's take.
    ("edit", "subject"):           ("refused",   "ok",         "not_found",  "refused"),
    ("edit", "server"):            ("not_found", "not_found",  "ok",         "refused"),
}
#: What each sender must never see (the take of the other server; the takes of others).
NEVER_SEEN = {"owner": (OTHER_TAKE,), "other_member": (SECRET_A, OTHER_TAKE),
              "other_server": (SECRET_A, SECRET_B), "dm": (SECRET_B, OTHER_TAKE)}


#: The families whose ids name no subject, so they carry no tag: what a forged field can do there.
#: An action no button has is refused ("out of date or altered"); a forged FAQ page or form
#: source only picks public content or labels the sender's own take.
UNSIGNED_EXPECTED: dict[tuple[str, str], tuple[str, ...]] = {
    #                               owner        other_member  other_server  dm
    ("article button", "kind"):    ("refused",   "refused",    "refused",    "refused"),
    ("faq select", "page"):        ("ok",        "ok",         "ok",         "ok"),
    ("take form", "kind"):         ("ok",        "ok",         "ok",         "refused"),
    ("take form", "owner"):        ("refused",   "refused",    "refused",    "refused"),
}
UNSIGNED_IDS = {("article button", "kind"): f"cf:{ARTICLE}:delete", ("faq select", "page"): f"cf:{ARTICLE}:faqpick:99",
                ("take form", "kind"): f"cf:{ARTICLE}:form:forged",
                ("take form", "owner"): f"cf:{ARTICLE}:form:modal:{2**63 - 1}"}


def test_every_family_and_field_has_a_row() -> None:
    fields = {"owner", "server", "subject", "page", "kind"}
    assert {field for family, field in FORGED_EXPECTED if family in ("pager", "jump")} == fields
    assert all(len(row) == len(PRESSERS) for row in FORGED_EXPECTED.values())


def presser(scene: Scene, who: str) -> tuple[Any, ChannelHandle]:
    world, other = scene.world, scene.other
    return {"owner": (world.alice, world.channel), "other_member": (world.bob, world.channel),
            "other_server": (other.alice, other.channel), "dm": (world.alice.user, world.alice.user.dm_channel)}[who]


def forged_body(scene: Scene, family: str, field: str) -> str:
    """The id's text (before its tag) with one field forged."""
    world, other = scene.world, scene.other
    kind, owner, subject, page = "y", world.alice.id, world.guild.id, 1
    if family == "edit":
        take = scene.bob_take if field == "subject" else scene.other_take
        return f"cf:{ARTICLE}:edit:{take}"
    if field == "owner":
        owner = world.bob.id
    elif field == "server":
        subject = other.guild.id
    elif field == "subject":
        kind, subject = "m", other.alice.id
    elif field == "page":
        page = 9_999_999
    elif field == "kind":
        kind, subject = "a", 0
    who = f"{base36(owner)}:{base36(subject)}"
    if family == "jump":
        return f"cf:{ARTICLE}:tpjump:{kind}:{who}"
    return f"cf:{ARTICLE}:tp:{kind}n:{who}:{page}"


def bot_message(scene: Scene, channel: ChannelHandle, custom_id: str, *, select: bool = False) -> discord.Message:
    """A message of the bot's in the sender's channel, carrying ``custom_id`` on a button (or a menu)."""
    world = scene.world
    assert world.bot.user is not None
    control: dict[str, Any] = {"type": 2, "style": 2, "label": "Next ›", "custom_id": custom_id}
    if select:
        control = {"type": 3, "custom_id": custom_id, "options": [{"label": "A question", "value": "1"}]}
    stored = world.env.backend.create_message(channel.id, world.bot.user.id, "A list of takes.",
                                              components=[{"type": 1, "components": [control]}])
    return next(m for m in channel.history() if m.id == stored.id)


async def send_forged(scene: Scene, who: str, family: str, custom_id: str, page: str) -> tuple[int, Any]:
    """Send the forged id as ``who``; the id of the message it came from, and the result."""

    actor, channel = presser(scene, who)
    if family in ("pager", "article button"):
        source = bot_message(scene, channel, custom_id)
        return source.id, await actor.click(source, custom_id=custom_id)
    if family == "faq select":
        source = bot_message(scene, channel, custom_id, select=True)
        return source.id, await actor.select(source, ["1"], custom_id=custom_id)
    source = bot_message(scene, channel, "cf:unused:summary")
    value = page if family == "jump" else "Rewritten through a forged form."
    field = "page" if family == "jump" else "take_text"
    payload = dict(serializers.message_payload(scene.world.env.backend,
                                               scene.world.env.backend.get_message(channel.id, source.id)))
    data = {"custom_id": custom_id,
            "components": [{"type": 1, "components": [{"type": 4, "custom_id": field, "value": value}]}]}
    return source.id, await _dispatch_actor_interaction(
        actor, discord.InteractionType.modal_submit.value, channel, data, extra={"message": payload},
        source_message_id=source.id)


def forged_outcome(result: Any, errors: Iterable[BaseException]) -> str:
    answer = result.response.content if result.response is not None else ""
    if answer in (TAMPERED, UNKNOWN_CONTROL) or (answer or "").startswith((EDIT_TAMPERED, UNKNOWN_FORM)):
        assert result.ephemeral
        return "tampered"
    outcome = classify(errors)
    if outcome == "ok" and any(line in (answer or "") for line in (
            "Only the member", "only edit your own", "not in DMs", "works in a server", "Pick a page",
            "belongs to another server")):
        return "refused"
    if outcome == "ok" and any(line in (answer or "") for line in ("There is no take", "belongs to a server")):
        return "not_found"
    return outcome


async def every_take(scene: Scene) -> list[tuple[int, str]]:
    world = scene.world
    found = []
    for member in (world.alice.id, world.bob.id, scene.other.alice.id):
        found += [(t.id, t.content) for t in await world.bot.store.member_takes(member)]
    return sorted(found)


@pytest.mark.parametrize(("family", "field"), list(FORGED_EXPECTED))
async def test_forged_custom_ids(world: World, family: str, field: str) -> None:
    scene = await build_scene(world)
    await world.alice.user.send_dm("hello")  # opens the DM channel
    world.env.errors.clear()
    signer = world.bot.services.signer
    body = forged_body(scene, family, field)
    before = await every_take(scene)
    actual = []
    for who in PRESSERS:
        for signed in (False, True):
            custom_id = signer.sign(body) if signed else f"{body}:{'A' * 16}"
            cursor = world.env.error_cursor
            source, result = await send_forged(scene, who, family, custom_id,
                                               page="9999999" if field == "page" else "1")
            outcome = forged_outcome(result, world.env.errors_since(cursor))
            world.env.errors.clear()
            if not signed:
                assert outcome == "tampered", (family, field, who)
                continue
            actual.append(outcome)
            channel = presser(scene, who)[1]
            seen = await seen_text([result.response, *result.followups,
                                    *[m for m in channel.history() if m.id == source]])
            for secret in NEVER_SEEN[who]:
                assert secret not in seen, (family, field, who, secret)
            if outcome != "ok":
                assert await every_take(scene) == before, (family, field, who)  # nothing changed
            before = await every_take(scene)  # (an author may edit their own take through any form)
    assert tuple(actual) == FORGED_EXPECTED[(family, field)], (family, field)
    assert_sent_safely(world, 0)


@pytest.mark.parametrize(("family", "field"), list(UNSIGNED_EXPECTED))
async def test_forged_ids_of_families_that_name_no_subject(world: World, family: str, field: str) -> None:
    scene = await build_scene(world)
    await world.alice.user.send_dm("hello")  # opens the DM channel
    world.env.errors.clear()
    actual = []
    for who in PRESSERS:
        await world.env.advance_time(120)  # past the cooldown: a take saved through the form is the sender's own
        cursor = world.env.error_cursor
        source, result = await send_forged(scene, who, family, UNSIGNED_IDS[(family, field)], page="1")
        outcome = forged_outcome(result, world.env.errors_since(cursor))
        world.env.errors.clear()
        actual.append("refused" if outcome == "tampered" else outcome)
        seen = await seen_text([result.response, *result.followups,
                                *[m for m in presser(scene, who)[1].history() if m.id == source]])
        for secret in NEVER_SEEN[who]:
            assert secret not in seen, (family, field, who, secret)
    assert tuple(actual) == UNSIGNED_EXPECTED[(family, field)], (family, field)
    saved = [t for t in await every_take(scene) if t[1] == "Rewritten through a forged form."]
    assert len(saved) == UNSIGNED_EXPECTED[(family, field)].count("ok") if family == "take form" else not saved
    assert_sent_safely(world, 0)
