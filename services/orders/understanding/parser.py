"""One customer message to order lines, against one store's menu: pure, deterministic, no I/O.

``parse_order(menu, text)`` reads a message such as "2 large pepperoni with extra cheese but
no onions, a coke and 1 tiramisu" and returns a :class:`ParseResult`:

- ``lines``: understood order lines (item code, quantity, chosen options with qualifiers,
  excluded options, notes, option phrases the store does not have);
- ``ambiguous``: phrases that could mean several items ("pizza" on a menu with five), with the
  candidates to ask about in a numbered list;
- ``unmatched``: phrases that look like an order but match nothing, with the closest items.

How it reads a message:

1. Tokens (menu_index.tokenize), spelling corrected towards menu words with rapidfuzz.
2. Atoms, by longest match in the menu's lexicon: a number, an item ("diet coke"), a kind
   noun ("pizzas"), an option ("thin crust"), a qualifier ("a lot of"), a negation ("hold
   the"), a note ("well done"), a separator, or a plain word.
3. Frames: a number or an item opens a frame; options before an item belong to it
   ("a large thin crust pizza"), options after it too ("pizza with ham"), unless they lead
   to the next item ("... and a large coke"). A negation covers the options that follow it
   through "or"/"and"/"," ("no peppers or onions") until "with", "but", a qualifier or
   another item. A kind noun after "the/those/all" points back instead of opening a frame.
4. Each frame becomes a line, a question (several candidate items) or an unmatched phrase.

The JSON shape of a result is documented in docs/message-parser.md (``ParseResult.to_json``).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from services.orders.menu.catalog import MAX_QUANTITY, ChosenOption, Menu
from services.orders.understanding.lexicons import bridge, lexicon_for
from services.orders.understanding.menu_index import Meaning, MenuIndex, index_for, tokenize
from services.orders.understanding.numbers import number_from_words
from services.orders.understanding.words import (
    ANAPHORS,
    COMMON_WORDS,
    INTERJECTION,
    LIST_WORDS,
    NEGATION_GLUE,
    ORDER_PHRASES,
    ORDER_VERBS,
    POSITIVE_MARKERS,
)

__all__ = [
    "AmbiguousPhrase",
    "BadQuantity",
    "Modifiers",
    "OrderLine",
    "ParseResult",
    "UnknownOption",
    "UnmatchedPhrase",
    "english_reading",
    "guessed_words",
    "parse_order",
    "unread_words",
]

# Messages are cut to this many tokens: nobody orders in more, and it bounds the time.
MAX_TOKENS = 400

_SEPARATORS = frozenset({".", ";", "!", "?"})

# Words between "for" and a name that make the name who or what a line is for, not an order.
_WHOSE = frozenset({"the", "my", "our", "his", "her", "their"})

# Words after a number that make it a count of something other than order lines.
_COUNTED_NOT_ORDERED = frozenset(
    {"topping", "toppings", "item", "items", "ingredient", "ingredients", "slice", "slices",
     "piece", "pieces", "people", "persons", "person", "guests", "minutes", "mins", "min",
     "hours", "hour", "pm", "am", "oclock", "inch", "inches", "cm", "percent", "dollars",
     "bucks", "usd", "euros", "ounce", "ounces", "oz", "ml", "liter", "liters", "litre",
     "litres", "l", "cl", "fl", "gallon", "gallons", "pound", "pounds", "lb", "lbs"}
)  # fmt: skip

# A count said before a topping after "with" ("with 2 ham") as the qualifier it amounts to;
# any larger count reads as "extra".
_AMOUNT_QUALIFIERS = {2: "double", 3: "triple"}

# Words allowed between a qualifier and its option ("half the usual amount of cheese").
_QUALIFIER_GLUE = frozenset(
    {"the", "of", "on", "usual", "normal", "regular", "amount", "portion", "some", "my", "it"}
)

# Words right after a negation that keep it open ("do not add any ham").
_NEGATION_LEAD = frozenset(
    {"add", "adding", "put", "putting", "include", "including", "want", "use", "using",
     "have", "having", "get", "getting", "to", "be", "is", "there", "wanting", "need",
     "like", "with", "on", "in", "it", "them", "for", "me", "us", "please"}
)  # fmt: skip


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnknownOption:
    """An option phrase the store does not offer for the item ("pickles"); ``excluded``
    when the customer asked to leave it out ("no pickles")."""

    phrase: str
    excluded: bool = False
    qualifier: str | None = None


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One understood line: ``quantity`` units of item ``item`` (a menu item code).

    ``options`` are the options the customer named (defaults are not added: pricing applies
    them, see ``Menu.unit_price``); ``excluded`` the ones to leave out; ``notes`` free text
    for the kitchen ("well done"); ``unknown_options`` phrases the store does not have.
    """

    item: str
    quantity: int
    options: tuple[ChosenOption, ...] = ()
    excluded: tuple[ChosenOption, ...] = ()
    notes: tuple[str, ...] = ()
    unknown_options: tuple[UnknownOption, ...] = ()
    text: str = ""


@dataclass(frozen=True, slots=True)
class AmbiguousPhrase:
    """A phrase that could mean several items; ask which (``candidates`` are item codes in
    menu order) and build the line from ``quantity`` and ``options`` once answered."""

    phrase: str
    candidates: tuple[str, ...]
    quantity: int = 1
    options: tuple[ChosenOption, ...] = ()
    excluded: tuple[ChosenOption, ...] = ()
    notes: tuple[str, ...] = ()
    unknown_options: tuple[UnknownOption, ...] = ()


@dataclass(frozen=True, slots=True)
class UnmatchedPhrase:
    """A phrase that looks like something ordered but matches no item; ``suggestions``
    are the closest item codes, best first (possibly none)."""

    phrase: str
    quantity: int | None = None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BadQuantity:
    """Something ordered with a quantity that cannot be used: zero, negative, a fraction or
    above ``MAX_QUANTITY`` ("0 sprite", "-1 water", "2.5 tiramisu", "1000000 coke"). No line
    is made of it: the conversation asks for a whole number in range instead of guessing.
    ``said`` is the quantity as written; ``candidates`` the item codes it was said with."""

    phrase: str
    said: str
    candidates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Modifiers:
    """Options said without naming an item ("no onions", "make it large", "well done"): the
    conversation applies them to the line being talked about. Options are resolved against
    the first group of the menu that has them."""

    options: tuple[ChosenOption, ...] = ()
    excluded: tuple[ChosenOption, ...] = ()
    notes: tuple[str, ...] = ()
    unknown_options: tuple[UnknownOption, ...] = ()
    text: str = ""


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Everything understood in one message (see the module docstring)."""

    lines: tuple[OrderLine, ...] = ()
    ambiguous: tuple[AmbiguousPhrase, ...] = ()
    unmatched: tuple[UnmatchedPhrase, ...] = ()
    modifiers: Modifiers | None = None
    bad_quantities: tuple[BadQuantity, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the message holds nothing that looks like an order or a change."""
        return not (self.lines or self.ambiguous or self.unmatched or self.modifiers or self.bad_quantities)

    @property
    def unknown_options(self) -> tuple[UnknownOption, ...]:
        """Unknown option phrases of all lines and questions, in message order."""
        out: list[UnknownOption] = []
        for line in self.lines:
            out.extend(line.unknown_options)
        for amb in self.ambiguous:
            out.extend(amb.unknown_options)
        if self.modifiers is not None:
            out.extend(self.modifiers.unknown_options)
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"lines": [...], "ambiguous": [...], "unmatched": [...]}``;
        the fields are documented in docs/message-parser.md."""
        return {
            "lines": [
                {
                    "item": line.item,
                    "quantity": line.quantity,
                    "options": [_option_json(o) for o in line.options],
                    "excluded": [_option_json(o) for o in line.excluded],
                    "notes": list(line.notes),
                    "unknown_options": [_unknown_json(u) for u in line.unknown_options],
                    "text": line.text,
                }
                for line in self.lines
            ],
            "ambiguous": [
                {
                    "phrase": amb.phrase,
                    "candidates": list(amb.candidates),
                    "quantity": amb.quantity,
                    "options": [_option_json(o) for o in amb.options],
                    "excluded": [_option_json(o) for o in amb.excluded],
                    "notes": list(amb.notes),
                    "unknown_options": [_unknown_json(u) for u in amb.unknown_options],
                }
                for amb in self.ambiguous
            ],
            "unmatched": [
                {"phrase": u.phrase, "quantity": u.quantity, "suggestions": list(u.suggestions)}
                for u in self.unmatched
            ],
            "modifiers": None
            if self.modifiers is None
            else {
                "options": [_option_json(o) for o in self.modifiers.options],
                "excluded": [_option_json(o) for o in self.modifiers.excluded],
                "notes": list(self.modifiers.notes),
                "unknown_options": [_unknown_json(u) for u in self.modifiers.unknown_options],
                "text": self.modifiers.text,
            },
            "bad_quantities": [
                {"phrase": b.phrase, "said": b.said, "candidates": list(b.candidates)}
                for b in self.bad_quantities
            ],
        }


def _option_json(option: ChosenOption) -> dict[str, Any]:
    return {"group": option.group, "option": option.option, "qualifier": option.qualifier}


def _unknown_json(unknown: UnknownOption) -> dict[str, Any]:
    return {
        "phrase": unknown.phrase,
        "excluded": unknown.excluded,
        "qualifier": unknown.qualifier,
    }


# -- atoms -----------------------------------------------------------------------------

AtomKind = Literal["num", "mult", "head", "opt", "qual", "neg", "note", "sep", "word"]


@dataclass(slots=True)
class _Atom:
    kind: AtomKind
    start: int
    end: int
    text: str
    entry: Meaning | None = None
    number: int = 0
    weak: bool = False
    # for "word": True when the word is ordinary English, False for an unknown content word
    common: bool = True
    # for "num"/"mult": the quantity as written when it is not one we can use ("0", "2.5")
    bad: str | None = None


def _atoms(index: MenuIndex, tokens: list[str], guesses: dict[int, str] | None = None) -> list[_Atom]:
    """Atoms of ``tokens`` (spelling corrected in place). A correction that only lengthens
    the customer's word ("brown" → "browny", the singular of "brownies") is a guess rather
    than a typo fixed: its position and the word as written go into ``guesses``."""
    lexicon = index.lexicon
    known = index.known_words
    for i, tok in enumerate(tokens):
        if tok not in known and tok.isalpha():
            fixed = index.correct(tok)
            if fixed is not None:
                if guesses is not None and fixed.startswith(tok) and fixed not in index.name_words:
                    guesses[i] = tok
                tokens[i] = fixed
    atoms: list[_Atom] = []
    i, n = 0, len(tokens)
    while i < n:
        entry: Meaning | None = None
        size = 0
        for length in range(min(index.max_phrase, n - i), 0, -1):
            found = lexicon.get(tuple(tokens[i : i + length]))
            if found is not None:
                entry, size = found, length
                break
        tok = tokens[i]
        if entry is None:
            atoms.append(_plain(tok, i, index.common_words))
            i += 1
            continue
        if not entry.menu and size > 1:
            entry, size = _yield_to_menu(index, tokens, i, entry, size)
        text = " ".join(tokens[i : i + size])
        atoms.append(_from_entry(entry, i, i + size, text))
        i += size
    return _normal_amounts(index, atoms)


def _normal_amounts(index: MenuIndex, atoms: list[_Atom]) -> list[_Atom]:
    """ "normal ham", "regular cheese": "normal" before a topping says its amount (none of
    light or extra), not the medium size it is an alias of."""
    out = list(atoms)
    for k, atom in enumerate(atoms[:-1]):
        nxt = atoms[k + 1]
        if (
            atom.kind == "opt"
            and atom.text in ("normal", "regular")
            and nxt.kind == "opt"
            and nxt.entry is not None
            and nxt.entry.options
            and not nxt.entry.items
            and all(index.group_qualifiers.get(g, False) for g, _ in nxt.entry.options)
        ):
            out[k] = _Atom("word", atom.start, atom.end, atom.text)
    return out


def _yield_to_menu(
    index: MenuIndex, tokens: list[str], i: int, entry: Meaning, size: int
) -> tuple[Meaning, int]:
    """Shorten an English phrase that overlaps a longer menu name: in "extra spicy red
    sauce" the note "extra spicy" gives way to "extra" + "spicy red sauce"."""
    n = len(tokens)
    for j in range(i + 1, i + size):
        for length in range(min(index.max_phrase, n - j), i + size - j, -1):
            found = index.lexicon.get(tuple(tokens[j : j + length]))
            if found is not None and found.menu:
                for cut in range(j - i, 0, -1):
                    shorter = index.lexicon.get(tuple(tokens[i : i + cut]))
                    if shorter is not None:
                        return shorter, cut
                return entry, size
    return entry, size


def _is_number(tok: str) -> bool:
    """Digits, maybe signed or with a decimal part ("12", "-1", "2.5")."""
    body = tok.removeprefix("-")
    whole, _, fraction = body.partition(".")
    return tok.isascii() and whole.isdigit() and (fraction == "" or fraction.isdigit())


def _plain(tok: str, i: int, common_words: frozenset[str]) -> _Atom:
    if _is_number(tok):
        if tok.isdigit() and 0 < int(tok) <= MAX_QUANTITY:
            return _Atom("num", i, i + 1, tok, number=int(tok))
        # zero, negative, a fraction or too many: still a quantity, so that "0 sprite" is not
        # read as one sprite; the frame reports it instead of making a line (BadQuantity)
        return _Atom("num", i, i + 1, tok, number=1, bad=tok)
    if tok.isascii() and (
        (tok[0].isdigit() and tok.endswith("x")) or (tok.startswith("x") and tok[1:].isdigit())
    ):
        value = int(tok.strip("x"))
        # "2x" reads as a number when something follows it; fixed up in _frames
        bad = None if 0 < value <= MAX_QUANTITY else tok
        return _Atom(
            "mult", i, i + 1, tok, number=value if bad is None else 1, weak=tok.startswith("x"), bad=bad
        )
    if tok[0].isdigit() and tok.isascii():
        # a numeral that is no plain count ("1e9", "0x10", "1,000", "1/2", "2-3"): refused as
        # a quantity, never read as one of its parts
        return _Atom("num", i, i + 1, tok, number=1, bad=tok)
    if tok in _SEPARATORS:
        return _Atom("sep", i, i + 1, tok)
    if tok in (",", "&", "+"):
        return _Atom("word", i, i + 1, "and" if tok != "," else ",")
    common = tok in common_words or len(tok) < 2 or not tok.isalpha()
    return _Atom("word", i, i + 1, tok, common=common)


def _from_entry(entry: Meaning, start: int, end: int, text: str) -> _Atom:
    if entry.items and not entry.options:
        return _Atom("head", start, end, text, entry)
    if entry.options:
        return _Atom("opt", start, end, text, entry)
    if entry.number is not None:
        return _Atom("num", start, end, text, entry, number=entry.number, weak=entry.weak_number)
    if entry.qualifier:
        return _Atom("qual", start, end, text, entry)
    if entry.negation:
        return _Atom("neg", start, end, text, entry)
    if entry.note:
        return _Atom("note", start, end, text, entry)
    if entry.noun:
        return _Atom("head", start, end, text, entry)
    return _Atom("word", start, end, text, entry)


# -- frames ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Mod:
    atom: _Atom
    negated: bool
    qualifier: str | None
    prefix: bool  # before the frame's head


@dataclass(slots=True)
class _Unknown:
    text: str
    negated: bool
    qualifier: str | None
    prefix: bool
    option_context: bool
    end: int
    after_option: bool = False
    after_verb: bool = False
    names_thing: bool = False  # right after an option word: "garlic knots", "ham sandwich"


@dataclass(slots=True)
class _Frame:
    start: int
    end: int
    number: int | None = None
    weak: bool = False
    items: tuple[str, ...] = ()
    noun: str | None = None
    head_text: str = ""
    mods: list[_Mod] = field(default_factory=list)
    unknown: list[_Unknown] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    multiplier: int | None = None
    listing: bool = False  # options are being listed after the head ("with ham, ...")
    bad_quantity: str | None = None  # a quantity we cannot use, as written
    guess: str | None = None  # the head is one word only guessed at ("brown"), as written

    @property
    def has_head(self) -> bool:
        return bool(self.items) or self.noun is not None

    @property
    def names_item(self) -> bool:
        """A head, or an option that is also an item ("pepperoni x2")."""
        return self.has_head or any(m.atom.entry and m.atom.entry.items for m in self.mods)


class _Reader:
    """Walks the atoms once, opening frames and attaching modifiers (see module doc)."""

    def __init__(
        self, index: MenuIndex, tokens: list[str], atoms: list[_Atom], guesses: dict[int, str] | None = None
    ) -> None:
        self.index = index
        self.tokens = tokens
        self.atoms = atoms
        self.guesses = guesses or {}
        self.frames: list[_Frame] = []
        self.cur: _Frame | None = None
        self.loose: list[_Unknown] = []
        self.negated = False
        self.neg_fresh = False  # the previous meaningful atom was the negation itself
        self.qualifier: str | None = None
        self.option_context = False

    # groups an item, a kind or an open frame accepts
    def _frame_groups(self, frame: _Frame) -> frozenset[str]:
        if frame.items:
            groups: set[str] = set()
            for code in frame.items:
                groups |= self.index.item_groups.get(code, frozenset())
            return frozenset(groups)
        return self.index.groups_for_kind(frame.noun)

    def _head_groups(self, atom: _Atom) -> frozenset[str]:
        assert atom.entry is not None
        if atom.entry.items:
            groups: set[str] = set()
            for code in atom.entry.items:
                groups |= self.index.item_groups.get(code, frozenset())
            return frozenset(groups)
        return self.index.groups_for_kind(atom.entry.noun)

    @staticmethod
    def _opt_groups(atom: _Atom) -> set[str]:
        assert atom.entry is not None
        return {g for g, _ in atom.entry.options}

    def _head_kind(self, atom: _Atom) -> str | None:
        assert atom.entry is not None
        if atom.entry.items:
            kinds = {self.index.item_kind.get(c) for c in atom.entry.items}
            return next(iter(kinds)) if len(kinds) == 1 else None
        return atom.entry.noun

    def _frame_kind(self, frame: _Frame) -> str | None:
        if frame.items:
            kinds = {self.index.item_kind.get(c) for c in frame.items}
            return next(iter(kinds)) if len(kinds) == 1 else None
        return frame.noun

    def _open(self, atom: _Atom) -> _Frame:
        if self.cur is not None:
            self.frames.append(self.cur)
        self.cur = _Frame(start=atom.start, end=atom.end)
        self.qualifier = None
        return self.cur

    def _prev_words(self, atom: _Atom, count: int) -> list[str]:
        return self.tokens[max(0, atom.start - count) : atom.start]

    def run(self) -> tuple[list[_Frame], list[_Unknown]]:
        atoms = self.atoms
        for k, atom in enumerate(atoms):
            handler = getattr(self, f"_on_{atom.kind}")
            handler(k, atom)
            if self.cur is not None and (atom.kind != "word" or not atom.common):
                self.cur.end = max(self.cur.end, atom.end)
        if self.cur is not None:
            self.frames.append(self.cur)
        return self.frames, self.loose

    def _end_negation(self) -> None:
        self.negated = False
        self.neg_fresh = False

    def _on_num(self, k: int, atom: _Atom) -> None:
        if atom.end < len(self.tokens) and self.tokens[atom.end] in _COUNTED_NOT_ORDERED:
            return  # "a two topping pizza": a count of something else
        cur = self.cur
        prev = self.atoms[k - 1] if k > 0 else None
        if (
            atom.text == "one"
            and prev is not None
            and prev.kind == "opt"
            and cur is not None
            and not cur.has_head
            and cur.number is not None
            and cur.weak
            and not any(m.atom.entry is not None and m.atom.entry.items for m in cur.mods)
        ):
            # "a large one, and some wings": "one" stands for a line named before; what
            # follows is another order
            self.frames.append(cur)
            self.cur = None
            return
        if atom.weak and cur is not None and cur.has_head:
            nxt = self.atoms[k + 1] if k + 1 < len(self.atoms) else None
            names = nxt is not None and nxt.entry is not None and bool(nxt.entry.items)
            after = self.atoms[k + 2] if k + 2 < len(self.atoms) else None
            # "un agua y una light": a word that makes another item of a name, said alone
            alone = (
                nxt is not None
                and nxt.text in self.index.variants
                and (after is None or after.kind not in ("opt", "qual"))
            )
            if (
                nxt is not None
                and nxt.kind in ("opt", "qual")
                and not names
                and not alone
                and not self._repeats_choice(cur, nxt)
                and self._leads_to_head(k + 1, dual=True) is None
                and not self._shares_out(k, cur)
            ):
                return  # "with a thin crust": an article, not another order
        listing = cur is not None and cur.has_head and cur.listing
        if not atom.weak and listing and cur is not None and self._counts_topping(k, cur):
            # "a margherita with 50 extra pepperoni": an amount of a topping, not fifty pizzas;
            # read as a qualifier ("2 ham" is double ham) so the line shows what was understood
            if self.qualifier is None and atom.bad is None:
                self.qualifier = _AMOUNT_QUALIFIERS.get(atom.number, "extra") if atom.number > 1 else None
            return
        self._end_negation()
        frame = self._open(atom)
        frame.number = atom.number
        frame.weak = atom.weak
        frame.bad_quantity = atom.bad
        self.option_context = True

    def _shares_out(self, k: int, frame: _Frame) -> bool:
        """ "two margheritas , a large and another small": after a comma, and with another
        count after it, "a" starts one of the units of the count before it, not an article."""
        if (frame.number or 0) <= 1 or k == 0 or self.atoms[k - 1].text != ",":
            return False
        return any(a.kind == "num" for a in self.atoms[k + 1 :])  # another unit said after it

    def _counts_topping(self, k: int, frame: _Frame) -> bool:
        """True when the number at atom k, said while options are listed after "with", counts
        a topping or qualifier of the frame's item rather than ordering something new."""
        nxt = self.atoms[k + 1] if k + 1 < len(self.atoms) else None
        if nxt is None or nxt.kind not in ("opt", "qual") or self._leads_to_head(k + 1) is not None:
            return False
        if nxt.entry is not None and nxt.entry.items:
            # "1 hawaiian small, 1 pepperoni small": one of a topping after a list word orders
            # the item of that name ("with 1 pepperoni" stays a topping)
            before = self.tokens[self.atoms[k].start - 1] if self.atoms[k].start > 0 else ""
            if self.atoms[k].number == 1 and before in LIST_WORDS:
                return False
        if nxt.kind == "qual":
            return True
        return bool(self._opt_groups(nxt) & self._frame_groups(frame))

    def _repeats_choice(self, frame: _Frame, atom: _Atom) -> bool:
        """True when ``atom`` picks again in a single-choice group the frame already chose in
        ("a large pizza with bacon and a medium with ham": the medium is another pizza)."""
        if atom.entry is None or atom.kind != "opt":
            return False
        groups = self._frame_groups(frame)
        singles = {g for g, _ in atom.entry.options if g in groups and self.index.group_single[g]}
        return any(
            not m.negated and m.atom.entry is not None and any(g in singles for g, _ in m.atom.entry.options)
            for m in frame.mods
        )

    def _on_mult(self, k: int, atom: _Atom) -> None:
        nxt = self.atoms[k + 1] if k + 1 < len(self.atoms) else None
        leads = nxt is not None and nxt.kind in ("head", "opt", "qual")
        if (not atom.weak and leads) or self.cur is None or not self.cur.names_item:
            self._on_num(k, atom)
            return
        self.cur.multiplier = atom.number
        self.cur.bad_quantity = atom.bad or self.cur.bad_quantity

    def _on_head(self, k: int, atom: _Atom) -> None:
        assert atom.entry is not None
        before = self._prev_words(atom, 2)
        if atom.entry.items and len(before) == 2 and before[0] == "for" and before[1] in _WHOSE:
            return  # "2 salads for the vegetarians", "dip for the wings": who or what it is for
        self._end_negation()
        self.option_context = False
        cur = self.cur
        is_noun = not atom.entry.items
        kind = self._head_kind(atom)
        same = cur is not None and (
            (is_noun and kind == self._frame_kind(cur))
            or (not is_noun and set(atom.entry.items) == set(cur.items))
        )
        if cur is not None and cur.has_head and same:
            prev = self._prev_words(atom, 2)
            between = self.atoms[k - 1] if k > 0 else None
            adjacent = between is not None and between.kind in ("head", "opt", "qual")
            if is_noun and cur.noun is None and adjacent:
                cur.noun = kind  # "pepperoni pizza", "dr pepper drinks"
                return
            if any(w in ANAPHORS for w in prev) or (is_noun and cur.noun is not None and adjacent):
                return  # "on all of those pizzas": the same order again
        if cur is not None and not cur.has_head:
            dual_kinds = {
                self.index.item_kind.get(c)
                for m in cur.mods
                if m.atom.entry is not None
                for c in m.atom.entry.items
            }
            if not dual_kinds or (is_noun and kind in dual_kinds):
                self._set_head(cur, atom)
                return
            # "pepperoni, coke": the option-like word was an item of its own
        if (
            cur is not None
            and cur.noun is not None
            and not cur.items
            and not is_noun
            and kind == cur.noun
            and not self._crossed_marker(cur, atom)
        ):
            self._set_head(cur, atom)  # "pizza margherita"
            return
        self._set_head(self._open(atom), atom)

    def _crossed_marker(self, frame: _Frame, atom: _Atom) -> bool:
        words = self.tokens[frame.start : atom.start]
        return any(w in POSITIVE_MARKERS or w in LIST_WORDS or w in _SEPARATORS for w in words)

    def _set_head(self, frame: _Frame, atom: _Atom) -> None:
        assert atom.entry is not None
        if atom.entry.items:
            frame.items = atom.entry.items
        else:
            frame.noun = atom.entry.noun
        frame.head_text = atom.text
        single = atom.end - atom.start == 1
        frame.guess = self.guesses.get(atom.start) if single and atom.entry.items else None
        for mod in frame.mods:
            mod.prefix = True

    def _leads_to_head(self, k: int, *, dual: bool = False) -> _Atom | None:
        """The head an option chain starting at atom k leads to, if it accepts them all. With
        `dual`, a chain of single-choice options ending in an option that is also an item
        leads to that item ("a large pepperoni": the pizza, not the topping)."""
        j = k
        groups: list[set[str]] = []
        while j < len(self.atoms):
            atom = self.atoms[j]
            if atom.kind == "opt":
                groups.append(self._opt_groups(atom))
            elif not (
                atom.kind == "qual"
                or (
                    atom.kind == "word"
                    and atom.text in ("and", ",")
                    and j + 1 < len(self.atoms)
                    and self.atoms[j + 1].kind in ("opt", "qual")
                )
                # "a bottle of sprite", "a can of coke": the option, then the item
                or (
                    atom.kind == "word"
                    and atom.text == "of"
                    and groups
                    and j + 1 < len(self.atoms)
                    and self.atoms[j + 1].kind == "head"
                )
            ):
                break
            j += 1
        if dual and (j >= len(self.atoms) or self.atoms[j].kind != "head") and len(groups) > 1:
            last = self.atoms[j - 1]
            chain = self.atoms[k : j - 1]
            if (
                last.kind == "opt"
                and last.entry is not None
                and last.entry.items
                and all(a.kind == "opt" or a.text in ("and", ",") for a in chain)
                and all(self.index.group_single.get(g) for g in set().union(*groups[:-1]))
                and all(g & self._head_groups(last) for g in groups[:-1])
            ):
                return last
        if j >= len(self.atoms) or self.atoms[j].kind != "head" or not groups:
            return None
        head = self.atoms[j]
        accepted = self._head_groups(head)
        if all(g & accepted for g in groups):
            return head
        return None

    def _target(self, atom: _Atom) -> _Frame:
        """The frame an option after a head belongs to: the latest one that offers it."""
        assert self.cur is not None
        groups = self._opt_groups(atom)
        for frame in (self.cur, *reversed(self.frames)):
            if groups & self._frame_groups(frame):
                return frame
        return self.cur

    def _on_opt(self, k: int, atom: _Atom) -> None:
        cur = self.cur
        if self.negated and not self.neg_fresh and self.qualifier is not None:
            self._end_negation()
        if self.negated and not self.neg_fresh and cur is not None:
            # "no extra pineapple, normal is fine": the negation of a list of toppings does not
            # reach an option of another group (a size is not "no medium")
            said = [m for m in cur.mods if m.negated]
            groups = self._opt_groups(said[-1].atom) if said else set()
            if groups and not groups & self._opt_groups(atom):
                self._end_negation()
        dual = atom.entry is not None and bool(atom.entry.items)
        if (
            cur is None
            or (cur.has_head and self._starts_new(k, atom))
            or (dual and cur.has_head and not cur.listing and not self.negated)
            or (dual and cur.has_head and not self.negated and self._item_not_topping(k, atom, cur))
            or (dual and not cur.has_head and cur.names_item and not cur.listing)
            or (not cur.has_head and cur.names_item and self._listed_before_head(k))
            # "large pepperoni, small pepperoni": a size again, leading to an item, is another line
            or (
                not cur.has_head
                and cur.names_item
                and self._repeats_choice(cur, atom)
                and self._leads_to_head(k, dual=True) is not None
            )
        ):
            # "a margherita, a pepperoni": an item named after another, not its topping
            cur = self._open(atom)
        target = cur if not cur.has_head else self._target(atom)
        target.mods.append(_Mod(atom, self.negated, self.qualifier, prefix=not cur.has_head))
        target.end = max(target.end, atom.end)
        if target.has_head and not dual:
            target.listing = True
        self.qualifier = None
        self.neg_fresh = False
        self.option_context = True

    def _listed_before_head(self, k: int) -> bool:
        """ "large pepperoni and large coke": after "and" or a comma, options that lead to an
        item that takes them all belong to that item, not to the line before (whose name is
        also a topping, so it has no head yet)."""
        prev = self.atoms[k - 1] if k > 0 else None
        if prev is None or prev.kind != "word" or prev.text not in ("and", ",", "&", "plus", "n"):
            return False
        head = self._leads_to_head(k)
        return head is not None and head.entry is not None and bool(head.entry.items)

    def _item_not_topping(self, k: int, atom: _Atom, frame: _Frame) -> bool:
        """An option that is also an item, said after a line: the item when the line cannot
        take it ("2 cokes + pepperoni") or when the size it comes with is one the line has
        already chosen ("hawaiian large and pepperoni large")."""
        if not self._opt_groups(atom) & self._frame_groups(frame):
            return True
        nxt = self.atoms[k + 1] if k + 1 < len(self.atoms) else None
        before = self.tokens[atom.start - 1] if atom.start > 0 else ""
        return nxt is not None and before in LIST_WORDS and self._repeats_choice(frame, nxt)

    def _sized_name_after(self, k: int) -> bool:
        """ "large hawaiian, large pepperoni": after "and" or a comma, options with a single
        choice (a size) that lead to a name that is both an item and a topping, and that the
        item takes, name that item: nobody says a size for a topping."""
        if k == 0 or self.atoms[k - 1].kind != "word" or self.atoms[k - 1].text not in ("and", ","):
            return False
        groups: set[str] = set()
        j = k
        while j < len(self.atoms) and self.atoms[j].kind == "opt":
            atom = self.atoms[j]
            assert atom.entry is not None
            if atom.entry.items:
                takes = self._head_groups(atom)
                return j > k and any(self.index.group_single.get(g, False) and g in takes for g in groups)
            groups |= self._opt_groups(atom)
            j += 1
        return False

    def _starts_new(self, k: int, atom: _Atom) -> bool:
        if self.cur is not None and self._sized_name_after(k):
            return True
        head = self._leads_to_head(k, dual=True)
        if head is None or self.cur is None:
            return False
        assert head.entry is not None
        prev = self.atoms[k - 1] if k > 0 else None
        if head.entry.noun is not None and head.entry.noun == self._frame_kind(self.cur):
            # "a large pie with pesto and ham pizza" says the same pie again, unless an option
            # on the way names an item of that kind ("a margherita and pepperoni pizza")
            chain = self.atoms[k : self.atoms.index(head)]
            kind = head.entry.noun
            if not any(
                a.entry is not None and any(self.index.item_kind.get(c) == kind for c in a.entry.items)
                for a in chain
            ):
                return False
        return prev is None or prev.kind != "qual"

    def _on_qual(self, k: int, atom: _Atom) -> None:
        assert atom.entry is not None
        if self.negated and not self.neg_fresh:
            self._end_negation()
        if self.cur is None:
            self._open(atom)
        self.qualifier = atom.entry.qualifier

    def _on_neg(self, k: int, atom: _Atom) -> None:
        if self.cur is not None and self.cur.has_head:
            self.cur.listing = True
        self.negated = True
        self.neg_fresh = True
        self.qualifier = None
        self.option_context = True
        if self.cur is None:
            self._open(atom)

    def _on_note(self, k: int, atom: _Atom) -> None:
        assert atom.entry is not None and atom.entry.note is not None
        frame = self.cur if self.cur is not None else self._open(atom)
        note = atom.entry.note
        frame.notes.append(f"no {note}" if self.negated and self.neg_fresh else note)
        self._end_negation()

    def _on_sep(self, k: int, atom: _Atom) -> None:
        self._end_negation()
        self.qualifier = None
        self.option_context = False

    def _everything_but(self, k: int, atom: _Atom) -> bool:
        nxt = self.atoms[k + 1] if k + 1 < len(self.atoms) else None
        before = self.tokens[atom.start - 1] if atom.start > 0 else ""
        return (
            nxt is not None
            and nxt.kind in ("opt", "word")
            and before in ("everything", "all", "works", "anything", "toppings")
        )

    def _on_word(self, k: int, atom: _Atom) -> None:
        word = atom.text
        if word in LIST_WORDS:
            # a list goes on; a negation goes on only when an option follows directly
            nxt = self.atoms[k + 1] if k + 1 < len(self.atoms) else None
            if self.negated and (nxt is None or nxt.kind not in ("opt", "word", "note")):
                self._end_negation()
            self.neg_fresh = False
            self.option_context = self.option_context or self.cur is not None
            return
        if word == "but" and self._everything_but(k, atom):
            self.negated = True  # "everything but anchovies", "the works but olives"
            self.neg_fresh = True
            return
        if word in POSITIVE_MARKERS:
            if self.cur is not None and self.cur.names_item:
                self.cur.listing = True
            if self.neg_fresh and word in _NEGATION_LEAD:
                return
            self._end_negation()
            self.qualifier = None
            self.option_context = True
            return
        if atom.common:
            if self.neg_fresh and word in _NEGATION_LEAD:
                return
            if word not in NEGATION_GLUE:
                self._end_negation()
                if word not in _QUALIFIER_GLUE:
                    self.qualifier = None
                self.option_context = False
            return
        unknown = _Unknown(
            text=word,
            negated=self.negated,
            qualifier=self.qualifier,
            prefix=self.cur is not None and not self.cur.has_head,
            option_context=self.option_context,
            end=atom.end,
            after_option=self.cur is not None and bool(self.cur.mods),
            after_verb=any(t in ORDER_VERBS for t in self.tokens[: atom.start]),
            names_thing=(
                k > 0
                and self.atoms[k - 1].kind == "opt"
                and self.atoms[k - 1].end == atom.start
                and self.cur is not None
                and not self.cur.has_head
                and not self.cur.listing
            ),
        )
        holder = self.loose if self.cur is None else self.cur.unknown
        last = holder[-1] if holder else None
        if last is not None and last.end == atom.start:
            last.text = f"{last.text} {word}"
            last.end = atom.end
        else:
            holder.append(unknown)
        self.qualifier = None
        self.neg_fresh = False


# -- frames to results -----------------------------------------------------------------


def _distribute(frames: list[_Frame]) -> list[_Frame]:
    """ "two pizzas, one with ham and one with pineapple": the headless frames that share out
    the quantity of the frame before them take its head and options, and replace it."""
    out: list[_Frame] = []
    i = 0
    while i < len(frames):
        frame = frames[i]
        total = frame.number or 0
        j = i + 1
        parts: list[_Frame] = []
        while (
            j < len(frames)
            and not frames[j].has_head
            and frames[j].number is not None
            and not _names_another_item(frames[j])
            and sum(p.number or 0 for p in parts) < total
        ):
            parts.append(frames[j])
            j += 1
        headed = frame.has_head or _dual_head(frame) is not None  # "two pepperoni, one large and …"
        if headed and len(parts) >= 2 and sum(p.number or 0 for p in parts) == total:
            for part in parts:
                part.items, part.noun, part.head_text = frame.items, frame.noun, frame.head_text
                part.mods = [*frame.mods, *part.mods]
                out.append(part)
            i = j
            continue
        out.append(frame)
        i += 1
    return out


def _dual_head(frame: _Frame) -> _Mod | None:
    """The option of a headless frame that names its item ("2 pepperoni": the item or the
    topping, told apart in `_resolve`), if it has one."""
    if frame.has_head:
        return None
    for mod in frame.mods:
        entry = mod.atom.entry
        if entry is not None and entry.items and mod.prefix and not mod.negated and mod.qualifier is None:
            return mod
    return None


def _takes_head(index: MenuIndex, frame: _Frame, other: _Frame) -> bool:
    """Whether `frame` is a numbered frame of single-choice options only (a size) that
    `other`, a numbered frame that names its item, could take as the same thing."""
    if frame.has_head or frame.number is None or other.number is None or frame.unknown or not frame.mods:
        return False
    if not (other.has_head or _dual_head(other) is not None):
        return False
    return all(
        m.atom.entry is not None
        and not m.atom.entry.items
        and all(index.group_single.get(g) for g, _ in m.atom.entry.options)
        for m in frame.mods
    )


def _take_head(frame: _Frame, other: _Frame, *, options: bool) -> None:
    dual = _dual_head(other)
    frame.items, frame.noun, frame.head_text = other.items, other.noun, other.head_text
    if dual is not None:
        frame.mods = [*frame.mods, dual]
    if options:
        frame.mods = [*frame.mods, *(m for m in other.mods if not m.prefix)]


def _names_another_item(frame: _Frame) -> bool:
    """ "2 margheritas, a pepperoni, a large one": a frame whose first option is an item named
    right after its number orders that item; it is no share of the quantity before it."""
    first = frame.mods[0] if frame.mods else None
    return (
        first is not None
        and first.atom.entry is not None
        and bool(first.atom.entry.items)
        and (first.atom.start > 0 and first.atom.start - 1 <= frame.start)
    )


def _described_again(index: MenuIndex, tokens: list[str], frames: list[_Frame]) -> list[_Frame]:
    """A line said again in other words orders nothing more: "maybe a pepperoni too, a large
    one" ("a <options> one" right after a single line that names an item: a choice that line
    has not made yet) and "some wings, one order of wings" (how many of them)."""
    out: list[_Frame] = []
    for frame in frames:
        prev = out[-1] if out else None
        groups = {g for m in frame.mods if m.atom.entry is not None for g, _ in m.atom.entry.options}
        before = prev.mods if prev else []
        chosen = {g for m in before if m.atom.entry is not None for g, _ in m.atom.entry.options}
        if (
            prev is not None
            and prev.items
            and frame.items == prev.items
            and prev.number is None
            and frame.number is not None
            and prev.start > 0
            and tokens[prev.start - 1] == "some"
            and tokens[prev.end : frame.start] == [","]
        ):
            # "some wings, one order of wings": how many of them, said again
            prev.number, prev.weak = frame.number, frame.weak
            prev.mods.extend(frame.mods)
            prev.end = frame.end
            continue
        if (
            prev is not None
            and prev.names_item
            and (prev.multiplier or prev.number or 1) == 1
            and not frame.has_head
            and frame.number == 1
            and not frame.unknown
            and frame.mods
            and tokens[frame.end : frame.end + 1] == ["one"]
            and all(
                m.atom.entry is not None and not m.atom.entry.items and not m.negated and m.qualifier is None
                for m in frame.mods
            )
            and all(index.group_single.get(g) for g in groups)
            and not groups & chosen
        ):
            prev.mods.extend(frame.mods)
            prev.end = max(prev.end, frame.end + 1)
            continue
        out.append(frame)
    return out


def _share_head(index: MenuIndex, frames: list[_Frame]) -> None:
    """ "2 large and 1 small pizza with pepperoni": a numbered frame of single-choice options
    only, right before a numbered frame with a head, orders the same thing; so does one
    right after such a frame when nothing follows it ("a large pepperoni and a small"; "the two
    large" says both lines)."""
    for frame, nxt in pairwise(frames):
        if _takes_head(index, frame, nxt) and (nxt.has_head or _dual_head(nxt) is not None):
            _take_head(frame, nxt, options=True)
    if (
        len(frames) >= 2
        and frames[-1].number == 1
        and (frames[-2].multiplier or frames[-2].number or 1) == 1  # "2 pepperoni, a large one": asked
        and _takes_head(index, frames[-1], frames[-2])
    ):
        last, before = frames[-1], frames[-2]
        groups = {g for m in last.mods if m.atom.entry is not None for g, _ in m.atom.entry.options}
        dual = _dual_head(before)
        named = before.items or (dual.atom.entry.items if dual is not None and dual.atom.entry else ())
        if all(groups & index.item_groups.get(code, frozenset()) for code in named):
            _take_head(last, before, options=False)


def _resolve(index: MenuIndex, tokens: list[str], frames: list[_Frame]) -> ParseResult:
    frames = _distribute(frames)
    frames = _described_again(index, tokens, frames)
    _share_head(index, frames)
    loose_frames: list[tuple[_Frame, list[_Mod]]] = []
    lines: list[OrderLine] = []
    ambiguous: list[AmbiguousPhrase] = []
    unmatched: list[UnmatchedPhrase] = []
    bad: list[BadQuantity] = []
    head_kinds = {index.item_kind.get(f.items[0]) if f.items else f.noun for f in frames if f.has_head}
    named_items = any(f.items or f.noun is not None for f in frames)
    for frame in frames:
        quantity = frame.multiplier or frame.number or 1
        items = frame.items
        mods = list(frame.mods)
        if not items:
            # an option that is also an item ("2 pepperoni", "a pepperoni and mushroom pie")
            for mod in mods:
                assert mod.atom.entry is not None
                duals = tuple(
                    c
                    for c in mod.atom.entry.items
                    if frame.noun is None or index.item_kind.get(c) == frame.noun
                )
                # "extra pepperoni" with no count is the topping, qualified: never the item
                # with its "extra" dropped
                # "with pepperoni, sausage and onions" said alone (no item named, no count):
                # toppings for the line being talked about, not a Pepperoni pizza
                after_with = not named_items and mod.atom.start > 0 and tokens[mod.atom.start - 1] == "with"
                if (
                    duals
                    and mod.prefix
                    and not mod.negated
                    and (mod.qualifier is None or frame.number is not None)
                    and not (after_with and frame.number is None)
                ):
                    items = duals
                    mods.remove(mod)
                    break
        prefix_unknown = [u for u in frame.unknown if u.prefix and not u.after_option]
        if frame.bad_quantity is not None:
            # "0 sprite", "1000000 coke": said, but not a quantity we can use; a number like
            # that with no item ("at 1000 Main St") is not an order at all
            if items or frame.noun is not None:
                text = " ".join(tokens[frame.start : frame.end])
                pool = items or _candidates(index, frame.noun, mods)
                bad.append(BadQuantity(frame.head_text or text, frame.bad_quantity, pool))
            continue
        if not items and frame.noun is None and frame.number is None:
            loose_frames.append((frame, mods))
            continue
        said = [
            t
            for t in tokens[frame.start : frame.end]
            if t not in ("and", ",", "please") and number_from_words((t,)) is None
        ]
        if not items and frame.noun is None and not mods and len(said) == 1 and said[0] in index.variants:
            # "un agua y una light": a word that makes another item of a name ("coca light"),
            # said with no name, could be either: asked, never dropped
            ambiguous.append(AmbiguousPhrase(said[0], index.variants[said[0]][1], quantity))
            continue
        if not items and frame.noun is None:
            thing = next((u for u in frame.unknown if u.names_thing), None)
            if thing is not None:
                before = [m.atom.text for m in mods if m.atom.end <= thing.end]
                phrase = " ".join([*before[-2:], thing.text])
                unmatched.append(UnmatchedPhrase(phrase, frame.number, index.suggest(phrase)))
                continue
            if prefix_unknown and (frame.number is not None or not mods):
                phrase = " ".join(u.text for u in prefix_unknown)
                unmatched.append(UnmatchedPhrase(phrase, frame.number, index.suggest(phrase)))
                continue
            if not mods:
                if frame.unknown and frame.number is not None and not frame.weak:
                    phrase = " ".join(u.text for u in frame.unknown)
                    unmatched.append(UnmatchedPhrase(phrase, frame.number, index.suggest(phrase)))
                continue
        if not items:
            heading = frame.noun is not None and not mods and frame.number is None
            if (
                heading
                and not frame.unknown
                and sum(1 for f in frames if f.has_head) > 1
                and frame.noun in head_kinds
            ):
                continue  # a heading such as "pizzas:" before the real lines
            items = _candidates(index, frame.noun, mods)
            if not items:
                phrase = frame.head_text or " ".join(tokens[frame.start : frame.end])
                unmatched.append(UnmatchedPhrase(phrase, frame.number, index.suggest(phrase)))
                continue
        if _only_guessed(frame, items, mods, tokens):
            # "the quick brown fox": a word that merely starts a menu name, with no quantity,
            # option or ordering verb, is a suggestion to confirm, not an order
            assert frame.guess is not None
            unmatched.append(UnmatchedPhrase(frame.guess, None, items))
            continue
        groups: set[str] = set()
        for code in items:
            groups |= index.item_groups.get(code, frozenset())
        chosen, excluded, unknown = _options(index, mods, groups)
        for u in frame.unknown:
            if u.option_context or u.negated or u.qualifier:
                unknown.append(UnknownOption(u.text, u.negated, u.qualifier))
        notes = list(frame.notes)
        text = " ".join(tokens[frame.start : frame.end])
        if len(items) == 1:
            lines.append(
                OrderLine(
                    item=items[0],
                    quantity=quantity,
                    options=tuple(chosen),
                    excluded=tuple(excluded),
                    notes=tuple(notes),
                    unknown_options=tuple(unknown),
                    text=text,
                )
            )
        else:
            ambiguous.append(
                AmbiguousPhrase(
                    phrase=frame.head_text or text,
                    candidates=items,
                    quantity=quantity,
                    options=tuple(chosen),
                    excluded=tuple(excluded),
                    notes=tuple(notes),
                    unknown_options=tuple(unknown),
                )
            )
    modifiers = _modifiers(index, tokens, loose_frames)
    return ParseResult(tuple(lines), tuple(ambiguous), tuple(unmatched), modifiers, tuple(bad))


def _only_guessed(frame: _Frame, items: tuple[str, ...], mods: list[_Mod], tokens: list[str]) -> bool:
    """True when the frame's item rests on one guessed word alone (see ``_atoms``): no
    quantity ("a" does not count), no option, no note, and no ordering verb before it."""
    if frame.guess is None or len(items) != 1 or frame.items != items:
        return False
    if (frame.number is not None and not frame.weak) or frame.multiplier or mods or frame.notes:
        return False
    return not any(t in ORDER_VERBS for t in tokens[: frame.start + 1])


def _modifiers(
    index: MenuIndex, tokens: list[str], loose: list[tuple[_Frame, list[_Mod]]]
) -> Modifiers | None:
    chosen: list[ChosenOption] = []
    excluded: list[ChosenOption] = []
    unknown: list[UnknownOption] = []
    notes: list[str] = []
    texts: list[str] = []
    for frame, mods in loose:
        got, out, odd = _options(index, mods, set(index.all_groups))
        chosen += got
        excluded += out
        unknown += odd
        unknown += [
            UnknownOption(u.text, u.negated, u.qualifier)
            for u in frame.unknown
            if u.negated or u.qualifier or (u.option_context and u.after_option)
        ]
        notes += frame.notes
        if got or out or odd or frame.notes:
            texts.append(" ".join(tokens[frame.start : frame.end]))
    if not (chosen or excluded or unknown or notes):
        return None
    return Modifiers(tuple(chosen), tuple(excluded), tuple(notes), tuple(unknown), " ".join(texts))


def _candidates(index: MenuIndex, noun: str | None, mods: list[_Mod]) -> tuple[str, ...]:
    """Items of the kind (any kind for None) offering every option group mentioned."""
    pool = index.kind_items.get(noun, ()) if noun is not None else tuple(index.item_groups)
    needed = []
    for mod in mods:
        assert mod.atom.entry is not None
        needed.append({g for g, _ in mod.atom.entry.options})
    fitting = tuple(c for c in pool if all(n & index.item_groups[c] for n in needed))
    return fitting or (pool if noun is not None else ())


def _options(
    index: MenuIndex, mods: list[_Mod], groups: set[str]
) -> tuple[list[ChosenOption], list[ChosenOption], list[UnknownOption]]:
    chosen: list[ChosenOption] = []
    excluded: list[ChosenOption] = []
    unknown: list[UnknownOption] = []
    for mod in mods:
        assert mod.atom.entry is not None
        pick = next(((g, o) for g, o in mod.atom.entry.options if g in groups), None)
        if pick is None:
            pick = index.abbreviation(mod.atom.text, groups)
        if pick is None:
            if all(index.group_single.get(g) for g, _ in mod.atom.entry.options):
                # "a bottle of water" where water has no container choice: it only
                # describes the unit; a topping on a drink is named back instead
                continue
            unknown.append(UnknownOption(mod.atom.text, mod.negated, mod.qualifier))
            continue
        group, option = pick
        qualifier = mod.qualifier if index.group_qualifiers.get(group) else None
        choice = ChosenOption(group, option, qualifier)
        if mod.negated:
            if choice not in excluded:
                excluded.append(choice)
            continue
        if index.group_single.get(group):
            # a later choice in a single-choice group replaces the earlier one
            chosen = [c for c in chosen if c.group != group]
        else:
            same = [c for c in chosen if c.group == group and c.option == option]
            if same:
                if qualifier is None:
                    continue
                chosen = [c for c in chosen if c not in same]
        chosen.append(choice)
    return chosen, excluded, unknown


def _loose_unmatched(
    index: MenuIndex, loose: list[_Unknown], tokens: list[str]
) -> tuple[UnmatchedPhrase, ...]:
    """Unknown words outside any order: reported when the message is about as short as a
    name ("sushi") or they follow an ordering verb ("i want a calzone"); chatter is not."""
    out = []
    words = [t for t in tokens if t.isalpha()]
    for u in loose:
        if len(u.text.split()) <= 4 and (u.after_verb or len(words) <= 3):
            out.append(UnmatchedPhrase(u.text, None, index.suggest(u.text)))
    return tuple(out)


def parse_order(menu: Menu, text: str) -> ParseResult:
    """Read one customer message against ``menu``; never raises for any text.

    Pure and deterministic: the same menu and text give the same result. The menu's lexicon
    is built on first use and cached (see ``menu_index.index_for``). A menu localized to Spanish
    or Portuguese (``Menu.localized``) is read in that language: its names and aliases, and the
    language's own words as the English ones they mean (lexicons.bridge).
    """
    index = index_for(menu)
    tokens = tokenize(text)[:MAX_TOKENS]
    language = lexicon_for(menu.locale)
    if language is not None:
        tokens = bridge(tokens, language, index.menu_phrase_at, index.variants)
    if not tokens:
        return ParseResult()
    guesses: dict[int, str] = {}
    atoms = _atoms(index, tokens, guesses)
    frames, loose = _Reader(index, tokens, atoms, guesses).run()
    result = _resolve(index, tokens, frames)
    if result.empty and loose:
        return ParseResult(unmatched=_loose_unmatched(index, loose, tokens))
    return _units_of_a_line(menu, result, " ".join(tokens))


# Words that start a phrase about some units of the line before ("2 hawaiians, one of them
# with no pineapple", "2 pepperoni, one with extra cheese").
_ONE_OF = ("one of them ", "one of those ", "one of the ", "1 of them ", "one ")


def _units_of_a_line(menu: Menu, result: ParseResult, said: str) -> ParseResult:
    """ "2 veggie, one of them without onions", "2 pepperoni one normal one with extra
    cheese": options said for one unit of the line just ordered split that unit off as a line
    of its own (with the line's options and those said), instead of a "which item?" question.
    Only for a line of several units whose item the phrase could mean."""
    if not result.ambiguous or not result.lines:
        return result
    lines = list(result.lines)
    kept: list[AmbiguousPhrase] = []
    for amb in result.ambiguous:
        lead = next((w for w in _ONE_OF if amb.phrase.startswith(w)), None)
        where = said.find(amb.phrase)
        before = [i for i, line in enumerate(lines) if line.text and 0 <= said.find(line.text) < where]
        if lead is None or not before or not (amb.options or amb.excluded):
            kept.append(amb)
            continue
        i = before[-1]
        base = lines[i]
        if base.item not in amb.candidates or amb.quantity != 1:
            kept.append(amb)
            continue
        said_groups = {o.group for o in amb.options if (g := menu.group(o.group)) and g.kind == "single"}
        options = tuple(o for o in base.options if o.group not in said_groups) + amb.options
        unit = OrderLine(base.item, 1, options, base.excluded + amb.excluded, base.notes, (), amb.phrase)
        if base.quantity >= 2:
            lines[i] = dataclasses.replace(base, quantity=base.quantity - 1)
            lines.insert(i + 1, unit)
        elif (
            i > 0
            and lines[i - 1].item == base.item
            and lines[i - 1].quantity == 1
            and base.text.startswith(_ONE_OF)
        ):
            # "2 pepperoni one normal one with extra cheese": the other unit, the one left
            rest = lines[i - 1]
            kept_options = tuple(o for o in rest.options if o.group not in said_groups) + amb.options
            lines[i - 1] = dataclasses.replace(
                rest, options=kept_options, excluded=rest.excluded + amb.excluded
            )
        else:
            kept.append(amb)
    return dataclasses.replace(result, lines=tuple(lines), ambiguous=tuple(kept))


def unread_words(menu: Menu, text: str) -> tuple[str, ...]:
    """The words of `text` (lowercase, accents dropped, in the order said) that nothing reads:
    no menu name or alias, no word of the customer's language (lexicons) or of English, and no
    misspelling of a menu word. The parser passes over such words, so a message such as
    "cancela el pan de ajo" would read as an order of garlic bread; callers ask instead of
    changing a cart when one is left. Numbers, emoji and one-letter words are never listed."""
    index = index_for(menu)
    tokens = tokenize(text)[:MAX_TOKENS]
    language = lexicon_for(menu.locale)
    leftover: frozenset[str] = frozenset()
    if language is not None:
        tokens = bridge(tokens, language, index.menu_phrase_at, index.variants)
        # a word of a phrase of the language that was not said whole ("cancela" of "cancela
        # todo"), unless it is also an ordinary or a menu word
        leftover = language.common - language.plain - COMMON_WORDS
    out = []
    ordering = _ordering_phrases(tokens)
    for i, tok in enumerate(tokens):
        if len(tok) < 2 or not tok.isalpha() or (language is not None and tok in language.english):
            continue
        if i in ordering or INTERJECTION.fullmatch(tok):
            continue  # "throw in a tiramisu", "ooh": words of ordering, a sound
        unknown = tok not in index.known_words and index.correct(tok) is None
        if unknown or (tok in leftover and not any(tok in key for key in index.lexicon)):
            out.append(tok)
    return tuple(out)


def _ordering_phrases(tokens: list[str]) -> set[int]:
    """The positions of words that order more only said together ("throw in", "chuck in")."""
    found: set[int] = set()
    for i in range(len(tokens)):
        for phrase in ORDER_PHRASES:
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                found |= set(range(i, i + len(phrase)))
    return found


def guessed_words(menu: Menu, text: str) -> tuple[str, ...]:
    """The words of `text` read only as a misspelling of a menu word ("havaiana" on a menu that
    says "hawaiana"): a menu that knows them as written reads the message better."""
    index = index_for(menu)
    tokens = tokenize(text)[:MAX_TOKENS]
    language = lexicon_for(menu.locale)
    if language is not None:
        tokens = bridge(tokens, language, index.menu_phrase_at, index.variants)
    return tuple(
        tok
        for tok in tokens
        if len(tok) > 1
        and tok.isalpha()
        and tok not in index.known_words
        and not (language is not None and tok in language.english)
        and index.correct(tok) is not None
    )


_READING_LOCK = threading.Lock()
_READING_MENUS: dict[int, tuple[Menu, Menu]] = {}


def english_reading(menu: Menu, text: str) -> tuple[Menu, str]:
    """`text` as the English the parser reads, and the menu to read it with, for readers that
    match English phrases (the dialogue acts, understanding/acts.py): a Spanish or Portuguese
    message becomes its bridged words ("quita la coca" → "remove the coke", menu words kept),
    read against the same localized names with no second bridging. English (or a menu with no
    lexicon) comes back as it is."""
    language = lexicon_for(menu.locale)
    if language is None:
        return menu, text
    index = index_for(menu)
    words = " ".join(bridge(tokenize(text)[:MAX_TOKENS], language, index.menu_phrase_at, index.variants))
    hit = _READING_MENUS.get(id(menu))
    if hit is None or hit[0] is not menu:
        english = dataclasses.replace(menu, locale="en")
        with _READING_LOCK:
            if len(_READING_MENUS) >= 16:
                _READING_MENUS.pop(next(iter(_READING_MENUS)))
            _READING_MENUS[id(menu)] = (menu, english)
        hit = (menu, english)
    return hit[1], words
