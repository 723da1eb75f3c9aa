"""The language layer: every customer text is in every catalog, and the Speaker words and formats
as each locale does (Babel's CLDR data)."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from devtools import catalogs
from services.orders.language import LOCALES, normalize_locale, speaker_for
from services.orders.language.catalogs import DEFAULT_LOCALE, read_catalog
from services.orders.menu.catalog import MenuError, demo_menu_path, load_menu, load_menu_file

TRANSLATED = [loc for loc in LOCALES if loc != DEFAULT_LOCALE]


@pytest.fixture(scope="module")
def template():
    return catalogs.extract()


def test_the_extractor_finds_the_customer_texts(template) -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    # a module-level text, a text said through speaker._, a plural through speaker.n_, a label
    assert "To order, just type what you'd like, e.g. *2 margherita and a coke*." in ids
    assert "Subtotal: {amount}" in ids
    assert "{n} hour" in ids
    assert "Out for delivery" in ids
    assert len(ids) > 150


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_text_is_translated(locale: str, template) -> None:
    """Fails when a catalog misses a text of the code, or leaves one empty or fuzzy (run
    `python -m devtools.catalogs` to add the new texts, then translate them)."""
    assert catalogs.problems(locale, template) == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_keep_the_placeholders(locale: str) -> None:
    """A translation names exactly the placeholders of its English text, so `str.format`
    never fails or drops a value."""
    import string

    def names(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for message in read_catalog(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(names(i) for i in ids)) - {"n"}
        for text in strings:
            assert names(text) - {"n"} == wanted, (locale, message.id, text)


# Words that make the customer a man or a woman ("cuando estés listo", "quando estiver pronto"):
# the bot does not know, so its texts say it without ("cuando quieras", "quando quiser").
GENDERED = {
    "es": ("estés listo", "estés lista", "estás listo", "estás lista", "bienvenido a", "estás seguro"),
    "pt_BR": ("estiver pronto", "estiver pronta", "você está pronto", "bem-vindo", "bem-vinda"),
}


@pytest.mark.parametrize("locale", TRANSLATED)
def test_no_text_assumes_the_customers_gender(locale: str) -> None:
    for message in read_catalog(locale):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            said = [words for words in GENDERED[locale] if words in text.lower()]
            assert not said, (locale, message.id, text)


def test_the_checker_reports_a_missing_text(tmp_path, monkeypatch, template) -> None:
    """The check can fail: a catalog without one of the code's texts is reported."""
    from babel.messages.pofile import read_po, write_po

    with catalogs.po_path("es").open("rb") as fp:
        catalog = read_po(fp, locale="es")
    del catalog["Subtotal: {amount}"]
    catalog["Ready"].string = ""
    catalog["Confirmed"].flags.add("fuzzy")
    path = tmp_path / "es" / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as fp:
        write_po(fp, catalog)
    monkeypatch.setattr(catalogs, "po_path", lambda locale: tmp_path / locale / "LC_MESSAGES" / "messages.po")
    found = catalogs.problems("es", template)
    assert any("missing 'Subtotal: {amount}'" in p for p in found)
    assert any("empty translation of 'Ready'" in p for p in found)
    assert any("fuzzy 'Confirmed'" in p for p in found)


@pytest.mark.parametrize(
    ("locale", "money", "negative", "time", "listed"),
    [
        ("en", "$9.50", "-$1.50", "7:45 PM", "Coke, Water, and Tiramisu"),
        ("es", "9,50 US$", "-1,50 US$", "19:45", "Coke, Water y Tiramisu"),
        ("pt_BR", "US$ 9,50", "-US$ 1,50", "19:45", "Coke, Water e Tiramisu"),
    ],
)
def test_speaker_formats_per_locale(locale: str, money: str, negative: str, time: str, listed: str) -> None:
    speaker = speaker_for(locale, currency="USD", timezone="America/New_York")
    assert speaker.locale == locale
    assert speaker.money(950) == money
    assert speaker.money(-150) == negative
    moment = dt.datetime(2025, 1, 7, 0, 45, tzinfo=dt.UTC)  # 19:45 the day before in New York
    assert speaker.time(moment) == time
    assert speaker.list(["Coke", "Water", "Tiramisu"]) == listed


def test_a_price_is_formatted_once_per_locale_and_currency(monkeypatch: pytest.MonkeyPatch) -> None:
    """A menu shows a dozen prices in every reply: Babel formats each amount once (it costs
    about 0.2 ms of CPU a call), whichever speaker of that locale and currency asks again."""
    from services.orders.language import speaker as speaker_module

    calls: list[object] = []
    real = speaker_module.format_currency

    def counting(*args: object, **kwargs: object) -> str:
        calls.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(speaker_module, "format_currency", counting)
    es = speaker_for("es", currency="MXN", timezone="America/Mexico_City")
    assert [es.money(98765) for _ in range(3)] == ["987,65 MXN"] * 3
    assert speaker_for("es-MX", currency="MXN", timezone="UTC").money(98765) == "987,65 MXN"
    assert speaker_for("en", currency="MXN", timezone="UTC").money(98765) == "MX$987.65"
    assert len(calls) == 2  # es once, en once


def test_speaker_money_in_other_currencies() -> None:
    assert speaker_for("pt_BR", currency="BRL", timezone="America/Sao_Paulo").money(950) == "R$ 9,50"
    assert speaker_for("es", currency="EUR", timezone="Europe/Madrid").money(950) == "9,50 €"
    assert speaker_for("en", currency="EUR", timezone="Europe/Madrid").money(123456) == "€1,234.56"


def test_speaker_translates_formats_and_plurals() -> None:
    en = speaker_for("en", currency="USD", timezone="UTC")
    es = speaker_for("es", currency="USD", timezone="UTC")
    pt = speaker_for("pt-BR", currency="USD", timezone="UTC")
    assert en._("Subtotal: {amount}", amount=en.money(2150)) == "Subtotal: $21.50"
    assert es._("🛒 Your cart:") == "🛒 Tu carrito:"
    assert pt._("🛒 Your cart:") == "🛒 Seu carrinho:"
    assert es.n_("{n} hour", "{n} hours", 1) == "1 hora"
    assert es.n_("{n} hour", "{n} hours", 3) == "3 horas"
    assert pt.n_("{n} minute", "{n} minutes", 0) == "0 minuto"  # Brazilian Portuguese: 0 is singular
    assert en.n_("{n} minute", "{n} minutes", 0) == "0 minutes"
    # a text no catalog knows reads as written
    assert es._("not in any catalog {x}", x=1) == "not in any catalog 1"


def test_locale_names() -> None:
    assert normalize_locale("pt-BR") == normalize_locale("pt") == normalize_locale("PT_br") == "pt_BR"
    assert normalize_locale("es-MX") == "es"
    assert normalize_locale("fr") is None
    assert normalize_locale(None) is None
    assert speaker_for("fr", currency="USD", timezone="UTC").locale == "en"
    assert speaker_for(None, currency="USD", timezone="UTC", default="es").locale == "es"


def test_no_text_is_translated_inside_an_f_string() -> None:
    """Babel's extractor cannot see `speaker._("…")` inside an f-string's braces, so such a text
    would silently stay English: say it before, then put the result in the f-string."""
    import re
    from pathlib import Path

    root = Path(catalogs.ROOT) / "services"
    inside = re.compile(r"""\bf(["'])[^\n]*?\{[^}\n]*\b_\(\s*["']""")
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if inside.search(line)
    ]
    assert found == []


def test_templates_per_language() -> None:
    from services.orders.menu.catalog import MenuError
    from services.orders.menu.files import parse_templates, template_for

    langs = ("en", "es", "pt_BR")
    doc = {
        "templates": {
            "confirmed": {"content_sid": "HXen", "variables": ["number"], "es": {"content_sid": "HXes"}},
            "ready": {"pt-BR": {"content_sid": "HXpt", "variables": ["eta"]}},
        }
    }
    templates = parse_templates(doc, langs, "en")
    assert template_for(templates, "confirmed", "es") == {"content_sid": "HXes", "variables": []}
    assert template_for(templates, "confirmed", "en") == {"content_sid": "HXen", "variables": ["number"]}
    # no Portuguese one: the default language's
    assert template_for(templates, "confirmed", "pt_BR") == {"content_sid": "HXen", "variables": ["number"]}
    assert template_for(templates, "ready", "pt_BR") == {"content_sid": "HXpt", "variables": ["eta"]}
    assert template_for(templates, "ready", "en") is None  # the default language has none
    assert template_for(templates, "preparing", "en") is None
    # the one-template form of older files, and stores loaded before languages existed
    old = {"confirmed": {"content_sid": "HXold", "variables": ["number"]}}
    assert template_for(old, "confirmed", "es") == {"content_sid": "HXold", "variables": ["number"]}
    assert parse_templates({"templates": old})["confirmed"]["content_sid"] == "HXold"
    with pytest.raises(MenuError, match=r"templates\.confirmed\.fr"):
        parse_templates({"templates": {"confirmed": {"fr": {"content_sid": "HXfr"}}}}, langs, "en")
    with pytest.raises(MenuError, match=r"templates\.ready\.es\.content_sid"):
        parse_templates({"templates": {"ready": {"es": {"content_sid": "XX"}}}}, langs, "en")


@pytest.mark.parametrize(
    ("language", "country", "money", "time"),
    [
        ("es", "US", "$9.50", "7:45 p.m."),  # Spanish as written in the US, not in Spain
        ("es", "ES", "9,50 US$", "19:45"),
        ("pt_BR", "US", "US$ 9,50", "19:45"),  # CLDR has no pt_US: Brazil's way stays
        ("en", "US", "$9.50", "7:45 PM"),
    ],
)
def test_money_and_times_are_written_as_in_the_stores_country(
    language: str, country: str, money: str, time: str
) -> None:
    speaker = speaker_for(language, currency="USD", timezone="America/New_York", country=country)
    assert speaker.locale == language  # the words stay the customer's language
    assert speaker.money(950) == money
    assert speaker.time(dt.datetime(2025, 1, 7, 0, 45, tzinfo=dt.UTC)) == time


def test_the_demo_store_is_in_the_us_and_a_bad_country_is_refused() -> None:
    menu = load_menu_file(demo_menu_path())
    assert menu.store.country == "US"
    assert menu.store.speaker("es").money(1150) == "$11.50"
    data = yaml.safe_load(demo_menu_path().read_text(encoding="utf-8"))
    data["store"]["country"] = "USA"
    with pytest.raises(MenuError, match=r"store\.country.*ISO 3166-1 alpha-2"):
        load_menu(data)
