"""A command's free text (``!commonfactors faq <words>``, ``take <text>``) is read by our command
class without discord.py's converter lookup; it must read exactly what discord.py reads."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from discord.ext import commands
from discord.ext.commands.core import _AttachmentIterator
from discord.ext.commands.view import StringView
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import ArticleCommand


async def optional_text(ctx: Any, *, query: str | None = None) -> None: ...


async def required_text(ctx: Any, *, text: str) -> None: ...


async def a_number(ctx: Any, *, number: int = 0) -> None: ...


def read(command_class: type[commands.HybridCommand[Any, ..., Any]], callback: Any, text: str) -> tuple[Any, ...]:
    command = command_class(callback, name="x")
    param = next(iter(command.params.values()))
    ctx = SimpleNamespace(view=StringView(text), current_argument=None)

    async def transform() -> Any:
        return await command.transform(ctx, param, _AttachmentIterator([]))  # type: ignore[arg-type]

    try:
        value: Any = asyncio.run(transform())
    except commands.CommandError as error:
        value = type(error)
    return value, ctx.view.index, ctx.view.previous, ctx.current_argument


texts = st.one_of(st.text(), st.text(alphabet=' \t\n"\'“”«»\\abc#1'),
                  st.sampled_from(["", " ", "  3 ", '"a b" c', "\u3000x"]))


@given(texts)
def test_free_text_reads_as_discord_py_reads_it(text: str) -> None:
    for callback in (optional_text, required_text):
        assert read(ArticleCommand, callback, text) == read(commands.HybridCommand, callback, text)


@pytest.mark.parametrize("text", ["", "12", "twelve"])
def test_other_arguments_are_still_discord_pys(text: str) -> None:
    assert read(ArticleCommand, a_number, text) == read(commands.HybridCommand, a_number, text)
