"""Things members and moderators do at the same moment: the outcome is one of the orders they
could have happened in, never a mix (no take resurrected, no change lost, no double pin)."""

from __future__ import annotations

from tests.conftest import World

ARTICLE = "commonfactors"


async def test_edit_and_delete_of_one_take_at_once_end_in_one_order(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take The first version.")
    [take] = await world.bot.store.member_takes(world.alice.id)
    backend = world.env.backend  # both queued before the bot handles either
    backend.create_message(world.channel.id, world.alice.id, f"!{ARTICLE} edit {take.id} The second version.")
    backend.create_message(world.channel.id, world.alice.id, f"!{ARTICLE} delete {take.id}")
    await world.env.settle()

    answers = [m.content for m in world.channel.history() if m.author.bot][-2:]
    assert await world.bot.store.get_take(world.guild.id, take.id) is None  # deleted, and stays deleted
    assert any(f"Deleted your take **#{take.id}**" in a for a in answers)
    edited = any(f"Updated take **#{take.id}**" in a for a in answers)
    missing = any(f"no take #{take.id}" in a for a in answers)
    assert edited != missing  # the edit either happened before the delete, or was told the take is gone
    world.env.errors.clear()  # the "no take" refusal, when the delete won


async def test_delete_and_edit_from_two_paths_never_resurrect_a_take(world: World) -> None:
    await world.alice.send(world.channel, f"!{ARTICLE} take Only once.")
    [take] = await world.bot.store.member_takes(world.alice.id)
    world.env.backend.create_message(world.channel.id, world.alice.id, f"!{ARTICLE} delete {take.id}")
    result = await world.alice.slash(world.channel, f"{ARTICLE} edit", take_id=take.id, text="Back again?")

    assert await world.bot.store.get_take(world.guild.id, take.id) is None
    assert result.response is not None
    world.env.errors.clear()


async def test_two_hundred_takes_at_once_from_one_member_admit_exactly_one(world: World) -> None:
    backend = world.env.backend
    for n in range(200):
        backend.create_message(world.channel.id, world.alice.id, f"!{ARTICLE} take Different take number {n}.")
    await world.env.settle()

    [take] = await world.bot.store.member_takes(world.alice.id)
    assert take.content == "Different take number 0."
    world.env.errors.clear()  # the one answered "too soon" (the burst is answered once; tests/test_faults.py)
