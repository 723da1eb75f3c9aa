"""Rule shapes the phrases of every language are built from (see ``understanding/acts.py``).

Each factory takes a language's regular expression, whose named groups mark the parts of a
clause (``t`` the target, ``n`` a quantity, ``m`` the quantity being corrected, ``x`` a
replacement, ``o`` options), and returns a rule: a function from a clause to an act or None.
Where a clause has two free parts and no word that surely separates them ("instead of the
veggie a hawaiian"), :func:`split_pairs` tries every split point and keeps the first where
both parts read as what they must be.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.orders.menu.catalog import Menu
from services.orders.understanding.acts import (
    Act,
    ActKind,
    Clause,
    Phrases,
    Rule,
    Target,
    number_of,
    options_only,
    order_of,
    read_target,
)
from services.orders.understanding.parser import Modifiers, parse_order

__all__ = [
    "adjust_rule",
    "change_rule",
    "first_of",
    "fixed_rule",
    "menu_question_rule",
    "question_rule",
    "remove_rule",
    "replace_rule",
    "scale_rule",
    "set_quantity_rule",
    "split_pairs",
    "the_line_with_options",
]

_POINTER = Target("", pointer=True)
# Words that tie options to a line ("olives on the veggie"): such words are no bare item.
# Anything written as a number, even one no quantity can be ("2.5", "-1", "1e9", "0x10"):
# kept as said so the customer is told the range instead of the line changing.
# Words after "the one" that continue a reference by its options ("the one with extra cheese").
_BY_OPTIONS = frozenset({"with", "without", "in", "no", "that", "which"})
_QUANTITY_SAID = re.compile(r"-?\d[\w.,/-]*")
_CONNECTED = re.compile(r"\b(?:on|onto|from|off|in|into|with|for|to)\b")


def _group(match: re.Match[str], name: str) -> str:
    value = match.groupdict().get(name)
    return (value or "").strip()


def _target(menu: Menu, phrases: Phrases, words: str) -> Target | None:
    """The target `words` name, the lines being talked about when there are none."""
    return read_target(menu, phrases, words) if words else _POINTER


def split_pairs(
    words: str, connectors: frozenset[str] | None = None, *, longest_first: bool = False
) -> Iterator[tuple[str, str]]:
    """Every way to cut `words` in two non-empty parts, at a connector word (dropped) when
    `connectors` are given, else between any two words; the shortest left part first, or the
    longest with `longest_first`."""
    tokens = words.split()
    cuts = range(1, len(tokens))
    for i in reversed(cuts) if longest_first else cuts:
        if connectors is None:
            yield " ".join(tokens[:i]), " ".join(tokens[i:])
        elif tokens[i] in connectors and i + 1 < len(tokens):
            yield " ".join(tokens[:i]), " ".join(tokens[i + 1 :])


def fixed_rule(pattern: re.Pattern[str], kind: ActKind) -> Rule:
    """A clause that is the whole act by itself ("thanks", "never mind", "that's all")."""

    def rule(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
        return Act(kind) if pattern.fullmatch(clause.key) else None

    return rule


def question_rule(pattern: re.Pattern[str], topic: str) -> Rule:
    """A question of `topic`; the group ``s``, when present, is what it asks about."""

    def rule(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
        match = pattern.search(clause.key)
        if match is None:
            return None
        subject = _group(match, "s") or _group(match, "s2") or _group(match, "s3")
        return Act("question", topic=topic, subject=subject)

    return rule


# Words around what a question asks about that name nothing on the menu: "anything gluten
# free", "a thin crust option", "is thin crust available at all".
_ASKED_LEAD = re.compile(r"^(?:(?:any|anything|something|some|a|an|the|your|also|still)\s+)+")
_ASKED_TRAIL = re.compile(
    r"(?:\s+(?:option|options|choice|choices|available|at all|on the menu|on your menu|too|as well|here|"
    r"today|tonight|now|right now))+$"
)

# Words asked of an item that are no option it could have: a diet, an allergen, a taste.
_NOT_AN_OPTION = re.compile(
    r"\b(?:gluten|dairy|lactose|nuts?|peanuts?|vegan|vegetarian|meat|allerg\w*|spicy|hot|halal|kosher|"
    r"sugar|eggs?|fish|pork)\b"
)


def menu_question_rule(pattern: re.Pattern[str], *, needs_mark: bool = False) -> Rule:
    """ "do you have thin crust", "is there pineapple on the hawaiian", "does the veggie have
    onions": whether the menu has an option (a size, crust, topping), alone or on one item. The
    group ``s`` is what is asked about, ``i`` (optional) the item it is asked of. A question,
    not a request: the act is a ``question`` of topic ``option`` whose subject is the words as
    the order parser reads them (one item with its options, or options only), and the cart is
    never changed. With `needs_mark` the shape is a question only when the message has a
    question mark ("the hawaiian comes with pineapple?"). Anything else (an item alone, a
    quantity, words that are not on the menu) is left to the other rules."""

    def read(menu: Menu, words: str, item_words: str) -> str | None:
        words = _ASKED_TRAIL.sub("", _ASKED_LEAD.sub("", words)).strip()
        if not words or any(ch.isdigit() for ch in words):
            return None
        if item_words:
            item = order_of(menu, item_words)
            if item is None or len(item.lines) != 1 or item.ambiguous or item.lines[0].options:
                return None
            words = f"{item_words} with {words}"
        parsed = parse_order(menu, words)
        if parsed.unmatched or parsed.bad_quantities or parsed.ambiguous or len(parsed.lines) > 1:
            return None
        if parsed.lines:
            line = parsed.lines[0]
            # "does the coke come with pineapple": an option the item does not have is answered
            # too; a diet or a taste ("does the salad have gluten") is the item's details' job
            unknown = [u.phrase for u in line.unknown_options if not u.excluded]
            if unknown and _NOT_AN_OPTION.search(" ".join(unknown)):
                return None
            return words if (line.options or unknown) and line.quantity == 1 else None
        return words if parsed.modifiers is not None and parsed.modifiers.options else None

    def rule(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
        if needs_mark and "?" not in clause.text:
            return None
        match = pattern.fullmatch(clause.key)
        if match is None:
            return None
        asked, item = _group(match, "s"), _group(match, "i")
        # "does the margherita come with basil or do i need to add it": the first half asks
        for words in (asked, asked.partition(" or ")[0]):
            subject = read(menu, words, item)
            if subject is not None:
                return Act("question", topic="option", subject=subject)
        return None

    return rule


def _names_one(menu: Menu, phrases: Phrases, words: str) -> bool:
    """Whether `words` followed by "one" name a line ("the second one", "the other one", "the
    large one"), so that the "one" is part of the reference and no quantity."""
    ref = read_target(menu, phrases, f"{words} one")
    return (
        ref is not None
        and ref.pointer
        and bool(ref.ordinal is not None or ref.other or ref.options or ref.without)
    )


# "… and 3 cokes" inside what a quantity is set on: a second line with its own count.
_ANOTHER_COUNT = re.compile(r"\b(?:and|,)\s+(?:\d+|two|three|four|five|six|seven|eight|nine|ten)\s+[a-z]")


def _options_before_name(menu: Menu, phrases: Phrases, words: str) -> bool:
    """Whether `words` name a line by options said before its name ("the small cokes", "those
    thin crust hawaiians"): options there say which line, not what it should become (after the
    name, "the hawaiians thin crust", they may be the change)."""
    tokens = words.split()
    while tokens and tokens[0] in phrases.determiners:
        tokens = tokens[1:]
    for cut in range(1, len(tokens)):
        mods = options_only(menu, " ".join(tokens[:cut]))
        if mods is None or mods.excluded or not mods.options:
            continue
        name = order_of(menu, " ".join(tokens[cut:]))
        if name is not None and not name.ambiguous and len(name.lines) == 1:
            line = name.lines[0]
            return not (line.options or line.excluded) and line.quantity == 1
    return False


def set_quantity_rule(
    pattern: re.Pattern[str], *, add_when_missing: bool = False, or_more: bool = False
) -> Rule:
    """ "make that 3", "change the coke to 2", "1 not 2": a line's new quantity. With
    `add_when_missing` ("just one coke"), ``new`` holds the order to add instead when no line
    is named that way. With `or_more` the quantity may be the total or more of it: asked."""

    def rule(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
        match = pattern.fullmatch(clause.key)
        if match is None:
            return None
        said = _group(match, "n")
        quantity = number_of(said)
        if quantity is None and not _QUANTITY_SAID.fullmatch(said):
            return None
        words = _group(match, "t") or _group(match, "t2") or _group(match, "t3")
        if words and _ANOTHER_COUNT.search(words):
            return None  # "only 3 pizzas and 3 cokes": a quantity for each of several lines
        if said == "one" and words and _names_one(menu, phrases, words):
            return None  # "change the second one", "make the large one": "one" ends a reference
        target = _target(menu, phrases, words)
        said_options = words and any(line.options or line.excluded for line in parse_order(menu, words).lines)
        # "2 of the large one", "only one of the small": a line named by its options
        by_options = (
            target is not None
            and target.pointer
            and (
                " one" in f" {target.said}"
                or (not target.items and target.said.split()[:1] in (["the"], ["those"], ["these"]))
            )
        )
        # "3 of the small cokes": options before the name say which line is counted
        by_options = by_options or bool(words and _options_before_name(menu, phrases, words))
        if target is None or ((target.options or said_options) and not by_options):
            # "2 of the hawaiians thin crust": options said, not a quantity ("2 of the large
            # one" names its line by them)
            return None
        previous = number_of(_group(match, "m")) if _group(match, "m") else None
        new = order_of(menu, f"{quantity} {words}") if add_when_missing and words and quantity else None
        # a quantity that is no whole number ("2.5", "-1") is kept as said: the customer is
        # told the range instead of the line changing to another number
        return Act(
            "set_quantity",
            target=target,
            quantity=quantity,
            previous=previous,
            new=new,
            subject=said,
            # "wings x3*": the asterisk (or "actually") says it corrects: no question of "more"
            or_more=or_more and not clause.corrective,
        )

    return rule


def adjust_rule(pattern: re.Pattern[str], sign: int) -> Rule:
    """ "one more", "another coke", "one less": `sign` times n units on a line (1 when no number).
    ``new`` holds the order to add when a "more" names no line in the cart."""

    def rule(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
        match = pattern.fullmatch(clause.key)
        if match is None:
            return None
        said = _group(match, "n")
        quantity = number_of(said) if said else 1
        if quantity is None:
            return None
        words = _group(match, "t")
        of = _group(match, "t2") or _group(match, "t3")  # "another one of those pizzas"
        target = _target(menu, phrases, words or of)
        if target is None:
            return None
        new = order_of(menu, f"{quantity} {words}") if sign > 0 and words else None
        return Act("adjust", target=target, quantity=sign * quantity, new=new)

    return rule


# How much a line's quantity is multiplied by ("double the cokes", "half that").
_SCALES = {"double": (2, 1), "twice": (2, 1), "triple": (3, 1), "half": (1, 2), "halve": (1, 2)}


def scale_rule(pattern: re.Pattern[str]) -> Rule:
    """ "double the cokes", "half that", "triple it": each line meant gets its quantity times
    the factor the group ``f`` says. The group ``t`` must point at lines ("the", "my", "it",
    "them"): "double pepperoni" is a topping said twice, not two pizzas."""

    def rule(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
        match = pattern.fullmatch(clause.key)
        if match is None or _group(match, "f") not in _SCALES:
            return None
        words = _group(match, "t")
        pointing = phrases.determiners | phrases.pointers
        if words and (_CONNECTED.search(words) or words.split()[0] not in pointing):
            return None
        target = _target(menu, phrases, words)
        if target is None or target.options or target.without or target.number is not None:
            return None
        return Act("adjust", target=target, scale=_SCALES[_group(match, "f")])

    return rule


def _items_or(menu: Menu, phrases: Phrases, words: str) -> Target | None:
    """ "salad or garlic bread" (no salad or garlic bread, sin ensalada ni pan de ajo): lines
    of two items or more joined by "or", each named alone, as one target; None otherwise."""
    parts = [part.strip() for part in re.split(r"\s*,\s*|\s+or\s+", words)]
    if len(parts) < 2 or " or " not in f" {words} ":
        return None
    items: list[str] = []
    for part in parts:
        target = read_target(menu, phrases, part)
        if target is None or target.pointer or target.options or len(target.items) != 1 or target.count:
            return None
        items.append(target.items[0])
    return Target(words, items=tuple(items), plural=True)


def remove_rule(pattern: re.Pattern[str], *, item_only: bool = False) -> Rule:
    """ "remove the coke", "forget the dessert", "no water": a line (or some units of it) out.

    With `item_only` ("no X", "without X") the words must name an item and not an option:
    "no onions" is an option left out, not a line removed. When they could be both ("no
    pepperoni": the pizza, or the topping), ``modifiers`` holds the option reading and the
    conversation asks which is meant."""

    def rule(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
        match = pattern.fullmatch(clause.key)
        if match is None:
            return None
        words = _group(match, "t")
        if not words:
            return None
        either = _items_or(menu, phrases, words) if item_only else None
        target = either or read_target(menu, phrases, words)
        if (
            target is None
            and phrases.article_names_line
            and " " not in words
            and clause.key.endswith(f"the {words}")
        ):
            # "quita la chica": the small one ("quita la masa gruesa" may be the crust taken off)
            target = read_target(menu, phrases, f"the {words}")
        if target is None:
            return None
        option_reading: Modifiers | None = None
        if item_only and either is None:
            # "no olives on the veggie" is an option left out of a line, not a line removed
            if not target.items or target.pointer or target.options or _CONNECTED.search(words):
                return None
            if len(target.items) > 1 and len(parse_order(menu, words).lines) > 1:
                return None  # "not sprite, diet coke": two items named, a swap rather than a removal
            if target.count is not None:
                return None  # "not three margheritas, two": a quantity corrected, not a line removed
            option_reading = options_only(menu, f"no {words}")
        if item_only and not target.plural and len(target.items) > 1:
            # "no dessert": no line of that category at all
            target = Target(target.said, items=target.items, plural=True)
        # "the first two drinks" counts lines, not units of one line
        units = target.count if target.ordinal is None else None
        return Act("remove", target=target, quantity=units, modifiers=option_reading)

    return rule


def replace_rule(pattern: re.Pattern[str], connectors: frozenset[str] | None = None) -> Rule:
    """ "swap the coke for a sprite", "instead of the veggie a hawaiian", "a sprite instead":
    a line replaced by something else. The group ``x`` is the replacement; ``t`` the line
    replaced (absent: the line of the same kind the customer is talking about). When ``t``
    and ``x`` are one group ``tx``, it is split where both parts read (at a connector word
    when `connectors` are given). A replacement that is only options ("change the coke to
    large") is a change of options instead."""

    def pair(menu: Menu, phrases: Phrases, target_words: str, new_words: str) -> Act | None:
        if target_words.isdigit() or new_words in ("one", "ones"):
            # "2 sprites instead of 3" corrects a quantity, "make the other one" ends a reference:
            # neither names a line and its replacement
            return None
        target = _target(menu, phrases, target_words)
        if target is None or (target.pointer and target.count and not target.plural and not target.items):
            return None  # "not three | margheritas, two": a number names no line to replace
        new = order_of(menu, new_words)
        if new is not None:
            return Act("replace", target=target, new=new)
        mods = options_only(menu, new_words)
        if mods is not None and target_words:
            return Act("change", target=target, modifiers=mods)
        # "make the cokes diet": the new words complete the old name
        noun = " ".join(w for w in target_words.split() if w not in phrases.determiners)
        new = order_of(menu, f"{new_words} {noun}") if noun and target.items else None
        if new is not None and not {line.item for line in new.lines} & set(target.items):
            return Act("replace", target=target, new=new)
        if (
            target.pointer
            and target_words
            and len(new_words.split()) <= 2
            and not _CONNECTED.search(new_words)
        ):
            # "change them to diet": completed by each line's own name, in the conversation
            return Act("replace", target=target, subject=new_words)
        return None

    def rule(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
        match = pattern.fullmatch(clause.key)
        if match is None:
            return None
        both = _group(match, "tx")
        if both:
            for left, right in split_pairs(both, connectors):
                if connectors is None and _cuts_a_name(menu, phrases, left, right):
                    continue  # "instead of the large | veggie, a hawaiian": the name goes on
                act = pair(menu, phrases, left, right)
                if act is not None:
                    return act
            return None
        return pair(menu, phrases, _group(match, "t"), _group(match, "x"))

    return rule


_ARTICLE_OR_COUNT = re.compile(r"^(?:an?|one|some|the|\d+)\b")


def _cuts_a_name(menu: Menu, phrases: Phrases, left: str, right: str) -> bool:
    """Whether cutting at `left` | `right` splits the name of a line: `left` names lines by
    options alone ("the large") and either goes on into an item with the next word ("the large
    | veggie, a hawaiian": the large veggie) or is followed by no article or count, which the
    replacement would come with ("the large | veggie a large hawaiian")."""
    target = read_target(menu, phrases, left) if left else None
    if target is None or target.items:
        return False
    longer = read_target(menu, phrases, f"{left} {right.split()[0]}") if right else None
    if longer is not None and longer.items:
        return True
    return (
        bool(target.options)
        and left.split()[-1] not in ("one", "ones")
        and _ARTICLE_OR_COUNT.match(right) is None
    )


def change_rule(
    pattern: re.Pattern[str], connectors: frozenset[str] | None = None, *, negate: bool = False
) -> Rule:
    """ "thin crust on the pepperoni", "make the margherita gluten free", "one of them large":
    options changed on lines already in the cart. ``o`` is the options, ``t`` the target,
    ``to`` both in one group (target first) to be split; ``n`` how many units of the line
    change ("one of the two"). With `negate` the options are left out ("take the onions off")."""

    def pair(
        menu: Menu, phrases: Phrases, target_words: str, option_words: str, units: int | None, replacing: bool
    ) -> Act | None:
        target = _target(menu, phrases, target_words)
        if target is None:
            return None
        if replacing:
            # "make one of them a hawaiian": some units of a line replaced by another item
            new = order_of(menu, option_words)
            return Act("replace", target=target, new=new, quantity=units) if new is not None else None
        if option_words.split()[0] in ("one", "ones"):
            return None  # "the large | one no pineapple": the reference goes on
        if negate and option_words.split()[-1] in ("one", "ones"):
            return None  # "take the xl one out": a line named by its options, taken out
        if option_words.split()[0] in ("is", "are", "was", "were") or " too " in f" {option_words} ":
            return None  # "the xl ones are too big": a complaint, not the option to choose
        if option_words.split()[-1] in ("go", "goes", "gone"):
            return None  # "the cheesy one can go": the line goes, "can" is no container
        mods = options_only(menu, f"no {option_words}" if negate else option_words)
        if mods is None and not negate:
            mods = _with_article(menu, option_words)
        return Act("change", target=target, modifiers=mods, quantity=units) if mods is not None else None

    def rule(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
        match = pattern.fullmatch(clause.key)
        if match is None:
            return None
        said = _group(match, "n")
        units = number_of(said) if said else None
        if said and units is None:
            return None
        both = _group(match, "to")
        # options first at every split; a replacement only for "one of them a hawaiian"
        for replacing in (False, True) if units and not negate else (False,):
            if both:
                for left, right in split_pairs(both, connectors):
                    if left.split()[-1] in ("one", "ones") and right.split()[0] in _BY_OPTIONS:
                        continue  # "the one | with extra cheese large": the reference goes on
                    act = pair(menu, phrases, left, right, units, replacing)
                    if act is not None:
                        return act
            else:
                act = pair(menu, phrases, _group(match, "t"), _group(match, "o"), units, replacing)
                if act is not None:
                    return act
        return None

    return rule


def _with_article(menu: Menu, words: str) -> Modifiers | None:
    """ "a bottle", "a large": single-choice options said with an article ("the other one a
    bottle", "the middle one in a bottle"). A topping with an article ("a pepperoni") names
    the item, so it is no option."""
    if words.startswith(("in a ", "in an ")):
        words = words[len("in ") :]
    head, _, rest = words.partition(" ")
    if head not in ("a", "an") or not rest:
        return None
    mods = options_only(menu, rest)
    if mods is None or mods.excluded or not mods.options:
        return None
    single = all((g := menu.group(o.group)) is not None and g.kind == "single" for o in mods.options)
    return mods if single else None


def first_of(*rules: Rule) -> Rule:
    """The act of the first of `rules` that reads the clause."""

    def rule(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
        for one in rules:
            act = one(menu, phrases, clause)
            if act is not None:
                return act
        return None

    return rule


def the_line_with_options(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "la vegetariana sin gluten", "las cocas grandes", "a pepperoni grande": a line of the
    cart named with "the" and the options it is to have (Spanish and Portuguese say the line,
    then them); a new line would be "una vegetariana sin gluten", "uma pepperoni grande"."""
    key = clause.key
    if not key.startswith("the ") or "?" in clause.text:
        return None
    parsed = order_of(menu, key.removeprefix("the "))
    if parsed is None or len(parsed.lines) != 1 or parsed.ambiguous or parsed.modifiers is not None:
        return None
    line = parsed.lines[0]
    if not (line.options or line.excluded) or line.unknown_options or any(ch.isdigit() for ch in key):
        return None
    plural = line.text.split()[-1].endswith("s") if line.text.split() else False
    mods = Modifiers(options=line.options, excluded=line.excluded, text=key)
    return Act("change", target=Target(key, items=(line.item,), plural=plural), modifiers=mods)
