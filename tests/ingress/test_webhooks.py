"""The webhook endpoints: fixtures accepted, dedupe, envelopes, limits, rate limits, metrics."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import redis
from starlette.testclient import TestClient

from libs import metrics
from libs.messages import INBOUND_MESSAGE, STATUS_CALLBACK, Keys
from services.ingress.app import IngressApp, create_app
from services.ingress.settings import DEDUPE_MIN_TTL_S
from services.ingress.webhooks import TWIML_EMPTY
from tests.ingress.conftest import (
    BASE_URL,
    FORM,
    STATUS,
    WEBHOOK,
    call,
    fixture_paths,
    inbound_params,
    make_settings,
    post_form,
    running,
    sign,
    status_params,
)

FIXTURES = [(p.name, json.loads(p.read_text())) for p in fixture_paths()]


def _count(kind: str, outcome: str) -> float:
    value = metrics.REGISTRY.get_sample_value("wa_webhooks_total", {"kind": kind, "outcome": outcome})
    return value or 0.0


@pytest.mark.parametrize(("name", "fixture"), FIXTURES, ids=[n for n, _ in FIXTURES])
async def test_fixture_accepted_as_given(
    name: str, fixture: Any, key_prefix: str, redis_url: str, entries: Any
) -> None:
    """Each fixture, posted with its own signature to the URL it was signed for, is enqueued."""
    request = fixture["example_request"]
    status = name.startswith("status-")
    env = {"PUBLIC_STATUS_URL" if status else "PUBLIC_WEBHOOK_URL": request["url"]}
    async with running(create_app(make_settings(key_prefix, redis_url, **env))) as app:
        answer = await call(
            app,
            STATUS if status else WEBHOOK,
            body=fixture["raw_body"].encode(),
            headers=list(request["headers"].items()),
        )
        again = await call(
            app,
            STATUS if status else WEBHOOK,
            body=fixture["raw_body"].encode(),
            headers=list(request["headers"].items()),
        )
    assert answer.status == 200, answer
    assert answer.body == TWIML_EMPTY
    assert answer.headers["content-type"] == "text/xml"
    assert again.status == 200
    [entry] = entries()
    assert entry.kind == (STATUS_CALLBACK if status else INBOUND_MESSAGE)
    assert entry.fields == fixture["params"]
    assert entry.request_id == request["headers"]["I-Twilio-Idempotency-Token"]


@pytest.mark.parametrize(("name", "fixture"), FIXTURES, ids=[n for n, _ in FIXTURES])
async def test_fixture_resigned_for_our_url(name: str, fixture: Any, app: IngressApp, entries: Any) -> None:
    route = STATUS if name.startswith("status-") else WEBHOOK
    answer = await post_form(app, route, fixture["params"])
    assert answer.status == 200
    assert [e.fields for e in entries()] == [fixture["params"]]


def test_testclient_with_lifespan(key_prefix: str, redis_url: str) -> None:
    """starlette's TestClient drives the same app; /health, /ready and /metrics answer."""
    settings = make_settings(key_prefix, redis_url, METRICS_TOKEN="metrics-secret")
    params = inbound_params()
    with TestClient(create_app(settings)) as client:
        answer = client.post(
            WEBHOOK,
            content=urlencode(params),
            headers={"Content-Type": FORM, "X-Twilio-Signature": sign(BASE_URL + WEBHOOK, params)},
        )
        assert answer.status_code == 200
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"]["redis"]["ok"] is True
        assert client.get("/metrics").status_code == 401
        scraped = client.get("/metrics", headers={"Authorization": "Bearer metrics-secret"})
        assert scraped.status_code == 200 and "wa_webhooks_total" in scraped.text
        assert client.get(WEBHOOK).status_code == 405


async def test_duplicate_gets_200_and_no_second_entry(app: IngressApp, entries: Any) -> None:
    before = _count("message", "duplicate")
    first = await post_form(app, WEBHOOK, inbound_params())
    second = await post_form(app, WEBHOOK, inbound_params(body="same sid, other text"))
    assert (first.status, second.status) == (200, 200)
    assert len(entries()) == 1
    assert _count("message", "duplicate") == before + 1


async def test_concurrent_duplicates_give_one_entry(settings: Any, entries: Any) -> None:
    """50 identical webhooks at once, over real HTTP plumbing (httpx ASGI transport)."""
    params = inbound_params("SM" + "7" * 32)
    headers = {"Content-Type": FORM, "X-Twilio-Signature": sign(BASE_URL + WEBHOOK, params)}
    async with running(create_app(settings)) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
            answers = await asyncio.gather(
                *(client.post(WEBHOOK, content=urlencode(params), headers=headers) for _ in range(50))
            )
    assert [a.status_code for a in answers] == [200] * 50
    assert len(entries()) == 1


async def test_dedupe_key_and_ttl(app: IngressApp, key_prefix: str, redis_url: str) -> None:
    await post_form(app, WEBHOOK, inbound_params("SM" + "8" * 32))
    client = redis.Redis.from_url(redis_url)
    try:
        key = Keys(key_prefix).dedupe("SM" + "8" * 32)
        assert client.ttl(key) >= DEDUPE_MIN_TTL_S
        [(entry_id, _)] = client.xrange(Keys(key_prefix).inbound)
        assert client.get(key) == entry_id
    finally:
        client.close()


async def test_status_dedupe_on_sid_and_status(app: IngressApp, entries: Any) -> None:
    sid = "SM" + "9" * 32
    answers = [
        await post_form(app, STATUS, status_params(sid, "sent")),
        await post_form(app, STATUS, status_params(sid, "delivered")),
        await post_form(app, STATUS, status_params(sid, "delivered")),
        await post_form(app, STATUS, status_params(sid, "read")),
    ]
    assert [a.status for a in answers] == [200] * 4
    got = entries()
    assert [(e.kind, e.fields["MessageStatus"]) for e in got] == [
        (STATUS_CALLBACK, "sent"),
        (STATUS_CALLBACK, "delivered"),
        (STATUS_CALLBACK, "read"),
    ]


async def test_message_and_status_with_same_sid_do_not_collide(app: IngressApp, entries: Any) -> None:
    sid = "SM" + "6" * 32
    assert (await post_form(app, WEBHOOK, inbound_params(sid))).status == 200
    assert (await post_form(app, STATUS, status_params(sid, "read"))).status == 200
    assert len(entries()) == 2


async def test_envelope_shape(app: IngressApp, entries: Any) -> None:
    params = inbound_params(body="2 margherita & 1 coke = 🍕+🥤", sender="whatsapp:ID.0123456789abcdef")
    answer = await post_form(
        app, WEBHOOK, params, headers=[("I-Twilio-Idempotency-Token", "01766c65-d8f0-3c9b-3460-028098da2d76")]
    )
    assert answer.status == 200
    [entry] = entries()
    assert entry.fields == params  # From kept as sent: not assumed to be a phone number
    assert entry.request_id == "01766c65-d8f0-3c9b-3460-028098da2d76"
    assert entry.version == 1 and entry.kind == INBOUND_MESSAGE and len(entry.id) == 32
    assert "_throttled" not in entry.fields


async def test_bad_idempotency_token_gets_a_fresh_request_id(app: IngressApp, entries: Any) -> None:
    await post_form(app, WEBHOOK, inbound_params(), headers=[("I-Twilio-Idempotency-Token", "x" * 500)])
    [entry] = entries()
    assert len(entry.request_id) == 32


@pytest.mark.parametrize(
    ("missing", "path"),
    [
        ("MessageSid", WEBHOOK),
        ("From", WEBHOOK),
        ("MessageSid", STATUS),
        ("MessageStatus", STATUS),
        ("From", STATUS),
    ],
)
async def test_missing_required_field_is_400(missing: str, path: str, app: IngressApp, entries: Any) -> None:
    params = inbound_params() if path == WEBHOOK else status_params()
    del params[missing]
    answer = await post_form(app, path, params)
    assert answer.status == 400
    assert entries() == []


@pytest.mark.parametrize("num_media", ["-1", "11", "1e9", "99999999999999999999", "abc", "", " 1", "1\n"])
async def test_absurd_num_media_is_400(num_media: str, app: IngressApp, entries: Any) -> None:
    answer = await post_form(app, WEBHOOK, inbound_params(NumMedia=num_media))
    assert answer.status == 400
    assert entries() == []


async def test_overlong_sid_is_400(app: IngressApp, entries: Any) -> None:
    answer = await post_form(app, WEBHOOK, inbound_params("SM" + "f" * 200))
    assert answer.status == 400
    assert entries() == []


async def test_content_type_must_be_form(app: IngressApp, entries: Any) -> None:
    params = inbound_params()
    signature = sign(BASE_URL + WEBHOOK, params)
    body = urlencode(params).encode()
    answers = {}
    for content_type in [
        None,
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        f"{FORM}; charset=latin-1",
    ]:
        headers = [("X-Twilio-Signature", signature)]
        if content_type:
            headers.append(("Content-Type", content_type))
        answers[content_type] = (await call(app, WEBHOOK, body=body, headers=headers)).status
    assert set(answers.values()) == {415}, answers
    ok = await call(
        app,
        WEBHOOK,
        body=body,
        headers=[("Content-Type", f"{FORM.upper()}; Charset=UTF-8"), ("X-Twilio-Signature", signature)],
    )
    assert ok.status == 200
    assert len(entries()) == 1


async def test_body_size_limit_is_413(key_prefix: str, redis_url: str, entries: Any) -> None:
    settings = make_settings(key_prefix, redis_url, MAX_BODY_BYTES="2048")
    params = inbound_params(body="x" * 3000)
    async with running(create_app(settings)) as app:
        declared = await post_form(app, WEBHOOK, params)
        body = urlencode(params).encode()
        headers = [("Content-Type", FORM), ("X-Twilio-Signature", sign(BASE_URL + WEBHOOK, params))]
        chunked = await call(
            app, WEBHOOK, chunks=[body[:1000], body[1000:2000], body[2000:]], headers=headers
        )
        bad_length = await call(app, WEBHOOK, body=body, headers=[*headers, ("Content-Length", "12abc")])
    assert (declared.status, chunked.status, bad_length.status) == (413, 413, 400)
    assert entries() == []


async def test_chunked_body_within_limit_is_read(app: IngressApp, entries: Any) -> None:
    params = inbound_params()
    body = urlencode(params).encode()
    headers = [("Content-Type", FORM), ("X-Twilio-Signature", sign(BASE_URL + WEBHOOK, params))]
    answer = await call(app, WEBHOOK, chunks=[body[:10], body[10:50], body[50:]], headers=headers)
    assert answer.status == 200
    assert len(entries()) == 1


async def test_field_limits_are_400(key_prefix: str, redis_url: str, entries: Any) -> None:
    settings = make_settings(key_prefix, redis_url, MAX_FORM_FIELDS="20", MAX_FIELD_CHARS="1600")
    async with running(create_app(settings)) as app:
        too_many = await post_form(
            app, WEBHOOK, [*inbound_params().items(), *((f"X{i}", "1") for i in range(20))]
        )
        too_long = await post_form(app, WEBHOOK, inbound_params(body="é" * 1601))
        long_name = await post_form(app, WEBHOOK, [*inbound_params().items(), ("N" * 129, "1")])
        fits = await post_form(app, WEBHOOK, inbound_params(body="é" * 1600))
    assert (too_many.status, too_long.status, long_name.status, fits.status) == (400, 400, 400, 200)
    assert len(entries()) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"Body=%zz",
        b"Body=%",
        b"Body=%4",
        b"Body=%ff%fe",
        b"Body=\xff\xfe",
        b"Body=%C3%28",
        b"%E2%82=1",
        b"a=%ED%A0%80",
    ],
)
async def test_malformed_encoding_is_400(body: bytes, app: IngressApp, entries: Any) -> None:
    answer = await call(
        app, WEBHOOK, body=body, headers=[("Content-Type", FORM), ("X-Twilio-Signature", "x")]
    )
    assert answer.status == 400
    assert entries() == []


async def test_header_size_limit_is_431(key_prefix: str, redis_url: str, entries: Any) -> None:
    settings = make_settings(key_prefix, redis_url, MAX_HEADER_BYTES="2048")
    async with running(create_app(settings)) as app:
        answer = await post_form(app, WEBHOOK, inbound_params(), headers=[("X-Padding", "p" * 3000)])
    assert answer.status == 431
    assert entries() == []


async def test_method_not_allowed(app: IngressApp) -> None:
    answer = await call(app, STATUS, method="PUT")
    assert answer.status == 405 and answer.headers["allow"] == "POST"


async def test_failed_signatures_rate_limited_per_address(
    key_prefix: str, redis_url: str, entries: Any
) -> None:
    settings = make_settings(key_prefix, redis_url, BAD_SIGNATURE_LIMIT="3")
    params = inbound_params()
    async with running(create_app(settings)) as app:
        forged = [(await post_form(app, WEBHOOK, params, signature="forged")).status for _ in range(5)]
        other_address = await call(
            app,
            WEBHOOK,
            body=urlencode(params).encode(),
            headers=[("Content-Type", FORM), ("X-Twilio-Signature", "forged")],
            client=("203.0.113.9", 1),
        )
        # A valid webhook from the limited address still passes: only failures are limited.
        valid = await post_form(app, WEBHOOK, params)
    assert forged == [403, 403, 403, 429, 429]
    assert other_address.status == 403
    assert valid.status == 200
    assert len(entries()) == 1


async def test_rate_limit_address_from_forwarded_for_only_when_trusted(
    key_prefix: str, redis_url: str
) -> None:
    params = inbound_params()
    body = urlencode(params).encode()

    async def forged_from(app: IngressApp, forwarded_for: str) -> int:
        headers = [
            ("Content-Type", FORM),
            ("X-Twilio-Signature", "forged"),
            ("X-Forwarded-For", forwarded_for),
        ]
        return (await call(app, WEBHOOK, body=body, headers=headers, client=("10.0.0.1", 1))).status

    untrusted = make_settings(key_prefix, redis_url, BAD_SIGNATURE_LIMIT="2")
    async with running(create_app(untrusted)) as app:
        # Rotating X-Forwarded-For does not escape the limit: the peer address counts.
        statuses = [await forged_from(app, f"192.0.2.{i}") for i in range(4)]
    assert statuses == [403, 403, 429, 429]

    trusted = make_settings(key_prefix + "t", redis_url, BAD_SIGNATURE_LIMIT="2", TRUST_PROXY_HEADERS="1")
    async with running(create_app(trusted)) as app:
        per_client = [await forged_from(app, "192.0.2.1, 10.0.0.1") for _ in range(3)]
        another = await forged_from(app, "192.0.2.2")
    assert per_client == [403, 403, 429]
    assert another == 403
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.exists(Keys(key_prefix + "t").rate("badsig", "192.0.2.1"))
        client.delete(*client.keys(f"{key_prefix}t:*"))
    finally:
        client.close()


async def test_flooding_customer_is_flagged_not_rejected(
    key_prefix: str, redis_url: str, entries: Any
) -> None:
    settings = make_settings(key_prefix, redis_url, CUSTOMER_MESSAGE_LIMIT="3")
    before = _count("message", "throttled")
    async with running(create_app(settings)) as app:
        flood = [(await post_form(app, WEBHOOK, inbound_params(f"SM{i:032x}"))).status for i in range(6)]
        duplicate = await post_form(app, WEBHOOK, inbound_params(f"SM{5:032x}"))
        other = await post_form(app, WEBHOOK, inbound_params("SM" + "c" * 32, sender="whatsapp:+15550000000"))
        status = await post_form(app, STATUS, status_params())
    assert flood == [200] * 6 and duplicate.status == 200 and other.status == 200 and status.status == 200
    flags = [e.fields.get("_throttled") for e in entries()]
    assert flags == [None, None, None, "first", "yes", "yes", None, None]
    assert _count("message", "throttled") == before + 3


async def test_customer_window_expires(key_prefix: str, redis_url: str, entries: Any) -> None:
    settings = make_settings(key_prefix, redis_url, CUSTOMER_MESSAGE_LIMIT="1", CUSTOMER_WINDOW_SECONDS="1")
    async with running(create_app(settings)) as app:
        await post_form(app, WEBHOOK, inbound_params("SM" + "a" * 32))
        await post_form(app, WEBHOOK, inbound_params("SM" + "b" * 32))
        await asyncio.sleep(1.2)
        await post_form(app, WEBHOOK, inbound_params("SM" + "c" * 32))
    assert [e.fields.get("_throttled") for e in entries()] == [None, "first", None]


async def test_outcomes_counted(app: IngressApp) -> None:
    before = {o: _count("message", o) for o in ("accepted", "invalid_signature", "bad_request")}
    await post_form(app, WEBHOOK, inbound_params("SM" + "5" * 32))
    await post_form(app, WEBHOOK, inbound_params(), signature="forged")
    await call(app, WEBHOOK, body=b"x", headers=[("Content-Type", "text/plain")])
    after = {o: _count("message", o) for o in before}
    assert after == {o: before[o] + 1 for o in before}


async def test_not_a_webhook_path_goes_to_router(app: IngressApp) -> None:
    answer = await call(app, "/api/v1/whatsapp/other", method="GET")
    assert answer.status == 404
