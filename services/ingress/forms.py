"""Strict parsing of Twilio's `application/x-www-form-urlencoded` webhook bodies.

Twilio posts every parameter as a UTF-8, percent-encoded form field
(https://www.twilio.com/docs/messaging/guides/webhook-request). The signature covers every
parameter, blank values and repeats included
(https://www.twilio.com/docs/usage/webhooks/webhooks-security), so nothing is dropped here:
`a=&a=x` gives `{"a": ""}` with `getall("a") == ["", "x"]`. What a browser form parser
would tolerate, this rejects: broken percent-escapes, bytes that are not UTF-8, too many
fields, overlong names or values.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote_to_bytes

# A `%` not followed by two hex digits.
_BAD_ESCAPE: Final = re.compile(rb"%(?![0-9A-Fa-f]{2})")
MAX_NAME_CHARS: Final = 128


class FormError(ValueError):
    """The body is not an acceptable form; `reason` is a short, log-safe phrase."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Params(dict[str, str]):
    """Decoded form fields: name -> first value, in arrival order (what an envelope carries).

    `repeated` holds every value, in arrival order, of the names that came more than once
    (None when none did). `getall` is what twilio's `RequestValidator.compute_signature` looks
    up first, so it signs every value of a repeated name without a failed attribute probe.
    """

    repeated: dict[str, list[str]] | None = None

    def getall(self, name: str) -> list[str] | tuple[str]:
        """Every value of `name`, in arrival order; raises KeyError when absent."""
        if self.repeated is not None:
            values = self.repeated.get(name)
            if values is not None:
                return values
        return (self[name],)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Params:
        """Params from (name, value) pairs in arrival order."""
        params = cls()
        repeated: dict[str, list[str]] = {}
        for name, value in pairs:
            if name not in params:
                params[name] = value
            elif name in repeated:
                repeated[name].append(value)
            else:
                repeated[name] = [params[name], value]
        if repeated:
            params.repeated = repeated
        return params


def _decode(raw: bytes, max_chars: int) -> str:
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        if _BAD_ESCAPE.search(raw):
            raise FormError("malformed percent-encoding")
        raw = unquote_to_bytes(raw)
    if len(raw) > 4 * max_chars:  # cheap bound before decoding: UTF-8 is at most 4 bytes a char
        raise FormError("field too long")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormError("invalid UTF-8") from None
    if len(text) > max_chars:
        raise FormError("field too long")
    return text


def parse_form(body: bytes, *, max_fields: int, max_field_chars: int) -> Params:
    """Parse a urlencoded body into `Params`, keeping blank values and repeated names.

    A pair without `=` is a name with a blank value; empty pairs (`a=1&&b=2`) are skipped, as
    `urllib.parse.parse_qsl` does. Raises `FormError` for more than `max_fields` pairs, a name
    over 128 characters or a value over `max_field_chars` characters (after decoding), a `%`
    not followed by two hex digits, or bytes that do not decode as UTF-8.
    """
    if not body:
        return Params()
    pairs = body.split(b"&")
    if len(pairs) > max_fields:
        raise FormError("too many fields")
    if b"%" in body and _BAD_ESCAPE.search(body):
        raise FormError("malformed percent-encoding")
    if b"\\" in body or b"%26" in body:
        return _parse_pairs(pairs, max_field_chars)
    # Fast path, all in C: decode every name and value in one pass, joined by "&" (no raw "&"
    # is left, and without "%26" none is decoded), "%XX" turned into "\xXX" for escape_decode
    # (without a raw backslash no other escape exists).
    flat: list[bytes] = []
    for pair in pairs:
        if pair:
            raw_name, _, raw_value = pair.partition(b"=")
            flat.append(raw_name)
            flat.append(raw_value)
    if not flat:
        return Params()
    joined = b"&".join(flat).replace(b"+", b" ")
    if b"%" in joined:
        joined = codecs.escape_decode(joined.replace(b"%", b"\\x"))[0]
    try:
        texts = joined.decode("utf-8").split("&")
    except UnicodeDecodeError:
        raise FormError("invalid UTF-8") from None
    names, values = texts[0::2], texts[1::2]
    if max(map(len, values)) > max_field_chars or max(map(len, names)) > MAX_NAME_CHARS:
        raise FormError("field too long")
    params = Params(zip(names, values, strict=True))
    if len(params) != len(names):  # a repeated name: dict() kept its last value
        return Params.from_pairs(zip(names, values, strict=True))
    return params


def _parse_pairs(pairs: list[bytes], max_field_chars: int) -> Params:
    """The general path: each name and value decoded on its own."""
    decoded = []
    for pair in pairs:
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name = _decode(raw_name, MAX_NAME_CHARS)
        decoded.append((name, _decode(raw_value, max_field_chars) if raw_value else ""))
    return Params.from_pairs(decoded)
