"""What a message asks for, before any menu matching: commands, their synonyms, and arguments.

`classify(text)` normalises the text (case, accents kept, punctuation and emoji dropped) and
returns a `Command`. Whole-message synonyms are matched exactly, so "no onions" is never the
command "no"; a few commands take an argument ("remove 2", "change 1 to 3", "info veggie").
Anything else is `Command("text")`, which the engine hands to the order parser.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal, get_args

from services.orders.understanding.numbers import NUMERAL, ascii_digits

# Every intent a message can carry; the engine answers each through its table
# (conversation/engine.py `_COMMANDS`), and mypy rejects a kind spelled any other way.
Kind = Literal[
    "greeting", "menu", "menu_of", "info", "info_or_text", "cart", "clear", "remove", "change",
    "checkout", "delivery", "pickup", "same_address", "yes", "no", "cancel", "status", "reorder",
    "help", "agent", "thanks", "note", "stop", "start", "number", "empty", "text",
]  # fmt: skip
KINDS: Final[frozenset[Kind]] = frozenset(get_args(Kind))


@dataclass(frozen=True, slots=True)
class Command:
    """A recognised intent. `arg` is the raw argument text (or ""), `number` a parsed number.

    `said` is a quantity exactly as written ("1000000", "-1", "2.5") for `change`, which
    checks its range itself so that the customer is told what went wrong."""

    kind: Kind
    arg: str = ""
    number: int | None = None
    said: str = ""


def _table(*specs: dict[Kind, str]) -> dict[str, Kind]:
    out: dict[str, Kind] = {}
    for spec in specs:
        for kind, phrases in spec.items():
            for phrase in phrases.split("|"):
                key = fold(normalize(phrase))
                if key:
                    out[key] = kind
    return out


def fold(key: str) -> str:
    """A normalised text without accents ("menú" → "menu", "cardápio" → "cardapio"): customers
    type them or not, so commands match either way."""
    decomposed = unicodedata.normalize("NFKD", key)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """Lowercase, NFKC, apostrophes removed, punctuation/symbols/emoji as spaces, one space.

    A minus sign before a number ("-1") and a decimal point inside one ("2.5") are kept, so
    "change 1 to -1" is not read as "change 1 to 1", nor "to 2.5" as "to 2 5"; so are the
    separators inside a numeral ("1,000", "1/2", "2-3"), so "to 1,000" is not "to 1 000".
    Digits of every script are ASCII digits ("٣" -> "3")."""
    text = ascii_digits(unicodedata.normalize("NFKC", text).lower())
    text = text.replace("'", "").replace("\u2019", "").replace("`", "")
    out = []
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        before = text[i - 1] if i > 0 else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        keep = (
            category[0] in "LNM"
            or ch == "#"
            or (ch == "-" and after.isdigit() and not before.isalnum())
            or (ch in ".,/-" and before.isdigit() and after.isdigit())
        )
        out.append(ch if keep else " ")
    return " ".join("".join(out).split())


# Whole-message synonyms in Spanish and Portuguese (Brazil); matched without accents. A
# customer may use any language's commands: none of them means something else in another.
_SYNONYMS_ES_PT: Final[dict[Kind, str]] = {
    "greeting": "hola|buenas|buen dia|buenos dias|buenas tardes|buenas noches|hola buenas|"
    "hola buenas noches|hola buenas tardes|que tal|ola|olá|oi|oie|bom dia|boa tarde|boa noite|"
    "olá boa noite|ola boa noite|oi boa noite|oi boa tarde|oi bom dia|quiero pedir|"
    "quiero hacer un pedido|quero pedir|quero fazer um pedido",
    "menu": "menú|menu|el menu|la carta|ver menu|ver el menu|ver la carta|muestrame el menu|"
    "mandame el menu|me mandas el menu|me pasas el menu|pasame el menu|me pasas la carta|"
    "pasame la carta|mandame la carta|me mandas la carta|muestrame la carta|me muestras el menu|"
    "que tienen|que hay|cardápio|cardapio|o cardapio|ver cardapio|ver o cardapio|"
    "manda o cardapio|me manda o cardapio|o que tem|o que voces tem|qual o cardapio",
    "cart": "carrito|mi carrito|el carrito|ver carrito|ver mi carrito|ver el carrito|"
    "muestrame el carrito|muestrame mi carrito|me muestras el carrito|que tengo en el carrito|"
    "que tengo en el carrito|mi pedido actual|carrinho|meu carrinho|o carrinho|ver carrinho|"
    "ver meu carrinho|ver o carrinho|o que tem no carrinho|o que tem no meu carrinho|"
    "que tengo en mi carrito|que hay en mi carrito",
    "clear": "vaciar|vaciar carrito|vaciar el carrito|vacia|vacia el carrito|vacia mi carrito|"
    "esvazia|esvazia o carrinho|esvazia meu carrinho|limpa|limpa o carrinho|borrar todo|limpiar|"
    "limpiar carrito|"
    "empezar de nuevo|quitar todo|eliminar todo|limpar|limpar carrinho|limpar o carrinho|"
    "esvaziar|esvaziar carrinho|esvaziar o carrinho|apagar tudo|tirar tudo|comecar de novo",
    "checkout": "pagar|finalizar|finalizar pedido|terminar|termine|listo|ya esta|eso es todo|"
    "es todo|nada mas|seria todo|seria todo gracias|hacer el pedido|hacer pedido|"
    "finalizar o pedido|fechar|fechar pedido|fechar o pedido|so isso|e so isso|e isso|"
    "é isso|é só isso|só isso|acabei|pronto|mais nada|fazer o pedido|so isso mesmo|e so isso mesmo|"
    "era so isso|era isso",
    "yes": "confirmar|confirmo|confirma|confirmado|si|sí|si por favor|sí por favor|claro|dale|"
    "va|vale|de acuerdo|perfecto|correcto|sim|sim por favor|isso|pode ser|pode|certo|"
    "beleza|fechado|confirmo o pedido|confirmar pedido|confirmar o pedido|confirmar el pedido",
    "no": "no gracias|ahora no|espera|esperar|volver|atras|editar|cambiar|nao|não|agora nao|"
    "agora não|espera ai|voltar|alterar|mudar|editar carrito|editar carrinho",
    "cancel": "cancelar|cancela|cancelar pedido|cancelar el pedido|cancelar mi pedido|"
    "cancela el pedido|cancelar o pedido|cancela o pedido|cancelar meu pedido|quero cancelar|"
    "quiero cancelar|ya no quiero nada|no quiero nada|ya no quiero|desisti|desisto|"
    "cancela mi pedido|cancela meu pedido|olvida todo|olvidalo todo|esquece tudo|"
    "nao quero mais nada|nao quero nada|deixa tudo pra la",
    "status": "estado|estado del pedido|estado de mi pedido|mi pedido|donde esta mi pedido|"
    "cuanto falta|como va mi pedido|status|status do pedido|meu pedido|cade meu pedido|"
    "onde esta meu pedido|quanto tempo falta|como esta meu pedido",
    "reorder": "repetir|repetir pedido|repetir el pedido|lo mismo|lo de siempre|otra vez|"
    "pedir de nuevo|lo mismo que la ultima vez|o mesmo|o de sempre|de novo|pedir de novo|"
    "repetir o pedido|o mesmo da ultima vez",
    "help": "ayuda|ayudame|como funciona|como pido|que puedo hacer|ajuda|me ajuda|"
    "como faco para pedir|o que posso fazer",
    "agent": "agente|humano|persona|una persona|hablar con alguien|hablar con una persona|"
    "hablar con un humano|asesor|atendente|pessoa|uma pessoa|falar com alguem|"
    "falar com uma pessoa|falar com atendente|falar com um atendente|atendimento",
    "delivery": "domicilio|a domicilio|envio|envío|con envio|que me lo traigan|para entregar|"
    "entrega|entrega a domicilio|entrega em casa|para entrega|tele entrega|delivery por favor",
    "pickup": "recoger|para recoger|paso a recoger|lo recojo|voy a recoger|retirar|retirada|"
    "retiro|para retirar|vou buscar|vou retirar|retirar no local|retirada no local|buscar",
    "same_address": "misma direccion|la misma direccion|la misma|a la misma direccion|"
    "mesmo endereco|o mesmo endereco|mesmo lugar|no mesmo endereco",
    "thanks": "gracias|muchas gracias|mil gracias|ok gracias|vale gracias|obrigado|obrigada|"
    "muito obrigado|muito obrigada|valeu|brigado|ok obrigado",
}

# Portuguese (Brazil) only: the ways a yes or a no to the bot's question is said ("sim pode",
# "isso mesmo", "pode sim", "melhor não").
_SYNONYMS_PT: Final[dict[Kind, str]] = {
    "yes": "sim pode|pode sim|sim sim|sim claro|claro que sim|isso mesmo|isso ai|isso aí|"
    "isso mesmo pode|isso pode|exato|exatamente|correto|ta certo|tá certo|com certeza|certeza|"
    "pode mandar|manda ver|bora|fechou|confirma ai|confirma aí|sim confirma|sim confirmo|"
    "sim pfv|sim por favor|pode ser sim|uhum|aham|s|ss|pode esvaziar|pode limpar|pode apagar|"
    "pode zerar|sim pode esvaziar|sim pode limpar|sim pode apagar|sim pode apagar tudo|"
    "pode apagar tudo|pode tirar tudo|sim esvazia|sim limpa|sim quero|quero sim",
    "no": "nao obrigado|não obrigado|nao obrigada|não obrigada|nao precisa|não precisa|"
    "melhor nao|melhor não|nao nao|não não|deixa assim|deixa como esta|deixa como está|"
    "pode deixar|mantem|mantém|nao quero esvaziar|não quero esvaziar",
}

# Whole-message synonyms; see docs/conversation.md for the list customers are told about.
_SYNONYMS: Final = _table(
    {
        "greeting": "hi|hii|hiii|hello|helo|hallo|hey|heya|hiya|hola|ola|olá|oi|bonjour|salut|ciao|"
        "buenas|buenos dias|buenas tardes|buenas noches|good morning|good afternoon|good evening|"
        "morning|evening|hi there|hello there|hey there|howdy|yo|sup|greetings|namaste|salaam|"
        "salam|marhaba|merhaba|hallo|guten tag|привет|здравствуйте|مرحبا|こんにちは|你好|안녕하세요|"
        "नमस्ते|shalom|hey bot|hi bot|hello bot|start order|new order|i want to order|"
        "i would like to order|id like to order|can i order|order",
        "menu": "menu|the menu|menus|show menu|show the menu|show me the menu|see menu|see the menu|"
        "view menu|full menu|menu please|send menu|send the menu|what do you have|what have you got|"
        "whats on the menu|what is on the menu|whats available|what can i order|carta|menú|la carta|"
        "catalog|catalogue|list|price list|prices",
        "cart": "cart|my cart|the cart|basket|my basket|view cart|show cart|see cart|show my cart|"
        "whats in my cart|what is in my cart|cart please|bag|my bag|trolley|carrito",
        "clear": "clear|clear cart|clear my cart|clear the cart|empty|empty cart|empty my cart|"
        "empty the cart|start over|start again|reset|clear all|remove all|delete all|remove everything|"
        "delete everything|cancel cart|new cart",
        "checkout": "checkout|check out|done|im done|i am done|thats all|that is all|thats it|"
        "that is it|place order|place my order|order now|pay|finish|finish order|complete order|"
        "proceed|go to checkout|next|ready to order|send order|submit|submit order|nothing else|"
        "no thats all|thats everything|all good",
        "yes": "confirm|yes|y|ya|yes please|yep|yup|yeah|yea|ok|okay|k|sure|correct|confirm order|"
        "confirmed|place it|go ahead|sounds good|perfect|si|sí|oui|ja|da",
        "no": "no|n|nope|nah|not now|back|go back|wait|hold on|change|edit|modify",
        "cancel": "cancel|cancel order|cancel my order|cancel it|cancel the order|cancel please|"
        "i want to cancel|cancelar",
        "status": "status|order status|my order status|where is my order|wheres my order|"
        "where is my food|wheres my food|track|track order|track my order|tracking|eta|"
        "how long|how much longer|is my order ready|my order|status please|update|whats the status|"
        "what is the status|whats my order status|order update|any update",
        "reorder": "reorder|re order|re-order|order again|same again|repeat order|repeat my order|"
        "repeat last order|same as last time|the usual|my usual|usual|last order|again",
        "help": "help|help me|commands|options|how does this work|how do i order|how to order|"
        "what can i do|what can you do|instructions|info|ayuda|aide|?",
        "agent": "agent|human|person|staff|operator|real person|a human|a person|talk to a human|"
        "talk to someone|talk to a person|speak to someone|speak to a human|speak to a person|"
        "representative|support|customer service|customer support|manager|talk to agent|"
        "live agent|live chat|call me",
        "stop": "stop|stopall|stop all|unsubscribe|opt out|optout|stop messages|stop messaging me|"
        "dont message me|do not message me",
        "start": "start|unstop|subscribe|opt in|optin|resume|resubscribe",
        "delivery": "delivery|deliver|deliver it|deliver please|home delivery|delivery please|"
        "deliver to me|deliver to my address|for delivery|domicilio|entrega",
        "pickup": "pickup|pick up|pick-up|collect|collection|take away|takeaway|take out|takeout|"
        "carry out|carryout|i will pick it up|ill pick it up|ill collect|i will collect|"
        "pickup please|for pickup|recoger|para llevar",
        "same_address": "same address|same|same as last time|same place|usual address|"
        "same as before|last address|my address|the same|same one|saved address",
        "thanks": "thanks|thank you|thx|ty|thank u|cheers|gracias|merci|danke|obrigado|great|"
        "awesome|cool|nice|great thanks|ok thanks|ok thank you|thanks a lot",
    },
    _SYNONYMS_ES_PT,
    _SYNONYMS_PT,
)

_REMOVE = re.compile(
    r"^(?:please\s+)?(?:remove|delete|del|rm|drop|take out|take off|minus|cancel|"
    r"quitar|quita|quitame|quitale|borrar|borra|eliminar|elimina|saca|sacar|"
    r"tirar|tira|remover|apagar|apaga|excluir|exclui|"
    # "ya no quiero la coca", "não quero mais a coca": a line taken out, never one more
    r"(?:ya\s+)?no\s+quiero(?:\s+mas)?|(?:ja\s+)?nao\s+quero(?:\s+mais)?)\s+"
    r"(?:the\s+|el\s+|la\s+|los\s+|las\s+|o\s+|a\s+|os\s+|as\s+)?(.+)$"
)
# The quantity is captured whatever its size, sign or shape ("to 1000000", "to -1", "to 2.5",
# "to 1e2", "to 1,000"): adding.change answers one it cannot use with the range instead of
# misreading the message.
_QUANTITY = rf"(-?(?:{NUMERAL}|[0-9]+(?:\.[0-9]+)?))"
_CHANGE = re.compile(
    r"^(?:please\s+)?(?:change|set|make|update|edit|cambiar|cambia|cambiale|"
    r"mudar|muda|alterar|altera|trocar|troca)\s+"
    r"(?:the\s+|el\s+|la\s+|o\s+|a\s+)?(.+?)\s+(?:to|into|x|=|qty|quantity|a|por|para|pra)?\s*"
    + _QUANTITY
    + "$"
)
_CHANGE_TAIL = re.compile(
    r"^(?:please\s+)?(?:change|set|make|update)\s+(?:it\s+)?(?:to\s+)?" + _QUANTITY + r"\s+(?:x\s+)?(.+)$"
)
_INFO = re.compile(
    r"^(?:info|details|detail|about|describe|tell me about|what is|whats|what is in|whats in|"
    r"what comes on|whats on|ingredients of|ingredients in|more about|show|"
    r"informacion de|informacion sobre|que lleva|que tiene|ingredientes de|"
    r"informacao sobre|o que vem|o que tem|ingredientes)\s+"
    r"(?:the\s+|a\s+|la\s+|el\s+|de\s+la\s+|del\s+|na\s+|no\s+|da\s+|do\s+)?(.+)$"
)
_MENU_OF = re.compile(
    r"^(?:menu|show me|see|list|show|view|ver|muestrame|mostrar|mostra|me mostra)\s+"
    r"(?:the\s+|your\s+|of\s+|los\s+|las\s+|el\s+|la\s+|de\s+|os\s+|as\s+)?(.+)$"
)
# A yes said with a confirm, in any of the three languages ("yes, confirm", "yes please confirm
# it", "sí, confírmalo", "dale, confirmá", "sim, pode confirmar"): a yes, whatever the words
# around it. Matched on the folded text (no accents), so "confírmalo" is "confirmalo".
_YES_WORD = (
    r"(?:yes|yeah|yea|yep|yup|ya|sure|ok|okay|alright|great|perfect|si|sip|claro|dale|va|vale|bueno|"
    r"perfecto|sim|isso|beleza|certo|otimo|perfeito|bora|fechou)"
)
_POLITE = r"(?:please|pls|plz|then|now|por favor|porfa|pfv|entonces|ya|ahora|entao|agora|ai|la)"
_CONFIRM_VERB = (
    r"(?:(?:(?:you can|can you|go ahead and|puedes|podes|puede|pode|podem|pueden)\s+)?"
    r"(?:confirm|confirmed|confirmo|confirma|confirmar|confirmalo|confirmala|confirmamelo|"
    r"confirmado|confirmada|confirmamos)"
    r"(?:\s+(?:it|that|the order|my order|order|el pedido|mi pedido|pedido|o pedido|meu pedido))?"
    r"|place (?:it|the order|my order))"
)
_CONFIRMING = re.compile(
    rf"^(?:{_YES_WORD}\s+)*(?:{_POLITE}\s+)*{_CONFIRM_VERB}(?:\s+{_POLITE})*$"
    rf"|^(?:{_YES_WORD}\s+)+(?:{_POLITE}\s+)*(?:go ahead|do it)(?:\s+{_POLITE})*$"
)
# Saying one will come for the order ("i'll come get it", "paso a recogerla", "voy a pasar por
# ella", "vou retirar aí", "eu busco"): pickup. Matched whole, on the folded text.
_PICKUP_SAID = re.compile(
    r"^(?:(?:ok|okay|yes|si|sim|no|nah|nao|bueno|vale|dale|then|entonces|entao)\s+)*(?:"
    # English: "i'll pick it up", "we'll come get it", "im gonna collect it", "ill come by"
    r"(?:i|we|ill|well|i will|we will|im gonna|i am gonna|im going to|i am going to|i can|we can|"
    r"let me|ill just|i will just)\s+"
    r"(?:just\s+)?(?:(?:come\s+(?:and\s+)?)?pick\s+(?:it|them|the order|my order|the food)?\s*up|"
    r"come\s+(?:and\s+)?(?:get|grab)\s+(?:it|them)|come for it|collect(?:\s+it)?|come by|stop by|"
    r"swing by)"
    r"(?:\s+(?:myself|ourselves|in store|at the store|from the store|there|in person))?"
    # Spanish: "paso a recogerla", "voy a pasar por ella", "yo la recojo", "la paso a buscar"
    r"|(?:yo\s+)?(?:(?:lo|la|los|las)\s+)?(?:paso|pasamos|pasare|voy|vamos|vengo|venimos|"
    r"voy a pasar|vamos a pasar|paso yo)\s+(?:a\s+)?(?:recoger|buscar|retirar)(?:la|lo|las|los)?"
    r"(?:\s+(?:yo|al local|a la tienda|en el local|en la tienda|alla|ahi))?"
    r"|(?:yo\s+)?(?:voy a pasar|vamos a pasar|paso|pasamos|voy|vamos)\s+por\s+"
    r"(?:ella|el|ellas|ellos|el pedido|mi pedido|la pizza|las pizzas)"
    r"|(?:yo\s+)?(?:lo|la|los|las)\s+(?:recojo|recogemos|busco|buscamos|retiro)(?:\s+(?:yo|ahi|alla))?"
    r"|(?:recojo|retiro)\s+(?:yo|en el local|en la tienda)"
    # Portuguese: "vou retirar aí", "vou buscar na loja", "eu busco", "passo aí pra pegar"
    r"|(?:eu\s+|a gente\s+)?(?:vou|vamos|vai|vou passar ai pra|vou passar ai para|passo ai pra|"
    r"passo ai para|vou ai)\s+(?:retirar|buscar|pegar)(?:\s+(?:ai|ele|o pedido|na loja|no local|"
    r"pessoalmente))?"
    r"|(?:eu\s+|a gente\s+)?(?:retiro|busco)(?:\s+(?:ai|na loja|no local|pessoalmente))?"
    r"|(?:eu\s+)?pego\s+(?:ai|na loja|no local)"
    r"|(?:eu\s+)?(?:vou passar ai|passo ai)"
    r")(?:\s+(?:please|pls|thanks|por favor|porfa|gracias|obrigado|obrigada|pfv))*$"
)
_NUMBER = re.compile(r"^#?\s*(\d{1,4})$")
# "note: ring the bell twice", read from the raw text so the note keeps its punctuation.
_NOTE = re.compile(
    r"^\s*(?:note|notes|instructions?|comment|delivery note|nota|notas|observaci[oó]n|"
    r"observa[cç][aã]o|obs)\s*[:\-]\s*(.+)$",
    re.I | re.S,
)
_ORDER_REF = re.compile(
    r"^(status|cancel|track|estado|cancelar|cancela)\s+(?:order\s+|pedido\s+|del pedido\s+|do pedido\s+)?"
    r"#?\s*(\d{3,9})$"
)
_STATUS_WORDS = frozenset({"status", "track", "estado"})


# Politeness around a command: "i want to talk to a human please" is "talk to a human".
_LEAD = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay|so|um|uh|well|and|also|now|then|please|pls|plz|kindly|"
    r"i want to|i wanna|i would like to|id like to|i need to|i need|can i|could i|can you|"
    r"could you|would you|let me|lets|i want|just|"
    r"hola|oye|vale|bueno|entonces|y|por favor|porfa|quiero|quisiera|me gustaria|puedo|"
    r"podrias|puedes|necesito|solo|oi|ola|entao|tipo|quero|queria|gostaria de|posso|pode|"
    r"preciso|so)\s+)+"
)
_TRAIL = re.compile(
    r"(?:\s+(?:please|pls|plz|now|thanks|thank you|thx|asap|again|por favor|porfa|gracias|"
    r"ya|ahora|obrigado|obrigada|pfv|agora|valeu))+$"
)
# "speak to someone", "a real human", "customer service": wanting a person, however phrased.
_AGENT_WORDS = re.compile(
    r"\b(?:human|agent|operator|representative|real person|customer service|"
    r"(?:talk|speak|chat) (?:to|with) (?:a |an |the |some )?(?:person|someone|somebody|staff|manager))\b"
)


def _strip_fillers(key: str) -> str:
    return _TRAIL.sub("", _LEAD.sub("", key)).strip()


def _change(ref: str, said: str) -> Command:
    """ "change 1 to 3": `number` is the quantity when it is a whole number, else None."""
    number = int(said) if said.lstrip("-").isdigit() else None
    return Command("change", arg=ref, number=number, said=said)


def classify(text: str) -> Command:
    """The command `text` carries; `Command("text")` when it is none (maybe an order).

    `Command("empty")` for a message with no letters or digits at all (only emoji, say).
    """
    raw = text.strip()
    key = fold(normalize(raw))
    if not key:
        if "?" in raw:
            return Command("help")
        if "👍" in raw or "👌" in raw:
            return Command("yes")
        return Command("empty")
    kind = _SYNONYMS.get(key) or _SYNONYMS.get(_strip_fillers(key))
    if kind is None and _AGENT_WORDS.search(key) and len(key.split()) <= 10:
        kind = "agent"
    if kind is None and _CONFIRMING.match(key):
        kind = "yes"
    if kind is None and _PICKUP_SAID.match(key):
        kind = "pickup"
    if kind is not None:
        return Command(kind)
    note = _NOTE.match(raw)
    if note:
        return Command("note", arg=" ".join(note.group(1).split()))
    whole = key
    key = _strip_fillers(key) or key
    match = _NUMBER.match(key)
    if match:
        return Command("number", number=int(match.group(1)))
    match = _ORDER_REF.match(key)
    if match:
        verb: Kind = "status" if match.group(1) in _STATUS_WORDS else "cancel"
        return Command(verb, number=int(match.group(2)))
    match = _CHANGE.match(key)
    if match:
        return _change(match.group(1), match.group(2))
    match = _CHANGE_TAIL.match(key)
    if match:
        return _change(match.group(2), match.group(1))
    match = _REMOVE.match(key)
    if match:
        return Command("remove", arg=match.group(1))
    match = _INFO.match(key)
    if match:
        return Command("info", arg=match.group(1))
    # "tiramisu?" asks about the item; "can I get a margherita?" orders it.
    if raw.endswith("?") and len(whole.split()) <= 2:
        return Command("info_or_text", arg=key)
    match = _MENU_OF.match(key)
    if match:
        return Command("menu_of", arg=match.group(1))
    return Command("text", arg=key)
