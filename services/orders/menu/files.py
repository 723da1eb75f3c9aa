"""Menu files: the YAML text of a menu file as a mapping, and its `templates` section.

`catalog.load_menu` validates the rest of the document (docs/menu-format.md).
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from services.orders.menu.catalog import MenuError


def parse_templates(document: dict[str, Any]) -> dict[str, Any]:
    """The `templates` section: status -> {"content_sid": "HX…", "variables": [...]}.

    Raises `MenuError` for a malformed entry. Twilio requires an approved template
    (ContentSid) for business-initiated messages outside the 24-hour window
    (https://www.twilio.com/docs/api/errors/63016).
    """
    raw = document.get("templates") or {}
    if not isinstance(raw, dict):
        raise MenuError("templates", "expected a mapping of status -> template")
    templates: dict[str, Any] = {}
    for status, spec in raw.items():
        path = f"templates.{status}"
        if not isinstance(spec, dict) or not isinstance(spec.get("content_sid"), str):
            raise MenuError(path, "expected {content_sid: HX..., variables: [...]}")
        if not spec["content_sid"].startswith("HX"):
            raise MenuError(f"{path}.content_sid", "a Content SID starts with HX")
        variables = spec.get("variables", [])
        if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
            raise MenuError(f"{path}.variables", "expected a list of variable names")
        templates[str(status)] = {"content_sid": spec["content_sid"], "variables": variables}
    return templates


def read_menu_document(text: str) -> dict[str, Any]:
    """Parse a menu file's YAML text into a mapping; raises `MenuError` on bad YAML."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MenuError("", f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise MenuError("", "a menu file is a mapping with store, option_groups and categories")
    # JSON round trip: the document is stored as jsonb and must survive it unchanged.
    document: dict[str, Any] = orjson.loads(orjson.dumps(data, default=str))
    return document
