"""Generate the labelled verdict corpus: pages composed from platform shells and wordings.

Deterministic (seeded). Each case keeps its platform and its split: ``tune`` cases use the tuning
platforms and the even entries of each wording list; ``holdout`` cases use the held-out
platforms and the odd entries, and were not looked at while the rules were tuned; ``hard`` cases
are working pages written after the rules, carrying a class's words where they must not decide.

Run ``python -m tests.corpus.verdicts.generate DIR`` to write the pages out for reading.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path

from tests.corpus.verdicts.platforms import HOLDOUT_PLATFORMS, SHELLS
from tests.corpus.verdicts.texts import (
    BANNERS,
    HARD_OK,
    LOGIN,
    MAINTENANCE,
    NOT_FOUND,
    PARKED,
    STUBS,
    TOPICS,
    TRICKY_SENTENCES,
)

LABELS = ("ok", "soft_404", "maintenance", "login_required", "parked", "drifted",
          "redirect_stub")
TUNE_PLATFORMS = sorted(set(SHELLS) - HOLDOUT_PLATFORMS)
HOLD_PLATFORMS = sorted(HOLDOUT_PLATFORMS)
SITES = ["ala.example.org", "libraryed.example.net", "infopeople.example.org",
         "stateassoc.example.us", "webjunction.example.org", "ccl.example.edu"]


@dataclass(frozen=True)
class Case:
    """One labelled page (or a baseline and a later page, for drift)."""

    id: str
    label: str
    split: str
    platform: str
    url: str
    body: bytes
    final_url: str = ""
    content_type: str = "text/html; charset=utf-8"
    baseline: bytes | None = None
    catalog_title: str | None = None


def _split(index: int) -> str:
    return "tune" if index % 2 == 0 else "holdout"


def _platform(rng: random.Random, split: str) -> str:
    return rng.choice(TUNE_PLATFORMS if split == "tune" else HOLD_PLATFORMS)


def _paras(sentences: list[str], rng: random.Random, extra: int = 0) -> str:
    chosen = list(sentences)
    for _ in range(extra):
        chosen.insert(rng.randrange(len(chosen) + 1), rng.choice(TRICKY_SENTENCES))
    return "".join(f"<p>{escape(s)}</p>" for s in chosen)


def _course_main(topic: tuple[str, str, list[str]], rng: random.Random, extra: int = 0,
                 order: list[int] | None = None) -> str:
    title, _slug, sentences = topic
    picked = [sentences[i] for i in (order or range(len(sentences)))]
    fee = rng.choice(["$45", "$120", "free for members", "$250 (members $200)"])
    return (_paras(picked, rng, extra)
            + f"<h2>Details</h2><ul><li>Format: online</li><li>Fee: {fee}</li>"
              f"<li>Contact: training@{rng.choice(SITES)}</li></ul>"
            + f"<p>Related: <a href='/training/{_slug}-2'>{escape(title)} II</a></p>")


def _doc(shell: str, site: str, title: str, main: str, noise: str = "") -> bytes:
    html = SHELLS[shell](site, title, main, noise)
    encoding = "iso-8859-1" if shell == "apache" else "utf-8"
    return html.encode(encoding, "xmlcharrefreplace")


def _ctype(shell: str) -> str:
    return "text/html; charset=iso-8859-1" if shell == "apache" else "text/html; charset=utf-8"


def _noise(rng: random.Random, n: int) -> str:
    picks = rng.sample(BANNERS, n)
    return "".join(b.format(date=f"{rng.choice(['March', 'July', 'Oct.'])} {rng.randint(1, 28)}, "
                                 f"{rng.randint(2024, 2027)}", count=rng.randint(100, 99999))
                   for b in picks)


def build() -> list[Case]:
    """Every case of the corpus."""
    rng = random.Random(12)
    cases: list[Case] = []

    def add(label: str, split: str, shell: str, url: str, body: bytes, **kw: object) -> None:
        cases.append(Case(f"{label}-{len(cases):03d}", label, split, shell, url, body,
                          **kw))  # type: ignore[arg-type]

    # ok pages: every topic on four platforms, some with tricky sentences deep in the text.
    for t, topic in enumerate(TOPICS):
        split = _split(t)
        for k in range(4):
            shell, site = _platform(rng, split), rng.choice(SITES)
            main = _course_main(topic, rng, extra=k % 3)
            url = f"https://{site}/training/{topic[1]}"
            add("ok", split, shell, url, _doc(shell, site, topic[0], main, _noise(rng, k % 2)),
                content_type=_ctype(shell))
    # not-found pages, in the platform's shell.
    for w, (_lang, heading, text) in enumerate(NOT_FOUND):
        split = _split(w)
        for _ in range(2):
            shell, site = _platform(rng, split), rng.choice(SITES)
            title = heading if rng.random() < 0.6 else rng.choice(["", site, "Training"])
            main = f"<h2>{escape(heading)}</h2><p>{escape(text)}</p>" if not title else \
                f"<p>{escape(text)}</p>"
            main += "<p><a href='/'>Home</a> · <a href='/search'>Search</a></p>"
            add("soft_404", split, shell, f"https://{site}/training/course-{rng.randint(1, 999)}",
                _doc(shell, site, title or heading, main), content_type=_ctype(shell))
    # redirected to the home page or a section root, and redirects that are fine.
    landings = [("/training/old-course", "/"), ("/events/2024/webinar", "/index.html"),
                ("/programs/lssc/apply", "/en/"), ("/courses/cataloging-101", "/courses/"),
                ("/guides/teens", "/home"), ("/a/b/c/page.html", "/default.aspx"),
                ("/training/webinars/archive", "/training"), ("/learn/course/123", "/")]
    fine = [("/training/old-course", "/learning/old-course"), ("/guide", "/guide/"),
            ("/guide", "/guide/index.html"), ("/events", "/events/calendar"),
            ("/courses/cat", "/courses/cat/overview"), ("/", "/en/")]
    for i, (src, dst) in enumerate(landings):
        shell, site = _platform(rng, _split(i)), rng.choice(SITES)
        add("soft_404", _split(i), shell, f"https://{site}{src}",
            _doc(shell, site, "Welcome", _course_main(rng.choice(TOPICS), rng)),
            final_url=f"https://{site}{dst}", content_type=_ctype(shell))
    for i, (src, dst) in enumerate(fine):
        shell, site = _platform(rng, _split(i)), rng.choice(SITES)
        topic = rng.choice(TOPICS)
        add("ok", _split(i), shell, f"http://{site}{src}",
            _doc(shell, site, topic[0], _course_main(topic, rng)),
            final_url=f"https://{site}{dst}", content_type=_ctype(shell))
    # maintenance: standalone pages and in the shell.
    for w, (heading, text) in enumerate(MAINTENANCE):
        split = _split(w)
        for k in range(2):
            shell, site = _platform(rng, split), rng.choice(SITES)
            main = f"<p>{escape(text)}</p>"
            if k == 0:
                body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(heading)}"
                        f"</title><style>body{{font-family:sans-serif}}</style></head><body>"
                        f"<div class='wrap'><h1>{escape(heading)}</h1>{main}</div></body></html>"
                        ).encode()
            else:
                body = _doc(shell, site, heading, main)
            add("maintenance", split, shell, f"https://{site}/training/{rng.choice(TOPICS)[1]}",
                body, content_type=_ctype(shell) if k else "text/html; charset=utf-8")
    # login walls: a sign-in form in place of the content, and redirects to sign-in pages.
    for w, (heading, user, pw, button, text) in enumerate(LOGIN):
        split = _split(w)
        for _ in range(2):
            shell, site = _platform(rng, split), rng.choice(SITES)
            form = (f"<form method='post' action='/login'><p>{escape(text)}</p>"
                    f"<label>{escape(user)} <input type='text' name='u'></label>"
                    f"<label>{escape(pw)} <input type='password' name='p'></label>"
                    f"<button type='submit'>{escape(button)}</button></form>")
            add("login_required", split, shell, f"https://{site}/members/{rng.choice(TOPICS)[1]}",
                _doc(shell, site, heading, form), content_type=_ctype(shell))
    logins = ["/login/index.php", "/user/login?destination=/node/12",
              "/idp/profile/SAML2/Redirect/SSO", "/cas/login?service=https%3A%2F%2Fx",
              "/wp-login.php?redirect_to=%2Fcourses",
              "/account/login?returnUrl=%2Ftraining"]
    for i, path in enumerate(logins):
        shell, site = _platform(rng, _split(i)), rng.choice(SITES)
        add("login_required", _split(i), shell, f"https://{site}/members/course-{i}",
            _doc(shell, site, "Welcome", "<p>Please use the form.</p>"),
            final_url=f"https://{site}{path}", content_type=_ctype(shell))
    # parked and for-sale domains.
    for w, (service, markup) in enumerate(PARKED):
        split = _split(w)
        for _ in range(2):
            domain = rng.choice(["lssc-training.org", "libstaffed.net", "catalogingcourse.com",
                                 "teen-services.info", "readersadvisory101.org"])
            body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{domain}</title>"
                    f"</head><body>{markup.format(domain=domain)}</body></html>").encode()
            add("parked", split, service, f"http://{domain}/", body)
    # redirect stubs.
    for w, (head, title, main) in enumerate(STUBS):
        split = _split(w)
        for _ in range(2):
            site = rng.choice(SITES)
            target = f"https://{site}/learning/{rng.choice(TOPICS)[1]}"
            body = (f"<html><head>{head.format(target=target)}<title>{title}</title></head>"
                    f"<body>{main.format(target=target)}</body></html>").encode()
            add("redirect_stub", split, "stub", f"https://{site}/training/old", body)
    _drift_pairs(rng, add)
    # Hard negatives (their own split): written after the rules, to test them.
    for i, (title, main, chrome) in enumerate(HARD_OK):
        for shell in (sorted(SHELLS)[i % len(SHELLS)], sorted(SHELLS)[(i + 5) % len(SHELLS)]):
            site = rng.choice(SITES)
            add("ok", "hard", shell, f"https://{site}/training/hard-{i}",
                _doc(shell, site, title, main, chrome), content_type=_ctype(shell))
    return cases


OTHER_CONTENT = [
    ("Spring Sale on Garden Furniture", [
     "Save on patio sets, umbrellas and loungers this week only.",
     "Free delivery on orders over fifty dollars, and easy returns within thirty days.",
     "Sign up for our newsletter and get a coupon for your next order."]),
    ("Our Programs", ["Explore all programs offered by the association this year.",
     "Use the filters to browse by topic, audience or format.",
     "Contact the education committee with questions about upcoming sessions."]),
    ("Best Online Casino Bonuses", ["Compare welcome bonuses and free spins from top casinos.",
     "Our reviews rate payout speed, game selection and customer support.",
     "Play responsibly. Eighteen or older only."]),
]


def _drift_pairs(rng: random.Random, add: object) -> None:
    add_case = add  # type: ignore[assignment]
    for t, topic in enumerate(TOPICS):
        split = _split(t)
        shell, site = _platform(rng, split), rng.choice(SITES)
        url = f"https://{site}/training/{topic[1]}"
        base = _doc(shell, site, topic[0], _course_main(topic, random.Random(t)))
        # Noise only: the same page with banners, dates, counters, reordering, one addition.
        for variant in range(3):
            r = random.Random(t * 10 + variant)
            order = list(range(len(topic[2])))
            if variant == 1:
                r.shuffle(order)
            extra = 1 if variant == 2 else 0
            later = _doc(shell, site, topic[0] + (" (updated)" if variant == 2 else ""),
                         _course_main(topic, random.Random(t), extra=extra, order=order),
                         _noise(r, 1 + variant % 2))
            add_case("ok", split, shell, url, later, baseline=base, catalog_title=topic[0],
                     content_type=_ctype(shell))
        # Drifted: the path now holds another topic, or something else entirely.
        other = TOPICS[(t + 5) % len(TOPICS)]
        later = _doc(shell, site, other[0], _course_main(other, rng), _noise(rng, 1))
        add_case("drifted", split, shell, url, later, baseline=base, catalog_title=topic[0],
                 content_type=_ctype(shell))
        title, sentences = OTHER_CONTENT[t % len(OTHER_CONTENT)]
        later = _doc(shell, site, title, _paras(sentences, rng), _noise(rng, 1))
        add_case("drifted", split, shell, url, later, baseline=base, catalog_title=topic[0],
                 content_type=_ctype(shell))


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "verdict-corpus")
    for case in build():
        folder = out / case.split / case.label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{case.id}-{case.platform}.html").write_bytes(case.body)
        if case.baseline is not None:
            (folder / f"{case.id}-{case.platform}.baseline.html").write_bytes(case.baseline)
    print(f"wrote {len(build())} cases to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
