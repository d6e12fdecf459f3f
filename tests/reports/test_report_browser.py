"""The HTML report in a real browser: headless Chromium (Debian's `chromium`) at 375 and 1280 px.

The report is put, unchanged, into the `srcdoc` of an iframe of the width under test (headless
Chromium's window is at least 500 px wide); a script of the harness page measures it on `load`
and writes its findings into the DOM, which `--dump-dom` prints. The report itself has no script.
Without a chromium the test is skipped, unless SHELFCHECK_REQUIRE_BROWSER=1 (CI sets it).
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from shelfcheck.config import load_settings
from shelfcheck.reports.firstscreen import HEADLINE
from shelfcheck.reports.write import write_report
from tests.report_state import at, load_state, read_state

GOLDEN = Path(__file__).parents[1] / "golden" / "report"
WIDTHS = (375, 1280)
LONG_URL = ("https://www.example.org/continuing-education/archive/"
            + "AVeryLongPathSegmentWithoutAnyPlaceToBreakIt" * 4
            + "?utm_source=guide&session=0123456789abcdef0123456789abcdef")

MEASURE = """
window.addEventListener("load", function () {
  var frame = document.getElementById("report"), d = frame.contentDocument;
  var root = d.documentElement, width = root.clientWidth, wide = [];
  d.querySelectorAll("body *").forEach(function (e) {
    var box = e.getBoundingClientRect();
    if (box.right > width + 1 && wide.length < 5) {
      wide.push(e.tagName + ": " + e.textContent.slice(0, 80));
    }
  });
  var missing = [], counts = {}, top = {};
  d.querySelectorAll('a[href^="#"]').forEach(function (a) {
    var id = decodeURIComponent(a.getAttribute("href").slice(1));
    if (!d.getElementById(id)) { missing.push(id); }
  });
  d.querySelectorAll("[data-count]").forEach(function (e) {
    counts[e.getAttribute("data-count")] = Number(e.textContent);
  });
  ["inconclusive", "headline", "fix-first", "summary"].forEach(function (id) {
    var e = d.getElementById(id);
    top[id] = e ? e.getBoundingClientRect().top : null;
  });
  var out = document.createElement("pre");
  out.id = "results";
  out.textContent = JSON.stringify({viewport: d.defaultView.innerWidth, client: width,
    scroll: root.scrollWidth, wide: wide, missing: missing, counts: counts, top: top,
    text: d.body.innerText.slice(0, 600)});
  document.body.appendChild(out);
});
"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("SHELFCHECK_REQUIRE_BROWSER") == "1":
        pytest.fail("chromium is required (SHELFCHECK_REQUIRE_BROWSER=1) but not installed")
    pytest.skip("no chromium on this machine (apt-get install chromium)")


def measure(report_html: str, width: int, tmp_path: Path) -> dict[str, Any]:
    """Render `report_html` `width` px wide in headless Chromium; what the harness measured."""
    harness = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">'
        f'<iframe id="report" style="border:0;width:{width}px;height:4000px" '
        f'srcdoc="{html.escape(report_html, quote=True)}"></iframe>'
        f"<script>{MEASURE}</script></body></html>")
    page = tmp_path / f"harness-{width}.html"
    page.write_text(harness, encoding="utf-8")
    result = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1400,1000", "--virtual-time-budget=5000", "--dump-dom",
         page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="results">(.*?)</pre>', result.stdout, re.S)
    assert found, f"no results from chromium (exit {result.returncode}): {result.stderr[-2000:]}"
    return dict(json.loads(html.unescape(found.group(1))))


def week_with_a_long_url() -> dict[str, Any]:
    state = copy.deepcopy(read_state(GOLDEN / "week.yaml"))
    state["sections"][0]["resources"].append(
        {"title": "A resource whose address never ends", "provider": "ala", "url": LONG_URL})
    state["links"].append({"url": LONG_URL, "state": "broken", "verdict": "not_found",
                           "http_status": 404, "since": "2027-01-02T02:03:00+00:00",
                           "last_checked": "2027-01-02T02:03:00+00:00"})
    return state


@pytest.mark.parametrize("case", ["week", "inconclusive"])
def test_the_html_report_in_a_real_browser(case: str, engine: Engine, tmp_path: Path) -> None:
    state = week_with_a_long_url()
    if case == "inconclusive":  # every link check of the period failed to tell
        state["runs"] = [dict(r, outcome="inconclusive") if r["kind"] == "links" else r
                         for r in state["runs"]]
    load_state(engine, state)
    settings = load_settings(environ={}, cwd=tmp_path)
    out = tmp_path / "out"
    write_report(engine, settings, formats=["html", "json"], out_dir=out, now=at(state["now"]))
    summary = json.loads((out / "latest.json").read_text())["summary"]
    expected = {key: summary[key] for key, *_ in HEADLINE if summary[key]}
    assert expected["broken"] == 3  # the long URL is one of them
    report_html = (out / "latest.html").read_text(encoding="utf-8")
    assert "<script" not in report_html

    for width in WIDTHS:
        seen = measure(report_html, width, tmp_path)
        assert seen["viewport"] == width
        assert seen["scroll"] <= seen["client"], (
            f"{width} px: horizontal overflow {seen['scroll']} > {seen['client']}: {seen['wide']}")
        assert seen["wide"] == [], f"{width} px: elements past the right edge: {seen['wide']}"
        assert seen["missing"] == [], f"{width} px: in-page links without a target"
        assert seen["counts"] == expected, f"{width} px: headline counts differ from the JSON"
        top = seen["top"]
        assert top["headline"] < top["fix-first"] < top["summary"]
        if case == "inconclusive":
            assert top["inconclusive"] is not None and top["inconclusive"] < top["headline"]
            assert "Inconclusive: nothing could be checked in this period" in seen["text"]
        else:
            assert top["inconclusive"] is None
            assert "Needs attention:" in seen["text"] and "0 " not in seen["text"].split(
                "Fix these first")[0].split("Needs attention:")[1]
