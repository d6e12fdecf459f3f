"""The peers' HTTP link cases (tests/conformance/cases.py) run through `shelfcheck check-links`
against a loopback server, on SQLite and PostgreSQL: shelfcheck agrees where the peers agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelfcheck.catalog.verdicts import VERDICTS
from tests.conformance.cases import CASES
from tests.conformance.server import ConformanceServer
from tests.crawler.test_linkcheck import check_links, last_checks, sync


def test_cases_name_their_source_and_a_known_outcome() -> None:
    classes = {v.kind for v in VERDICTS.values()}
    assert len(CASES) >= 50
    for case in CASES:
        assert case.peer and case.source and case.case
        assert case.expect in VERDICTS or case.expect in classes, case
    assert len({case.written for case in CASES}) == len(CASES)


def test_shelfcheck_agrees_with_the_peers(db_url: str, tmp_path: Path) -> None:
    routes = {target: script for case in CASES for target, script in case.routes.items()}
    with ConformanceServer(routes) as server:
        sync(db_url, tmp_path, {"Conformance": [
            (f"{i:02d} {case.case}", server.base + case.written) for i, case in enumerate(CASES)
        ]})
        done = check_links(db_url, tmp_path, env={"SHELFCHECK_RETRY_AFTER_CAP": "2"})
        assert done.returncode in (0, 1), done.stderr
        checks = last_checks(db_url)
        sent = {target for _method, target in server.seen}
    by_target = checks
    wrong = []
    for case in CASES:
        found = [c for url, c in by_target.items()
                 if url.startswith(server.base) and _same(url, server.base + case.written)]
        assert len(found) == 1, f"{case.written}: no check"
        check = found[0]
        kind = VERDICTS[check.verdict].kind
        agree = check.verdict == case.expect or kind == case.expect
        if case.final is not None:
            agree = agree and check.final_url == server.base + case.final
        if case.detail is not None:
            agree = agree and case.detail in (check.detail or "")
        if not agree:
            wrong.append(f"{case.peer} {case.source}: {case.case}: got {check.verdict} "
                         f"({check.http_status}, {check.final_url}, {check.detail}); "
                         f"expected {case.expect}")
    assert not wrong, "\n".join(wrong)
    # The URL as written went out as written (percent-encoding only what must be).
    assert "/i/search?z=1&a=2" in sent and "/i/search?a=2&z=1" not in sent
    assert "/i/landing?utm_source=guide&id=7" in sent
    assert "/h/2014/source-disclosed-%E2%89%A0-open-source/" in sent


def _same(stored: str, written: str) -> bool:
    from shelfcheck.catalog.urlnorm import normalize_url

    return stored == normalize_url(written)


pytestmark = pytest.mark.timeout(300)
