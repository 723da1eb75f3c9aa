"""What a message does to the conversation, read before it is taken as an order: dialogue acts.

``read_acts(menu, text, language)`` returns the acts of one message, or ``()`` when it holds
none of them (then the message is read as an order by the parser, as always):

| act              | example                                   | fields                                  |
|------------------|-------------------------------------------|-----------------------------------------|
| ``set_quantity`` | "make that 3", "only 2 cokes", "1 not 2"  | target, quantity, previous              |
| ``adjust``       | "one more", "another one", "one less coke" | target, quantity (+/- units)            |
|                  | "double the cokes", "half that"           | target, scale (the line's quantity times) |
| ``remove``       | "no water", "forget the dessert"          | target, quantity (units, None = all)    |
| ``replace``      | "swap the coke for a diet coke"           | target, new (the parsed replacement)    |
| ``change``       | "thin crust on the pepperoni"             | target, modifiers, quantity (units)     |
| ``question``     | "how much is a large hawaiian?"           | topic, subject (the words asked about)  |
| ``ack``          | "thanks", "ok", "👍"                      |                                         |
| ``done``         | "that's all", "nothing else"              |                                         |
| ``never_mind``   | "never mind", "forget it"                 |                                         |
| ``restate``      | "2 cokes actually", "sorry, 1 veggie"     | new (lines meant instead of the cart's) |
| ``unsure``       | "change it", "that's not right"           | (the bot asks what to change)           |
| ``cancel``       | "cancel everything", "start over"         | (the order, or the cart after a yes)    |
| ``add``          | the order part of "remove the coke and add a sprite" | new                          |

A :class:`Target` is a reference to cart lines as said ("it", "the cokes", "item 2", "the last
pepperoni", "one of the margheritas"); the conversation resolves it against the cart and asks
when it names more than one line it could mean. Nothing here reads the cart or the database:
this module only says what the words mean, so that the same words always read the same way.

The phrases of each language live in ``understanding/phrases/<language>.py``; this module holds
what is common (the shapes, target reading through the order parser, clause splitting).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from services.orders.menu.catalog import ChosenOption, Menu
from services.orders.understanding.lexicons import lexicon_for
from services.orders.understanding.menu_index import index_for, tokenize
from services.orders.understanding.numbers import WEAK_NUMBERS, number_from_words
from services.orders.understanding.parser import Modifiers, OrderLine, ParseResult, parse_order
from services.orders.understanding.parser import unread_words as _unread_by_parser
from services.orders.understanding.words import INTERJECTION, KIND_HINTS

__all__ = [
    "Act",
    "ActKind",
    "Clause",
    "Phrases",
    "Target",
    "category_items",
    "kind_hinted",
    "read_acts",
    "read_target",
    "said_last",
    "unread_words",
]

ActKind = Literal[
    "set_quantity", "adjust", "remove", "replace", "change", "restate", "question", "ack", "done",
    "never_mind", "unsure", "cancel", "add",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Target:
    """Cart lines as the customer named them, not yet looked up.

    ``number`` is a line number as the cart shows it (1-based); ``items`` the item codes the
    words may mean (empty for a pure pointer); ``options`` options said with the name ("the
    large pepperoni"); ``ordinal`` 1 for the first, -1 for the last, 2 for the second of those
    lines; ``pointer`` for "it", "that", "them" (the lines being talked about); ``plural`` when
    the words name several lines or units ("them", "both", "the cokes"); ``other`` for "the
    other one"; ``count`` a number said inside the reference ("the two margheritas");
    ``without`` options the line is said to leave out ("the one without onions"); ``size_rank``
    1 for "the bigger one", -1 for "the smaller one" (0: not said)."""

    said: str
    number: int | None = None
    items: tuple[str, ...] = ()
    options: tuple[ChosenOption, ...] = ()
    ordinal: int | None = None
    pointer: bool = False
    plural: bool = False
    other: bool = False
    count: int | None = None
    each: bool = False
    without: tuple[ChosenOption, ...] = ()
    size_rank: int = 0


@dataclass(frozen=True, slots=True)
class Act:
    """One thing a message does (see the module docstring for each kind's fields).

    ``quantity``: the new quantity (set_quantity), units added or taken (adjust: +n / -n),
    units to remove (remove; None removes the whole line) or units to change (change; None
    changes them all). ``previous``: the quantity being corrected ("1 not 2"). ``new``: the
    parsed replacement (replace) or order (add). ``topic``/``subject``: a question's kind and
    the words it is about. ``or_more``: the words do not say whether a quantity is the new total
    or more of it ("pepperoni x2" with pepperoni in the cart), so the customer is asked.
    ``scale``: (numerator, denominator) an adjust multiplies each line's quantity by ("double
    the cokes" is (2, 1), "half that" (1, 2)); None for units added or taken. ``per``: for an
    ``add``, the lines whose units the quantity is counted by ("a coke for each pizza", "the
    same number of tiramisus": the lines being talked about). ``like``: for an ``add``, the line
    the new one copies, with ``modifiers`` changed ("same pizza again but with mushrooms").
    ``quantities``: for a ``set_quantity``, one new quantity for each line meant, in the order
    of the cart ("make it two and two" after three veggies and three waters). ``exchange``: for
    a ``change``, the single-choice option group whose choices two lines trade ("swap the
    crusts").
    ``words``: the clause the act was read from (normalised)."""

    kind: ActKind
    target: Target | None = None
    quantity: int | None = None
    previous: int | None = None
    new: ParseResult | None = None
    modifiers: Modifiers | None = None
    topic: str = ""
    subject: str = ""
    or_more: bool = False
    words: str = ""
    scale: tuple[int, int] | None = None
    per: Target | None = None
    like: Target | None = None
    quantities: tuple[int, ...] = ()
    exchange: str = ""


@dataclass(frozen=True, slots=True)
class Clause:
    """A clause of a message as the phrase rules see it: its normalised words joined by single
    spaces, filler stripped (``key``), the original text of the message, and whether the
    clause carried a correction cue ("actually", "sorry", "I meant") that was stripped or
    remains."""

    key: str
    text: str
    corrective: bool = False


# A rule reads one clause: it returns the act, or None when the clause is not of its shape.
Rule = Callable[[Menu, "Phrases", Clause], "Act | None"]


@dataclass(frozen=True, slots=True)
class Phrases:
    """The words and rules of one language.

    ``rules`` are tried in order on each clause; ``lead``/``trail`` match filler around a
    clause ("actually", "please"); ``split`` matches where one clause ends and another
    starts; ``determiners`` and ``pointers`` are the words of references ("the", "it");
    ``ordinals`` maps "first"/"last" words to 1/-1 etc.; ``line_words`` are "item"/"line";
    ``other_words`` "other"; ``plural_pointers`` the pointers that name several lines;
    ``corrective`` the cues of a correction ("actually", "I meant"); ``adding`` the words that
    make a clause an addition whatever the cart holds ("add", "also", "another");
    ``edit_cues`` the words that say a message may be changing the cart rather than adding to
    it ("change", "instead", "not"): such a message the rules could not read is asked about;
    ``rest_words`` name every line but the ones being talked about ("the rest", "the others");
    ``question_words``/``request_words`` tell a marked question from a marked request."""

    language: str
    rules: Sequence[Rule]
    lead: re.Pattern[str]
    trail: re.Pattern[str]
    split: re.Pattern[str]
    determiners: frozenset[str]
    pointers: frozenset[str]
    plural_pointers: frozenset[str]
    ordinals: dict[str, int]
    line_words: frozenset[str]
    other_words: frozenset[str]
    corrective: re.Pattern[str]
    adding: re.Pattern[str]
    edit_cues: re.Pattern[str]
    not_in_targets: frozenset[str]
    each_words: frozenset[str]
    category_words: dict[str, str] = field(default_factory=dict)
    rest_words: frozenset[str] = frozenset()
    # Where a question is only marked ("¿la coca es de botella?") and keeps a statement's word
    # order: the words that make a marked message a question about something ("es", "tiene",
    # "qué") and those that make it a request ("me", "puedes", "agregar"). A marked question
    # with the first and none of the second changes no cart. Empty: questions are inverted.
    question_words: frozenset[str] = frozenset()
    request_words: frozenset[str] = frozenset()
    # Whether an article before an adjective names a line ("quita la chica", "tira a broto":
    # the small one), as in Spanish and Portuguese; in English "remove the thin crust" may
    # rather be the option taken off.
    article_names_line: bool = False


_ARROWS = re.compile(r"\s*(?:->|=>|→|⇒|➡️?|⟶)\s*")
_W = re.compile(r"(?<!\w)w(?!\w)", re.I)  # "a large veggie w stuffed crust"


def normalise(text: str) -> str:
    """The words of `text` as the rules match them: the parser's tokens (lowercase, accents
    and apostrophes dropped) joined by single spaces, sentence punctuation kept as tokens; an
    arrow ("coke → sprite") reads as "to"."""
    return " ".join(tokenize(_W.sub("with", _ARROWS.sub(" to ", text))))


def number_of(words: str) -> int | None:
    """The number `words` spell ("2", "two", "a couple of", "the one"), or None."""
    if words in ("the one", "just the one", "only the one"):
        return 1
    return number_from_words(tuple(words.split()))


def _strip(phrases: Phrases, key: str) -> str:
    previous = None
    while previous != key:
        previous = key
        key = phrases.lead.sub("", key).strip()
        key = phrases.trail.sub("", key).strip()
    return key


def _clause(phrases: Phrases, words: str, text: str) -> Clause:
    words = words.strip(" ,").replace(" ,", "")
    # "*sprite", "wings x3*": the chat convention for "I meant" (both ends is bold, not that)
    starred = text.strip().startswith("*") != text.strip().endswith("*")
    corrective = phrases.corrective.search(words) is not None or starred
    return Clause(_strip(phrases, words), text, corrective)


def read_clause(menu: Menu, phrases: Phrases, clause: Clause, *, bare: bool = True) -> Act | None:
    """The act the first matching rule reads in `clause`, or None. With `bare` False the last
    rule (options on their own, "no onions") is not tried: such words belong to the order
    they follow ("1 pepperoni, no onions")."""
    rules = phrases.rules if bare else phrases.rules[:-1]
    for rule in rules:
        act = rule(menu, phrases, clause)
        if act is not None:
            return act
    return None


def _items_named(menu: Menu, words: str) -> bool:
    parsed = parse_order(menu, words)
    return bool(parsed.lines or parsed.ambiguous)


def _menu_words(menu: Menu, words: str) -> bool:
    parsed = parse_order(menu, words)
    return bool(parsed.lines or parsed.ambiguous or parsed.modifiers or parsed.bad_quantities)


# A part after an edit that goes on to say options ("..., with mushrooms and spinach").
_OPTIONS_SAID = re.compile(r"^(?:and |but |plus )?(?:with|without|no)\b")


def clauses(menu: Menu, phrases: Phrases, text: str) -> list[Clause]:
    """The clauses of a message. Within a sentence, a comma-separated part that reads as an
    act by itself starts a clause, a part with menu words joins the one before ("1 pepperoni,
    no onions"), a part with neither is chatter and dropped ("make that 3, the whole family is
    coming"); each clause is then split where the language's `split` pattern says a new act
    starts ("remove the coke and add a sprite"). When no clause is an act alone, the sentence
    may be one as a whole ("please change the hawaiian, I want a veggie")."""
    key = normalise(text)
    out: list[Clause] = []
    for sentence in re.split(r"(?:^|\s)[.;!?]+(?=\s|$)", key):
        sentence = sentence.strip(" ,")
        if not sentence:
            continue
        merged: list[str] = []
        previous_is_act = False
        parts = [p.strip() for p in sentence.split(" , ")]
        for k, part in enumerate(parts):
            if not part:
                continue
            if k + 1 < len(parts) and _strip(phrases, part) in ("no", "nope"):
                # "hmm no, light cheese": a "no" alone before what is said instead corrects
                # it; it leaves nothing out of what follows
                part = "actually"
            alone = _clause(phrases, part, text)
            is_act = bool(alone.key) and read_clause(menu, phrases, alone, bare=False) is not None
            if not merged or is_act:
                merged.append(part)
                previous_is_act = is_act
            elif previous_is_act:
                if _items_named(menu, part) or (_OPTIONS_SAID.match(part) and options_only(menu, part)):
                    # "remove the coke, a sprite", "a build your own instead of the veggie,
                    # with mushrooms": its own clause, never dropped as chatter
                    merged.append(part)
                    previous_is_act = False
                # else chatter after an edit: "make that 3, the whole family is coming over"
            elif _menu_words(menu, part):
                merged[-1] += " " + part  # "1 pepperoni, no onions"
            # else: chatter
        pieces = [
            clause
            for part in merged
            for piece in phrases.split.split(part)
            for clause in _two_edits(menu, phrases, _clause(phrases, piece, text), text)
            if clause.key
        ]
        if not any(read_clause(menu, phrases, clause, bare=False) for clause in pieces):
            # no part is an act alone: the sentence may be one as a whole
            # ("please change the hawaiian, I want a veggie")
            whole = _clause(phrases, sentence, text)
            if whole.key and read_clause(menu, phrases, whole, bare=False) is not None:
                pieces = [whole]
        out.extend(pieces)
    return out


# "the bigger one", "the smaller one": the line of the largest (1) or smallest (-1) size.
_SIZE_RANKS = {
    "bigger": 1, "biggest": 1, "larger": 1, "largest": 1, "big": 1,
    "smaller": -1, "smallest": -1, "little": -1,
}  # fmt: skip
# Words after "the one" that go on to say the line's options ("the one with pineapple").
_BY_OPTIONS = frozenset({"with", "without", "in", "no", "on"})


# Words of a measure after a number ("the 1 liter ones"): the number is an option's, not a count.
_UNITS = frozenset({"liter", "liters", "litre", "litres", "l", "lt", "ml", "litro", "litros"})
_EDIT_KINDS = frozenset({"set_quantity", "adjust", "remove", "replace", "change"})


def _two_edits(menu: Menu, phrases: Phrases, clause: Clause, text: str) -> list[Clause]:
    """ "the salad x2 and the other one out", "the water large and the coke in a bottle": a
    clause that is two edits joined by "and" with no verb after it is two clauses, when each
    side reads as an edit of its own (read whole, the second would be taken into the first's
    reference)."""
    tokens = clause.key.split()
    for i, word in enumerate(tokens[1:-1], 1):
        if word != "and":
            continue
        left = _clause(phrases, " ".join(tokens[:i]), text)
        right = _clause(phrases, " ".join(tokens[i + 1 :]), text)
        if not (left.key and right.key):
            continue
        acts = [read_clause(menu, phrases, part, bare=False) for part in (left, right)]
        if acts[1] is None and tokens[0] in _CARRIED_VERBS | {"set"}:
            # "make one a sprite and the rest diet", "make the pizzas 2 and the diet coke 2":
            # the verb said once goes on to the second
            shared = _clause(phrases, f"{tokens[0]} {right.key}", text)
            act = read_clause(menu, phrases, shared, bare=False)
            if act is not None and (
                (acts[0] is not None and tokens[0] in _CARRIED_VERBS)
                or (tokens[i + 1] == "the" and act.kind == "set_quantity")
            ):
                right, acts[1] = shared, act
        if all(act is not None and act.kind in _EDIT_KINDS for act in acts):
            return [replace(left, corrective=clause.corrective), replace(right, corrective=clause.corrective)]
    return [clause]


# Verbs that a second edit joined by "and" may leave unsaid ("make one large and the other thin").
_CARRIED_VERBS = frozenset({"make", "change", "turn", "switch"})


def _by_options(
    said: str,
    mods: Modifiers,
    *,
    ordinal: int | None,
    other: bool,
    plural: bool,
    count: int | None = None,
) -> Target:
    """A reference to the lines that have `mods` ("the one with extra cheese", "the small ones")."""
    return Target(
        said,
        pointer=True,
        options=mods.options,
        without=mods.excluded,
        ordinal=ordinal,
        other=other,
        plural=plural,
        count=count,
    )


def read_target(menu: Menu, phrases: Phrases, words: str) -> Target | None:
    """A reference to cart lines in `words`, or None when the words name no line.

    Reads, in order: pointers ("it", "them", "the last one"), line numbers ("item 2", "#2",
    "line 2", "the 2nd one"), then an item, kind or category with optional ordinal, count and
    options ("the last pepperoni", "the two cokes", "the large one", "the drinks")."""
    words = " ".join(w for w in words.replace(",", " ").split())
    if not words or phrases.not_in_targets & set(words.split()):
        return None  # "the wings garlic bread instead": a reference holds no verb
    said = words
    tokens = words.split()
    plural = False
    other = False
    ordinal: int | None = None
    count: int | None = None
    if words in phrases.each_words:
        return Target(said, pointer=True, plural=True, each=True)
    head, _, rest_of_each = words.partition(" ")
    if head in ("each", "every", "all") and rest_of_each:
        # "each dessert", "all drinks": every line of that item or category
        inner = read_target(menu, phrases, rest_of_each)
        if inner is not None and inner.items:
            return Target(said, items=inner.items, plural=True, each=True)
    # determiners and quantifiers in front: "the", "both", "all the", "one of the"
    pointing = False
    while tokens and tokens[0] in phrases.determiners:
        if tokens[0] in phrases.plural_pointers:
            plural = True
        pointing = pointing or tokens[0] in phrases.pointers
        tokens = tokens[1:]
    rest = " ".join(tokens)
    if not rest:
        # "that", "those", "both" point; a lone "the" or "my" names nothing
        return Target(said, pointer=True, plural=plural) if pointing else None
    if rest in phrases.pointers:
        return Target(said, pointer=True, plural=plural or rest in phrases.plural_pointers)
    if rest in phrases.each_words:
        return Target(said, pointer=True, plural=True, each=True)
    if rest in phrases.rest_words:
        # "forget the rest", "the others": every line but the ones being talked about
        return Target(said, pointer=True, plural=True, other=True)
    if tokens[0] in phrases.other_words:
        other = True
        tokens = tokens[1:]
        rest = " ".join(tokens)
        if not rest or rest in phrases.pointers or rest in ("one", "ones"):
            return Target(said, pointer=True, other=True)
    # a line number: "item 2", "line 2", "#2", "number 2", "2"
    if tokens and tokens[0] in phrases.line_words and len(tokens) == 2 and tokens[1].isdigit():
        return Target(said, number=int(tokens[1]))
    if len(tokens) == 1 and tokens[0].isdigit():
        # "remove 2", "change 1 to 3": a bare number names a line of the cart as shown
        return Target(said, number=int(tokens[0]))
    if tokens and tokens[0] in phrases.ordinals:
        ordinal = phrases.ordinals[tokens[0]]
        tokens = tokens[1:]
        rest = " ".join(tokens)
        if not rest or rest in ("one", "ones") or rest in phrases.line_words:
            if rest in phrases.line_words and ordinal > 0:
                return Target(said, number=ordinal)
            return Target(said, pointer=True, ordinal=ordinal)
    by_options = len(tokens) > 1 and (
        (tokens[0] in ("one", "ones") and tokens[1] in _BY_OPTIONS) or tokens[1] in _UNITS
    )  # "the one with cheese", "the 1 liter ones": options, no count
    if not by_options and (
        (tokens and tokens[0].isdigit()) or (tokens and number_of(tokens[0]) and tokens[0] not in ("a", "an"))
    ):
        count = number_of(tokens[0])
        tokens = tokens[1:]
        if tokens and tokens[0] == "of":  # "one of them", "2 of the cokes"
            tokens = tokens[1:]
            while tokens and tokens[0] in phrases.determiners:
                tokens = tokens[1:]
            if not tokens or " ".join(tokens) in phrases.pointers:
                return Target(said, pointer=True, plural=True, count=count)
        rest = " ".join(tokens)
        plural = plural or (count or 0) > 1
        if not rest:  # a bare "one": one unit of whatever is being talked about
            if ordinal is not None:  # "the first two": that many lines from the start
                return Target(said, pointer=True, count=count, ordinal=ordinal, plural=plural)
            if plural and said.split()[:1] == ["the"]:
                # "the two", "one of the two": both of what is being talked about
                return Target(said, pointer=True, plural=True)
            return Target(said, pointer=True, count=count)
    if not rest:
        return None
    section = category_items(menu, phrases, rest)
    if section:
        return Target(said, items=section, ordinal=ordinal, plural=plural or rest.endswith("s"), count=count)
    if rest in ("one", "ones") and ordinal is None:
        return Target(said, pointer=True, plural=plural, count=count, other=other)
    for lead in ("one ", "ones "):
        # "the one with extra cheese", "the one without onions": a line by its options
        mods = options_only(menu, rest[len(lead) :]) if rest.startswith(lead) else None
        if mods is not None:
            return _by_options(said, mods, ordinal=ordinal, other=other, plural=lead == "ones ")
    head, _, after = rest.partition(" ")
    if head in _SIZE_RANKS and ordinal is None:
        # "the bigger one", "the smaller pepperoni": the line of the largest / smallest size
        if after in ("", "one", "ones"):
            return Target(said, pointer=True, size_rank=_SIZE_RANKS[head])
        inner = read_target(menu, phrases, after)
        if inner is None or not inner.items or inner.options:
            return None
        return Target(said, items=inner.items, size_rank=_SIZE_RANKS[head])
    result = parse_order(menu, rest)
    if (
        len(tokens) < len(said.split())  # said with "the": "light" alone is an amount
        and not (result.lines or result.ambiguous or result.modifiers)
        and (tails := _named_by_tail(menu, rest))
    ):
        # "las light por sprites", "as zero troca por sprite": the word that tells an item's
        # name from another's ("coca light") names its lines
        return Target(said, items=tails, ordinal=ordinal, plural=plural or rest.endswith("s"), count=count)
    if result.unmatched and rest.endswith((" one", " ones")):
        # "the diet one": a word of one item's name, said before "one", names that item
        by_name = _item_by_name_words(menu, rest.rpartition(" ")[0])
        if by_name is not None:
            plural = plural or rest.endswith(" ones")
            return Target(said, items=(by_name,), ordinal=ordinal, plural=plural, other=other, count=count)
    if result.unmatched or result.bad_quantities:
        return None
    if len({line.item for line in result.lines}) > 1:
        plural = True  # "the pepperoni and the tiramisu": both lines
    codes: list[str] = []
    options: list[ChosenOption] = []
    without: list[ChosenOption] = []
    for line in result.lines:
        codes.append(line.item)
        options.extend(line.options)
        without.extend(line.excluded)
        plural = plural or line.quantity > 1 or _plural_word(line.text)
    for amb in result.ambiguous:
        codes.extend(amb.candidates)
        options.extend(amb.options)
        without.extend(amb.excluded)
        plural = plural or amb.quantity > 1 or _plural_word(amb.phrase)
    if not codes:
        mods = result.modifiers
        one_with = rest.startswith(("one with", "ones with", "one without", "one in", "one no"))
        # "the small", "those large": lines by a size or crust they have
        chosen = mods.options if mods is not None else ()
        single = all((g := menu.group(o.group)) is not None and g.kind == "single" for o in chosen)
        named = (pointing or len(tokens) < len(said.split())) and single
        if (
            mods is not None
            and (mods.options or mods.excluded)
            and (rest.endswith((" one", " ones")) or one_with or named)
        ):
            # "remove one of the large": `count` is one unit, not the line
            return _by_options(
                said, mods, ordinal=ordinal, other=other, plural=rest.endswith(" ones"), count=count
            )
        return None
    return Target(
        said,
        items=tuple(dict.fromkeys(codes)),
        options=tuple(options),
        without=tuple(without),
        ordinal=ordinal,
        plural=plural,
        other=other,
        count=count,
    )


def _item_by_name_words(menu: Menu, words: str) -> str | None:
    """The one item whose name (or an alias) holds every word of `words` ("diet": the Diet
    Coke), when the words are read as nothing else; None when no item or several do."""
    said = set(words.split())
    if not said or parse_order(menu, words).lines:
        return None
    found = {
        item.code
        for item in menu.items()
        for name in (item.name, *item.aliases)
        if said <= set(normalise(name).split())
    }
    return found.pop() if len(found) == 1 else None


# Words after a name that go on to say what the line has ("the veggie that has extra mushrooms"):
# a plural after them is the options', not the line's.
_HAS_WORDS = re.compile(r"\s(?:that|which|with|without|w)\s.*$")


def _named_by_tail(menu: Menu, words: str) -> tuple[str, ...]:
    """The items a name or alias of which ends with `words` after a word it shares with
    another item's name ("light" of "coca light", beside "coca"), or ()."""
    said = words.split()
    if not said or len(said) > 2 or said[0] in ("one", "ones"):
        return ()
    heads = {
        normalise(name).split()[0] for item in menu.items() for name in (item.name, *item.aliases) if name
    }
    codes = [
        item.code
        for item in menu.items()
        for name in (item.name, *item.aliases)
        if len(toks := normalise(name).split()) > len(said)
        and toks[0] in heads
        and [t.rstrip("s") for t in toks[-len(said) :]] == [t.rstrip("s") for t in said]
    ]
    return tuple(dict.fromkeys(codes))


def _plural_word(text: str) -> bool:
    text = _HAS_WORDS.sub("", text)
    last = text.split()[-1] if text.split() else ""
    return len(last) > 3 and last.endswith("s") and not last.endswith("ss")


def category_items(menu: Menu, phrases: Phrases, words: str) -> tuple[str, ...]:
    """Items of the category `words` name ("the desserts", "a side"; singular or plural, by
    name, code or one of the language's category words), else ()."""
    wanted = {words, words[:-1] if words.endswith("s") else words + "s"}
    code = next((phrases.category_words[w] for w in wanted if w in phrases.category_words), None)
    for category in menu.categories:
        names = {normalise(category.name), normalise(category.code.replace("-", " "))}
        if code == category.code or names & wanted or {n[:-1] for n in names if n.endswith("s")} & wanted:
            return tuple(i.code for i in category.items)
    return ()


def kind_hinted(menu: Menu, words: str) -> tuple[str, ...]:
    """The menu's items of the kind of a thing it does not have ("pepsi", "a guarana": the
    drinks), else ()."""
    said = words.split()
    if said[:1] in (["a"], ["an"]):
        said = said[1:]
    kind = KIND_HINTS.get(" ".join(said))
    return index_for(menu).kind_items.get(kind, ()) if kind is not None else ()


def options_only(menu: Menu, words: str) -> Modifiers | None:
    """The options `words` say when they say nothing else ("thin crust", "no onions",
    "gluten free", "large with extra cheese"), else None."""
    if not words.strip():
        return None
    new, cue, old = words.partition(" instead of ")
    if not cue:
        new, cue, old = words.partition(" rather than ")
    if cue and options_only(menu, new) is not None and options_only(menu, old) is not None:
        return options_only(menu, new)  # "thin crust instead of gf": the option said first
    result = parse_order(menu, words)
    if result.lines or result.ambiguous or result.unmatched or result.bad_quantities:
        return None
    mods = result.modifiers
    if mods is None or not (mods.options or mods.excluded):
        return None
    return mods


def order_of(menu: Menu, words: str) -> ParseResult | None:
    """What `words` order, when they name at least one item and nothing unknown."""
    if not words.strip():
        return None
    result = parse_order(menu, words)
    if not (result.lines or result.ambiguous) or result.unmatched or result.bad_quantities:
        return None
    return result


def unread_words(menu: Menu, words: str) -> list[str]:
    """The words of `words` (normalised) that are neither the menu's (names, options, their
    near misses) nor everyday words the parser knows: "reflection", "bigger", "doctor". The
    order parser passes over such words, so a message read beside them may mean something else."""
    index = index_for(menu)
    return [
        w
        for w in words.split()
        if w.isalpha()
        and w not in index.known_words
        and not INTERJECTION.fullmatch(w)
        and index.correct(w) is None
    ]


_NEGATED = re.compile(r"\b(?:not|dont|doesnt|didnt|never|no|without)\b")
# A clause that asks about an item rather than correcting one ("is the veggie actually vegetarian").
# "ok, ...", "vale, ...": a word that leads into a message rather than acknowledging.
_VERBS = frozenset({"add", "remove", "change", "make", "put", "give", "take", "swap"})
_LEAD_IN = re.compile(r"^(?:ok|okay)\s*,\s*(?=\S)")
_ASKS = re.compile(r"^(?:is|isnt|are|arent|does|doesnt|do|did|was|were|has|have)\b")


# The longest clause read for an edit inside chatter, in words.
_MOST_TRIMMED = 16
# Words whose presence in what is left out says it is no chatter: a negation or a number
# could turn the act around ("take the brownie off, no wait").
_NOT_CHATTER = re.compile(r"\b(?:no|not|dont|never|without|nothing|none|cant|wont|nope|nah)\b|\d")


def _trimmed(menu: Menu, phrases: Phrases, clause: Clause) -> tuple[Clause, Act | None]:
    """ "take the brownie off please i forgot i have ice cream at home", "oi mate swap the
    garlic bread for wings will ya", "my doctor would kill me change the wings to a salad": an
    edit said with chatter before or after it in the same clause. The longest run of words
    that reads as a removal, a swap or a change of options is the act when what is left out
    (two words at least) names nothing on the menu and holds no word of change, negation,
    number, article or reference; else the clause is returned as it was, with no act.
    Quantities are never read so: a word left out could be what they count; nor is a removal
    with words after it, nor an act whose line is not named ("fat fingers i meant 3 sprites"
    is a correction said again, read as such)."""
    tokens = clause.key.split()
    if _QUESTION_WORDS.match(clause.key) or len(tokens) > _MOST_TRIMMED:
        # "is the pepperoni thin crust now": a question, whatever is left out; a long clause
        # is an order or a story, not one edit (and each cut costs a parse)
        return clause, None
    # "my doctor", "my kid" are chatter; "the", "that", "them" may point at a line
    pointing = (phrases.determiners - {"my", "our", "your"}) | phrases.pointers | phrases.each_words
    pointing |= {"of", "to", "todo", "all"}
    for kept in range(len(tokens) - 2, 1, -1):
        for start in {0, len(tokens) - kept}:  # chatter before the act, or after it
            left_out = tokens[:start] + tokens[start + kept :]
            dropped = " ".join(left_out)
            parsed = parse_order(menu, dropped)
            if (
                _NOT_CHATTER.search(dropped)
                or phrases.edit_cues.search(dropped)
                # "one of them diet", "a coke in a bottle": a number, an article or a
                # reference left out would change what the rest means
                or any(number_of(w) is not None or w in pointing for w in left_out)
                or parsed.lines
                or parsed.ambiguous
                or (parsed.modifiers is not None and (parsed.modifiers.options or parsed.modifiers.excluded))
                or parsed.bad_quantities
                # "take off the salad and give me fries": something ordered that is not on
                # the menu (short chatter, "oi mate", is listed as unmatched whatever it is)
                or (parsed.unmatched and len(left_out) > 3)
            ):
                continue
            part = Clause(
                _strip(phrases, " ".join(tokens[start : start + kept])), clause.text, clause.corrective
            )
            if not part.key or unread_words(menu, part.key):
                continue  # "i do not require the water": the act itself must be read whole
            act = read_clause(menu, phrases, part, bare=False)
            # a removal with words after it may be said of part of the line ("remove the
            # coke, ..."): only chatter before it ("she says she doesnt want the sprite")
            named = (
                act is not None and act.target is not None and bool(act.target.items or act.target.options)
            )
            if (
                named
                and act is not None
                and (act.kind in ("replace", "change") or (act.kind == "remove" and start > 0))
            ):
                return part, act
    return clause, None


# How a question starts ("is stuffed crust extra"): never a change ("how about thin crust"
# proposes one).
_QUESTION_WORDS = re.compile(
    r"^(?:is|isnt|are|arent|does|doesnt|did|was|were|has|how|what|whats|which|why)\b(?!\s+about\b)"
)


def _unless_asked(act: Act | None, clause: Clause) -> Act | None:
    """`act`, unless it is an edit read from a clause shaped as a question ("is stuffed crust
    extra?", "is the pepperoni large now"): such words ask, they change no line."""
    if act is not None and act.kind in _EDIT_KINDS and _QUESTION_WORDS.match(clause.key):
        return None
    return act


def _bare_name(act: Act) -> str | None:
    """The item an ``add`` or ``restate`` names when it names only that: one line, no
    quantity said, no options ("wings", "the coke")."""
    if act.kind not in ("add", "restate") or act.new is None or act.new.ambiguous or len(act.new.lines) != 1:
        return None
    line = act.new.lines[0]
    said = line.text.split()[:1]
    if line.options or line.excluded or line.notes or (said and number_from_words(tuple(said)) is not None):
        return None  # "a coke, make it large" orders one; "the coke, make it large" names it
    return line.item


def _placed(menu: Menu, phrases: Phrases, act: Act) -> Target | None:
    """The line an ``add`` or ``restate`` names by its place or size and nothing more ("the last
    pizza", "the smaller pizza"): a reference said before the change of "it" that follows."""
    if act.kind not in ("add", "restate") or act.words.split()[:1] not in (["the"], ["my"], ["that"]):
        return None
    target = read_target(menu, phrases, act.words)
    if target is None or not target.items or (target.ordinal is None and not target.size_rank):
        return None
    return target


def _joined(menu: Menu, phrases: Phrases, acts: list[Act]) -> list[Act]:
    """Acts that are one act said in two clauses: a name, then a change of "it" ("wings, take
    one off", "the coke, make it large", "the last pizza, make it medium": the change of that
    line), a replacement, then the line it replaces ("i meant a pepperoni, not a veggie": a
    swap, not a removal), and a topping left out, then "remove it" ("no pineapple, take it
    off": the topping, not the line)."""
    out: list[Act] = []
    for act in acts:
        last = out[-1] if out else None
        target = act.target
        topic = _bare_name(last) if last is not None else None
        placed = _placed(menu, phrases, last) if last is not None and topic is None else None
        if (
            (topic is not None or placed is not None)
            and act.kind in _EDIT_KINDS
            and target is not None
            and target.pointer
            and not (target.items or target.other or target.options or target.without or target.plural)
            and target.number is None
            and target.ordinal is None
        ):
            named = placed if topic is None else replace(target, items=(topic,), pointer=False)
            out[-1] = replace(act, target=named)
            continue
        if (
            last is not None
            and last.kind == "replace"
            and last.target is not None
            and last.target.pointer
            and not last.target.items
            and last.new is not None
            and act.kind == "remove"
            and act.words.split()[:1] == ["not"]
            and target is not None
            and target.items
        ):
            out[-1] = replace(last, target=target)
            continue
        if (
            last is not None
            and last.kind == "change"
            and last.modifiers is not None
            and last.modifiers.excluded
            and not last.modifiers.options
            and last.target is not None
            and last.target.pointer
            and not (last.target.items or last.target.options or last.target.without)
            and act.kind == "remove"
            and target is not None
            and target.said in ("it", "that")
        ):
            continue  # "não curto abacaxi, tira ele": "it" is the topping just left out
        out.append(act)
    return out


_POINTING = frozenset({"it", "that", "this", "them", "those", "these", "em", "they", "that one", "this one"})


def _named_then_pointed(
    menu: Menu, phrases: Phrases, parts: list[Clause], acts: list[Act | None]
) -> tuple[list[Clause], list[Act | None]]:
    """ "the bottle one, 2 of those", "the last pizza, make it medium", "the smaller pizza, make
    it 2": a clause that only names lines of the cart, then an edit of "it" or "those", is that
    edit of the lines named (read alone, the name could be options or an order)."""
    for i in range(len(parts) - 1):
        key = parts[i].key
        nxt = acts[i + 1]
        if not key.startswith(("the ", "that ", "those ")) or nxt is None or nxt.target is None:
            continue
        pointed = nxt.target
        if not (
            nxt.kind in _EDIT_KINDS
            and pointed.pointer
            and pointed.said in _POINTING
            and not (
                pointed.items or pointed.options or pointed.without or pointed.other or pointed.size_rank
            )
            and pointed.number is None
            and pointed.ordinal is None
        ):
            continue
        named = read_target(menu, phrases, key)
        if named is None or not (
            named.items or named.options or named.without or named.size_rank or named.ordinal is not None
        ):
            continue
        acts = [
            *acts[:i],
            replace(nxt, target=replace(named, count=named.count or pointed.count)),
            *acts[i + 2 :],
        ]
        parts = [*parts[:i], parts[i + 1], *parts[i + 2 :]]
        return _named_then_pointed(menu, phrases, parts, acts)
    return parts, acts


def read_acts(menu: Menu, text: str, phrases: Phrases) -> tuple[Act, ...]:
    """The acts of `text` (see the module docstring); ``()`` when no clause is an act of this
    layer, so the caller reads the message as an order. A clause that is no act but orders
    something becomes an ``add`` when another clause is an act ("remove the coke, add a
    sprite"); a clause that is neither makes the whole reading ``()``: a message half
    understood is better read by the order parser, which says what it did not find."""
    parts = clauses(menu, phrases, text)
    if not parts:
        return ()
    read = [(clause, _unless_asked(read_clause(menu, phrases, clause), clause)) for clause in parts]
    read = [(clause, act) if act is not None else _trimmed(menu, phrases, clause) for clause, act in read]
    parts = [clause for clause, _ in read]
    acts: list[Act | None] = [
        replace(act, words=clause.key) if act is not None else None for clause, act in read
    ]
    parts, acts = _named_then_pointed(menu, phrases, parts, acts)
    lead = _LEAD_IN.match(normalise(text))
    if lead and len(parts) == 1 and acts[0] is not None and acts[0].kind == "ack":
        # "ok, add mushrooms": the "ok" only leads in to the change that follows it
        words = normalise(text)[lead.end() :]
        rest = read_acts(menu, words, phrases)
        if rest and all(a.kind not in ("ack", "add") for a in rest):
            return rest
        if not rest and words.split()[0] in _VERBS:
            return ()  # "ok, add 2": a change not understood is for the parser to ask about
    edits = any(a is not None and a.kind not in ("ack", "question") for a in acts)
    if all(a is None for a in acts) and not any(c.corrective for c in parts):
        return ()
    out: list[Act] = []
    for clause, act in zip(parts, acts, strict=True):
        if act is not None:
            out.append(act)
            continue
        order = order_of(menu, clause.key)
        if order is None:
            parsed = parse_order(menu, clause.key)
            if not (parsed.lines or parsed.ambiguous) and any(a is not None for a in acts):
                continue  # "its been ages": no item named, beside a question or a change
            return ()
        adds = phrases.adding.search(clause.key) is not None
        restates = (clause.corrective or edits) and not adds
        if restates and len(parts) == 1 and _ASKS.match(normalise(text)):
            return ()  # "is the veggie actually vegetarian": a question, for the parser to answer
        if restates and clause.key.startswith(("instead of ", "in place of ")):
            # "instead of the coke, guarana": what is meant instead was not read; the line
            # named is not being said again
            return (Act("unsure", words=clause.key),)
        if restates and _NEGATED.search(clause.key) and unread_words(menu, clause.key):
            # "on reflection i do not require the water": a line said with a negation beside
            # words not read may mean the opposite of the line said again: asked
            return (Act("unsure", words=clause.key),)
        out.append(Act("restate" if restates else "add", new=order, words=clause.key))
    out = _joined(menu, phrases, out)
    if sum(a.kind in ("change", "set_quantity", "remove", "replace", "adjust") for a in out) > 1:
        # "veggie without olives and make the coke a bottle": beside other edits, options said
        # for a named line change it (alone they could also order another: see the rules)
        out = [replace(a, subject="") if a.subject == "or-add" else a for a in out]
    plain = [a for a in out if a.kind == "add" and a.per is None and a.like is None]
    return tuple(out) if len(plain) < len(out) else ()


# Words that take back what was just said in the same message, by language (the menu's
# locale), as the tokens say them (accents dropped): "2 pepperoni no wait 3", "a coke, sorry,
# a diet coke", "una coca, perdón, una coca light", "2 pepperoni não pera 3".
_TAKE_BACK: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        ("no", "wait"),
        ("wait", "no"),
        ("no", "sorry"),
        ("sorry",),
        ("wait",),
        ("i", "mean"),
        ("i", "meant"),
        ("actually",),
        ("no",),
        ("oops",),
        ("sorry", "i", "mean"),
    ),
    "es": (
        ("no", "espera"),
        ("espera",),
        ("no", "perdon"),
        ("perdon",),
        ("quiero", "decir"),
        ("digo",),
        ("no",),
        ("perdon", "quiero", "decir"),
    ),
    "pt_BR": (
        ("nao", "pera"),
        ("pera",),
        ("nao", "espera"),
        ("espera",),
        ("quer", "dizer"),
        ("digo",),
        ("desculpa",),
        ("nao",),
        ("ops",),
    ),
}
# Words that may follow the line said again without saying anything more.
_COURTESY = frozenset(
    {"please", "pls", "plz", "then", "por", "favor", "porfa", "entonces", "entao", ".", "!"}
)
# Marks that part the line said from the words taking it back ("2 margherita... actually 1").
_BREAKS = frozenset({",", ".", ";"})
# Words, in English, that lead up to what is said again without being part of it ("actually
# make that 1", "no, mejor 2"); and those that only go with a count said alone ("no, only 2",
# "não, uma só"), since before a line they could leave out more than the last one ("only a
# sprite").
_LEAD_INS: tuple[tuple[str, ...], ...] = (("make", "that"), ("make", "it"), ("actually",), ("better",))
_COUNT_ONLY: frozenset[tuple[str, ...]] = frozenset({("only",), ("just",)})
# The words before a bare "no" that make it "and not", "but not": "tres, y no dos".
_AND_NOT = frozenset({"and", "y", "e", "but", "pero", "mas"})
_ARTICLES = frozenset({"a", "an", "one", "un", "una", "uno", "um", "uma"})


def _plain_order(menu: Menu, tokens: list[str]) -> ParseResult | None:
    """What `tokens` order when they are an order and nothing else: lines only, every word read."""
    words = " ".join(tokens)
    parsed = parse_order(menu, words)
    if not parsed.lines or parsed.ambiguous or parsed.unmatched or parsed.bad_quantities:
        return None
    if parsed.modifiers is not None or any(line.unknown_options or line.notes for line in parsed.lines):
        return None
    if _unread_by_parser(menu, words):
        return None
    return parsed


def _said_number(tokens: Sequence[str], locale: str) -> int | None:
    """The count `tokens` spell in the language of `locale` ("duas", "cuatro", "3"), else None."""
    found = number_from_words(tuple(tokens))
    language = lexicon_for(locale)
    if found is not None or language is None or not tokens:
        return found
    english: list[str] = []
    for token in tokens:
        english.extend(language.phrases.get((token,), (token,)))
    # an article or "otra" is no count said again ("2 cocas, perdón, otra")
    return None if tuple(english) in WEAK_NUMBERS else number_from_words(tuple(english))


def _english(token: str, locale: str) -> tuple[str, ...]:
    """`token` in English, by the lexicon of `locale` ("mejor" → "actually"); itself if none."""
    language = lexicon_for(locale) if locale != "en" else None
    return language.phrases.get((token,), (token,)) if language is not None else (token,)


def _said_again(tokens: list[str], locale: str) -> tuple[list[str], int | None]:
    """What `tokens`, the words after those taking a line back, say again: the words without
    the marks and lead-ins around them, and the count they are when they are one alone ("make
    that 1", "mejor una", "uma só"), else None."""
    words = list(tokens)
    while words:
        if words[0] in _BREAKS:
            words = words[1:]
        elif (lead := next((c for c in _LEAD_INS if tuple(words[: len(c)]) == c), None)) is not None:
            words = words[len(lead) :]
        elif _english(words[0], locale) in _LEAD_INS:
            words = words[1:]
        else:
            break
    while words and words[-1] in _COURTESY:
        words = words[:-1]
    count = list(words)
    while count and _english(count[0], locale) in _COUNT_ONLY:
        count = count[1:]
    while count and _english(count[-1], locale) in {(), *_COUNT_ONLY}:
        count = count[:-1]
    quantity = _said_number(count, locale)
    if quantity is None and locale != "en" and len(count) == 1 and count[0] in _ARTICLES:
        quantity = 1  # "una", "uma" alone: one, as the count said again ("no, mejor una")
    return words, quantity


def _counts(word: str, locale: str = "en") -> bool:
    return word in _ARTICLES or _said_number((word,), locale) is not None


def _line_span(menu: Menu, tokens: list[str], line: OrderLine) -> int | None:
    """Where the words of `line`, the last line `tokens` order, start: the shortest run of last
    words that orders the same line, with the article or number before it; None if none does."""
    for start in range(len(tokens) - 1, -1, -1):
        parsed = _plain_order(menu, tokens[start:])
        if parsed is None or len(parsed.lines) != 1:
            continue
        found = parsed.lines[0]
        if (found.item, found.options, found.excluded) != (line.item, line.options, line.excluded):
            continue
        if found.quantity != line.quantity and not (start > 0 and _counts(tokens[start - 1], menu.locale)):
            continue
        while start > 0 and _counts(tokens[start - 1], menu.locale):
            start -= 1
        return start
    return None


def said_last(menu: Menu, text: str) -> str | None:
    """The message as the customer finally meant it when it takes back its last line and says
    it again ("2 pepperoni no wait 3" → "3 pepperoni", "a coke, sorry, a diet coke" → "a diet
    coke", "a veggie and a coke, i mean a sprite" → "a veggie and a sprite"), else None.

    What follows the words of taking back must be a number alone (the last line's new
    quantity) or one line of the same category as the last line said before them, and nothing
    else; what precedes them must be an order whose every word is read. Anything less sure
    (options, edits, a line of another kind: "a veggie, no olives", "a pepperoni, no wait, a
    coke too") is left as it was for the other readers."""
    cues = _TAKE_BACK.get(menu.locale)
    if not cues:
        return None
    tokens = tokenize(text)
    categories = {item.code: item.category for item in menu.items()}
    for start in range(2, len(tokens) - 1):
        for cue in sorted(cues, key=len, reverse=True):
            end = start + len(cue)
            if tuple(tokens[start:end]) != cue:
                continue
            before = tokens[:start]
            while before and before[-1] in _BREAKS:
                before = before[:-1]
            after, quantity = _said_again(tokens[end:], menu.locale)
            bare = cue == ("no",) or cue == ("nao",)
            if bare and tokens[start - 1] in _AND_NOT:
                # "serán tres, y no dos", "serão três, e não dois": the count corrected is
                # said after "and not"; nothing is taken back
                continue
            # "una coca no agua", "uma coca não água": a bare "no" between two names is "not"
            # in Spanish and Portuguese; taken back only as "una coca, no, agua" or before a
            # count alone ("2 pepperoni no 3")
            between = end < len(tokens) and tokens[end] not in _BREAKS
            if bare and menu.locale != "en" and between and quantity is None:
                continue
            if bare and after and options_only(menu, " ".join(["no", *after])) is not None:
                continue  # "…, no pepperoni on it": an option left out, not a line said again
            said = _plain_order(menu, before) if before and after else None
            if said is None:
                continue
            last = said.lines[-1]
            at = _line_span(menu, before, last)
            if at is None:
                return None
            head = before[:at]
            if quantity is not None:
                if not 0 < quantity <= 99:
                    return None
                rest = before[at:]
                while rest and _counts(rest[0], menu.locale):
                    rest = rest[1:]
                return " ".join([*head, str(quantity), *rest])
            again = _plain_order(menu, after)
            if again is None or len(again.lines) != 1 or _line_span(menu, after, again.lines[0]) != 0:
                return None
            if categories.get(again.lines[0].item) != categories.get(last.item):
                return None
            return " ".join([*head, *after])
    return None
