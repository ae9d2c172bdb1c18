"""Discord messages as plain text for a terminal: embeds as boxes with their fields, buttons and
menus listed, ephemeral answers marked, files listed with their size."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import discord

WIDTH = 76
#: The bot's name on the simulated Discord (the application's name), as members see it.
BOT_NAME = "commonfactors-bot"
BOT_LABEL = f"{BOT_NAME} [BOT]"
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
_MENTION = re.compile(r"<(@!?|@&|#)(\d+)>")


def timestamps(text: str, now: dt.datetime | None) -> str:
    """Discord's ``<t:…>`` markup as a reader sees it ("just now", "in 30 s", "2 min ago",
    "2026-01-01 12:00 UTC")."""

    def one(match: re.Match[str]) -> str:
        when = dt.datetime.fromtimestamp(int(match.group(1)), dt.UTC)
        if match.group(2) == "R" and now is not None:
            seconds = round((when - now).total_seconds())
            amount = abs(seconds)
            if amount == 0:
                return "just now"
            span = (f"{amount} s" if amount < 60 else f"{amount // 60} min" if amount < 3600
                    else f"{amount // 3600} h" if amount < 172800 else f"{amount // 86400} days")
            return f"in {span}" if seconds > 0 else f"{span} ago"
        return when.strftime("%Y-%m-%d %H:%M UTC")

    return _TIMESTAMP.sub(one, text)


def mentions(text: str, names: Mapping[int, str]) -> str:
    """Discord's ``<@…>``, ``<@&…>`` and ``<#…>`` markup as a reader sees it: ``@alice``,
    ``@Moderators``, ``#journal-club`` (``names`` maps ids to those, sigil included)."""

    def one(match: re.Match[str]) -> str:
        sigil = "#" if match.group(1) == "#" else "@"
        return names.get(int(match.group(2)), f"{sigil}unknown")

    return _MENTION.sub(one, text)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width, replace_whitespace=False, drop_whitespace=True) or [""])
    return lines


def _unchanged(text: str) -> str:
    return text


def render_embed(embed: discord.Embed, shown: Callable[[str], str] = _unchanged) -> list[str]:
    """``shown`` turns markup into what a reader sees (times, mentions) before the text is wrapped."""
    inner = WIDTH - 4
    body: list[str] = []
    if embed.author and embed.author.name:
        body.append(embed.author.name)
    if embed.title:
        body.extend(_wrap(shown(f"**{embed.title}**"), inner))
    if embed.url:
        body.extend(_wrap(f"<{embed.url}>", inner))
    if embed.description:
        if body:
            body.append("")
        body.extend(_wrap(shown(embed.description), inner))
    for embed_field in embed.fields:
        body.append("")
        body.extend(_wrap(shown(f"▸ {embed_field.name}"), inner))
        body.extend("  " + line for line in _wrap(shown(str(embed_field.value)), inner - 2))
    if embed.image and embed.image.url:
        body.append(f"[image {embed.image.url}]")
    if embed.footer and embed.footer.text:
        body.append("")
        body.extend(_wrap(shown(embed.footer.text), inner))
    top = "╭" + "─" * (WIDTH - 2) + "╮"
    bottom = "╰" + "─" * (WIDTH - 2) + "╯"
    return [top, *(f"│ {line:<{inner}} │" for line in body), bottom]


_ENTITY_MENUS = {
    discord.ComponentType.role_select: "role",
    discord.ComponentType.channel_select: "channel",
    discord.ComponentType.user_select: "member",
    discord.ComponentType.mentionable_select: "member or role",
}


def _component_lines(components: Iterable[Any]) -> list[str]:
    lines: list[str] = []
    for row in components:
        children = getattr(row, "children", None)
        if children is None:  # a top-level component outside a row
            children = [row]
        buttons: list[str] = []
        for item in children:
            if isinstance(item, discord.Button):
                label = item.label or (str(item.emoji) if item.emoji else "?")
                if item.url:
                    buttons.append(f"[{label} ↗ {item.url}]")
                else:
                    buttons.append(f"[{label}]" + (" (disabled)" if item.disabled else ""))
            elif isinstance(item, discord.SelectMenu):
                if buttons:
                    lines.append("buttons: " + " ".join(buttons))
                    buttons = []
                state = " (disabled)" if item.disabled else ""
                kind = _ENTITY_MENUS.get(item.type)
                lines.append(f"menu ▾ {item.placeholder or 'Choose…'}{state}" + (f" (any {kind})" if kind else ":"))
                for number, option in enumerate(item.options, 1):
                    about = f" — {option.description}" if option.description else ""
                    lines.append(f"  {number:>2}. {option.label}{about}")
        if buttons:
            lines.append("buttons: " + " ".join(buttons))
    return lines


def render_message(message: discord.Message, *, edited: bool = False, where: str = "",
                   now: dt.datetime | None = None, names: Mapping[int, str] | None = None) -> list[str]:
    marks = []
    if message.flags.ephemeral:
        marks.append("only you can see this")
    if edited:
        marks.append("edited")
    if message.pinned:
        marks.append("📌 pinned")
    author = BOT_LABEL if message.author.bot else (getattr(message.author, "display_name", None)
                                                   or str(message.author))
    header = f"── {author}{' · ' + where if where else ''}"
    if marks:
        header += f" ({', '.join(marks)})"
    lines = [header + " " + "─" * max(3, WIDTH - len(header) - 1)]

    def shown(text: str) -> str:
        return mentions(timestamps(text, now), names or {})

    if message.content:
        lines.extend(_wrap(shown(message.content), WIDTH))
    for embed in message.embeds:
        lines.extend(render_embed(embed, shown))
    lines.extend(_component_lines(message.components))
    lines.extend(f"file: {a.filename} ({human_size(a.size)})" for a in message.attachments)
    return lines


def modal_fields(modal: dict[str, Any]) -> list[dict[str, Any]]:
    """The text inputs of a modal payload, in order, with their label (top level or in a Label)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any, label: str | None) -> None:
        if isinstance(node, dict):
            if node.get("type") == 4:
                found.append({**node, "label": node.get("label") or label or node.get("custom_id")})
                return
            if node.get("type") == 18:  # a Label wrapping one component
                walk(node.get("component"), node.get("label"))
                return
            for child in node.get("components", []):
                walk(child, label)
        elif isinstance(node, list):
            for child in node:
                walk(child, label)

    walk(modal.get("components", []), None)
    return found


def render_modal(modal: dict[str, Any]) -> list[str]:
    lines = [f"── form: {modal.get('title', '')} " + "─" * max(3, WIDTH - len(str(modal.get("title", ""))) - 10)]
    for field in modal_fields(modal):
        kind = "several lines" if field.get("style") == 2 else "one line"
        limits = [kind, "required" if field.get("required", True) else "optional"]
        if field.get("max_length"):
            limits.append(f"up to {field['max_length']} characters")
        lines.append(f"  {field['label']} ({', '.join(limits)})")
        if field.get("placeholder"):
            lines.append(f"    e.g. {field['placeholder']}")
    lines.append("  Type each answer on its own line (\\n for a new line inside it); /cancel to close the form.")
    return lines
