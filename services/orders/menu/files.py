"""Menu files: the YAML text of a menu file as a mapping, and its `templates` section.

`catalog.load_menu` validates the rest of the document (docs/menu-format.md).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import yaml

from services.orders.language import DEFAULT_LOCALE, normalize_locale
from services.orders.menu.catalog import MenuError

log = logging.getLogger("services.orders.menu")


def _template(spec: object, path: str) -> dict[str, Any]:
    if not isinstance(spec, dict) or not isinstance(spec.get("content_sid"), str):
        raise MenuError(path, "expected {content_sid: HX..., variables: [...]}")
    if not spec["content_sid"].startswith("HX"):
        raise MenuError(f"{path}.content_sid", "a Content SID starts with HX")
    variables = spec.get("variables", [])
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise MenuError(f"{path}.variables", "expected a list of variable names")
    return {"content_sid": spec["content_sid"], "variables": variables}


def parse_templates(
    document: dict[str, Any], languages: tuple[str, ...] = (DEFAULT_LOCALE,), default: str = DEFAULT_LOCALE
) -> dict[str, Any]:
    """The `templates` section: status -> one template per language.

    A status maps either to one template, `{content_sid: HX…, variables: [...]}`, which is
    the store's default language's, or to one per language, `{en: {...}, es: {...}, pt-BR:
    {...}}` (docs/menu-format.md). Stored as `{content_sid, variables, language}` of the
    default language (when given) plus `languages: {locale: {content_sid, variables}}`.
    Raises `MenuError` for a malformed entry or a language the store does not speak. Twilio
    requires an approved template (ContentSid) for business-initiated messages outside the
    24-hour window (https://www.twilio.com/docs/api/errors/63016); WhatsApp approves one
    template per language.
    """
    raw = document.get("templates") or {}
    if not isinstance(raw, dict):
        raise MenuError("templates", "expected a mapping of status -> template")
    templates: dict[str, Any] = {}
    for status, spec in raw.items():
        path = f"templates.{status}"
        if not isinstance(spec, dict):
            raise MenuError(path, "expected {content_sid: HX..., variables: [...]} or one per language")
        entry: dict[str, Any] = {"languages": {}}
        if "content_sid" in spec:
            entry.update(_template(spec, path), language=default)
        for key, value in spec.items():
            if key in ("content_sid", "variables"):
                continue
            locale = normalize_locale(str(key))
            if locale is None or locale not in languages:
                raise MenuError(f"{path}.{key}", f"not one of the store's languages ({', '.join(languages)})")
            one = _template(value, f"{path}.{key}")
            if locale == default:
                entry.update(one, language=default)
            else:
                entry["languages"][locale] = one
        templates[str(status)] = entry
    return templates


def template_for(templates: dict[str, Any], name: str, language: str | None) -> dict[str, Any] | None:
    """The template `name` (a status, `handoff`, `release`) in the customer's `language`: its
    own when the store has one, else the default language's (logged: the customer reads the
    default language outside the 24-hour window), else None."""
    spec = templates.get(name)
    if not isinstance(spec, dict):
        return None
    own = (spec.get("languages") or {}).get(language or "")
    if own is not None:
        return dict(own)
    if "content_sid" not in spec:
        log.warning(
            "no template for this status in any language the customer reads", extra={"template": name}
        )
        return None
    default = spec.get("language")
    if default is not None and language is not None and language != default:
        log.warning(
            "no template in the customer's language; the default language's is sent",
            extra={"template": name, "language": language, "default_language": default},
        )
    return {"content_sid": spec["content_sid"], "variables": spec.get("variables", [])}


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
