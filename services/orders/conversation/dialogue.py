"""The conversation around the cart: corrections, swaps, references, questions and small talk.

`respond(turn, pending)` reads the message's acts (understanding/acts.py) and applies them:

1. each act's target is looked up in the cart (`resolve`): a line number, the lines being
   talked about (`state["focus"]`: the lines the last change touched), or lines of an item,
   kind or category, narrowed by options, "the last", "the other";
2. a target that names exactly the lines to change is applied at once; one that could mean
   several lines is **asked about, never guessed**: the candidates become a numbered choice
   (`state["choice"]`), each with the concrete operation it stands for, and the cart stays
   as it was until the customer answers (`answer_choice`);
3. the reply says what changed, then shows the cart.

Returns None when the message holds no act of this layer, so the engine reads it as before
(commands, then the order parser). Questions are answered from the store's data
(conversation/answers.py) and leave the cart alone.
"""

from __future__ import annotations

from typing import Any

from services.orders.conversation import adding, answers, checkout, placed_orders, texts
from services.orders.conversation.cart import render_cart, room
from services.orders.conversation.texts import CHECKOUT_HINT, echo
from services.orders.conversation.turn import Turn
from services.orders.menu.catalog import MAX_QUANTITY, ChosenOption, Menu
from services.orders.ordering import lifecycle
from services.orders.storage import carts
from services.orders.storage.carts import CartLine
from services.orders.understanding.acts import Act, Target, normalise, order_of, read_acts
from services.orders.understanding.parser import Modifiers, OrderLine, ParseResult
from services.orders.understanding.phrases import phrases_for

__all__ = ["answer_choice", "ask_to_clear", "cancel", "drop_pending", "resolve", "respond"]

# Single-choice groups whose choice carries over when a line is replaced by another item
# that has the same group ("swap the large pepperoni for a veggie" keeps it large).
_TALK_ORDER = ("cancel", "unsure", "never_mind", "done", "ack")
_EDITS = frozenset({"set_quantity", "adjust", "change", "replace", "restate", "remove"})
_SMALL_TALK = frozenset(_TALK_ORDER)


class _Ask(Exception):
    """Raised inside an act to stop and ask; `text` is the question, the choice is saved."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def language_of(turn: Turn) -> str:
    """The customer's language code ("en" until the customer's language is known)."""
    return str(turn.customer.get("language") or "en")


async def respond(turn: Turn, *, pending: bool = False) -> str | None:
    """The reply to the message's acts, or None when it has none (see the module docstring).
    `pending` says the bot had asked something (a choice, a question, a checkout step) that
    this message leaves unanswered: "never mind" then drops it."""
    menu = turn.store.menu
    phrases = phrases_for(language_of(turn))
    acts = read_acts(menu, turn.inbound.text, phrases)
    if not acts:
        return await _guard(turn, phrases)
    if all(act.kind in _SMALL_TALK for act in acts):
        # "pls cancel, ordered by mistake": the weightiest of what was said
        return await _small_talk(turn, min(acts, key=lambda a: _TALK_ORDER.index(a.kind)), pending)
    if all(act.kind in ("question", "ack") for act in acts) and any(act.kind == "question" for act in acts):
        # one answer per topic asked: "can I call the store? what's the number"
        seen: dict[str, str] = {}
        for act in acts:
            if act.kind == "question" and act.topic not in seen:
                kind, text = await answers.answer(turn, act.topic, act.subject)
                seen[act.topic] = text
                turn.kind = kind if turn.kind in ("reply", kind) else turn.kind
        return "\n\n".join(seen.values())
    if not await carts.load_cart(turn.conn, turn.customer_id) and all(act.kind in _EDITS for act in acts):
        return None  # nothing to correct yet: "no onions on the veggie" is an order
    said: list[str] = []
    touched: list[int] = []
    extra: list[str] = []
    removed = False
    for index, act in enumerate(acts):
        if index and act.target is not None and act.target.pointer and not act.target.items:
            # "remove the water, please remove it": "it" is what this message already named
            if act.kind in ("remove", "set_quantity", "adjust") and said and not touched:
                continue
            if touched:
                adding.focus(turn, touched)
        if act.kind == "replace" and removed and act.target is not None and act.target.pointer and act.new:
            # "scrap the wings, garlic bread instead": the replacement of what was just removed
            act = Act("add", new=act.new)
        if act.kind in _SMALL_TALK:
            continue
        if act.kind == "question":
            kind, text = await answers.answer(turn, act.topic, act.subject)
            extra.append(text)
            continue
        try:
            outcome = await _apply(turn, act, touched)
        except _Ask as ask:
            turn.kind = "ask"
            turn.state["asked"] = True  # "never mind" next drops the question
            await turn.save_state()
            return "\n\n".join([*said, ask.text])
        if outcome is None:
            return None if not said else "\n\n".join(said)
        removed = removed or act.kind == "remove"
        said.extend(outcome)
    return await _changed(turn, said, touched, extra)


async def _guard(turn: Turn, phrases: Any) -> str | None:
    """A message no rule read, that names something already in the cart and has a word of
    change in it ("the coke, can it be a diet instead?"): rather than add what it names, ask.
    None lets the order parser read it as always."""
    key = normalise(turn.inbound.text)
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    if not lines:
        return None
    menu = turn.store.menu
    parsed = adding.parse(menu, turn.inbound.text)
    homonym = await _homonym(turn, parsed, lines, key)
    if homonym is not None:
        return homonym
    if not phrases.edit_cues.search(key):
        return None
    named = {line.item for line in parsed.lines} | {c for amb in parsed.ambiguous for c in amb.candidates}
    if not named & {line.item_code for line in lines}:
        return None
    options = []
    for line in parsed.lines:
        item = menu.item(line.item)
        if item is None:
            continue
        try:
            fields = adding.build_line(menu, item, line.options, line.excluded, list(line.notes))
        except adding.LineProblem:
            continue
        add = {"fields": fields, "quantity": line.quantity}
        options.append(
            {"label": f"Add {line.quantity} x {adding.describe(fields)}", "op": {"op": "add", "add": [add]}}
        )
    turn.kind = "ask"
    turn.state["asked"] = True
    example = lines[-1].name.lower()
    text = (
        "I want to get this right: should I add this, or change what's already in your cart? "
        f"Tell me like *add 1 {example}*, *make the {example} 2*, *remove the {example}* "
        f"or *swap the {example} for …*.\n\n" + render_cart(lines)
    )
    if options:
        turn.state["choice"] = {"prompt": "Add it?", "options": options}
        listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
        text += f"\n\nTo add it, reply {'*yes*' if len(options) == 1 else 'with the number'}:\n{listed}"
    await turn.save_state()
    return text


async def _homonym(turn: Turn, parsed: ParseResult, lines: list[CartLine], key: str) -> str | None:
    """ "add pepperoni" with a Margherita in the cart: a Pepperoni pizza, or pepperoni on the
    Margherita? When the one item said is also an option a cart line can take, ask."""
    if len(parsed.lines) != 1 or parsed.ambiguous or parsed.modifiers is not None:
        return None
    line = parsed.lines[0]
    if line.options or line.excluded or any(word.isdigit() for word in key.split()):
        return None
    menu = turn.store.menu
    item = menu.item(line.item)
    if item is None or len(key.split()) > 4:
        return None
    # "a pepperoni" orders the pizza; "add pepperoni", "extra pepperoni" may mean the topping
    rest = set(key.split()) - set(normalise(item.name).split()) - set(normalise(line.text).split())
    if not rest & {"add", "extra", "some", "with", "plus", "more"} or rest & {"a", "an", "one", "another"}:
        return None
    mods = Modifiers(options=tuple(
        ChosenOption(group.code, option.code)
        for group in menu.option_groups
        for option in group.options
        if normalise(option.name) == normalise(item.name)
    ))  # fmt: skip
    if not mods.options:
        return None
    takers = [cart_line for cart_line in lines if cart_line.item_code != item.code]
    choices = []
    for cart_line in takers:
        fields = adding.modified_fields(menu, cart_line, mods, [])
        if fields is not None:
            choices.append(
                {"label": f"{option_word(mods)} on the {cart_line.name}",
                 "op": {"op": "change", "line": cart_line.id, "fields": fields}}
            )  # fmt: skip
    if not choices:
        return None
    try:
        fields = adding.build_line(menu, item, (), (), [])
    except adding.LineProblem:
        return None
    add = {"fields": fields, "quantity": 1}
    choices.insert(0, {"label": f"Add 1 x {item.name}", "op": {"op": "add", "add": [add]}})
    turn.state["choice"] = {"prompt": "Which do you mean?", "options": choices}
    turn.kind = "ask"
    await turn.save_state()
    listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(choices, 1))
    return f"Which do you mean?\n{listed}\nReply with the number."


def option_word(mods: Modifiers) -> str:
    """ "Pepperoni": the name said for a topping (capitalised, as on the menu)."""
    return mods.options[0].option.replace("-", " ").capitalize() if mods.options else ""


async def _changed(turn: Turn, said: list[str], touched: list[int], extra: list[str]) -> str:
    """The reply after cart changes: what changed, the cart, the hint; the focus moves to the
    lines touched and a summary shown before is stale."""
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    alive = [i for i in touched if any(line.id == i for line in lines)]
    if alive:
        adding.focus(turn, alive)
    turn.state.pop("checkout", None)
    turn.state.pop("choice", None)
    await turn.save_state()
    if turn.kind == "reply":
        turn.kind = "changed"
    # one message: the cart gets the room the other parts leave (conversation.cart.room)
    cart = render_cart(lines, room(*said, *extra, CHECKOUT_HINT)) + ("\n\n" + CHECKOUT_HINT if lines else "")
    return "\n\n".join([*said, cart, *extra])


async def _small_talk(turn: Turn, act: Act, pending: bool) -> str:
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    if act.kind == "cancel":
        return await cancel(turn, lines)
    if act.kind == "unsure":
        turn.kind = "ask"
        if not lines:
            return "There's nothing in your cart to change yet. " + texts.ORDER_HINT
        return (
            "What would you like to change? For example *remove 2*, *make the coke large*, "
            "*2 margherita not 3* or *swap the coke for a sprite*.\n\n" + render_cart(lines)
        )
    if act.kind == "never_mind":
        if pending or drop_pending(turn):
            drop_pending(turn)
            await turn.save_state()
            turn.kind = "dropped"
            tail = "Your cart is as it was." if lines else texts.ORDER_HINT
            return f"OK, forget that. 👍 {tail}"
        turn.kind = "ack"
        return "No problem! 👍 " + ("Send *checkout* when you're ready." if lines else texts.ORDER_HINT)
    if act.kind == "done":
        if lines:
            turn.kind = "offer-checkout"
            return await checkout.start(turn)
        turn.kind = "ack"
        return "Your cart is empty, so there's nothing to order yet. " + texts.ORDER_HINT
    turn.kind = "ack"
    if lines:
        return "👍 Send *checkout* when you're ready, or tell me what else you'd like."
    return "👍 " + texts.ORDER_HINT


def drop_pending(turn: Turn) -> bool:
    """Forget whatever the bot was waiting for (a choice, a "which one", a checkout step);
    True when there was something."""
    had = False
    for key in ("choice", "question", "questions", "checkout", "asked"):
        had = turn.state.pop(key, None) is not None or had
    return had


# -- finding lines ------------------------------------------------------------------------


def _has_options(line: CartLine, options: tuple[ChosenOption, ...]) -> bool:
    chosen = {(o["group"], o["option"]) for o in line.options}
    names = {str(o["option"]) for o in line.options}
    return all((o.group, o.option) in chosen or o.option in names for o in options)


def resolve(target: Target, lines: list[CartLine], focus: list[int]) -> list[CartLine]:
    """The cart lines `target` may mean, best first (see the module docstring). More than
    one means the words do not say which, unless the target is plural ("them", "the cokes")."""
    if target.number is not None:
        return [lines[target.number - 1]] if 1 <= target.number <= len(lines) else []
    focused = [line for line in lines if line.id in focus]
    if target.items:
        pool = [line for line in lines if line.item_code in target.items]
    elif target.other:
        pool = [line for line in lines if line.id not in focus] or lines
    elif target.ordinal is not None:
        pool = lines
    elif target.each:
        pool = lines  # "one of each"
    elif target.pointer and target.count and not target.plural:
        pool = lines  # a bare "one": one unit of anything in the cart
    elif target.pointer:
        pool = focused or lines
    else:
        pool = []
    if target.options:
        narrowed = [line for line in pool if _has_options(line, target.options)]
        pool = narrowed or pool
    if target.other and target.items:
        pool = [line for line in pool if line.id not in focus] or pool
    if target.ordinal is not None and pool:
        index = target.ordinal - 1 if target.ordinal > 0 else target.ordinal
        return [pool[index]] if -len(pool) <= index < len(pool) else []
    return pool


def _one(
    turn: Turn, act: Act, pool: list[CartLine], make: Any, label: str, *, plural_ok: bool = False
) -> list[CartLine]:
    """The lines to act on: all of `pool` for a plural target, the only one, the one being
    talked about among several; otherwise save a numbered choice (each option one line,
    with the operation `make(line)` builds for it) and stop with a question."""
    assert act.target is not None
    if len(pool) <= 1 or (plural_ok and act.target.plural):
        return pool
    options = []
    for line in pool:
        op = make(line)
        if op is not None:
            options.append({"label": line.describe(), "op": op})
    if len(options) == 1:
        return [line for line in pool if make(line) is not None]
    if not options:
        return []
    turn.state["choice"] = {"prompt": label, "options": options}
    listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
    raise _Ask(f"{label}\n{listed}\nReply with the number, or *never mind*.")


def _not_found(target: Target, lines: list[CartLine]) -> list[str]:
    if not lines:
        return ["Your cart is empty, so there's nothing to change. " + texts.ORDER_HINT]
    if target.number is not None:
        return [
            f"There's no item {target.number} in your cart; "
            f"it has {len(lines)} line{'s' if len(lines) != 1 else ''}."
        ]
    return [f"I couldn't find \"{echo(target.said)}\" in your cart, so I didn't change anything."]


# -- applying acts ------------------------------------------------------------------------


async def _apply(turn: Turn, act: Act, touched: list[int]) -> list[str] | None:
    """Apply one act; returns the sentences saying what happened, or None to let the order
    parser read the message instead. Raises `_Ask` to stop and ask."""
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    focus = list(turn.state.get("focus") or [])
    if act.kind == "add":
        assert act.new is not None
        before = {line.id for line in lines}
        said = await adding.add_parsed(turn, act.new, show_cart=False)
        touched.extend(
            line.id for line in await carts.load_cart(turn.conn, turn.customer_id) if line.id not in before
        )
        return [said]
    if act.kind == "restate":
        return await _restate(turn, act, lines, touched)
    assert act.target is not None
    pool = resolve(act.target, lines, focus)
    if act.kind == "set_quantity":
        return await _set_quantity(turn, act, lines, pool, touched)
    if act.kind == "adjust":
        return await _adjust(turn, act, lines, pool, touched)
    if act.kind == "remove":
        return await _remove(turn, act, lines, pool, focus, touched)
    if act.kind == "replace":
        return await _replace(turn, act, lines, pool, focus, touched)
    if act.kind == "change":
        return await _change(turn, act, lines, pool, touched)
    return None


async def cancel(turn: Turn, lines: list[CartLine]) -> str:
    """ "cancel", "start over", "cancel everything": the customer's open order when the kitchen
    has not started it; with only a cart, ask before emptying it; with both, ask which."""
    order = await placed_orders.latest_order(turn, active_only=True)
    cancellable = order is not None and order["status"] in lifecycle.CUSTOMER_CANCELLABLE
    if lines and cancellable:
        assert order is not None
        turn.state["choice"] = {
            "prompt": "What should I cancel?",
            "options": [
                {
                    "label": f"Order #{order['number']}",
                    "op": {"op": "cancel_order", "number": int(order["number"])},
                },
                {"label": "Empty my cart (the order stays)", "op": {"op": "clear"}},
            ],
        }
        await turn.save_state()
        turn.kind = "ask"
        return (
            f"What should I cancel?\n1. Order #{order['number']}\n2. Empty my cart (the order stays)\n"
            "Reply with the number, or *never mind*."
        )
    if lines:
        return await ask_to_clear(turn)
    turn.kind = "order-cancelled"
    return await placed_orders.cancel(turn)


async def _restate(turn: Turn, act: Act, lines: list[CartLine], touched: list[int]) -> list[str]:
    """ "2 cokes actually", "sorry, 1 veggie no olives": lines said again as a correction. A
    line of that item already in the cart gets the quantity and options said; an item not in
    the cart is added; several lines of it are asked about."""
    assert act.new is not None
    menu = turn.store.menu
    out: list[str] = []
    rest = ParseResult(ambiguous=act.new.ambiguous, unmatched=act.new.unmatched)
    for new in act.new.lines:
        same = [line for line in lines if line.item_code == new.item]
        if not same:
            out.append(await adding.add_parsed(turn, ParseResult(lines=(new,)), show_cart=False))
            continue
        mods = Modifiers(options=new.options, excluded=new.excluded, notes=new.notes)
        explicit = _explicit_quantity(new) or new.quantity > 1

        def op(
            line: CartLine, mods: Modifiers = mods, new: OrderLine = new, explicit: bool = explicit
        ) -> dict[str, Any] | None:
            fields = adding.modified_fields(menu, line, mods, []) if (mods.options or mods.excluded) else None
            quantity = new.quantity if explicit or new.quantity != line.quantity else line.quantity
            if fields is None and quantity == line.quantity:
                return None
            return {"op": "restate", "line": line.id, "fields": fields, "quantity": quantity}

        target = Target(new.text or new.item, items=(new.item,))
        chosen = _one(turn, Act("restate", target=target), same, op, f"Which {same[0].name} do you mean?")
        for line in chosen:
            built = op(line)
            if built is None:
                out.append(f"{line.describe()} is already in your cart. 👍")
                continue
            out.append(await _run(turn, built, touched))
    if rest.ambiguous or rest.unmatched:
        out.append(await adding.add_parsed(turn, rest, show_cart=False))
    return out


async def _add_instead(turn: Turn, new: ParseResult, touched: list[int]) -> list[str]:
    """A "just one coke" or "another sprite" that names no line in the cart: it is an order."""
    before = {line.id for line in await carts.load_cart(turn.conn, turn.customer_id)}
    text = await adding.add_parsed(turn, new, show_cart=False)
    after = await carts.load_cart(turn.conn, turn.customer_id)
    touched.extend(
        line.id for line in after if line.id not in before or line.id in turn.state.get("focus", [])
    )
    return [text]


async def _set_quantity(
    turn: Turn, act: Act, lines: list[CartLine], pool: list[CartLine], touched: list[int]
) -> list[str]:
    assert act.target is not None
    if not pool:
        if act.new is not None:
            return await _add_instead(turn, act.new, touched)
        return _not_found(act.target, lines)
    if act.previous is not None and len(pool) > 1:
        pool = [line for line in pool if line.quantity == act.previous] or pool
    quantity = act.quantity
    if act.or_more and quantity and len(pool) == 1:
        # "pepperoni x2" with 2 already there: 2 in all, or 2 more? Asked, never guessed.
        line = pool[0]
        more = min(line.quantity + quantity, MAX_QUANTITY)
        turn.state["choice"] = {
            "prompt": f"You have {line.quantity} x {line.name}. Do you want:",
            "options": [
                {
                    "label": f"{quantity} in all",
                    "op": {"op": "quantity", "line": line.id, "quantity": quantity},
                },
                {
                    "label": f"{quantity} more ({more} in all)",
                    "op": {"op": "quantity", "line": line.id, "quantity": more},
                },
            ],
        }
        raise _Ask(
            f"You have {line.quantity} x {line.name}. Do you want:\n1. {quantity} in all\n"
            f"2. {quantity} more ({more} in all)\nReply with the number."
        )
    problem = adding.quantity_problem(act.subject if quantity is None else str(quantity), allow_zero=True)
    if problem is not None or quantity is None:
        return [f"{problem} For example *change 1 to 2*."]
    chosen = _one(
        turn,
        act,
        pool,
        lambda line: {"op": "quantity", "line": line.id, "quantity": quantity},
        f"Which line should be {quantity}?",
        plural_ok=act.target.each,
    )
    return [
        await _run(turn, {"op": "quantity", "line": line.id, "quantity": quantity}, touched)
        for line in chosen
    ]


async def _adjust(
    turn: Turn, act: Act, lines: list[CartLine], pool: list[CartLine], touched: list[int]
) -> list[str]:
    assert act.target is not None and act.quantity is not None
    delta = act.quantity
    if not pool:
        if act.new is not None:
            return await _add_instead(turn, act.new, touched)
        return _not_found(act.target, lines)

    def op(line: CartLine) -> dict[str, Any]:
        return {"op": "quantity", "line": line.id, "quantity": max(0, line.quantity + delta)}

    label = "Which line should I add one more of?" if delta > 0 else "Which line should have one less?"
    chosen = _one(turn, act, pool, op, label)
    out = []
    for line in chosen:
        if line.quantity + delta > MAX_QUANTITY:
            out.append(f"{MAX_QUANTITY} is the most for one line, so {line.name} stays at {line.quantity}.")
            continue
        out.append(await _run(turn, op(line), touched))
    return out


async def _remove(
    turn: Turn, act: Act, lines: list[CartLine], pool: list[CartLine], focus: list[int], touched: list[int]
) -> list[str] | None:
    assert act.target is not None
    menu = turn.store.menu
    if not pool:
        if act.modifiers is not None:
            return None  # "no pepperoni" and no Pepperoni in the cart: an option left out
        return _not_found(act.target, lines)
    units = act.quantity

    def op(line: CartLine) -> dict[str, Any]:
        if units and units < line.quantity:
            return {"op": "quantity", "line": line.id, "quantity": line.quantity - units}
        return {"op": "remove", "line": line.id}

    if act.modifiers is not None:
        # "no pepperoni": the Pepperoni pizza, or pepperoni on the line being talked about?
        # only lines that have it: chosen, or in the dish as it comes ("no pepperoni" with a
        # Veggie in the cart can only mean the Pepperoni pizza)
        talked = [line for line in lines if line not in pool and _has_ingredient(menu, line, act.modifiers)]
        options = [{"label": f"Remove {line.describe()}", "op": op(line)} for line in pool]
        for line in talked:
            fields = adding.modified_fields(menu, line, act.modifiers, [])
            if fields is not None:
                options.append(
                    {"label": f"Keep it, but make it {line.name} (no {echo(act.target.said)})",
                     "op": {"op": "change", "line": line.id, "fields": fields}}
                )  # fmt: skip
        if len(options) > 1:
            turn.state["choice"] = {
                "prompt": f'What did you mean by "no {echo(act.target.said)}"?',
                "options": options,
            }
            listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
            raise _Ask(f"{turn.state['choice']['prompt']}\n{listed}\nReply with the number, or *never mind*.")
    chosen = _one(turn, act, pool, op, "Which one should I remove?", plural_ok=True)
    return [await _run(turn, op(line), touched) for line in chosen]


def _has_ingredient(menu: Menu, line: CartLine, mods: Modifiers) -> bool:
    """Whether `line` has one of the options `mods` leave out: chosen, or named in the item's
    description (the dish as it comes)."""
    item = menu.item(line.item_code)
    words = normalise(item.description) if item is not None else ""
    for choice in mods.excluded:
        if any(o["option"] == choice.option for o in line.options):
            return True
        group = menu.group(choice.group)
        option = group.option(choice.option) if group else None
        name = normalise(option.name) if option else choice.option
        if name and (f" {name} " in f" {words} " or f" {name.rstrip('s')} " in f" {words} "):
            return True
    return False


def _explicit_quantity(line: OrderLine) -> bool:
    first = line.text.split()[0] if line.text.split() else ""
    return first.isdigit() or first in {
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "couple",
        "dozen",
    }


def _replacement(menu: Menu, old: CartLine, new: ParseResult) -> list[dict[str, Any]] | None:
    """The lines that replace `old`: each `{"fields", "quantity"}`; None when the new words
    need a question first (an ambiguous item) or name nothing that can be added."""
    if new.ambiguous or not new.lines:
        return None
    out = []
    for line in new.lines:
        item = menu.item(line.item)
        if item is None:
            return None
        options = list(line.options)
        said_groups = {o.group for o in options}
        # the size or crust the customer had carries over to the new item when it has one
        for kept in old.options:
            group = menu.group(str(kept["group"]))
            if group is None or group.kind != "single" or group.code not in item.option_groups:
                continue
            if group.code not in said_groups:
                options.append(ChosenOption(group.code, str(kept["option"]), None))
        try:
            fields = adding.build_line(menu, item, tuple(options), line.excluded, list(line.notes))
        except adding.LineProblem:
            return None
        quantity = line.quantity if (_explicit_quantity(line) or len(new.lines) > 1) else old.quantity
        out.append({"fields": fields, "quantity": quantity})
    return out


async def _replace(
    turn: Turn, act: Act, lines: list[CartLine], pool: list[CartLine], focus: list[int], touched: list[int]
) -> list[str] | None:
    assert act.target is not None
    menu = turn.store.menu
    if act.new is None:
        # "change them to diet": the words complete each line's name ("diet coke")
        completed = [
            (line, parsed)
            for line in pool
            if (parsed := order_of(menu, f"{act.subject} {line.name}")) is not None
            and parsed.lines
            and parsed.lines[0].item != line.item_code
        ]
        if not completed or len(completed) != len(pool) or (len(pool) > 1 and not act.target.plural):
            return None
        return [
            await _run(turn, {"op": "replace", "line": line.id, "add": add}, touched)
            for line, parsed in completed
            if (add := _replacement(menu, line, parsed))
        ]
    new = act.new
    if act.target.pointer and not act.target.items and act.target.number is None and new.lines:
        # "a sprite instead": the line of the same category the customer is talking about
        item = menu.item(new.lines[0].item)
        category = item.category if item else None
        same = [
            line for line in pool if (i := menu.item(line.item_code)) is not None and i.category == category
        ]
        if not same:
            same = [
                line
                for line in lines
                if (i := menu.item(line.item_code)) is not None and i.category == category
            ]
        pool = same
    if not pool:
        return _not_found(act.target, lines) if act.target.items or act.target.number else None
    if new.ambiguous and not new.lines:
        amb = new.ambiguous[0]
        old = pool[0] if len(pool) == 1 else None
        if old is None:
            raise _Ask(
                f'Which line should I replace with "{echo(amb.phrase)}", and with which one? '
                "For example *replace 2 with a veggie*."
            )
        options = []
        for code in amb.candidates:
            fields_list = _replacement(
                menu,
                old,
                ParseResult(lines=(OrderLine(code, amb.quantity, amb.options, amb.excluded, amb.notes),)),
            )
            if fields_list:
                options.append(
                    {
                        "label": f"{adding.describe(fields_list[0]['fields'])}",
                        "op": {"op": "replace", "line": old.id, "add": fields_list},
                    }
                )
        if not options:
            return None
        turn.state["choice"] = {"prompt": f"What should replace {old.name}?", "options": options}
        listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
        raise _Ask(f"What should replace {old.name}?\n{listed}\nReply with the number, or *never mind*.")

    units = act.quantity or act.target.count

    def op(line: CartLine) -> dict[str, Any] | None:
        add = _replacement(menu, line, new)
        if not add:
            return None
        if units and units < line.quantity:
            # "make one of them a hawaiian": that many units move to the new item
            for each in add:
                each["quantity"] = (
                    units if len(add) == 1 and not _explicit_quantity(new.lines[0]) else each["quantity"]
                )
            return {"op": "replace_units", "line": line.id, "units": units, "add": add}
        return {"op": "replace", "line": line.id, "add": add}

    chosen = _one(turn, act, pool, op, "Which one should I replace?", plural_ok=not units)
    out = []
    for line in chosen:
        built = op(line)
        if built is None:
            return None
        out.append(await _run(turn, built, touched))
    return out


async def _change(
    turn: Turn, act: Act, lines: list[CartLine], pool: list[CartLine], touched: list[int]
) -> list[str] | None:
    assert act.target is not None and act.modifiers is not None
    menu = turn.store.menu
    if not pool:
        return _not_found(act.target, lines)
    units = act.quantity or act.target.count
    mods = act.modifiers
    remarks: list[str] = []

    def op(line: CartLine) -> dict[str, Any] | None:
        fields = adding.modified_fields(menu, line, mods, [])
        if fields is None:
            return None
        if units and units < line.quantity:
            return {"op": "split", "line": line.id, "fields": fields, "units": units}
        return {"op": "change", "line": line.id, "fields": fields}

    target = act.target
    single = any((g := menu.group(o.group)) is not None and g.kind == "single" for o in mods.options)
    if (
        target.pointer
        and not target.plural
        and not target.items
        and len(pool) > 1
        and (single or target.count)
    ):
        # "make it large" after "a coke and a water": which one is "it"? Ask, change nothing.
        turn.kind = "ask"
        names = " or the ".join(line.name for line in pool)
        example = f"make the {pool[0].name.lower()} {_said(mods)}"
        raise _Ask(f"Which one do you mean: the {names}? For example *{example}*.")
    if target.pointer and target.count and not target.plural and sum(line.quantity for line in pool) > 1:
        turn.kind = "ask"
        raise _Ask(
            f"Which one should be {_said(mods)}? Name it, "
            f"e.g. *make the {pool[0].name.lower()} {_said(mods)}*, "
            "or use its number in the cart.\n\n" + render_cart(lines)
        )
    able = [line for line in pool if op(line) is not None]
    if not able:
        for line in pool[:1]:
            adding.modified_fields(menu, line, mods, remarks)
        return remarks or [f"{pool[0].describe()} already has that."]
    chosen = _one(turn, act, able, op, "Which one should I change?", plural_ok=not units)
    out = []
    for line in chosen:
        built = op(line)
        if built is not None:
            out.append(await _run(turn, built, touched))
    return out


def _said(mods: Modifiers) -> str:
    """The words of `mods` as the customer said them (for an example in a question)."""
    return mods.text or "that"


# -- operations: what a choice stands for, applied now or when the customer answers ---------


async def _run(turn: Turn, op: dict[str, Any], touched: list[int]) -> str:
    """Apply one concrete operation on the cart; returns the sentence saying what it did."""
    lines = {line.id: line for line in await carts.load_cart(turn.conn, turn.customer_id)}
    kind = op["op"]
    if kind == "clear":
        await carts.clear_cart(turn.conn, turn.customer_id)
        return "🗑️ Your cart is empty now."
    if kind == "cancel_order":
        turn.kind = "order-cancelled"
        return await placed_orders.cancel(turn, int(op["number"]))
    if kind == "add":
        remarks: list[str] = []
        said = [
            s
            for add in op["add"]
            if (s := await adding.add_line(turn, add["fields"], int(add["quantity"]), remarks, touched))
        ]
        return " ".join(([f"✅ Added {', '.join(said)}."] if said else []) + remarks)
    line = lines.get(int(op["line"]))
    if line is None:
        return "That line isn't in your cart any more."
    if kind == "quantity":
        quantity = int(op["quantity"])
        most = turn.store.menu.store.cart.max_items
        items = sum(other.quantity for other in lines.values()) - line.quantity + quantity
        if quantity > line.quantity and items > most:
            return (
                f"Your cart can hold {most} items in all, and with {quantity} x {line.name} it would "
                f"have {items}, so I left it at {line.quantity}."
            )
        if quantity <= 0:
            await carts.remove_line(turn.conn, turn.customer_id, line.id, turn.now)
            return f"🗑️ Removed {line.name}."
        await carts.set_quantity(turn.conn, turn.customer_id, line.id, quantity, turn.now)
        touched.append(line.id)
        return f"✏️ Changed {line.name} to {quantity}."
    if kind == "remove":
        await carts.remove_line(turn.conn, turn.customer_id, line.id, turn.now)
        return f"🗑️ Removed {line.quantity} x {line.name}."
    if kind == "replace_units":
        units = int(op["units"])
        await carts.set_quantity(turn.conn, turn.customer_id, line.id, line.quantity - units, turn.now)
        touched.append(line.id)
        remarks = []
        said = [
            s
            for add in op["add"]
            if (s := await adding.add_line(turn, add["fields"], int(add["quantity"]), remarks, touched))
        ]
        return " ".join(
            [f"🔄 Changed {units} of your {line.quantity} x {line.name} to {', '.join(said)}.", *remarks]
        )
    if kind == "replace":
        await carts.remove_line(turn.conn, turn.customer_id, line.id, turn.now)
        remarks = []
        said = [
            s
            for add in op["add"]
            if (s := await adding.add_line(turn, add["fields"], int(add["quantity"]), remarks, touched))
        ]
        return " ".join([f"🔄 Replaced {line.quantity} x {line.name} with {', '.join(said)}.", *remarks])
    fields: dict[str, Any] | None = op.get("fields")
    if kind == "change" and fields is not None:
        await adding.update_fields(turn, line.id, fields)
        touched.append(line.id)
        return f"✏️ Updated {line.quantity} x {adding.describe(fields)}."
    if kind == "restate":
        if fields is not None:
            await adding.update_fields(turn, line.id, fields)
        quantity = int(op["quantity"])
        if quantity != line.quantity:
            await carts.set_quantity(turn.conn, turn.customer_id, line.id, quantity, turn.now)
        touched.append(line.id)
        shown = adding.describe(fields) if fields is not None else line.name
        return f"✏️ Changed to {quantity} x {shown}."
    if kind == "split" and fields is not None:
        units = int(op["units"])
        await carts.set_quantity(turn.conn, turn.customer_id, line.id, line.quantity - units, turn.now)
        remarks = []
        moved = await adding.add_line(turn, fields, units, remarks, touched)
        return f"✏️ Made {moved or units} of your {line.quantity} x {line.name}." + (
            " " + " ".join(remarks) if remarks else ""
        )
    raise ValueError(f"unknown cart operation {kind!r}")


async def answer_choice(turn: Turn, number: int | None, *, yes: bool = False, no: bool = False) -> str | None:
    """The answer to a pending numbered choice (`state["choice"]`): a number in range applies
    that option; "yes" applies the only option; "no" drops the choice. Returns None when the
    message is no answer (the choice is dropped and the message read as anything else)."""
    choice = turn.state.get("choice")
    if not isinstance(choice, dict):
        return None
    options: list[dict[str, Any]] = list(choice.get("options") or [])
    if no:
        turn.state.pop("choice", None)
        await turn.save_state()
        turn.kind = "dropped"
        lines = await carts.load_cart(turn.conn, turn.customer_id)
        return "OK, I left your cart as it was. 👍" + ("\n\n" + render_cart(lines) if lines else "")
    if yes and len(options) == 1:
        number = 1
    if number is None:
        turn.state.pop("choice", None)
        await turn.save_state()
        return None
    if not 1 <= number <= len(options):
        turn.kind = "ask"
        listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
        return f"Please reply with a number from 1 to {len(options)}.\n{choice.get('prompt', '')}\n{listed}"
    touched: list[int] = []
    said = await _run(turn, options[number - 1]["op"], touched)
    return await _changed(turn, [said], touched, [])


async def ask_to_clear(
    turn: Turn, asked: str = "You haven't placed an order yet. Do you want me to empty your cart?"
) -> str:
    """ "cancel" with a cart and no order, or "clear": ask before emptying the cart."""
    turn.state["choice"] = {
        "prompt": "Empty your cart?",
        "options": [{"label": "Empty my cart", "op": {"op": "clear"}}],
    }
    await turn.save_state()
    turn.kind = "confirm-empty-cart"
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    return f"{asked}\n\n" + render_cart(lines) + "\n\nReply *yes* to empty it, or *no* to keep it."
