"""Checking `X-Twilio-Signature`, and rebuilding the public URL Twilio signed.

Twilio signs `URL + name1 + value1 + name2 + value2 ...` (names sorted, every value of a
repeated name sorted) with HMAC-SHA1 keyed by the Auth Token, or, for webhooks carrying
`X-Twilio-Webhooks-Signature-Settings: key=...,algorithm=HMAC_SHA256`, with that algorithm
keyed by the SharedKey secret (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
The URL is the one configured in Twilio, query string still percent-encoded; behind Render's
TLS proxy it is not the URL this process sees, so it comes from PUBLIC_BASE_URL (or trusted
X-Forwarded-* headers).

twilio's `RequestValidator.validate()` computes two HMACs per call (with and without the
port). `SignatureVerifier` computes one with `compute_signature()` and tries the other port
form, and the secondary token, only on a mismatch, which accepts exactly what `validate()`
accepts.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from urllib.parse import urlparse

from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    RequestValidator,
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


class SignatureVerifier:
    """Verifies webhook signatures against the Auth Token(s) and an optional SharedKey secret.

    `auth_tokens`: primary first, then the secondary one while a rotation is under way.
    `signing_key`: the SharedKey secret for HMAC-SHA256 webhooks; without it such webhooks fail.
    """

    def __init__(self, auth_tokens: Sequence[str], signing_key: str | None) -> None:
        self._token_validators = [RequestValidator(t) for t in auth_tokens]
        self._key_validator = RequestValidator(signing_key) if signing_key else None

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
            validators = self._token_validators
        else:
            algorithm = get_signature_algorithm(settings_header).upper()
            if algorithm not in (HMAC_SHA1, HMAC_SHA256) or self._key_validator is None:
                return False
            validators = [self._key_validator]
        alternate: str | None = None
        for validator in validators:
            if _matches(validator, url, params, algorithm, given):
                return True
            if alternate is None:
                try:
                    alternate = alternate_port_url(url)
                except ValueError:  # an unparsable port: only the URL as given could match
                    alternate = url
            if alternate != url and _matches(validator, alternate, params, algorithm, given):
                return True
        return False


def _matches(validator: RequestValidator, url: str, params: Params, algorithm: str, given: bytes) -> bool:
    computed: str = validator.compute_signature(url, params, algorithm)
    return hmac.compare_digest(computed.encode(), given)


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
