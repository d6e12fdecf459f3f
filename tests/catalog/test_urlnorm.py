"""The one URL normalization: policy cases."""

from __future__ import annotations

import pytest

from shelfcheck.catalog.urlnorm import InvalidURL, host_of, is_session_param, normalize_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Example.COM/Path", "http://example.com/Path"),  # scheme/host case, path kept
        ("http://example.com:80/a", "http://example.com/a"),  # default port
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),  # other port kept
        ("https://example.com/a#section-2", "https://example.com/a"),  # fragment
        ("https://example.com", "https://example.com/"),  # empty path
        ("https://example.com/a/", "https://example.com/a/"),  # trailing slash kept
        ("https://example.com/a", "https://example.com/a"),  # no slash added
        ("https://bücher.example/kurs", "https://xn--bcher-kva.example/kurs"),  # IDN
        ("https://example.com/?b=2&a=1", "https://example.com/?a=1&b=2"),  # sorted query
        ("https://example.com/x?id=5&utm_source=news&utm_medium=mail", "https://example.com/x?id=5"),
        ("https://example.com/x?PHPSESSID=abc&id=5", "https://example.com/x?id=5"),
        ("https://example.com/x;jsessionid=ABC123?id=5", "https://example.com/x?id=5"),
        ("https://example.com/x?fbclid=1&gclid=2", "https://example.com/x"),
        ("https://example.com/%7euser/a%20b", "https://example.com/~user/a%20b"),
        ("  https://example.com/a  ", "https://example.com/a"),
        (
            "https://infopeople.org/civicrm/event/info?reset=1&id=1081",
            "https://infopeople.org/civicrm/event/info?id=1081&reset=1",
        ),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


def test_normalize_is_idempotent() -> None:
    url = "HTTPS://Bücher.Example:443/a/?z=1&a=2&utm_x=3#f"
    once = normalize_url(url)
    assert normalize_url(once) == once


@pytest.mark.parametrize(
    "raw", ["", "ftp://example.com/f", "javascript:alert(1)", "mailto:a@b.org", "/relative",
            "http://", "http://exa mple.com:99999/", "https://example.com/\nx"],
)
def test_invalid(raw: str) -> None:
    with pytest.raises(InvalidURL):
        normalize_url(raw)


def test_host_and_session_params() -> None:
    assert host_of("https://example.com:8443/a") == "example.com:8443"
    assert host_of("https://example.com/a") == "example.com"
    assert is_session_param("utm_campaign") and is_session_param("JSESSIONID")
    assert not is_session_param("id")
