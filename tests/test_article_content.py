"""The shipped Greenwald article file, and how a moderator's broken file is reported."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.article import Article, ArticleError, load_article, load_articles
from bot.citations import CITATION_STYLES, format_reference

DATA = Path(__file__).resolve().parents[1] / "data" / "commonfactors.toml"
REFERENCES_MD = Path(__file__).resolve().parents[2] / "shared" / "source" / "references.md"

#: DOIs that references.md marks UNVERIFIED: they may appear only inside a `note`.
UNVERIFIED_DOIS = ("10.1037/12075-000", "10.1037/12075-004")
#: DOIs that references.md gives as fact; no other DOI may be in the file.
VERIFIED_DOIS = {
    "10.1037/h0045357",
    "10.1037/h0085885",
    "10.1037/pst0000172",
    "10.1037/pst0000193",
    "10.1002/wps.20238",
    "10.4324/9780203582015",
}


@pytest.fixture(scope="module")
def article() -> Article:
    return load_article(DATA)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return tomllib.loads(DATA.read_text(encoding="utf-8"))


def strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string in the parsed TOML with the keys that lead to it."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, path)


# --- the shipped article ---------------------------------------------------------------------


def test_shipped_article_loads_with_its_facts(article: Article) -> None:
    assert article.command == "commonfactors"
    assert article.author == "Ricky Greenwald"
    assert article.published == dt.date(2013, 8, 6)
    assert str(article.url) == "http://www.childtrauma.com/blog/therapeutic-relationship-vs-treatment-model/"
    assert article.title_note and "inferred" in article.title_note and "not confirmed" in article.title_note


def test_the_data_folder_loads_as_a_whole() -> None:
    assert "commonfactors" in [a.command for a in load_articles(DATA.parent)]


def test_summaries_and_questions_have_the_right_shape(article: Article) -> None:
    assert len(re.findall(r"[.!?](\s|$)", article.short_summary)) <= 2
    assert "\n" not in article.summary  # one paragraph
    assert 5 <= len(article.discussion_questions) <= 8
    assert all(q.endswith("?") for q in article.discussion_questions)


def test_summary_key_points_and_questions_fit_one_discord_page(article: Article) -> None:
    """A member reads the whole summary card without paging: an embed holds 4096 characters,
    and the title, byline, link and list markers need some of them."""
    body = len(article.summary) + sum(len(p) + 3 for p in article.key_points)
    body += sum(len(q) + 4 for q in article.discussion_questions)
    assert body <= 3500


def test_summary_includes_what_the_comment_thread_added(article: Article) -> None:
    summary = article.summary
    assert "Rogers" in summary
    assert "results, not for friendship" in summary
    assert "trauma therapist" in summary
    assert "Progressive Counting" in summary


def test_at_least_ten_faqs_each_sourced_and_short_enough(article: Article) -> None:
    assert len(article.faqs) >= 10
    for faq in article.faqs:
        assert faq.sources, faq.question
        assert len(faq.question) <= 100
        assert len(faq.answer) <= 1200, faq.question


def test_every_faq_source_is_named_in_its_answer(article: Article) -> None:
    for faq in article.faqs:
        for key in faq.sources:
            citation = article.citation(key)
            lead = (citation.author or citation.editor)[0]
            assert lead.family and lead.family in faq.answer, (faq.question, key)


def test_every_citation_is_used_by_an_faq(article: Article) -> None:
    used = {key for faq in article.faqs for key in faq.sources}
    assert {c.id for c in article.citations} <= used


def test_the_posts_two_references_are_cited(article: Article) -> None:
    cited = {c.id for c in article.citations if c.role == "cited"}
    assert cited == {"duncan2010", "norcross2010"}
    chapter = article.citation("norcross2010")
    assert chapter.type == "chapter" and chapter.page == "113–141"
    assert chapter.container_title == article.citation("duncan2010").title


def test_works_the_post_names_are_mentioned(article: Article) -> None:
    mentioned = {c.id for c in article.citations if c.role == "mentioned"}
    assert mentioned == {"greenwald2013", "rogers1957"}


def test_unverified_dois_appear_only_inside_notes(article: Article, raw: dict[str, Any]) -> None:
    for path, value in strings(raw):
        for doi in UNVERIFIED_DOIS:
            if doi in value:
                assert path[-1] == "note", path
    assert {c.DOI for c in article.citations} - {None} <= VERIFIED_DOIS
    for doi in UNVERIFIED_DOIS:
        assert any(c.note and doi in c.note and "unverified" in c.note for c in article.citations)


def test_unverified_details_are_marked(article: Article) -> None:
    greenwald = article.citation("greenwald2013")
    assert greenwald.note and "unverified" in greenwald.note.casefold()
    assert greenwald.ISBN is None
    lambert = article.citation("lambert1992")
    assert lambert.note and "unverified" in lambert.note and lambert.page is None
    isbns = {c.ISBN for c in article.citations} - {None}
    assert isbns == {"978-1-4338-0709-1"}


def test_percentages_are_called_estimates(article: Article) -> None:
    faq = next(f for f in article.faqs if "40/30/15/15" in f.question)
    assert "estimates" in faq.answer and "not the result of a meta-analysis" in faq.answer
    assert "lambert1992" in faq.sources


def test_every_citation_renders_in_every_style(article: Article) -> None:
    for citation in article.citations:
        for style in CITATION_STYLES:
            assert format_reference(citation, style)


# --- a moderator's broken file ---------------------------------------------------------------

VALID = """
command = "demo"
title = "A post"
author = "A. Writer"
published = 2020-01-01
url = "https://example.org/post"
short_summary = "Short."
summary = "Longer."
key_points = ["One point."]

[[citations]]
id = "a2020"
type = "book"
title = "A book"
author = [{ family = "Writer", given = "A." }]
issued = { "date-parts" = [[2020]] }

[[faqs]]
question = "What is it about?"
answer = "Things."
sources = ["a2020"]
"""

DUPLICATE = """
[[citations]]
id = "a2020"
type = "book"
title = "Another book"
author = [{ family = "Writer", given = "B." }]
issued = { "date-parts" = [[2021]] }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_minimal_file_is_valid(tmp_path: Path) -> None:
    assert load_article(write(tmp_path, VALID)).command == "demo"


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        pytest.param(
            'colour = "blue"\n' + VALID, "colour", "Extra inputs are not permitted", id="unknown-field"
        ),
        pytest.param(
            VALID.replace(
                'issued = { "date-parts" = [[2020]] }', 'issued = { "date-parts" = [[2020]] }\njournal = "X"'
            ),
            "citations[1].journal",
            "Extra inputs are not permitted",
            id="unknown-citation-field",
        ),
        pytest.param(VALID.replace('title = "A post"\n', ""), "title", "Field required", id="missing-title"),
        pytest.param(
            VALID.replace('sources = ["a2020"]', 'sources = ["nobody1999"]'),
            "faqs[1]",
            "unknown citation id(s): nobody1999",
            id="unknown-source",
        ),
        pytest.param(
            VALID.replace("\n[[faqs]]", DUPLICATE + "\n[[faqs]]"),
            "citations",
            "repeated: a2020",
            id="duplicate-ids",
        ),
        pytest.param(
            VALID.replace('command = "demo"', 'command = "help"'), "command", "reserved", id="reserved"
        ),
        pytest.param(
            VALID.replace('title = "A post"', 'title = "A post'), "", "not valid TOML", id="bad-toml"
        ),
    ],
)
def test_a_bad_file_is_reported_by_file_and_field(
    tmp_path: Path, text: str, field: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ArticleError) as caught:
        load_article(path)
    report = str(caught.value)
    assert report.startswith("bad.toml: ")
    assert field in report and message in report
    assert caught.value.path == path and caught.value.problems
    assert "Traceback" not in report and "\n" not in report


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match=r"^absent\.toml: cannot read the file"):
        load_article(tmp_path / "absent.toml")
