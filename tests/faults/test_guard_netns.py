"""The private-address guard, with the guard ON, in a private network namespace.

The namespace's loopback interface also holds a public address (1.2.3.4) and a cloud metadata
address (100.100.100.200), and its own /etc/hosts maps names to them: so a public host can be
fetched, and a name can point at loopback, as a rebinding DNS server would make it. One name has
two addresses, the first refusing connections: the check must try the second. The guard
checks the address each connection actually reached, so every refused case must end `blocked`
without one HTTP byte reaching the server. Needs root (unshare); skipped otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.faults.hostile import LABELS
from tests.faults.world import FAST, clean_env, measure, query, write_catalog

PUBLIC, METADATA, DEAD = "1.2.3.4", "100.100.100.200", "1.2.3.5"  # nothing listens on DEAD
PORT_BASE = 8000
PORT = {label: PORT_BASE + number for number, label in enumerate(LABELS)}
HOSTS = (f"127.0.0.1 localhost rebind.example\n{PUBLIC} public.example xn--bcher-kva.example\n"
         f"{METADATA} metadata.example\n{DEAD} twoaddr.example\n{PUBLIC} twoaddr.example\n")

LINKS = {  # title -> (url, verdict)
    "public address": (f"http://{PUBLIC}:{PORT['healthy']}/ok", "ok"),
    "public name": (f"http://public.example:{PORT['healthy']}/page/1", "ok"),
    # Every address of a name is tried in turn: the first refuses, the second answers.
    "two addresses, the first dead": (f"http://twoaddr.example:{PORT['healthy']}/page/5", "ok"),
    "IDN host": (f"http://bücher.example:{PORT['healthy']}/page/2", "ok"),
    "name resolving to loopback": (f"http://rebind.example:{PORT['healthy']}/page/3", "blocked"),
    "localhost": (f"http://localhost:{PORT['healthy']}/page/4", "blocked"),
    "IPv4-mapped loopback": (f"http://[::ffff:127.0.0.1]:{PORT['healthy']}/ok", "blocked"),
    "cloud metadata address": (f"http://{METADATA}:{PORT['healthy']}/ok", "blocked"),
    "cloud metadata name": (f"http://metadata.example:{PORT['healthy']}/ok", "blocked"),
    "public page redirecting to loopback": (
        f"http://{PUBLIC}:{PORT['redirect']}/to-private", "blocked"),
}


def netns_available() -> str | None:
    """Why the namespace cannot be made here, or None."""
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux only"
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "unshare or ip (util-linux, iproute2) is not installed"
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True,
                           text=True, check=False)
    if probe.returncode != 0:
        return f"cannot create a network namespace: {probe.stderr.strip()}"
    return None


def test_guard_checks_the_address_connected_to(tmp_path: Path) -> None:
    reason = netns_available()
    if reason:
        pytest.skip(reason)
    private_target = f"http://127.0.0.1:{PORT['healthy']}/ok"
    recipe_fields = {"title": "a.title", "fee": {"css": ".fee", "optional": True}}
    providers = {
        "p-public": {"listing": f"http://public.example:{PORT['healthy']}/listing",
                     "item": "li.course", "link": "a.title", "fields": recipe_fields},
        "p-rebind": {"listing": f"http://rebind.example:{PORT['healthy']}/listing",
                     "item": "li.course", "link": "a.title", "fields": recipe_fields},
    }
    catalog = write_catalog(tmp_path / "catalog.yaml",
                            [(t, u) for t, (u, _v) in LINKS.items()], providers)
    db = f"sqlite:///{tmp_path / 'catalog.db'}"
    env = clean_env(**{**FAST, "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "false"},
                    SHELFCHECK_DATABASE_URL=db)
    spec = {
        "addresses": [f"{PUBLIC}/32", f"{METADATA}/32", f"{DEAD}/32"], "hosts": HOSTS,
        "server": ["--dir", str(tmp_path / "world"), "--bind", PUBLIC, "--bind", "127.0.0.1",
                   "--bind", METADATA, "--port-base", str(PORT_BASE),
                   "--private-target", private_target],
        "commands": [["catalog", "sync", str(catalog)], ["check-links"], ["crawl"]],
        "env": env, "cwd": str(tmp_path), "result": str(tmp_path / "result.json"),
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    done = subprocess.run(["unshare", "--net", "--mount", "--", sys.executable, "-m",
                           "tests.faults.netns", str(tmp_path / "spec.json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=170, check=False)
    assert done.returncode == 0, done.stderr
    outcome = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    sync, links, crawl = outcome["commands"]
    assert sync["returncode"] == 0, sync["stderr"]
    assert links["returncode"] == 0, links["stdout"] + links["stderr"]
    assert crawl["returncode"] == 0, crawl["stdout"] + crawl["stderr"]

    rows = query(db, "SELECT r.title, c.verdict, c.detail FROM resource r "
                     "JOIN link_check c ON c.link_id = r.link_id")
    verdicts = {title: (verdict, detail) for title, verdict, detail in rows}
    wrong = {t: verdicts[t] for t, (_u, v) in LINKS.items() if verdicts[t][0] != v}
    assert not wrong, wrong
    for title in ("name resolving to loopback", "localhost", "IPv4-mapped loopback",
                  "public page redirecting to loopback"):
        assert "127.0.0.1 is loopback" in verdicts[title][1], verdicts[title]
    for title in ("cloud metadata address", "cloud metadata name"):
        assert f"{METADATA} is not a public address" in verdicts[title][1], verdicts[title]

    offerings = dict(query(db, "SELECT p.slug, count(o.id) FROM provider p LEFT JOIN offering o "
                               "ON o.provider_id = p.id GROUP BY p.slug"))
    assert offerings["p-public"] == 3 and offerings["p-rebind"] == 0, offerings
    unreachable = query(db, "SELECT e.detail FROM change_event e JOIN provider p "
                            "ON p.id = e.provider_id WHERE p.slug = 'p-rebind'")
    assert unreachable and "loopback" in unreachable[0][0], unreachable

    with (tmp_path / "world" / "requests.jsonl").open(encoding="utf-8") as lines:
        log = [json.loads(line) for line in lines]
    reached = {entry["address"] for entry in log if "address" in entry}
    assert reached == {PUBLIC}, f"requests reached {reached}: the guard let a connection through"
    redirected = [e for e in log if e.get("path") == "/to-private"]
    assert redirected, "the public page that redirects was never fetched"
    measure("guard (netns)", links=len(LINKS), blocked=sum(v == "blocked" for _u, v in
                                                             LINKS.values()),
            requests_reaching_private_addresses=len(reached - {PUBLIC}))
