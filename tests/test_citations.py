"""What a member sees when they ask for the references, and what their reference manager reads."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.article import Article, Citation, load_article
from bot.citations import (
    CITATION_STYLES,
    EXPORT_FORMATS,
    UnknownFormatError,
    bibliography_entries,
    export_references,
    format_bibliography,
    format_reference,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "commonfactors.toml"

#: The strings in shared/source/references.md, character for character.
APA_DUNCAN = (
    "Duncan, B. L., Miller, S. D., Wampold, B. E., & Hubble, M. A. (Eds.). (2010). "
    "*The heart and soul of change: Delivering what works in therapy* (2nd ed.). "
    "American Psychological Association."
)
APA_NORCROSS = (
    "Norcross, J. C. (2010). The therapeutic relationship. In B. L. Duncan, S. D. Miller, "
    "B. E. Wampold, & M. A. Hubble (Eds.), *The heart and soul of change: Delivering what works "
    "in therapy* (2nd ed., pp. 113–141). American Psychological Association."
)
APA_BORDIN = (
    "Bordin, E. S. (1979). The generalizability of the psychoanalytic concept of the working "
    "alliance. *Psychotherapy: Theory, Research & Practice, 16*(3), 252–260. "
    "https://doi.org/10.1037/h0085885"
)


@pytest.fixture(scope="module")
def article() -> Article:
    return load_article(DATA)


def cite(article: Article, key: str) -> Citation:
    return article.citation(key)


def make(**fields: Any) -> Citation:
    data: dict[str, Any] = {"id": "x", "type": "book", "title": "A title", "issued": {"date-parts": [[2020]]}}
    data.update(fields)
    if "author" not in data and "editor" not in data:
        data["author"] = [{"family": "Doe", "given": "Jane"}]
    return Citation.model_validate(data)


# --- APA 7 -----------------------------------------------------------------------------------


def test_apa_edited_book_matches_references_md(article: Article) -> None:
    assert format_reference(cite(article, "duncan2010"), "apa") == APA_DUNCAN


def test_apa_chapter_matches_references_md_with_en_dash(article: Article) -> None:
    reference = format_reference(cite(article, "norcross2010"))
    assert reference == APA_NORCROSS
    assert "113–141" in reference


def test_apa_journal_article_italicises_journal_and_volume(article: Article) -> None:
    assert format_reference(cite(article, "bordin1979")) == APA_BORDIN


def test_apa_book_with_two_authors_and_doi(article: Article) -> None:
    assert format_reference(cite(article, "wampoldimel2015")) == (
        "Wampold, B. E., & Imel, Z. E. (2015). *The great psychotherapy debate* (2nd ed.). Routledge. "
        "https://doi.org/10.4324/9780203582015"
    )


def test_apa_blog_post_gives_the_full_date_and_italicises_the_blog() -> None:
    post = make(
        type="post-weblog",
        author=[{"family": "Greenwald", "given": "Ricky"}],
        issued={"date-parts": [[2013, 8, 6]]},
        title="Therapeutic relationship vs. treatment model",
        **{"container-title": "Child Trauma Institute blog"},
        URL="http://www.childtrauma.com/blog/therapeutic-relationship-vs-treatment-model/",
    )
    assert format_reference(post) == (
        "Greenwald, R. (2013, August 6). Therapeutic relationship vs. treatment model. "
        "*Child Trauma Institute blog*. "
        "http://www.childtrauma.com/blog/therapeutic-relationship-vs-treatment-model/"
    )


def test_apa_webpage_italicises_the_title() -> None:
    page = make(
        type="webpage",
        author=[{"literal": "World Health Organization"}],
        issued={"date-parts": [[2021, 3]]},
        title="Mental health at work",
        **{"container-title": "WHO"},
        URL="https://www.who.int/page",
    )
    assert format_reference(page) == (
        "World Health Organization. (2021, March). *Mental health at work*. WHO. https://www.who.int/page"
    )


def test_apa_one_editor_is_ed_and_two_chapter_editors_have_no_comma() -> None:
    book = make(editor=[{"family": "Roth", "given": "Anthony"}], publisher="Guilford Press")
    assert format_reference(book) == "Roth, A. (Ed.). (2020). *A title*. Guilford Press."
    chapter = make(
        type="chapter",
        author=[{"family": "Doe", "given": "Jane"}],
        editor=[{"family": "Roth", "given": "Anthony"}, {"family": "Fonagy", "given": "Peter"}],
        **{"container-title": "What works for whom?"},
        page="5",
    )
    assert format_reference(chapter) == (
        "Doe, J. (2020). A title. In A. Roth & P. Fonagy (Eds.), *What works for whom?* (p. 5)."
    )


def test_apa_authored_book_with_editors_and_edition() -> None:
    book = make(
        author=[{"family": "Plath", "given": "Sylvia"}],
        editor=[{"family": "Kukil", "given": "Karen V."}, {"family": "Roe", "given": "Ann"}],
        edition="2",
        publisher="Anchor Books",
    )
    assert format_reference(book) == (
        "Plath, S. (2020). *A title* (K. V. Kukil & A. Roe, Eds.; 2nd ed.). Anchor Books."
    )


def test_apa_question_mark_replaces_the_period(article: Article) -> None:
    reference = format_reference(cite(article, "wampold2015"))
    assert "How important are the common factors in psychotherapy? An update. *World Psychiatry, 14*(3)" in (
        reference
    )
    assert "Why?." not in format_reference(make(title="Why?"))
    assert format_reference(make(title="Why?")) == "Doe, J. (2020). *Why?*"


def test_apa_lists_19_authors_then_an_ellipsis_and_the_last() -> None:
    authors = [{"family": f"Author{i}", "given": "A."} for i in range(1, 23)]
    reference = format_reference(make(author=authors))
    assert "Author19, A., . . . Author22, A. (2020)." in reference
    assert "Author20" not in reference


def test_apa_orders_the_list_and_letters_one_authors_works_of_one_year() -> None:
    first = make(id="b", author=[{"family": "Wampold", "given": "Bruce E."}], title="Zebra findings")
    second = make(id="a", author=[{"family": "Wampold", "given": "Bruce E."}], title="Alliance findings")
    third = make(id="c", author=[{"family": "Ackerman", "given": "S."}])
    references = format_bibliography([first, second, third], "apa")
    assert references[0].startswith("Ackerman, S. (2020).")
    assert references[1].startswith("Wampold, B. E. (2020a). *Alliance findings*")
    assert references[2].startswith("Wampold, B. E. (2020b). *Zebra findings*")


def test_shipped_reference_list_is_alphabetical(article: Article) -> None:
    families = [line.split(",")[0] for line in format_bibliography(article.citations, "apa")]
    assert families[0] == "Bordin"
    assert families.index("Duncan") < families.index("Flückiger") < families.index("Frank")
    assert families[-1] == "Wampold"


def test_markdown_characters_in_text_are_escaped() -> None:
    reference = format_reference(make(title="Rock *and* roll_over"))
    assert "*Rock \\*and\\* roll\\_over*" in reference


def test_notes_are_never_rendered_into_a_reference(article: Article) -> None:
    for citation in article.citations:
        for style in CITATION_STYLES:
            reference = format_reference(citation, style)
            assert not citation.note or citation.note not in reference
            assert "12075-00" not in reference  # the unverified DOIs


def test_bibliography_entries_pair_each_reference_with_its_citation(article: Article) -> None:
    entries = bibliography_entries(article.citations, "apa")
    assert [reference for _, reference in entries] == format_bibliography(article.citations, "apa")
    assert {c.id for c, _ in entries} == {c.id for c in article.citations}
    for citation, reference in entries:
        assert reference == format_reference(citation, "apa")


# --- Chicago author-date 17th ------------------------------------------------------------------


def test_chicago_edited_book(article: Article) -> None:
    assert format_reference(cite(article, "duncan2010"), "chicago") == (
        "Duncan, Barry L., Scott D. Miller, Bruce E. Wampold, and Mark A. Hubble, eds. 2010. "
        "*The Heart and Soul of Change: Delivering What Works in Therapy*. 2nd ed. "
        "Washington, DC: American Psychological Association."
    )


def test_chicago_chapter(article: Article) -> None:
    assert format_reference(cite(article, "norcross2010"), "chicago") == (
        "Norcross, John C. 2010. “The Therapeutic Relationship.” In *The Heart and Soul of Change: "
        "Delivering What Works in Therapy*, edited by Barry L. Duncan, Scott D. Miller, Bruce E. Wampold, "
        "and Mark A. Hubble, 2nd ed., 113–41. Washington, DC: American Psychological Association."
    )


def test_chicago_journal_article(article: Article) -> None:
    assert format_reference(cite(article, "fluckiger2018"), "chicago") == (
        "Flückiger, Christoph, A. C. Del Re, Bruce E. Wampold, and Adam O. Horvath. 2018. "
        "“The Alliance in Adult Psychotherapy: A Meta-analytic Synthesis.” *Psychotherapy* 55 (4): "
        "316–40. https://doi.org/10.1037/pst0000172."
    )


def test_chicago_book_with_two_authors(article: Article) -> None:
    assert format_reference(cite(article, "frank1991"), "chicago") == (
        "Frank, Jerome D., and Julia B. Frank. 1991. *Persuasion and Healing*. 3rd ed. "
        "Johns Hopkins University Press."
    )


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("3-10", "3–10"),
        ("71-72", "71–72"),
        ("96-117", "96–117"),
        ("100-104", "100–104"),
        ("1100-1113", "1100–1113"),
        ("101-108", "101–8"),
        ("808-833", "808–33"),
        ("1103-1104", "1103–4"),
        ("321-328", "321–28"),
        ("498-532", "498–532"),
        ("1087-1089", "1087–89"),
        ("1496-1500", "1496–500"),
        ("11564-11615", "11564–615"),
        ("12991-13001", "12991–3001"),
        ("e101-e108", "e101–e108"),
    ],
)
def test_chicago_abbreviates_page_ranges_as_cmos_9_61(page: str, expected: str) -> None:
    reference = format_reference(
        make(type="article-journal", page=page, **{"container-title": "J"}), "chicago"
    )
    assert f": {expected}." in reference


def test_chicago_repeats_an_author_with_a_three_em_dash() -> None:
    one = make(id="a", author=[{"family": "Rogers", "given": "Carl R."}], title="On becoming a person")
    two = make(id="b", author=[{"family": "Rogers", "given": "Carl R."}], title="Client-centered therapy")
    chicago = format_bibliography([one, two], "chicago")
    assert chicago[0].startswith("Rogers, Carl R. 2020a. *Client-Centered Therapy*.")
    assert chicago[1].startswith("———. 2020b. *On Becoming a Person*.")


def test_chicago_blog_post() -> None:
    post = make(
        type="post-weblog",
        author=[{"family": "Greenwald", "given": "Ricky"}],
        issued={"date-parts": [[2013, 8, 6]]},
        title="Therapeutic relationship vs. treatment model",
        **{"container-title": "Trauma Institute"},
        URL="http://www.childtrauma.com/blog/",
    )
    assert format_reference(post, "chicago") == (
        "Greenwald, Ricky. 2013. “Therapeutic Relationship vs. Treatment Model.” *Trauma Institute* (blog), "
        "August 6, 2013. http://www.childtrauma.com/blog/."
    )


# --- MLA 9 -----------------------------------------------------------------------------------


def test_mla_edited_book(article: Article) -> None:
    assert format_reference(cite(article, "duncan2010"), "mla") == (
        "Duncan, Barry L., et al., editors. *The Heart and Soul of Change: Delivering What Works in "
        "Therapy*. 2nd ed., American Psychological Association, 2010."
    )


def test_mla_chapter(article: Article) -> None:
    assert format_reference(cite(article, "norcross2010"), "mla") == (
        "Norcross, John C. “The Therapeutic Relationship.” *The Heart and Soul of Change: Delivering What "
        "Works in Therapy*, edited by Barry L. Duncan et al., 2nd ed., American Psychological Association, "
        "2010, pp. 113–41."
    )


def test_mla_journal_article(article: Article) -> None:
    assert format_reference(cite(article, "bordin1979"), "mla") == (
        "Bordin, Edward S. “The Generalizability of the Psychoanalytic Concept of the Working Alliance.” "
        "*Psychotherapy: Theory, Research & Practice*, vol. 16, no. 3, 1979, pp. 252–60, "
        "https://doi.org/10.1037/h0085885."
    )


def test_mla_two_authors_and_university_press(article: Article) -> None:
    assert format_reference(cite(article, "frank1991"), "mla") == (
        "Frank, Jerome D., and Julia B. Frank. *Persuasion and Healing*. 3rd ed., Johns Hopkins UP, 1991."
    )


@pytest.mark.parametrize(
    ("page", "expected"),
    [("2-3", "2–3"), ("96-101", "96–101"), ("103-104", "103–04"), ("395-401", "395–401"),
     ("1003-1005", "1003–05"), ("1608-1774", "1608–774")],
)  # fmt: skip
def test_mla_abbreviates_page_ranges(page: str, expected: str) -> None:
    reference = format_reference(make(type="article-journal", page=page, **{"container-title": "J"}), "mla")
    assert f"pp. {expected}." in reference


def test_mla_orders_by_title_and_repeats_names_with_hyphens() -> None:
    one = make(id="a", author=[{"family": "Rogers", "given": "Carl R."}], title="On becoming a person")
    two = make(id="b", author=[{"family": "Rogers", "given": "Carl R."}], title="Client-centered therapy")
    mla = format_bibliography([one, two], "mla")
    assert mla == [
        "Rogers, Carl R. *Client-Centered Therapy*. 2020.",
        "---. *On Becoming a Person*. 2020.",
    ]


def test_headline_case_keeps_acronyms_and_lowers_small_words(article: Article) -> None:
    assert "“Psychotherapy Relationships That Work III.”" in format_reference(
        cite(article, "norcrosslambert2018"), "chicago"
    )
    assert "*Progressive Counting within a Phase Model of Trauma-Informed Treatment*" in format_reference(
        cite(article, "greenwald2013"), "mla"
    )
    assert "Psychotherapy? An Update." in format_reference(cite(article, "wampold2015"), "mla")


# --- styles and formats that do not exist ----------------------------------------------------


def test_unknown_style_lists_the_valid_ones(article: Article) -> None:
    with pytest.raises(UnknownFormatError, match=r"'vancouver'.*apa, chicago, mla") as caught:
        format_reference(cite(article, "duncan2010"), "vancouver")
    assert isinstance(caught.value, ValueError)
    with pytest.raises(UnknownFormatError):
        format_bibliography(article.citations, "harvard")


def test_unknown_export_format_lists_the_valid_ones(article: Article) -> None:
    with pytest.raises(UnknownFormatError, match=r"'endnote'.*bibtex, ris, csljson"):
        export_references(article.citations, "endnote", basename="commonfactors")


def test_style_and_format_keys_are_forgiving_about_case(article: Article) -> None:
    assert format_reference(cite(article, "duncan2010"), " APA ") == APA_DUNCAN
    assert export_references(article.citations, "BibTeX", basename="cf")[0] == "cf.bib"


# --- exports ---------------------------------------------------------------------------------


def test_export_file_names_and_registry(article: Article) -> None:
    assert set(EXPORT_FORMATS) == {"bibtex", "ris", "csljson"}
    names = {
        fmt: export_references(article.citations, fmt, basename="commonfactors")[0] for fmt in EXPORT_FORMATS
    }
    assert names == {
        "bibtex": "commonfactors.bib",
        "ris": "commonfactors.ris",
        "csljson": "commonfactors.json",
    }
    assert export_references(article.citations, "ris", basename="../a b")[0] == "a_b.ris"


def parse_bibtex(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(LaTeX-decoded text fields, split names), each by entry key."""
    text = data.decode("utf-8")
    decoded = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    names = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors(), SplitNameParts()])
    assert not decoded.failed_blocks and not names.failed_blocks
    return {e.key: e for e in decoded.entries}, {e.key: e for e in names.entries}


def test_bibtex_round_trip(article: Article) -> None:
    _, data = export_references(article.citations, "bibtex", basename="commonfactors")
    text = data.decode("utf-8")
    assert "pages = {113--141}" in text
    entries, names = parse_bibtex(data)
    assert set(entries) == {c.id for c in article.citations}

    book = entries["duncan2010"]
    assert book.entry_type == "book"
    assert book.fields_dict["title"].value == cite(article, "duncan2010").title
    assert book.fields_dict["edition"].value == "2"
    assert book.fields_dict["publisher"].value == "American Psychological Association"
    assert book.fields_dict["address"].value == "Washington, DC"
    assert book.fields_dict["year"].value == "2010"
    assert book.fields_dict["isbn"].value == "978-1-4338-0709-1"
    assert "doi" not in book.fields_dict
    assert "unverified" in book.fields_dict["note"].value
    editors = names["duncan2010"].fields_dict["editor"].value
    assert [(" ".join(n.last), " ".join(n.first)) for n in editors] == [
        ("Duncan", "Barry L."), ("Miller", "Scott D."), ("Wampold", "Bruce E."), ("Hubble", "Mark A."),
    ]  # fmt: skip

    chapter = entries["norcross2010"]
    assert chapter.entry_type == "incollection"
    assert (
        chapter.fields_dict["booktitle"].value
        == "The heart and soul of change: Delivering what works in therapy"
    )
    assert chapter.fields_dict["pages"].value == "113–141"  # LaTeX's "--" decodes to an en dash
    assert [" ".join(n.last) for n in names["norcross2010"].fields_dict["author"].value] == ["Norcross"]

    journal = entries["bordin1979"]
    assert journal.entry_type == "article"
    assert journal.fields_dict["journal"].value == "Psychotherapy: Theory, Research & Practice"
    assert "Research \\& Practice" in text
    assert journal.fields_dict["doi"].value == "10.1037/h0085885"
    assert (journal.fields_dict["volume"].value, journal.fields_dict["number"].value) == ("16", "3")
    assert [" ".join(n.last) for n in names["fluckiger2018"].fields_dict["author"].value][:2] == [
        "Flückiger",
        "Del Re",
    ]


def test_bibtex_escapes_special_characters_and_protects_capitals() -> None:
    tricky = make(
        title="Risk & resilience in PTSD: 50% of cases_x #1 ~ {odd} \\ ^ -- after Freud",
        author=[{"family": "O'Neil", "given": "Ann"}, {"literal": "Research and Development Unit"}],
        note="Pages & publisher unverified",
    )
    _, data = export_references([tricky], "bibtex", basename="x")
    text = data.decode("utf-8")
    assert r"Risk \& resilience in {PTSD}: 50\% of cases\_x \#1 \textasciitilde{}" in text
    assert (
        r"\textbraceleft{}odd\textbraceright{} \textbackslash{} \textasciicircum{} -{}- after {Freud}" in text
    )
    assert "{Research and Development Unit}" in text
    entries, names = parse_bibtex(data)
    assert entries["x"].fields_dict["note"].value == "Pages & publisher unverified"
    authors = names["x"].fields_dict["author"].value
    assert len(authors) == 2  # the organisation's "and" did not split it


def test_bibtex_round_trips_plain_text_exactly() -> None:
    plain = make(title="Risk & resilience: 50% of cases_x #1 in O'Neil's clinic", publisher="A & B")
    entries, _ = parse_bibtex(export_references([plain], "bibtex", basename="x")[1])
    assert entries["x"].fields_dict["title"].value == plain.title
    assert entries["x"].fields_dict["publisher"].value == "A & B"


def test_ris_round_trip(article: Article) -> None:
    _, data = export_references(article.citations, "ris", basename="commonfactors")
    text = data.decode("utf-8")
    assert text.startswith("TY  - BOOK\r\n")
    assert text.endswith("ER  - \r\n")
    assert "\r\n\r\n" not in text and "\n1.\r\n" not in text
    records = {r["title"]: r for r in rispy.loads(text)}
    assert len(records) == len(article.citations)

    book = records[cite(article, "duncan2010").title]
    assert book["type_of_reference"] == "BOOK"
    assert book["tertiary_authors"] == [
        "Duncan, Barry L.",
        "Miller, Scott D.",
        "Wampold, Bruce E.",
        "Hubble, Mark A.",
    ]
    assert (book["edition"], book["year"], book["issn"]) == ("2", "2010", "978-1-4338-0709-1")
    assert book["publisher"] == "American Psychological Association"
    assert book["place_published"] == "Washington, DC"
    assert "doi" not in book
    assert "unverified" in book["notes"][0]

    chapter = records["The therapeutic relationship"]
    assert chapter["type_of_reference"] == "CHAP"
    assert chapter["authors"] == ["Norcross, John C."]
    assert chapter["secondary_authors"][0] == "Duncan, Barry L."
    assert chapter["secondary_title"] == "The heart and soul of change: Delivering what works in therapy"
    assert (chapter["start_page"], chapter["end_page"]) == ("113", "141")

    journal = records[cite(article, "bordin1979").title]
    assert journal["type_of_reference"] == "JOUR"
    assert journal["secondary_title"] == "Psychotherapy: Theory, Research & Practice"
    assert (journal["volume"], journal["number"], journal["doi"]) == ("16", "3", "10.1037/h0085885")


def test_ris_keeps_each_value_on_one_line() -> None:
    messy = make(title="Line one\nline two", note="a\r\nb")
    text = export_references([messy], "ris", basename="x")[1].decode("utf-8")
    assert "TI  - Line one line two\r\n" in text
    assert "N1  - a b\r\n" in text


def test_csljson_round_trip(article: Article) -> None:
    name, data = export_references(article.citations, "csljson", basename="commonfactors")
    assert name == "commonfactors.json"
    loaded = json.loads(data.decode("utf-8"))
    assert loaded == [c.csl_json() for c in article.citations]
    assert "Flückiger" in data.decode("utf-8")  # UTF-8, not \u escapes
    assert all("role" not in item for item in loaded)
    assert [Citation.model_validate(item).id for item in loaded] == [c.id for c in article.citations]


def test_notes_travel_into_every_export(article: Article) -> None:
    greenwald = cite(article, "greenwald2013")
    assert greenwald.note
    bibtex = export_references([greenwald], "bibtex", basename="x")[1].decode()
    ris = export_references([greenwald], "ris", basename="x")[1].decode()
    csl = json.loads(export_references([greenwald], "csljson", basename="x")[1])
    assert "note = {Title and publisher unverified" in bibtex
    assert "N1  - Title and publisher unverified" in ris
    assert csl[0]["note"] == greenwald.note


def test_empty_exports_are_valid_files() -> None:
    assert export_references([], "csljson", basename="x")[1] == b"[]\n"
    assert export_references([], "ris", basename="x")[1] == b""
    assert export_references([], "bibtex", basename="x")[1] == b""


# --- any valid citation renders and exports ---------------------------------------------------

CSL_TYPES = [
    "book", "chapter", "article-journal", "article-magazine", "article-newspaper", "webpage",
    "post-weblog", "report", "thesis", "paper-conference", "entry-encyclopedia", "dataset", "motion_picture",
]  # fmt: skip

text = st.text(min_size=1, max_size=60).filter(lambda s: s.strip())
short = st.text(min_size=1, max_size=40).filter(lambda s: s.strip())
person = st.fixed_dictionaries({"family": short}, optional={"given": short})
organisation = st.fixed_dictionaries({"literal": short})
names = st.lists(st.one_of(person, organisation), max_size=23)
date_part = st.builds(
    lambda year, rest: [year, *rest], st.integers(1000, 2999), st.lists(st.integers(1, 12), max_size=1)
)
date = st.lists(date_part, min_size=1, max_size=2)
optional: dict[str, st.SearchStrategy[Any]] = {
    "container-title": short,
    "collection-title": short,
    "publisher": short,
    "publisher-place": short,
    "edition": st.from_regex(r"[0-9]{1,2}", fullmatch=True),
    "volume": short,
    "issue": short,
    "page": st.from_regex(r"[0-9A-Za-z]{1,6}([-–][0-9A-Za-z]{1,6})?", fullmatch=True),
    "DOI": st.from_regex(r"10\.[0-9]{4,9}/[!-~]{1,20}", fullmatch=True),
    "ISBN": st.sampled_from(["978-1-4338-0709-1", "0-8018-4636-7", "080184636X"]),
    "URL": st.from_regex(r"https?://[a-z]{1,10}\.(com|org)(/[a-z0-9_.-]{0,12})?", fullmatch=True),
    "note": text,
}


@st.composite
def citations(draw: st.DrawFn, key: str = "x") -> Citation:
    data: dict[str, Any] = {
        "id": key,
        "type": draw(st.sampled_from(CSL_TYPES)),
        "title": draw(text),
        "issued": {"date-parts": draw(date)},
        "author": draw(names),
        "editor": draw(names),
    }
    if not data["author"] and not data["editor"]:
        data["author"] = [draw(person)]
    for field, strategy in optional.items():
        if draw(st.booleans()):
            data[field] = draw(strategy)
    if data["type"] == "chapter" and "container-title" not in data:
        data["container-title"] = draw(short)
    return Citation.model_validate(data)


@st.composite
def citation_lists(draw: st.DrawFn) -> list[Citation]:
    count = draw(st.integers(1, 4))
    return [draw(citations(key=f"k{i}")) for i in range(count)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(citation_lists())
def test_any_valid_citation_renders_and_exports(items: list[Citation]) -> None:
    for style in CITATION_STYLES:
        for citation in items:
            reference = format_reference(citation, style)
            assert reference.strip() and reference == reference.rstrip()
            assert "\n" not in reference
        assert len(format_bibliography(items, style)) == len(items)
    for fmt in EXPORT_FORMATS:
        filename, data = export_references(items, fmt, basename="commonfactors")
        assert filename.startswith("commonfactors.") and data
        data.decode("utf-8")
    bibtex = bibtexparser.parse_string(export_references(items, "bibtex", basename="x")[1].decode())
    assert not bibtex.failed_blocks
    assert [e.key for e in bibtex.entries] == [c.id for c in items]
    ris = rispy.loads(export_references(items, "ris", basename="x")[1].decode())
    assert [r["type_of_reference"] for r in ris] == [RIS_TYPES[c.type] for c in items]
    assert [r["title"] for r in ris] == [one_line(c.title) for c in items]


def one_line(text: str) -> str:
    """What an export keeps of a value: control characters and line breaks become spaces."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())


RIS_TYPES = {
    "book": "BOOK", "chapter": "CHAP", "article-journal": "JOUR", "article-magazine": "MGZN",
    "article-newspaper": "NEWS", "webpage": "ELEC", "post-weblog": "BLOG", "report": "RPRT",
    "thesis": "THES", "paper-conference": "CONF", "entry-encyclopedia": "ENCYC", "dataset": "DATA",
    "motion_picture": "MPCT",
}  # fmt: skip


def test_printable_ascii_titles_survive_every_style() -> None:
    title = string.printable.strip().replace("\n", " ")
    for style in CITATION_STYLES:
        assert format_reference(make(title=title), style)
