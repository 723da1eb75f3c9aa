"""Corrections, references, questions and small talk written in Spanish, played through the real
conversation (a real PostgreSQL): the cart after the last message is the one meant, or the bot
asks and leaves it as it was. Spanish names the line first and repeats it on the verb ("la coca
cámbiala por una sprite", "a la hawaiana quítale la piña"), says "una" for one, and has words
of its own for yes, cancel and the questions around an order (understanding/lexicons.py)."""

from __future__ import annotations

from collections import Counter

import pytest

from evals.conversations import NOON, Dialogue, expected_cart
from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from services.orders.understanding.acts import read_acts
from services.orders.understanding.parser import english_reading
from services.orders.understanding.phrases import phrases_for
from tests.orders.dialogues import play

CUSTOMER = "whatsapp:+15557770002"


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


async def _play(
    database_url: str, menu: Menu, turns: list[str]
) -> tuple[Counter[str], Counter[str], list[str]]:
    """(cart before the last turn, cart after it, the kinds of the replies to it)."""
    return await play(database_url, menu, turns, customer=CUSTOMER, start=NOON)


def _reading(menu: Menu, text: str) -> str:
    return english_reading(menu.localized("es"), text)[1]


@pytest.mark.parametrize(
    ("text", "english"),
    [
        # the line first, the verb after it with a pronoun: the verb goes first
        ("la sprite cámbiala por un agua", "change the sprite for a agua"),
        ("el brownie por un tiramisú", "change the brownie for a tiramisu"),
        ("la tercera bórrala", "remove the third one"),
        ("a la margarita quítale la albahaca", "remove the albahaca from the margarita"),
        ("quítale la cebolla a la vegetariana", "remove the cebolla from the vegetariana"),
        # "una" is a number when units are taken out; each line its own removal
        ("quítame una sprite", "remove one sprite"),
        ("quita el agua y una sprite", "remove the agua and remove one sprite"),
        ("una sprite menos", "one less sprite"),
        # "al final" corrects; "final" is no misspelt "fina" (thin crust)
        ("la hawaiana sin piña al final", "the hawaiana without pina actually"),
    ],
)
def test_spanish_word_order_is_read_in_english_order(menu: Menu, text: str, english: str) -> None:
    assert _reading(menu, text) == english


@pytest.mark.parametrize(
    ("text", "kind", "topic"),
    [
        ("¿el envío tiene costo?", "question", "delivery-fee"),
        ("¿hasta dónde llegan?", "question", "delivery-area"),
        ("¿cuál es la dirección?", "question", "contact"),
        ("¿qué llevo hasta ahora?", "question", "cart"),
        ("¿y el tiramisú a cómo está?", "question", "price"),
        ("ya con eso", "done", ""),
        ("órale", "ack", ""),
    ],
)
def test_spanish_questions_and_small_talk_are_read(menu: Menu, text: str, kind: str, topic: str) -> None:
    localized = menu.localized("es")
    english_menu, words = english_reading(localized, text)
    acts = read_acts(english_menu, words, phrases_for("es"))
    assert [(a.kind, a.topic) for a in acts][:1] == [(kind, topic)], words


CHANGED = [
    (["una sprite y una pepperoni", "la sprite cámbiala por un agua"], ["1 water", "1 pepperoni"]),
    (["un brownie y una margarita", "el brownie por un tiramisú"], ["1 tiramisu", "1 margherita"]),
    (["una pepperoni y un agua", "en vez del agua una sprite"], ["1 pepperoni", "1 sprite"]),
    (["una margarita grande y una hawaiana chica", "la hawaiana chica bórrala"], ["1 margherita size=large"]),
    (["una coca", "un agua", "y una sprite", "la tercera bórrala"], ["1 coke", "1 water"]),
    (["un tiramisú y una sprite", "la sprite ya no la quiero"], ["1 tiramisu"]),
    (["3 sprites", "una sprite menos"], ["2 sprite"]),
    (["3 aguas y un brownie", "quítame un agua"], ["2 water", "1 brownie"]),
    # two lines taken out, one of them only in part: never the whole of both
    (["1 hawaiana 2 aguas", "quita la hawaiana y un agua"], ["1 water"]),
    (["una margarita con champiñones", "quítale los champiñones a la margarita"], ["1 margherita"]),
    (["2 hawaianas", "a una de las dos hawaianas ponle extra queso"],
     ["1 hawaiian", "1 hawaiian toppings=cheese:extra"]),
    (["una pepperoni con aceitunas", "la pepperoni sin aceitunas al final"], ["1 pepperoni"]),
    # a first message whose names only Spanish reads whole is Spanish ("alitas" is no English)
    (["alitas y 2 sprites"], ["1 wings", "2 sprite"]),
    # "sí, bórralo" answers "empty your cart?"
    (["2 aguas y un brownie", "cancela todo", "sí, bórralo"], []),
    # a request said as a question orders
    (["¿me pones una sprite grande y un tiramisú?"], ["1 sprite drink-size=large", "1 tiramisu"]),
    # "más" ending the message is one more, never "extra" of the size before it
    (["2 hawaianas grandes", "y una hawaiana grande más"], ["3 hawaiian size=large"]),
    # the units of an order told apart
    (["3 vegetarianas grandes, una sin cebolla"],
     ["2 veggie size=large", "1 veggie size=large -toppings=onions"]),
    (["2 hawaianas chicas, una con extra queso"],
     ["1 hawaiian size=small", "1 hawaiian size=small toppings=cheese:extra"]),
    # a quantity said "in total" is the line's new quantity
    (["2 sprites y una hawaiana", "en total quiero 4 sprites"], ["4 sprite", "1 hawaiian"]),
    # "ya no X, que sean Y": X replaced, its quantity and crust kept
    (["dos hawaianas con orilla rellena", "ya no hawaianas, que sean de pepperoni"],
     ["2 pepperoni crust=stuffed"]),
    # the line named first, its new quantity after it
    (["una sprite y un tiramisú", "el postre que sean 3"], ["1 sprite", "3 tiramisu"]),
    (["una sprite", "y un agua", "el ítem 1 que sean 2"], ["2 sprite", "1 water"]),
    (["un agua y una pepperoni", "del agua mejor 3"], ["3 water", "1 pepperoni"]),
    (["4 aguas", "de esas quita una"], ["3 water"]),
    # a line named by its size with "de", then its new count
    (["una hawaiana grande y una hawaiana chica", "de la chica que sean 3"],
     ["1 hawaiian size=large", "3 hawaiian size=small"]),
    (["tres sprites chicas y una sprite grande", "de las chicas solo una"],
     ["1 sprite drink-size=small", "1 sprite drink-size=large"]),
    (["una hawaiana", "mejor hazme 2"], ["2 hawaiian"]),
    (["un brownie", "mejor tres de esos"], ["3 brownie"]),
    # "las dos": both lines
    (["una pepperoni y una margarita", "las dos con orilla rellena"],
     ["1 pepperoni crust=stuffed", "1 margherita crust=stuffed"]),
    # a kind names its line
    (["una margarita y un agua", "la bebida cámbiala por una sprite"], ["1 margherita", "1 sprite"]),
    # the new name said after the line's ("que sea light": Coca-Cola Light)
    (["una coca", "que sea light"], ["1 diet-coke"]),
    # "ya no la quiero, cancélenla" with nothing in the cart: the cancel is what counts
    (["una sprite y un brownie", "cancela todo", "sip"], []),
    # a line of the cart named with "the" and the options it is to have
    (["una hawaiana y una sprite", "la hawaiana sin gluten"], ["1 hawaiian crust=gluten-free", "1 sprite"]),
    (["2 aguas y una margarita", "las aguas de litro"], ["2 water volume=1l", "1 margherita"]),
    (["una pepperoni y un agua", "que la pepperoni lleve extra queso"],
     ["1 pepperoni toppings=cheese:extra", "1 water"]),
    (["una margarita y una hawaiana", "la hawaiana grande", "y la otra con masa delgada"],
     ["1 margherita crust=thin", "1 hawaiian size=large"]),
    (["una hawaiana y una margarita", "a esta última ponle champiñones"],
     ["1 hawaiian", "1 margherita toppings=mushrooms"]),
    # quantities said the Spanish way
    (["4 aguas", "no, con 2 basta"], ["2 water"]),
    (["6 sprites", "perdón era 1 sola"], ["1 sprite"]),
    (["4 hawaianas", "al final somos menos, ponme solo tres"], ["3 hawaiian"]),
    (["una pepperoni y unas alitas", "las alitas ya no van"], ["1 pepperoni"]),
    (["3 brownies", "ponme otro brownie"], ["4 brownie"]),
    (["una hawaiana", "súmale otra hawaiana"], ["2 hawaiian"]),
    # "hazme una hawaiana" orders one: it replaces no line
    (["una coca", "hazme una hawaiana"], ["1 coke", "1 hawaiian"]),
    # a correction right after one line was added replaces that line (its size and count kept)
    (["una hawaiana", "me equivoqué, era pepperoni"], ["1 pepperoni"]),
    (["una coca chica", "mejor una sprite"], ["1 sprite drink-size=small"]),
    (["dos hawaianas familiares", "mejor de pepperoni"], ["2 pepperoni size=extra-large"]),
    (["una coca", "un agua", "perdón, mejor una sprite"], ["1 coke", "1 sprite"]),
    # the option left out of a single choice beside the one chosen says nothing more
    (["coca", "en botella, no lata"], ["1 coke container=bottle"]),
    (["una coca en botella, no en lata"], ["1 coke container=bottle"]),
    # "la zero", "la light": the word that makes the Coca-Cola Light of a coke names that line
    (["coca y coca zero", "la zero grande"], ["1 coke", "1 diet-coke drink-size=large"]),
    (["una coca light y una coca", "la light no"], ["1 coke"]),
    (["3 cocas", "una de ellas light"], ["2 coke", "1 diet-coke"]),
    # "una light" with no coke named: which is asked, and the water waits for the answer
    (["un agua y una light", "2"], ["1 water", "1 diet-coke"]),
    # "sin ensalada ni pan de ajo": neither line
    (["alitas, ensalada y pan de ajo", "sin ensalada ni pan de ajo"], ["1 wings"]),
    # "sin cebolla ni pimiento": neither topping
    (["una vegetariana sin cebolla ni pimiento"], ["1 veggie -toppings=onions -toppings=peppers"]),
    # "cambia una por hawaiana": one of the units becomes another item
    (["2 pepperoni", "cambia una por hawaiana"], ["1 pepperoni", "1 hawaiian"]),
    # "una sin piña" after two of them: one of them without pineapple
    (["2 hawaianas", "una sin piña"], ["1 hawaiian", "1 hawaiian -toppings=pineapple"]),
    (["2 margaritas", "una con extra queso"], ["1 margherita", "1 margherita toppings=cheese:extra"]),
    # a size said in the plural after two items is each one's; in the singular, the last one's
    (["hawaiana y pepperoni grandes"], ["1 hawaiian size=large", "1 pepperoni size=large"]),
    (["una coca y una sprite chicas"], ["1 coke drink-size=small", "1 sprite drink-size=small"]),
    (["hawaiana y pepperoni grande"], ["1 hawaiian", "1 pepperoni size=large"]),
    (["2 hawaianas y 2 pepperonis grandes"], ["2 hawaiian", "2 pepperoni size=large"]),
    # what someone eats is no order of the Vegetariana
    (["una pepperoni", "¿la hawaiana tiene carne? es para mi hijo que es vegetariano"], ["1 pepperoni"]),
    # a count taken back in the same message: the count said last
    (["quiero 3 cocas, no, mejor 2"], ["2 coke"]),
    (["3 cocas", "y dos hawaianas... no, mejor una"], ["3 coke", "1 hawaiian"]),
    # "una" of a line of several swapped is one unit of it, as in "quita una coca"
    (["2 cocas", "cambia una coca por una coca light"], ["1 coke", "1 diet-coke"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("turns", "kind"),
    [
        (
            ["una margarita", "pagar", "para recoger", "confirmar", "quiero cancelar mi orden"],
            "order-cancelled",
        ),
        (
            ["una margarita", "pagar", "para recoger", "confirmar", "perdón, anulen el pedido"],
            "order-cancelled",
        ),
        (
            ["una margarita", "pagar", "para recoger", "confirmar", "ya no la quiero, cancélenla"],
            "order-cancelled",
        ),
        (["un brownie", "muéstrame el carrito"], "cart"),
        (["una margarita", "pagar", "para recoger", "confirmar", "¿ya está lista mi pizza?"], "order-status"),
        (["una margarita", "pagar", "para recoger", "confirmar", "¿ya salió mi pedido?"], "order-status"),
        (["una margarita", "pagar", "para recoger", "confirmar", "mi pedido no llega"], "order-status"),
        (["una margarita", "pagar", "para recoger", "confirmar", "¿recibieron mi pedido?"], "order-status"),
        (["una margarita", "pagar", "para recoger", "confirmar", "¿cuánto le falta a mi pizza?"], "eta"),
        # "quiero cancelar la coca" takes the coke out: it empties no cart
        (["una coca y un brownie", "quiero cancelar la coca"], "changed"),
        # a first message asking about the store is Spanish, and answered
        (["llegan al 11231?"], "delivery-area"),
        (["hacen domicilio a Brooklyn Heights?"], "delivery-area"),
        (["me pasas el teléfono de la pizzería?"], "contact"),
        (["un agua y una light"], "ask"),
        # a refusal of what the bot asked ("which dessert?") drops the question
        (["coca", "agrega un postre", "no, mejor no"], "dropped"),
        (["coca", "agrega un postre", "no gracias"], "dropped"),
        # "empecemos de nuevo", "ya no quiero nada": the cart emptied, once confirmed
        (["2 hawaianas", "empecemos de nuevo"], "confirm-empty-cart"),
        (["pepperoni", "olvídalo, ya no quiero nada"], "confirm-empty-cart"),
    ],
)
async def test_spanish_cancel_and_cart_words(
    database_url: str, menu: Menu, turns: list[str], kind: str
) -> None:
    _, _, kinds = await _play(database_url, menu, turns)
    assert kind in kinds, kinds


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("cuanto esta la hawaiana", "price"),
        ("¿y el tiramisú cuánto?", "price"),
        ("¿qué sabores de pizza hay?", "menu"),
        ("¿me pasas la carta?", "menu"),
        ("¿ya abrieron?", "hours"),
        ("¿mandan a domicilio?", "delivery-area"),
        ("¿hay mínimo de compra?", "delivery-fee"),
        ("¿cuánto se demoran?", "eta"),
        ("¿cómo se paga?", "payment"),
        ("¿qué formas de pago tienen?", "payment"),
        ("¿me pasas el teléfono?", "contact"),
        ("¿dónde queda el local?", "contact"),
        ("¿me muestras el carrito?", "cart"),
        ("¿trabajan los domingos?", "hours"),
        ("¿cubren la zona de Chapinero?", "delivery-area"),
        ("¿en cuánto llega?", "eta"),
        ("¿se paga al recibir?", "payment"),
        ("¿tienen nequi?", "payment"),
        ("¿cuál es el número para llamar?", "contact"),
        ("¿y de postre qué hay?", "menu"),
        # "¿cuánto sale?" alone: the price of the line talked about
        ("cuanto sale?", "price"),
    ],
)
async def test_spanish_questions_leave_the_cart_as_it_was(
    database_url: str, menu: Menu, question: str, kind: str
) -> None:
    before, after, kinds = await _play(database_url, menu, ["una pepperoni", question])
    assert after == before, kinds
    assert kind in kinds, kinds


@pytest.mark.parametrize(
    "question",
    [
        "¿el agua es de litro?",
        "¿la coca es de lata o de botella?",
        "¿de qué tamaño es la familiar?",
        "¿cuántas rebanadas tiene la grande?",
        "¿las pizzas son de masa delgada?",
        "una pregunta, ¿la hawaiana trae jalapeños?",
        "¿las alitas son de pollo?",
    ],
)
async def test_a_marked_question_that_asks_for_nothing_changes_no_cart(
    database_url: str, menu: Menu, question: str
) -> None:
    before, after, kinds = await _play(database_url, menu, ["una margarita", question])
    assert after == before, kinds


@pytest.mark.parametrize(
    ("turns", "cart"),
    [
        (["una margarita", "¿me regalas una hawaiana?"], ["1 margherita", "1 hawaiian"]),
        (["una margarita", "¿puedes agregar una coca?"], ["1 margherita", "1 coke"]),
        (["una margarita", "¿le puedes poner extra queso?"], ["1 margherita toppings=cheese:extra"]),
        (["una coca y una margarita", "¿me quitas la coca?"], ["1 margherita"]),
        (["una vegetariana", "¿podrías quitarle la cebolla?"], ["1 veggie -toppings=onions"]),
        (["una margarita", "¿y una coca?"], ["1 margherita", "1 coke"]),
    ],
)
async def test_a_marked_question_that_requests_is_an_order(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("add", tuple(turns), tuple(cart)), menu), kinds


async def test_a_taste_asked_of_an_item_is_no_topping(database_url: str, menu: Menu) -> None:
    # "pica" is no misspelt "piña": the question changes nothing
    before, after, kinds = await _play(database_url, menu, ["una margarita", "¿la pepperoni pica?"])
    assert after == before and "item-info" in kinds, kinds


async def test_ponme_una_orders_rather_than_sets_the_line_to_one(database_url: str, menu: Menu) -> None:
    before, after, kinds = await _play(database_url, menu, ["3 sprites", "ponme una sprite"])
    assert after != Counter({"sprite": 1}), kinds
    assert (after == before and "ask" in kinds) or after == Counter({"sprite": 4}), (after, kinds)


@pytest.mark.parametrize(("turns", "cart"), CHANGED, ids=[t[0][-1] for t in CHANGED])
async def test_spanish_corrections_change_the_line_meant(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("reference", tuple(turns), tuple(cart)), menu), kinds


async def test_a_change_after_ok_is_made(database_url: str, menu: Menu) -> None:
    # "vale, …", "dale, …": the word leads in to the change; it acknowledges nothing
    _, after, kinds = await _play(database_url, menu, ["una margarita", "vale, ponle champiñones porfa"])
    assert after == expected_cart(
        Dialogue("change-options", (), ("1 margherita toppings=mushrooms",)), menu
    ), kinds


async def test_the_line_of_several_units_is_asked_one_or_all(database_url: str, menu: Menu) -> None:
    # "a la pepperoni" with 2 x Pepperoni on one line: one of them, or both? asked
    before, after, kinds = await _play(
        database_url, menu, ["2 pepperoni", "a la pepperoni ponle extra queso"]
    )
    assert after == before and "ask" in kinds, kinds


@pytest.mark.parametrize(
    "turns",
    [
        ["mitad hawaiana mitad pepperoni"],
        ["una coca", "una pizza familiar mitad hawaiana y mitad pepperoni"],
        ["una coca", "una grande, la mitad de pepperoni y la otra mitad de champiñones"],
        ["una pepperoni y una hawaiana", "mejor mitad y mitad"],
    ],
)
async def test_half_and_half_is_asked_never_added(database_url: str, menu: Menu, turns: list[str]) -> None:
    # the menu has no halves: the kinds named are offered whole, nothing is added
    before, after, kinds = await _play(database_url, menu, turns)
    assert after == before and "ask" in kinds, kinds


async def test_a_kind_offered_whole_for_halves_is_added_when_chosen(database_url: str, menu: Menu) -> None:
    turns = ["una pizza familiar mitad hawaiana y mitad pepperoni", "2"]
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("add", (), ("1 pepperoni size=extra-large",)), menu), kinds


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        # the item said once, the units told apart by size: each unit the same item
        ("una pepperoni grande y una chica", ["1 pepperoni size=large", "1 pepperoni size=small"]),
        ("una grande y una mediana de pepperoni", ["1 pepperoni size=large", "1 pepperoni"]),
        ("quiero dos pepperoni, una grande y una mediana", ["1 pepperoni size=large", "1 pepperoni"]),
        ("dos margaritas, una grande y otra chica", ["1 margherita size=large", "1 margherita size=small"]),
    ],
)
async def test_a_size_said_without_its_item_orders_the_item_beside_it(
    database_url: str, menu: Menu, text: str, cart: list[str]
) -> None:
    _, after, kinds = await _play(database_url, menu, [text])
    assert after == expected_cart(Dialogue("add", (text,), tuple(cart)), menu), kinds


# Corrections as they are written in Mexico, Argentina, Colombia and Spain: "sacale", "poneme",
# "me das", "vale", "dale", "porfa", "che". An empty cart after a changed one means the bot asks.
REGISTERS = [
    # Argentina: voseo ("sacá", "poneme", "hacela"), "che", "dale"
    (["una coca y una margarita", "sacale la coca"], ["1 margherita"]),
    (["una coca y una margarita", "che, sacá la coca"], ["1 margherita"]),
    (["una margarita", "poneme una coca"], ["1 margherita", "1 coke"]),
    (["una margarita", "poneme extra queso a la margarita"], ["1 margherita toppings=cheese:extra"]),
    (["2 cocas", "che, que sean 3 cocas"], ["3 coke"]),
    (["una hawaiana y un brownie", "sacame el brownie porfa"], ["1 hawaiian"]),
    (["una hawaiana", "sacale la piña"], ["1 hawaiian -toppings=pineapple"]),
    (["una hawaiana", "a la hawaiana sacale la piña"], ["1 hawaiian -toppings=pineapple"]),
    (["quiero una hawaiana", "dale, y una coca también"], ["1 hawaiian", "1 coke"]),
    (["una pepperoni", "no, pará, mejor una margarita en vez de la pepperoni"], ["1 margherita"]),
    (["una pepperoni", "hacela grande"], ["1 pepperoni size=large"]),
    (["una sprite", "cambiame la sprite por una coca light"], ["1 diet-coke"]),
    (["2 brownies", "sacame un brownie"], ["1 brownie"]),
    (["2 cocas y una sprite", "che, la sprite sacala"], ["2 coke"]),
    (["una hawaiana", "dale, que sean dos"], ["2 hawaiian"]),
    (["2 margaritas", "de las margaritas sacame una"], ["1 margherita"]),
    (["una margarita", "dale, ponle champiñones porfa"], ["1 margherita toppings=mushrooms"]),
    # Colombia and Mexico: "me das", "me regalas", "porfa", "quiero"
    (["una margarita", "dale, y me das una sprite porfa"], ["1 margherita", "1 sprite"]),
    (["una coca y un tiramisú", "me quitas el tiramisú porfa"], ["1 coke"]),
    (["me das dos cocas porfa"], ["2 coke"]),
    (["una pepperoni", "porfa la pepperoni que sea grande"], ["1 pepperoni size=large"]),
    (["un agua", "el agua cambiámela por una sprite"], ["1 sprite"]),
    (["una pepperoni", "quiero otra igual"], ["2 pepperoni"]),
    (["una margarita y un tiramisú", "ya no quiero el tiramisú, porfa"], ["1 margherita"]),
    # Spain: "vale", "ponme", "quítame"
    (["una coca", "vale, mejor cámbiame la coca por un agua"], ["1 water"]),
    (["3 aguas", "vale, solo 2 aguas"], ["2 water"]),
    (["una margarita y un pan de ajo", "vale, quita el pan de ajo"], ["1 margherita"]),
    (["una margarita", "me pones un tiramisú, vale"], ["1 margherita", "1 tiramisu"]),
    (["una margarita", "vale, ponle champiñones porfa"], ["1 margherita toppings=mushrooms"]),
    (["2 aguas", "vale, quítame un agua"], ["1 water"]),
    # the sizes of units said once with the item
    (["dos pepperoni, una grande y una mediana"], ["1 pepperoni size=large", "1 pepperoni"]),
    # not said which: asked, the cart as it was
    (["una margarita y una hawaiana", "ponle extra queso"], ["1 margherita", "1 hawaiian"]),
    (["una margarita y una hawaiana", "sacale una"], ["1 margherita", "1 hawaiian"]),
    (["2 pepperoni", "dale, a la pepperoni ponle jalapeños"], ["2 pepperoni"]),
    # "sacales": from them (never "add")
    (["2 hawaianas", "a las dos sacales la piña"], ["2 hawaiian -toppings=pineapple"]),
    (["2 hawaianas", "a la hawaiana sacale la piña"], ["2 hawaiian"]),
    # "cocas zero" are the diet ones, so "solo 1 coca normal" leaves them be
    (["2 cocas 2 cocas zero"], ["2 coke", "2 diet-coke"]),
    (["2 cocas 2 cocas zero", "solo 1 coca normal"], ["1 coke", "2 diet-coke"]),
    # "lo mismo pero chica": one more, small; the large one stays
    (["una vegetariana grande", "lo mismo pero chica"], ["1 veggie size=large", "1 veggie size=small"]),
    (["2 cocas y una pepperoni", "las cocas que sean sprite"], ["1 pepperoni", "2 sprite"]),
    # "3 nomás", "me dejas solo una?": the quantity meant
    (["5 aguas", "uy no, 3 nomás"], ["3 water"]),
    (["2 hawaianas grandes", "oye, me dejas solo una?"], ["1 hawaiian size=large"]),
    # "no" between two names is "not": the second swapped for the first
    (["un agua", "uy, era una coca no agua"], ["1 coke"]),
    # "la chica", "la gruesa": the line of that size or crust
    (["hawaiana grande y hawaiana chica", "quita la chica"], ["1 hawaiian size=large"]),
    (["una margarita masa delgada y una margarita masa gruesa", "borrá la gruesa"],
     ["1 margherita crust=thin"]),
    (["4 pepperoni y 4 cocas", "somos 3 nomas, entonces 3 pizzas y 3 cocas"], ["3 pepperoni", "3 coke"]),
]  # fmt: skip


@pytest.mark.parametrize(("turns", "cart"), REGISTERS, ids=[t[0][-1] for t in REGISTERS])
async def test_spanish_corrections_in_every_register(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("reference", tuple(turns), tuple(cart)), menu), kinds


@pytest.mark.parametrize(
    ("turns", "cart"),
    [
        (["¿tienen hawaiana? dame una"], ["1 hawaiian"]),
        (["¿tienen alitas? me das unas porfa"], ["1 wings"]),
        (["una coca", "¿tienen coca light? quiero dos"], ["1 coke", "2 diet-coke"]),
        (["¿tienen tiramisú? porfa me das dos"], ["2 tiramisu"]),
        # a question, then an order of something else: answered, and the order added
        (["¿tienen sprite? y una coca"], ["1 coke"]),
        (["una coca", "¿tienen alitas? y 2 sprites"], ["1 coke", "2 sprite"]),
        (["una margarita", "¿la hawaiana lleva piña? y una coca por favor"], ["1 margherita", "1 coke"]),
        (["¿cuánto cuesta la hawaiana? y una coca"], ["1 coke"]),
    ],
)
async def test_an_item_asked_about_then_ordered_is_added(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    # "¿tienen hawaiana? dame una": the count after the question orders what it asked about
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("add", tuple(turns), tuple(cart)), menu), kinds


@pytest.mark.parametrize(
    ("text", "cart"),
    [
        # "light" said alone after a Coca-Cola is a Coca-Cola Light; "normal" beside it the plain one
        ("una coca light y una normal", ["1 diet-coke", "1 coke"]),
        ("dos cocas, una light", ["1 coke", "1 diet-coke"]),
        ("dos cocas, una normal y una light", ["1 coke", "1 diet-coke"]),
        ("3 cocas, una light", ["2 coke", "1 diet-coke"]),
        ("2 cocas light y una normal", ["2 diet-coke", "1 coke"]),
        ("una hawaiana con orilla rellena y una normal", ["1 hawaiian crust=stuffed", "1 hawaiian"]),
    ],
)
async def test_another_kind_said_without_its_name_is_that_kind(
    database_url: str, menu: Menu, text: str, cart: list[str]
) -> None:
    _, after, kinds = await _play(database_url, menu, [text])
    assert after == expected_cart(Dialogue("add", (text,), tuple(cart)), menu), kinds


async def test_a_correction_after_several_lines_were_added_is_asked_about(
    database_url: str, menu: Menu
) -> None:
    # the last message added a coke and a margherita: "mejor una sprite" may swap the coke, or add
    before, after, kinds = await _play(database_url, menu, ["una coca y una margarita", "mejor una sprite"])
    assert after == before and "ask" in kinds, kinds


async def test_a_change_not_understood_after_ok_is_asked_about(database_url: str, menu: Menu) -> None:
    # "dale, ponele 2": never a thumbs-up that leaves the cart as it was unsaid
    before, after, kinds = await _play(database_url, menu, ["una margarita", "dale, ponele 2"])
    assert after == before and "ask" in kinds, kinds


@pytest.mark.parametrize(
    ("turns", "cart", "asked"),
    [
        # wings come eight to an order: eight of them may be one order or eight
        (["quiero 8 alitas"], [], True),
        (["una docena de alitas"], [], True),
        (["quiero 8 alitas", "1"], ["1 wings"], False),
        (["una docena de alitas", "2"], ["2 wings"], False),
        # a count of orders is a count of orders; a few are as many orders
        (["2 órdenes de alitas"], ["2 wings"], False),
        (["6 porciones de alitas"], ["6 wings"], False),
        (["dos alitas y una coca"], ["2 wings", "1 coke"], False),
    ],
)
async def test_a_count_of_pieces_is_asked_about(
    database_url: str, menu: Menu, turns: list[str], cart: list[str], asked: bool
) -> None:
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("add", tuple(turns), tuple(cart)), menu), kinds
    assert ("ask" in kinds) == asked, kinds


@pytest.mark.parametrize(
    ("turns", "cart"),
    [
        # "pepperoni" shows no language (the store's default was guessed): words only Spanish
        # reads whole after it are Spanish
        (["pepperoni", "hazla grande"], ["1 pepperoni size=large"]),
        (["pepperoni", "que sean 2"], ["2 pepperoni"]),
        # English reads "alitas" only as a misspelling ("a liter"); Spanish reads it as written
        (["pepperoni", "alitas"], ["1 pepperoni", "1 wings"]),
        (["pepperoni", "alitas", "a la pizza ponele aceitunas"], ["1 pepperoni toppings=olives", "1 wings"]),
    ],
)
async def test_a_language_no_message_has_shown_yet_follows_the_words_read(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("reference", tuple(turns), tuple(cart)), menu), kinds
