"""The conversation around the cart: corrections, swaps, references, questions and small talk.

`respond(turn, pending)` reads the message's acts (understanding/acts.py) and applies them:

1. each act's target is looked up in the cart (`resolve`): a line number, the lines being
   talked about (`state["focus"]`: the lines the last change touched), or lines of an item,
   kind or category, narrowed by options, "the last", "the other";
2. a target that names exactly the lines to change is applied at once; one that could mean
   several lines is **asked about, never guessed**: the candidates become a numbered choice
   (`state["choice"]`), each with the concrete operation it stands for, and the cart stays
   as it was until the customer answers (`answer_choice`). A message is applied whole or not
   at all: what its other acts would do is held with the question and done with the answer
   (conversation/operations.py);
3. the reply says what changed, then shows the cart.

Returns None when the message holds no act of this layer, so the engine reads it as before
(commands, then the order parser). Questions are answered from the store's data
(conversation/answers.py) and leave the cart alone.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import Any

from services.orders.conversation import adding, answers, checkout, operations, placed_orders, texts
from services.orders.conversation.cart import describe as describe_line
from services.orders.conversation.cart import render_cart, room, told_apart
from services.orders.conversation.texts import CHECKOUT_HINT, echo
from services.orders.conversation.turn import Turn
from services.orders.language import Speaker
from services.orders.language import mark as _
from services.orders.menu.catalog import MAX_QUANTITY, ChosenOption, Menu
from services.orders.ordering import lifecycle
from services.orders.storage import carts
from services.orders.storage.carts import CartLine
from services.orders.understanding.acts import Act, Target, normalise, order_of, read_acts
from services.orders.understanding.menu_index import quote, tokenize
from services.orders.understanding.parser import (
    Modifiers,
    OrderLine,
    ParseResult,
    english_reading,
    parse_order,
)
from services.orders.understanding.phrases import phrases_for

__all__ = [
    "answer_choice",
    "answer_question",
    "ask_to_clear",
    "asks_only",
    "cancel",
    "drop_pending",
    "named_candidate",
    "resolve",
    "respond",
]

# Single-choice groups whose choice carries over when a line is replaced by another item
# that has the same group ("swap the large pepperoni for a veggie" keeps it large).
# A message that only refuses ("no", "no thanks", "actually no", "nah"): the words of it and
# the words that may stand around them.
_NO_WORDS = frozenset({"no", "nah", "nope", "nao"})
_AROUND_NO = frozenset(
    {"ah", "oh", "hmm", "ok", "okay", "actually", "thanks", "thank", "you", "then", ",", ".", "!"}
)


def _refuses(text: str, said: str) -> bool:
    """Whether `text` (the English reading of `said`) only says no: "no, mejor no" ("actually
    actually no"), "no thanks", "ah n precisa n" ("no"), "não, obrigado" ("actually thanks")."""
    words = normalise(text).split()
    first = normalise(said).split()[:1]
    return (any(w in _NO_WORDS for w in words) or first == ["nao"]) and all(
        w in _NO_WORDS or w in _AROUND_NO for w in words
    )


_TALK_ORDER = ("cancel", "unsure", "never_mind", "done", "ack")
_EDITS = frozenset({"set_quantity", "adjust", "change", "replace", "restate", "remove"})
_SMALL_TALK = frozenset(_TALK_ORDER)
# Questions about delivery: a "how much?" right after one asks the delivery fee.
_DELIVERY_TOPICS = frozenset({"delivery-area", "delivery-fee"})
_REPLY_NUMBER = _("Reply with the number, or *never mind*.")
# Words that point at the lines being talked about: "no onions on it" is about those lines.
# Languages whose "the" before a line of several units may name one of them.
_SINGULAR_NAMES_ONE = frozenset({"es"})
_POINTER_WORDS = frozenset({"it", "that", "this", "them", "those", "these", "they", "both", "all", "one"})
# Words that point at something already said (a line of the cart) rather than order anew.
_REFERENCE = re.compile(r"\b(?:the|that|those|these|this)\b")
# Words that correct what was said before ("without" or "only" change a new line too).
_CORRECTION = re.compile(
    r"\b(?:actually|instead|rather|sorry|oops|meant|mistake|wrong|change|swap|replace|rest)\b"
)
_QUESTION_START = re.compile(r"^(?:is|are|does|do|did|has|have|what|whats|which|how|can|could|will|would)\b")


# Words that make a marked question a request ("¿me pones una coca?" → "give me a coca"):
# read on the message's English words.
_REQUESTING = re.compile(
    r"\b(?:give me|get me|send me|bring me|can i|could i|can you|could you|can we|i want|i would like|"
    r"id like|i need|add|remove|change|make|swap|put|instead|cancel|i order)\b"
)


def asks_only(turn: Turn) -> bool:
    """Whether the message is a question that asks for nothing ("¿la coca es de botella?", "¿de
    qué tamaño es la familiar?") in a language that marks questions only by their question
    mark (its `question_words` and no `request_words`): such a message changes no cart,
    whatever items or options it names. One that goes on after its question to order
    something ("¿tienen sprite? y una coca") is read whole: the question answered, the order
    added."""
    phrases = phrases_for(language_of(turn))
    text = turn.inbound.text
    if not phrases.question_words or not ("?" in text or "¿" in text):
        return False
    words = set(normalise(text).split())
    if not words & phrases.question_words or words & phrases.request_words:
        return False
    if parse_order(turn.store.menu, text[text.rfind("?") + 1 :]).lines:
        return False  # "¿tienen sprite? y una coca": the question, then an order
    return _REQUESTING.search(normalise(english_reading(turn.store.menu, text)[1])) is None


# "half hawaiian half pepperoni", "mitad y mitad", "meio a meio", "halves": a pizza of two
# kinds. The menu has none, so the bot offers the pizzas named, whole, rather than add both.
_HALVES = re.compile(r"\bhalf\b.*\bhalf\b|\bhalves\b")
# A yes to an offer, in any of the three languages, and the words that may go with it and
# with a count said instead of the one offered ("yes but just one", "sí, pero solo una",
# "sim, mas só uma", "yes make it 3"). A yes with any other word is asked again.
_YES_WORDS = frozenset(
    {"yes", "yeah", "yea", "yep", "yup", "ya", "sure", "ok", "okay", "si", "sip", "sim", "claro", "dale"}
    | {"vale"}
)
_WITH_YES = frozenset(
    {
        "please", "pls", "plz", "but", "just", "only", "make", "it", "them", "then", "thanks", "go",
        "ahead", "pero", "solo", "solamente", "nada", "mas", "nomas", "que", "sea", "sean", "porfa",
        "por", "favor", "gracias", "entonces", "so", "apenas", "somente", "seja", "sejam", "obrigado",
        "obrigada", "pode", "entao", "mesmo",
    }
)  # fmt: skip
_COUNT_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "um": 1, "uma": 1, "dois": 2,
    "duas": 2, "quatro": 4, "sete": 7, "oito": 8, "nove": 9, "dez": 10,
}  # fmt: skip


def _no_halves(turn: Turn, menu: Menu, text: str) -> str:
    """The reply to a pizza asked half of one kind and half of another: the menu has no
    halves, so nothing is added; the kinds named are offered whole, as a numbered choice."""
    s = turn.speaker
    turn.kind = "ask"
    said = s._("Sorry, we don't make half-and-half pizzas: each pizza is one kind.")
    pieces = re.split(r"\bhalf\b|\bhalves\b", text)
    # "una familiar mitad hawaiana …": what is said before the halves (a size, a crust) is
    # said of the whole pizza
    before = parse_order(menu, pieces[0])
    said_options = [o for said_line in before.lines for o in said_line.options]
    said_options += [o for phrase in before.ambiguous for o in phrase.options]
    shared = tuple(
        o for o in said_options if (group := menu.group(o.group)) is not None and group.kind == "single"
    )
    options: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line in (line for piece in pieces[1:] for line in parse_order(menu, piece).lines):
        item = menu.item(line.item)
        if item is None or item.code in seen:
            continue
        seen.add(item.code)
        chosen = {o.group for o in line.options}
        try:
            fields = adding.build_line(
                menu,
                item,
                (*line.options, *(o for o in shared if o.group not in chosen)),
                line.excluded,
                [],
                s,
            )
        except adding.LineProblem:
            continue
        add = {"op": "add", "add": [{"fields": fields, "quantity": 1}]}
        options.append({"label": adding.describe(fields, s), "op": add})
    if len(options) < 2:
        return said + " " + s._(texts.ORDER_HINT)
    turn.state["choice"] = {"prompt": s._("Which do you mean?"), "options": options}
    listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
    return said + " " + s._("Which do you mean?") + "\n" + listed + "\n" + s._("Reply with the number.")


class _Ask(Exception):
    """Raised inside an act to stop and ask; `text` is the question, the choice is saved;
    `with_cart` says the cart is shown after it."""

    def __init__(self, text: str, *, with_cart: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.with_cart = with_cart


def language_of(turn: Turn) -> str:
    """The customer's language code ("en" until the customer's language is known)."""
    return str(turn.customer.get("language") or "en")


async def respond(turn: Turn, *, pending: bool = False, free_text: bool = True) -> str | None:
    """The reply to the message's acts, or None when it has none (see the module docstring).
    `pending` says the bot had asked something (a choice, a question, a checkout step) that
    this message leaves unanswered: "never mind" then drops it. `free_text` False says the
    message is also a command ("remove sushi"), which answers what it does not understand."""
    # Spanish and Portuguese are read through their English words (understanding/lexicons.py)
    menu, text = english_reading(turn.store.menu, turn.inbound.text)
    if _HALVES.search(normalise(text)):
        reply = _no_halves(turn, menu, text)
        turn.state["asked"] = True  # "never mind" next drops the question
        await turn.save_state()
        return reply
    phrases = phrases_for(language_of(turn))
    acts = read_acts(menu, text, phrases)
    if pending and _refuses(text, turn.inbound.text) and all(act.kind == "ack" for act in acts):
        # "no, mejor no", "ah n precisa n", "no thanks" to what the bot asked: forget it
        return await _small_talk(turn, Act("never_mind", words=normalise(text)), pending)
    if not acts and await _kind_in_cart_without(turn, menu, text):
        # "pizza sem cebola" with a pizza in the cart: that pizza without onions, as "the
        # pizza without onions" says (two pizzas are asked about, as there)
        acts = read_acts(menu, f"the {text}", phrases)
    if not acts:
        return await _guard(turn, phrases, free_text)
    if asks_only(turn) and any(act.kind in _EDITS or act.kind == "add" for act in acts):
        return None  # a question that names items or options: the parser's reading answers it
    if any(act.kind == "cancel" for act in acts) and all(
        act.kind in _SMALL_TALK
        or (act.kind == "remove" and act.target is not None and act.target.pointer and not act.target.items)
        for act in acts
    ):
        # "ya no la quiero, cancélenla": "remove it" beside a cancel says the same
        acts = tuple(act for act in acts if act.kind in _SMALL_TALK)
    if all(act.kind in _SMALL_TALK for act in acts):
        # "pls cancel, ordered by mistake": the weightiest of what was said
        return await _small_talk(turn, min(acts, key=lambda a: _TALK_ORDER.index(a.kind)), pending)
    if all(act.kind in ("question", "ack") for act in acts) and any(act.kind == "question" for act in acts):
        # one answer per topic asked: "can I call the store? what's the number"
        seen: dict[str, str] = {}
        # "¿hacen envíos? ¿cuánto cobran?": after a question about delivery (in this message or
        # the one before), "how much" with nothing named asks the delivery fee
        delivery = turn.last_topic == "delivery"
        for act in acts:
            topic = act.topic
            if (
                act.kind == "question"
                and topic == "price"
                and delivery
                and answers.about_the_cart(act.subject)
            ):
                topic = "delivery-fee"
            if act.kind == "question" and topic not in seen:
                kind, text = await answers.answer(turn, topic, act.subject)
                seen[topic] = text
                turn.kind = kind if turn.kind in ("reply", kind) else turn.kind
            delivery = delivery or topic in _DELIVERY_TOPICS
        if delivery and any(topic in _DELIVERY_TOPICS for topic in seen):
            turn.state["topic"] = "delivery"
            await turn.save_state()
        said = "\n\n".join(seen.values())
        reminder = turn.speaker._(texts.CONFIRM_HINT)
        if texts.hint_for(turn.state) == texts.CONFIRM_HINT and reminder not in said:
            said += "\n\n" + reminder  # asked at the order summary: how to go on from it
        return said
    if (
        not await carts.load_cart(turn.conn, turn.customer_id)
        and all(act.kind in _EDITS or act.kind == "add" for act in acts)
        and acts[0].kind not in ("restate", "add")
    ):
        # nothing to correct yet: "no onions on the veggie", "build your own with ham,
        # mushrooms and olives + a coke" are orders ("a pepperoni and two cokes, no make
        # that one coke" corrects what the message itself ordered)
        return None
    cart = await carts.load_cart(turn.conn, turn.customer_id)
    state = copy.deepcopy(turn.state)
    try:
        async with carts.savepoint(turn.conn):
            return await _apply_all(turn, acts, _snapshot(cart), phrases, free_text)
    except _Partial:
        # an act after others could not be applied ("make one a sprite and the rest diet"
        # with no line the rest could mean): half a message is never applied, so ask
        turn.state.clear()
        turn.state.update(state)
        return await _not_understood(turn, cart)
    except _Undone as undone:
        # one act of the message asks ("remove the pizza and add a coke" with two pizzas): half
        # a message is never applied, so the cart is as it was, and what the other acts did is
        # held with the question, to be done with the answer
        return await _ask_undone(turn, undone, state, cart)


# A kind of item named bare, then what it goes without: "pizza without onions", "pizza no ham".
_KIND_WITHOUT = re.compile(r"^(?:pizza|pizzas)\s+(?:without|no)\s")


async def _kind_in_cart_without(turn: Turn, menu: Menu, text: str) -> bool:
    """Whether the message (read in English) is a kind of item named bare, without a count or
    an article, and what it goes without ("pizza sem cebola"), with a line of that kind in the
    cart: then it is said of that line, not a new one."""
    if _KIND_WITHOUT.match(normalise(text)) is None:
        return False
    parsed = parse_order(menu, text)
    if parsed.lines or len(parsed.ambiguous) != 1 or parsed.ambiguous[0].quantity != 1:
        return False
    kind = set(parsed.ambiguous[0].candidates)
    return any(line.item_code in kind for line in await carts.load_cart(turn.conn, turn.customer_id))


class _Partial(Exception):
    """Raised to roll back the acts of a message one of which, after others were applied,
    could not be: the message is asked about rather than half applied."""


class _Undone(Exception):
    """Raised to roll back the acts of a message one of which asks: `ask` is the question,
    `pending` what it saved (`choice`, or `question` and `questions`), `said` what the acts
    before it said, `after` the cart the other acts made, `whole` whether every act of the
    message was read (False when one after the question depended on its answer or asked too)."""

    def __init__(
        self,
        ask: _Ask,
        pending: dict[str, Any],
        said: list[str],
        after: list[CartLine],
        whole: bool,
    ) -> None:
        super().__init__(ask.text)
        self.ask = ask
        self.pending = pending
        self.said = said
        self.after = after
        self.whole = whole


_PENDING = ("choice", "question", "questions")


async def _ask_undone(turn: Turn, undone: _Undone, state: dict[str, Any], before: list[CartLine]) -> str:
    """The question of one act of a message, after the whole message was rolled back. What the
    other acts did to the cart is held with the question (`operations.held`) and done with the
    answer; a numbered choice keeps only the options whose lines are in the cart. When the
    answer could not be applied with them (an option changes a line they change too, or the
    question has no answer to wait for), nothing is held and the customer is told so."""
    s = turn.speaker
    turn.state.clear()
    turn.state.update(state)
    turn.state.pop("checkout", None)  # the message is to change the cart: a summary is stale
    turn.kind = "ask"
    turn.state["asked"] = True  # "never mind" next drops the question
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    changes = operations.held(before, undone.after)
    choice = undone.pending.get("choice")
    question = undone.pending.get("question")
    if not changes:
        # nothing to hold: the question as the act asked it
        turn.state.update(undone.pending)
        await turn.save_state()
        shown = [render_cart(lines, s)] if undone.ask.with_cart else []
        return "\n\n".join([*undone.said, undone.ask.text, *shown])
    ids = {line.id for line in lines}
    options = [
        option
        for option in (choice.get("options") or [] if isinstance(choice, dict) else [])
        if "line" not in option["op"] or int(option["op"]["line"]) in ids
    ]
    changed = {line for op in changes for line in operations.touches(op)}
    whole = undone.whole and not any(operations.touches(option["op"]) & changed for option in options)
    if isinstance(choice, dict) and len(options) > 1:
        held = changes if whole else []
        turn.state["choice"] = {"prompt": choice.get("prompt", ""), "options": options, "held": held}
        listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
        await turn.save_state()
        told = s._(texts.HELD) if whole else s._(texts.NOT_HELD)
        return f"{told}\n{choice.get('prompt', '')}\n{listed}\n{s._(_REPLY_NUMBER)}"
    if isinstance(question, dict):
        own = list(question.get("held") or [])
        turn.state["question"] = {**question, "held": [*changes, *own] if whole else []}
        turn.state["questions"] = undone.pending.get("questions") or []
        await turn.save_state()
        told = s._(texts.HELD) if whole else s._(texts.NOT_HELD)
        return f"{told}\n\n{adding.question_text(turn.store.menu, turn.state['question'], s)}"
    await turn.save_state()
    ask = s._(
        "What would you like to change? For example *remove 2*, *make the coke large*, "
        "*2 margherita not 3* or *swap the coke for a sprite*."
    )
    text = undone.ask.text if not isinstance(choice, dict) else ask
    return f"{s._(texts.NOT_HELD)} {text}\n\n" + render_cart(lines, s)


def _on_units(act: Act) -> bool:
    """Whether `act` changes some units of a line, not the whole line ("make one a sprite")."""
    target = act.target
    return act.kind in ("replace", "change") and target is not None and bool(act.quantity or target.count)


def _rest_of_line(target: Target) -> bool:
    """ "the rest", "the others": every line but those being talked about, which after some
    units of a line were changed is the units that line still has."""
    return target.other and target.plural and target.pointer and not (target.items or target.options)


def _independent(act: Act) -> bool:
    """Whether an act can be applied without the answer to a question an act before it asked:
    an order of new lines, a small talk or question, or a change of lines named by their item
    or number (not "it", "the other one", which may be what the answer decides)."""
    if act.kind in _SMALL_TALK or act.kind == "question":
        return True
    if act.kind == "add":
        return act.like is None and act.per is None
    if act.kind == "restate":
        return True
    target = act.target
    if target is None or target.pointer or target.other:
        return False
    return bool(target.items) or target.number is not None


async def _apply_all(
    turn: Turn, acts: tuple[Act, ...], before: list[tuple[Any, ...]], phrases: Any, free_text: bool
) -> str | None:
    """Apply the acts of one message in order (see `respond`). When one asks, the acts after it
    that do not depend on its answer are applied too, then `_Undone` rolls the whole message
    back (`_ask_undone` holds what they did with the question)."""
    said: list[str] = []
    touched: list[int] = []
    extra: list[str] = []
    removed = False
    asked: _Ask | None = None
    pending: dict[str, Any] = {}
    before_ask: list[str] = []
    whole = True
    split_from: int | None = None
    start = 0
    for index, act in enumerate(acts):
        if asked is not None and not _independent(act):
            whole = False
            break
        if index and act.target is not None and act.target.pointer and not act.target.items:
            # "remove the water, please remove it": "it" is what this message already named
            # ("the other one" is not: "remove the veggie and add another of the other one")
            repeats = act.kind in ("remove", "set_quantity", "adjust") and not act.target.other
            if repeats and said and not touched:
                continue
            if touched:
                adding.focus(turn, touched)
        if act.kind == "replace" and removed and act.target is not None and act.target.pointer and act.new:
            # "scrap the wings, garlic bread instead": the replacement of what was just removed
            act = Act("add", new=act.new)
        if act.kind in _SMALL_TALK:
            continue
        if act.kind == "question":
            _kind, text = await answers.answer(turn, act.topic, act.subject)
            extra.append(text)
            continue
        if split_from is not None and act.target is not None and _rest_of_line(act.target):
            shown = [line.id for line in await carts.load_cart(turn.conn, turn.customer_id)]
            if split_from in shown:
                act = replace(act, target=replace(act.target, number=shown.index(split_from) + 1))
        split_from = None
        start = len(touched)
        question = turn.state.get("question")
        try:
            outcome = await _apply(turn, act, touched)
            asks = turn.state.get("question")
            if outcome is not None and asks is not None and asks is not question:
                # "the pizza" among the lines ordered: a "did you mean" question was asked
                raise _Ask("\n\n".join(outcome))
        except _Ask as ask:
            if asked is not None:
                whole = False
                break
            asked, before_ask = ask, list(said)
            pending = {key: copy.deepcopy(turn.state[key]) for key in _PENDING if key in turn.state}
            for key in _PENDING:
                turn.state.pop(key, None)
            continue
        if outcome is None:
            if asked is not None:
                whole = False
                break
            # an act that could not be applied: the order parser reads the message, unless it
            # is words of change the cart could be meant by (then the bot asks); after acts
            # that were applied, the whole message is asked about
            if said:
                raise _Partial
            return await _guard(turn, phrases, free_text)
        removed = removed or act.kind == "remove"
        said.extend(outcome)
        # "make one a sprite and the rest diet": the rest of the line some units were taken from
        split_from = touched[start] if _on_units(act) and len(touched) > start else None
    if asked is not None:
        after = await carts.load_cart(turn.conn, turn.customer_id)
        raise _Undone(asked, pending, before_ask, after, whole)
    corrects = any(act.kind in ("restate", "change", "set_quantity") for act in acts) and not extra
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    if corrects and lines and _snapshot(lines) == before:
        # "no wait, only the margherita thin" read as what the cart already holds: a
        # correction that changes nothing was not understood, so ask what to change
        turn.kind = "ask"
        turn.state["asked"] = True
        await turn.save_state()
        question = turn.speaker._(
            "What would you like to change? For example *remove 2*, *make the coke large*, "
            "*2 margherita not 3* or *swap the coke for a sprite*."
        )
        return "\n\n".join([*said, question, render_cart(lines, turn.speaker)])
    return await _changed(turn, said, touched, extra)


def _snapshot(lines: list[CartLine]) -> list[tuple[Any, ...]]:
    """What a cart holds, to tell whether a message changed it."""
    return [(line.id, line.quantity, str(line.options), str(line.excluded), line.notes) for line in lines]


async def _not_understood(turn: Turn, lines: list[CartLine]) -> str:
    """ "Sorry, I didn't understand …", what to change and the cart: a question (kind ``ask``)
    that "never mind" drops."""
    s = turn.speaker
    turn.kind = "ask"
    turn.state["asked"] = True
    await turn.save_state()
    return (
        s._('Sorry, I didn\'t understand "{phrase}".', phrase=echo(turn.inbound.text))
        + " "
        + s._(
            "What would you like to change? For example *remove 2*, *make the coke large*, "
            "*2 margherita not 3* or *swap the coke for a sprite*."
        )
        + "\n\n"
        + render_cart(lines, s)
    )


async def _guard(turn: Turn, phrases: Any, free_text: bool = True) -> str | None:
    """A message no rule read, that names something already in the cart and has a word of
    change in it ("the coke, can it be a diet instead?"): rather than add what it names, ask.
    None lets the order parser read it as always."""
    key = normalise(english_reading(turn.store.menu, turn.inbound.text)[1])
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    if not lines:
        return None
    menu = turn.store.menu
    parsed = adding.parse(menu, turn.inbound.text)
    homonym = await _homonym(turn, parsed, lines, key)
    if homonym is not None:
        return homonym
    read_nothing = not (parsed.lines or parsed.ambiguous or parsed.bad_quantities)
    if free_text and read_nothing and phrases.edit_cues.search(key):
        # "make them the same size", "i want the bigger one": words of change the bot cannot
        # read, with a cart they could change: ask what to change instead of a "sorry"
        return await _not_understood(turn, lines)
    named = {line.item for line in parsed.lines} | {c for amb in parsed.ambiguous for c in amb.candidates}
    if not named:
        return None
    in_cart = bool(named & {line.item_code for line in lines})
    adding_said = phrases.adding.search(key) is not None
    cues = {m.group(0) for m in phrases.edit_cues.finditer(key)}
    if adding_said and cues <= {"no", "without"} and any(line.excluded for line in parsed.lines):
        # "and 1 small veggie no onions": the "no" leaves an option out of the line added
        return None
    if cues:
        # "mejor una sprite", "na verdade uma pepperoni": a correction that names no line of
        # the cart may still replace one; only a word of adding makes it an addition. A word
        # of change that corrects nothing ("hawaiian no pickles", "only one") orders a new line.
        if not in_cart and (adding_said or not _CORRECTION.search(key)):
            return None
    elif in_cart and not adding_said and not _asks(turn.inbound.text, key):
        same = _same_item_again(parsed, lines)
        if same is not None:
            return await _ask_in_all_or_more(turn, parsed.lines[0], same)
        if not _REFERENCE.search(key):
            return None
    else:
        # "las cocas pa llevar", "the coke, can it be diet": a line of the cart named with
        # "the" points at that line rather than ordering another
        return None
    return await ask_add_or_change(turn, parsed, lines)


def _same_item_again(parsed: ParseResult, lines: list[CartLine]) -> CartLine | None:
    """The cart's one line of the item a message orders again with a count of 2 or more and
    nothing else ("i want 2 hawaiians", "quero 2 havaianas" with a Hawaiian in the cart): the
    count may be the total or more of it. None when the message is anything else."""
    if len(parsed.lines) != 1 or parsed.ambiguous or parsed.unmatched or parsed.modifiers is not None:
        return None
    line = parsed.lines[0]
    if line.quantity < 2 or line.options or line.excluded:
        return None
    same = [cart_line for cart_line in lines if cart_line.item_code == line.item]
    return same[0] if len(same) == 1 else None


async def _ask_in_all_or_more(turn: Turn, line: OrderLine, cart_line: CartLine) -> str:
    """Ask whether `line`'s count is the cart line's new total or more of it; nothing changes
    until the answer (a wrong cart is worse than a question)."""
    s = turn.speaker
    options: list[dict[str, Any]] = [
        {
            "label": s._("{quantity} x {item} in all", quantity=line.quantity, item=cart_line.name),
            "op": {"op": "quantity", "line": cart_line.id, "quantity": line.quantity},
        }
    ]
    more = _add_option(turn.store.menu, line, s)
    if more is not None:
        more["label"] = s._(
            "{quantity} more ({total} in all)",
            quantity=line.quantity,
            total=cart_line.quantity + line.quantity,
        )
        options.append(more)
    prompt = s._(
        "You have {quantity} x {item} already. Which do you mean?",
        quantity=cart_line.quantity,
        item=cart_line.name,
    )
    turn.kind = "ask"
    turn.state["asked"] = True
    turn.state["choice"] = {"prompt": prompt, "options": options}
    await turn.save_state()
    listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
    return f"{prompt}\n{listed}\n{s._(_REPLY_NUMBER)}"


def _asks(text: str, key: str) -> bool:
    """A question ("is the margherita vegetarian?", "does the veggie have onions"): the
    message asks about a line rather than changes it."""
    return "?" in text or _QUESTION_START.match(key) is not None


async def ask_add_or_change(turn: Turn, parsed: ParseResult, lines: list[CartLine]) -> str:
    """Ask whether what `parsed` names is to be added or is a change to the cart `lines`,
    offering to add each line it read (`state["choice"]`); nothing changes until the answer."""
    s = turn.speaker
    menu = turn.store.menu
    options = [option for line in parsed.lines if (option := _add_option(menu, line, s)) is not None]
    turn.kind = "ask"
    turn.state["asked"] = True
    example = lines[-1].name.lower()
    text = (
        s._(
            "I want to get this right: should I add this, or change what's already in your cart? "
            "Tell me like *add 1 {example}*, *make the {example} 2*, *remove the {example}* "
            "or *swap the {example} for …*.",
            example=example,
        )
        + "\n\n"
        + render_cart(lines, s)
    )
    if options:
        turn.state["choice"] = {"prompt": s._("Add it?"), "options": options}
        listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
        if len(options) == 1:
            text += "\n\n" + s._("To add it, reply *yes*:") + f"\n{listed}"
        else:
            text += "\n\n" + s._("To add it, reply with the number:") + f"\n{listed}"
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
    # "a pepperoni" orders the pizza; "add pepperoni", "extra pepperoni", "and pepperoni" (with
    # no article, after a pizza) may mean the topping
    rest = set(key.split()) - set(normalise(item.name).split()) - set(normalise(line.text).split())
    articles = {"a", "an", "one", "another"}
    if (
        not rest & {"add", "extra", "some", "with", "plus", "more", "and"}
        or (rest | set(key.split())) & articles
    ):
        return None
    mods = Modifiers(options=tuple(
        ChosenOption(group.code, option.code)
        for group in menu.option_groups
        for option in group.options
        if normalise(option.name) == normalise(item.name)
    ))  # fmt: skip
    if not mods.options:
        return None
    s = turn.speaker
    takers = [cart_line for cart_line in lines if cart_line.item_code != item.code]
    choices = []
    for cart_line in takers:
        fields = adding.modified_fields(menu, cart_line, mods, [], s)
        if fields is not None:
            choices.append(
                {"label": s._("{option} on the {item}", option=option_word(mods), item=cart_line.name),
                 "op": {"op": "change", "line": cart_line.id, "fields": fields}}
            )  # fmt: skip
    if not choices:
        return None
    try:
        fields = adding.build_line(menu, item, (), (), [], s)
    except adding.LineProblem:
        return None
    add = {"fields": fields, "quantity": 1}
    choices.insert(
        0, {"label": s._("Add {line}", line=f"1 x {item.name}"), "op": {"op": "add", "add": [add]}}
    )
    prompt = s._("Which do you mean?")
    turn.state["choice"] = {"prompt": prompt, "options": choices}
    turn.kind = "ask"
    await turn.save_state()
    listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(choices, 1))
    return f"{prompt}\n{listed}\n" + s._("Reply with the number.")


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
    hint = turn.speaker._(CHECKOUT_HINT)
    cart = render_cart(lines, turn.speaker, room(*said, *extra, hint)) + ("\n\n" + hint if lines else "")
    if not lines and turn.speaker._(texts.EMPTIED) in said:
        # "🗑️ Your cart is empty now." is said once, not again as the empty cart
        cart = turn.speaker._(texts.ORDER_HINT)
    return "\n\n".join([*said, cart, *extra])


async def _small_talk(turn: Turn, act: Act, pending: bool) -> str:
    s = turn.speaker
    hint = s._(texts.ORDER_HINT)
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    if act.kind == "cancel":
        return await cancel(turn, lines)
    if act.kind == "unsure":
        turn.kind = "ask"
        if not lines:
            return s._("There's nothing in your cart to change yet.") + " " + hint
        return (
            s._(
                "What would you like to change? For example *remove 2*, *make the coke large*, "
                "*2 margherita not 3* or *swap the coke for a sprite*."
            )
            + "\n\n"
            + render_cart(lines, s)
        )
    if act.kind == "never_mind":
        if pending or drop_pending(turn):
            drop_pending(turn)
            await turn.save_state()
            turn.kind = "dropped"
            tail = s._("Your cart is as it was.") if lines else hint
            return s._("OK, forget that. 👍") + " " + tail
        turn.kind = "ack"
        return s._("No problem! 👍") + " " + (s._("Send *checkout* when you're ready.") if lines else hint)
    if act.kind == "done":
        if lines:
            turn.kind = "offer-checkout"
            return await checkout.start(turn)
        turn.kind = "ack"
        return s._("Your cart is empty, so there's nothing to order yet.") + " " + hint
    turn.kind = "ack"
    if lines:
        return s._("👍 Send *checkout* when you're ready, or tell me what else you'd like.")
    return "👍 " + hint


def drop_pending(turn: Turn) -> bool:
    """Forget whatever the bot was waiting for (a choice, a "which one", a checkout step);
    True when there was something."""
    had = False
    for key in ("choice", "question", "questions", "checkout", "asked"):
        had = turn.state.pop(key, None) is not None or had
    return had


# -- finding lines ------------------------------------------------------------------------


def _has_options(line: CartLine, options: tuple[ChosenOption, ...], menu: Menu | None = None) -> bool:
    """Whether `line` has every one of `options`: chosen, the group's default when the line
    chose nothing in it, or (with `menu`) an ingredient of the dish as it comes, not left out
    ("the one with pineapple" is the Hawaiian)."""
    chosen = {(o["group"], o["option"]) for o in line.options}
    names = {str(o["option"]) for o in line.options}
    groups = {str(o["group"]) for o in line.options}
    left_out = {normalise(name) for name in line.excluded}
    amounts = {(o["group"], o["option"]): o.get("qualifier") for o in line.options}
    for wanted in options:
        if wanted.qualifier and amounts.get((wanted.group, wanted.option), "") != wanted.qualifier:
            return False  # "the one with extra mushrooms": the dish as it comes has no extra
        if (wanted.group, wanted.option) in chosen or wanted.option in names:
            continue
        group = menu.group(wanted.group) if menu is not None else None
        if menu is None or group is None:
            return False
        if group.kind == "single" and group.default == wanted.option and wanted.group not in groups:
            continue
        option = group.option(wanted.option)
        name = normalise(option.name) if option is not None else wanted.option
        if name in left_out or not _has_ingredient(menu, line, Modifiers(excluded=(wanted,))):
            return False
    return True


def _lacks(line: CartLine, without: tuple[ChosenOption, ...], menu: Menu | None) -> bool:
    """Whether `line` leaves out every one of `without` ("the one without onions")."""
    left_out = {normalise(name) for name in line.excluded}
    for option in without:
        group = menu.group(option.group) if menu is not None else None
        named = group.option(option.option) if group is not None else None
        names = {normalise(option.option.replace("-", " "))} | ({normalise(named.name)} if named else set())
        if not names & left_out:
            return False
    return True


def resolve(
    target: Target, lines: list[CartLine], focus: list[int], menu: Menu | None = None
) -> list[CartLine]:
    """The cart lines `target` may mean, best first (see the module docstring). More than
    one means the words do not say which, unless the target is plural ("them", "the cokes").
    Options said in the reference ("the large one", "the one without onions") narrow the
    lines to those that have them; when none has them, no line is meant (the caller asks),
    rather than another line being changed."""
    if target.number is not None:
        return [lines[target.number - 1]] if 1 <= target.number <= len(lines) else []
    if target.size_rank and menu is not None:
        pool = [line for line in lines if line.item_code in target.items] if target.items else lines
        return _by_size(pool, target.size_rank, menu)
    focused = [line for line in lines if line.id in focus]
    if target.items:
        pool = [line for line in lines if line.item_code in target.items]
    elif target.other and target.plural:
        pool = [line for line in lines if line.id not in focus]  # "the rest": none when nothing else
    elif target.other:
        pool = [line for line in lines if line.id not in focus] or lines
    elif target.ordinal is not None:
        pool = lines
    elif target.each:
        pool = lines  # "one of each"
    elif target.pointer and target.count and not target.plural:
        pool = lines  # a bare "one": one unit of anything in the cart
    elif target.pointer and "both" in target.said.split() and len(focused) != 2 and len(lines) == 2:
        pool = lines  # "make both 3" after the second of two lines was added: the two lines
    elif target.pointer:
        pool = focused or lines
    else:
        pool = []
    if target.options or target.without:

        def described(line: CartLine) -> bool:
            return _has_options(line, target.options, menu) and _lacks(line, target.without, menu)

        # the lines being talked about first, then any line of the cart ("the one without onions")
        wide = lines if target.pointer and not target.other and target.ordinal is None else pool
        pool = [line for line in pool if described(line)] or [line for line in wide if described(line)]
        if len(pool) > 1 and menu is not None and set(target.said.split()) & _PLAIN_WORDS:
            # "3 of the normal one" beside one with extra cheese: the line as it comes
            plain = [line for line in pool if _as_it_comes(line, menu)]
            pool = plain if len(plain) == 1 else pool
    if target.other and target.items:
        pool = [line for line in pool if line.id not in focus] or pool
    if (
        target.ordinal is not None
        and pool
        and target.count
        and target.count > 1
        and target.ordinal in (1, -1)
    ):
        # "the first two drinks", "the last 2": that many lines from that end
        return pool[: target.count] if target.ordinal == 1 else pool[-target.count :]
    if target.ordinal == 0:
        # "the middle one": only of an odd number of lines, else no line is meant (asked)
        return [pool[len(pool) // 2]] if len(pool) % 2 == 1 and len(pool) > 2 else []
    if target.ordinal is not None and pool:
        index = target.ordinal - 1 if target.ordinal > 0 else target.ordinal
        return [pool[index]] if -len(pool) <= index < len(pool) else []
    return pool


_PLAIN_WORDS = frozenset({"normal", "regular", "plain", "usual"})


def _as_it_comes(line: CartLine, menu: Menu) -> bool:
    """Whether `line` chose nothing but its groups' defaults and leaves nothing out."""
    for option in line.options:
        group = menu.group(str(option["group"]))
        if group is None or group.default != option["option"] or option.get("qualifier"):
            return False
    return not line.excluded


def _by_size(pool: list[CartLine], rank: int, menu: Menu) -> list[CartLine]:
    """The one line of `pool` of the largest (`rank` 1) or smallest (-1) size: lines ranked
    by where their choice stands in a single-choice group (the group's default when none was
    chosen); of the lines that have such a group, when they differ in it. None when two lines
    tie at that end or no group tells them apart (the caller asks)."""
    groups: dict[str, list[tuple[int, CartLine]]] = {}
    for line in pool:
        item = menu.item(line.item_code)
        if item is None:
            continue
        chosen = {str(o["group"]): str(o["option"]) for o in line.options}
        for group in menu.groups_of(item):
            if group.kind != "single" or len(group.options) < 2:
                continue
            code = chosen.get(group.code, group.default or "")
            places = [o.code for o in group.options]
            if code in places:
                groups.setdefault(group.code, []).append((places.index(code), line))
    for ranked in groups.values():
        if len({place for place, _ in ranked}) < 2:
            continue
        end = max(place for place, _ in ranked) if rank > 0 else min(place for place, _ in ranked)
        at_end = [line for place, line in ranked if place == end]
        return at_end if len(at_end) == 1 else []
    return []


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
            options.append({"label": describe_line(line, turn.speaker), "op": op})
    if len(options) == 1:
        return [line for line in pool if make(line) is not None]
    if not options:
        return []
    turn.state["choice"] = {"prompt": label, "options": options}
    listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
    raise _Ask(f"{label}\n{listed}\n{turn.speaker._(_REPLY_NUMBER)}")


_WORD = re.compile(r"[^\W_]+")


def own_words(text: str, said: str) -> str:
    """The customer's own words in `text` that `said` was read from. A Spanish or Portuguese
    message is read through English words ("tira o bacon da lasanha" names "bacon of the
    lasanha"), which are never quoted back: the words the customer wrote from the first of the
    phrase to its last ("bacon da lasanha"); `said` itself when they are not found."""
    quoted = quote(text, said)
    wanted = tokenize(said)
    if quoted != said or not wanted:
        return quoted
    found = [(m, tokenize(m.group())) for m in _WORD.finditer(text)]
    starts = [m.start() for m, words in found if words[:1] == wanted[:1]]
    ends = [m.end() for m, words in found if words[-1:] == wanted[-1:]]
    if starts and ends and starts[0] < ends[-1]:
        return text[starts[0] : ends[-1]]
    return said


def _not_found(target: Target, lines: list[CartLine], s: Speaker, text: str) -> list[str]:
    if not lines:
        return [s._("Your cart is empty, so there's nothing to change.") + " " + s._(texts.ORDER_HINT)]
    if target.number is not None:
        return [
            s.n_(
                "There's no item {number} in your cart; it has {n} line.",
                "There's no item {number} in your cart; it has {n} lines.",
                len(lines),
                number=target.number,
            )
        ]
    return [
        s._(
            "I couldn't find \"{phrase}\" in your cart, so I didn't change anything.",
            phrase=echo(own_words(text, target.said)),
        )
    ]


def _ask_not_found(turn: Turn, act: Act, lines: list[CartLine], make: Any, label: str) -> list[str]:
    """No line is what the words name ("the bigger one", "the one with mushrooms" when none
    has them): rather than change another line, list the lines that could be meant, each with
    the operation `make(line)` builds for it, and ask. A line number out of range, or a cart no
    line of which could take the change, is said as it is."""
    assert act.target is not None
    s = turn.speaker
    options = [
        {"label": describe_line(line, s), "op": op} for line in lines if (op := make(line)) is not None
    ]
    if act.target.number is not None and lines:
        # "change 5 to 2" with three lines: no line is meant, so nothing is changed; asked
        turn.kind = "ask"
        raise _Ask(_not_found(act.target, lines, s, turn.inbound.text)[0], with_cart=True)
    if not options:
        return _not_found(act.target, lines, s, turn.inbound.text)
    turn.state["choice"] = {"prompt": label, "options": options}
    listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
    missing = _not_found(act.target, lines, s, turn.inbound.text)[0]
    raise _Ask(f"{missing}\n{label}\n{listed}\n{s._(_REPLY_NUMBER)}")


# -- applying acts ------------------------------------------------------------------------


async def _apply(turn: Turn, act: Act, touched: list[int]) -> list[str] | None:
    """Apply one act; returns the sentences saying what happened, or None to let the order
    parser read the message instead. Raises `_Ask` to stop and ask."""
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    focus = list(turn.state.get("focus") or [])
    if act.kind == "add" and act.like is not None:
        return await _copy(turn, act, act.like, lines, focus, touched)
    if act.kind == "add":
        assert act.new is not None
        new = act.new
        if act.per is not None:
            new = _counted(turn, act, act.per, lines, focus)
        before = {line.id for line in lines}
        said = await adding.add_parsed(turn, new, show_cart=False)
        touched.extend(
            line.id for line in await carts.load_cart(turn.conn, turn.customer_id) if line.id not in before
        )
        return [said]
    if act.kind == "restate":
        return await _restate(turn, act, lines, touched)
    assert act.target is not None
    pool = resolve(act.target, lines, focus, turn.store.menu)
    if _other_of_several(act.target, pool, lines, focus):
        # "one of them large and the other thin" with 3 veggies: "the other" is 2 of them,
        # and which is not said
        turn.kind = "ask"
        raise _Ask(turn.speaker._("Which one should I change?"), with_cart=True)
    if not pool and act.target.items and act.kind in ("change", "set_quantity", "adjust") and act.new is None:
        # "pepperoni xl, garlic bread": a line named that is not in the cart is an order
        order = order_of(turn.store.menu, act.words)
        if order is not None:
            return await _add_instead(turn, order, touched)
    if act.exchange:
        return await _exchange(turn, act, lines, pool, touched)
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


async def _copy(
    turn: Turn, act: Act, like: Target, lines: list[CartLine], focus: list[int], touched: list[int]
) -> list[str]:
    """ "same pizza again but with mushrooms": one more of the line meant, as a line of its own
    with the options said; several lines it could be are asked about."""
    assert act.modifiers is not None
    menu = turn.store.menu
    s = turn.speaker
    mods = act.modifiers

    def op(line: CartLine) -> dict[str, Any] | None:
        fields = adding.modified_fields(menu, line, mods, [], s)
        return {"op": "add", "add": [{"fields": fields, "quantity": 1}]} if fields is not None else None

    pool = resolve(like, lines, focus, menu)
    if not pool and act.new is not None:
        return await _add_instead(turn, act.new, touched)
    label = s._("Which one should I change?")
    if not pool:
        return _ask_not_found(turn, act, lines, op, label)
    chosen = _one(turn, replace(act, target=like), pool, op, label)
    out = []
    for line in chosen:
        built = op(line)
        if built is None:
            out.append(s._("{line} already has that.", line=describe_line(line, s)))
            continue
        out.append(await operations.run(turn, built, touched))
    return out


def _counted(turn: Turn, act: Act, per: Target, lines: list[CartLine], focus: list[int]) -> ParseResult:
    """The order of `act` with its quantity counted by the units of the lines `per` names
    ("a coke for each pizza" with 3 pizzas: 3 cokes); asks when they name none."""
    assert act.new is not None
    pool = resolve(per, lines, focus, turn.store.menu)
    units = sum(line.quantity for line in pool)
    if not pool or (per.pointer and len(pool) != 1):
        turn.kind = "ask"
        raise _Ask(
            turn.speaker._(
                "How many would you like? For example *{example}*.", example=f"2 {act.new.lines[0].text}"
            )
        )
    line = act.new.lines[0]
    return ParseResult(lines=(replace(line, quantity=min(line.quantity * units, MAX_QUANTITY)),))


def _other_of_several(target: Target, pool: list[CartLine], lines: list[CartLine], focus: list[int]) -> bool:
    """Whether "the other one" names a line of several units of the item just talked about,
    so that the one unit meant is not said."""
    if not target.other or target.plural or target.items or len(pool) != 1 or pool[0].quantity < 2:
        return False
    return any(line.item_code == pool[0].item_code for line in lines if line.id in focus)


async def cancel(turn: Turn, lines: list[CartLine]) -> str:
    """ "cancel", "start over", "cancel everything": the customer's open order when the kitchen
    has not started it; with only a cart, ask before emptying it; with both, ask which."""
    s = turn.speaker
    order = await placed_orders.latest_order(turn, active_only=True)
    cancellable = order is not None and order["status"] in lifecycle.CUSTOMER_CANCELLABLE
    if lines and cancellable:
        assert order is not None
        prompt = s._("What should I cancel?")
        first = s._("Order #{number}", number=order["number"])
        second = s._("Empty my cart (the order stays)")
        turn.state["choice"] = {
            "prompt": prompt,
            "options": [
                {"label": first, "op": {"op": "cancel_order", "number": int(order["number"])}},
                {"label": second, "op": {"op": "clear"}},
            ],
        }
        await turn.save_state()
        turn.kind = "ask"
        return f"{prompt}\n1. {first}\n2. {second}\n{s._(_REPLY_NUMBER)}"
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
            swap = _swap_of_last(turn, new, lines)
            if swap is not None:
                out.append(await operations.run(turn, swap, touched))
                continue
            _ask_swap_or_add(turn, new, lines)
            out.append(await adding.add_parsed(turn, ParseResult(lines=(new,)), show_cart=False))
            continue
        mods = Modifiers(options=new.options, excluded=new.excluded, notes=new.notes)
        explicit = _explicit_quantity(new) or new.quantity > 1

        def op(
            line: CartLine, mods: Modifiers = mods, new: OrderLine = new, explicit: bool = explicit
        ) -> dict[str, Any] | None:
            fields = (
                adding.modified_fields(menu, line, mods, [], turn.speaker)
                if (mods.options or mods.excluded)
                else None
            )
            quantity = new.quantity if explicit or new.quantity != line.quantity else line.quantity
            if fields is None and quantity == line.quantity:
                return None
            return {"op": "restate", "line": line.id, "fields": fields, "quantity": quantity}

        target = Target(new.text or new.item, items=(new.item,))
        which = turn.speaker._("Which {item} do you mean?", item=same[0].name)
        # "the small pepperoni" with a large and a small one: the line that already is as said
        # is the one meant, not the other changed to match it
        already = [line for line in same if op(line) is None]
        chosen = (
            already[:1]
            if already and len(same) > 1
            else _one(turn, Act("restate", target=target), same, op, which)
        )
        for line in chosen:
            built = op(line)
            if built is None:
                touched.append(line.id)  # "only the wings, forget the rest": the line talked about
                out.append(
                    turn.speaker._(
                        "{line} is already in your cart. 👍", line=describe_line(line, turn.speaker)
                    )
                )
                continue
            out.append(await operations.run(turn, built, touched))
    ambiguous = []
    for phrase in rest.ambiguous:
        named = [line for line in lines if line.item_code in phrase.candidates]
        if named and not (phrase.options or phrase.excluded or phrase.notes):
            count = phrase.quantity
            if count > 1 and sum(line.quantity for line in named) != count:
                # "only 3 pizzas and 3 cokes": the one line of that kind gets the count said;
                # of several, which one is asked
                def set_count(line: CartLine, count: int = count) -> dict[str, Any]:
                    return {"op": "restate", "line": line.id, "fields": None, "quantity": count}

                which = turn.speaker._("Which {item} do you mean?", item=phrase.phrase)
                target = Target(phrase.phrase, items=phrase.candidates)
                for line in _one(turn, Act("restate", target=target), named, set_count, which):
                    out.append(await operations.run(turn, set_count(line), touched))
                continue
            # "just the pizzas, no drinks", "that's the wrong pizza, i meant hawaiian": a kind
            # said again names the lines of the cart of that kind, the ones talked about
            touched.extend(line.id for line in named)
            continue
        ambiguous.append(phrase)
    rest = replace(rest, ambiguous=tuple(ambiguous))
    if rest.ambiguous or rest.unmatched:
        out.append(await adding.add_parsed(turn, rest, show_cart=False))
    return out


def _swaps(turn: Turn, new: OrderLine, lines: list[CartLine]) -> list[dict[str, Any]]:
    """The choices of swapping a line of the cart of the same category as `new` for it."""
    menu = turn.store.menu
    item = menu.item(new.item)
    if item is None:
        return []
    s = turn.speaker
    options = []
    for line in lines:
        old = menu.item(line.item_code)
        if old is None or old.category != item.category:
            continue
        replacement = _replacement(menu, line, ParseResult(lines=(new,)), s)
        if replacement is None:
            continue
        label = s._(
            "Swap {old} for {new}",
            old=describe_line(line, s),
            new=f"{replacement[0]['quantity']} x {adding.describe(replacement[0]['fields'], s)}",
        )
        options.append({"label": label, "op": {"op": "replace", "line": line.id, "add": replacement}})
    return options


def _swap_of_last(turn: Turn, new: OrderLine, lines: list[CartLine]) -> dict[str, Any] | None:
    """ "me equivoqué, era pepperoni", "mejor una sprite" right after one line was added (the
    one line being talked about, of the same category): the swap of that line. None when the
    last change touched several lines or another kind of line (then the bot asks)."""
    focus = turn.state.get("focus") or []
    if len(focus) != 1:
        return None
    return next((o["op"] for o in _swaps(turn, new, lines) if o["op"]["line"] == focus[0]), None)


def _ask_swap_or_add(turn: Turn, new: OrderLine, lines: list[CartLine]) -> None:
    """ "mejor una sprite" with a coke in the cart: a correction naming an item the cart does
    not hold may replace a line of the same category, or add. Raises _Ask with a numbered
    choice (each swap, then the addition) when the cart has such a line; returns otherwise."""
    menu = turn.store.menu
    s = turn.speaker
    options = _swaps(turn, new, lines)
    if not options:
        return
    add_option = _add_option(menu, new, s)
    if add_option is None:
        return
    options.append(add_option)
    prompt = s._("Which do you mean?")
    turn.state["choice"] = {"prompt": prompt, "options": options}
    listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
    raise _Ask(f"{prompt}\n{listed}\n{s._(_REPLY_NUMBER)}")


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
    s = turn.speaker
    if not pool:
        if act.new is not None:
            return await _add_instead(turn, act.new, touched)
        if act.quantity is None or not 0 <= act.quantity <= MAX_QUANTITY:
            return _not_found(act.target, lines, s, turn.inbound.text)
        wanted = act.quantity
        return _ask_not_found(
            turn,
            act,
            lines,
            lambda line: {"op": "quantity", "line": line.id, "quantity": wanted},
            s._("Which line should be {quantity}?", quantity=wanted),
        )
    if act.quantities:
        # "make it two and two": one quantity for each line being talked about, in order
        if len(pool) != len(act.quantities) or not all(0 < q <= MAX_QUANTITY for q in act.quantities):
            turn.kind = "ask"
            ask = s._(
                "What would you like to change? For example *remove 2*, *make the coke large*, "
                "*2 margherita not 3* or *swap the coke for a sprite*."
            )
            raise _Ask(ask, with_cart=True)
        return [
            await operations.run(turn, {"op": "quantity", "line": line.id, "quantity": quantity}, touched)
            for line, quantity in zip(pool, act.quantities, strict=True)
        ]
    if act.previous is not None and len(pool) > 1:
        pool = [line for line in pool if line.quantity == act.previous] or pool
    quantity = act.quantity
    if act.or_more and quantity and len(pool) == 1 and quantity == pool[0].quantity:
        # "pepperoni x2" with 2 already there: 2 in all would change nothing, so 2 more may
        # be meant: asked, never guessed ("hawaiian x2" with 1 there is the line's new total)
        line = pool[0]
        more = min(line.quantity + quantity, MAX_QUANTITY)
        prompt = s._("You have {quantity} x {item}. Do you want:", quantity=line.quantity, item=line.name)
        in_all = s._("{quantity} in all", quantity=quantity)
        plus = s._("{quantity} more ({total} in all)", quantity=quantity, total=more)
        turn.state["choice"] = {
            "prompt": prompt,
            "options": [
                {"label": in_all, "op": {"op": "quantity", "line": line.id, "quantity": quantity}},
                {"label": plus, "op": {"op": "quantity", "line": line.id, "quantity": more}},
            ],
        }
        raise _Ask(f"{prompt}\n1. {in_all}\n2. {plus}\n" + s._("Reply with the number."))
    problem = adding.quantity_problem(act.subject if quantity is None else str(quantity), s, allow_zero=True)
    if problem is not None or quantity is None:
        return [f"{problem} " + s._("For example *change 1 to 2*.")]
    every = act.target.each or act.target.said in ("both", "both of them", "all", "all of them", "them all")
    if len(pool) > 1 and not every and quantity == 1 and act.target.pointer and not act.target.items:
        # "just one of them" after 2 brownies and a margherita: one unit of the only line that
        # has several ("only two of those" after 3 cokes and 2 sprites is still asked)
        several = [line for line in pool if line.quantity > 1]
        pool = several if len(several) == 1 else pool
    chosen = _one(
        turn,
        act,
        pool,
        lambda line: {"op": "quantity", "line": line.id, "quantity": quantity},
        s._("Which line should be {quantity}?", quantity=quantity),
        plural_ok=every,
    )
    return [
        await operations.run(turn, {"op": "quantity", "line": line.id, "quantity": quantity}, touched)
        for line in chosen
    ]


async def _adjust(
    turn: Turn, act: Act, lines: list[CartLine], pool: list[CartLine], touched: list[int]
) -> list[str]:
    assert act.target is not None and (act.quantity is not None or act.scale is not None)
    s = turn.speaker
    if act.scale is not None:
        return await _scale(turn, act, act.scale, lines, pool, touched)
    assert act.quantity is not None
    delta = act.quantity

    def op(line: CartLine) -> dict[str, Any]:
        return {"op": "quantity", "line": line.id, "quantity": max(0, line.quantity + delta)}

    label = (
        s._("Which line should I add one more of?") if delta > 0 else s._("Which line should have one less?")
    )
    if not pool:
        if act.new is not None:
            return await _add_instead(turn, act.new, touched)
        return _ask_not_found(turn, act, lines, op, label)
    chosen = _one(turn, act, pool, op, label)
    out = []
    for line in chosen:
        if line.quantity + delta > MAX_QUANTITY:
            out.append(
                s._(
                    "{most} is the most for one line, so {item} stays at {quantity}.",
                    most=MAX_QUANTITY,
                    item=line.name,
                    quantity=line.quantity,
                )
            )
            continue
        out.append(await operations.run(turn, op(line), touched))
    return out


async def _scale(
    turn: Turn,
    act: Act,
    scale: tuple[int, int],
    lines: list[CartLine],
    pool: list[CartLine],
    touched: list[int],
) -> list[str]:
    """ "double the cokes", "half that": each line meant gets its quantity times `scale`; a
    line whose quantity cannot be split so ("half" of 3) or would pass the most for a line is
    said, not rounded; several lines named by a pointer ("double it") are asked about."""
    assert act.target is not None
    s = turn.speaker
    top, bottom = scale

    def op(line: CartLine) -> dict[str, Any] | None:
        quantity, rest = divmod(line.quantity * top, bottom)
        if rest or not 0 < quantity <= MAX_QUANTITY or quantity == line.quantity:
            return None
        return {"op": "quantity", "line": line.id, "quantity": quantity}

    label = s._("Which line do you mean?")
    if not pool:
        return _ask_not_found(turn, act, lines, op, label)
    chosen = _one(turn, act, pool, op, label, plural_ok=bool(act.target.items) or act.target.plural)
    out = []
    for line in chosen:
        built = op(line)
        if built is None:
            out.append(
                s._(
                    "I couldn't change {quantity} x {item} that way, so I left it as it is. Tell me how many "
                    "you'd like, e.g. *make the {example} 2*.",
                    quantity=line.quantity,
                    item=line.name,
                    example=line.name.lower(),
                )
            )
            continue
        out.append(await operations.run(turn, built, touched))
    return out


async def _remove(
    turn: Turn, act: Act, lines: list[CartLine], pool: list[CartLine], focus: list[int], touched: list[int]
) -> list[str] | None:
    assert act.target is not None
    menu = turn.store.menu
    s = turn.speaker
    units = act.quantity

    def op(line: CartLine) -> dict[str, Any]:
        if units and units < line.quantity:
            return {"op": "quantity", "line": line.id, "quantity": line.quantity - units}
        return {"op": "remove", "line": line.id}

    if not pool:
        if act.modifiers is not None:
            return None  # "no pepperoni" and no Pepperoni in the cart: an option left out
        number = act.target.number
        if number is not None and not units and len(lines) == 1 and lines[0].quantity > number:
            # "take off 2" with 4 x Pepperoni, the cart's one line: no item 2, so 2 of them
            units = number
            return [await operations.run(turn, op(lines[0]), touched)]
        return _ask_not_found(turn, act, lines, op, s._("Which one should I remove?"))

    if act.modifiers is not None:
        # "no pepperoni": the Pepperoni pizza, or pepperoni on the line being talked about?
        # only lines that have it: chosen, or in the dish as it comes ("no pepperoni" with a
        # Veggie in the cart can only mean the Pepperoni pizza)
        talked = [line for line in lines if line not in pool and _has_ingredient(menu, line, act.modifiers)]
        options = [
            {"label": s._("Remove {line}", line=describe_line(line, s)), "op": op(line)} for line in pool
        ]
        said = echo(own_words(turn.inbound.text, act.target.said))
        for line in talked:
            fields = adding.modified_fields(menu, line, act.modifiers, [], s)
            if fields is not None:
                options.append(
                    {"label": s._("Keep it, but make it {item} (no {option})", item=line.name, option=said),
                     "op": {"op": "change", "line": line.id, "fields": fields}}
                )  # fmt: skip
        if len(options) > 1:
            turn.state["choice"] = {
                "prompt": s._('What did you mean by "no {option}"?', option=said),
                "options": options,
            }
            listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
            raise _Ask(f"{turn.state['choice']['prompt']}\n{listed}\n{s._(_REPLY_NUMBER)}")
    wider = _plural_beyond(act.target, lines, pool)
    if wider:
        # "remove the cokes" with one Coke and a Diet Coke: the Coke, or the Diet Coke too?
        single = replace(act, target=replace(act.target, plural=False))
        chosen = _one(turn, single, pool + wider, op, s._("Which one should I remove?"))
    else:
        chosen = _one(turn, act, pool, op, s._("Which one should I remove?"), plural_ok=True)
    return [await operations.run(turn, op(line), touched) for line in chosen]


def _plural_beyond(target: Target, lines: list[CartLine], pool: list[CartLine]) -> list[CartLine]:
    """Other lines a plural name may also mean when the lines of its item hold one unit only:
    "the cokes" with one Coke and a Diet Coke (whose name holds "coke")."""
    if not (target.plural and len(target.items) == 1 and sum(line.quantity for line in pool) == 1):
        return []
    words = normalise(target.said).split()
    if not words or not words[-1].endswith("s"):
        return []
    word = words[-1][:-1]
    return [line for line in lines if line not in pool and word in normalise(line.name).split()]


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


def _names_option(menu: Menu, line: CartLine, mods: Modifiers) -> bool:
    """Whether the name of `line`'s item holds the name of an option `mods` leave out as a
    word of its own ("garlic" in Garlic Bread)."""
    name = set(normalise(line.name).split())
    for choice in mods.excluded:
        group = menu.group(choice.group)
        option = group.option(choice.option) if group else None
        words = set(normalise(option.name).split()) if option else {choice.option}
        if words and words <= name:
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


def _replacement(menu: Menu, old: CartLine, new: ParseResult, s: Speaker) -> list[dict[str, Any]] | None:
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
            fields = adding.build_line(menu, item, tuple(options), line.excluded, list(line.notes), s)
        except adding.LineProblem:
            return None
        quantity = line.quantity if (_explicit_quantity(line) or len(new.lines) > 1) else old.quantity
        out.append({"fields": fields, "quantity": quantity})
    return out


def _completed(menu: Menu, words: str, line: CartLine) -> ParseResult | None:
    """Another item named by `words` said with `line`'s name: before it ("diet" → "diet coke")
    or after it, as Spanish says them ("light" → "Coca-Cola Light"); None when there is none."""
    for said in (f"{words} {line.name}", f"{line.name} {words}"):
        parsed = order_of(menu, said)
        if parsed is not None and parsed.lines and parsed.lines[0].item != line.item_code:
            return parsed
    return None


async def _replace(
    turn: Turn, act: Act, lines: list[CartLine], pool: list[CartLine], focus: list[int], touched: list[int]
) -> list[str] | None:
    assert act.target is not None
    menu = turn.store.menu
    s = turn.speaker
    if act.new is None:
        # "change them to diet": the words complete each line's name ("diet coke")
        completed = [
            (line, parsed) for line in pool if (parsed := _completed(menu, act.subject, line)) is not None
        ]
        if not completed or len(completed) != len(pool) or (len(pool) > 1 and not act.target.plural):
            return None
        return [
            await operations.run(turn, {"op": "replace", "line": line.id, "add": add}, touched)
            for line, parsed in completed
            if (add := _replacement(menu, line, parsed, s))
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
        named = act.target.items or act.target.options or act.target.without
        if named and act.target.number is None and new.lines and not new.ambiguous:

            def whole(line: CartLine) -> dict[str, Any] | None:
                add = _replacement(menu, line, new, s)
                return {"op": "replace", "line": line.id, "add": add} if add else None

            return _ask_not_found(turn, act, lines, whole, s._("Which one should I replace?"))
        return (
            _not_found(act.target, lines, s, turn.inbound.text)
            if act.target.items or act.target.number
            else None
        )
    if new.ambiguous and not new.lines:
        amb = new.ambiguous[0]
        old = pool[0] if len(pool) == 1 else None
        if old is None:
            raise _Ask(
                s._(
                    'Which line should I replace with "{phrase}", and with which one? '
                    "For example *replace 2 with a veggie*.",
                    phrase=echo(amb.phrase),
                )
            )
        options = []
        for code in amb.candidates:
            fields_list = _replacement(
                menu,
                old,
                ParseResult(lines=(OrderLine(code, amb.quantity, amb.options, amb.excluded, amb.notes),)),
                s,
            )
            if fields_list:
                options.append(
                    {
                        "label": adding.describe(fields_list[0]["fields"], s),
                        "op": {"op": "replace", "line": old.id, "add": fields_list},
                    }
                )
        if not options:
            return None
        prompt = s._("What should replace {item}?", item=old.name)
        turn.state["choice"] = {"prompt": prompt, "options": options}
        listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
        raise _Ask(f"{prompt}\n{listed}\n{s._(_REPLY_NUMBER)}")

    units = act.quantity or act.target.count

    def op(line: CartLine) -> dict[str, Any] | None:
        add = _replacement(menu, line, new, s)
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

    chosen = _one(turn, act, pool, op, s._("Which one should I replace?"), plural_ok=not units)
    out = []
    for line in chosen:
        built = op(line)
        if built is None:
            return None
        out.append(await operations.run(turn, built, touched))
    return out


async def _exchange(
    turn: Turn, act: Act, lines: list[CartLine], pool: list[CartLine], touched: list[int]
) -> list[str]:
    """ "swap the crusts": the two lines (being talked about, else of the cart) that offer the
    group trade their choices in it; anything but two lines that differ in it is asked about."""
    menu = turn.store.menu
    s = turn.speaker
    group = menu.group(act.exchange)

    def choice(line: CartLine) -> str | None:
        item = menu.item(line.item_code)
        if group is None or item is None or group.code not in item.option_groups:
            return None
        said = [str(o["option"]) for o in line.options if o["group"] == group.code]
        return said[0] if said else group.default

    pair = [line for line in pool if choice(line) is not None]
    if len(pair) != 2:
        pair = [line for line in lines if choice(line) is not None]
    ops = []
    if len(pair) == 2 and choice(pair[0]) != choice(pair[1]):
        for line, other in (pair, pair[::-1]):
            traded = Modifiers(options=(ChosenOption(act.exchange, str(choice(other)), None),))
            fields = adding.modified_fields(menu, line, traded, [], s)
            if fields is not None:
                ops.append({"op": "change", "line": line.id, "fields": fields})
    if len(ops) != 2:
        turn.kind = "ask"
        raise _Ask(
            s._(
                "What would you like to change? For example *remove 2*, *make the coke large*, "
                "*2 margherita not 3* or *swap the coke for a sprite*."
            ),
            with_cart=True,
        )
    return [await operations.run(turn, op, touched) for op in ops]


async def _change(
    turn: Turn, act: Act, lines: list[CartLine], pool: list[CartLine], touched: list[int]
) -> list[str] | None:
    assert act.target is not None and act.modifiers is not None
    menu = turn.store.menu
    s = turn.speaker
    units = act.quantity or act.target.count
    mods = act.modifiers
    chosen_now = {(o.group, o.option) for o in mods.options}
    if any((o.group, o.option) in chosen_now for o in mods.excluded):
        # "not extra cheese, double cheese": the option stays, with the amount said now
        mods = replace(
            mods, excluded=tuple(o for o in mods.excluded if (o.group, o.option) not in chosen_now)
        )
    for group in dict.fromkeys(o.group for o in mods.excluded):
        left_out = [o for o in mods.excluded if o.group == group]
        kind = g.kind if (g := menu.group(group)) is not None else ""
        if kind == "single" and len(left_out) > 1 and not any(o.group == group for o in mods.options):
            # "not thin, thick crust": of two choices of one group, the last said is meant instead
            mods = replace(
                mods,
                options=(*mods.options, left_out[-1]),
                excluded=tuple(o for o in mods.excluded if o != left_out[-1]),
            )
    remarks: list[str] = []

    def op(line: CartLine) -> dict[str, Any] | None:
        fields = adding.modified_fields(menu, line, mods, [], s)
        if fields is None:
            return None
        if units and units < line.quantity:
            return {"op": "split", "line": line.id, "fields": fields, "units": units}
        return {"op": "change", "line": line.id, "fields": fields}

    sizes = [o for o in mods.excluded if (g := menu.group(o.group)) is not None and g.kind == "single"]
    if sizes and len(sizes) == len(mods.excluded) and not mods.options and _bare_pointer(act.target):
        # "remove the xl", "lose the can one", "no 2 liter" beside lines of one item that differ
        # by it: the option names the line; taken out with a word of removing, else asked
        having = [line for line in lines if _has_options(line, tuple(sizes), menu)]
        items = {line.item_code for line in having}
        if having and any(line.item_code in items and line not in having for line in lines):
            removals: list[dict[str, Any]] = [
                {
                    "label": s._("Remove {line}", line=describe_line(line, s)),
                    "op": {"op": "remove", "line": line.id},
                }
                for line in having
            ]
            if _REMOVING.search(act.words) and len(removals) == 1:
                return [await operations.run(turn, removals[0]["op"], touched)]
            turn.kind = "ask"
            turn.state["choice"] = {"prompt": s._("Which do you mean?"), "options": removals}
            listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(removals, 1))
            raise _Ask(f"{turn.state['choice']['prompt']}\n{listed}\n{s._(_REPLY_NUMBER)}")

    if not pool:
        return _ask_not_found(turn, act, lines, op, s._("Which one should I change?"))

    target = act.target
    single = any((g := menu.group(o.group)) is not None and g.kind == "single" for o in mods.options)
    bare = (
        target.pointer
        and not (target.items or target.options or target.without or target.other)
        and target.number is None
        and target.ordinal is None
        and not set(target.said.split()) & _POINTER_WORDS
    )
    if bare and mods.excluded and not mods.options and not units:
        # "take off the olives", "no garlic": the lines that have it, chosen or in the dish
        # as it comes; two of them are asked about, never guessed
        having = [line for line in lines if _has_ingredient(menu, line, mods) and op(line) is not None]
        named = [line for line in lines if line not in having and _names_option(menu, line, mods)]
        if named and having:
            # "no garlic" with a Margherita with garlic and a Garlic Bread: the topping, or the
            # garlic bread? (as "no pepperoni" with a Pepperoni pizza)
            said = echo(own_words(turn.inbound.text, target.said))
            options: list[dict[str, Any]] = [
                {
                    "label": s._("Remove {line}", line=describe_line(line, s)),
                    "op": {"op": "remove", "line": line.id},
                }
                for line in named
            ]
            for line in having:
                built = op(line)
                if built is not None:
                    label = s._("Keep it, but make it {item} (no {option})", item=line.name, option=said)
                    options.append({"label": label, "op": built})
            turn.state["choice"] = {
                "prompt": s._('What did you mean by "no {option}"?', option=said),
                "options": options,
            }
            listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
            raise _Ask(f"{turn.state['choice']['prompt']}\n{listed}\n{s._(_REPLY_NUMBER)}")
        if len(having) > 1:
            _one(turn, act, having, op, s._("Which one should I change?"))
        # "no ham" after a Hawaiian and a Pepperoni: the one of them whose dish has ham as it
        # comes; never an option chosen ("no cheese" may be the cheese on the garlic bread or
        # the pizza's) nor a choice of one ("no cans")
        talked = [line for line in having if line in pool]
        toppings = all((g := menu.group(o.group)) is not None and g.kind == "multiple" for o in mods.excluded)
        picked = {str(o["option"]) for line in pool for o in line.options}
        if (
            len(talked) == 1
            and not named
            and toppings
            and not picked & {o.option for o in mods.excluded}
            and _has_ingredient(menu, replace(talked[0], options=[]), mods)
        ):
            pool = talked
        talked_about = [line for line in pool if line not in having and op(line) is not None]
        if len(having) == 1 and talked_about:
            # "no cheese" after a margherita, with a garlic bread with cheese in the cart: the
            # cheese the garlic bread has, or the margherita's? asked, never guessed
            _one(turn, act, [*having, *talked_about], op, s._("Which one should I change?"))
    if (
        target.pointer
        and target.said.split()[-1:] in (["them"], ["those"], ["these"], ["they"])
        and not target.items
        and single
    ):
        # "make them large" after pizzas and drinks: which of them? (never every kind at once)
        kinds = {i.category for line in pool if (i := menu.item(line.item_code)) and op(line) is not None}
        if len(kinds) > 1:
            _which_one(turn, act, pool, op)
    if (
        target.pointer
        and not target.plural
        and not target.items
        and len(pool) > 1
        and (single or target.count)
    ):
        # "make it large" after "a coke and a water": which one is "it"? Ask, change nothing.
        turn.kind = "ask"
        able = [line for line in pool if op(line) is not None]
        if len(able) > 1:
            _which_one(turn, act, able, op)  # each line shown with what tells it from the others
        names = s.list(told_apart(pool, s), style="or")
        raise _Ask(
            s._(
                "Which one do you mean: {names}? For example *make the {item} {change}*.",
                names=names,
                item=pool[0].name.lower(),
                change=_said(mods, s),
            )
        )
    if target.pointer and target.count and not target.plural and sum(line.quantity for line in pool) > 1:
        turn.kind = "ask"
        ask = s._(
            "Which one should be {change}? Name it, e.g. *make the {item} {change}*, "
            "or use its number in the cart.",
            change=_said(mods, s),
            item=pool[0].name.lower(),
        )
        raise _Ask(ask, with_cart=True)
    if act.subject == "or-add" and len(pool) == 1 and op(pool[0]) is not None:
        # "pepperoni thin crust" with a Pepperoni in the cart: that one, or another?
        line = pool[0]
        changed = op(line)
        item = menu.item(line.item_code)
        try:
            fields = adding.build_line(menu, item, mods.options, mods.excluded, [], s) if item else None
        except adding.LineProblem:
            fields = None
        options = [{"label": s._("Change my {line}", line=describe_line(line, s)), "op": changed}]
        if fields is not None:
            label = s._("Add another: {line}", line=adding.describe(fields, s))
            options.append({"label": label, "op": {"op": "add", "add": [{"fields": fields, "quantity": 1}]}})
        turn.state["choice"] = {"prompt": s._("Which do you mean?"), "options": options}
        listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
        raise _Ask(s._("Which do you mean?") + "\n" + listed + "\n" + s._("Reply with the number."))
    if _one_or_all(turn, act, pool):
        # "a la pepperoni ponle extra queso" with 2 x Pepperoni on one line: "la" may be one
        # of them or the line; asked, never guessed
        line = pool[0]
        fields = adding.modified_fields(menu, line, mods, [], s)
        if fields is not None:
            options = [
                {"label": s._("Change my {line}", line=describe_line(line, s)),
                 "op": {"op": "change", "line": line.id, "fields": fields}},
                {"label": s._("Change my {line}", line=describe_line(replace(line, quantity=1), s)),
                 "op": {"op": "split", "line": line.id, "fields": fields, "units": 1}},
            ]  # fmt: skip
            turn.kind = "ask"
            turn.state["choice"] = {"prompt": s._("Which do you mean?"), "options": options}
            listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
            raise _Ask(s._("Which do you mean?") + "\n" + listed + "\n" + s._("Reply with the number."))
    able = [line for line in pool if op(line) is not None]
    if not able and target.pointer and not target.items:
        # "one of them thin crust" after "2 margheritas" then "2 cokes": only the pizzas can
        # take it, so the line meant is the one line in the cart that can
        able = [line for line in lines if op(line) is not None]
        if len(able) != 1:
            able = []
    if not able:
        for line in pool[:1]:
            adding.modified_fields(menu, line, mods, remarks, s)
        return remarks or [s._("{line} already has that.", line=describe_line(pool[0], s))]
    chosen = _one(turn, act, able, op, s._("Which one should I change?"), plural_ok=not units)
    out = []
    for line in chosen:
        built = op(line)
        if built is not None:
            out.append(await operations.run(turn, built, touched))
    return out


# Words that take a line out ("remove the xl", "lose the can one", "take the 2 liter out").
_REMOVING = re.compile(r"\b(?:remove|lose|drop|delete|take|get rid|cancel|scrap|ditch|out|off)\b")


def _bare_pointer(target: Target) -> bool:
    """Whether `target` only points ("it", the line talked about), naming no line itself."""
    return (
        target.pointer
        and not (target.items or target.options or target.without or target.other or target.size_rank)
        and target.number is None
        and target.ordinal is None
    )


def _which_one(turn: Turn, act: Act, lines: list[CartLine], make: Any) -> None:
    """Ask which one of `lines` a change of a plural or pointing target means (a numbered
    choice, each option the operation `make(line)` builds)."""
    assert act.target is not None
    _one(turn, replace(act, target=replace(act.target, plural=False)), lines, make,
         turn.speaker._("Which one should I change?"))  # fmt: skip


def _one_or_all(turn: Turn, act: Act, pool: list[CartLine]) -> bool:
    """Whether a change names one line of several units with a singular article, in a
    language whose singular names one unit ("a la pepperoni" after "2 pepperoni")."""
    target = act.target
    return (
        turn.speaker.locale in _SINGULAR_NAMES_ONE
        and target is not None
        and bool(target.items)
        and not (target.plural or target.count or target.each or target.pointer or target.other)
        and target.number is None
        and target.ordinal is None
        and not act.quantity
        and len(pool) == 1
        and pool[0].quantity > 1
        and target.said.split()[:1] == ["the"]
    )


def _said(mods: Modifiers, s: Speaker) -> str:
    """The words of `mods` as the customer said them (for an example in a question)."""
    return mods.text or s._("that")


# -- answers to what the bot asked ----------------------------------------------------


async def answer_choice(turn: Turn, number: int | None, *, yes: bool = False, no: bool = False) -> str | None:
    """The answer to a pending numbered choice (`state["choice"]`): a number in range applies
    that option, then what the rest of the message held (`held`); "yes" applies the only
    option; "no" drops the choice. Returns None when the message is no answer (the choice is
    dropped and the message read as anything else)."""
    choice = turn.state.get("choice")
    if not isinstance(choice, dict):
        return None
    options: list[dict[str, Any]] = list(choice.get("options") or [])
    if no:
        turn.state.pop("choice", None)
        await turn.save_state()
        turn.kind = "dropped"
        lines = await carts.load_cart(turn.conn, turn.customer_id)
        kept = turn.speaker._("OK, I left your cart as it was. 👍")
        return kept + ("\n\n" + render_cart(lines, turn.speaker) if lines else "")
    if len(options) == 1 and _offers_one_add(options[0]):
        said = _yes_count(turn.inbound.text)
        if said == "unread":
            return await _ask_choice_again(turn, options)
        if said is not None:
            yes, options = True, [_with_quantity(options[0], said)]
    if yes and len(options) == 1:
        number = 1
    if number is None and not yes:
        number = await _named_option(turn, options)
    if number is None and not yes:
        number = await _removed_old(turn, options)
    if number is None:
        turn.state.pop("choice", None)
        await turn.save_state()
        return None
    if not 1 <= number <= len(options):
        turn.kind = "ask"
        listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
        ask = turn.speaker._("Please reply with a number from 1 to {most}.", most=len(options))
        return f"{ask}\n{choice.get('prompt', '')}\n{listed}"
    touched: list[int] = []
    said = await operations.run(turn, options[number - 1]["op"], touched)
    # what the rest of the message asked for, held until this answer
    held = await operations.run_held(turn, list(choice.get("held") or []), touched)
    return await _changed(turn, [said, *held], touched, [])


def named_candidate(turn: Turn) -> tuple[int, OrderLine] | None:
    """The answer to a pending "did you mean" question given by name rather than number
    ("pepperoni", "the hawaiian please", "2 pepperoni large"): the candidate's number and the
    line as said; None when the message says anything else."""
    question = turn.state.get("question")
    if not isinstance(question, dict):
        return None
    parsed = adding.parse(turn.store.menu, turn.inbound.text)
    if len(parsed.lines) != 1 or parsed.ambiguous or parsed.unmatched or parsed.bad_quantities:
        return None
    if parsed.modifiers is not None:
        return None
    line = parsed.lines[0]
    candidates: list[str] = list(question.get("candidates") or [])
    return (candidates.index(line.item) + 1, line) if line.item in candidates else None


async def answer_question(turn: Turn, number: int, said: OrderLine | None = None) -> str:
    """Resolve the pending "did you mean" question (`state["question"]`) with the customer's
    `number` (1-based), or the candidate they named (`said`, with the options and quantity said
    with it): the item chosen is added with what was said with it, then what the rest of the
    message held until this answer (`held`); the next question, if any, is asked."""
    menu = turn.store.menu
    s = turn.speaker
    state = turn.state
    question: dict[str, Any] = state["question"]
    candidates: list[str] = question["candidates"]
    if not 1 <= number <= len(candidates):
        ask = s._("Please reply with a number from 1 to {most}.", most=len(candidates))
        return ask + "\n\n" + adding.question_text(menu, question, s)
    item = menu.item(candidates[number - 1])
    remarks: list[str] = []
    added: list[str] = []
    touched: list[int] = []
    if item is not None:
        notes = list(question.get("notes", [])) + [
            s._("no {option}", option=u) for u in question.get("unknown", [])
        ]
        options = adding.chosen_from_json(question.get("options", []))
        excluded = adding.chosen_from_json(question.get("excluded", []))
        quantity = int(question.get("quantity", 1))
        if said is not None:
            # "pepperoni large": what the answer says wins over what the question kept
            groups = {o.group for o in said.options}
            options = (*(o for o in options if o.group not in groups), *said.options)
            excluded = (*excluded, *said.excluded)
            quantity = said.quantity if _explicit_quantity(said) or said.quantity > 1 else quantity
        try:
            fields = adding.build_line(menu, item, options, excluded, notes, s)
            line = await adding.add_line(turn, fields, quantity, remarks, touched)
            if line is not None:
                added.append(line)
        except adding.LineProblem as problem:
            remarks.append(str(problem))
    remarks.extend(await operations.run_held(turn, list(question.get("held") or []), touched))
    if touched:
        adding.focus(turn, touched)
    queue: list[dict[str, Any]] = list(state.get("questions", []))
    state.pop("question", None)
    state.pop("questions", None)
    if added or touched:
        state.pop("checkout", None)
    if queue:
        state["question"], state["questions"] = queue[0], queue[1:]
    await turn.save_state()
    parts = ([adding.added_text(added, s)] if added else []) + remarks
    if queue:
        turn.kind = "ask"
        parts.append(adding.question_text(menu, queue[0], s))
    else:
        lines = await carts.load_cart(turn.conn, turn.customer_id)
        hint = s._(CHECKOUT_HINT)
        parts.append(render_cart(lines, s, room(*parts, hint)) + "\n\n" + hint)
    return "\n\n".join(parts)


def _offers_one_add(option: dict[str, Any]) -> bool:
    """Whether a choice's `option` adds one line ("Add 2 x Hawaiian")."""
    op = option.get("op") or {}
    return op.get("op") == "add" and len(op.get("add") or []) == 1


def _yes_count(text: str) -> int | str | None:
    """What a yes to an offer to add says of its count: the count said with it ("sí, pero solo
    una" is 1, "yes make it 3" is 3), 0 for a plain yes ("yes please"), "unread" for a yes with
    words the bot cannot read ("yes, the big one", "yes, 1 or 2") or a count that may be the
    option's number ("yes, 1"); None when `text` is no yes."""
    words = [w for w in tokenize(text) if any(c.isalnum() for c in w)]
    if not words or words[0] not in _YES_WORDS:
        return None
    if words[1:] == ["1"]:
        return "unread"  # "yes, 1": the option numbered 1, or one of it
    counts: list[int] = []
    for word in words[1:]:
        if word.isdigit():
            counts.append(int(word))
        elif word in _COUNT_WORDS:
            counts.append(_COUNT_WORDS[word])
        elif word not in _YES_WORDS and word not in _WITH_YES:
            return "unread"
    if len(counts) > 1 or (counts and not 1 <= counts[0] <= MAX_QUANTITY):
        return "unread"
    return counts[0] if counts else 0


def _with_quantity(option: dict[str, Any], count: int | str) -> dict[str, Any]:
    """The add `option` with the `count` said (0: as offered)."""
    if not isinstance(count, int) or count == 0:
        return option
    changed = copy.deepcopy(option)
    changed["op"]["add"][0]["quantity"] = count
    return changed


async def _ask_choice_again(turn: Turn, options: list[dict[str, Any]]) -> str:
    """The pending one-option offer asked again, as a yes said with words not read leaves it."""
    s = turn.speaker
    turn.kind = "ask"
    turn.state["asked"] = True
    await turn.save_state()
    listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
    ask = s._(
        "Sorry, I'm not sure what to add. Reply *yes* to add this, or tell me how many, like *yes, just 1*:"
    )
    return f"{ask}\n{listed}"


async def _named_option(turn: Turn, options: list[dict[str, Any]]) -> int | None:
    """The option of a numbered choice the message names by its line's item alone ("the
    pepperoni" to "which one should I remove? 1. Margherita 2. Pepperoni"); None when it says
    anything else or names several options."""
    parsed = adding.parse(turn.store.menu, turn.inbound.text)
    if len(parsed.lines) != 1 or parsed.ambiguous or parsed.unmatched or parsed.bad_quantities:
        return None
    if parsed.modifiers is not None or parsed.lines[0].options or _explicit_quantity(parsed.lines[0]):
        return None
    items = {line.id: line.item_code for line in await carts.load_cart(turn.conn, turn.customer_id)}
    named = [
        number
        for number, option in enumerate(options, 1)
        if "line" in option["op"] and items.get(int(option["op"]["line"])) == parsed.lines[0].item
    ]
    return named[0] if len(named) == 1 else None


async def _removed_old(turn: Turn, options: list[dict[str, Any]]) -> int | None:
    """ "remove the thin one" to "1. Change my Margherita (Thin crust) 2. Add another:
    Margherita (Stuffed crust)": the line to change is named by an option it has and taken
    off, so the new one is meant in its place (the change); None for anything else."""
    if len(options) != 2 or options[1]["op"].get("op") != "add" or "line" not in options[0]["op"]:
        return None
    menu, text = english_reading(turn.store.menu, turn.inbound.text)
    acts = read_acts(menu, text, phrases_for(language_of(turn)))
    if len(acts) != 1 or acts[0].kind != "remove" or acts[0].target is None or acts[0].quantity is not None:
        return None
    target = acts[0].target
    if not (target.options or target.without) or target.plural or target.number is not None:
        return None
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    meant = resolve(target, lines, list(turn.state.get("focus") or []), turn.store.menu)
    return 1 if [line.id for line in meant] == [int(options[0]["op"]["line"])] else None


NOT_PLACED_CLEAR = _("You haven't placed an order yet. Do you want me to empty your cart?")
CLEAR = _("Do you want me to empty your cart?")


async def ask_to_clear(turn: Turn, asked: str = NOT_PLACED_CLEAR) -> str:
    """ "cancel" with a cart and no order, or "clear": ask before emptying the cart. `asked` is
    the question (English, as marked for the catalogs: NOT_PLACED_CLEAR or CLEAR)."""
    s = turn.speaker
    turn.state["choice"] = {
        "prompt": s._("Empty your cart?"),
        "options": [{"label": s._("Empty my cart"), "op": {"op": "clear"}}],
    }
    await turn.save_state()
    turn.kind = "confirm-empty-cart"
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    reply = s._("Reply *yes* to empty it, or *no* to keep it.")
    return f"{s._(asked)}\n\n" + render_cart(lines, s) + f"\n\n{reply}"


def _add_option(menu: Menu, line: OrderLine, s: Speaker) -> dict[str, Any] | None:
    """A numbered choice's "Add 1 x Hawaiian (…)" option for a parsed `line`; None when its item
    is not on the menu or the line cannot be built."""
    item = menu.item(line.item)
    if item is None:
        return None
    try:
        fields = adding.build_line(menu, item, line.options, line.excluded, list(line.notes), s)
    except adding.LineProblem:
        return None
    add = {"fields": fields, "quantity": line.quantity}
    label = s._("Add {line}", line=f"{line.quantity} x {adding.describe(fields, s)}")
    return {"label": label, "op": {"op": "add", "add": [add]}}
