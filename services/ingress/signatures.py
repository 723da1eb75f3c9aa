"""Checking `X-Twilio-Signature`, and rebuilding the public URL Twilio signed.

Twilio signs `URL + name1 + value1 + name2 + value2 ...` (names sorted, every value of a
repeated name sorted) with HMAC-SHA1 keyed by the Auth Token, or, for webhooks carrying
`X-Twilio-Webhooks-Signature-Settings: key=...,algorithm=HMAC_SHA256`, with that algorithm
keyed by the SharedKey secret (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
The URL is the one configured in Twilio, query string still percent-encoded; behind Render's
TLS proxy it is not the URL this process sees, so it comes from PUBLIC_BASE_URL (or trusted
X-Forwarded-* headers).

twilio's `RequestValidator.validate()` computes two HMACs per call (with and without the
port). `SignatureVerifier` computes one and tries the other port form, and the secondary
token, only on a mismatch, which accepts exactly what `validate()` accepts. It signs as
`RequestValidator.compute_signature()` does (the same string, every value of a name sorted
and deduplicated), with each secret's HMAC key schedule done once and copied per request
(`Signer`); a property test holds the two equal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import urlparse

from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    add_port,
    get_signature_algorithm,
    remove_port,
)

from services.ingress.forms import Params


def alternate_port_url(url: str) -> str:
    """`url` with its port removed when it has one, else with the scheme's default added.

    These are the two forms `RequestValidator.validate()` tries; Twilio has signed both over
    time (twilio-python #392, #477).
    """
    parsed = urlparse(url)
    result: str = remove_port(parsed) if parsed.port else add_port(parsed)
    return result


class Signer:
    """Twilio's webhook signature with one secret (an Auth Token or the SharedKey secret)."""

    def __init__(self, secret: str) -> None:
        key = secret.encode("utf-8")
        self._macs = {
            HMAC_SHA1: hmac.new(key, digestmod=hashlib.sha1),
            HMAC_SHA256: hmac.new(key, digestmod=hashlib.sha256),
        }

    def sign(self, url: str, params: Params, algorithm: str = HMAC_SHA1) -> bytes:
        """The base64 signature of `url` + `params` (names sorted, each name's values sorted
        and deduplicated, as twilio's `RequestValidator.compute_signature`). Raises KeyError
        for an algorithm other than HMAC_SHA1 and HMAC_SHA256."""
        parts = [url]
        for name in sorted(params):
            values = params.getall(name)
            if len(values) == 1:
                parts.append(name + values[0])
            else:
                parts.extend(name + value for value in sorted(set(values)))
        mac = self._macs[algorithm].copy()
        mac.update("".join(parts).encode("utf-8"))
        return base64.b64encode(mac.digest())


class SignatureVerifier:
    """Verifies webhook signatures against the Auth Token(s) and an optional SharedKey secret.

    `auth_tokens`: primary first, then the secondary one while a rotation is under way.
    `signing_key`: the SharedKey secret for HMAC-SHA256 webhooks; without it such webhooks fail.
    """

    def __init__(self, auth_tokens: Sequence[str], signing_key: str | None) -> None:
        self._token_signers = [Signer(t) for t in auth_tokens]
        self._key_signer = Signer(signing_key) if signing_key else None

    def verify(self, url: str, params: Params, signature: str, settings_header: str | None) -> bool:
        """True when `signature` signs `url` + `params` (every value, blanks included).

        `url` is the public URL with its raw query string; `settings_header` is the value of
        X-Twilio-Webhooks-Signature-Settings, or None. Never raises.
        """
        if not signature:
            return False
        given = signature.encode("utf-8", "replace")
        if settings_header is None:
            algorithm = HMAC_SHA1
            signers = self._token_signers
        else:
            algorithm = get_signature_algorithm(settings_header).upper()
            if algorithm not in (HMAC_SHA1, HMAC_SHA256) or self._key_signer is None:
                return False
            signers = [self._key_signer]
        alternate: str | None = None
        for signer in signers:
            if _matches(signer, url, params, algorithm, given):
                return True
            if alternate is None:
                try:
                    alternate = alternate_port_url(url)
                except ValueError:  # an unparsable port: only the URL as given could match
                    alternate = url
            if alternate != url and _matches(signer, alternate, params, algorithm, given):
                return True
        return False


def _matches(signer: Signer, url: str, params: Params, algorithm: str, given: bytes) -> bool:
    return hmac.compare_digest(signer.sign(url, params, algorithm), given)


def forwarded_base(proto: bytes | None, host: bytes | None) -> str | None:
    """`proto://host` from X-Forwarded-Proto and X-Forwarded-Host (or Host), or None if unusable.

    Only the first value of a comma-separated list counts (the hop nearest the client, as set
    by the platform's edge proxy). Call this only when TRUST_PROXY_HEADERS is on: anyone can
    send these headers, and a forged host would let a signature for another URL pass.
    """
    if not proto or not host:
        return None
    scheme = proto.split(b",", 1)[0].strip().lower()
    netloc = host.split(b",", 1)[0].strip()
    if scheme not in (b"http", b"https") or not netloc or b"/" in netloc or b"@" in netloc:
        return None
    try:
        return f"{scheme.decode()}://{netloc.decode('ascii')}"
    except UnicodeDecodeError:
        return None
