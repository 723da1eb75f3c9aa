"""The conversation: from one inbound message to the replies it deserves.

`respond(turn)` returns `(replies, outcome)` where `outcome` is recorded with the inbox row:

| outcome      | when                                        | replies                         |
|--------------|---------------------------------------------|---------------------------------|
| `opted_out`  | STOP, or any message of an opted-out customer | one confirmation for STOP     |
| `throttled`  | ingress flagged it (`_throttled`)           | one "slow down" for `first`     |
| `human_mode` | staff have taken over the conversation      | none                            |
| `handled`    | everything else                             | at least one                    |

The order of checks is deliberate: STOP and START are honoured whatever else is going on
(an opt-out must never be lost to a rate limit or a handoff); an opted-out customer gets
nothing; then throttling; then the handoff. It only reads and writes through `turn.conn`,
inside the transaction that recorded the message. Whatever the text, the customer gets a
sensible reply: an unexpected error in the conversation rolls back to a savepoint and is
answered with an apology, while database outages still propagate so the message is retried.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import psycopg

from libs.errors import RetryableError
from services.orders.conversation import adding, checkout, dialogue, languages, placed_orders, portions, texts
from services.orders.conversation.cart import is_expired, render_cart, room
from services.orders.conversation.commands import KINDS, Command, Kind, classify, normalize
from services.orders.conversation.turn import Turn
from services.orders.language import mark as _
from services.orders.menu.catalog import Item, Menu
from services.orders.ordering import lifecycle
from services.orders.storage import carts, customers
from services.orders.storage.outbox import ReplyText
from services.orders.understanding.acts import Phrases, said_last
from services.orders.understanding.menu_index import tokenize
from services.orders.understanding.parser import ParseResult, english_reading, unread_words
from services.orders.understanding.phrases import phrases_for

log = logging.getLogger("services.orders.conversation")

# Message types a customer can send that carry something we read (text, taps, a location pin).
_READABLE_TYPES = frozenset({"text", "button", "interactive", "location"})
# Emoji that say thanks or joy: acknowledged. Others (🍕) are asked about like any unclear text.
_THANKS_EMOJI = frozenset("🙏👍❤️💛💙💚🧡💜🖤🤍😊🙂😀😃😄😁😍🥰😘🤩🔥🙌👌💯✅👏🤗☺🎉🥳😋🤤")
# A yes or a no to a question the bot asked, however it is worded ("ya go ahead", "nope keep it").
_YES = re.compile(
    r"^(?:yes|yeah|yea|ya|yh|yep|yup|yess+|sure|ok|okay|go ahead|do it|please do|pls do|correct|confirm|"
    r"confirmed|definitely|absolutely|right|thats right|that s right|empty it|clear it|cancel it|"
    r"yes please)\b"
)
_NO = re.compile(r"^(?:no|nope|nah|dont|do not|keep it|leave it|never ?mind|nvm|not really|no thanks)\b")
# Commands whose words the dialogue layer reads first: a correction ("remove the last
# pepperoni"), a question ("what is your address", "how long"), a reference ("change it to 2").
_READ_AS_ACTS = frozenset(
    {"text", "remove", "change", "info", "info_or_text", "menu_of", "status", "no", "number"}
)
# Commands that only show something: a pending "did you mean" question survives them.
_READ_ONLY = frozenset({"menu", "menu_of", "info", "cart", "help", "status", "thanks", "greeting"})
# A question about the menu rather than an order: "is the salad vegan", "does the veggie have
# onions?", "how much is a calzone". Requests phrased as questions ("can I get a coke?") are
# orders, and so is anything with a quantity ("2 cokes?").
_QUESTION_START = re.compile(
    r"^(?:is|isnt|are|arent|does|doesnt|do|dont|did|was|were|has|have|what|whats|which|how|hows|"
    r"why|where|when|who|can|could|will|would)\b"
)
_REQUEST = re.compile(
    r"\b(?:can|could|may|will|would)\s+(?:i|we|you|u|ya)\s+(?:please\s+|also\s+|just\s+)*"
    r"(?:get|have|order|add|take|grab|bring|send|make|put|give|do|try)\b"
    r"|\b(?:i|we|id|wed|ill)\s+(?:would\s+|will\s+|also\s+|just\s+)*(?:like|want|wanna|need|take|have|get|"
    r"order)\b"
    r"|\b(?:give|get|bring|send|do)\s+(?:me|us)\b|\b(?:add|order)\b"
)
# Saying what one eats ("I'm vegan", "we are vegetarian"): never an item, even where a word
# of it is one ("vegetarian" is the Veggie pizza); cut out before the rest is read.
_DIET_SELF = re.compile(
    r"\b(?:i|im|i am|we|were|we are)\s+(?:a\s+|all\s+|strictly\s+|strict\s+)?"
    r"(?:vegan|vegans|vegetarian|vegetarians|pescatarian|halal|kosher|diabetic)\b"
    # Spanish and Portuguese: "soy vegetariana", "somos veganos", "sou vegano", "sou celíaco"
    r"|\b(?:soy|somos|sou)\s+(?:muy\s+|bem\s+|estrictamente\s+)?"
    r"(?:vegan[oa]s?|vegetarian[oa]s?|cel[ií]ac[oa]s?|diab[ée]tic[oa]s?|pescetarian[oa]s?)\b"
)
# An allergy or a diet ("I'm allergic to nuts", "we are vegetarian", "gluten free please").
_DIET = re.compile(
    r"\b(?:allerg\w*|intoleran\w*|coeliac|celiac|anaphyla\w*|al[ée]rgic\w*|alergia\w*)\b"
    r"|\b(?:gluten|dairy|lactose|nut|nuts|peanut|egg|soy|sesame|meat)\s*free\b|" + _DIET_SELF.pattern
)
# A question about what is in a dish: answered with its details and who to ask.
_DIET_WORDS = re.compile(
    r"\b(?:vegan|vegetarian|gluten|dairy|lactose|nuts?|peanuts?|allerg\w*|halal|kosher|"
    r"contains?|ingredients?|meat|egg|eggs)\b"
)
# ... unless the customer is plainly changing a line ("make it gluten free crust").
_LINE_CHANGE = re.compile(r"\b(?:crust|base|make|change|swap|switch)\b")
DIET_ADVICE = texts.DIET_ADVICE
SORRY = _(
    "Sorry, something went wrong on our side. 🙏 Please try again, or send *agent* to talk to our team."
)


async def respond(turn: Turn) -> tuple[list[ReplyText], str]:
    """Decide the replies to `turn.inbound`; see the module docstring."""
    inbound = turn.inbound
    asked_language = await languages.choose(turn)
    meant = said_last(turn.store.menu, inbound.body) if inbound.text == inbound.body else None
    if meant is not None:
        # "2 pepperoni no wait 3", "a coke, sorry, a diet coke": read as what was finally meant
        inbound = turn.inbound = dataclasses.replace(inbound, body=meant)
    command = classify(inbound.text) if inbound.text.strip() else Command("empty")
    customer = turn.customer
    if command.kind == "stop":
        return await _opt_out(turn), "opted_out"
    if command.kind == "start" and customer.get("opted_out"):
        return await _opt_in(turn), "handled"
    if customer.get("opted_out"):
        return [], "opted_out"
    if inbound.throttled:
        return (
            [ReplyText(turn.speaker._(texts.THROTTLED), purpose="throttle")]
            if inbound.throttled == "first"
            else []
        ), "throttled"
    if customer.get("mode") == "human":
        return [], "human_mode"
    if asked_language is not None:
        return [ReplyText(asked_language)], "handled"
    if turn.guarded:
        try:
            async with carts.savepoint(turn.conn):  # a bug undoes only this message's changes
                body = await converse(turn, command)
        except (psycopg.OperationalError, RetryableError):
            raise
        except Exception:
            log.exception("conversation failed", extra={"message_sid": inbound.message_sid})
            body = turn.speaker._(SORRY)
            turn.kind = "reply"
    else:
        body = await converse(turn, command)  # a failure is raised: the caller isolates it
    purpose = "reply" if turn.kind == "reply" else f"reply:{turn.kind}"
    return [ReplyText(body, purpose=purpose)], "handled"


async def _opt_out(turn: Turn) -> list[ReplyText]:
    await customers.opt_out(turn.conn, turn.customer_id, turn.now)
    if turn.customer.get("opted_out"):
        return []  # already out: the one confirmation was sent the first time
    return [ReplyText(turn.speaker._(texts.STOPPED), purpose="opt_out")]


async def _opt_in(turn: Turn) -> list[ReplyText]:
    await customers.opt_in(turn.conn, turn.customer_id)
    welcome = turn.speaker._("✅ You're subscribed again.") + "\n\n" + _greet(turn)
    return [ReplyText(welcome)]


async def _expire_cart(turn: Turn) -> str:
    """Empty a cart idle for longer than CART_TTL_SECONDS; returns the note for the customer."""
    if not is_expired(turn.customer.get("cart_updated_at"), turn.now, turn.cart_ttl):
        return ""
    removed = await carts.clear_cart(turn.conn, turn.customer_id)
    await customers.set_cart_updated_at(turn.conn, turn.customer_id, None)
    turn.customer["cart_updated_at"] = None
    for key in ("checkout", "choice", "question", "questions", "note"):
        turn.state.pop(key, None)
    await turn.save_state()
    if not removed:
        return ""
    s = turn.speaker
    hours_idle = max(1, round(turn.cart_ttl.total_seconds() / 3600))
    span = s.n_("{n} hour", "{n} hours", hours_idle)
    if turn.cart_ttl.total_seconds() < 3600:
        span = s.n_("{n} minute", "{n} minutes", max(1, round(turn.cart_ttl.total_seconds() / 60)))
    return s._("⏳ Your previous cart expired after {span} without activity, so I emptied it.", span=span)


async def converse(turn: Turn, command: Command) -> str:
    """The reply to a message from a customer the bot is talking to."""
    note = await _expire_cart(turn)
    body = await _dispatch(turn, command)
    return f"{note}\n\n{body}" if note else body


async def _dispatch(turn: Turn, command: Command) -> str:
    inbound = turn.inbound
    if "topic" in turn.state:
        # what the previous message asked about; said once, it holds for this message only
        turn.last_topic = str(turn.state.pop("topic"))
        await turn.save_state()
    if inbound.num_media > 0:
        return turn.speaker._(texts.MEDIA)
    if inbound.has_location:
        return await _location(turn)
    if (
        inbound.message_type
        and inbound.message_type.lower() not in _READABLE_TYPES
        and not inbound.body.strip()
    ):
        return turn.speaker._(texts.UNSUPPORTED)
    state = turn.state
    # the bot was waiting for an answer this message may not give: "never mind" drops it
    pending = bool(
        state.pop("asked", None)
        or state.get("choice")
        or state.get("question")
        or (state.get("checkout") or {}).get("step")
    )
    if "choice" in state:
        key = normalize(inbound.text)
        # "sí, bórralo", "sip": the language's own words read as English ("yes , remove it")
        reading = " ".join(tokenize(english_reading(turn.store.menu, inbound.text)[1]))
        reply = await dialogue.answer_choice(
            turn,
            command.number if command.kind == "number" else None,
            yes=command.kind == "yes" or bool(_YES.match(key) or _YES.match(reading)) or "👍" in inbound.text,
            no=command.kind in ("no", "cancel") or bool(_NO.match(key)),
        )
        if reply is not None:
            return reply
    if "question" in state:
        if command.kind == "number" and command.number is not None:
            return await dialogue.answer_question(turn, command.number)
        named = dialogue.named_candidate(turn) if command.kind == "text" else None
        if named is not None:
            # "pepperoni" to "which pizza?": the answer by name, with what the message held
            return await dialogue.answer_question(turn, *named)
        if command.kind not in _READ_ONLY:
            state.pop("question", None)
            state.pop("questions", None)
            await turn.save_state()
    step = (state.get("checkout") or {}).get("step")
    if step:
        reply = await _checkout_step(turn, str(step), command)
        if reply is not None:
            return reply
    if command.kind in _READ_AS_ACTS:
        reply = await dialogue.respond(
            turn, pending=pending, free_text=command.kind in ("text", "info_or_text")
        )
        if reply is not None:
            return reply
    return await _command(turn, command)


async def _location(turn: Turn) -> str:
    step = (turn.state.get("checkout") or {}).get("step")
    if not checkout.valid_location(turn):
        # Neither used nor saved: a pin like "nan, inf" must never become a delivery address.
        return turn.speaker._(checkout.BAD_LOCATION)
    address, location = checkout.location_of(turn)
    if step in ("address", "confirm") or (
        step == "fulfilment" and (await carts.load_cart(turn.conn, turn.customer_id))
    ):
        return await checkout.set_address(turn, address, location)
    await customers.save_address(turn.conn, turn.customer_id, address, location)
    turn.customer["saved_address"] = address
    s = turn.speaker
    return (
        s._("📍 Thanks! I saved this location for delivery: {address}", address=address)
        + "\n"
        + s._("When you check out, reply *same address* to use it.")
        + " "
        + s._(texts.ORDER_HINT)
    )


async def _checkout_step(turn: Turn, step: str, command: Command) -> str | None:
    """Handle an answer to the current checkout step, or None to treat it as anything else."""
    kind = command.kind
    if kind == "cancel" and step == "confirm":
        # the summary says *cancel* drops the order: nothing is placed and the cart is emptied
        await carts.clear_cart(turn.conn, turn.customer_id)
        turn.state.pop("checkout", None)
        await turn.save_state()
        turn.kind = "dropped"
        return (
            turn.speaker._("OK, I dropped that order and emptied your cart.")
            + " "
            + turn.speaker._(texts.ORDER_HINT)
        )
    if kind in ("cancel", "no"):
        turn.state.pop("checkout", None)
        await turn.save_state()
        stopped = turn.speaker._("OK, I stopped the checkout. Your cart is still here.")
        lines = await carts.load_cart(turn.conn, turn.customer_id)
        return f"{stopped}\n\n{render_cart(lines, turn.speaker, room(stopped))}"
    if kind in ("delivery", "pickup"):
        return await checkout.choose(turn, kind)
    if step == "fulfilment":
        if kind == "number" and command.number in (1, 2):
            return await checkout.choose(turn, "delivery" if command.number == 1 else "pickup")
        if kind in ("yes", "checkout"):
            return await checkout.start(turn)
        address = checkout.address_said_with_delivery(turn.inbound.text)
        if address is not None and kind in ("text", "info_or_text", "info", "menu_of", "number"):
            # "deliver to 12 Main St": delivery, and that address as the address step takes it
            reply = await checkout.choose(turn, "delivery")
            if (turn.state.get("checkout") or {}).get("step") != "address":
                return reply  # no delivery, or below its minimum: that answer comes first
            return await checkout.set_address(turn, address, None)
        return None
    if step == "address":
        if kind == "same_address":
            return await checkout.same_address(turn)
        # Waiting for an address, free text is the address: "5 Pepperoni Lane" is a street, not
        # five pizzas. Commands (cart, menu, help, remove 2, …) still work; "info …" and "show …"
        # only when they name something on the menu ("About 5 Main St" is an address).
        if kind in ("text", "info_or_text", "info", "menu_of", "number"):
            if kind in ("info", "menu_of") and _show(turn, command.arg) is not None:
                return None
            # "deliver to 12 Main St" here too is the address after the words asking for delivery
            text = checkout.address_said_with_delivery(turn.inbound.text) or turn.inbound.text.strip()
            if checkout.looks_like_address(text):
                return await checkout.set_address(turn, text, None)
            return checkout.address_rejected(turn, text)
        return None
    if step == "confirm":
        if kind == "yes":
            return await checkout.place(turn)
        if kind == "checkout":
            return await checkout.summary(turn, dict(turn.state["checkout"]))
        if kind == "same_address":
            return await checkout.same_address(turn)
        return None
    return None


def _greet(turn: Turn) -> str:
    return texts.greeting(
        turn.store.menu,
        turn.customer.get("profile_name"),
        turn.now,
        turn.store.accepting_orders,
        turn.speaker,
    )


async def _greeting(turn: Turn, command: Command) -> str:
    turn.kind = "greeting"
    text = _greet(turn)
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    if lines:
        text += "\n\n" + turn.speaker.n_(
            "You have {n} line in your cart; send *cart* to see it.",
            "You have {n} lines in your cart; send *cart* to see it.",
            len(lines),
        )
    return text


async def _start(turn: Turn, command: Command) -> str:
    """START from a customer who never stopped: the greeting, without the cart line."""
    return _greet(turn)


async def _menu(turn: Turn, command: Command) -> str:
    turn.kind = "menu"
    return texts.render_menu(turn.store.menu, turn.speaker)


async def _show_command(turn: Turn, command: Command) -> str:
    """`menu_of`, `info` and `info_or_text`: a category or an item's details."""
    shown = _show(turn, command.arg)
    if shown is not None:
        return shown
    if command.kind == "info_or_text":
        return await _text(turn)
    missing = turn.speaker._('I couldn\'t find "{phrase}" on the menu.', phrase=texts.echo(command.arg))
    return missing + "\n\n" + texts.render_menu(turn.store.menu, turn.speaker)


_CART_HINT = _("Send *checkout* to order, *remove 1* or *change 1 to 2* to edit.")


async def _cart(turn: Turn, command: Command) -> str:
    turn.kind = "cart"
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    if not lines:
        return render_cart(lines, turn.speaker)
    hint = turn.speaker._(_CART_HINT)
    return f"{render_cart(lines, turn.speaker, room(hint))}\n\n{hint}"


async def _clear(turn: Turn, command: Command) -> str:
    """ "clear", "empty my cart": asked once before, an emptied cart cannot be undone."""
    if await carts.load_cart(turn.conn, turn.customer_id):
        return await dialogue.ask_to_clear(turn, asked=dialogue.CLEAR)
    await carts.clear_cart(turn.conn, turn.customer_id)
    turn.state.pop("checkout", None)
    await turn.save_state()
    return turn.speaker._(texts.EMPTIED) + " " + turn.speaker._(texts.ORDER_HINT)


async def _remove(turn: Turn, command: Command) -> str:
    return await adding.remove(turn, command.arg)


async def _change(turn: Turn, command: Command) -> str:
    return await adding.change(turn, command.arg, command.said)


async def _checkout(turn: Turn, command: Command) -> str:
    turn.kind = "offer-checkout"
    return await checkout.start(turn)


async def _fulfilment(turn: Turn, command: Command) -> str:
    """`delivery` or `pickup` outside checkout: start checkout with it, when there is a cart."""
    if await carts.load_cart(turn.conn, turn.customer_id):
        return await checkout.start(turn, command.kind)
    s = turn.speaker
    if command.kind == "delivery":
        happy = s._("Happy to deliver! First tell me what you'd like.")
    else:
        happy = s._("Happy to do pickup! First tell me what you'd like.")
    return happy + " " + s._(texts.ORDER_HINT)


async def _yes(turn: Turn, command: Command) -> str:
    turn.kind = "ack"
    s = turn.speaker
    recent = await placed_orders.recent_confirmed(turn)
    if recent is not None:
        return s._(
            "Your order *#{number}* is already placed ✅ — no need to confirm again. "
            "Send *status* to check on it.",
            number=recent["number"],
        )
    if await carts.load_cart(turn.conn, turn.customer_id):
        return s._("Great! Send *checkout* when you're ready to order.")
    return s._(texts.NO_CONTEXT_YES)


async def _no(turn: Turn, command: Command) -> str:
    s = turn.speaker
    return s._("OK!") + " " + s._(texts.ORDER_HINT) + " " + s._("Send *help* to see everything I can do.")


async def _cancel(turn: Turn, command: Command) -> str:
    """ "cancel": the customer's open order; with only a cart, ask before emptying it."""
    if command.number is None and await carts.load_cart(turn.conn, turn.customer_id):
        order = await placed_orders.latest_order(turn, active_only=True)
        if order is None or order["status"] not in lifecycle.CUSTOMER_CANCELLABLE:
            return await dialogue.ask_to_clear(turn)
    turn.kind = "order-cancelled"
    return await placed_orders.cancel(turn, command.number)


async def _status(turn: Turn, command: Command) -> str:
    turn.kind = "order-status"
    return await placed_orders.status(turn, command.number)


async def _reorder(turn: Turn, command: Command) -> str:
    if "same" in normalize(turn.inbound.text).split() and await carts.load_cart(turn.conn, turn.customer_id):
        # "same again" with a cart: the lines just ordered once more, not the last order
        reply = await dialogue.respond(turn)
        if reply is not None:
            return reply
    return await placed_orders.reorder(turn)


async def _help(turn: Turn, command: Command) -> str:
    turn.kind = "help"
    return turn.speaker._(texts.HELP)


async def _agent(turn: Turn, command: Command) -> str:
    await customers.set_mode(turn.conn, turn.customer_id, "human", turn.now, end_checkout=False)
    return turn.speaker._(texts.AGENT)


async def _thanks(turn: Turn, command: Command) -> str:
    turn.kind = "ack"
    return turn.speaker._(texts.THANKS)


async def _note(turn: Turn, command: Command) -> str:
    return await checkout.set_note(turn, command.arg)


async def _number(turn: Turn, command: Command) -> str:
    turn.kind = "ask"
    return turn.speaker._(
        "What would you like {n} of? For example *{n} margherita*. Send *menu* to see everything.",
        n=command.number,
    )


async def _empty(turn: Turn, command: Command) -> str:
    """No words at all: an emoji of thanks or joy ("🙏", "🔥") is acknowledged, anything else
    (a stray character) is asked about."""
    if any(ch in _THANKS_EMOJI for ch in turn.inbound.text):
        turn.kind = "ack"
        if await carts.load_cart(turn.conn, turn.customer_id):
            return turn.speaker._("😊 Send *checkout* when you're ready, or tell me what else you'd like.")
        return "😊 " + turn.speaker._(texts.ORDER_HINT)
    return turn.speaker._(texts.EMPTY)


async def _free_text(turn: Turn, command: Command) -> str:
    return await _text(turn)


async def _same_address(turn: Turn, command: Command) -> str:
    """ "same address" outside checkout: with a cart it means "deliver it where you did last
    time", so checkout starts with delivery and goes straight to the summary."""
    s = turn.speaker
    if not await carts.load_cart(turn.conn, turn.customer_id):
        return s._("Add something to your cart first, then send *checkout*.") + " " + s._(texts.ORDER_HINT)
    if not turn.customer.get("saved_address"):
        return s._(
            "I don't have a saved address for you yet. Send *checkout*, choose *delivery* and type "
            "your address or share your location 📍."
        )
    reply = await checkout.start(turn, "delivery")
    if (turn.state.get("checkout") or {}).get("step") == "address":
        return await checkout.same_address(turn)
    return reply  # closed, paused, below the minimum or no delivery: that answer comes first


CommandHandler = Callable[[Turn, Command], Awaitable[str]]

# The answer to each kind of command outside a checkout step or a pending question. `stop`
# never gets here (respond() opts the customer out first); it reads as text like before.
_COMMANDS: Final[Mapping[Kind, CommandHandler]] = {
    "greeting": _greeting,
    "start": _start,
    "menu": _menu,
    "menu_of": _show_command,
    "info": _show_command,
    "info_or_text": _show_command,
    "cart": _cart,
    "clear": _clear,
    "remove": _remove,
    "change": _change,
    "checkout": _checkout,
    "delivery": _fulfilment,
    "pickup": _fulfilment,
    "same_address": _same_address,
    "yes": _yes,
    "no": _no,
    "cancel": _cancel,
    "status": _status,
    "reorder": _reorder,
    "help": _help,
    "agent": _agent,
    "thanks": _thanks,
    "note": _note,
    "number": _number,
    "empty": _empty,
    "stop": _free_text,
    "text": _free_text,
}
assert set(_COMMANDS) == KINDS, "every command kind needs an answer"


async def _command(turn: Turn, command: Command) -> str:
    return await _COMMANDS[command.kind](turn, command)


def _show(turn: Turn, arg: str) -> str | None:
    """A category listing or an item's details for `arg`, or None when it names neither."""
    menu = turn.store.menu
    key = normalize(arg)
    if not key:
        return None
    for category in menu.categories:
        names = {normalize(category.name), normalize(category.code)}
        if key in names or key.rstrip("s") in {n.rstrip("s") for n in names}:
            turn.kind = "menu"
            return texts.render_category(menu, category, turn.speaker)
    result = adding.parse(menu, arg)
    codes = [line.item for line in result.lines]
    if len(codes) == 1:
        item = menu.item(codes[0])
        if item is not None:
            turn.kind = "item-info"
            return texts.render_item(menu, item, turn.speaker)
    return None


async def _text(turn: Turn) -> str:
    """Free text: an order to add, else a friendly "didn't understand" with suggestions."""
    text = turn.inbound.text.strip()
    menu = turn.store.menu
    shown = None
    if len(text) <= 40:
        shown = _category_only(turn, text)
    if shown is not None:
        return shown
    key = normalize(text)
    self_said = _DIET_SELF.search(key) is not None
    result = adding.parse(menu, _DIET_SELF.sub(" ", key) if self_said else text)
    asked = _asked_about(menu, text, key, result, phrases_for(dialogue.language_of(turn)))
    if asked:
        turn.kind = "item-info"
        details = [texts.render_item(menu, item, turn.speaker) for item in asked]
        if _DIET_WORDS.search(key):
            details.append(turn.speaker._(DIET_ADVICE))
        return "\n\n".join(details)
    if _DIET.search(key) and not _LINE_CHANGE.search(key):
        ordered = bool(result.lines or result.ambiguous or result.bad_quantities)
        if self_said or not ordered:
            # an allergy or diet goes on the whole order, never silently onto one line
            noted = await _diet_note(turn, text)
            return f"{noted}\n\n{await adding.add_parsed(turn, result)}" if ordered else noted
    s = turn.speaker
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    if dialogue.asks_only(turn) and (result.lines or result.ambiguous or result.modifiers):
        # "¿el agua es de litro?", "¿de qué tamaño es la familiar?": what the question names
        # is shown, never added or changed
        return _question_details(turn, result, lines)
    if lines and (result.lines or result.ambiguous) and _unread(result, lines, unread_words(menu, text)):
        # words nothing reads may be the change itself ("cancela el pan de ajo", "los
        # tiramisus fuera"): adding what the message names would be a cart not asked for
        return await dialogue.ask_add_or_change(turn, result, lines)
    unread = result.empty or not (
        result.lines or result.ambiguous or result.bad_quantities or result.modifiers
    )
    if lines and unread:
        # with a cart, a message nothing reads may well be a change to it ("nah, con 3 nos
        # arreglamos"): ask how to say it rather than leave the cart as if all were well
        said = (
            s._('Sorry, I didn\'t understand "{phrase}".', phrase=texts.echo(text))
            if result.empty
            else await adding.add_parsed(turn, result)
        )
        turn.kind = "ask"
        example = lines[-1].name.lower()
        return (
            said
            + "\n\n"
            + s._(
                "Do you want to change your cart? Tell me like *make the {example} 2*, "
                "*remove the {example}*, *swap the {example} for …* or *add 1 …*.",
                example=example,
            )
        )
    if result.empty:
        close = adding.closest_items(menu, text) if len(text.split()) <= 3 else []
        if close:
            names = s.list([f"*{n}*" for n in close], style="or")
            return s._(
                'Sorry, I couldn\'t find "{phrase}" on the menu. Did you mean {names}?',
                phrase=texts.echo(text),
                names=names,
            )
        return (
            s._('Sorry, I didn\'t understand "{phrase}".', phrase=texts.echo(text))
            + " "
            + s._(texts.ORDER_HINT)
            + "\n"
            + s._("Send *menu* to see what we have, or *help* for everything I can do.")
        )
    return await portions.ask_portions(turn, result) or await adding.add_parsed(turn, result)


def _question_details(turn: Turn, result: ParseResult, lines: list[carts.CartLine]) -> str:
    """The details of the items a question names (at most three), else of the cart's items that
    take the options it names; a question naming neither is asked back."""
    menu = turn.store.menu
    codes = [line.item for line in result.lines] + [c for amb in result.ambiguous for c in amb.candidates]
    if not codes and result.modifiers is not None:
        groups = {o.group for o in (*result.modifiers.options, *result.modifiers.excluded)}
        codes = [
            line.item_code
            for line in reversed(lines)
            if (item := menu.item(line.item_code)) is not None
            and groups & {g.code for g in menu.groups_of(item)}
        ]
    items: list[Item] = []
    for code in codes:
        item = menu.item(code)
        if item is not None and item not in items:
            items.append(item)
    if not items:
        turn.kind = "ask"
        return (
            turn.speaker._('Sorry, I didn\'t understand "{phrase}".', phrase=texts.echo(turn.inbound.text))
            + " "
            + turn.speaker._("Send *menu* to see what we have, or *help* for everything I can do.")
        )
    turn.kind = "item-info"
    details = [texts.render_item(menu, item, turn.speaker) for item in items[:3]]
    if _DIET_WORDS.search(normalize(turn.inbound.text)):
        details.append(turn.speaker._(DIET_ADVICE))
    return "\n\n".join(details)


def _unread(result: ParseResult, lines: list[carts.CartLine], words: tuple[str, ...]) -> bool:
    """Whether `words` (unread by the parser) leave the reading of an order in doubt. Words
    the reply names back as options the store does not have ("hawaiian no pickles") or as
    phrases not on the menu are no doubt, unless the line is of an item already in the cart
    ("las alitas no pican" with wings in it may be a removal)."""
    if not words:
        return False
    in_cart = {line.item_code for line in lines}
    named: set[str] = set()
    for line in result.lines:
        if line.item not in in_cart:
            named |= {w for u in line.unknown_options for w in tokenize(u.phrase)}
    named |= {w for u in result.unmatched for w in tokenize(u.phrase)}
    return any(w not in named for w in words)


def _asked_about(menu: Menu, text: str, key: str, result: ParseResult, phrases: Phrases) -> list[Item]:
    """The items a question names without ordering them ("is the salad vegan?"), or [] when
    the message is no question, asks for something, or says a quantity. Where questions are
    only marked ("¿la margarita tiene carne?" but "¿me regalas una hawaiana?"), the language's
    question words must be there and none of its request words."""
    if not result.lines or result.bad_quantities:
        return []
    if phrases.question_words:
        words = set(tokenize(text))
        if not words & phrases.question_words or words & phrases.request_words:
            return []
    if not (text.rstrip().endswith("?") or _QUESTION_START.match(key)) or _REQUEST.search(key):
        return []
    if _REQUEST.search(" ".join(tokenize(english_reading(menu, text)[1]))):
        return []  # "¿me pones una coca?": a request in the customer's language
    if any(ch.isdigit() for ch in key) or any(line.quantity != 1 for line in result.lines):
        return []
    items: list[Item] = []
    for line in result.lines:
        item = menu.item(line.item)
        if item is not None and item not in items:
            items.append(item)
    return items[:3]


async def _diet_note(turn: Turn, text: str) -> str:
    """An allergy or diet said without an item: a note for the whole order (added to any note
    already given), never a change to one line."""
    said = " ".join(text.split())
    old = str(turn.state.get("note") or "")
    note = said if not old or said in old else f"{old}; {said}"
    turn.state["note"] = note[: checkout.MAX_NOTE_CHARS]
    await turn.save_state()
    s = turn.speaker
    return (
        s._("📝 Noted for your whole order: {note}", note=texts.echo(said))
        + "\n"
        + s._("The kitchen will see it with your order; I haven't changed any item in your cart.")
        + " "
        + s._(DIET_ADVICE)
    )


def _category_only(turn: Turn, text: str) -> str | None:
    """A message that is just a category name ("drinks", "desserts") shows that category."""
    key = normalize(text)
    for category in turn.store.menu.categories:
        names = {normalize(category.name), normalize(category.code)}
        if key in names:
            return texts.render_category(turn.store.menu, category, turn.speaker)
    return None
