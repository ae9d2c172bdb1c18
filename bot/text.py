"""What members type, judged the way Discord shows it: visible or not, storable or not, and how long.

Pure functions, no Discord objects, so every rule here is property-tested over all of Unicode
(tests/test_hostile_text.py).

**Length.** Discord counts a message's or a text input's length in Unicode code points, which is
Python's ``len``: its API is written in Python 3 ("the API calculates length based on the number
of codepoints in the string", a Discord engineer in discord/discord-api-docs#1315). So an emoji
such as 😀 counts 1, a flag (two regional indicators) 2, and a family emoji joined with
zero-width joiners one per code point. :func:`discord_length` is that count, named so call sites
say what they mean.

**Invisible.** A character is invisible when Unicode marks it *Default_Ignorable_Code_Point*
(zero-width spaces and joiners, word joiner, byte-order mark, bidi controls, Hangul fillers,
variation selectors, tag characters; the list below is DerivedCoreProperties.txt of Unicode 15.1),
when it is a control, format, surrogate, separator or space character, or one of a few symbols
that render blank (the braille blank). Combining marks are visible only on a base character.

**Refused outright** in a take: lone surrogates (half of an emoji's UTF-16 pair, which no database
or file can hold as text) and control characters other than tab, line feed and carriage return
(NUL included). They are refused, not stripped, so what the bot stores is always exactly what the
member wrote, and the member is told which character is the problem.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right

#: Unicode 15.1 DerivedCoreProperties.txt, Default_Ignorable_Code_Point, as inclusive ranges.
DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
_DI_STARTS = [start for start, _ in DEFAULT_IGNORABLE]

#: Printable characters that nonetheless render as blank space.
BLANK_SYMBOLS = frozenset({
    "\u2800",  # BRAILLE PATTERN BLANK, the classic "invisible name"
    "\u3164", "\u115f", "\u1160", "\uffa0",  # Hangul fillers (also default-ignorable)
    "\U0001d159",  # MUSICAL SYMBOL NULL NOTEHEAD
})

#: Control characters a take may contain: they are how text is laid out.
LAYOUT_CONTROLS = frozenset({"\t", "\n", "\r"})

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
_MARK_CATEGORIES = frozenset({"Mn", "Me"})


def discord_length(text: str) -> int:
    """The length Discord checks against its limits (code points; see the module docstring)."""
    return len(text)


def is_default_ignorable(char: str) -> bool:
    code = ord(char)
    index = bisect_right(_DI_STARTS, code) - 1
    return index >= 0 and code <= DEFAULT_IGNORABLE[index][1]


def is_invisible(char: str) -> bool:
    """True for a character that shows nothing on its own (see the module docstring)."""
    return (char in BLANK_SYMBOLS or is_default_ignorable(char)
            or unicodedata.category(char) in _INVISIBLE_CATEGORIES)


def is_visible_base(char: str) -> bool:
    """A character that shows something by itself: not invisible and not a combining mark."""
    return not is_invisible(char) and unicodedata.category(char) not in _MARK_CATEGORIES


def has_visible_content(text: str) -> bool:
    """Whether a reader would see anything at all (not only spaces, zero-width or filler characters)."""
    return any(is_visible_base(char) for char in text)


def is_lone_surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDFFF


def describe_char(char: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: how to name a character a member cannot see."""
    name = unicodedata.name(char, "")
    if not name and is_lone_surrogate(char):
        name = "half of a surrogate pair"
    elif not name and unicodedata.category(char) == "Cc":
        name = "control character"
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def first_unstorable(text: str) -> tuple[int, str] | None:
    """The first character a take may not contain (a lone surrogate, or a control character other
    than tab and line breaks), with its 1-based position; ``None`` when all are fine."""
    for position, char in enumerate(text, start=1):
        if is_lone_surrogate(char):
            return position, char
        if char not in LAYOUT_CONTROLS and unicodedata.category(char) == "Cc":
            return position, char
    return None


def unstorable_problem(text: str) -> str | None:
    """What is wrong with the text, for the member, or ``None`` when it can be stored exactly."""
    found = first_unstorable(text)
    if found is None:
        return None
    position, char = found
    if is_lone_surrogate(char):
        return (f"Character {position} of your text is broken ({describe_char(char)}, usually half of an emoji "
                "that was cut or pasted badly), so it cannot be stored. Remove or retype it and send again.")
    return (f"Character {position} of your text is an invisible control character ({describe_char(char)}), "
            "which cannot be kept as written. Remove it and send again.")


def printable(text: str) -> str:
    """The text with any lone surrogate replaced by U+FFFD, so it can always be encoded (names and
    drafts handed back; a take itself is refused instead, see :func:`unstorable_problem`)."""
    if not any(is_lone_surrogate(c) for c in text):
        return text
    return "".join("\ufffd" if is_lone_surrogate(c) else c for c in text)


def first_invisible(text: str) -> str | None:
    """The first character of ``text`` that no one can see or type (for settings such as the prefix)."""
    for char in text:
        if is_invisible(char):
            return char
    return None
