"""What the demo's week-two report should show, and what it does show, one line per case."""

from __future__ import annotations

from typing import Any

from shelfcheck.catalog.states import LinkState

WEEK_TWO = ("a fee change, a new and a cancelled webinar, a moved page, a dead link, a blocked "
            "host and a listing outage")
# The demo catalog's week-two cases, relative to the live web ({web}).
DEAD_LINK = "/techsoupforlibraries/"
MOVED_PAGE = "/ala/educationcareers/careers/corecomp/corecompetences"
MOVED_TO = "/ala/educationcareers/competencies/"
BLOCKED = "/ala-apa/lssc"
OUTAGE_PROVIDER = "webjunction"
# What the demo writes into its folder; a folder holding anything else is not reused.


def missing_cases(doc: dict[str, Any], web: str) -> list[str]:
    """The week-two cases the report does not show."""
    links = {link["url"]: link for link in doc.get("links", [])}
    changes = doc.get("changes", [])

    def link(path: str) -> dict[str, Any]:
        return next((v for k, v in links.items() if k.rstrip("/") == (web + path).rstrip("/")),
                    {})

    def has(kind: str, **fields: Any) -> bool:
        return any(c["kind"] == kind and all(c.get(k) == v for k, v in fields.items())
                   for c in changes)

    moved = link(MOVED_PAGE)
    checks = {
        "a fee change": has("fee_changed"),
        "a new offering": has("offering_added"),
        "a cancelled offering": has("offering_removed"),
        "the moved page and its replacement URL": moved.get("state") == LinkState.REDIRECTED
        and str(moved.get("redirect_target", "")).endswith(MOVED_TO),
        "the dead link, confirmed broken": link(DEAD_LINK).get("state") == LinkState.BROKEN,
        "the blocked host, unverifiable": link(BLOCKED).get("state") == LinkState.UNVERIFIABLE,
        "the listing outage (provider_unreachable)": has("provider_unreachable",
                                                         provider=OUTAGE_PROVIDER),
    }
    return [name for name, ok in checks.items() if not ok]


def report_lines(doc: dict[str, Any]) -> list[str]:
    """What the report says, one line per link to fix and per change."""
    lines = []
    labels = {LinkState.BROKEN: "broken link", LinkState.REDIRECTED: "moved page",
              LinkState.UNVERIFIABLE: "unverifiable"}
    for link in doc.get("links", []):
        who = ", ".join(link.get("resources") or []) or "-"
        state = link["state"]
        if state == LinkState.REDIRECTED:
            what = f"{link['url']} → {link.get('redirect_target')}"
        else:
            status = f", HTTP {link['http_status']}" if link.get("http_status") else ""
            detail = f": {link['detail']}" if link.get("detail") and not status else ""
            what = f"{link['url']} ({link.get('verdict')}{status}{detail})"
        lines.append(f"{labels.get(state, state):<20} {who}: {what}")
    for change in doc.get("changes", []):
        kind, provider = change["kind"], change.get("provider") or "-"
        title = change.get("title") or ""
        if kind == "fee_changed":
            tier = f" [{change['tier']}]" if change.get("tier") else ""
            text = f"{title}{tier}: {change.get('old') or 'none'} → {change.get('new') or 'none'}"
        elif kind == "offering_rescheduled":
            text = f"{title}: {change.get('old')} → {change.get('new')}"
        elif kind in ("provider_unreachable", "extractor_drift"):
            text = change.get("detail") or change.get("url") or ""
        elif kind.startswith(("link_", "run_")):
            continue  # the links above say it
        else:
            text = title
        count = int(change.get("count") or 1)  # the report merged the same event of several runs
        lines.append(f"{kind.replace('_', ' '):<20} {provider}: {text}"
                     + (f" (×{count})" if count > 1 else ""))
    return list(dict.fromkeys(lines))
