"""Articles as data: the schema of a ``data/*.toml`` file and its loader.

Moderators edit these files, so every rule lives in the schema (pydantic) and a bad file is
reported as ``file: field: what is wrong`` instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.text import describe_char, first_unstorable, has_visible_content

#: Subcommand names the bot uses under every article group; an article command may not shadow
#: a top-level command either.
RESERVED_COMMANDS = frozenset({"help", "sync", "articles"})
#: An article's moderator commands live in ``/<command>-mod`` (see :attr:`Article.moderator_command`).
MODERATOR_SUFFIX = "-mod"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
#: 28 characters, so the moderator group ``<command>-mod`` fits Discord's 32.
CommandName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,28}$")]
CitationKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CSLName(Strict):
    """A CSL-JSON name: a person (family, given) or an organisation (literal)."""

    family: ShortText | None = None
    given: ShortText | None = None
    literal: ShortText | None = None

    @model_validator(mode="after")
    def _one_form(self) -> CSLName:
        if not (self.family or self.literal):
            raise ValueError("a name needs 'family' (a person) or 'literal' (an organisation)")
        return self


class CSLDate(Strict):
    date_parts: list[list[int]] = Field(alias="date-parts", min_length=1, max_length=2)

    @field_validator("date_parts")
    @classmethod
    def _parts(cls, value: list[list[int]]) -> list[list[int]]:
        for part in value:
            if not 1 <= len(part) <= 3 or not 1000 <= part[0] <= 2999:
                raise ValueError("date-parts are [[year], [year, month] or [year, month, day]]")
            try:
                dt.date(part[0], part[1] if len(part) > 1 else 1, part[2] if len(part) > 2 else 1)
            except ValueError as exc:
                raise ValueError(f"{part} is not a real date ({exc})") from None
        return value

    @property
    def year(self) -> int:
        return self.date_parts[0][0]


#: The kinds of work an article's discussion cites; each has a tested pattern in every style.
CSLType = Literal[
    "book", "chapter", "article-journal", "article-magazine", "article-newspaper", "webpage",
    "post-weblog", "report", "paper-conference", "entry-encyclopedia",
]
#: Why a work is in an article's list: the article itself (so members can cite it), in the
#: article's own reference list, named in the article or its comments without a reference, or
#: further reading the moderators added. Members see the groups in this order.
Role = Literal["self", "cited", "mentioned", "background"]


class Citation(Strict):
    """A reference in CSL-JSON, the interchange format of Zotero, Pandoc and citeproc.

    Only the fields our formats use are allowed, so a typo in a field name is an error rather
    than a silently missing detail. ``note`` says which details are unverified.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: CitationKey
    type: CSLType
    title: Text
    author: list[CSLName] = Field(default_factory=list)
    editor: list[CSLName] = Field(default_factory=list)
    issued: CSLDate
    container_title: ShortText | None = Field(default=None, alias="container-title")
    collection_title: ShortText | None = Field(default=None, alias="collection-title")
    publisher: ShortText | None = None
    publisher_place: ShortText | None = Field(default=None, alias="publisher-place")
    edition: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]?$")] | None = None
    volume: ShortText | None = None
    issue: ShortText | None = None
    page: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]+([-–][0-9A-Za-z]+)?$")] | None = None
    DOI: Annotated[str, StringConstraints(pattern=r"^10\.\d{4,9}/\S+$")] | None = None
    ISBN: Annotated[str, StringConstraints(pattern=r"^(97[89]-?)?[0-9][0-9-]{8,15}[0-9Xx]$")] | None = None
    URL: AnyHttpUrl | None = None
    note: Text | None = None
    role: Role = "cited"

    @model_validator(mode="after")
    def _creators(self) -> Citation:
        if not self.author and not self.editor:
            raise ValueError("a citation needs at least one author or editor")
        if self.type == "chapter" and not self.container_title:
            raise ValueError("a chapter needs 'container-title' (the book it is in)")
        return self

    def csl_json(self) -> dict[str, Any]:
        """The CSL-JSON item, without our own ``role`` field."""
        data = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        data.pop("role", None)
        for key in ("author", "editor"):
            if not data.get(key):
                data.pop(key, None)
        return data


Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=100)]


class FAQ(Strict):
    #: Autocomplete choices are at most 100 characters, so a question is too.
    question: Question
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3500)]
    sources: list[CitationKey] = Field(default_factory=list)
    #: Other ways members ask the question; the FAQ search matches them too (never shown).
    aliases: list[Question] = Field(default_factory=list, max_length=10)


class Article(Strict):
    schema_version: Literal[1] = 1
    command: CommandName
    title: ShortText
    title_note: Text | None = None
    author: ShortText
    published: dt.date
    url: AnyHttpUrl
    #: One or two sentences for the overview card.
    short_summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3500)]
    #: What the comments under the article added, kept apart from what the article itself says.
    comments_summary: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1500)] | None
    ) = None
    key_points: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]] = (
        Field(min_length=1, max_length=25)
    )
    discussion_questions: list[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    ] = Field(default_factory=list, max_length=25)
    citations: list[Citation] = Field(default_factory=list)
    #: The FAQ picker shows five selects of 25 questions at most.
    faqs: list[FAQ] = Field(default_factory=list, max_length=125)

    @field_validator("command")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_COMMANDS:
            raise ValueError(f"'{value}' is reserved by the bot; choose another command name")
        if value.endswith(MODERATOR_SUFFIX):
            raise ValueError(f"'{value}' ends in '{MODERATOR_SUFFIX}', which names an article's moderator "
                             "commands; choose another command name")
        return value

    @property
    def moderator_command(self) -> str:
        """The top-level group of this article's moderator commands (Discord hides only top-level ones)."""
        return self.command + MODERATOR_SUFFIX

    @model_validator(mode="after")
    def _references(self) -> Article:
        keys = [c.id for c in self.citations]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"citations: ids must be unique; repeated: {', '.join(duplicates)}")
        selves = [c.id for c in self.citations if c.role == "self"]
        if len(selves) > 1:
            raise ValueError(f"citations: only one citation can be the article itself (role 'self'); "
                             f"found {', '.join(selves)}")
        known = set(keys)
        for number, faq in enumerate(self.faqs, start=1):
            missing = [s for s in faq.sources if s not in known]
            if missing:
                raise ValueError(f"faqs[{number}].sources: unknown citation id(s): {', '.join(missing)}")
        questions = [normalise(f.question) for f in self.faqs]
        if len(set(questions)) != len(questions):
            raise ValueError("faqs: two FAQs ask the same question")
        return self

    def citation(self, key: str) -> Citation:
        for citation in self.citations:
            if citation.id == key:
                return citation
        raise KeyError(key)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


class ArticleError(ValueError):
    """A data file could not be read or is invalid. ``str()`` is the one-line report."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path.name}: " + "; ".join(problems))


def _location(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{_shown(part)}" if out else _shown(part)
    return out or "(file)"


def parse_article(data: dict[str, Any], path: Path) -> Article:
    try:
        return Article.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            # Checks across fields (model validators) name their field at the start of the message.
            problems.append(f"{_location(error['loc'])}: {message}" if error["loc"] else message)
        raise ArticleError(path, problems) from None


#: An article is a few dozen kilobytes; anything this large is a mistake (or hostile), refused unread.
MAX_FILE_BYTES = 1024 * 1024
#: The schema nests six levels (citations → item → issued → date-parts → part → year); deeper is refused.
MAX_DEPTH = 12
#: How many content problems one report lists.
MAX_REPORTED = 5
#: Text that would ping (were pings not disabled) or read as a mention of someone: no article needs it.
MENTION = re.compile(r"(?<![\w@.])@(?:everyone|here)\b|<@[!&]?\d+>", re.IGNORECASE)
#: Bidi overrides, embeddings and isolates reorder what a reader sees ("Trojan Source").
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _shown(text: str) -> str:
    """A key or value as it can be printed on one line."""
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


def _text_problem(text: str) -> str | None:
    if (mention := MENTION.search(text)) is not None:
        return f"contains a mention ({_shown(mention[0])}); write the name without @ or <@…>"
    if (bidi := BIDI_CONTROLS.search(text)) is not None:
        return f"contains a bidi control character ({describe_char(bidi[0])}), which reorders what readers see"
    found = first_unstorable(text)
    if found is not None:
        return f"character {found[0]} is a control character ({describe_char(found[1])})"
    if text and not has_visible_content(text):
        return "is only invisible characters"
    return None


def content_problems(data: Any) -> list[str]:
    """What no article may contain, wherever it is: nesting deeper than the schema, mentions, bidi
    controls, control characters, invisible-only text. Walked without recursion, so any input is safe."""
    problems: list[str] = []
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        if len(loc) > MAX_DEPTH:
            problems.append(f"{_location(loc[:MAX_DEPTH])}: nested more than {MAX_DEPTH} levels deep")
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if (problem := _text_problem(key)) is not None:
                    problems.append(f"{_location(loc) + ': ' if loc else ''}the key '{_shown(key)}' {problem}")
                stack.append((item, (*loc, key)))
        elif isinstance(value, list):
            stack.extend((item, (*loc, index)) for index, item in enumerate(value))
        elif isinstance(value, str) and (problem := _text_problem(value)) is not None:
            problems.append(f"{_location(loc)}: {problem}")
    return sorted(set(problems))


def load_article(path: Path) -> Article:
    """One file, read and validated; any problem is an :class:`ArticleError` with one line to show."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ArticleError(path, [f"the file is {size:,} bytes; an article file is at most "
                                      f"{MAX_FILE_BYTES // 1024:,} KiB"])
        # utf-8-sig: a byte-order mark (as Windows editors save) is accepted and dropped.
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ArticleError(path, [f"cannot read the file ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError:
        raise ArticleError(path, ["the file is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ArticleError(path, [f"not valid TOML ({exc})"]) from None
    except RecursionError:
        raise ArticleError(path, ["not valid TOML (arrays or tables nested far too deeply)"]) from None
    problems = content_problems(data)
    if problems:
        more = len(problems) - MAX_REPORTED
        raise ArticleError(path, problems[:MAX_REPORTED] + ([f"and {more} more"] if more > 0 else []))
    return parse_article(data, path)


def load_articles(data_dir: Path) -> list[Article]:
    """Every ``*.toml`` in the folder, sorted by file name; two files may not share a command."""
    if not data_dir.is_dir():
        raise ArticleError(data_dir, ["the data folder does not exist"])
    articles: list[Article] = []
    seen: dict[str, Path] = {}
    for path in sorted(data_dir.glob("*.toml")):
        article = load_article(path)
        if article.command in seen:
            raise ArticleError(path, [f"command: '{article.command}' is already used by {seen[article.command].name}"])
        seen[article.command] = path
        articles.append(article)
    if not articles:
        raise ArticleError(data_dir, ["no article files (*.toml) found"])
    return articles
