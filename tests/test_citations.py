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
    ROLE_ORDER,
    UnknownFormatError,
    bibliography_entries,
    by_role,
    cite_in_text,
    export_intro_text,
    export_references,
    format_bibliography,
    format_reference,
    role_heading,
    role_keyword,
    work_noun,
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
        "Wampold, B. E., & Imel, Z. E. (2015). *The great psychotherapy debate: The evidence for what makes "
        "psychotherapy work* (2nd ed.). Routledge. https://doi.org/10.4324/9780203582015"
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
    for citation, reference in entries:  # the same, but for the letters of one author's works of one year
        assert re.sub(r"\((\d{4})[ab]", r"(\1", reference) == format_reference(citation, "apa")
    assert sum(bool(re.search(r"\(2013[ab]", reference)) for _, reference in entries) == 2


# --- Chicago author-date 18th ------------------------------------------------------------------


def test_chicago_edited_book(article: Article) -> None:
    assert format_reference(cite(article, "duncan2010"), "chicago") == (
        "Duncan, Barry L., Scott D. Miller, Bruce E. Wampold, and Mark A. Hubble, eds. 2010. "
        "*The Heart and Soul of Change: Delivering What Works in Therapy*. 2nd ed. "
        "American Psychological Association."
    )


def test_chicago_chapter(article: Article) -> None:
    assert format_reference(cite(article, "norcross2010"), "chicago") == (
        "Norcross, John C. 2010. “The Therapeutic Relationship.” In *The Heart and Soul of Change: "
        "Delivering What Works in Therapy*, edited by Barry L. Duncan, Scott D. Miller, Bruce E. Wampold, "
        "and Mark A. Hubble, 2nd ed., 113–41. American Psychological Association."
    )


def test_chicago_journal_article(article: Article) -> None:
    assert format_reference(cite(article, "fluckiger2018"), "chicago") == (
        "Flückiger, Christoph, A. C. Del Re, Bruce E. Wampold, and Adam O. Horvath. 2018. "
        "“The Alliance in Adult Psychotherapy: A Meta-analytic Synthesis.” *Psychotherapy* 55 (4): "
        "316–40. https://doi.org/10.1037/pst0000172."
    )


def test_chicago_book_with_two_authors(article: Article) -> None:
    assert format_reference(cite(article, "frank1991"), "chicago") == (
        "Frank, Jerome D., and Julia B. Frank. 1991. *Persuasion and Healing: A Comparative Study of "
        "Psychotherapy*. 3rd ed. Johns Hopkins University Press."
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


def test_chicago_18_repeats_an_authors_name_rather_than_a_three_em_dash() -> None:
    one = make(id="a", author=[{"family": "Rogers", "given": "Carl R."}], title="On becoming a person")
    two = make(id="b", author=[{"family": "Rogers", "given": "Carl R."}], title="Client-centered therapy")
    chicago = format_bibliography([one, two], "chicago")
    assert chicago[0].startswith("Rogers, Carl R. 2020a. *Client-Centered Therapy*.")
    assert chicago[1].startswith("Rogers, Carl R. 2020b. *On Becoming a Person*.")  # CMOS 18 13.73
    assert not any("———" in reference for reference in chicago)


def test_chicago_18_lists_six_authors_and_cuts_seven_to_three_et_al() -> None:
    names = [{"family": f"Author{i}", "given": "Ann"} for i in range(1, 8)]
    six = format_reference(make(author=names[:6]), "chicago")
    assert six.startswith("Author1, Ann, Ann Author2, Ann Author3, Ann Author4, Ann Author5, and Ann Author6. 2020.")
    seven = format_reference(make(author=names), "chicago")
    assert seven.startswith("Author1, Ann, Ann Author2, Ann Author3, et al. 2020.")


def test_chicago_18_capitalises_prepositions_of_five_letters_or_more(article: Article) -> None:
    assert "*Progressive Counting Within a Phase Model of Trauma-Informed Treatment*" in format_reference(
        cite(article, "greenwald2013"), "chicago")
    assert "*Life Through a Lens with Friends from Home*" in format_reference(
        make(title="Life through a lens with friends from home"), "chicago")


def test_chicago_18_gives_a_place_only_for_a_book_from_before_1900() -> None:
    modern = make(publisher="Basic Books", **{"publisher-place": "New York"})
    assert format_reference(modern, "chicago") == "Doe, Jane. 2020. *A Title*. Basic Books."
    old = make(publisher="Smith, Elder", issued={"date-parts": [[1859]]}, **{"publisher-place": "London"})
    assert format_reference(old, "chicago") == "Doe, Jane. 1859. *A Title*. London: Smith, Elder."


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
        "Frank, Jerome D., and Julia B. Frank. *Persuasion and Healing: A Comparative Study of Psychotherapy*. "
        "3rd ed., Johns Hopkins UP, 1991."
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
    assert book.fields_dict["edition"].value == "Second"
    assert book.fields_dict["publisher"].value == "American Psychological Association"
    assert book.fields_dict["address"].value == "Washington, DC"
    assert book.fields_dict["year"].value == "2010"
    assert book.fields_dict["isbn"].value == "978-1-4338-0709-1"
    assert "doi" not in book.fields_dict
    assert "unverified" in book.fields_dict["annote"].value
    assert "note" not in book.fields_dict
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
    assert entries["x"].fields_dict["annote"].value == "Pages & publisher unverified"
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
    assert text.startswith("TY  - BLOG\r\n")  # the post itself comes first
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
    by_id = {c.id: c for c in article.citations}
    assert sorted(item["id"] for item in loaded) == sorted(by_id)
    def restored(item: dict[str, Any]) -> dict[str, Any]:
        """The item as our data has it: the group keyword dropped, the unverified note back in `note`."""
        data = {k: v for k, v in item.items() if k not in {"keyword", "custom"}}
        if "custom" in item:
            data["note"] = item["custom"]["unverified"]
        return data

    for item in loaded:
        assert restored(item) == by_id[item["id"]].csl_json()
    assert "Flückiger" in data.decode("utf-8")  # UTF-8, not \u escapes
    assert all("role" not in item for item in loaded)
    assert {Citation.model_validate(restored(item)).id for item in loaded} == set(by_id)


def test_notes_travel_into_every_export(article: Article) -> None:
    greenwald = cite(article, "greenwald2013")
    assert greenwald.note
    bibtex = export_references([greenwald], "bibtex", basename="x")[1].decode()
    ris = export_references([greenwald], "ris", basename="x")[1].decode()
    csl = json.loads(export_references([greenwald], "csljson", basename="x")[1])
    assert "annote = {Title and publisher unverified" in bibtex
    assert "\tnote = " not in bibtex
    assert "N1  - Title and publisher unverified" in ris
    assert csl[0]["custom"] == {"unverified": greenwald.note}
    assert "note" not in csl[0]  # annotated-bibliography styles print `note`; none prints `custom`


def test_empty_exports_are_valid_files() -> None:
    assert export_references([], "csljson", basename="x")[1] == b"[]\n"
    assert export_references([], "ris", basename="x")[1] == b""
    assert export_references([], "bibtex", basename="x")[1] == b""


# --- any valid citation renders and exports ---------------------------------------------------

CSL_TYPES = [
    "book", "chapter", "article-journal", "article-magazine", "article-newspaper", "webpage",
    "post-weblog", "report", "paper-conference", "entry-encyclopedia",
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
    "edition": st.from_regex(r"[1-9][0-9]?", fullmatch=True),
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
    data["role"] = draw(st.sampled_from(["cited", "mentioned", "background"]))
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
    grouped = sorted(items, key=lambda c: ROLE_ORDER.index(c.role))  # stable: given order within a group
    bibtex = bibtexparser.parse_string(export_references(items, "bibtex", basename="x")[1].decode())
    assert not bibtex.failed_blocks
    assert [e.key for e in bibtex.entries] == [c.id for c in grouped]
    ris = rispy.loads(export_references(items, "ris", basename="x")[1].decode())
    assert [r["type_of_reference"] for r in ris] == [RIS_TYPES[c.type] for c in grouped]
    assert [r["title"] for r in ris] == [one_line(c.title) for c in grouped]
    assert [r["keywords"] for r in ris] == [[role_keyword(c.role)] for c in grouped]
    for citation in items:
        assert cite_in_text(citation, items).endswith(")")


def one_line(text: str) -> str:
    """What an export keeps of a value: control characters and line breaks become spaces."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())


RIS_TYPES = {
    "book": "BOOK", "chapter": "CHAP", "article-journal": "JOUR", "article-magazine": "MGZN",
    "article-newspaper": "NEWS", "webpage": "ELEC", "post-weblog": "BLOG", "report": "RPRT",
    "paper-conference": "CONF", "entry-encyclopedia": "ENCYC",
}  # fmt: skip


def test_printable_ascii_titles_survive_every_style() -> None:
    title = string.printable.strip().replace("\n", " ")
    for style in CITATION_STYLES:
        assert format_reference(make(title=title), style)


# --- the post itself, and why each work is listed ---------------------------------------------

ROLE_OF = {
    "greenwald2013post": "self",
    "duncan2010": "cited",
    "norcross2010": "cited",
    "greenwald2013": "mentioned",
    "rogers1957": "mentioned",
}
KEYWORDS = {
    "self": "The post itself",
    "cited": "Cited by the post",
    "mentioned": "Named in the post or its comments",
    "background": "Further reading added by the moderators (not cited by the post)",
}


def expected_role(key: str) -> str:
    return ROLE_OF.get(key, "background")


def test_the_post_is_cited_as_a_blog_post_in_every_style(article: Article) -> None:
    post = cite(article, "greenwald2013post")
    assert format_reference(post, "apa") == (
        "Greenwald, R. (2013, August 6). Therapeutic relationship vs. treatment model. "
        "*Trauma Institute & Child Trauma Institute*. "
        "http://www.childtrauma.com/blog/therapeutic-relationship-vs-treatment-model/"
    )
    assert format_reference(post, "chicago") == (
        "Greenwald, Ricky. 2013. “Therapeutic Relationship vs. Treatment Model.” "
        "*Trauma Institute & Child Trauma Institute* (blog), August 6, 2013. "
        "http://www.childtrauma.com/blog/therapeutic-relationship-vs-treatment-model/."
    )
    assert format_reference(post, "mla").startswith(
        "Greenwald, Ricky. “Therapeutic Relationship vs. Treatment Model.” *Trauma Institute & Child Trauma "
        "Institute*, 6 Aug. 2013,"
    )


def test_one_authors_two_works_of_2013_take_letters_year_only_first(article: Article) -> None:
    apa = format_bibliography(article.citations, "apa")
    book = next(i for i, r in enumerate(apa) if r.startswith("Greenwald, R. (2013a). *Progressive counting"))
    post = next(i for i, r in enumerate(apa) if r.startswith("Greenwald, R. (2013b, August 6). Therapeutic"))
    assert book + 1 == post
    # A work dated by year alone precedes one with a month, whatever the titles (APA 9.47).
    undated = make(id="u", title="Zebra", author=[{"family": "Roe", "given": "Ann"}])
    dated = make(id="d", title="Apple", author=[{"family": "Roe", "given": "Ann"}],
                 issued={"date-parts": [[2020, 3, 1]]}, type="webpage", URL="https://example.org/a")
    assert format_bibliography([dated, undated], "apa")[0].startswith("Roe, A. (2020a). *Zebra*")
    assert format_bibliography([dated, undated], "chicago")[0].startswith("Roe, Ann. 2020a. “Apple.”")


def test_groups_are_in_order_and_keep_their_order_within() -> None:
    items = [("b1", "background"), ("c1", "cited"), ("m1", "mentioned"), ("c2", "cited"), ("s", "self")]
    grouped = by_role(items, lambda item: item[1])  # type: ignore[arg-type, return-value]
    assert [role for role, _ in grouped] == ["self", "cited", "mentioned", "background"]
    assert [name for _, group in grouped for name, _ in group] == ["s", "c1", "c2", "m1", "b1"]
    assert by_role([("c", "cited")], lambda item: item[1]) == [("cited", [("c", "cited")])]  # type: ignore[arg-type, return-value]
    assert ROLE_ORDER == ("self", "cited", "mentioned", "background")


def test_headings_and_keywords_name_the_post_or_the_article(article: Article) -> None:
    assert work_noun(article.citations) == "post"
    assert work_noun([make()]) == "article"
    assert role_heading("cited", "post") == "Cited by the post (its own references)"
    assert role_heading("mentioned", "post") == "Named in the post or its comments"
    assert role_heading("mentioned", "article") == "Named in the article"
    assert role_heading("background", "post") == "Further reading (added by the moderators, not cited by the post)"
    for role, keyword in KEYWORDS.items():
        assert role_keyword(role, "post") == keyword  # type: ignore[arg-type]
        assert "," not in keyword and ";" not in keyword  # reference managers split keywords there


def test_every_export_groups_the_entries_and_says_why_each_is_listed(article: Article) -> None:
    order = [expected_role(c.id) for c in article.citations]
    assert "background" in order and "self" in order

    entries, _ = parse_bibtex(export_references(article.citations, "bibtex", basename="x")[1])
    bib_roles = [expected_role(key) for key in entries]
    assert bib_roles == sorted(bib_roles, key=ROLE_ORDER.index)
    for key, entry in entries.items():
        assert entry.fields_dict["keywords"].value == KEYWORDS[expected_role(key)], key

    ris_text = export_references(article.citations, "ris", basename="x")[1].decode()
    titles = {c.title: c.id for c in article.citations}
    records = rispy.loads(ris_text)
    ris_roles = [expected_role(titles[r["title"]]) for r in records]
    assert ris_roles == sorted(ris_roles, key=ROLE_ORDER.index)
    for record in records:
        assert record["keywords"] == [KEYWORDS[expected_role(titles[record["title"]])]]
    assert "KW  - Cited by the post\r\n" in ris_text

    csl = json.loads(export_references(article.citations, "csljson", basename="x")[1])
    csl_roles = [expected_role(item["id"]) for item in csl]
    assert csl_roles == sorted(csl_roles, key=ROLE_ORDER.index)
    for item in csl:
        assert item["keyword"] == KEYWORDS[expected_role(item["id"])]


@pytest.mark.parametrize(("edition", "word"), [
    ("1", "First"), ("2", "Second"), ("3", "Third"), ("10", "Tenth"), ("11", "Eleventh"), ("12", "Twelfth"),
    ("20", "Twentieth"), ("21", "Twenty-first"), ("42", "Forty-second"), ("99", "Ninety-ninth"),
])  # fmt: skip
def test_bibtex_edition_is_an_ordinal_word(edition: str, word: str) -> None:
    entries, _ = parse_bibtex(export_references([make(edition=edition)], "bibtex", basename="x")[1])
    assert entries["x"].fields_dict["edition"].value == word


def test_an_edition_must_be_a_number_from_1() -> None:
    with pytest.raises(ValueError, match="edition"):
        make(edition="0")


def test_ris_puts_a_whole_books_editors_under_a3_and_a_chapters_under_a2(article: Article) -> None:
    book = export_references([cite(article, "duncan2010")], "ris", basename="x")[1].decode()
    assert "A3  - Duncan, Barry L.\r\n" in book and "A2  - " not in book
    chapter = export_references([cite(article, "norcross2010")], "ris", basename="x")[1].decode()
    assert "A2  - Duncan, Barry L.\r\n" in chapter and "A3  - " not in chapter
    assert "AU  - Norcross, John C.\r\n" in chapter


def test_export_intro_text_names_the_groups_and_fields(article: Article) -> None:
    bibtex = export_intro_text(article, "bibtex")
    assert bibtex.startswith("BibTeX file for *Therapeutic relationship vs. treatment model* (title unverified): ")
    assert ("the post itself, 2 works the post cites, 2 works named in the post or its comments and "
            "8 works of further reading added by the moderators (not cited by the post).") in bibtex
    assert "`keywords`" in bibtex and "`annote`" in bibtex
    assert "11 references" not in bibtex
    assert "`KW`" in export_intro_text(article, "ris") and "`N1`" in export_intro_text(article, "ris")
    csl = export_intro_text(article, " CSLJSON ")
    assert "`keyword`" in csl and "`custom.unverified`" in csl and csl.startswith("CSL-JSON file")
    with pytest.raises(UnknownFormatError):
        export_intro_text(article, "apa")
    assert all(len(export_intro_text(article, fmt)) < 2000 for fmt in EXPORT_FORMATS)


def test_export_intro_text_for_an_article_without_notes_or_groups() -> None:
    plain = Article.model_validate({
        "command": "plain", "title": "A plain article", "author": "A. Writer", "published": "2020-01-01",
        "url": "https://example.org/", "short_summary": "S.", "summary": "S.", "key_points": ["P."],
        "citations": [make(id="a").model_dump(by_alias=True, exclude_none=True)],
    })
    text = export_intro_text(plain, "ris")
    assert text.startswith("RIS file for *A plain article*: 1 work the article cites. Each entry's `KW` names")
    assert "unverified" not in text
    empty = plain.model_copy(update={"citations": []})
    assert export_intro_text(empty, "bibtex") == "BibTeX file for *A plain article*: it lists no references."


# --- APA 7 in-text citations -----------------------------------------------------------------


def test_in_text_one_two_and_three_or_more_authors(article: Article) -> None:
    cits = article.citations
    assert cite_in_text(cite(article, "norcross2010"), cits, narrative=True) == "Norcross (2010)"
    assert cite_in_text(cite(article, "norcross2010"), cits) == "(Norcross, 2010)"
    assert cite_in_text(cite(article, "wampoldimel2015"), cits, narrative=True) == "Wampold and Imel (2015)"
    assert cite_in_text(cite(article, "wampoldimel2015"), cits) == "(Wampold & Imel, 2015)"
    # Three or more authors (or editors) are "et al." from the first citation.
    assert cite_in_text(cite(article, "duncan2010"), cits, narrative=True) == "Duncan et al. (2010)"
    assert cite_in_text(cite(article, "fluckiger2018"), cits) == "(Flückiger et al., 2018)"


def test_in_text_letters_match_the_reference_list(article: Article) -> None:
    cits = article.citations
    assert cite_in_text(cite(article, "greenwald2013"), cits, narrative=True) == "Greenwald (2013a)"
    assert cite_in_text(cite(article, "greenwald2013post"), cits) == "(Greenwald, 2013b)"
    assert cite_in_text(cite(article, "greenwald2013post"), [cite(article, "greenwald2013post")]) == (
        "(Greenwald, 2013)"
    )


def test_in_text_names_enough_authors_to_tell_two_et_al_works_apart() -> None:
    names = [{"family": f, "given": "A."} for f in ("Kapoor", "Bloom", "Montez", "Warren")]
    one = make(id="a", author=names)
    two = make(id="b", author=[*names[:2], {"family": "Zhou", "given": "B."}])
    assert cite_in_text(one, [one, two]) == "(Kapoor, Bloom, Montez, et al., 2020)"
    assert cite_in_text(two, [one, two], narrative=True) == "Kapoor, Bloom, and Zhou (2020)"
    assert cite_in_text(one, [one]) == "(Kapoor et al., 2020)"


def test_in_text_first_authors_sharing_a_surname_get_initials() -> None:
    jerome = make(id="a", author=[{"family": "Frank", "given": "Jerome D."}])
    julia = make(id="b", author=[{"family": "Frank", "given": "Julia B."}], issued={"date-parts": [[1991]]})
    assert cite_in_text(jerome, [jerome, julia]) == "(J. D. Frank, 2020)"
    assert cite_in_text(julia, [jerome, julia], narrative=True) == "J. B. Frank (1991)"
    organisation = make(id="o", author=[{"literal": "World Health Organization"}])
    assert cite_in_text(organisation, [organisation], narrative=True) == "World Health Organization (2020)"


# --- a repeated name stands only for the entry above it in the same group ----------------------


def starts_with_a_name(reference: str) -> bool:
    return not reference.startswith(("———", "---")) and reference[:1].isalpha()


@pytest.mark.parametrize("style", list(CITATION_STYLES))
def test_the_first_entry_of_every_group_starts_with_a_name(article: Article, style: str) -> None:
    groups = by_role(bibliography_entries(article.citations, style), lambda entry: entry[0].role)
    assert [role for role, _ in groups] == list(ROLE_ORDER)
    for role, group in groups:
        assert starts_with_a_name(group[0][1]), (style, role, group[0][1])
    post = next(reference for c, reference in bibliography_entries(article.citations, style) if c.role == "self")
    assert post.startswith("Greenwald, R" if style == "apa" else "Greenwald, Ricky")


def test_a_dash_stands_for_the_entry_above_in_the_same_group_only() -> None:
    rogers = [{"family": "Rogers", "given": "Carl R."}]
    book = make(id="a", author=rogers, title="Anatomy of change", role="mentioned")
    paper = make(id="b", author=rogers, title="Becoming partners", role="self")
    third = make(id="c", author=rogers, title="Client-centered therapy", role="mentioned")
    mla = dict((c.id, reference) for c, reference in bibliography_entries([book, paper, third], "mla"))
    assert mla["a"].startswith("Rogers, Carl R. *Anatomy of Change*")
    assert mla["b"].startswith("Rogers, Carl R. *Becoming Partners*")  # directly below, but in another group
    assert mla["c"].startswith("---. *Client-Centered Therapy*")  # the same group's entry above is Rogers
    for style in ("apa", "chicago"):
        assert all(starts_with_a_name(r) for _, r in bibliography_entries([book, paper, third], style))


# --- the blog post in BibTeX, for biblatex, classic BibTeX and Zotero -----------------------------


def test_the_blog_post_is_online_with_its_month_for_every_reader(article: Article) -> None:
    from bibtexparser.middlewares import MonthIntMiddleware

    text = export_references([cite(article, "greenwald2013post")], "bibtex", basename="x")[1].decode()
    assert text.startswith("@online{greenwald2013post,")  # biblatex's type; Zotero's BibTeX import: Web Page
    assert "\tmonth = aug,\n" in text  # the bare macro, which classic styles print as "August"
    parsed = bibtexparser.parse_string(text, append_middleware=[MonthIntMiddleware()])
    assert not parsed.failed_blocks
    fields = parsed.entries[0].fields_dict
    assert fields["month"].value == 8 and fields["year"].value == "2013"
    assert fields["date"].value == "2013-08-06"  # biblatex reads the whole date
    assert fields["type"].value == "Blog post"  # Zotero: the Web Page's "Website Type"
    # Classic styles have no @online and print it as @misc: author, title, howpublished, month, year.
    assert fields["howpublished"].value == fields["organization"].value == (
        "Trauma Institute \\& Child Trauma Institute")
    assert "note" not in fields  # styles print `note`; the unverified title is said in `annote`
    assert "Title unverified" in fields["annote"].value


def test_every_dated_entry_keeps_its_month_as_a_macro() -> None:
    dated = make(type="article-magazine", issued={"date-parts": [[2020, 12]]}, **{"container-title": "M"})
    text = export_references([dated], "bibtex", basename="x")[1].decode()
    assert "\tmonth = dec,\n" in text and "date = {2020-12}" in text
    assert "month" not in export_references([make()], "bibtex", basename="x")[1].decode()


def test_no_csl_json_item_keeps_a_remark_in_note(article: Article) -> None:
    items = json.loads(export_references(article.citations, "csljson", basename="x")[1])
    assert all("note" not in item for item in items)
    remarks = {item["id"]: item["custom"]["unverified"] for item in items if "custom" in item}
    assert remarks == {c.id: c.note for c in article.citations if c.note}
