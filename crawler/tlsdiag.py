"""Say why a certificate failed: expired, untrusted, not yet valid, ... (not just "verify failed").

OpenSSL's handshake error only says "certificate verify failed". `DiagnosingPolicy` wraps the
download handler's TLS policy (certificate verification stays Scrapy's and Twisted's, with the
system trust store, which honours SSL_CERT_FILE) and keeps the last TLS connection of each
host:port, whose X.509 verify result the link check reads when a handshake failed.
"""

from __future__ import annotations

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
_LAST_CONNECTIONS: dict[str, Any] = {}


def last_verify_error(host: str, port: int) -> str | None:
    """The readable verify error of the last TLS connection to host:port, if it had one."""
    conn = _LAST_CONNECTIONS.pop(f"{host}:{port}", None)
    if conn is None:
        return None
    try:  # pyOpenSSL has no public getter for the verify result
        from OpenSSL._util import lib

        code = int(lib.SSL_get_verify_result(conn._ssl))
    except Exception:
        return None
    if not code:
        return None
    return CERT_ERRORS.get(code, f"certificate verify error {code}")


@implementer(IOpenSSLClientConnectionCreator)
class _RecordingCreator:
    def __init__(self, wrapped: Any, key: str) -> None:
        self._wrapped = wrapped
        self._key = key

    def clientConnectionForTLS(self, tls_protocol: Any) -> Any:
        conn = self._wrapped.clientConnectionForTLS(tls_protocol)
        _LAST_CONNECTIONS[self._key] = conn
        return conn


@implementer(IPolicyForHTTPS)
class DiagnosingPolicy:
    """Wraps an HTTPS policy; keeps each host's last TLS connection to ask why it failed."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        creator = self._wrapped.creatorForNetloc(hostname, port)
        return _RecordingCreator(creator, f"{hostname.decode('ascii', 'replace')}:{port}")
