"""Property tests: random and adversarial bodies and headers never give a 5xx, a crash, or an
entry without a valid signature; the form parser's fast and general paths agree."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import HMAC_SHA1, HMAC_SHA256, RequestValidator

from services.ingress.app import IngressApp, create_app
from services.ingress.forms import FormError, Params, _parse_pairs, parse_form
from services.ingress.signatures import Signer
from tests.ingress.conftest import (
    ACCOUNT_SID,
    BASE_URL,
    FORM,
    STATUS,
    WEBHOOK,
    call,
    make_settings,
    running,
    sign,
    stream_entries,
)

EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as Twilio could send it: any Unicode scalar value (no lone surrogates, which UTF-8 cannot carry).
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
names = st.sampled_from(
    ["Body", "From", "To", "MessageSid", "AccountSid", "NumMedia", "MessageStatus", "WaId", "MediaUrl0", "X"]
) | st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12)
content_types = st.sampled_from(
    [FORM, f"{FORM}; charset=utf-8", "application/json", "text/plain", "", "multipart/form-data"]
)
header_names = st.sampled_from(
    [
        "X-Twilio-Signature",
        "X-Twilio-Webhooks-Signature-Settings",
        "I-Twilio-Idempotency-Token",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "Host",
        "Content-Length",
        "Content-Type",
    ]
)
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
adversarial_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.sampled_from(
            [
                b"%",
                b"%2",
                b"%zz",
                b"%26",
                b"&",
                b"=",
                b"+",
                b"\\",
                b"\\x41",
                b"%ff",
                b"%C3",
                b"a",
                b"\x00",
                b"\xe2\x82",
            ]
        ),
        max_size=30,
    ).map(b"".join),
)


class Harness:
    """One event loop running the app's lifespan for every example of a test."""

    def __init__(self, app: IngressApp) -> None:
        self.loop = asyncio.new_event_loop()
        self.app = app
        self._lifespan = running(app)
        self.loop.run_until_complete(self._lifespan.__aenter__())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.loop.run_until_complete(self._lifespan.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture
def harness(key_prefix: str, redis_url: str) -> Iterator[Harness]:
    # Examples repeat a sender (Hypothesis shrinks towards one) faster than a customer may
    # write; the per-customer limit has its own tests, and here would flag entries `_throttled`.
    lifted = make_settings(
        key_prefix, redis_url, BAD_SIGNATURE_LIMIT="1000000", CUSTOMER_MESSAGE_LIMIT="1000000"
    )
    h = Harness(create_app(lifted))
    yield h
    h.close()


@EXAMPLES
@given(
    body=adversarial_bytes,
    content_type=content_types,
    headers=st.lists(st.tuples(header_names, header_values), max_size=6),
    path=st.sampled_from([WEBHOOK, STATUS]),
    query=st.binary(max_size=30),
)
def test_random_requests_never_5xx_nor_enqueue(
    harness: Harness,
    redis_url: str,
    key_prefix: str,
    body: bytes,
    content_type: str,
    headers: list[tuple[str, str]],
    path: str,
    query: bytes,
) -> None:
    all_headers = [("Content-Type", content_type), *headers] if content_type else headers
    answer = harness.run(call(harness.app, path, body=body, headers=all_headers, query=query))
    assert 200 <= answer.status < 500
    assert answer.status != 200
    assert stream_entries(redis_url, key_prefix) == []


@EXAMPLES
@given(
    pairs=st.lists(st.tuples(names, texts), max_size=25),
    signature=st.text(max_size=40) | st.just("AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    path=st.sampled_from([WEBHOOK, STATUS]),
)
def test_forms_with_bad_signatures_never_enqueue(
    harness: Harness, redis_url: str, key_prefix: str, pairs: list[tuple[str, str]], signature: str, path: str
) -> None:
    body = urlencode(pairs).encode()
    headers = [("Content-Type", FORM), ("X-Twilio-Signature", signature.encode("utf-8").decode("latin-1"))]
    answer = harness.run(call(harness.app, path, body=body, headers=headers))
    assert answer.status in (400, 403, 429)
    assert stream_entries(redis_url, key_prefix) == []


@EXAMPLES
@given(extra=st.lists(st.tuples(names, texts), max_size=15), body=texts, sender=texts.filter(bool))
def test_signed_messages_are_enqueued_or_refused_cleanly(
    harness: Harness, redis_url: str, key_prefix: str, extra: list[tuple[str, str]], body: str, sender: str
) -> None:
    """Any validly signed message with the required fields is 200 (enqueued or duplicate) or a
    clean 4xx (bad NumMedia, overlong SID, a required field blanked by a repeat)."""
    before = len(stream_entries(redis_url, key_prefix))
    sid = f"SM{abs(hash((tuple(extra), body, sender))):032x}"[:34]
    pairs = [("MessageSid", sid), ("AccountSid", ACCOUNT_SID), ("From", sender), ("Body", body), *extra]
    url = BASE_URL + WEBHOOK
    headers = [("Content-Type", FORM), ("X-Twilio-Signature", sign(url, pairs))]
    answer = harness.run(call(harness.app, WEBHOOK, body=urlencode(pairs).encode(), headers=headers))
    after = stream_entries(redis_url, key_prefix)
    assert answer.status in (200, 400, 403), answer
    if answer.status == 200 and len(after) == before + 1:
        first: dict[str, str] = {}
        for name, value in pairs:
            first.setdefault(name, value)
        assert after[-1].fields == first
    else:
        assert len(after) == before


def _all_values(params: Any) -> dict[str, list[str]]:
    return {name: list(params.getall(name)) for name in params}


def _parse_either(body: bytes) -> Any:
    try:
        return _all_values(parse_form(body, max_fields=1000, max_field_chars=10_000))
    except FormError as exc:
        return ("error", exc.reason)


@settings(max_examples=500, deadline=None)
@given(body=adversarial_bytes)
def test_form_fast_path_matches_general_path(body: bytes) -> None:
    fast = _parse_either(body)
    try:
        general: Any = _all_values(_parse_pairs(body.split(b"&"), 10_000)) if body else {}
    except FormError:
        general = "error"
    if isinstance(fast, tuple):
        assert general == "error"
    else:
        assert fast == general


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(texts, texts), max_size=20))
def test_form_round_trip(pairs: list[tuple[str, str]]) -> None:
    """Every value of every name comes back, in order; the mapping holds the first values."""
    parsed = parse_form(urlencode(pairs).encode(), max_fields=1000, max_field_chars=10_000)
    expected: dict[str, list[str]] = {}
    for name, value in pairs:
        expected.setdefault(name, []).append(value)
    assert _all_values(parsed) == expected
    assert dict(parsed) == {name: values[0] for name, values in expected.items()}
    assert list(parsed) == list(expected)


@EXAMPLES
@given(
    pairs=st.lists(st.tuples(names, texts), max_size=12),
    url=st.sampled_from([BASE_URL + WEBHOOK, "https://example.com:8443/a?b=%20c&d", "http://h/é"]),
    token=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
    algorithm=st.sampled_from([HMAC_SHA1, HMAC_SHA256]),
)
def test_the_signer_signs_as_twilios_request_validator(
    pairs: list[tuple[str, str]], url: str, token: str, algorithm: str
) -> None:
    """`Signer` (the key schedule done once) gives exactly `RequestValidator.compute_signature`,
    repeated names and values, blanks and any Unicode included."""
    params = Params.from_pairs(pairs)
    expected = RequestValidator(token).compute_signature(url, params, algorithm)
    assert Signer(token).sign(url, params, algorithm).decode() == expected
