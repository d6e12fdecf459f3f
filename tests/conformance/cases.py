"""The conformance cases: every HTTP link case with a clear expected outcome in the test suites of
linkinator, lychee, LinkChecker, muffet and htmltest (read at the snapshots named in
docs/verdicts.md), plus the cases issue #12 states. Each keeps its peer, the file and test it
came from, the URL as a guide would write it, the server's script, and shelfcheck's verdict.

`expect` is a verdict key (checked exactly) or a verdict class (``ok``, ``failing``,
``unverifiable``) where the peers agree only on the class.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.conformance.server import OK, Answer, page

HTML = {"Content-Type": "text/html; charset=utf-8"}


@dataclass(frozen=True)
class Case:
    peer: str
    source: str
    case: str
    written: str                 # the link as written, relative to the server's base
    routes: dict[str, list[Answer]]
    expect: str
    final: str | None = None     # the final URL (relative) the check must report
    detail: str | None = None    # a text the check's detail must contain


def redirect(status: int, location: str, **headers: str) -> Answer:
    return Answer(status, {"Location": location, **headers})


def chain(prefix: str, hops: int) -> dict[str, list[Answer]]:
    routes = {f"{prefix}/{i}": [redirect(302, f"{prefix}/{i + 1}")] for i in range(hops)}
    routes[f"{prefix}/{hops}"] = [OK]
    return routes


LINKINATOR = "JustinBeckwith/linkinator"
LYCHEE = "lycheeverse/lychee"
LINKCHECKER = "linkchecker/linkchecker"
MUFFET = "raviqqe/muffet"
HTMLTEST = "wjdp/htmltest"
ISSUE = "shelfcheck issue #12"

CASES: list[Case] = [
    # --- status codes ---------------------------------------------------------------------
    Case(LINKINATOR, "test/test.index.ts: should report broken links", "404 is broken",
         "/l/404", {"/l/404": [Answer(404)]}, "not_found"),
    Case(MUFFET, "checked_http_client_test.go: TestCheckedHttpClientFailWithInvalidStatusCode",
         "404 is an error", "/m/404", {"/m/404": [Answer(404)]}, "not_found"),
    Case(LINKINATOR, "test/test.index.ts: should skip links with 999 status (bot-protected)",
         "999 is a bot wall, not broken", "/l/999", {"/l/999": [Answer(999)]}, "blocked"),
    Case(LINKINATOR, "test/test.index.ts: should skip Cloudflare bot protection (403 with "
         "cf-mitigated)", "403 + cf-mitigated is a bot wall", "/l/cf",
         {"/l/cf": [Answer(403, {"cf-mitigated": "challenge", "server": "cloudflare"})]},
         "blocked", detail="Cloudflare"),
    Case(LINKCHECKER, "tests/checker/test_http.py: test_status (status >= 400, != 429: error)",
         "400 is an error", "/c/400", {"/c/400": [Answer(400)]}, "client_error"),
    Case(LINKCHECKER, "tests/checker/test_http.py: test_status", "418 is an error", "/c/418",
         {"/c/418": [Answer(418)]}, "client_error"),
    Case(LINKCHECKER, "tests/checker/test_http.py: test_status", "405 to GET is an error",
         "/c/405", {"/c/405": [Answer(405)]}, "client_error"),
    Case(LINKCHECKER, "tests/checker/test_http.py: test_status", "500 is an error", "/c/500",
         {"/c/500": [Answer(500)]}, "server_error"),
    Case(LINKCHECKER, "tests/checker/test_http.py: test_status (429: warning, not error)",
         "429 is rate limited, not broken", "/c/429", {"/c/429": [Answer(429)]},
         "rate_limited"),
    Case(LINKCHECKER, "tests/checker/test_http.py: test_status (2xx valid)", "204 is valid",
         "/c/204", {"/c/204": [Answer(204)]}, "ok"),
    Case(HTMLTEST, "htmltest/check-link.go: StatusPartialContent is OK", "206 is valid",
         "/h/206", {"/h/206": [Answer(206, HTML, page("Part"))]}, "ok"),
    Case(LINKINATOR, "test/test.retry.ts: should retry 429s with second based header",
         "429 with Retry-After, then 200, is ok", "/l/429-then-ok",
         {"/l/429-then-ok": [Answer(429, {"Retry-After": "1"}), OK]}, "ok"),
    Case(LINKINATOR, "test/test.index.ts: should retry with a GET after a HEAD",
         "HEAD 405, GET 200 is ok", "/l/file.pdf",
         {"/l/file.pdf": [Answer(405), Answer(200, {"Content-Type": "application/pdf"})]},
         "ok"),
    Case(LINKINATOR, "test/test.index.ts: should attempt a GET request if a HEAD request fails",
         "HEAD 403, GET 200 is ok", "/l/report.pdf",
         {"/l/report.pdf": [Answer(403), Answer(200, {"Content-Type": "application/pdf"})]},
         "ok"),
    # --- redirects ------------------------------------------------------------------------
    Case(LINKINATOR, "test/test.redirects.ts: should follow 301 redirects and mark as OK",
         "301 followed", "/l/301", {"/l/301": [redirect(301, "/l/target")],
                                    "/l/target": [OK]}, "redirected", final="/l/target"),
    Case(LINKINATOR, "test/test.redirects.ts: should follow 302 redirects and mark as OK",
         "302 followed; the catalog URL is kept", "/l/302",
         {"/l/302": [redirect(302, "/l/target2")], "/l/target2": [OK]}, "ok",
         detail="temporary redirect"),
    Case(LINKINATOR, "test/test.redirects.ts: should follow 307 redirects and mark as OK",
         "307 followed; the catalog URL is kept", "/l/307",
         {"/l/307": [redirect(307, "/l/target3")], "/l/target3": [OK]}, "ok"),
    Case(LINKINATOR, "test/test.redirects.ts: should follow 308 redirects and mark as OK",
         "308 followed", "/l/308", {"/l/308": [redirect(308, "/l/target4")],
                                    "/l/target4": [OK]}, "redirected", final="/l/target4"),
    Case(LYCHEE, "lychee-lib/src/client.rs: test_redirects", "308 then 200 is ok, with the "
         "chain", "/y/308", {"/y/308": [redirect(308, "/y/ok")], "/y/ok": [OK]}, "redirected",
         final="/y/ok"),
    Case(ISSUE, "§1 redirects: 303 keeps the catalog URL", "303 followed; ok", "/i/303",
         {"/i/303": [redirect(303, "/i/see-other")], "/i/see-other": [OK]}, "ok"),
    Case(MUFFET, "redirect_http_client_test.go: TestRedirectHttpClientGetWithRedirect",
         "300 with Location back to the same URL once, then 200, is ok", "/m/bounce",
         {"/m/bounce": [redirect(300, "/m/bounce"), OK]}, "ok"),
    Case(MUFFET, "redirect_http_client_test.go: TestRedirectHttpClientGetWithRelativeRedirect",
         "300 with a relative Location is followed", "/m/300",
         {"/m/300": [redirect(300, "foo")], "/m/foo": [OK]}, "ok"),
    Case(ISSUE, "§1 redirects: a cookie bounce", "302 back to itself once, then 200, is ok",
         "/i/cookie", {"/i/cookie": [redirect(302, "/i/cookie", **{"Set-Cookie": "s=1"}), OK]},
         "ok"),
    Case(ISSUE, "§1 redirects: a loop is a URL repeated more than twice",
         "302 back to itself twice is a loop", "/i/bounce2",
         {"/i/bounce2": [redirect(302, "/i/bounce2"), redirect(302, "/i/bounce2"), OK]},
         "redirect_loop"),
    Case(LYCHEE, "lychee-lib/src/client.rs: test_max_redirects (308 to itself)",
         "an endless 308 to itself is an error", "/y/loop",
         {"/y/loop": [redirect(308, "/y/loop")]}, "redirect_loop"),
    Case(MUFFET, "redirect_http_client_test.go: TestRedirectHttpClientFailWithTooManyRedirects",
         "more redirects than the limit is an error", "/m/many/0", chain("/m/many", 11),
         "redirect_loop"),
    Case(LINKINATOR, "test/test.redirects.ts: allows exactly the fetch limit of 20 redirects",
         "exactly max_redirects (10) hops is ok", "/l/limit/0", chain("/l/limit", 10), "ok"),
    Case(LINKINATOR, "test/test.redirects.ts: fails redirect chains that exceed the fetch "
         "redirect limit", "a growing redirect chain is an error", "/l/grow/0",
         chain("/l/grow", 40), "redirect_loop"),
    Case(MUFFET, "redirect_http_client_test.go: TestRedirectHttpClientFailWithUnsetLocationHeader",
         "300 without Location is an error", "/m/no-location", {"/m/no-location": [Answer(300)]},
         "redirect_loop"),
    Case(MUFFET, "redirect_http_client_test.go: TestRedirectHttpClientFailWithInvalidLocationURL",
         "a Location that leads nowhere is an error", "/m/bad-location",
         {"/m/bad-location": [redirect(302, ":")]}, "failing"),
    Case(LINKCHECKER, "tests/checker/test_http_redirect.py: redirect1 (302 to a missing page)",
         "302 to a 404 is an error", "/c/redirect1",
         {"/c/redirect1": [redirect(302, "/c/newurl1")]}, "not_found"),
    Case(LINKCHECKER, "tests/checker/test_http_redirect.py: redirect4 (to ftp:)",
         "a redirect to a non-http scheme is an error", "/c/redirect_newscheme_ftp",
         {"/c/redirect_newscheme_ftp": [redirect(302, "ftp://example.com/")]}, "invalid_url"),
    Case(LINKCHECKER, "tests/checker/test_http_redirect.py: redirect5 (to file:)",
         "a redirect to file: is an error", "/c/redirect_newscheme_file",
         {"/c/redirect_newscheme_file": [redirect(302, "file:README")]}, "invalid_url"),
    # linkinator calls it broken; RFC 9309 (issue #17) makes a host whose robots.txt cannot be
    # fetched disallowed for the run, so the link is unverifiable (docs/verdicts.md §3).
    Case(LINKINATOR, "test/test.redirects.ts: reports a failed redirect target as broken",
         "302 to an unreachable host is not checked (robots.txt unreachable)", "/l/unreachable",
         {"/l/unreachable": [redirect(302, "http://127.0.0.1:1/unreachable")]},
         "robots_unreachable"),
    # --- the URL as written ---------------------------------------------------------------
    Case(HTMLTEST, "htmltest/check-link_test.go: TestAnchorExternalHrefUTF8",
         "a raw UTF-8 path is sent percent-encoded", "/h/2014/source-disclosed-≠-open-source/",
         {"/h/2014/source-disclosed-%E2%89%A0-open-source/": [OK]}, "ok"),
    Case(HTMLTEST, "htmltest/check-link_test.go: TestAnchorExternalHrefNonstandardChars",
         "percent-encoding kept as written", "/h/wiki/Coup_d%27%C3%A9tat",
         {"/h/wiki/Coup_d%27%C3%A9tat": [OK]}, "ok"),
    Case(HTMLTEST, "htmltest/check-link_test.go: TestLinkExternalHrefPipes",
         "a query with pipes and plus signs kept", "/h/css?family=Open+Sans:300|Noto+Serif:400",
         {"/h/css?family=Open+Sans:300|Noto+Serif:400": [OK],
          "/h/css?family=Open+Sans:300%7CNoto+Serif:400": [OK]}, "ok"),
    Case(HTMLTEST, "htmltest/check-link_test.go: TestAnchorExternalQueryStripQueryExcludesEmpty",
         "a server that needs its query string gets it", "/h/query?id=42",
         {"/h/query?id=42": [OK], "/h/query": [Answer(400)]}, "ok"),
    Case(ISSUE, "§1 request the URL as written: the query's order is kept",
         "query order kept", "/i/search?z=1&a=2",
         {"/i/search?z=1&a=2": [OK], "/i/search?a=2&z=1": [Answer(404)]}, "ok"),
    Case(ISSUE, "§1 request the URL as written: tracking parameters are kept",
         "utm_source kept", "/i/landing?utm_source=guide&id=7",
         {"/i/landing?utm_source=guide&id=7": [OK], "/i/landing?id=7": [Answer(404)]}, "ok"),
    Case(ISSUE, "§1 request the URL as written: the query's spelling is kept",
         "a space written as + stays +", "/i/find?q=cataloging+basics",
         {"/i/find?q=cataloging+basics": [OK], "/i/find?q=cataloging%20basics": [Answer(404)]},
         "ok"),
    # --- status classes and bot walls (issue #12 §1) --------------------------------------
    Case(ISSUE, "§1 status classes: 401", "401 is unverifiable", "/i/401",
         {"/i/401": [Answer(401, {"WWW-Authenticate": "Basic"})]}, "blocked"),
    Case(ISSUE, "§1 status classes: 407", "407 is unverifiable", "/i/407",
         {"/i/407": [Answer(407)]}, "blocked"),
    Case(ISSUE, "§1 status classes: 403", "403 is unverifiable", "/i/403",
         {"/i/403": [Answer(403)]}, "blocked"),
    Case(ISSUE, "§1 bot walls: Akamai", "Akamai's Access Denied is a named wall", "/i/akamai",
         {"/i/akamai": [Answer(403, {"Server": "AkamaiGHost", **HTML}, b"<html><head><title>"
                               b"Access Denied</title></head><body>You don't have permission"
                               b" to access this server.<p>Reference #18.6cd4d17.1733.2a3b"
                               b"</body></html>")]}, "blocked", detail="Akamai"),
    Case(ISSUE, "§1 bot walls: Imperva", "Imperva's incident page is a named wall", "/i/imperva",
         {"/i/imperva": [Answer(403, {"X-Iinfo": "12-3456-0 NNNN", **HTML},
                                b"<html><body>Request unsuccessful. Incapsula incident ID: "
                                b"1234</body></html>")]}, "blocked", detail="Imperva"),
    Case(ISSUE, "§1 bot walls: DataDome", "DataDome's captcha is a named wall", "/i/datadome",
         {"/i/datadome": [Answer(403, {"X-DataDome": "protected", **HTML},
                                 b"<html><script src='https://ct.captcha-delivery.com/c.js'>"
                                 b"</script></html>")]}, "blocked", detail="DataDome"),
    Case(ISSUE, "§1 bot walls: PerimeterX", "PerimeterX's press-and-hold is a named wall",
         "/i/perimeterx", {"/i/perimeterx": [Answer(403, HTML, b"<html><div id='px-captcha'>"
                                                    b"</div>Press &amp; Hold</html>")]},
         "blocked", detail="PerimeterX"),
    Case(ISSUE, "§1 bot walls: AWS WAF", "AWS WAF's challenge (405) is a named wall", "/i/aws",
         {"/i/aws": [Answer(405, {"x-amzn-waf-action": "captcha", **HTML}, b"<html></html>")]},
         "blocked", detail="AWS WAF"),
    Case(ISSUE, "§1 bot walls: Sucuri", "Sucuri's firewall page is a named wall", "/i/sucuri",
         {"/i/sucuri": [Answer(403, {"X-Sucuri-ID": "18003", "Server": "Sucuri/Cloudproxy",
                                     **HTML}, b"<title>Sucuri WebSite Firewall - Access "
                                              b"Denied</title>")]}, "blocked", detail="Sucuri"),
    Case(ISSUE, "§1 bot walls: Cloudflare without cf-mitigated",
         "Cloudflare's challenge page is a named wall", "/i/cloudflare",
         {"/i/cloudflare": [Answer(403, {"Server": "cloudflare", **HTML},
                                   b"<title>Just a moment...</title>")]},
         "blocked", detail="Cloudflare"),
    Case(ISSUE, "§1 bot walls: a plain 404 through Cloudflare", "is still a 404",
         "/i/cf-404", {"/i/cf-404": [Answer(404, {"Server": "cloudflare"})]}, "not_found"),
    # --- what a 200 says (issue #12 §2) ---------------------------------------------------
    Case(ISSUE, "§2 maintenance: a 503", "a 503 is unverifiable, not broken", "/i/503",
         {"/i/503": [Answer(503)]}, "maintenance"),
    Case(ISSUE, "§2 maintenance page", "a 200 maintenance page is unverifiable", "/i/maint",
         {"/i/maint": [Answer(200, HTML, b"<title>Down for maintenance</title><h1>We'll be "
                                         b"back soon</h1>")]}, "maintenance"),
    Case(ISSUE, "§2 login wall: redirect to sign-in", "302 to /login is login_required",
         "/i/members", {"/i/members": [redirect(302, "/user/login?destination=/i/members")],
                        "/user/login?destination=/i/members": [OK]}, "login_required"),
    Case(ISSUE, "§2 redirect to home", "301 to / is redirect_to_home, never a fix",
         "/i/courses/old-course", {"/i/courses/old-course": [redirect(301, "/")],
                                   "/": [OK]}, "redirect_to_home"),
    *[Case(ISSUE, "§2 redirect to a sink", f"one of three links sent to one catch-all page ({n})",
           f"/i/sink/{n}", {f"/i/sink/{n}": [redirect(301, "/i/all-courses")],
                            "/i/all-courses": [OK]}, "redirect_to_home",
           detail="other catalog links land too") for n in ("a", "b", "c")],
    *[Case(ISSUE, "§2 no sink when the target is in the guide",
           f"a link moved to a page the guide lists ({n})", f"/i/merged/{n}",
           {f"/i/merged/{n}": [redirect(301, "/i/merged-page")], "/i/merged-page": [OK]},
           "redirected") for n in ("a", "b", "c")],
    Case(ISSUE, "§2 no sink when the target is in the guide", "the page the others moved to",
         "/i/merged-page", {"/i/merged-page": [OK]}, "ok"),
    Case(ISSUE, "§2 parked domain", "a parking page is parked", "/i/parked",
         {"/i/parked": [Answer(200, HTML, b"<title>lssc-training.org</title><h1>lssc-training"
                                          b".org</h1><p>This domain may be for sale!</p><script"
                                          b" src='https://img.sedoparking.com/js/caf.js'>"
                                          b"</script>")]}, "parked"),
    Case(ISSUE, "§2 meta refresh stub", "an immediate meta refresh is a redirect to its target",
         "/i/stub", {"/i/stub": [Answer(200, HTML, b"<meta http-equiv='refresh' content='0; "
                                                   b"url=/i/new-home'><title>Moved</title>")],
                     "/i/new-home": [OK]}, "redirected", final="/i/new-home"),
    Case(ISSUE, "§2 soft-404 with &nbsp;", "Page&nbsp;not&nbsp;found is a soft 404",
         "/i/nbsp", {"/i/nbsp": [Answer(200, HTML, b"<title>Library</title><h1>Page&nbsp;not"
                                                   b"&nbsp;found</h1>")]}, "soft_404"),
    Case(ISSUE, "§2 soft-404 in Latin-1", "a declared iso-8859-1 page is decoded",
         "/i/latin1", {"/i/latin1": [Answer(200, {"Content-Type": "text/html; charset=iso-8859-1"},
                                            "<title>Página no encontrada</title>".encode(
                                                "latin-1"))]}, "soft_404"),
]
