"""How the terminal trusts its host: TLS with a CA file, an optional pinned
certificate fingerprint, and no plain HTTP off this machine.

- :func:`ssl_context` makes the :class:`ssl.SSLContext` every host call uses
  (httpx's ``verify=``): the CA file the terminal was activated with, else the
  system's trust store (which honours ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``).
  With a pin, the context's sockets compare the SHA-256 of the host's
  certificate right after the handshake, inside ``wrap_socket``: a mismatch
  closes the connection before a single byte of the request is written.
- :func:`certificate_error` turns the exception httpx raises for a failed
  handshake into a typed :class:`TerminalError` (``host_untrusted`` or
  ``host_pin_mismatch``), or ``None`` when it was no certificate problem.
- :func:`check_host_url` refuses ``http://`` to anything but loopback unless
  plain HTTP was allowed explicitly.
- :func:`install_ca_file` copies the CA file into the terminal's data folder,
  so the terminal keeps working when the original is moved or deleted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import shutil
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from scanpay.terminal.errors import TerminalError

__all__ = [
    "CA_FILE",
    "CERTIFICATE_ERRORS",
    "PinMismatch",
    "certificate_error",
    "check_host_url",
    "fingerprint",
    "install_ca_file",
    "is_loopback",
    "normalise_pin",
    "pem_fingerprint",
    "ssl_context",
]

CA_FILE = "host-ca.pem"
"""The copy of the CA file in the terminal's data folder."""

CERTIFICATE_ERRORS = frozenset({"host_untrusted", "host_pin_mismatch"})
"""The codes :func:`certificate_error` gives: the host's certificate was refused."""

_HEX64 = re.compile(r"[0-9a-f]{64}")


def normalise_pin(text: str) -> str:
    """A SHA-256 fingerprint as 64 lower-case hex digits.

    Accepts what ``openssl x509 -fingerprint -sha256`` prints
    (``AB:CD:...``, with or without its ``sha256 Fingerprint=`` prefix) and plain hex.
    """
    value = text.strip().split("=")[-1].replace(":", "").replace(" ", "").lower()
    if not _HEX64.fullmatch(value):
        raise TerminalError(
            "bad_request",
            field="pin_sha256",
            reason="a SHA-256 fingerprint is 64 hex digits (colons allowed)",
        )
    return value


def fingerprint(der: bytes) -> str:
    """The SHA-256 of a DER certificate, 64 lower-case hex digits."""
    return hashlib.sha256(der).hexdigest()


def pem_fingerprint(path: Path) -> str:
    """The SHA-256 fingerprint of the first certificate in a PEM file."""
    return fingerprint(ssl.PEM_cert_to_DER_cert(path.read_text(encoding="ascii")))


class PinMismatch(ssl.SSLCertVerificationError):
    """The host's certificate chains to a trusted CA but is not the pinned one."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"certificate fingerprint {actual} is not the pinned {expected}")
        self.expected = expected
        self.actual = actual


def _pinned_socket_class(pin: str) -> type[ssl.SSLSocket]:
    class PinnedSSLSocket(ssl.SSLSocket):
        # The check sits in the handshake itself: ``wrap_socket`` (what httpcore calls)
        # only returns a socket whose peer passed it, so no request byte can go out first.
        def do_handshake(self, block: bool = False) -> None:
            super().do_handshake(block)
            der = self.getpeercert(binary_form=True)
            actual = fingerprint(der) if der else ""
            if actual != pin:
                raise PinMismatch(pin, actual)

    return PinnedSSLSocket


def ssl_context(ca_file: Path | None = None, pin_sha256: str | None = None) -> ssl.SSLContext:
    """The context for every host call: verify with ``ca_file`` (PEM) or the system's
    trust store, check the host name, and - with ``pin_sha256`` - the certificate."""
    if ca_file is not None:
        try:
            context = ssl.create_default_context(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise TerminalError(
                "bad_request", field="ca_file", reason=f"{ca_file}: not a readable PEM file"
            ) from exc
    else:
        # The system's store; OpenSSL's default paths honour SSL_CERT_FILE/SSL_CERT_DIR.
        context = ssl.create_default_context()
    if pin_sha256:
        context.sslsocket_class = _pinned_socket_class(normalise_pin(pin_sha256))
    return context


def certificate_error(exc: BaseException) -> TerminalError | None:
    """The typed error for a handshake that failed on the host's certificate.

    httpx wraps the ssl module's exception (``ConnectError`` from httpcore's, from
    the ``ssl`` one): the chain of causes is walked to find it.
    """
    seen: BaseException | None = exc
    depth = 0
    while seen is not None and depth < 10:
        if isinstance(seen, PinMismatch):
            return TerminalError(
                "host_pin_mismatch", expected=seen.expected, actual=seen.actual or "none"
            )
        if isinstance(seen, ssl.SSLCertVerificationError):
            reason = seen.verify_message or str(seen)
            return TerminalError("host_untrusted", reason=reason)
        seen = seen.__cause__ or seen.__context__
        depth += 1
    return None


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_host_url(url: str, *, allow_plain_http: bool = False) -> None:
    """Refuse plain HTTP to a host that is not on this machine, unless allowed.

    The signatures keep a request from being altered, but not from being read:
    amounts, merchants and payment codes would cross the network in clear text.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TerminalError("bad_request", field="host", reason="http(s) URL expected")
    if parts.scheme == "http" and not allow_plain_http and not is_loopback(parts.hostname):
        raise TerminalError("plain_http_refused", field="host", host=parts.hostname)


def install_ca_file(source: Path, directory: Path) -> Path:
    """Copy ``source`` (checked to hold a PEM certificate) to ``directory/host-ca.pem``."""
    # Loading it is the check: a wrong file is refused at activation, not at the first sale.
    ssl_context(source)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / CA_FILE
    tmp = directory / (CA_FILE + ".tmp")
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target
