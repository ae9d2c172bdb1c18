"""Nothing a client sends is trusted: a hostile member can submit a form (or press a button) with
any custom id they like. Who may act, whose takes and which server follow from the interaction;
the custom id only says what to show.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import discord
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from simcord import InteractionResult

from bot.__main__ import main
from bot.errors import UserError
from bot.signing import CUSTOM_ID_LIMIT, SIGNING_KEY, TAG_LENGTH, IdSigner, load_signer, rotate_signing_key
from bot.storage import open_store
from bot.ui.reporting import _unwrap
from bot.ui.take_pager import BUTTON_BODY, TAMPERED, TakeList, base36
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


def jump_id(world: World, kind: str, owner: int, subject: int, *, signed: bool = True) -> str:
    """A "Go to page" form id for any list. ``signed``: with the bot's own key, as if the client had
    kept a real id from elsewhere, so the checks behind the signature are tested too."""
    body = f"cf:{ARTICLE}:tpjump:{kind}:{base36(owner)}:{base36(subject)}"
    return world.bot.services.signer.sign(body) if signed else f"{body}:{'A' * TAG_LENGTH}"


# -- "Go to page" forms, forged ----------------------------------------------------------------


async def assert_forgeries_refused(world: World, actor: Any, channel: Any, listing: discord.Message,
                                   forged: tuple[str, ...], page: str, never: tuple[str, ...]) -> None:
    """Each forged id, submitted through ``actor``'s own form on ``listing``: one private line that
    shows none of ``never``, and the listing unchanged."""
    before = visible_text(listing)
    for custom_id in forged:
        cursor = world.env.error_cursor
        result = await submit_forged(actor, await open_jump_form(actor, listing), custom_id, page=page)
        refusals(world, cursor)
        line = assert_one_private_line(result)
        assert not any(secret in line for secret in never), line
        assert visible_text(fresh(world, channel, listing.id)) == before


async def test_a_forged_go_to_page_from_another_member_changes_nothing_and_shows_nothing(world: World) -> None:
    """Bob's own listing's form, submitted under an id naming Alice's "mine" list (or another
    owner's list of everyone): refused in one private line; his message still shows his page."""
    await world.alice.send(world.channel, f"!{ARTICLE} take Alice's own private thought.")
    await takes_by_writers(world, world.channel, world.guild, 11, "clinic")
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    listing = world.channel.last_message
    assert listing is not None
    forged = (jump_id(world, "y", world.alice.id, world.guild.id), jump_id(world, "a", world.alice.id, 0),
              jump_id(world, "m", world.alice.id, world.alice.id),
              jump_id(world, "y", world.alice.id, world.guild.id, signed=False))
    await assert_forgeries_refused(world, world.bob, world.channel, listing, forged, "3",
                                   ("Alice's own private thought", world.alice.name))


async def test_a_forged_go_to_page_naming_another_server_shows_nothing_of_it(world: World) -> None:
    """In another server, Eve submits her own form under an id naming the first server (her own
    "mine" list there, or Alice's): nothing of the first server reaches her."""
    other = make_world(world.env, "Other", world.bots)
    await world.alice.send(world.channel, f"!{ARTICLE} take Alice's words in the clinic.")
    await takes_by_writers(world, other.channel, other.guild, 11, "other")
    await other.bob.send(other.channel, f"!{ARTICLE} takes")
    listing = other.channel.last_message
    assert listing is not None
    forged = (jump_id(world, "y", world.alice.id, world.guild.id), jump_id(world, "y", other.bob.id, world.guild.id),
              jump_id(world, "y", other.bob.id, world.guild.id, signed=False))
    await assert_forgeries_refused(world, other.bob, other.channel, listing, forged, "1",
                                   ("clinic", "Clinic", world.alice.name))


async def test_a_forged_go_to_page_in_an_anonymous_server_names_no_one(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take Alice believes this stays anonymous.")
    await takes_by_writers(world, world.channel, world.guild, 11, "anon")
    await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")
    await world.bob.send(world.channel, f"!{ARTICLE} takes")
    listing = world.channel.last_message
    assert listing is not None and world.alice.name not in visible_text(listing)
    forged = (jump_id(world, "y", world.alice.id, world.guild.id), jump_id(world, "m", world.bob.id, world.alice.id),
              jump_id(world, "m", world.bob.id, world.alice.id, signed=False))
    await assert_forgeries_refused(world, world.bob, world.channel, listing, forged, "1",
                                   (world.alice.name, "Alice believes"))
    assert world.alice.name not in "\n".join(visible_text(m) for m in world.channel.history() if m.author.bot)


# -- signed ids ------------------------------------------------------------------------------------


def test_a_signed_id_verifies_and_any_change_is_refused() -> None:
    signer = IdSigner(b"k" * 32)
    signed = signer.sign("cf:commonfactors:tpjump:y:abc:def")
    assert signer.verify(signed) == "cf:commonfactors:tpjump:y:abc:def"
    assert IdSigner(b"j" * 32).verify(signed) is None  # another key (a rotated one)
    for cut in (signed[:-1], signed + "A", signed.rsplit(":", 1)[0], "", ":" + "A" * TAG_LENGTH):
        assert signer.verify(cut) is None


@given(body=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60),
       position=st.integers(min_value=0), replacement=st.characters(min_codepoint=33, max_codepoint=126))
def test_tampering_with_any_character_of_a_signed_id_is_refused(body: str, position: int, replacement: str) -> None:
    signer = IdSigner(b"s" * 32)
    signed = signer.sign(body)
    index = position % len(signed)
    tampered = signed[:index] + replacement + signed[index + 1:]
    assume(tampered != signed)
    assert signer.verify(tampered) is None


def test_the_longest_signed_ids_fit_discords_limit() -> None:
    signer = IdSigner(b"x" * 32)
    widest = TakeList("a" * 32, "mine", 2**64 - 1, 2**64 - 1)
    longest = [widest.button_id(signer, "j", 9_999_999), widest.jump_form_id(signer),
               signer.sign(f"cf:{'a' * 28}:edit:{2**64 - 1}"), widest.button_id(signer, "n", 9_999_999, 2**63 - 1)]
    for custom_id in longest:
        assert len(custom_id) <= CUSTOM_ID_LIMIT, custom_id
        assert signer.verify(custom_id) is not None
    assert BUTTON_BODY.fullmatch(signer.verify(longest[0]) or "") is not None
    # "Next ›" carries its page's edge (a take id) where the id has room for it, and parses back.
    typical = TakeList("commonfactors", "mine", 2**63, 2**63).button_id(signer, "n", 12_345, 2**40)
    body = BUTTON_BODY.fullmatch(signer.verify(typical) or "")
    assert body is not None and int(body["edge"], 36) == 2**40 and body["page"] == "12345"
    with pytest.raises(ValueError, match="100"):
        signer.sign("x" * 90)


def test_the_key_is_made_once_kept_and_rotated(database_url: str, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    async def start() -> tuple[str, str | None]:
        store = await open_store(database_url)
        try:
            signed = (await load_signer(store)).sign("cf:commonfactors:tpjump:a:1:0")
            assert (await load_signer(store)).verify(signed) is not None  # the same key on the next start
            return signed, await store.get_meta(SIGNING_KEY)
        finally:
            await store.close()

    async def after_rotation() -> None:
        store = await open_store(database_url)
        try:
            assert await store.get_meta(SIGNING_KEY) not in (None, stored)
            assert (await load_signer(store)).verify(signed) is None  # no grace period
        finally:
            await store.close()

    signed, stored = asyncio.run(start())
    assert stored and stored not in signed
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["rotate-signing-key"]) == 0
    assert "Restart the bot" in capsys.readouterr().out
    asyncio.run(after_rotation())


def tamper_button(world: World, channel: Any, message: discord.Message, label: str, custom_id: str) -> None:
    """Change one button's id on the stored message, as a hostile client would send it."""
    stored = world.env.backend.get_message(channel.id, message.id)
    for row in stored.components:
        for child in row.get("components", []):
            if child.get("label") == label:
                child["custom_id"] = custom_id


async def pager_of(world: World, who: Any, command: str = "takes") -> discord.Message:
    await takes_by_writers(world, world.channel, world.guild, 11, "signed")
    await who.send(world.channel, f"!{ARTICLE} {command}")
    listing = world.channel.last_message
    assert listing is not None
    return listing


def button_id(message: discord.Message, label: str) -> str:
    return next(child.custom_id for row in message.components for child in getattr(row, "children", [row])
                if getattr(child, "label", None) == label)


async def test_a_tampered_pager_button_is_refused_with_one_private_line(world: World) -> None:
    listing = await pager_of(world, world.bob)
    before = visible_text(listing)
    real = button_id(listing, "Next ›")
    body, _, tag = real.rpartition(":")
    alice_list = body.replace(":tp:an:", ":tp:yn:").replace(f":{base36(world.bob.id)}:0:",
                                                              f":{base36(world.alice.id)}:{base36(world.guild.id)}:")
    forged = [f"{alice_list}:{tag}", f"{body[:-1]}9:{tag}", f"{body}:{tag[:-1]}{'B' if tag[-1] != 'B' else 'C'}",
              body.rsplit(":", 1)[0] + ":2"]
    for restarted in (False, True):
        if restarted:
            await world.restart()
        for custom_id in forged:
            tamper_button(world, world.channel, listing, "Next ›", custom_id)
            result = await world.bob.click(fresh(world, world.channel, listing.id), custom_id=custom_id)
            assert assert_one_private_line(result) == TAMPERED
            assert not world.env.errors
            assert visible_text(fresh(world, world.channel, listing.id)) == before
    tamper_button(world, world.channel, listing, "Next ›", real)  # the real id still works after the restart
    await world.bob.click(fresh(world, world.channel, listing.id), label="Next ›")
    assert visible_text(fresh(world, world.channel, listing.id)) != before


async def test_after_a_key_rotation_old_buttons_and_forms_say_to_run_the_command_again(world: World) -> None:
    listing = await pager_of(world, world.bob)
    shown = await open_jump_form(world.bob, listing)
    before = visible_text(listing)
    await rotate_signing_key(world.bot.store)
    await world.restart()
    result = await world.bob.click(listing, label="Next ›")
    assert assert_one_private_line(result) == TAMPERED
    result = await world.bob.submit_modal(shown, {"page": "2"})
    assert assert_one_private_line(result) == TAMPERED
    assert visible_text(fresh(world, world.channel, listing.id)) == before and not world.env.errors


async def test_a_tampered_edit_form_changes_nothing_and_hands_the_words_back(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take Alice's take, hers to edit.")
    await world.bob.send(world.channel, f"!{ARTICLE} take Bob's take, not Alice's.")
    ids = {t.author_id: t.id for t in await world.bot.store.member_takes(world.alice.id)}
    ids |= {t.author_id: t.id for t in await world.bot.store.member_takes(world.bob.id)}
    shown = await world.alice.slash(world.channel, f"{ARTICLE} edit", take_id=ids[world.alice.id])
    assert shown.modal is not None
    real = shown._interaction.modal["custom_id"]
    body, _, tag = real.rpartition(":")
    for forged in (f"{body.rsplit(':', 1)[0]}:{ids[world.bob.id]}:{tag}", f"cf:{ARTICLE}:edit:{ids[world.bob.id]}"):
        again = await world.alice.slash(world.channel, f"{ARTICLE} edit", take_id=ids[world.alice.id])
        again._interaction.modal["custom_id"] = forged
        result = await world.alice.submit_modal(again, {"take_text": "Rewritten by a forged form."})
        assert result.ephemeral and result.response is not None
        assert "out of date or was altered" in result.response.content
        assert "Rewritten by a forged form." in result.response.content  # the words are not lost
    # Signed with the bot's key but naming Bob's take: the form still checks who submits it.
    cursor = world.env.error_cursor
    again = await world.alice.slash(world.channel, f"{ARTICLE} edit", take_id=ids[world.alice.id])
    again._interaction.modal["custom_id"] = world.bot.services.signer.sign(f"cf:{ARTICLE}:edit:{ids[world.bob.id]}")
    result = await world.alice.submit_modal(again, {"take_text": "Rewritten by a forged form."})
    assert result.ephemeral and "only edit your own" in (result.response.content if result.response else "")
    world.env.errors_since(cursor)
    world.env.errors.clear()
    contents = {t.content for t in await world.bot.store.member_takes(world.bob.id)}
    assert contents == {"Bob's take, not Alice's."}
    await world.alice.submit_modal(shown, {"take_text": "Alice's own edit, through her real form."})
    assert {t.content for t in await world.bot.store.member_takes(world.alice.id)} == {
        "Alice's own edit, through her real form."}


# -- a "mine" list posted before the server went anonymous ----------------------------------------


async def mine_listing(world: World) -> discord.Message:
    await world.alice.send(world.channel, f"!{ARTICLE} mytakes")
    return next(m for m in reversed(world.channel.history()) if m.author.bot and m.embeds
                and "Your takes" in (m.embeds[0].title or ""))


async def test_turning_anonymous_on_withdraws_a_public_mine_list_at_once(world: World) -> None:
    for n in range(7):
        await world.alice.send(world.channel, f"!{ARTICLE} take Alice's point number {n}.")
        await world.env.advance_time(60)
    listing = await mine_listing(world)
    assert "Alice's point number 6" in visible_text(listing)  # public, before the switch
    await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")
    withdrawn = fresh(world, world.channel, listing.id)
    assert "Alice's point" not in visible_text(withdrawn) and not withdrawn.components


async def test_a_stale_public_mine_pager_after_the_anonymous_switch_names_no_one(world: World) -> None:
    """A list the switch could not reach (posted before the bot remembered lists): pressed, it
    answers its owner privately and withdraws the copy in the channel; after a restart too."""
    for n in range(7):
        await world.alice.send(world.channel, f"!{ARTICLE} take Alice's point number {n}.")
        await world.env.advance_time(60)
    for restarted in (False, True):
        await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous off")
        listing = await mine_listing(world)
        assert "Alice's point number 6" in visible_text(listing)
        await world.bot.services.quotes.forget(listing.id)
        await world.mod.send(world.channel, f"!{ARTICLE} settings anonymous on")
        if restarted:
            await world.restart()
        assert "Alice's point number 6" in visible_text(fresh(world, world.channel, listing.id))
        result = await world.alice.click(listing, label="Next ›")
        assert result.ephemeral and result.response is not None
        assert "Alice's point number 1" in visible_text(result.response)  # her page, to her alone
        withdrawn = fresh(world, world.channel, listing.id)
        assert "Alice's point" not in visible_text(withdrawn) and not withdrawn.components
        assert not world.env.errors
        # Turning the private pages keeps them private.
        await world.alice.click(result.response, label="‹ Prev")
        public = "\n".join(visible_text(m) for m in world.channel.history() if m.author.bot)
        assert "Alice's point" not in public
