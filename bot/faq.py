"""Finding an FAQ from what a member typed: a number, or words matched fuzzily (rapidfuzz).

Words are matched against each question and its ``aliases``, the other ways members ask it
("how do I reference the blog" for "How do I cite this post?"); an FAQ scores its best match.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from bot.article import Article

#: A best match scoring at least this is answered directly; below it we offer "did you mean".
CONFIDENT_SCORE = 72.0
AUTOCOMPLETE_LIMIT = 25


@dataclass(frozen=True, slots=True)
class FaqLookup:
    """``number`` (1-based) when found; otherwise ``out_of_range`` for a number that names no FAQ,
    or ``suggestions`` listing (number, question) for words that matched only weakly."""

    number: int | None
    suggestions: tuple[tuple[int, str], ...] = ()
    out_of_range: bool = False


def _ranked(article: Article, query: str, limit: int) -> list[tuple[int, float]]:
    """The best-scoring FAQs, best first, each once (by its question or its best alias)."""
    owners = [n for n, faq in enumerate(article.faqs, start=1) for _ in (faq.question, *faq.aliases)]
    texts = [text for faq in article.faqs for text in (faq.question, *faq.aliases)]
    results = process.extract(query, texts, scorer=fuzz.WRatio, processor=utils.default_process, limit=None)
    best: dict[int, float] = {}
    for _, score, index in results:  # best first, so an FAQ's first hit is its best
        best.setdefault(owners[index], score)
    return list(best.items())[:limit]


def _is_number(text: str) -> bool:
    """ASCII digits only: ``"¹".isdigit()`` is true, but ``int("¹")`` fails."""
    return text.isascii() and text.isdigit()


def find_faq(article: Article, query: str) -> FaqLookup:
    """``query`` is a number ("3", "#3") or words; an out-of-range number finds nothing."""
    text = query.strip().lstrip("#").strip()
    if _is_number(text) and len(text) > 6:  # no article has a million FAQs (and int() caps long digit strings)
        return FaqLookup(None, out_of_range=True)
    if _is_number(text):
        number = int(text)
        if 1 <= number <= len(article.faqs):
            return FaqLookup(number)
        return FaqLookup(None, out_of_range=True)
    if not article.faqs or not utils.default_process(text):
        return FaqLookup(None)
    ranked = _ranked(article, text, 3)
    best, score = ranked[0]
    if score >= CONFIDENT_SCORE and (len(ranked) == 1 or score - ranked[1][1] >= 2 or score >= 90):
        return FaqLookup(best)
    return FaqLookup(None, tuple((n, article.faqs[n - 1].question) for n, _ in ranked))


def autocomplete_faqs(article: Article, current: str) -> list[tuple[str, str]]:
    """(name, value) pairs for slash autocomplete: the best matches, or the first 25 questions."""
    if not utils.default_process(current):
        numbered = list(enumerate(article.faqs, start=1))[:AUTOCOMPLETE_LIMIT]
    else:
        numbered = [(n, article.faqs[n - 1]) for n, _ in _ranked(article, current, AUTOCOMPLETE_LIMIT)]
    return [(faq.question[:100], str(n)) for n, faq in numbered]
