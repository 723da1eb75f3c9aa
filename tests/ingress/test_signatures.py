"""Signature checks: every shared vector, through the verifier and through the real endpoint."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from services.ingress.app import create_app
from services.ingress.signatures import SignatureVerifier, alternate_port_url, forwarded_base
from tests.conftest import AUTH_TOKEN
from tests.ingress.conftest import (
    ACCOUNT_SID,
    BASE_URL,
    FORM,
    STATUS,
    WEBHOOK,
    call,
    inbound_params,
    make_settings,
    post_form,
    running,
    sign,
    stream_entries,
    to_params,
    twilio_json,
)

SHA256_HEADER = "key=webhooks_sharedkey_test,algorithm=HMAC_SHA256"


def _vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = twilio_json("signature-vectors.json")["vectors"]
    assert vectors, "signature-vectors.json has no vectors"
    return vectors


def _cases() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(v, r) for v in _vectors() for r in v["validate_results"]]


def _ids() -> list[str]:
    return [f"{v['id']}:{r['case']}" for v, r in _cases()]


def _is_form(vector: dict[str, Any]) -> bool:
    return bool(vector.get("content_type") == FORM and "form_body" in vector)


def _form_params(vector: dict[str, Any], case: dict[str, Any]) -> list[tuple[str, str]]:
    """The params the case validates: the form body, without blank values for the
    'parse_qsl default' case (a parser that drops them)."""
    drop_blanks = "keep_blank_values=False" in case["case"]
    return parse_qsl(vector["form_body"], keep_blank_values=not drop_blanks)


@pytest.mark.parametrize(("vector", "case"), _cases(), ids=_ids())
def test_verifier_matches_validate_results(vector: dict[str, Any], case: dict[str, Any]) -> None:
    algorithm = vector["algorithm"]
    sha256 = algorithm == "HMAC_SHA256" and "HMAC_SHA1" not in case["case"]
    if not _is_form(vector):
        # JSON webhooks (bodySHA256) are not Twilio messaging webhooks: ingress answers 415
        # (see test_json_vector_is_415); the vector is checked against twilio's validator.
        body = vector["raw_body"]
        if "re-serialised" in case["case"]:
            body = json.dumps(json.loads(body))
        validator = RequestValidator(vector["auth_token"])
        assert (
            validator.validate(case["validate_url"], body, vector["expected_signature"]) is case["accepted"]
        )
        return
    params = to_params(_form_params(vector, case))
    if sha256:
        verifier = SignatureVerifier(["unrelated-auth-token"], vector["auth_token"])
        header: str | None = SHA256_HEADER
    else:
        verifier = SignatureVerifier([vector["auth_token"]], None)
        header = None
    accepted = verifier.verify(case["validate_url"], params, vector["expected_signature"], header)
    assert accepted is case["accepted"]
    # ...which is what twilio's own validate() says.
    reference = RequestValidator(vector["auth_token"]).validate(
        case["validate_url"], params, vector["expected_signature"], "HMAC_SHA256" if sha256 else None
    )
    assert reference is case["accepted"]


@pytest.mark.parametrize(
    ("vector", "case"),
    [(v, r) for v, r in _cases() if _is_form(v)],
    ids=[i for (v, _), i in zip(_cases(), _ids(), strict=True) if _is_form(v)],
)
async def test_vector_through_endpoint(
    vector: dict[str, Any], case: dict[str, Any], key_prefix: str, redis_url: str
) -> None:
    """The endpoint rebuilds `validate_url` (configured URL + raw query as received)."""
    parts = urlsplit(case["validate_url"])
    configured = case["validate_url"].split("?", 1)[0]
    path = STATUS if "MessageStatus" in vector["params"] else WEBHOOK
    sha256 = vector["algorithm"] == "HMAC_SHA256"
    use_sha256_header = sha256 and "HMAC_SHA1" not in case["case"]
    env = {
        "TWILIO_AUTH_TOKEN": "unrelated-auth-token" if sha256 else vector["auth_token"],
        "PUBLIC_WEBHOOK_URL" if path == WEBHOOK else "PUBLIC_STATUS_URL": configured,
    }
    if sha256:
        env["TWILIO_WEBHOOK_SIGNING_KEY"] = vector["auth_token"]
    settings = make_settings(key_prefix, redis_url, **env)
    params = _form_params(vector, case)
    body = "&".join(
        part
        for part in vector["form_body"].split("&")
        if "keep_blank_values=False" not in case["case"] or not part.endswith("=")
    ).encode()
    headers = [("Content-Type", FORM), ("X-Twilio-Signature", vector["expected_signature"])]
    if use_sha256_header:
        headers.append(("X-Twilio-Webhooks-Signature-Settings", SHA256_HEADER))
    async with running(create_app(settings)) as app:
        answer = await call(app, path, body=body, headers=headers, query=parts.query.encode())
    entries = stream_entries(redis_url, key_prefix)
    if not case["accepted"]:
        assert answer.status == 403, answer
        assert entries == []
    elif "MessageSid" not in vector["params"]:
        # v00 is a voice webhook: the signature passes, then it is not a messaging webhook.
        assert answer.status == 400, answer
        assert entries == []
    else:
        assert answer.status == 200, answer
        assert [e.fields for e in entries] == [dict(params)]


def test_vectors_include_a_json_case() -> None:
    json_vectors = [v for v in _vectors() if not _is_form(v)]
    assert json_vectors, "expected the JSON (bodySHA256) vector"


async def test_json_body_is_415(app: Any, entries: Any) -> None:
    vector = next(v for v in _vectors() if not _is_form(v))
    answer = await call(
        app,
        WEBHOOK,
        body=vector["raw_body"].encode(),
        headers=[("Content-Type", "application/json"), ("X-Twilio-Signature", vector["expected_signature"])],
        query=b"bodySHA256=" + hashlib.sha256(vector["raw_body"].encode()).hexdigest().encode(),
    )
    assert answer.status == 415
    assert entries() == []


def test_alternate_port_url() -> None:
    assert alternate_port_url("https://h/p?q=1") == "https://h:443/p?q=1"
    assert alternate_port_url("https://h:443/p") == "https://h/p"
    assert alternate_port_url("http://h/p") == "http://h:80/p"
    assert alternate_port_url("https://h:8443/p") == "https://h/p"


async def test_secondary_token_accepted_during_rotation(
    key_prefix: str, redis_url: str, entries: Any
) -> None:
    settings = make_settings(
        key_prefix, redis_url, TWILIO_AUTH_TOKEN="new-primary-token", TWILIO_AUTH_TOKEN_SECONDARY=AUTH_TOKEN
    )
    async with running(create_app(settings)) as app:
        old = await post_form(app, WEBHOOK, inbound_params("SM" + "a" * 32), token=AUTH_TOKEN)
        new = await post_form(app, WEBHOOK, inbound_params("SM" + "b" * 32), token="new-primary-token")
        other = await post_form(app, WEBHOOK, inbound_params("SM" + "c" * 32), token="some-other-token")
    assert (old.status, new.status, other.status) == (200, 200, 403)
    assert [e.fields["MessageSid"] for e in entries()] == ["SM" + "a" * 32, "SM" + "b" * 32]


async def test_secondary_token_not_used_when_unset(app: Any, entries: Any) -> None:
    answer = await post_form(app, WEBHOOK, inbound_params(), token="some-other-token")
    assert answer.status == 403
    assert entries() == []


async def test_hmac_sha256_needs_the_configured_key(key_prefix: str, redis_url: str, entries: Any) -> None:
    params = inbound_params()
    url = BASE_URL + WEBHOOK
    signature = sign(url, params, "shared-key-secret", "HMAC_SHA256")
    header = [("X-Twilio-Webhooks-Signature-Settings", SHA256_HEADER)]
    async with running(create_app(make_settings(key_prefix, redis_url))) as app:
        unconfigured = await post_form(app, WEBHOOK, params, signature=signature, headers=header)
    settings = make_settings(key_prefix, redis_url, TWILIO_WEBHOOK_SIGNING_KEY="shared-key-secret")
    async with running(create_app(settings)) as app:
        without_header = await post_form(app, WEBHOOK, params, signature=signature)
        wrong_key = await post_form(
            app, WEBHOOK, params, signature=sign(url, params, AUTH_TOKEN, "HMAC_SHA256"), headers=header
        )
        unknown_algorithm = await post_form(
            app,
            WEBHOOK,
            params,
            signature=signature,
            headers=[("X-Twilio-Webhooks-Signature-Settings", "key=k,algorithm=HMAC_MD5")],
        )
        accepted = await post_form(app, WEBHOOK, params, signature=signature, headers=header)
    assert (unconfigured.status, without_header.status, wrong_key.status, unknown_algorithm.status) == (
        403,
        403,
        403,
        403,
    )
    assert accepted.status == 200
    assert len(entries()) == 1


async def test_missing_and_forged_signatures_are_403(app: Any, entries: Any) -> None:
    params = inbound_params()
    body = "&".join(f"{k}={v}" for k, v in params.items()).encode()
    missing = await call(app, WEBHOOK, body=body, headers=[("Content-Type", FORM)])
    empty = await post_form(app, WEBHOOK, params, signature="")
    forged = await post_form(app, WEBHOOK, params, signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    tampered = await post_form(
        app, WEBHOOK, {**params, "Body": "tampered"}, signature=sign(BASE_URL + WEBHOOK, params)
    )
    other_url = await post_form(app, WEBHOOK, params, url="https://attacker.example.com" + WEBHOOK)
    non_ascii = await post_form(app, WEBHOOK, params, signature="ÿÿÿ")
    assert [a.status for a in (missing, empty, forged, tampered, other_url, non_ascii)] == [403] * 6
    assert entries() == []


async def test_query_string_is_signed_as_received(app: Any, entries: Any) -> None:
    query = b"tenant=acme%20co&env=prod"
    ok = await post_form(app, WEBHOOK, inbound_params("SM" + "d" * 32), query=query)
    decoded = await post_form(
        app,
        WEBHOOK,
        inbound_params("SM" + "e" * 32),
        query=query,
        url=BASE_URL + WEBHOOK + "?tenant=acme co&env=prod",
    )
    assert (ok.status, decoded.status) == (200, 403)
    assert len(entries()) == 1


async def test_repeated_and_blank_parameters_are_signed(app: Any, entries: Any) -> None:
    pairs = [*inbound_params(body="").items(), ("MediaUrl0", "b"), ("MediaUrl0", "a"), ("Extra", "")]
    answer = await post_form(app, WEBHOOK, pairs)
    assert answer.status == 200
    [entry] = entries()
    assert entry.fields["Body"] == "" and entry.fields["Extra"] == ""
    assert entry.fields["MediaUrl0"] == "b"  # the first value of a repeated name


async def test_proxy_headers_ignored_unless_trusted(key_prefix: str, redis_url: str, entries: Any) -> None:
    """Without TRUST_PROXY_HEADERS, X-Forwarded-* cannot move the URL being verified."""
    params = inbound_params()
    attacker_url = "https://attacker.example.com" + WEBHOOK
    forwarded = [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "attacker.example.com")]
    async with running(create_app(make_settings(key_prefix, redis_url))) as app:
        answer = await post_form(app, WEBHOOK, params, url=attacker_url, headers=forwarded)
    assert answer.status == 403
    assert entries() == []


async def test_proxy_headers_rebuild_the_url_when_trusted(
    key_prefix: str, redis_url: str, entries: Any
) -> None:
    settings = make_settings(key_prefix, redis_url, PUBLIC_BASE_URL="", TRUST_PROXY_HEADERS="true")
    public = "https://bot.example.com" + WEBHOOK
    async with running(create_app(settings)) as app:
        via_proxy = await post_form(
            app,
            WEBHOOK,
            inbound_params("SM" + "1" * 32),
            url=public,
            headers=[("X-Forwarded-Proto", "https, http"), ("Host", "bot.example.com")],
        )
        forwarded_host = await post_form(
            app,
            WEBHOOK,
            inbound_params("SM" + "2" * 32),
            url=public,
            headers=[
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", "bot.example.com"),
                ("Host", "internal:10000"),
            ],
        )
        http_seen = await post_form(
            app,
            WEBHOOK,
            inbound_params("SM" + "3" * 32),
            url=public,
            headers=[("X-Forwarded-Proto", "http"), ("Host", "bot.example.com")],
        )
        no_headers = await post_form(app, WEBHOOK, inbound_params("SM" + "4" * 32), url=public)
    assert (via_proxy.status, forwarded_host.status, http_seen.status, no_headers.status) == (
        200,
        200,
        403,
        403,
    )
    assert len(entries()) == 2


async def test_public_base_url_wins_over_trusted_headers(key_prefix: str, redis_url: str) -> None:
    settings = make_settings(key_prefix, redis_url, TRUST_PROXY_HEADERS="true")
    async with running(create_app(settings)) as app:
        answer = await post_form(
            app,
            WEBHOOK,
            inbound_params(),
            url="https://attacker.example.com" + WEBHOOK,
            headers=[("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "attacker.example.com")],
        )
    assert answer.status == 403


def test_forwarded_base() -> None:
    assert forwarded_base(b"https", b"bot.example.com") == "https://bot.example.com"
    assert forwarded_base(b"HTTPS, http", b"bot.example.com:8443, x") == "https://bot.example.com:8443"
    assert forwarded_base(None, b"h") is None
    assert forwarded_base(b"ftp", b"h") is None
    assert forwarded_base(b"https", b"h/evil") is None
    assert forwarded_base(b"https", b"user@h") is None
    assert forwarded_base(b"https", "h\u00e9".encode()) is None


async def test_account_sid_must_match(app: Any, entries: Any) -> None:
    other = await post_form(app, WEBHOOK, inbound_params(AccountSid="AC" + "0" * 32))
    missing_params = inbound_params()
    del missing_params["AccountSid"]
    missing = await post_form(app, WEBHOOK, missing_params)
    assert (other.status, missing.status) == (403, 403)
    assert entries() == []
    assert ACCOUNT_SID != "AC" + "0" * 32
