"""Rendering is pure: any valid article, and any takes, render within Discord's limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.article import Article
from bot.citations import CITATION_STYLES, bibliography_entries
from bot.storage import Take
from bot.ui import rendering

# Text that is valid after the schema strips it: printable, any script, emoji, markdown.
chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
word = st.text(chars, min_size=1, max_size=30).filter(lambda w: w.strip() != "")
# A word too long for any line: a drawn stem repeated to a drawn length (drawing each of its up to
# 1200 letters would fill hypothesis's buffer, and most articles would be thrown away unfinished).
long_word = st.tuples(st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=1, max_size=12),
                      st.integers(200, 1200)).map(lambda stem_length: (stem_length[0] * 1200)[:stem_length[1]])


def sentence(max_words: int) -> st.SearchStrategy[str]:
    parts = st.lists(st.one_of(word, word.map(lambda w: w + "."), word.map(lambda w: w + "\n"), long_word),
                     min_size=1, max_size=max_words)
    return parts.map(" ".join).filter(lambda s: s.strip() != "")


def bounded(max_chars: int, max_words: int = 60) -> st.SearchStrategy[str]:
    return sentence(max_words).map(lambda s: s.strip()[:max_chars].strip()).filter(lambda s: s != "")


@st.composite
def articles(draw: st.DrawFn) -> Article:
    citations = [{
        "id": f"ref{n}", "type": "book", "title": draw(bounded(400, 20)),
        "author": [{"family": draw(bounded(100, 3)), "given": draw(bounded(100, 3))}
                   for _ in range(draw(st.integers(1, 8)))],
        "issued": {"date-parts": [[draw(st.integers(1900, 2030))]]},
        "publisher": draw(bounded(200, 5)),
        "role": draw(st.sampled_from(["cited", "mentioned", "background"])),
    } for n in range(draw(st.integers(0, 12)))]
    if citations and draw(st.booleans()):
        citations[0].update(type="post-weblog", role="self", URL="https://example.org/post")
    keys = [c["id"] for c in citations]
    questions = draw(st.lists(bounded(100, 12).filter(lambda q: len(q) >= 5), max_size=40,
                              unique_by=lambda q: " ".join(q.split()).casefold()))
    data: dict[str, Any] = {
        "command": draw(st.from_regex(r"[a-z][a-z0-9_-]{0,27}", fullmatch=True).filter(
            lambda c: c != "help" and not c.endswith("-mod"))),
        "title": draw(bounded(256, 30)),
        "title_note": draw(st.one_of(st.none(), bounded(600, 40))),
        "author": draw(bounded(256, 5)),
        "published": draw(st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))),
        "url": "https://example.org/" + draw(st.from_regex(r"[a-z0-9/-]{0,60}", fullmatch=True)),
        "short_summary": draw(bounded(600, 80)),
        "summary": draw(bounded(3500, 400)),
        "comments_summary": draw(st.one_of(st.none(), bounded(1500, 200))),
        "key_points": draw(st.lists(bounded(1000, 120), min_size=1, max_size=25)),
        "discussion_questions": draw(st.lists(bounded(1000, 120), max_size=25)),
        "citations": citations,
        "faqs": [{"question": q, "answer": draw(bounded(3500, 300)),
                  "sources": draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)) if keys else [],
                  "aliases": draw(st.lists(bounded(100, 12).filter(lambda a: len(a) >= 5), max_size=3))}
                 for q in questions],
    }
    return Article.model_validate(data)


def assert_fits(embed: discord.Embed) -> None:
    assert rendering.within_limits(embed), embed.to_dict()
    assert len(embed) <= rendering.EMBED_TOTAL


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(articles())
def test_any_valid_article_renders_within_discords_limits(article: Article) -> None:
    embeds = [rendering.overview_embed(article), *rendering.summary_embeds(article),
              *rendering.faq_list_embeds(article)]
    embeds += [e for n in range(1, len(article.faqs) + 1) for e in rendering.faq_embeds(article, n)]
    for style, label in CITATION_STYLES.items():
        embeds += rendering.citation_embeds(article, bibliography_entries(article.citations, style), label)
    entries = [(c, "does a thing " * 10, False) for c in ("summary", "citations [format]", "faq [query]")]
    embeds.append(rendering.help_embed(article, entries * 8, "!"))
    embeds.append(rendering.help_embed(article, [(u, d, True) for u, d, _ in entries * 8], "cf?!!", slash=True,
                                       moderators_only=True))
    embeds.append(rendering.pinned_embed(article))
    for embed in embeds:
        assert_fits(embed)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(articles())
def test_summary_pages_lose_no_words(article: Article) -> None:
    text = "".join(e.description or "" for e in rendering.summary_embeds(article))
    squashed = "".join(text.split())
    for part in (article.summary, article.comments_summary or ""):
        assert "".join(part.split()) in squashed or all(w in squashed for w in part.split())
    if article.comments_summary:  # the article's own summary first, then what its comments added
        assert text.index("**In the comments**") > text.index(f"**The {'post' if 'post**' in text else 'article'}**")


@given(st.text(chars, max_size=9000), st.integers(20, 4000))
def test_split_text_keeps_every_character_and_each_piece_fits(text: str, limit: int) -> None:
    pieces = rendering.split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())


def make_take(n: int, content: str, **extra: Any) -> Take:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    values: dict[str, Any] = {"id": n, "guild_id": 1, "channel_id": 2, "article": "a", "author_id": 3,
                              "author_name": "Dr. *Name* " * 3, "content": content, "source": "command",
                              "created_at": now, "edited_at": now, "message_url": "https://discord.com/channels/1/2/3"}
    values.update(extra)
    return Take(**values)


@given(st.lists(st.text(chars, min_size=1, max_size=4000), min_size=0, max_size=5))
def test_any_page_of_takes_fits(contents: list[str]) -> None:
    takes = [make_take(n + 1, c) for n, c in enumerate(contents)]
    for show in (True, False):
        embed = rendering.takes_page("Takes on " + "x" * 300, takes, page=3, total=999, show_names=show)
        assert_fits(embed)
        for take in takes:
            assert f"#{take.id}" in (embed.description or "")


@given(st.text(chars, min_size=1, max_size=4000))
def test_a_single_take_fits(content: str) -> None:
    article = Article.model_validate({"command": "a", "title": "T" * 256, "author": "A", "published": "2020-01-01",
                                      "url": "https://example.org", "short_summary": "s", "summary": "s",
                                      "key_points": ["k"]})
    assert_fits(rendering.take_embed(make_take(1, content), article, show_name=True))


def test_take_preview_points_to_show_for_the_rest() -> None:
    preview = rendering.take_preview("word " * 400, 42)
    assert preview.endswith("(`show 42` for the rest)") and len(preview) <= rendering.PREVIEW_CHARS


def test_sparkline_scales_and_marks_empty_days() -> None:
    assert rendering.sparkline([0, 0, 0]) == "▁▁▁"
    line = rendering.sparkline([0, 1, 5, 10])
    assert line[0] == "▁" and line[-1] == "█" and line[1] != "▁"


def test_anonymous_lists_hide_names() -> None:
    embed = rendering.takes_page("T", [make_take(1, "text", author_name="Secret Person")], page=0, total=1,
                                 show_names=False)
    assert "Secret" not in (embed.description or "") and rendering.ANONYMOUS in (embed.description or "")


def test_the_pinned_summary_carries_the_title_caveat() -> None:
    from pathlib import Path

    from bot.article import load_article

    article = load_article(Path(__file__).resolve().parents[1] / "data" / "commonfactors.toml")
    assert article.title_note
    embed = rendering.pinned_embed(article)
    description = embed.description or ""
    assert description.startswith(article.short_summary + f"\n-# {article.title_note}\n\n**Key points**")
    assert_fits(embed)


def test_the_shipped_summary_keeps_the_post_and_its_comments_apart_on_one_page() -> None:
    from pathlib import Path

    from bot.article import load_article

    article = load_article(Path(__file__).resolve().parents[1] / "data" / "commonfactors.toml")
    assert article.comments_summary
    embeds = rendering.summary_embeds(article)
    assert len(embeds) == 1  # one page, as the summary card promises
    text = embeds[0].description or ""
    post, comments = text.index("**The post**\n"), text.index("**In the comments**\n")
    assert post < text.index(article.summary) < comments < text.index(article.comments_summary)
    assert text.index(article.comments_summary) < text.index("**Key points**")
    assert_fits(embeds[0])


def test_the_overview_counts_each_group_of_works_apart() -> None:
    from pathlib import Path

    from bot.article import load_article

    article = load_article(Path(__file__).resolve().parents[1] / "data" / "commonfactors.toml")
    assert rendering.reading_counts(article) == [
        "2 references cited by the post", "2 works named in the post or its comments",
        "8 works of further reading added by the moderators"]
    plain = article.model_copy(update={"citations": [c for c in article.citations if c.role == "cited"]})
    assert rendering.reading_counts(plain) == ["2 references cited by the article"]


def test_every_shipped_faq_is_one_page_within_discords_limits() -> None:
    from pathlib import Path

    from bot.article import load_article

    article = load_article(Path(__file__).resolve().parents[1] / "data" / "commonfactors.toml")
    assert len(article.faqs) > 25
    listing = rendering.faq_list_embeds(article)
    assert len(listing) == 1 and all(f.question in (listing[0].description or "") for f in article.faqs)
    for number in range(1, len(article.faqs) + 1):
        pages = rendering.faq_embeds(article, number)
        assert len(pages) == 1, article.faqs[number - 1].question  # an answer and its sources on one page
        assert_fits(pages[0])


def test_a_summary_and_an_faq_are_rendered_once_per_article_and_handed_out_as_new_embeds() -> None:
    """The answers are kept per article object: asking again gives the same pages as new
    Embed objects (a caller that changes one changes nothing for the next), and an article
    loaded again with other words is rendered again."""
    from pathlib import Path

    from bot.article import load_article

    path = Path(__file__).resolve().parents[1] / "data" / "commonfactors.toml"
    article = load_article(path)
    first = rendering.faq_embeds(article, 2)
    assert [e.to_dict() for e in first] == [e.to_dict() for e in rendering.faq_embeds.__wrapped__(article, 2)]
    first[0].title = "changed by a caller"
    again = rendering.faq_embeds(article, 2)
    assert again[0] is not first[0] and again[0].title == f"FAQ 2: {article.faqs[1].question}"[:256]

    summary = rendering.summary_embeds(article)
    assert [e.to_dict() for e in summary] == [e.to_dict() for e in rendering.summary_embeds.__wrapped__(article)]
    edited = article.model_copy(update={"summary": "A different summary, as after a reload."})
    assert "A different summary" in "".join(e.description or "" for e in rendering.summary_embeds(edited))
    assert "A different summary" not in "".join(e.description or "" for e in rendering.summary_embeds(article))
