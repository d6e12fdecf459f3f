"""Say why a certificate failed: expired, untrusted, not yet valid, ... (not just "verify failed").

OpenSSL's handshake error only says "certificate verify failed". `DiagnosingPolicy` wraps the
download handler's TLS policy (certificate verification stays Scrapy's and Twisted's, with the
system trust store, which honours SSL_CERT_FILE) and keeps the last TLS connection of each
host:port, whose X.509 verify result the link check reads when a handshake failed.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

# X509_V_ERR_* codes from OpenSSL's x509_vfy.h.
CERT_ERRORS = {
    9: "certificate is not yet valid",
    10: "certificate has expired",
    18: "certificate is self-signed (not trusted)",
    19: "certificate chain has a self-signed certificate (not trusted)",
    20: "certificate is not trusted (unknown issuer)",
    21: "certificate is not trusted (cannot verify the first certificate)",
    23: "certificate has been revoked",
    62: "certificate is for another name",
}
# The last few TLS connections of the most recent hosts (bounded: they hold OpenSSL state).
_RECENT: OrderedDict[str, deque[Any]] = OrderedDict()
_HOSTS_KEPT, _PER_HOST = 128, 3


def _remember(key: str, conn: Any) -> None:
    _RECENT.setdefault(key, deque(maxlen=_PER_HOST)).append(conn)
    _RECENT.move_to_end(key)
    while len(_RECENT) > _HOSTS_KEPT:
        _RECENT.popitem(last=False)


def last_verify_error(host: str, port: int) -> str | None:
    """Why the certificate of host:port failed verification, from its recent connections."""
    try:  # pyOpenSSL has no public getter for the verify result
        from OpenSSL._util import lib
    except ImportError:
        return None
    for conn in reversed(_RECENT.get(f"{host}:{port}", ())):
        try:
            code = int(lib.SSL_get_verify_result(conn._ssl))
        except Exception:
            continue
        if code:
            return CERT_ERRORS.get(code, f"certificate verify error {code}")
    return None


@implementer(IOpenSSLClientConnectionCreator)
class _RecordingCreator:
    def __init__(self, wrapped: Any, key: str) -> None:
        self._wrapped = wrapped
        self._key = key

    def clientConnectionForTLS(self, tls_protocol: Any) -> Any:
        conn = self._wrapped.clientConnectionForTLS(tls_protocol)
        _remember(self._key, conn)
        return conn


@implementer(IPolicyForHTTPS)
class DiagnosingPolicy:
    """Wraps an HTTPS policy; keeps each host's last TLS connection to ask why it failed."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        creator = self._wrapped.creatorForNetloc(hostname, port)
        return _RecordingCreator(creator, f"{hostname.decode('ascii', 'replace')}:{port}")
