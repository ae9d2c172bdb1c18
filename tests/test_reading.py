"""Reading the article through Discord, as a member would: prefix and slash, buttons, selects."""

from __future__ import annotations

import discord
import pytest
from simcord import assert_error

from bot.errors import NotFound, UserError
from bot.ui.help import is_moderator_command
from tests.conftest import World

DUNCAN_APA = ("Duncan, B. L., Miller, S. D., Wampold, B. E., & Hubble, M. A. (Eds.). (2010). *The heart and soul "
              "of change: Delivering what works in therapy* (2nd ed.). American Psychological Association.")


def custom_ids(message: discord.Message) -> list[str]:
    return [child.custom_id for row in message.components for child in row.children  # type: ignore[union-attr]
            if getattr(child, "custom_id", None)]


def all_text(embeds: list[discord.Embed]) -> str:
    parts = []
    for embed in embeds:
        parts += [embed.title or "", embed.description or "", embed.author.name or "", embed.footer.text or ""]
        parts += [f"{f.name}\n{f.value}" for f in embed.fields]
    return "\n".join(parts)


async def test_overview_by_prefix_shows_the_card_and_buttons(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactors")

    card = world.channel.last_message
    assert card is not None and card.author.id == world.bot.user.id  # type: ignore[union-attr]
    embed = card.embeds[0]
    article = world.bot.articles["commonfactors"]
    assert embed.title == article.title
    assert embed.url == str(article.url)
    assert "Ricky Greenwald" in (embed.author.name or "") and "6 August 2013" in (embed.author.name or "")
    assert embed.description == article.short_summary
    assert custom_ids(card) == ["cf:commonfactors:summary", "cf:commonfactors:citations", "cf:commonfactors:faq",
                                "cf:commonfactors:take"]


async def test_overview_by_slash(world: World) -> None:
    result = await world.alice.slash(world.channel, "commonfactors overview")

    assert result.response is not None
    assert result.response.embeds[0].title == world.bot.articles["commonfactors"].title
    assert not result.ephemeral


async def test_overview_buttons_work_for_whoever_clicks(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactors")
    card = world.channel.last_message
    assert card is not None

    summary = await world.bob.click(card, label="Summary")
    assert summary.ephemeral and summary.response is not None
    assert world.bot.articles["commonfactors"].key_points[0] in all_text(summary.response.embeds)

    cites = await world.bob.click(card, label="Citations")
    assert cites.ephemeral and cites.response is not None
    assert DUNCAN_APA in all_text(cites.response.embeds)

    faq = await world.mod.click(card, label="FAQ")
    assert faq.ephemeral and faq.response is not None
    assert world.bot.articles["commonfactors"].faqs[0].question in all_text(faq.response.embeds)


async def test_faq_picker_answers_the_chosen_question(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactors faq")
    listing = world.channel.last_message
    assert listing is not None
    article = world.bot.articles["commonfactors"]
    assert article.faqs[-1].question in all_text(listing.embeds)

    picked = await world.bob.select(listing, ["2"], custom_id="cf:commonfactors:faqpick:0")

    assert picked.ephemeral and picked.response is not None
    assert picked.response.embeds[0].title == f"FAQ 2: {article.faqs[1].question}"
    assert article.faqs[1].answer[:80] in all_text(picked.response.embeds)


async def test_faq_picker_pages_the_questions_past_discords_25_options(world: World) -> None:
    article = world.bot.articles["commonfactors"]
    assert len(article.faqs) > 25  # a select menu holds 25 options, autocomplete 25 choices
    await world.alice.send(world.channel, "!commonfactors faq")
    listing = world.channel.last_message
    assert listing is not None
    last = len(article.faqs)

    picked = await world.bob.select(listing, [str(last)], custom_id="cf:commonfactors:faqpick:1")

    assert picked.ephemeral and picked.response is not None
    assert picked.response.embeds[0].title == f"FAQ {last}: {article.faqs[-1].question}"
    everything = await world.alice.autocomplete(world.channel, "commonfactors faq", "query", "")
    assert len(everything) == 25


async def test_faq_aliases_find_what_members_mean(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactors faq how do I reference the blog")
    message = world.channel.last_message
    assert message is not None and message.embeds[0].title == "FAQ 21: How do I cite this post?"
    await world.alice.send(world.channel, "!commonfactors faq effect size")
    message = world.channel.last_message
    assert message is not None and message.embeds[0].title.startswith("FAQ 5: What does the research say")


async def test_buttons_survive_a_restart(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactors")
    card = world.channel.last_message
    assert card is not None

    await world.restart()
    result = await world.bob.click(card, label="Citations")

    assert result.response is not None and DUNCAN_APA in all_text(result.response.embeds)


@pytest.mark.parametrize("how", ["prefix", "slash"])
async def test_summary_has_key_points_and_questions(world: World, how: str) -> None:
    article = world.bot.articles["commonfactors"]
    if how == "prefix":
        await world.alice.send(world.channel, "!commonfactors summary")
        message = world.channel.last_message
        assert message is not None
        embeds = message.embeds
    else:
        result = await world.alice.slash(world.channel, "commonfactors summary")
        assert result.response is not None
        embeds = result.response.embeds
    text = all_text(embeds)
    assert article.summary[:100] in text
    assert all(point[:60] in text for point in article.key_points)
    assert article.discussion_questions[0][:60] in text


async def test_citations_default_to_apa(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactors citations")
    message = world.channel.last_message
    assert message is not None
    assert DUNCAN_APA in all_text(message.embeds)


async def test_citations_in_another_style(world: World) -> None:
    from bot.citations import CITATION_STYLES

    other = next(key for key in CITATION_STYLES if key != "apa")
    result = await world.alice.slash(world.channel, "commonfactors citations", format=other)
    assert result.response is not None
    text = all_text(result.response.embeds)
    assert "Duncan" in text and CITATION_STYLES[other] in text
    assert DUNCAN_APA not in text


@pytest.mark.parametrize(("fmt", "suffix", "marker"), [("bibtex", ".bib", "@book"), ("ris", ".ris", "TY  - BOOK"),
                                                        ("csljson", ".json", '"type": "book"')])
async def test_citation_files_for_reference_managers(world: World, fmt: str, suffix: str, marker: str) -> None:
    await world.alice.send(world.channel, f"!commonfactors citations {fmt}")
    message = world.channel.last_message
    assert message is not None and len(message.attachments) == 1
    attachment = message.attachments[0]
    assert attachment.filename.endswith(suffix)
    body = (await attachment.read()).decode("utf-8")
    assert marker in body and "Duncan" in body

    result = await world.bob.slash(world.channel, "commonfactors citations", format=fmt)
    assert result.response is not None and result.response.attachments[0].filename.endswith(suffix)


async def test_unknown_citation_format_is_refused(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactors citations vancouver")

    error = assert_error(world.env, UserError, contains="not a format I know")
    assert "vancouver" in str(error)
    reply = world.channel.last_message
    assert reply is not None and "apa" in reply.content and "bibtex" in reply.content


async def test_faq_by_number_and_by_words(world: World) -> None:
    article = world.bot.articles["commonfactors"]
    await world.alice.send(world.channel, "!commonfactors faq 3")
    message = world.channel.last_message
    assert message is not None and message.embeds[0].title == f"FAQ 3: {article.faqs[2].question}"

    question = article.faqs[4].question
    await world.alice.send(world.channel, f"!commonfactors faq {question.lower().rstrip('?')}")
    message = world.channel.last_message
    assert message is not None and message.embeds[0].title == f"FAQ 5: {question}"


async def test_faq_weak_match_offers_three_suggestions(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactors faq zzzz qqqq")

    assert_error(world.env, NotFound, contains="Did you mean")
    reply = world.channel.last_message
    assert reply is not None
    assert reply.content.count("\n") == 3  # the line that says so, and three questions


async def test_faq_number_out_of_range(world: World) -> None:
    result = await world.alice.slash(world.channel, "commonfactors faq", query="999")

    assert_error(world.env, NotFound, contains="numbered 1 to")
    assert result.ephemeral


async def test_faq_autocomplete_offers_questions(world: World) -> None:
    article = world.bot.articles["commonfactors"]
    everything = await world.alice.autocomplete(world.channel, "commonfactors faq", "query", "")
    assert [c["name"] for c in everything] == [f.question for f in article.faqs][:25]

    choices = await world.alice.autocomplete(world.channel, "commonfactors faq", "query", "alliance")
    assert 0 < len(choices) <= 25
    assert "alliance" in choices[0]["name"].lower()

    chosen = await world.alice.slash(world.channel, "commonfactors faq", query=choices[0]["value"])
    assert chosen.response is not None and chosen.response.embeds[0].title.endswith(choices[0]["name"])


@pytest.mark.parametrize("how", ["prefix", "slash"])
async def test_help_lists_every_subcommand(world: World, how: str) -> None:
    if how == "prefix":
        await world.alice.send(world.channel, "!commonfactors help")
        message = world.channel.last_message
        assert message is not None
        embed = message.embeds[0]
    else:
        result = await world.alice.slash(world.channel, "commonfactors help")
        assert result.ephemeral and result.response is not None
        embed = result.response.embeds[0]
    text = all_text([embed])
    group = world.bot.article_groups["commonfactors"]
    for command in group.commands:
        if how == "prefix":
            assert f"!commonfactors {command.name}" in text
        elif is_moderator_command(command):
            assert f"/commonfactors-mod {command.name}" in text
        else:
            assert f"/commonfactors {command.name}" in text
    # what the slash path shows is what Discord registered
    if how == "slash":
        registered = set(world.mod.available_commands(world.channel))
        assert {"commonfactors-mod pin", "commonfactors-mod settings", "commonfactors take"} <= registered


async def test_a_second_article_file_gets_its_own_group(world: World) -> None:
    await world.alice.send(world.channel, "!placebo")
    card = world.channel.last_message
    assert card is not None and card.embeds[0].title == "A tiny test article about expectancy"
    assert "cf:placebo:take" in custom_ids(card)

    result = await world.alice.slash(world.channel, "placebo faq", query="1")
    assert result.response is not None and result.response.embeds[0].title == "FAQ 1: What is expectancy?"
    first = {c.name for c in world.bot.article_groups["commonfactors"].commands}
    second = {c.name for c in world.bot.article_groups["placebo"].commands}
    assert first == second


async def test_unknown_subcommand_suggests(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactors sumary")

    assert_error(world.env, UserError, contains="Did you mean `summary`")


async def test_a_misspelt_article_command_gets_a_hint(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactor")

    reply = world.channel.last_message
    assert reply is not None and "Did you mean `!commonfactors`" in reply.content


async def test_another_bots_command_is_left_alone(world: World) -> None:
    await world.alice.send(world.channel, "!play some music")

    last = world.channel.last_message
    assert last is not None and last.author.id == world.alice.id


async def test_the_bot_never_pings(world: World) -> None:
    mentions = world.bot.allowed_mentions
    assert mentions is not None
    assert not (mentions.everyone or mentions.users or mentions.roles or mentions.replied_user)


async def test_unexpected_errors_get_an_id(world: World) -> None:
    world.env.inject_error("POST", "/channels/*/messages", status=500, times=1)

    await world.alice.send(world.channel, "!commonfactors summary")

    errors = world.env.errors
    assert any(isinstance(getattr(e, "original", e), discord.HTTPException) for e in errors)
    reply = world.channel.last_message
    assert reply is not None and "error id `E-" in reply.content


# --- what the post cites, and what the moderators added ------------------------------------------

HEADINGS = ["The post itself", "Cited by the post (its own references)", "Named in the post or its comments",
            "Further reading (added by the moderators, not cited by the post)"]
POST_APA = ("Greenwald, R. (2013b, August 6). Therapeutic relationship vs. treatment model. *Trauma Institute & Child "
            "Trauma Institute*. http://www.childtrauma.com/blog/therapeutic-relationship-vs-treatment-model/")
NORCROSS_APA = "Norcross, J. C. (2010). The therapeutic relationship."
BORDIN_APA = "Bordin, E. S. (1979). The generalizability of the psychoanalytic concept"
ROGERS_APA = "Rogers, C. R. (1957). The necessary and sufficient conditions"


def sections(text: str) -> dict[str, str]:
    """The text under each heading of a reference list, by heading."""
    found: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        heading = line.removeprefix("**").removesuffix("**")
        if line.startswith("**") and heading in HEADINGS:
            current = heading
            found[current] = ""
        elif current is not None:
            found[current] += line + "\n"
    return found


@pytest.mark.parametrize("how", ["prefix", "slash", "button"])
async def test_citations_group_the_posts_references_apart_from_further_reading(world: World, how: str) -> None:
    if how == "prefix":
        await world.alice.send(world.channel, "!commonfactors citations apa")
        message = world.channel.last_message
        assert message is not None
        embeds = message.embeds
    elif how == "slash":
        result = await world.alice.slash(world.channel, "commonfactors citations")
        assert result.response is not None
        embeds = result.response.embeds
    else:
        await world.alice.send(world.channel, "!commonfactors")
        card = world.channel.last_message
        assert card is not None
        clicked = await world.bob.click(card, label="Citations")
        assert clicked.response is not None
        embeds = clicked.response.embeds
    text = all_text(embeds)
    assert [h for h in HEADINGS if f"**{h}**" in text] == HEADINGS
    assert [text.index(f"**{h}**") for h in HEADINGS] == sorted(text.index(f"**{h}**") for h in HEADINGS)
    groups = sections(text)
    assert POST_APA in groups[HEADINGS[0]] and "Title unverified" in groups[HEADINGS[0]]
    assert DUNCAN_APA in groups[HEADINGS[1]] and NORCROSS_APA in groups[HEADINGS[1]]
    assert "Greenwald, R. (2013a). *Progressive counting" in groups[HEADINGS[2]] and ROGERS_APA in groups[HEADINGS[2]]
    assert BORDIN_APA in groups[HEADINGS[3]] and "Flückiger" in groups[HEADINGS[3]]
    for heading in HEADINGS[:3]:
        assert "Bordin" not in groups[heading] and "Flückiger" not in groups[heading]
    assert embeds[0].title == "Citations (APA 7th edition): Therapeutic relationship vs. treatment model"
    assert "References (" not in text


async def test_citations_in_chicago_keep_the_groups(world: World) -> None:
    result = await world.alice.slash(world.channel, "commonfactors citations", format="chicago")
    assert result.response is not None
    groups = sections(all_text(result.response.embeds))
    assert list(groups) == HEADINGS
    assert "Norcross, John C. 2010." in groups[HEADINGS[1]] and "Bordin, Edward S. 1979." in groups[HEADINGS[3]]


@pytest.mark.parametrize(("fmt", "group_field"), [("bibtex", "keywords"), ("ris", "KW"), ("csljson", "keyword")])
async def test_citation_files_say_which_group_each_entry_is_in(world: World, fmt: str, group_field: str) -> None:
    await world.alice.send(world.channel, f"!commonfactors citations {fmt}")
    message = world.channel.last_message
    assert message is not None and len(message.attachments) == 1
    intro = message.content
    assert "11 references" not in intro and "12 references" not in intro
    assert "*Therapeutic relationship vs. treatment model* (title unverified)" in intro
    assert "the post itself, 2 works the post cites, 2 works named in the post or its comments and 8 works of " \
           "further reading added by the moderators (not cited by the post)" in intro
    assert f"`{group_field}`" in intro
    body = (await message.attachments[0].read()).decode("utf-8")
    positions = [body.index(keyword) for keyword in (
        "The post itself", "Cited by the post", "Named in the post or its comments",
        "Further reading added by the moderators (not cited by the post)")]
    assert positions == sorted(positions)
    assert body.count("Further reading added by the moderators (not cited by the post)") == 8
    assert body.count("Cited by the post") == 2
    assert body.index("Duncan") < body.index("Bordin")


async def test_faq_sources_say_which_are_the_posts_own(world: World) -> None:
    article = world.bot.articles["commonfactors"]
    question = "Is the relationship all that matters?"
    number = next(n for n, f in enumerate(article.faqs, start=1) if f.question == question)
    result = await world.alice.slash(world.channel, "commonfactors faq", query=str(number))
    assert result.response is not None
    text = all_text(result.response.embeds)
    assert "• Norcross (2010) · cited by the post" in text
    assert "• Flückiger et al. (2018) · further reading, not cited by the post" in text
    assert "• Norcross and Lambert (2018) · further reading, not cited by the post" in text
    assert "Norcross & Lambert (2018)" not in text  # narrative citations use "and"


async def test_how_to_cite_the_post_is_an_faq(world: World) -> None:
    await world.alice.send(world.channel, "!commonfactors faq how do I cite this post")
    message = world.channel.last_message
    assert message is not None and message.embeds[0].title.endswith("How do I cite this post?")
    text = all_text(message.embeds)
    assert POST_APA.replace("2013b", "2013") in text
    assert "• Greenwald (2013b) · the post itself" in text
    assert "/commonfactors citations" in text


async def test_the_title_caveat_stands_wherever_the_title_is_a_reference(world: World) -> None:
    article = world.bot.articles["commonfactors"]
    assert article.title_note
    await world.alice.send(world.channel, "!commonfactors")
    card = world.channel.last_message
    assert card is not None and article.title_note in all_text(card.embeds)
    assert ("2 references cited by the post · 2 works named in the post or its comments · "
            "8 works of further reading added by the moderators") in all_text(card.embeds)
    assert "further works" not in all_text(card.embeds)  # the groups are counted apart

    summary = await world.bob.click(card, label="Summary")
    assert summary.response is not None
    first = summary.response.embeds[0].description or ""
    assert first.index(article.title) < first.index(article.title_note) < first.index(article.summary[:40])
