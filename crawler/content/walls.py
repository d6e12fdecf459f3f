"""Bot walls: the anti-bot services that answer a checker instead of the page, by their marks.

A wall is recognised by a header the service sets, a cookie it drops, or the challenge page it
serves; the check is then unverifiable with the wall named, whatever the status code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Wall:
    """One bot-wall service and how to tell its answers."""

    name: str
    headers: tuple[str, ...] = ()   # headers set only on a challenge: decisive on their own
    header_values: tuple[tuple[str, str], ...] = ()  # (header, regex): the service served it
    body: re.Pattern[str] | None = None  # challenge-page marks
    # The refusals on which `header_values` alone name the wall (a 503 or 404 served through
    # the service is usually the origin's own answer, so there the body must show a challenge).
    statuses: tuple[int, ...] = (401, 403, 405, 429)


WALLS: tuple[Wall, ...] = (
    Wall("Cloudflare", headers=("cf-mitigated",),
         header_values=(("server", r"^cloudflare"),),
         body=re.compile(r"(just a moment\.\.\.|attention required! \| cloudflare|cf-chl-|"
                         r"challenge-platform|cf_chl_opt|/cdn-cgi/challenge-platform)", re.I)),
    Wall("Akamai", header_values=(("server", r"akamaighost"),),
         body=re.compile(r"(reference #\d+\.[0-9a-f]+\.\d+|errors\.edgesuite\.net|"
                         r"you don't have permission to access .* on this server\.\s*"
                         r"reference)", re.I | re.S)),
    Wall("Imperva", header_values=(("x-iinfo", r"."), ("x-cdn", r"imperva|incapsula")),
         body=re.compile(r"(incapsula incident id|_incapsula_resource|imperva)", re.I)),
    Wall("DataDome", header_values=(("x-datadome", r"."), ("x-datadome-cid", r"."),
                                    ("set-cookie", r"\bdatadome=")),
         body=re.compile(r"(captcha-delivery\.com|geo\.captcha-delivery|datadome)", re.I)),
    Wall("PerimeterX", header_values=(("set-cookie", r"\b_px(hd|vid|3)?="),),
         body=re.compile(r"(px-captcha|_pxappid|perimeterx|human challenge|press & hold)",
                         re.I)),
    Wall("AWS WAF", headers=("x-amzn-waf-action",),
         body=re.compile(r"(awswaf|aws-waf-token|awswafintegration|challenge\.js.*awswaf)",
                         re.I)),
    Wall("Sucuri", headers=("x-sucuri-block",),
         header_values=(("x-sucuri-id", r"."), ("server", r"sucuri|cloudproxy")),
         body=re.compile(r"(sucuri website firewall|cloudproxy\.sucuri|sucuri\.net/privacy)",
                         re.I)),
)


def bot_wall(status: int, header: Callable[[str], str | None], body_text: str) -> str | None:
    """The name of the bot wall that answered (status, headers, decoded body prefix), or None.

    `header(name)` returns a header's value (all values joined) or None.
    """
    for wall in WALLS:
        if any(header(name) is not None for name in wall.headers):
            return wall.name
        if status < 400:
            continue
        if status in wall.statuses and any(re.search(rx, header(name) or "", re.I)
                                           for name, rx in wall.header_values):
            return wall.name
        if wall.body is not None and wall.body.search(body_text[:20000]):
            return wall.name
    return None
