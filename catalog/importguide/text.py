"""The text of a guide page's markup: links as resource candidates, whitespace normalised.

Chrome links ("Print page", "Log in", "mailto:") are not resources; block elements and ``<br>``
break the text into lines, and sentence ends split it between the links of one block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bs4 import NavigableString, Tag

# Elements that hold one resource (or one run of them): the outermost of these around a link.
BLOCK_TAGS = frozenset({"p", "li", "dt", "dd", "tr", "blockquote", "figure"})
# Elements that start a new piece of text: a space goes between them.
_BREAK_TAGS = frozenset({
    "br", "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th", "table", "section",
    "article", "blockquote", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
})
_SKIP_HREF = re.compile(r"^\s*(?:#|mailto:|javascript:|tel:|data:|about:|sms:|callto:)",
                        re.IGNORECASE)
_SKIP_HREF_PARTS = ("libapps.com/libapps/login", "login.php")
_SKIP_LINK_TEXT = re.compile(
    r"^(?:print(?: page)?|log ?in(?: to libapps)?|sign in|skip to (?:main )?content"
    r"|report a problem\.?|more info(?:rmation)?|show description|(?:back to )?top)$",
    re.IGNORECASE,
)
# Where a sentence or a line ends: text from here on belongs to the next link's sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+|\n")
_WHITESPACE = re.compile(r"\s+")
# Punctuation that joins a name to its description: "Name – does this", "Name: does this".
LEAD_PUNCT = " \t-\u2010\u2011\u2012\u2013\u2014\u2015:;,.|"


def link_href(tag: Tag) -> str | None:
    href = tag.get("href")
    if not isinstance(href, str) or not href.strip() or _SKIP_HREF.match(href):
        return None
    if any(part in href.lower() for part in _SKIP_HREF_PARTS):
        return None
    return href.strip()


def events(node: Tag, *, nested_blocks: bool = True) -> Iterator[Tag | str]:
    """The text of `node` in order, with each resource link yielded whole (as the Tag).

    Whitespace in the markup becomes single spaces; block elements and ``<br>`` become line
    breaks. Chrome links ("Print page", "More info") are left out. With ``nested_blocks=False``
    the block elements inside `node` are left out too: they are blocks of their own.
    """
    for child in node.children:
        if isinstance(child, Tag):
            if child.name == "a":
                title = link_title(child)
                if not title:
                    continue
                if link_href(child) is not None:
                    yield child
                    continue
            elif not nested_blocks and child.name in BLOCK_TAGS:
                continue
            if child.name in _BREAK_TAGS:
                yield "\n"
            yield from events(child, nested_blocks=nested_blocks)
            if child.name in _BREAK_TAGS:
                yield "\n"
        elif isinstance(child, NavigableString):
            yield _WHITESPACE.sub(" ", str(child))


def link_title(link: Tag) -> str:
    """The name a link shows (its text, else its image's alt), or "" for a chrome link."""
    text = node_text(link)
    if not text:
        img = link.find("img", alt=True)
        text = clean(str(img["alt"])) if isinstance(img, Tag) else ""
    return "" if _SKIP_LINK_TEXT.match(text) else text


def node_text(node: Tag) -> str:
    """The normalised text of `node`, with spaces between block elements."""
    return clean("".join(e if isinstance(e, str) else node_text(e) for e in events(node)))


def clean(text: str) -> str:
    """Collapse whitespace (including no-break and zero-width spaces) to single spaces."""
    return " ".join(text.replace("\u200b", "").replace("\ufeff", "").split())


def split_at_last_sentence_end(text: str) -> tuple[str, str]:
    """(text up to and including its last sentence end, the rest); ("", text) if it has none."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return (text[: ends[-1]], text[ends[-1]:]) if ends else ("", text)


def has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)
