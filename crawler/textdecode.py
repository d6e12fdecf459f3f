"""Decode a page as a browser would: BOM first, then the Content-Type header, then <meta>.

`decoded_text(response)` is what the soft-404 and content analysis read, so a UTF-16 or
Windows-1252 "page not found" is seen as such; `utf8_body` gives the same text as UTF-8 bytes
for the byte-based helpers of `crawler.linkanalysis`. Neither raises on any input.
"""

from __future__ import annotations

from scrapy.http import Response
from w3lib.encoding import html_to_unicode


def _decode(response: Response) -> tuple[str, str]:
    body = response.body or b""
    if not body:
        return "utf-8", ""
    ctype = response.headers.get(b"Content-Type")
    try:
        return html_to_unicode(ctype.decode("latin-1") if ctype else None, body)
    except Exception:  # an encoding name Python knows but cannot use
        return "utf-8", body.decode("utf-8", "replace")


def decoded_text(response: Response) -> str:
    """The response body as text, in its declared or sniffed encoding (UTF-8 by default)."""
    return _decode(response)[1]


def utf8_body(response: Response) -> bytes:
    """The body as UTF-8 bytes: as it is when it was UTF-8 (or ASCII), else re-encoded."""
    encoding, text = _decode(response)
    if encoding.replace("_", "-").lower() in ("utf-8", "ascii", "us-ascii"):
        return response.body or b""
    return text.encode("utf-8", "replace")
