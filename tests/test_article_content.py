"""The shipped Greenwald article file, and how a moderator's broken file is reported."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.article import Article, ArticleError, Citation, load_article, load_articles
from bot.citations import CITATION_STYLES, bibliography_entries, cite_in_text, format_reference

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
    "10.1037/pst0000171",
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
    assert "\n" not in article.summary  # one paragraph on the post, one on its comments
    assert article.comments_summary and "\n" not in article.comments_summary
    assert 5 <= len(article.discussion_questions) <= 8
    assert all(q.endswith("?") for q in article.discussion_questions)


def test_summary_key_points_and_questions_fit_one_discord_page(article: Article) -> None:
    """A member reads the whole summary card without paging: an embed holds 4096 characters,
    and the title, byline, link and list markers need some of them."""
    body = len(article.summary) + len(article.comments_summary or "") + sum(len(p) + 3 for p in article.key_points)
    body += sum(len(q) + 4 for q in article.discussion_questions)
    assert body <= 3500


def test_the_summary_keeps_the_post_and_its_comments_apart(article: Article) -> None:
    comments = article.comments_summary or ""
    assert "Rogers" in comments
    assert "results, not friendship" in comments
    assert "trauma therapist" in comments
    assert "Progressive Counting" in comments
    for commenter in ("Cloyd", "Wolasz", "Rogers", "trauma therapist", "comment"):
        assert commenter not in article.summary, commenter  # the post's paragraph is the post's alone


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


def test_everything_else_is_further_reading(article: Article) -> None:
    background = {c.id for c in article.citations if c.role == "background"}
    assert background == {c.id for c in article.citations} - {
        "greenwald2013post", "duncan2010", "norcross2010", "greenwald2013", "rogers1957"}
    assert all(c.issued.year < 2013 or c.role == "background" or c.id == "greenwald2013post"
               for c in article.citations if c.id != "greenwald2013")  # nothing after the post is its own


def test_the_post_itself_is_a_citation_with_its_title_marked_unverified(article: Article) -> None:
    post = article.citation("greenwald2013post")
    assert (post.role, post.type) == ("self", "post-weblog")
    assert [c.id for c in article.citations if c.role == "self"] == ["greenwald2013post"]
    assert post.title == article.title and str(post.URL) == str(article.url)
    assert post.issued.date_parts == [[2013, 8, 6]]
    assert post.author[0].family == "Greenwald" and post.author[0].given == "Ricky"
    assert post.note and post.note.startswith("Title unverified") and "web address" in post.note


def faq(article: Article, question: str) -> Any:
    return next(f for f in article.faqs if f.question == question)


def test_how_to_cite_the_post_gives_the_apa_reference_and_points_to_citations(article: Article) -> None:
    answer = faq(article, "How do I cite this post?")
    post = article.citation("greenwald2013post")
    assert format_reference(post, "apa") in answer.answer.splitlines()
    assert "`Greenwald (2013)`" in answer.answer and "`(Greenwald, 2013)`" in answer.answer
    assert "2013a for the book and 2013b for the post" in answer.answer
    assert "unverified" in answer.answer and "web address" in answer.answer
    assert f"`/{article.command} citations`" in answer.answer
    assert answer.sources[0] == "greenwald2013post"


def test_the_evidence_faq_reconciles_the_claim_with_the_effect_size(article: Article) -> None:
    answer = faq(article, "How strong is the evidence for the post's claims?").answer
    for phrase in ("opinion piece", "nonscientific", "two works", "r = .278", "8%", "most important",
                   "does not show cause", "a suspicion"):
        assert phrase in answer, phrase


def test_the_relational_model_faq_says_what_follows_and_what_does_not(article: Article) -> None:
    item = faq(article, "What if my model is the relationship (person-centred, relational, psychodynamic)?")
    assert "sets psychodynamic therapy aside" in item.answer
    assert "What follows, by the post's own logic:" in item.answer and "What does not follow:" in item.answer
    assert "says nothing specific about person-centred" in item.answer
    assert set(item.sources) == {"rogers1957", "bordin1979"}


def test_the_critic_faq_gives_both_sides_from_the_sources(article: Article) -> None:
    item = faq(article, "What did the post get right, and what would a critic say?")
    right, _, critic = item.answer.partition("A critic would say:")
    assert right.startswith("Right, on our sources:") and critic
    assert "(Duncan et al., 2010)" in right and "Norcross & Lambert, 2018" in right
    for phrase in ("nonscientific sample", "reports no data", "8%", "from its author", "a suspicion",
                   "self-selected", "everyone who had replied by then was a trauma therapist"):
        assert phrase in critic, phrase


def test_placebo_test_article_still_loads_and_cites_what_it_lists() -> None:
    placebo = load_article(Path(__file__).parent / "data" / "placebo.toml")
    assert [c.role for c in placebo.citations] == ["cited"]
    assert cite_in_text(placebo.citations[0], placebo.citations, narrative=True) == "Frank and Frank (1991)"


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


# --- who said what ------------------------------------------------------------------------------


def member_texts(article: Article) -> Iterator[tuple[str, str]]:
    """Every text a member reads, with where it is."""
    yield "short_summary", article.short_summary
    yield "summary", article.summary
    if article.comments_summary:
        yield "comments_summary", article.comments_summary
    if article.title_note:
        yield "title_note", article.title_note
    for n, point in enumerate(article.key_points):
        yield f"key_points[{n}]", point
    for n, question in enumerate(article.discussion_questions):
        yield f"discussion_questions[{n}]", question
    for item in article.faqs:
        yield f"faq {item.question!r}", f"{item.question}\n{item.answer}"
    for citation in article.citations:
        if citation.note:
            yield f"note of {citation.id}", citation.note


#: Phrases that put words in the wrong mouth, overstate, or go beyond references.md; each was
#: in an earlier version of the file.
MISATTRIBUTED = [
    "Norcross (2010) calls the strongest predictor",  # Greenwald's phrase, given to Norcross
    "strongest predictor",  # the post says "the most important predictor of treatment success"
    "the hope on which much of the alliance rests (Duncan et al., 2010)",  # Greenwald's reading, not theirs
    "as Greenwald suggests",  # he does not say trauma work is a special case
    "special case",
    "helped shift the field",  # a suspicion, stated as fact
    "helped shift",
    "comment thread adds",  # one commenter, not the thread
    "Rogers set out much of this",  # reads as Rogers anticipating the post
    "Rogers' research set out much",
    "since clients pay for results",  # joins two separate remarks into a cause
    "describes his own method",  # the post says only that the book includes the point
    "Other trauma clinicians",  # one commenter said it
    "As with dating",  # reverses the analogy
    "among the most studied",  # beyond the sources; Flückiger et al. say "most investigated"
    "genuineness",  # references.md names the condition "congruent", not genuineness
    "robust",  # not the sources' word for the alliance findings
    "(40%), the relationship (30%)",  # the share's label differs between retellings
    "Duncan, Miller, Wampold and Hubble (2010)",  # APA 7: et al. from the first citation
    "Flückiger, Del Re, Wampold and Horvath (2018)",
]


@pytest.mark.parametrize("phrase", MISATTRIBUTED)
def test_no_misattributed_or_overstated_phrase(article: Article, phrase: str) -> None:
    for where, text in member_texts(article):
        assert phrase.casefold() not in text.casefold(), (where, phrase)


def test_greenwalds_phrase_stays_his(article: Article) -> None:
    assert "citing Norcross (2010), the most important predictor of treatment success" in article.summary
    assert article.key_points[3] == (
        "These form much of the basis of the alliance, which the post, citing Norcross (2010), calls the most "
        "important predictor of treatment success."
    )


def test_duncan_et_al_are_credited_only_with_integration(article: Article) -> None:
    first = article.faqs[0].answer
    assert "integrated and inextricable (Duncan et al., 2010)" in first
    assert "Greenwald's own reading of that is that a coherent, credible treatment model" in first
    assert "integrated and inextricable" in article.summary and "On his reading," in article.summary


def test_the_authors_hedges_are_kept(article: Article) -> None:
    assert "nonscientific" in article.key_points[0] and "suspects" in article.key_points[0]
    assert "which he calls nonscientific" in article.summary
    assert "may be disregarding" in article.summary


def test_the_trauma_remark_is_his_suspicion_and_his_alone(article: Article) -> None:
    assert "he suspects effective trauma therapy is integral to the field's shift" in (article.comments_summary or "")
    assert "Greenwald suspects effective trauma therapy is integral" in article.key_points[6]
    trauma = faq(article, "How does this apply to trauma work?").answer
    assert trauma.startswith("The post's argument is general, not specific to trauma.")
    assert "he suspects that the advent of effective trauma therapy" in trauma
    assert "One commenter, Sheri Oz, adds" in trauma
    assert "trauma" not in article.discussion_questions[5].replace("not about trauma alone", "")


def test_the_commenter_is_named_and_rogers_is_not_made_a_forerunner_of_the_post(article: Article) -> None:
    assert "Tom Cloyd says significant portions of the common factors concept" in (article.comments_summary or "")
    assert "Tom Cloyd credits Carl Rogers' research with significant portions" in article.key_points[6]
    rogers = faq(article, "What did Carl Rogers contribute?").answer
    assert "not that Rogers made Greenwald's argument" in rogers
    assert "The post never mentions Rogers." in rogers and "Tom Cloyd, agreeing with the post" in rogers
    assert "is our question, not one the post or Cloyd raises" in rogers


def test_results_not_friendship_is_the_commenters_and_a_separate_remark(article: Article) -> None:
    assert "in a separate remark, that clients buy results, not friendship" in (article.comments_summary or "")
    assert article.discussion_questions[4].startswith("A commenter says clients buy results, not friendship.")
    thread = faq(article, "What did the comment thread add to the post?").answer
    assert "and, separately, that clients are buying results" in thread


def test_the_book_and_the_analogy_are_as_the_post_has_them(article: Article) -> None:
    one = faq(article, "Is this an argument for one particular therapy?").answer
    assert "he also included this point in his 2013 book on Progressive Counting (Greenwald, 2013a)" in one
    assert "unverified" in one
    assert "find love through shared activity rather than dating" in article.summary
    assert "seek love through shared activity, not dating" in article.key_points[5]


def test_background_claims_are_tied_to_a_listed_source(article: Article) -> None:
    common = faq(article, "What are the common factors?")
    assert "Flückiger et al. (2018) call the alliance one of the most investigated variables" in common.answer
    assert "fluckiger2018" in common.sources
    bordin = faq(article, "What is a working alliance?").answer
    assert "applies to every psychotherapy" in bordin and "more than its kind, is the major factor" in bordin
    rogers = faq(article, "What did Carl Rogers contribute?").answer
    assert "as hypotheses rather than research results" in rogers
    for condition in ("psychological contact", "incongruence", "congruent", "unconditional positive regard",
                      "empathic understanding", "perceiving that regard and understanding"):
        assert condition in rogers, condition  # the six conditions references.md lists
    shares = faq(article, "Where do the 40/30/15/15 percentages come from?").answer
    assert "common factors including the relationship (30%)" in shares and "Asay and Lambert" in shares


# --- every author–year citation resolves to exactly one entry --------------------------------

_NAME = r"[A-Z\u00C0-\u00DE](?:[\w-]|['’](?!s\b))*"  # O'Neil, but not the possessive of Bordin's
_NARRATIVE = re.compile(
    rf"(?P<names>{_NAME}(?:(?:, {_NAME})*(?:,? and {_NAME}|,? et al\.))?)(?:['’]s)? \((?P<year>\d{{4}}[a-z]?)\)"
)
_PARENTHESIS = re.compile(r"\(([^()]*?\d{4}[^()]*)\)")
_ITEM = re.compile(rf"{_NAME}(?:(?:, {_NAME})*(?:,? & {_NAME}|,? et al\.))?, \d{{4}}[a-z]?")


def citation_problems(text: str, citations: list[Citation]) -> list[str]:
    """Each author–year citation in ``text`` that does not resolve to exactly one of ``citations``
    in its APA 7 form, or that breaks APA's order inside one parenthesis. Code spans (examples of
    syntax) and whole references are not in-text citations."""
    text = re.sub(r"`[^`]*`", "", text)
    for citation in citations:
        text = text.replace(format_reference(citation, "apa"), "")
    narrative = [cite_in_text(c, citations, narrative=True) for c in citations]
    parenthetical = [cite_in_text(c, citations) for c in citations]
    order = {c.id: n for n, (c, _) in enumerate(bibliography_entries(citations, "apa"))}
    problems: list[str] = []
    years_taken: set[int] = set()
    for match in _NARRATIVE.finditer(text):
        years_taken.add(match.start("year") - 1)
        written = f"{match['names']} ({match['year']})"
        if narrative.count(written) != 1:
            problems.append(written)
    for match in _PARENTHESIS.finditer(text):
        if match.start() in years_taken:
            continue
        body = re.sub(r"^(e\.g\.|see|cf\.),? ", "", match[1])
        positions = []
        for item in body.split("; "):
            if not _ITEM.fullmatch(item) or parenthetical.count(f"({item})") != 1:
                problems.append(f"({item})")
                continue
            positions.append(order[citations[parenthetical.index(f"({item})")].id])
        if positions != sorted(positions):
            problems.append(f"({body}): not in reference-list order")
    return problems


def test_every_author_year_citation_resolves_to_exactly_one_entry(article: Article) -> None:
    found = 0
    for where, text in member_texts(article):
        assert citation_problems(text, article.citations) == [], where
        found += len(_NARRATIVE.findall(text)) + len(_PARENTHESIS.findall(text))
    assert found > 50  # the check really saw the citations


@pytest.mark.parametrize("text", [
    "Following Duncan, Miller, Wampold and Hubble (2010), the factors interlock.",  # et al. from the first
    "Flückiger, Del Re, Wampold and Horvath (2018) pooled 295 studies.",
    "Norcross & Lambert (2018) reported the task force.",  # narrative citations use "and"
    "The task force reported (Norcross and Lambert, 2018).",  # parenthetical ones use "&"
    "Greenwald (2013) names two works.",  # ambiguous: the book or the post?
    "As shown before (Smith, 2001).",  # not in the list
    "Studies (published 1978–2017) agree.",  # a year in parentheses that is not a citation
    "The alliance predicts outcome (Norcross, 2010; Flückiger et al., 2018).",  # APA orders them
    "Norcross (2011) said so.",  # wrong year
])  # fmt: skip
def test_the_citation_check_catches_what_apa_forbids(article: Article, text: str) -> None:
    assert citation_problems(text, article.citations)


def test_the_citation_check_accepts_apa_forms(article: Article) -> None:
    text = ("Duncan et al. (2010) and Norcross and Lambert (2018) agree (Flückiger et al., 2018; Norcross, 2010); "
            "Bordin's (1979) definition; Greenwald (2013a) and (Greenwald, 2013b); `Greenwald (2013)`.")
    assert citation_problems(text, article.citations) == []


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
            VALID.replace('type = "book"', 'type = "book"\nrole = "self"').replace("\n[[faqs]]", DUPLICATE.replace(
                'id = "a2020"', 'id = "b2021"').replace('type = "book"', 'type = "book"\nrole = "self"')
                + "\n[[faqs]]"),
            "citations",
            "only one citation can be the article itself (role 'self'); found a2020, b2021",
            id="two-selves",
        ),
        pytest.param(
            VALID.replace('type = "book"', 'type = "book"\nrole = "quoted"'),
            "citations[1].role",
            "Input should be 'self', 'cited', 'mentioned' or 'background'",
            id="unknown-role",
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


# --- round 3: wording that said more than the post, and the facilitator's questions ----------

README = Path(__file__).resolve().parents[1] / "README.md"

#: (where, wording an earlier version had): each said more than the post or its comments do.
OLD_WORDINGS = [
    ("faq 4", "the view the post argues against"),  # the post never mentions Rogers
    ("faq 12", "the view the post argues against"),
    ("faq 12", "cover much of"),  # Cloyd said "significant portions"
    ("faq 12", "The best-known statement of that research"),  # the 1957 paper states hypotheses
    ("key point 1", "many therapists see the relationship"),  # the post says "not uncommon"
    ("faq 6", "many therapists see the relationship"),
    ("faq 5", "is the post's source for calling"),  # the post cites the chapter; its wording unseen
    ("faq 6", "takes from the chapter"),
    ("faq 3", "he objects to treating them as rivals"),  # our reading, given as his stance
    ("faq 14", "that relationship is a working partnership, not simply being agreeable"),
    ("key point 6", "Build the relationship through the work"),  # read as the bot's own advice
    ("faq 18", "as he notes himself, all trauma therapists"),  # two commenters came after his remark
    ("faq 13", "everyone agreeing with him is a trauma therapist"),
]


def _where(article: Article, where: str) -> str:
    kind, number = where.rsplit(" ", 1)
    if kind == "faq":
        return article.faqs[int(number) - 1].answer
    return article.key_points[int(number) - 1]


@pytest.mark.parametrize(("where", "phrase"), OLD_WORDINGS)
def test_the_old_wording_is_gone(article: Article, where: str, phrase: str) -> None:
    assert phrase.casefold() not in _where(article, where).casefold()
    for place, text in member_texts(article):
        assert phrase.casefold() not in text.casefold(), place


def test_the_rewordings_say_what_the_post_says(article: Article) -> None:
    assert '"not uncommon"' in article.key_points[0] and "many therapists" not in article.key_points[0]
    assert '"not uncommon"' in article.faqs[5].answer
    assert "The post cites Norcross (2010) when it calls the alliance" in article.faqs[4].answer
    assert "cites the chapter when it calls the alliance" in article.faqs[5].answer
    assert "Our reading:" in article.faqs[2].answer and "relationship plus technique" in article.faqs[2].answer
    assert article.key_points[5].startswith("He advises ")
    assert "everyone who had commented so far was a trauma therapist" in article.faqs[12].answer
    nice = article.faqs[13].answer
    assert "(Farber et al., 2018)" in nice and "empathy, warmth and positive regard" in nice
    assert "is our gloss on Bordin, not a finding" in nice


def test_the_comment_thread_keeps_the_commenters_hedges(article: Article) -> None:
    thread = faq(article, "What did the comment thread add to the post?").answer
    assert "he values the relationship highly but values effectiveness more" in thread
    assert "once it is established and maintained throughout treatment" in thread


def test_rogers_is_read_as_ours_in_both_faqs(article: Article) -> None:
    relational = article.faqs[3].answer
    assert "never mentions Rogers. Our reading, not the post's: Rogers (1957)" in relational
    assert "is our question" in faq(article, "What did Carl Rogers contribute?").answer


def test_the_readme_describes_the_post_without_its_target_phrase() -> None:
    description = README.read_text(encoding="utf-8").split("## ", 1)[0]
    assert "The first article is Ricky Greenwald's 2013 post" in description
    assert "relationship heals" not in description


def test_the_task_force_title_is_verified_and_carries_no_note(article: Article) -> None:
    assert article.citation("norcrosslambert2018").note is None


def test_apa_titles_are_complete(article: Article) -> None:
    assert article.citation("wampoldimel2015").title == (
        "The great psychotherapy debate: The evidence for what makes psychotherapy work")
    frank = article.citation("frank1991")
    assert frank.title == "Persuasion and healing: A comparative study of psychotherapy"
    assert frank.note and "Subtitle as commonly cited" in frank.note
    assert format_reference(frank, "apa") == (
        "Frank, J. D., & Frank, J. B. (1991). *Persuasion and healing: A comparative study of psychotherapy* "
        "(3rd ed.). Johns Hopkins University Press.")


def test_places_are_recorded_only_where_verified_and_no_style_prints_them(article: Article) -> None:
    places = {c.id: c.publisher_place for c in article.citations if c.publisher_place}
    assert places == {"duncan2010": "Washington, DC", "norcross2010": "Washington, DC",
                      "wampoldimel2015": "New York", "frank1991": "Baltimore"}
    assert CITATION_STYLES["chicago"] == "Chicago author-date (18th edition)"
    for style in CITATION_STYLES:  # APA 7, MLA 9 and Chicago 18 (14.30) give no place for these books
        for citation in article.citations:
            reference = format_reference(citation, style)
            assert not any(place in reference for place in places.values()), (style, citation.id)


#: The questions a journal-club facilitator asks, each with what its answer must say.
FACILITATOR_FAQS = {
    "Does the alliance cause improvement, or does progress build the alliance?": (
        "The post's last paragraph argues the second", "r = .278", "does not show which way", "Our reading:"),
    "Are all coherent therapies equally good?": (
        "The post says they are not", "the author's view of his own model", "Our reading"),
    "How would I check the alliance and progress in my own practice?": (
        "The post offers no measure", "our suggestions, not a protocol", "Nicole Wolasz",
        "we do not recommend one"),
    "Why are some therapists more effective than others?": (
        "a commenter raises it", "Tom Cloyd", "not a finding", "Our reading", "Nothing in our sources tests this"),
    "Model, approach, technique, specific factor: what is the difference?": (
        "here is how it uses them", "The post does not use the term",
        "Our gloss:"),
    "What are Progressive Counting and the phase model?": (
        "the author's own approach", "(Greenwald, 2013a)", "unverified", "we do not fill that in"),
    "What should we teach new clinicians from this?": (
        "Nicole Wolasz", "discussion question 7", "Our suggestions", "estimates, not measurements",
        "her practice, not a finding"),
    "How do I run a meeting on this post?": (
        "our suggestion", "`/commonfactors-mod meeting …`", "discussion questions", "numbered order", "👍",
        "digest", "unidentifiable"),
}


@pytest.mark.parametrize("question", list(FACILITATOR_FAQS))
def test_each_facilitator_question_is_answered_with_its_authors_named(article: Article, question: str) -> None:
    item = faq(article, question)
    for phrase in FACILITATOR_FAQS[question]:
        assert phrase in item.answer, phrase
    assert item.sources and citation_problems(item.answer, article.citations) == []


def test_the_meeting_guide_times_every_discussion_question_into_an_hour(article: Article) -> None:
    guide = faq(article, "How do I run a meeting on this post?").answer
    minutes = 0
    for line in guide.splitlines():
        if match := re.match(r"• (?:Questions (\d) (?:to|and) (\d)\b.*: (\d+) min each|(\d+) min:)", line):
            first, last, each, once = match.groups()
            minutes += int(once) if once else (int(last) - int(first) + 1) * int(each)
            if first:
                covered = set(range(int(first), int(last) + 1))
                assert covered <= set(range(1, len(article.discussion_questions) + 1))
    assert minutes == 60
    numbered = {int(n) for n in re.findall(r"Questions (\d) (?:to|and) (\d)", guide) for n in n}
    assert numbered == {1, 3, 4, 5, 6, 7}  # ranges 1 to 3, 4 and 5, 6 and 7 cover all seven


@pytest.mark.parametrize(("query", "question"), [
    ("how do I reference the blog", "How do I cite this post?"),
    ("effect size", "What does the research say about how much the alliance predicts outcome?"),
    ("facilitator's guide", "How do I run a meeting on this post?"),
])  # fmt: skip
def test_aliases_find_the_faq_members_mean(article: Article, query: str, question: str) -> None:
    from bot.faq import find_faq

    found = find_faq(article, query)
    assert found.number is not None and article.faqs[found.number - 1].question == question
