"""Adding what a customer typed to the cart: the order parser's lines, "did you mean" questions
answered by number, phrases we could not match with the closest items, and cart edits
(remove a line, change a quantity) that name a line by number or by item.

A question is kept in `customers.state["question"]` (more in `state["questions"]`) until the
customer answers with its number or says something else; see docs/conversation.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rapidfuzz import fuzz, process

from services.orders.conversation.cart import numbered_lines, option_words, render_cart, room
from services.orders.conversation.texts import CHECKOUT_HINT, HELD, echo, item_names
from services.orders.conversation.turn import Turn
from services.orders.language import Speaker
from services.orders.menu.catalog import (
    MAX_QUANTITY,
    QUALIFIERS,
    CartLimits,
    ChosenOption,
    Item,
    Menu,
)
from services.orders.storage import carts
from services.orders.understanding.menu_index import quote, tokenize
from services.orders.understanding.parser import (
    AmbiguousPhrase,
    BadQuantity,
    Modifiers,
    OrderLine,
    ParseResult,
    parse_order,
)

# The parser reads at most this much of a message; WhatsApp bodies are at most 1,600 chars.
MAX_PARSE_CHARS = 1600
# How close a phrase must be to a cart line's name to mean it ("remove the cokes").
_LINE_MATCH_SCORE = 70
# "remove it", "make that 2": the line being talked about.
_POINTERS = frozenset(
    {"it", "that", "this", "them", "those", "these", "that one", "this one", "the last one"}
)
# Below this a "closest item" is noise rather than a suggestion.
_SUGGEST_SCORE = 55


def parse(menu: Menu, text: str) -> ParseResult:
    """The parser's reading of `text` (cut to `MAX_PARSE_CHARS`)."""
    return parse_order(menu, text[:MAX_PARSE_CHARS])


def closest_items(menu: Menu, phrase: str, limit: int = 3) -> list[str]:
    """Names of the available items closest in spelling to `phrase` (for "did you mean"),
    used when the parser had no suggestion of its own."""
    names = {item.name: item.name.lower() for item in menu.items() if item.available}
    found = process.extract(
        phrase.lower(), names, scorer=fuzz.WRatio, limit=limit, score_cutoff=_SUGGEST_SCORE
    )
    return [key for _, _, key in found]


def chosen_json(options: tuple[ChosenOption, ...]) -> list[dict[str, Any]]:
    return [{"group": o.group, "option": o.option, "qualifier": o.qualifier} for o in options]


def chosen_from_json(raw: list[dict[str, Any]]) -> tuple[ChosenOption, ...]:
    return tuple(ChosenOption(str(o["group"]), str(o["option"]), o.get("qualifier")) for o in raw)


class LineProblem(Exception):
    """A line that cannot go into the cart; `str()` is the sentence for the customer."""


def remap_option(menu: Menu, item: Item, choice: ChosenOption) -> ChosenOption | None:
    """`choice` as an option of one of `item`'s own groups, or None when it has no such option.

    The parser resolves an option said on its own ("large") against the first group that has
    it (pizza sizes); for a drink the same word is the drink size's "large".
    """
    if choice.group in item.option_groups:
        return choice
    group = menu.group(choice.group)
    said = group.option(choice.option) if group else None
    for own in menu.groups_of(item):
        for option in own.options:
            if option.code == choice.option or (
                said is not None and option.name.lower() == said.name.lower()
            ):
                return ChosenOption(own.code, option.code, choice.qualifier if own.qualifiers else None)
    if said is not None and group is not None and group.kind == "single":
        # "regular size" for a drink: the pizza's Medium (alias "regular") is the drink's
        # Regular (alias "medium"), the names of one option are another's aliases
        words = {said.name.lower(), *(a.lower() for a in said.aliases)}
        for own in menu.groups_of(item):
            if own.kind != "single":
                continue
            for option in own.options:
                if {option.name.lower(), *(a.lower() for a in option.aliases)} & words:
                    return ChosenOption(own.code, option.code, None)
    return None


def build_line(
    menu: Menu,
    item: Item,
    options: tuple[ChosenOption, ...],
    excluded: tuple[ChosenOption, ...],
    notes: list[str],
    speaker: Speaker,
) -> dict[str, Any]:
    """Cart line fields for `item` with the chosen options: unit price (cents), option dicts
    `{group, option, name, qualifier, price_cents}`, excluded option names, notes.

    Options of groups the item does not offer are dropped (an answer to "which pizza?" may
    carry a size meant for any pizza). Raises `LineProblem` (worded by `speaker`) for a
    sold-out item or option, or a required choice that is missing.
    """
    s = speaker
    if not item.available:
        raise LineProblem(s._("Sorry, *{item}* is sold out right now.", item=item.name))
    kept = tuple(c for c in (remap_option(menu, item, o) for o in options) if c is not None)
    option_rows: list[dict[str, Any]] = []
    for choice in kept:
        group = menu.group(choice.group)
        option = group.option(choice.option) if group else None
        if group is None or option is None:
            continue
        if not option.available:
            raise LineProblem(
                s._(
                    "Sorry, {option} is not available right now, so I didn't add {item}.",
                    option=option.name,
                    item=item.name,
                )
            )
        option_rows.append(
            {
                "group": group.code,
                "option": option.code,
                "name": option.name,
                "qualifier": choice.qualifier,
                "price_cents": option.price * QUALIFIERS.get(choice.qualifier or "", 1),
            }
        )
    chosen_groups = {o.group for o in kept}
    for group in menu.groups_of(item):
        if group.required and not group.default and group.code not in chosen_groups:
            choices = ", ".join(o.name for o in group.options if o.available)
            raise LineProblem(
                s._(
                    "Which {group} would you like for {item}? {choices}. For example: *1 {example}*.",
                    group=group.name.lower(),
                    item=item.name,
                    choices=choices,
                    example=f"{group.options[0].name.lower()} {item.name.lower()}",
                )
            )
    excluded_names = []
    for choice in excluded:
        if choice.qualifier:
            continue  # "without extra cheese": the cheese as the dish comes, not none of it
        mapped = remap_option(menu, item, choice) or choice
        if _single_chosen(menu, mapped, kept):
            continue  # "a coke in a bottle, not a can": the bottle chosen says it all
        group = menu.group(mapped.group)
        option = group.option(mapped.option) if group else None
        if option is not None:
            excluded_names.append(option.name)
    try:
        unit = menu.unit_price(item.code, kept)
    except KeyError as exc:
        problem = s._("Sorry, I couldn't price {item} that way ({error}).", item=item.name, error=exc)
        raise LineProblem(problem) from None
    return {
        "item_code": item.code,
        "name": item.name,
        "unit_price_cents": unit,
        "options": option_rows,
        "excluded": excluded_names,
        "notes": "; ".join(n for n in notes if n),
    }


def _single_chosen(menu: Menu, left_out: ChosenOption, chosen: Iterable[ChosenOption]) -> bool:
    """Whether another option of `left_out`'s single-choice group is among `chosen`: leaving
    out the can beside the bottle chosen says nothing more."""
    group = menu.group(left_out.group)
    return (
        group is not None
        and group.kind == "single"
        and any(c.group == left_out.group and c.option != left_out.option for c in chosen)
    )


def _line_notes(
    line: OrderLine | AmbiguousPhrase | Modifiers,
    item: Item,
    remarks: list[str],
    speaker: Speaker,
    notes: list[str] | None = None,
) -> list[str]:
    """Kitchen notes of a line; options the store lacks become a remark (asked for) or a
    note (left out: "no pickles" is kept for the kitchen and named back)."""
    s = speaker
    notes = list(line.notes) if notes is None else notes
    for unknown in line.unknown_options:
        if unknown.excluded:
            left_out = s._("no {option}", option=unknown.phrase)
            notes.append(left_out)
            remarks.append(s._("Noted for {item}: {note}.", item=item.name, note=left_out))
        else:
            remarks.append(
                s._(
                    "We don't have {option} for {item}, so I left it out.",
                    option=unknown.phrase,
                    item=item.name,
                )
            )
    return notes


def describe(fields: dict[str, Any], speaker: Speaker) -> str:
    """`Pepperoni (Large, extra Cheese, no Onions)` for a line's fields, in the speaker's words."""
    extras = option_words(speaker, fields["options"], fields["excluded"], fields.get("notes") or "")
    return f"{fields['name']} ({', '.join(extras)})" if extras else str(fields["name"])


async def add_line(
    turn: Turn, fields: dict[str, Any], quantity: int, remarks: list[str], touched: list[int]
) -> str | None:
    """Add `quantity` of a line; returns "2 x Margherita" for what was really added, or None
    when nothing was, and appends the line's id to `touched`. A line holds at most MAX_QUANTITY
    and a cart at most its store's limits
    (`store.cart`): a capped or refused addition is explained in `remarks`, so the reply never
    claims more than the cart holds."""
    limits = turn.store.menu.store.cart
    result = await carts.add_line(
        turn.conn, turn.customer_id, quantity=quantity, limits=limits, now=turn.now, **fields
    )
    if result.line_id is not None:
        touched.append(result.line_id)
    added, name = result.quantity, fields["name"]
    if result.limit is not None:
        remarks.append(limit_remark(result.limit, limits, name, added, quantity, turn.speaker))
    return f"{added} x {describe(fields, turn.speaker)}" if added > 0 else None


def limit_remark(limit: str, limits: CartLimits, name: str, added: int, asked: int, speaker: Speaker) -> str:
    """Why only `added` of the `asked` `name` went into the cart: the line's or the cart's limit."""
    s = speaker
    if limit == "lines":
        return s._(
            "Your cart can hold at most {most} different items, so I didn't add {item}. "
            "Send *checkout* to order what you have, or *remove* a line first.",
            most=limits.max_lines,
            item=name,
        )
    if limit == "items":
        most = limits.max_items
        if added <= 0:
            return s._(
                "Your cart already has {most} items, the most for one order, so I didn't add {item}.",
                most=most,
                item=name,
            )
        return s._(
            "{most} items is the most for one order, so I added {added} {item} instead of {wanted}.",
            most=most,
            added=added,
            item=name,
            wanted=asked,
        )
    if added <= 0:
        return s._(
            "You already have {most} x {item}, the most for one line, so I didn't add more.",
            most=MAX_QUANTITY,
            item=name,
        )
    return s._(
        "{most} is the most for one line, so I added {added} {item} instead of {wanted}.",
        most=MAX_QUANTITY,
        added=added,
        item=name,
        wanted=asked,
    )


# Room in a reply for what was added and for remarks before they are summarised.
_ADDED_ROOM = 400
_REMARKS_ROOM = 600


def added_text(added: list[str], speaker: Speaker) -> str:
    """`✅ Added 2 x Margherita, 1 x Coke.`, or, when that is long, the first ones and a count."""
    text = speaker._("✅ Added {lines}.", lines=", ".join(added))
    if len(text) <= _ADDED_ROOM:
        return text
    shown: list[str] = []
    for entry in added:
        if len(speaker._("✅ Added {lines}.", lines=", ".join([*shown, entry]))) > _ADDED_ROOM - 40:
            break
        shown.append(entry)
    return speaker._(
        "✅ Added {lines} and {more} more lines.", lines=", ".join(shown), more=len(added) - len(shown)
    )


def bounded_remarks(remarks: list[str], speaker: Speaker) -> list[str]:
    """The remarks that fit `_REMARKS_ROOM`, then how many more there were."""
    kept: list[str] = []
    used = 0
    for i, remark in enumerate(remarks):
        if used + len(remark) > _REMARKS_ROOM and kept:
            more = speaker._("(and {n} more things I couldn't add as you wrote them)", n=len(remarks) - i)
            return [*kept, more]
        kept.append(remark)
        used += len(remark) + 2
    return kept


def _bad_quantity(menu: Menu, bad: BadQuantity, speaker: Speaker) -> str:
    """ "0 sprite", "1000000 coke": nothing is added; the customer is told the range."""
    names = item_names(menu, bad.candidates)
    name = names[0] if len(names) == 1 else bad.phrase
    problem = quantity_problem(bad.said.strip("x"), speaker) or ""
    hint = speaker._("I didn't add {item}; for example *2 {example}*.", item=name, example=name.lower())
    return f"{problem} {hint}"


def question_text(menu: Menu, question: dict[str, Any], speaker: Speaker) -> str:
    """`Which one did you mean by "pizza"?` with a numbered list of candidates and prices."""
    lines = [speaker._('Which one did you mean by "{phrase}"?', phrase=echo(question["phrase"]))]
    for i, code in enumerate(question["candidates"], 1):
        item = menu.item(code)
        if item is not None:
            lines.append(f"{i}. {item.name} {speaker.money(item.price)}")
    lines.append(speaker._("Reply with the number."))
    return "\n".join(lines)


def _question(amb: AmbiguousPhrase, text: str) -> dict[str, Any]:
    return {
        "phrase": quote(text, amb.phrase),
        "candidates": list(amb.candidates),
        "quantity": amb.quantity,
        "options": chosen_json(amb.options),
        "excluded": chosen_json(amb.excluded),
        "notes": list(amb.notes),
        "unknown": [u.phrase for u in amb.unknown_options if u.excluded],
    }


async def add_parsed(turn: Turn, result: ParseResult, *, show_cart: bool = True) -> str:
    """Put the parsed lines into the cart and say what happened: added lines, problems,
    phrases we could not match (with suggestions), then the cart (unless `show_cart` is
    False: the caller shows it after more changes), or the first question. The lines added
    become the lines being talked about (`focus`)."""
    menu = turn.store.menu
    s = turn.speaker
    added: list[str] = []
    remarks: list[str] = []
    touched: list[int] = []
    questions = [_question(a, turn.inbound.text) for a in result.ambiguous if a.candidates]
    # a message is applied whole or not at all: with a question to ask, the lines it orders
    # are held with the question and added with its answer (dialogue.answer_question)
    held: list[dict[str, Any]] = []
    for line in result.lines:
        item = menu.item(line.item)
        if item is None:
            continue
        notes = _line_notes(line, item, remarks, s)
        try:
            fields = build_line(menu, item, line.options, line.excluded, notes, s)
        except LineProblem as problem:
            remarks.append(str(problem))
            continue
        if questions:
            held.append({"fields": fields, "quantity": line.quantity})
            continue
        said = await add_line(turn, fields, line.quantity, remarks, touched)
        if said is not None:
            added.append(said)
    if touched:
        focus(turn, touched)
    for bad in result.bad_quantities:
        remarks.append(_bad_quantity(menu, bad, s))
    for miss in result.unmatched:
        suggestions = item_names(menu, miss.suggestions) or closest_items(menu, miss.phrase)
        said = quote(turn.inbound.text, miss.phrase)  # their words, never the normalised form
        if suggestions:
            names = s.list([f"*{name}*" for name in suggestions[:3]], style="or")
            sentence = s._(
                'Sorry, I couldn\'t find "{phrase}" on the menu. Did you mean {names}?',
                phrase=echo(said),
                names=names,
            )
        else:
            sentence = s._('Sorry, I couldn\'t find "{phrase}" on the menu.', phrase=echo(said))
        remarks.append(sentence)
    changed = ""
    ops: list[dict[str, Any]] = [{"op": "add", "add": held}] if held else []
    if result.modifiers is not None and questions:
        change = await _modification(turn, result.modifiers, remarks)
        if change is not None:
            ops.append({"op": "change", "line": change[0].id, "fields": change[1]})
    elif result.modifiers is not None:
        changed = await _modify(turn, result.modifiers, remarks)
    state = turn.state
    state.pop("question", None)
    state.pop("questions", None)
    if added or changed or questions:
        # the cart changed, or will with the answer: a summary shown before is stale
        state.pop("checkout", None)
    if questions:
        questions[0]["held"] = ops
        state["question"], state["questions"] = questions[0], questions[1:]
    await turn.save_state()
    parts: list[str] = []
    if added:
        parts.append(added_text(added, s))
    if held and len(ops) == 1:
        waiting = ", ".join(f"{add['quantity']} x {describe(add['fields'], s)}" for add in held)
        parts.append(s._("I'll add {lines} too once you answer.", lines=waiting))
    elif ops:
        parts.append(s._(HELD))
    if changed:
        parts.append(changed)
    parts.extend(bounded_remarks(remarks, s))
    if questions:
        turn.kind = "ask"
        parts.append(question_text(menu, questions[0], s))
    elif (added or changed) and show_cart:
        lines = await carts.load_cart(turn.conn, turn.customer_id)
        hint = s._(CHECKOUT_HINT)
        parts.append(render_cart(lines, s, room(*parts, hint)) + "\n\n" + hint)
    elif result.unmatched and not result.lines:
        parts.append(s._("Send *menu* to see everything we have."))
    return "\n\n".join(parts)


async def find_cart_line(turn: Turn, ref: str) -> tuple[list[carts.CartLine], list[carts.CartLine]]:
    """(the cart, the lines `ref` names): a line number ("2", "#2", "line 2") or an item."""
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    ref = ref.strip().removeprefix("line ").removeprefix("#").strip()
    if ref in _POINTERS:
        talked = await _talked_about(turn)
        return lines, [talked] if talked else []
    if ref.isdigit():
        index = int(ref)
        return lines, [lines[index - 1]] if 1 <= index <= len(lines) else []
    result = parse(turn.store.menu, ref)
    codes = {line.item for line in result.lines}
    for amb in result.ambiguous:
        codes.update(amb.candidates)
    matched = [line for line in lines if line.item_code in codes]
    if matched:
        return lines, matched
    names = {line.id: line.name.lower() for line in lines}
    best = process.extract(ref, names, scorer=fuzz.WRatio, limit=3, score_cutoff=_LINE_MATCH_SCORE)
    ids = {key for _, _, key in best}
    return lines, [line for line in lines if line.id in ids]


def _which_line(example: str, lines: list[carts.CartLine], speaker: Speaker) -> str:
    ask = speaker._("Which line do you mean? Send the line number, e.g. *{example}*:", example=example)
    return f"{ask}\n{numbered_lines(lines, room(ask) - 100, speaker)}"


def _not_in_cart(ref: str, speaker: Speaker) -> str:
    return speaker._('I couldn\'t find "{phrase}" in your cart.', phrase=echo(ref)) + " "


async def remove(turn: Turn, ref: str) -> str:
    """Remove the line `ref` names; asks which when it names several or none."""
    s = turn.speaker
    lines, found = await find_cart_line(turn, ref)
    if not lines:
        return render_cart(lines, s)
    if len(found) != 1:
        prefix = _not_in_cart(ref, s) if not found else ""
        turn.kind = "ask"
        return prefix + _which_line(s._("remove 1"), lines, s)
    await carts.remove_line(turn.conn, turn.customer_id, found[0].id, turn.now)
    turn.state.pop("checkout", None)
    await turn.save_state()
    rest = await carts.load_cart(turn.conn, turn.customer_id)
    done = s._("🗑️ Removed {quantity} x {item}.", quantity=found[0].quantity, item=found[0].name)
    return f"{done}\n\n{render_cart(rest, s, room(done))}"


def quantity_problem(said: str, speaker: Speaker, *, allow_zero: bool = False) -> str | None:
    """What is wrong with a quantity as the customer wrote it ("0", "-1", "2.5", "1000000"),
    or None when it is a whole number from 1 (0 with `allow_zero`) to the most for one line.

    Quantities are never silently changed: the customer is told the range instead."""
    lowest = 0 if allow_zero else 1
    value = int(said) if said.lstrip("-").isdigit() else None
    if value is not None and lowest <= value <= MAX_QUANTITY:
        return None
    most = MAX_QUANTITY
    s = speaker
    if allow_zero:
        span = s._("from {lowest} to {most} (0 removes the line)", lowest=lowest, most=most)
    else:
        span = s._("from {lowest} to {most}", lowest=lowest, most=most)
    if value is not None and value > most:
        return s._(
            "The most I can put on one line is {most}, so please send a number {span}.", most=most, span=span
        )
    return s._(
        '"{said}" isn\'t a quantity I can use: please send a whole number {span}.', said=echo(said), span=span
    )


async def change(turn: Turn, ref: str, said: str) -> str:
    """Set the quantity of the line `ref` names to `said` (0 removes it); a quantity out of
    range is answered with the range, before looking for the line."""
    s = turn.speaker
    problem = quantity_problem(said, s, allow_zero=True)
    if problem is not None:
        return f"{problem} " + s._("For example *change 1 to 2*.")
    quantity = int(said)
    lines, found = await find_cart_line(turn, ref)
    if not lines:
        return render_cart(lines, s)
    if len(found) != 1:
        prefix = _not_in_cart(ref, s) if not found else ""
        turn.kind = "ask"
        return prefix + _which_line(s._("change 1 to {quantity}", quantity=quantity), lines, s)
    line = found[0]
    most = turn.store.menu.store.cart.max_items
    items = sum(other.quantity for other in lines) - line.quantity + quantity
    if quantity > line.quantity and items > most:
        refused = s._(
            "Your cart can hold {most} items in all, and with {quantity} x {item} it would "
            "have {items}, so I left it at {kept}.",
            most=most,
            quantity=quantity,
            item=line.name,
            items=items,
            kept=line.quantity,
        )
        return f"{refused}\n\n{render_cart(lines, s, room(refused))}"
    await carts.set_quantity(turn.conn, turn.customer_id, line.id, quantity, turn.now)
    turn.state.pop("checkout", None)
    await turn.save_state()
    rest = await carts.load_cart(turn.conn, turn.customer_id)
    if quantity == 0:
        done = s._("✏️ Removed {item}.", item=line.name)
    else:
        done = s._("✏️ Changed {item} to {quantity}.", item=line.name, quantity=quantity)
    return f"{done}\n\n{render_cart(rest, s, room(done))}"


async def _talked_about(turn: Turn) -> carts.CartLine | None:
    """The cart line a bare "no onions" refers to: the one last added or changed, else the
    last line of the cart."""
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    wanted = turn.state.get("line")
    for line in lines:
        if line.id == wanted:
            return line
    return lines[-1] if lines else None


async def _modify(turn: Turn, mods: Modifiers, remarks: list[str]) -> str:
    """Apply options said without an item to the line being talked about; returns what changed
    ("" when nothing did, with the reason in `remarks`)."""
    change = await _modification(turn, mods, remarks)
    if change is None:
        return ""
    line, fields = change
    await update_fields(turn, line.id, fields)
    focus(turn, [line.id])
    return turn.speaker._("✏️ Updated {line}.", line=f"{line.quantity} x {describe(fields, turn.speaker)}")


async def _modification(
    turn: Turn, mods: Modifiers, remarks: list[str]
) -> tuple[carts.CartLine, dict[str, Any]] | None:
    """The line options said without an item are for, and its fields with them; None when no
    line takes them (the reason in `remarks`)."""
    menu = turn.store.menu
    s = turn.speaker
    line = await _talked_about(turn)
    item = menu.item(line.item_code) if line else None
    if line is None or item is None:
        close = closest_items(menu, mods.text) if mods.text else []
        # their words: in Spanish or Portuguese the parser's phrase is read in English words
        phrase = quote(turn.inbound.text, mods.text) if mods.text else s._("that")
        if mods.text and phrase == mods.text and turn.store.menu.locale != "en":
            phrase = turn.inbound.text
        ask = s._(
            'Which item is "{phrase}" for? Add it with the item, e.g. *1 margherita no onions*.',
            phrase=echo(phrase),
        )
        if close:
            ask += " " + s._("Or did you mean {names}?", names=s.list([f"*{n}*" for n in close], style="or"))
        remarks.append(ask)
        return None
    fields = modified_fields(menu, line, mods, remarks, s)
    return (line, fields) if fields is not None else None


def modified_fields(
    menu: Menu, line: carts.CartLine, mods: Modifiers, remarks: list[str], speaker: Speaker
) -> dict[str, Any] | None:
    """The fields of `line` with `mods` applied (options chosen, replaced in single-choice
    groups, left out), as `build_line` returns them; None when nothing would change or the
    change is impossible (the reason, worded by `speaker`, is in `remarks`)."""
    s = speaker
    item = menu.item(line.item_code)
    if item is None:
        return None
    chosen = {
        (o["group"], o["option"]): ChosenOption(o["group"], o["option"], o.get("qualifier"))
        for o in line.options
    }
    excluded_names = list(line.excluded)
    for choice in mods.options:
        mapped = remap_option(menu, item, choice)
        if mapped is None:
            remarks.append(
                s._("{item} doesn't come with {option}.", item=item.name, option=_option_name(menu, choice))
            )
            continue
        name = _option_name(menu, mapped)
        if name in excluded_names and not mapped.qualifier:
            excluded_names.remove(name)  # "put the onions back": the dish as it comes
            continue
        group = menu.group(mapped.group)
        if group is not None and group.kind == "single":
            chosen = {k: v for k, v in chosen.items() if k[0] != mapped.group}
        had = chosen.get((mapped.group, mapped.option))
        if had is not None and had.qualifier and not mapped.qualifier and _comes_with(menu, item, name):
            # "normal ham is fine" on a Hawaiian with light ham: the dish as it comes
            del chosen[(mapped.group, mapped.option)]
            continue
        chosen[(mapped.group, mapped.option)] = mapped
    said = [m for m in (remap_option(menu, item, o) for o in mods.options) if m is not None]
    for choice in mods.excluded:
        mapped = remap_option(menu, item, choice)
        if mapped is None:
            continue
        if chosen.pop((mapped.group, mapped.option), None) is not None:
            continue  # an option the customer had added is simply taken off again
        if _single_chosen(menu, mapped, said):
            continue  # "en botella, no lata": the bottle chosen says it all
        name = _option_name(menu, mapped)
        if name not in excluded_names:
            excluded_names.append(name)
    notes = [line.notes] if line.notes else []
    notes.extend(n for n in mods.notes if n not in notes)
    notes = _line_notes(mods, item, remarks, s, notes)
    try:
        fields = build_line(menu, item, tuple(chosen.values()), (), notes, s)
    except LineProblem as problem:
        remarks.append(str(problem))
        return None
    fields["excluded"] = excluded_names
    if (fields["options"], fields["excluded"], fields["notes"]) == (line.options, line.excluded, line.notes):
        return None
    return fields


def _comes_with(menu: Menu, item: Item, name: str) -> bool:
    """Whether `item`'s description names the option called `name` (the dish comes with it)."""
    words = f" {' '.join(tokenize(item.description))} "
    said = " ".join(tokenize(name))
    return bool(said) and (f" {said} " in words or f" {said.rstrip('s')} " in words)


async def update_fields(turn: Turn, line_id: int, fields: dict[str, Any]) -> None:
    """Write a line's new options, exclusions, notes and unit price (`modified_fields`)."""
    await carts.update_line(
        turn.conn,
        turn.customer_id,
        line_id,
        unit_price_cents=fields["unit_price_cents"],
        options=fields["options"],
        excluded=fields["excluded"],
        notes=fields["notes"],
        now=turn.now,
    )


def focus(turn: Turn, line_ids: list[int]) -> None:
    """Make `line_ids` the lines being talked about: "it", "that", "make it large" and "no
    onions" next refer to them (`state["focus"]`; `state["line"]` is the last of them)."""
    turn.state["focus"] = list(dict.fromkeys(line_ids))
    if line_ids:
        turn.state["line"] = line_ids[-1]


def _option_name(menu: Menu, choice: ChosenOption) -> str:
    group = menu.group(choice.group)
    option = group.option(choice.option) if group else None
    return option.name if option else choice.option
