"""`python -m devtools.catalogs`: extract every customer-facing text from the code and bring
each locale's `messages.po` up to date (docs/languages.md).

The texts are the English arguments of `speaker._(...)` and `speaker.n_(...)` (Babel's
Python extractor with the keywords `_` and `n_`) in `services/`. Updating keeps every existing
translation, adds new texts with an empty translation, and drops texts the code no longer has;
a translator then fills in the blanks. `--check` changes nothing and exits 1 while a catalog
misses a text, has an empty or fuzzy one, or keeps one the code no longer uses.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from services.orders.language.catalogs import DEFAULT_LOCALE, LOCALES, po_path

ROOT = Path(__file__).resolve().parent.parent
# `_(message)` and `n_(singular, plural, n)`, as the Speaker names them.
KEYWORDS = {"_": None, "n_": (1, 2)}
# Fixed header dates: regenerating a catalog must not change it when no text changed.
_EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
_HEADER = "# {language} messages of the WhatsApp ordering bot; source texts: services/ (English).\n#"


def extract(root: Path = ROOT) -> Catalog:
    """Every text of `services/` passed to `_` or `n_`, as a template catalog (no translations)."""
    template = Catalog(project="wa-ordering", domain="messages", fuzzy=False, creation_date=_EPOCH)
    method_map = [("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
        root / "services", method_map=method_map, keywords=KEYWORDS, comment_tags=("Translators:",)
    ):
        path = (Path("services") / filename).as_posix()
        template.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return template


def problems(locale: str, template: Catalog) -> list[str]:
    """What is wrong with the catalog of `locale` against the code's texts (empty when nothing)."""
    with po_path(locale).open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    found: list[str] = []
    for message in template:
        if not message.id:
            continue
        have = catalog.get(message.id, context=message.context)
        where = ", ".join(f"{p}:{n}" for p, n in message.locations[:1])
        if have is None:
            found.append(f"{locale}: missing {message.id!r} ({where})")
            continue
        strings = have.string if isinstance(have.string, tuple) else (have.string,)
        if have.fuzzy:
            found.append(f"{locale}: fuzzy {message.id!r}")
        elif not all(strings):
            found.append(f"{locale}: empty translation of {message.id!r}")
    used = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in template if m.id}
    for message in catalog:
        key = (message.id if isinstance(message.id, str) else message.id[0], message.context)
        if message.id and key not in used:
            found.append(f"{locale}: {message.id!r} is no longer in the code")
    return found


def update(locale: str, template: Catalog) -> None:
    """Rewrite the `.po` of `locale`: existing translations kept, new texts empty, gone ones dropped."""
    path = po_path(locale)
    if path.exists():
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=locale)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=locale, domain="messages", project="wa-ordering")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    catalog.creation_date = catalog.revision_date = _EPOCH
    catalog.version = "1"
    catalog.last_translator = catalog.language_team = "wa-ordering"
    catalog.msgid_bugs_address = ""
    catalog.copyright_holder = ""
    language = catalog.locale.english_name if catalog.locale else locale
    catalog.header_comment = _HEADER.format(language=language)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=False, include_lineno=False)
    path.write_bytes(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    """Update the catalogs, or with `--check` report what is missing; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on any problem")
    args = parser.parse_args(argv)
    template = extract()
    locales = [loc for loc in LOCALES if loc != DEFAULT_LOCALE]
    if not args.check:
        for locale in locales:
            update(locale, template)
    found = [p for locale in locales for p in problems(locale, template)]
    for problem in found:
        print(problem)
    print(f"{len(template)} texts; {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
