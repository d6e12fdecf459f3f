"""A small loopback web for the quiet-fortnight test: three providers' listing pages and the
pages the guide links to. `mode` switches each listing between working and its failure."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

from tests.loopback import PageHandler

LISTING = """<!DOCTYPE html><html><head><title>{name} courses</title></head><body>
<h1>{name}: self-paced courses</h1>
<ul class="courses">{items}</ul>
<p class="fees">Every course is free.</p>
</body></html>"""
REDESIGNED = """<!DOCTYPE html><html><head><title>{name} courses</title></head><body>
<h1>{name}: self-paced courses</h1>
<div class="course-cards">{cards}</div>
<p class="fees">Every course is free.</p>
</body></html>"""
PAGE = """<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>
<p>{text}</p></body></html>"""
COURSES = ("Cataloging Basics", "Reference Interview", "Library Budgets")


class QuietWeb(ThreadingHTTPServer):
    """`failing` answers 503 while `down`; `drifting` shows a redesign while `redesigned`."""

    def __init__(self) -> None:
        self.down = False
        self.redesigned = False
        self.requests = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> QuietWeb:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(PageHandler):
    server: QuietWeb

    def _page(self) -> tuple[int, str]:
        path = self.path.split("?")[0]
        slug = path.strip("/").split("/")[0]
        if path.endswith("/courses"):
            name = slug.capitalize()
            if slug == "failing" and self.server.down:
                return 503, PAGE.format(title="Service unavailable", text="Try again later.")
            if slug == "drifting" and self.server.redesigned:
                cards = "".join(f'<div class="card"><a href="/{slug}/c{i}">{t}</a></div>'
                                for i, t in enumerate(COURSES))
                return 200, REDESIGNED.format(name=name, cards=cards)
            items = "".join(f'<li><a href="/{slug}/c{i}">{t}</a></li>'
                            for i, t in enumerate(COURSES))
            return 200, LISTING.format(name=name, items=items)
        if path in ("/", "/robots.txt"):
            return 404, PAGE.format(title="Not found", text="Nothing here.")
        title = path.strip("/").replace("/", " ").title()
        return 200, PAGE.format(title=title, text=f"About {title}. " + "Text. " * 80)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        self.server.requests += 1
        status, page = self._page()
        return status, {"Content-Type": "text/html; charset=utf-8"}, page.encode("utf-8")


def catalog(base: str) -> str:
    """A catalog file for the web at `base`: three providers with recipes, one link each."""
    providers = []
    resources = []
    for slug in ("steady", "failing", "drifting"):
        providers.append(f"""  - slug: {slug}
    name: {slug.capitalize()} Academy
    home: {base}/{slug}/
    recipe:
      listing: {base}/{slug}/courses
      item: "ul.courses li"
      link: "a"
      format: self-paced
      schedule: self-paced
      timezone: America/Chicago
      fields:
        title: "a"
        fee: {{css: ".fees", from: page}}
""")
        resources.append(f"""      - title: {slug.capitalize()} Academy
        provider: {slug}
        url: {base}/{slug}/about
""")
    return ("schema: shelfcheck.catalogfile/1\nguide:\n  title: Quiet guide\nproviders:\n"
            + "".join(providers) + "sections:\n  - name: Training\n    resources:\n"
            + "".join(resources))
