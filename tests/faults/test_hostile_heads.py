"""What is not a body (issue #17): header floods, odd status lines and headers, stalls, robots.txt
per RFC 9309, a HEAD that hangs, a UTF-16 "not found", and a tarpit next to 20 healthy hosts.

One `check-links` run over the raw-socket web of `tests.faults.rawserver` must give each link
its verdict, keep its memory bounded, end the tarpit at its deadline and serve the healthy
hosts in their normal time. Figures go to docs/reliability.md (SHELFCHECK_FAULT_REPORT).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shelfcheck.catalog.verdicts import FAILING, UNVERIFIABLE
from tests.faults.world import FAST, clean_env, measure, query, run, shelfcheck_cmd, write_catalog
from tests.loopback import JsonReadyServer

HEALTHY_HOSTS = 20
DEADLINE = 6.0
MEMORY_LIMIT_MB = 300
PROMPT_SECONDS = 3.0  # the healthy hosts are done this soon after the run's first request


class RawWeb(JsonReadyServer):
    """`python -m tests.faults.rawserver` in a child process."""

    module = "tests.faults.rawserver"

    def __init__(self, folder: Path) -> None:
        super().__init__("--dir", str(folder), "--healthy", str(HEALTHY_HOSTS))
        self.folder = folder

    @property
    def hosts(self) -> dict[str, str]:
        hosts: dict[str, str] = self.info["hosts"]
        return hosts

    def url(self, host: str, path: str) -> str:
        return self.hosts[host] + path

    def requests(self) -> list[dict[str, Any]]:
        path = self.folder / "requests.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def cases(web: RawWeb) -> dict[str, tuple[str, set[str], str]]:
    """Title -> (URL, the right verdicts, a word its detail must hold)."""
    u = web.url
    return {
        "header flood": (u("heads", "/flood"), {"bad_response"}, "header"),
        "folded header without end": (u("heads", "/folded"), {"bad_response"}, "header"),
        "1 MB header line": (u("heads", "/megaline"), {"bad_response"}, "header line over"),
        "1,000 header lines": (u("heads", "/many"), {"bad_response"}, "header lines"),
        "status line not HTTP": (u("heads", "/garbage"), {"bad_response"}, "malformed"),
        "status 99999": (u("heads", "/bigstatus"), {"bad_response"}, "99999"),
        "closes without a byte": (u("heads", "/nothing"), {"connection_error"}, ""),
        "stalls after the head": (u("heads", "/stall"), {"timeout"}, ""),
        "plain page": (u("heads", "/fine"), {"ok"}, ""),
        "Retry-After in Arabic-Indic digits": (u("odd", "/retry-digits"), {"server_error"}, ""),
        "Retry-After in the year 99999": (u("odd", "/retry-date"), {"server_error"}, ""),
        "Location with a bad IPv6 host": (u("odd", "/bad-ipv6"), {"invalid_url"}, "invalid"),
        "UTF-16 not-found page": (u("odd", "/utf16-404"), {"soft_404"}, "not found"),
        "HEAD hangs, GET answers": (u("odd", "/file.pdf"), {"ok"}, "checked with GET"),
        "robots.txt 503": (u("r5xx", "/page/1"), {"blocked"}, "503"),
        "robots.txt times out": (u("rtimeout", "/page/1"), {"robots_unreachable"}, "RFC 9309"),
        "robots.txt reset": (u("rreset", "/page/1"), {"robots_unreachable"}, "RFC 9309"),
        "robots.txt 404": (u("r4xx", "/page/1"), {"ok"}, ""),
        "robots.txt disallows": (u("r2xx", "/private"), {"blocked"}, "robots.txt"),
        "robots.txt allows": (u("r2xx", "/public"), {"ok"}, ""),
        "robots.txt after 5 redirects disallows": (u("rredir", "/secret"), {"blocked"},
                                                   "robots.txt"),
        "robots.txt after 5 redirects allows": (u("rredir", "/open"), {"ok"}, ""),
        "robots.txt after 6 redirects": (u("rredir6", "/secret"), {"ok"}, ""),
        "robots.txt redirects past the deadline": (u("rslow", "/open"), {"robots_unreachable"},
                                                   "link_deadline"),
        "5 MB robots.txt, rule past 500 KiB": (u("rhuge", "/late"), {"ok"}, ""),
        "endless robots.txt": (u("rendless", "/nope"), {"blocked"}, "robots.txt"),
        "endless robots.txt allows": (u("rendless", "/x"), {"ok"}, ""),
        "tarpit chain": (u("tarpit", "/t/0"), {"tarpit"}, "deadline"),
    }


def healthy(web: RawWeb) -> dict[str, str]:
    return {f"healthy {n}/{p}": web.url(f"healthy{n}", f"/page/{p}")
            for n in range(HEALTHY_HOSTS) for p in (1, 2)}


def check_links_measured(cwd: Path, env: dict[str, str],
                         log: Path) -> tuple[int, float, float, str]:
    """Run check-links in a child; (exit status, seconds, peak RSS in MB, stderr)."""
    wrapper = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
               "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
               "file=sys.stderr); sys.exit(r.returncode)")
    started = time.monotonic()
    command = shelfcheck_cmd("--log-level", "DEBUG", "--log-file", str(log), "check-links")
    done = subprocess.run([sys.executable, "-c", wrapper, *command],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=150,
                          check=False)
    seconds = time.monotonic() - started
    line = [x for x in done.stderr.splitlines() if x.startswith("MAXRSS")][-1]
    return done.returncode, seconds, int(line.split()[1]) / 1024, done.stderr


@pytest.fixture
def web(tmp_path: Path) -> Iterator[RawWeb]:
    with RawWeb(tmp_path / "raw") as server:
        yield server


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param(
    "postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])], indirect=True)
def test_what_is_not_a_body(web: RawWeb, tmp_path: Path, db_url: str) -> None:
    expected = cases(web)
    good = healthy(web)
    resources = [(title, url) for title, (url, _v, _d) in expected.items()]
    resources += list(good.items())
    catalog = write_catalog(tmp_path / "catalog.yaml", resources)
    env = clean_env(**FAST, SHELFCHECK_DATABASE_URL=db_url,
                    SHELFCHECK_CATALOG_FILE=str(catalog),
                    SHELFCHECK_LINK_DEADLINE=str(DEADLINE))
    synced, _ = run("catalog", "sync", str(catalog), cwd=tmp_path, env=env)
    assert synced.returncode == 0, synced.stderr

    status, seconds, peak_mb, stderr = check_links_measured(tmp_path, env, tmp_path / "log")
    timings = link_seconds(tmp_path / "log")
    assert status == 0, stderr
    assert "Traceback" not in stderr, stderr
    rows = query(db_url, """
        SELECT r.title, c.verdict, c.detail, c.elapsed_ms, c.method, l.state
        FROM resource r JOIN link l ON l.id = r.link_id JOIN link_check c ON c.link_id = l.id""")
    found = {title: rest for title, *rest in rows}
    assert len(found) == len(resources), "a link was never checked"
    problems = []
    for title, (_url, verdicts, word) in expected.items():
        verdict, detail, _ms, _method, state = found[title]
        if verdict not in verdicts or word.lower() not in (detail or "").lower():
            problems.append(f"{title}: {verdict} ({detail}); expected {sorted(verdicts)} "
                            f"with {word!r}")
        want = ("broken" if verdict in FAILING else "unverifiable" if verdict in UNVERIFIABLE
                else "ok")
        if state != want:
            problems.append(f"{title}: state {state}, expected {want}")
    for title in good:
        if found[title][0] != "ok":
            problems.append(f"{title}: {found[title][:2]}")
    assert not problems, "\n".join(problems)
    assert found["HEAD hangs, GET answers"][3] == "HEAD,GET"

    log = web.requests()
    first = min(entry["t"] for entry in log)
    healthy_done = max(entry["end"] for entry in log
                       if entry["host"].startswith("healthy") and "end" in entry) - first
    tarpit = [entry for entry in log
              if entry["host"] == "tarpit" and entry["path"] != "/robots.txt"]
    tarpit_span = max(entry["t"] for entry in tarpit) - min(entry["t"] for entry in tarpit)
    robots = [entry for entry in log if entry["path"] == "/robots.txt" and "end" not in entry]
    assert healthy_done < PROMPT_SECONDS, f"the healthy hosts were done after {healthy_done:.1f} s"
    assert tarpit_span < DEADLINE, f"the tarpit was still served after {tarpit_span:.1f} s"
    assert peak_mb < MEMORY_LIMIT_MB, f"check-links peaked at {peak_mb:.0f} MB"
    # robots.txt once per host (rtarget's is the end of both redirect chains).
    per_host = Counter(entry["host"] for entry in robots if entry["host"] != "rtarget")
    assert max(per_host.values()) == 1, per_host
    assert seconds < 60, f"check-links took {seconds:.1f} s"
    measure("what is not a body", db=db_url.split(":")[0], links=len(resources),
            check_links_s=round(seconds, 1), peak_rss_mb=round(peak_mb),
            healthy_hosts_done_s=round(healthy_done, 2), tarpit_s=round(tarpit_span, 1),
            link_s={title: timings.get(url) for title, (url, _v, _w) in expected.items()})


def link_seconds(log: Path) -> dict[str, float]:
    """URL -> seconds its check took, from the spider's debug lines."""
    seconds = {}
    for match in re.finditer(r"checked (\S+): \w+ in ([0-9.]+) s", log.read_text()):
        seconds[match.group(1)] = float(match.group(2))
    return seconds
