"""Takes that arrive together are committed together, with the outcomes a take-at-a-time store
would give: a burst's first take kept, duplicates and cooldowns inside one group refused as if
the group's earlier takes were already saved, members never affecting each other.

Every test runs on both backends; on PostgreSQL the group is one statement (bot/storage/postgres.py,
``_GROUP_INSERT``), and the tests check that it really was one group, not a take at a time."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.storage import NewTake, Store, Take
from bot.storage.base import TakeChecks, TakeRefused
from bot.storage.postgres import PostgresStore
from bot.storage.sqlite import SqliteStore

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
CHANNEL = 900_000_000_000_000_001
ARTICLES = ("greenwald-2013-common-factors", "wampold-2015-great-debate")
MEMBERS = (9_223_372_036_854_775_807, 100_000_000_000_000_002, 3)
_guilds = itertools.count(811_111_111_111_111_111)
_databases: dict[str, str] = {}


@dataclass(frozen=True)
class Counted:
    """The store, and how many groups it committed (and how many took the slow path) so far."""

    store: Store
    groups: list[int]
    one_by_one: list[int]


async def _open(backend: str, url: Callable[[], str] | None) -> Counted:
    groups: list[int] = []
    one_by_one: list[int] = []
    if backend == "postgresql":
        assert url is not None
        store: Store = await PostgresStore.open(url())
        commit = store._queue._commit  # type: ignore[attr-defined]
        slow = store._commit_one_by_one  # type: ignore[attr-defined]

        async def counted(group: list[Any]) -> None:
            groups.append(len(group))
            await commit(group)

        async def counted_slow(conn: Any, group: list[Any], keys: list[int]) -> None:
            one_by_one.append(len(group))
            await slow(conn, group, keys)

        store._queue._commit = counted  # type: ignore[attr-defined]
        store._commit_one_by_one = counted_slow  # type: ignore[attr-defined]
    else:
        store = await SqliteStore.open(":memory:")
    return Counted(store, groups, one_by_one)


@pytest.fixture(params=["sqlite", "postgresql"])
async def counted(request: pytest.FixtureRequest) -> AsyncIterator[Counted]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    opened = await _open(request.param, url)
    yield opened
    await opened.store.close()


def take(guild: int, member: int, content: str, *, at: dt.timedelta = dt.timedelta(), article: str = ARTICLES[0],
         ) -> NewTake:
    return NewTake(guild_id=guild, channel_id=CHANNEL, article=article, author_id=member, author_name=f"m{member}",
                   content=content, source="command", created_at=T0 + at)


def rules(*, duplicate: dt.timedelta | None = None, cooldown: dt.timedelta | None = None,
          at: dt.timedelta = dt.timedelta()) -> TakeChecks:
    """A take's rules as the bot asks for them: windows that end at the take's own time."""
    return TakeChecks(duplicate_since=None if duplicate is None else T0 + at - duplicate,
                      cooldown_since=None if cooldown is None else T0 + at - cooldown)


async def at_once(store: Store, takes: Sequence[tuple[NewTake, TakeChecks | None]]) -> list[Take | BaseException]:
    return await asyncio.gather(*(store.add_take(new, checks=checks) for new, checks in takes),
                                return_exceptions=True)


def outcome(result: Take | BaseException) -> object:
    if isinstance(result, Take):
        return "kept"
    assert isinstance(result, TakeRefused), result
    return (result.rule, result.last_take_at)


async def test_several_members_in_one_group_each_keep_their_own_take(counted: Counted) -> None:
    guild = next(_guilds)
    cooldown = rules(cooldown=dt.timedelta(minutes=1))
    results = await at_once(counted.store, [(take(guild, member, f"from {member}"), cooldown) for member in MEMBERS])

    assert [outcome(r) for r in results] == ["kept"] * 3
    assert [r.author_id for r in results if isinstance(r, Take)] == list(MEMBERS)
    for result in results:
        assert isinstance(result, Take)
        assert await counted.store.get_take(guild, result.id) == result
    assert counted.groups in ([], [3])  # one group (counted on PostgreSQL)


async def test_a_duplicate_inside_one_group_is_refused_and_the_first_is_kept(counted: Counted) -> None:
    guild = next(_guilds)
    alice, bob = MEMBERS[:2]
    window = rules(duplicate=dt.timedelta(minutes=10))
    results = await at_once(counted.store, [
        (take(guild, alice, "Same words."), window),
        (take(guild, bob, "Same words."), window),  # another member: not a duplicate
        (take(guild, alice, "Same words."), window),
        (take(guild, alice, "Same words.", article=ARTICLES[1]), window),  # another article: not one either
        (take(guild, alice, "Other words."), window),
    ])

    assert [outcome(r) for r in results] == ["kept", "kept", ("duplicate", T0), "kept", "kept"]
    first = results[0]
    assert isinstance(first, Take) and first.content == "Same words."
    assert await counted.store.count_takes(guild, ARTICLES[0], author_id=alice) == 2
    assert counted.groups in ([], [5]) and counted.one_by_one == []


async def test_a_cooldown_inside_one_group_keeps_only_the_bursts_first_take(counted: Counted) -> None:
    guild = next(_guilds)
    alice, bob = MEMBERS[:2]
    results = await at_once(counted.store, [
        (take(guild, alice, f"burst {n}", at=dt.timedelta(seconds=n)),
         rules(cooldown=dt.timedelta(minutes=1), at=dt.timedelta(seconds=n))) for n in range(5)
    ] + [(take(guild, bob, "Bob's only take"), rules(cooldown=dt.timedelta(minutes=1)))])

    assert [outcome(r) for r in results] == ["kept"] + [("cooldown", T0)] * 4 + ["kept"]
    assert [t.content for t in await counted.store.member_takes(alice)] == ["burst 0"]
    assert counted.groups in ([], [6]) and counted.one_by_one == []


async def test_a_group_sees_the_takes_saved_before_it(counted: Counted) -> None:
    guild = next(_guilds)
    alice, bob = MEMBERS[:2]
    await counted.store.add_take(take(guild, alice, "Earlier."))
    later = dt.timedelta(seconds=30)
    results = await at_once(counted.store, [
        (take(guild, alice, "Earlier.", at=later), rules(duplicate=dt.timedelta(hours=1), at=later)),
        (take(guild, alice, "New words.", at=later), rules(cooldown=dt.timedelta(minutes=1), at=later)),
        (take(guild, bob, "Earlier.", at=later),
         rules(duplicate=dt.timedelta(hours=1), cooldown=dt.timedelta(minutes=1), at=later)),
        (take(guild, alice, "No rules.", at=later), None),
    ])

    assert [outcome(r) for r in results] == [("duplicate", T0), ("cooldown", T0), "kept", "kept"]


# -- the property: a group gives what one take at a time gives --------------------------------------

OFFSETS = st.integers(min_value=0, max_value=120).map(lambda s: dt.timedelta(seconds=s))
WINDOWS = st.none() | st.integers(min_value=0, max_value=90).map(lambda s: dt.timedelta(seconds=s))
ENTRY = st.tuples(st.sampled_from(MEMBERS), st.sampled_from(ARTICLES), st.sampled_from(["a", "b", "ä\x01'\""]),
                  OFFSETS, st.none() | st.tuples(WINDOWS, WINDOWS))


def one_at_a_time(entries: list[tuple[NewTake, TakeChecks | None]]) -> list[object]:
    """What a store that saved one take at a time, in queue order, would answer."""
    saved: list[NewTake] = []
    answers: list[object] = []
    for new, checks in entries:
        mine = [s for s in saved if (s.guild_id, s.author_id) == (new.guild_id, new.author_id)]
        duplicate = checks is not None and checks.duplicate_since is not None and any(
            s.article == new.article and s.content == new.content and s.created_at >= checks.duplicate_since
            for s in mine)
        cooling = checks is not None and checks.cooldown_since is not None and any(
            s.created_at > checks.cooldown_since for s in mine)
        if duplicate or cooling:
            answers.append(("duplicate" if duplicate else "cooldown", max((s.created_at for s in mine), default=None)))
        else:
            saved.append(new)
            answers.append("kept")
    return answers


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(ENTRY, max_size=4), group=st.lists(ENTRY, min_size=1, max_size=12))
def test_a_group_answers_as_one_take_at_a_time_would(
    backend: str, request: pytest.FixtureRequest, before: list[Any], group: list[Any]
) -> None:
    url = None
    if backend == "postgresql":  # one database for every example (each example has a guild of its own)
        made = _databases.setdefault(request.node.nodeid, request.getfixturevalue("postgres_url")())
        url = lambda: made  # noqa: E731
    guild = next(_guilds)

    def entries(drawn: list[Any]) -> list[tuple[NewTake, TakeChecks | None]]:
        made = []
        for member, article, content, at, windows in drawn:
            checks = None if windows is None else rules(duplicate=windows[0], cooldown=windows[1], at=at)
            made.append((take(guild, member, content, at=at, article=article), checks))
        return made

    async def scenario() -> None:
        counted = await _open(backend, url)
        try:
            earlier, together = entries(before), entries(group)
            for new, checks in earlier:  # one at a time: the table the group meets
                with contextlib.suppress(TakeRefused):
                    await counted.store.add_take(new, checks=checks)
            kept_before = [new for (new, _), answer in zip(earlier, one_at_a_time(earlier), strict=True)
                           if answer == "kept"]
            counted.groups.clear()
            results = await at_once(counted.store, together)

            expected = one_at_a_time([(new, None) for new in kept_before] + together)[len(kept_before):]
            assert [outcome(r) for r in results] == expected
            saved = [r for r in results if isinstance(r, Take)]
            assert len({t.id for t in saved}) == len(saved)
            for result, (new, _) in zip(results, together, strict=True):
                if isinstance(result, Take):
                    assert (result.author_id, result.article, result.content, result.created_at) == (
                        new.author_id, new.article, new.content, new.created_at)
                    assert await counted.store.get_take(guild, result.id) == result
            assert counted.groups in ([], [len(together)]) and counted.one_by_one == []
        finally:
            await counted.store.close()

    asyncio.run(scenario())


async def test_takes_in_a_meeting_are_linked_to_it_in_the_same_group(counted: Counted) -> None:
    from bot.storage import NewMeeting

    guild = next(_guilds)
    meeting = await counted.store.add_meeting(NewMeeting(
        guild_id=guild, channel_id=CHANNEL, article=ARTICLES[0], starts_at=T0, duration_minutes=60,
        moderator_id=MEMBERS[2], next_due_at=T0))
    alice, bob = MEMBERS[:2]
    cooldown = rules(cooldown=dt.timedelta(minutes=1))
    in_meeting = [
        (dataclasses.replace(take(guild, alice, "In the meeting."), meeting_id=meeting.id, question=2), cooldown),
        (dataclasses.replace(take(guild, alice, "Too soon, in the meeting."), meeting_id=meeting.id, question=2),
         cooldown),
        (dataclasses.replace(take(guild, bob, "No such meeting."), meeting_id=meeting.id + 1000), cooldown),
        (take(guild, bob, "Not in a meeting."), None),
    ]
    results = await at_once(counted.store, in_meeting)

    assert [outcome(r) for r in results] == ["kept", ("cooldown", T0), "kept", "kept"]
    linked = await counted.store.meeting_takes(guild, meeting.id)
    assert [(t.content, question) for t, question in linked] == [("In the meeting.", 2)]
    assert counted.groups in ([], [4]) and counted.one_by_one == []
