"""Reading the article: summary, citations, FAQ and help under every article's group."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.citations import CITATION_STYLES, EXPORT_FORMATS, bibliography_entries, export_intro_text, export_references
from bot.commands import ArticleCog, article_command
from bot.context import Context
from bot.errors import NotFound, UserError
from bot.faq import autocomplete_faqs, find_faq
from bot.ui import rendering
from bot.ui.help import help_for
from bot.ui.views import faq_picker, send_pages

if TYPE_CHECKING:
    from bot.app import CommonFactorsBot

FORMAT_NAMES = tuple(CITATION_STYLES) + tuple(EXPORT_FORMATS)


def format_choices() -> list[app_commands.Choice[str]]:
    styles = [app_commands.Choice(name=label, value=key) for key, label in CITATION_STYLES.items()]
    files = [app_commands.Choice(name=f"{label} file", value=key) for key, (_, _, label) in EXPORT_FORMATS.items()]
    return (styles + files)[:25]


class Reading(ArticleCog):
    """Summary, citations, FAQ and help: what every member reads."""

    @article_command(name="summary", description="The full summary, key points and discussion questions")
    async def summary(self, ctx: Context) -> None:
        await send_pages(ctx, rendering.summary_embeds(ctx.article))

    @article_command(name="citations", usage="[format]",
                     description=f"The references in APA 7, another style or a file ({', '.join(FORMAT_NAMES)})")
    @app_commands.describe(format="A citation style, or a file for your reference manager")
    @app_commands.choices(format=format_choices())
    async def citations(self, ctx: Context, format: str = "apa") -> None:
        article = ctx.article
        fmt = format.strip().lower()
        if not article.citations:
            raise NotFound("This article lists no references.")
        if fmt in CITATION_STYLES:
            entries = bibliography_entries(article.citations, fmt)
            await send_pages(ctx, rendering.citation_embeds(article, entries, CITATION_STYLES[fmt]))
            return
        if fmt in EXPORT_FORMATS:
            filename, data = export_references(article.citations, fmt, basename=article.command)
            await ctx.send(export_intro_text(article, fmt), file=discord.File(io.BytesIO(data), filename=filename))
            return
        shown = fmt[:30].replace("`", "'")
        raise UserError(f"`{shown}` is not a format I know. Choose one of: {', '.join(FORMAT_NAMES)}.")

    async def faq_autocomplete(self, interaction: discord.Interaction[Any],
                               current: str) -> list[app_commands.Choice[str]]:
        command = interaction.command
        group = command.parent if isinstance(command, app_commands.Command) else None
        article = self.bot.articles.get(group.name) if group is not None else None
        if article is None:
            return []
        return [app_commands.Choice(name=name, value=value) for name, value in autocomplete_faqs(article, current)]

    @article_command(name="faq", usage="[number or words]",
                     description="List the FAQs, or show one by number or by words")
    @app_commands.describe(query="A question number or a few words; leave empty to list the questions")
    @app_commands.autocomplete(query=faq_autocomplete)
    async def faq(self, ctx: Context, *, query: str | None = None) -> None:
        article = ctx.article
        if not article.faqs:
            raise NotFound("This article has no FAQs yet.")
        if query is None or not query.strip():
            await ctx.send(embeds=rendering.faq_list_embeds(article)[:1], view=faq_picker(article))
            return
        found = find_faq(article, query)
        if found.number is not None:
            await send_pages(ctx, rendering.faq_embeds(article, found.number))
            return
        if found.out_of_range:
            raise NotFound(f"There is no FAQ with that number; the FAQs are numbered 1 to {len(article.faqs)}.")
        raise NotFound(rendering.did_you_mean_text(query, found.suggestions))

    @article_command(name="help", description="What every command does")
    async def help(self, ctx: Context) -> None:
        article = ctx.article
        await ctx.reply_private(embed=help_for(article, self.bot.article_groups[article.command],
                                               self.bot.prefix_for(ctx.guild), slash=ctx.interaction is not None))


async def setup(bot: CommonFactorsBot) -> None:
    await bot.add_cog(Reading(bot))
