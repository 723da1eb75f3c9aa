"""Signed Twilio webhooks for load generation, computed before any clock starts.

Each request is an inbound WhatsApp text from its own customer (a fresh `From` and
`MessageSid`), so none is a duplicate and none hits the per-customer throttle: every one takes
ingress' full path (parse, verify, dedupe + enqueue). Signatures follow Twilio's algorithm
(https://www.twilio.com/docs/usage/webhooks/webhooks-security): base64 HMAC-SHA1 over the URL
followed by every parameter name and value, names sorted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from urllib.parse import quote_plus

ACCOUNT_SID = "ACe268443e43d93dab7ebef303bbe9642f"
AUTH_TOKEN = "9f2c1e7a5b3d4c6e8f0a1b2c3d4e5f60"  # noqa: S105 - the sandbox's published fake token
STORE_NUMBER = "whatsapp:+15557650000"
WEBHOOK_PATH = "/api/v1/whatsapp/webhook"


@dataclass(frozen=True, slots=True)
class SignedWebhook:
    """One ready-to-send webhook: its customer, form body and X-Twilio-Signature."""

    customer: str
    body: bytes
    signature: str


def signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature of a form POST of `params` to `url`."""
    payload = url + "".join(k + params[k] for k in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# Values that are the same in every webhook, pre-encoded.
_ENCODED = {"ProfileName": "Load+Test", "To": quote_plus(STORE_NUMBER)}


def inbound(url: str, index: int, run: str, text: str = "menu") -> SignedWebhook:
    """The `index`-th inbound message of load run `run` (customers differ by run and index)."""
    sid = "SM" + os.urandom(16).hex()
    # +1 555 0RR NNNNNN: a run-specific block of 7-digit customer numbers.
    customer = f"whatsapp:+1555{run}{index:07d}"
    params = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Load Test",
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": customer.removeprefix("whatsapp:+"),
        "SmsStatus": "received",
        "Body": text,
        "To": STORE_NUMBER,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": customer,
        "ApiVersion": "2010-04-01",
    }
    # Every value but the text is [A-Za-z0-9:+-]: encoding by hand is exact and 10x faster than
    # urlencode, which matters when a run needs a few hundred thousand of them.
    body = "&".join(f"{k}={_ENCODED.get(k) or quote_plus(v)}" for k, v in params.items())
    return SignedWebhook(customer, body.encode(), signature(url, params))


def write_wrk_file(path: str, url: str, count: int, run: str) -> None:
    """`count` signed webhooks, one `signature<TAB>body` line each, for bench/signed.lua."""
    with open(path, "w") as out:
        for i in range(count):
            hook = inbound(url, i, run)
            out.write(f"{hook.signature}\t{hook.body.decode()}\n")
