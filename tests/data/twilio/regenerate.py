"""Recompute the signature vectors with the twilio package's own `RequestValidator`.

`python tests/data/twilio/regenerate.py` prints what differs and exits 1 when a stored value
is not what twilio-python computes; `--write` stores the recomputed values instead. For every
vector it recomputes `signing_string` and `expected_signature` (over `params`, or over the URL
alone for a JSON body carried by `bodySHA256`) and each `validate_results[].accepted`, with the
params that case describes (a form parser that drops blank values, a re-serialised JSON body,
the HMAC_SHA1 default applied to an HMAC_SHA256 signature).

Algorithm: https://www.twilio.com/docs/usage/webhooks/webhooks-security
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

VECTORS = Path(__file__).resolve().parent / "signature-vectors.json"


def signing_string(url: str, params: dict[str, str]) -> str:
    """The exact pre-HMAC string: the URL, then each sorted key followed by its value."""
    return url + "".join(key + params[key] for key in sorted(params))


def case_input(vector: dict[str, Any], case: dict[str, Any]) -> str | dict[str, str]:
    """What `validate()` is given for one case: the raw JSON body or the decoded form params."""
    if vector.get("content_type") == "application/json":
        body: str = vector["raw_body"]
        return json.dumps(json.loads(body)) if "re-serialised" in case["case"] else body
    if "form_body" in vector:
        keep_blanks = "keep_blank_values=False" not in case["case"]
        return dict(parse_qsl(vector["form_body"], keep_blank_values=keep_blanks))
    return dict(vector["params"])


def recompute(vector: dict[str, Any]) -> dict[str, Any]:
    """The vector with every computed field recomputed by twilio-python."""
    validator = RequestValidator(vector["auth_token"])
    algorithm = vector["algorithm"]
    out = dict(vector)
    out["signing_string"] = signing_string(vector["signed_url"], vector["params"])
    out["expected_signature"] = validator.compute_signature(vector["signed_url"], vector["params"], algorithm)
    results = []
    for case in vector["validate_results"]:
        case_algorithm = None if "HMAC_SHA1" in case["case"] else algorithm
        accepted = validator.validate(
            case["validate_url"], case_input(vector, case), out["expected_signature"], case_algorithm
        )
        results.append({**case, "accepted": bool(accepted)})
    out["validate_results"] = results
    return out


def main(argv: list[str] | None = None) -> int:
    """Check (default) or `--write` the vectors file; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the recomputed values")
    parser.add_argument("--vectors", type=Path, default=VECTORS, help="the vectors file")
    args = parser.parse_args(argv)
    document = json.loads(args.vectors.read_text())
    fresh = [recompute(v) for v in document["vectors"]]
    differences = [
        f"{old['id']}: {key} is {old.get(key)!r}, twilio-python computes {new[key]!r}"
        for old, new in zip(document["vectors"], fresh, strict=True)
        for key in ("signing_string", "expected_signature", "validate_results")
        if old.get(key) != new[key]
    ]
    if args.write:
        document["vectors"] = fresh
        args.vectors.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {len(fresh)} vectors ({len(differences)} field(s) changed)")
        return 0
    for line in differences:
        print(line)
    print(f"{len(fresh)} vectors, {len(differences)} difference(s) from twilio-python")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
