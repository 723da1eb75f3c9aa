"""A menu turned into a phrase lexicon for the message parser, built once per Menu.

The index maps token tuples ("diet", "coke") to what they can mean on this menu (items,
options, kind nouns) and in English (numbers, negations, qualifiers, notes, filler), keeps
the menu words for spelling correction, and the names used for "did you mean" suggestions.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from services.orders.menu.catalog import ItemKind, Menu
from services.orders.understanding.lexicons import lexicon_for
from services.orders.understanding.numbers import NUMBER_PHRASES, NUMERAL, WEAK_NUMBERS, ascii_digits
from services.orders.understanding.words import (
    CHAT_WORDS,
    COMMON_WORDS,
    FILLER_PHRASES,
    KIND_HINTS,
    KIND_NOUNS,
    NEGATIONS,
    NOTE_PHRASES,
    ORDER_VERBS,
    QUALIFIER_PHRASES,
)

__all__ = ["Meaning", "MenuIndex", "index_for", "quote", "tokenize"]

# A minus sign is kept on a number that starts a word ("-1 water"), so that the parser can
# refuse it as a quantity instead of reading "1"; inside a word a hyphen splits ("7-up").
# Numerals that are no plain count ("1e9", "1,000", "1/2") stay one token (numbers.NUMERAL).
_TOKEN_RE = re.compile(
    NUMERAL + r"|[0-9]+x\b|x[0-9]+\b|(?<![\w.])-[0-9]+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|[^\W\d_]+|[,.;!?&+]"
)
_REPEAT_RE = re.compile(r"([a-z])\1{2,}")
_APOSTROPHES = str.maketrans({"'": None, "\u2019": None, "\u2018": None, "`": None, "\u00b4": None})
_CORRECTION_CACHE_SIZE = 4096


def tokenize(text: str) -> list[str]:
    """Lowercase word, number and punctuation tokens of a message or a menu name.

    Accents are dropped ("jalapeño" -> "jalapeno"), apostrophes removed ("i'd" -> "id"),
    hyphens split words ("7-up" -> "7", "up"), "w/" and "w/o" spelled out, letters repeated
    three times or more squeezed to two ("pleeease" -> "pleease"), emoji and symbols dropped.
    Quantity marks stay whole: "x2" and "2x" are single tokens, and so do numerals that are no
    plain count ("1e9", "0x10", "1,000", "1/2", "2-3"). Digits of any script count as digits
    ("٣" -> "3"); "½" is "1/2".
    """
    text = ascii_digits(unicodedata.normalize("NFKD", text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.translate(_APOSTROPHES).replace("\u00d7", "x")
    text = re.sub(r"\bw/o\b|\bw/out\b", " without ", text)
    text = re.sub(r"\bw/", " with ", text)
    text = re.sub(r"\bx\s+([0-9]+)\b", r" x\1 ", text)
    text = _REPEAT_RE.sub(r"\1\1", text)
    return _TOKEN_RE.findall(text)


def _fold(text: str) -> tuple[str, list[int]]:
    """The per-character part of ``tokenize``'s normalisation (accents dropped, lowercase,
    apostrophes removed), with the index in ``text`` each output character came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for part in unicodedata.normalize("NFKD", ch):
            if unicodedata.combining(part):
                continue
            for low in part.lower().translate(_APOSTROPHES).replace("\u00d7", "x"):
                out.append(low)
                origin.append(i)
    return "".join(out), origin


def quote(text: str, phrase: str) -> str:
    """The customer's own words in ``text`` that ``phrase`` (normalised, as the parser
    reports it) was read from: "ピザ" rather than "ヒサ", "Café" rather than "cafe". Falls back
    to ``phrase`` when the words cannot be found (a spelling the parser corrected)."""
    folded, origin = _fold(text)
    found = [(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(folded)]
    wanted = tokenize(phrase)
    size = len(wanted)
    if not size:
        return phrase
    for k in range(len(found) - size + 1):
        if [t for t, _, _ in found[k : k + size]] == wanted:
            start, end = origin[found[k][1]], origin[found[k + size - 1][2] - 1] + 1
            while end < len(text) and unicodedata.combining(text[end]):
                end += 1  # keep a combining mark that followed the last letter
            return text[start:end]
    return phrase


@dataclass(frozen=True, slots=True)
class Meaning:
    """Everything one phrase can mean; a phrase may be an item and an option at once."""

    items: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # (group code, option code)
    noun: str | None = None  # a kind of item: "pizza", "drink"
    number: int | None = None
    weak_number: bool = False
    qualifier: str | None = None
    negation: bool = False
    note: str | None = None
    filler: bool = False

    @property
    def menu(self) -> bool:
        """True when the phrase names something on the menu."""
        return bool(self.items or self.options)


@dataclass(slots=True)
class MenuIndex:
    """Lexicon and lookups derived from one :class:`Menu`; build with :func:`index_for`."""

    menu: Menu
    lexicon: dict[tuple[str, ...], Meaning] = field(default_factory=dict)
    max_phrase: int = 1
    known_words: frozenset[str] = frozenset()
    # ordinary words (English, and the menu's language): never an unknown content word
    common_words: frozenset[str] = COMMON_WORDS
    vocabulary: tuple[str, ...] = ()
    name_words: frozenset[str] = frozenset()  # words of the menu's own names and aliases
    item_groups: dict[str, frozenset[str]] = field(default_factory=dict)
    item_kind: dict[str, ItemKind] = field(default_factory=dict)
    kind_items: dict[str, tuple[str, ...]] = field(default_factory=dict)
    group_single: dict[str, bool] = field(default_factory=dict)
    group_qualifiers: dict[str, bool] = field(default_factory=dict)
    all_groups: frozenset[str] = frozenset()
    group_words: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    suggestion_names: tuple[str, ...] = ()
    suggestion_items: tuple[str, ...] = ()
    # A word that, said after another item's one-word name, makes the name of one item ("coca
    # light", "coca zero"): the word → (that other item's name, the items it may mean: the
    # plain one and the one it names, in menu order).
    variants: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    _corrections: dict[str, str | None] = field(default_factory=dict)

    def correct(self, word: str) -> str | None:
        """The menu word a misspelt token most likely means, or None.

        Edit distance (transpositions count once) of at most 1 for words of 3 to 5
        letters, 2 up to 8 letters, 3 beyond; short words must keep their first letter,
        because customers rarely mistype that one and many short words are near each other,
        and a generated plural that the word merely starts with is no match.
        """
        if word in self._corrections:
            return self._corrections[word]
        result: str | None = None
        size = len(word)
        if size >= 3 and word.isalpha():
            limit = 1 if size <= 5 else 2 if size <= 8 else 3
            found = process.extractOne(word, self.vocabulary, scorer=OSA.distance, score_cutoff=limit)
            if found is not None:
                candidate = str(found[0])
                # the shorter of the two words sets the allowance: "pepsis" is not "pepps"
                shortest = min(size, len(candidate))
                allowed = 1 if shortest <= 5 else 2 if shortest <= 8 else 3
                # a generated form (a plural of an alias) that only begins the customer's word
                # is another word, not a typo: "pepsi" is not "peps" (plural of "pep", i.e.
                # pepperoni); a real menu word with a stray letter is ("cokez" is "coke")
                extends = word.startswith(candidate) and candidate not in self.name_words
                # ... unless the stray letters only repeat its last one ("spritess", "cokess")
                extends = extends and set(word[len(candidate) :]) != {candidate[-1]}
                if found[1] <= allowed and (size > 5 or candidate[0] == word[0]) and not extends:
                    result = candidate
        if len(self._corrections) >= _CORRECTION_CACHE_SIZE:
            self._corrections.clear()
        self._corrections[word] = result
        return result

    def menu_phrase_at(self, tokens: list[str], i: int) -> tuple[int, str]:
        """The longest menu name or alias beginning at ``tokens[i]``: (its length in tokens,
        "item" or "option" for what it names, "" for both); (0, "") when none begins there."""
        for length in range(min(self.max_phrase, len(tokens) - i), 0, -1):
            entry = self.lexicon.get(tuple(tokens[i : i + length]))
            if entry is not None and entry.menu:
                what = "" if entry.items and entry.options else "item" if entry.items else "option"
                return length, what
        return 0, ""

    def suggest(self, phrase: str, limit: int = 3) -> tuple[str, ...]:
        """Item codes whose names or aliases look most like ``phrase``, best first.

        A phrase naming something of a known kind ("pepsi", a drink) gets that kind's items.
        A short name the phrase merely starts with ("pep" in "pepsi") is no suggestion."""
        words = phrase.split()
        for size in (2, 1):
            for i in range(len(words) - size + 1):
                kind = KIND_HINTS.get(" ".join(words[i : i + size]))
                if kind is not None and self.kind_items.get(kind):
                    return self.kind_items[kind][:limit]
        found = process.extract(
            phrase, self.suggestion_names, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=62
        )
        out: list[str] = []
        for name, _score, position in found:
            if len(name) <= 5 and phrase.startswith(name) and phrase != name:
                continue
            code = self.suggestion_items[position]
            if code not in out:
                out.append(code)
            if len(out) == limit:
                break
        return tuple(out)

    def abbreviation(self, text: str, groups: Iterable[str]) -> tuple[str, str] | None:
        """``(group, option)`` when ``text`` is the start of exactly one option word in
        these groups ("med" of "medium"), else None."""
        if " " in text or len(text) < 3:
            return None
        found = {
            (group, option)
            for group in sorted(groups)
            for word, option in self.group_words.get(group, ())
            if word.startswith(text)
        }
        return next(iter(found)) if len(found) == 1 else None

    def groups_for_kind(self, kind: str | None) -> frozenset[str]:
        """Option groups offered by any item of this kind (all groups for None)."""
        if kind is None:
            return self.all_groups
        groups: set[str] = set()
        for code in self.kind_items.get(kind, ()):
            groups |= self.item_groups[code]
        return frozenset(groups)


_LOCK = threading.Lock()
_CACHE: dict[int, tuple[Menu, MenuIndex]] = {}
_CACHE_SIZE = 16


def index_for(menu: Menu) -> MenuIndex:
    """The cached :class:`MenuIndex` of this Menu object (built on first use)."""
    hit = _CACHE.get(id(menu))
    if hit is not None and hit[0] is menu:
        return hit[1]
    index = _build(menu)
    with _LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[id(menu)] = (menu, index)
    return index


def _variants(tokens: tuple[str, ...]) -> Iterable[tuple[str, ...]]:
    """Plural and singular of the last word, and multi-word names written as one word."""
    if not tokens:
        return
    last = tokens[-1]
    forms: set[str] = set()
    if last.isalpha() and len(last) >= 3:
        if last.endswith("y") and last[-2] not in "aeiou":
            forms.add(last[:-1] + "ies")
        elif last.endswith(("s", "x", "ch", "sh")):
            forms.add(last + "es")
        else:
            forms.add(last + "s")
        if last.endswith("o"):
            forms.add(last + "es")
        if last.endswith("ies"):
            forms.add(last[:-3] + "y")
        elif last.endswith(("oes", "ses", "xes", "ches", "shes")):
            forms.add(last[:-2])
        if last.endswith("s") and not last.endswith("ss"):
            forms.add(last[:-1])
    for form in sorted(forms):
        yield (*tokens[:-1], form)
    if len(tokens) > 1 and all(t.isalpha() for t in tokens):
        yield ("".join(tokens),)


def _merge(old: Meaning | None, new: Meaning) -> Meaning:
    if old is None:
        return new
    return replace(
        old,
        items=old.items + tuple(i for i in new.items if i not in old.items),
        options=old.options + tuple(o for o in new.options if o not in old.options),
        noun=old.noun or new.noun,
        number=old.number if old.number is not None else new.number,
        weak_number=old.weak_number or new.weak_number,
        qualifier=old.qualifier or new.qualifier,
        negation=old.negation or new.negation,
        note=old.note or new.note,
        filler=old.filler or new.filler,
    )


def _variant_words(
    menu: Menu, exact: dict[tuple[str, ...], Meaning]
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The words that make another item of a one-word name said before them ("coca light" →
    "light": Coca-Cola Light, else Coca-Cola), kept only when the word makes one item and is
    no menu word of its own (see `MenuIndex.variants`)."""
    found: dict[str, set[tuple[str, str, str]]] = {}
    for tokens, entry in exact.items():
        if len(tokens) != 2 or len(entry.items) != 1 or not tokens[1].isalpha():
            continue
        head = exact.get(tokens[:1])
        if head is None or len(head.items) != 1 or head.items == entry.items:
            continue
        found.setdefault(tokens[1], set()).add((tokens[0], head.items[0], entry.items[0]))
    order = [item.code for item in menu.items()]
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for word, made in found.items():
        if len({item for _, _, item in made}) != 1 or (word,) in exact:
            continue
        name, plain, item = min(made)
        out[word] = (name, tuple(sorted({plain, item}, key=order.index)))
    return out


def _category_nouns(menu: Menu, index: MenuIndex) -> list[tuple[str, Meaning]]:
    """The name of a section of the menu whose items no kind noun names ("a dessert", "un
    postre", "uma sobremesa", "a side"), in the singular and the plural: a noun for a kind
    of item, its items the section's ("which dessert?" is asked, never one guessed)."""
    out: list[tuple[str, Meaning]] = []
    for category in menu.categories:
        codes = tuple(item.code for item in category.items)
        tokens = tuple(tokenize(category.name))
        if not codes or not tokens or any(item.kind != "other" for item in category.items):
            continue
        kind = f"category:{category.code}"
        index.kind_items[kind] = codes
        for form in (tokens, *_variants(tokens)):
            if " ".join(form) not in KIND_NOUNS:
                out.append((" ".join(form), Meaning(noun=kind)))
    return out


def _build(menu: Menu) -> MenuIndex:
    index = MenuIndex(menu=menu)
    exact: dict[tuple[str, ...], Meaning] = {}
    generated: dict[tuple[str, ...], Meaning] = {}

    def add(text: str, entry: Meaning, *, tier: str = "exact") -> None:
        tokens = tuple(tokenize(text))
        if not tokens:
            return
        if entry.items and " ".join(tokens) in KIND_NOUNS:
            return  # an item called "Pizza" is what the noun "pizza" resolves to anyway
        if all(t.isdigit() for t in tokens):
            return  # a bare number is a quantity ("12"), never a name
        if tier == "exact":
            exact[tokens] = _merge(exact.get(tokens), entry)
        else:
            generated[tokens] = _merge(generated.get(tokens), entry)
        for form in _variants(tokens):
            generated[form] = _merge(generated.get(form), entry)

    for item in menu.items():
        index.item_groups[item.code] = frozenset(item.option_groups)
        index.item_kind[item.code] = item.kind
        index.kind_items.setdefault(item.kind, ())
        index.kind_items[item.kind] += (item.code,)
        names = (item.name, item.code.replace("-", " "), *item.aliases)
        for name in names:
            add(name, Meaning(items=(item.code,)))
            tokens = tokenize(name)
            # "Build Your Own Pizza" is also "build your own"
            if len(tokens) > 1 and tokens[-1] in KIND_NOUNS:
                add(" ".join(tokens[:-1]), Meaning(items=(item.code,)), tier="generated")
    for group in menu.option_groups:
        index.group_single[group.code] = group.kind == "single"
        index.group_qualifiers[group.code] = group.qualifiers
        for option in group.options:
            for name in (option.name, option.code.replace("-", " "), *option.aliases):
                entry = Meaning(options=((group.code, option.code),))
                add(name, entry)
                tokens = tokenize(name)
                # "party size" is also "party", "lunch sized" also "lunch"
                if len(tokens) > 1 and tokens[-1] in ("size", "sized"):
                    add(" ".join(tokens[:-1]), entry, tier="generated")
                words = index.group_words.setdefault(group.code, [])
                for word in tokens:
                    if word.isalpha() and len(word) >= 3:
                        words.append((word, option.code))
    index.all_groups = frozenset(index.group_single)

    # English phrases: menu names win over them, numbers over qualifiers, and so on.
    english: list[tuple[str, Meaning]] = []
    for phrase_tokens, value in NUMBER_PHRASES.items():
        english.append(
            (" ".join(phrase_tokens), Meaning(number=value, weak_number=phrase_tokens in WEAK_NUMBERS))
        )
    english += [(p, Meaning(qualifier=q)) for p, q in QUALIFIER_PHRASES.items()]
    english += [(p, Meaning(negation=True)) for p in NEGATIONS]
    english += [(p, Meaning(note=p)) for p in NOTE_PHRASES]
    english += [(p, Meaning(noun=k)) for p, k in KIND_NOUNS.items()]
    english += [(p, Meaning(filler=True)) for p in FILLER_PHRASES]
    language = lexicon_for(menu.locale)
    if language is not None:
        english += [(p, Meaning(noun=k)) for p, k in language.nouns.items()]
    english += _category_nouns(menu, index)
    lexicon: dict[tuple[str, ...], Meaning] = dict(generated)
    for phrase, entry in english:
        key = tuple(tokenize(phrase))
        if key and key not in exact:
            lexicon[key] = entry if key not in lexicon else _merge(entry, lexicon[key])
    lexicon.update(exact)
    index.lexicon = lexicon
    index.max_phrase = max(len(k) for k in lexicon)

    menu_words = {w for k, e in lexicon.items() if e.menu or e.noun for w in k if w.isalpha()}
    index.vocabulary = tuple(sorted(w for w in menu_words if len(w) >= 3))
    index.name_words = frozenset(w for k, e in exact.items() if e.menu for w in k)
    index.common_words = COMMON_WORDS | language.common if language else COMMON_WORDS
    # chat words ("bruh", "ngl", "my sister") and ordering verbs ("grab") are read: they say
    # nothing a message could mean otherwise, so no reading waits on them
    index.known_words = frozenset(
        {w for k in lexicon for w in k}
        | index.common_words
        | {w for k in NEGATIONS for w in k.split()}
        | CHAT_WORDS
        | ORDER_VERBS
    )
    index.variants = _variant_words(menu, exact)
    shown: list[str] = []
    codes: list[str] = []
    for item in menu.items():
        for name in (item.name, *item.aliases):
            shown.append(" ".join(tokenize(name)))
            codes.append(item.code)
    index.suggestion_names = tuple(shown)
    index.suggestion_items = tuple(codes)
    return index
