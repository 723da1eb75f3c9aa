"""Corrections, confirmations, cancelling, questions and small talk written in Portuguese
(Brazil), played through the real conversation (a real PostgreSQL) with the demo store: each
ends with the cart the customer meant and a reply of the kind expected, or a question that
leaves the cart as it was, never a cart the customer did not ask for."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from evals.conversations import NOON, Dialogue, expected_cart
from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from tests.orders.chat import direct_chat
from tests.orders.dialogues import play

CUSTOMER = "whatsapp:+5511987650001"


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


async def _play(
    database_url: str, menu: Menu, turns: list[str]
) -> tuple[Counter[str], Counter[str], list[str]]:
    """(cart before the last turn, cart after it, the kinds of the replies to it)."""
    return await play(database_url, menu, turns, customer=CUSTOMER, start=NOON - dt.timedelta(minutes=5))


# (turns, the cart after the last one, the kind of reply it gets or None)
MEANT = [
    # a yes to "empty your cart?" however it is said
    (["duas cocas e um tiramisu", "limpa o carrinho", "sim pode"], [], None),
    (["uma salada", "quero cancelar tudo", "isso mesmo"], [], None),
    (["uma salada", "apaga tudo", "pode sim"], [], None),
    # a no keeps the cart
    (["uma salada", "esvazia o carrinho", "melhor não"], ["1 salad"], None),
    # emptying the cart, said many ways: asked first
    (["uma sprite e um brownie", "oxe, zera tudo aí"], ["1 sprite", "1 brownie"], "confirm-empty-cart"),
    (["2 cocas", "desisti, não quero mais nada"], ["2 coke"], "confirm-empty-cart"),
    (["uma havaiana", "esquece tudo, não vou querer mais"], ["1 hawaiian"], "confirm-empty-cart"),
    # "só" (with its accent) is Portuguese: a correction, never one more brownie in English
    (["3 brownie 1 tiramisu", "brownie só 2"], ["2 brownie", "1 tiramisu"], None),
    # a line named before its verb ("a coca pode tirar", "o refri troca por…")
    (["um tiramisu e uma coca", "a coca pode tirar"], ["1 tiramisu"], None),
    (["uma havaiana e uma sprite", "o refri troca por coca"], ["1 hawaiian", "1 coke"], None),
    # "ao invés dos…", "no lugar das…": the line said is replaced
    (["2 brownies e uma coca", "ao invés dos brownies, 2 tiramisus"], ["2 tiramisu", "1 coke"], None),
    # "X não, Y": Y instead of X
    (["2 cocas", "coca não, sprite"], ["2 sprite"], None),
    # references: "dessa", "desse", "elas", "as duas"
    (["uma havaiana", "põe mais 2 dessa"], ["3 hawaiian"], None),
    (["um tiramisu", "na real dois desse"], ["2 tiramisu"], None),
    (["2 margueritas", "faz elas grandes"], ["2 margherita size=large"], None),
    (["uma havaiana e uma marguerita", "as duas de massa fina"],
     ["1 hawaiian crust=thin", "1 margherita crust=thin"], None),
    # "uma grande e uma pequena": one of each, not both large
    (["duas havaianas, uma grande e uma pequena"], ["1 hawaiian size=large", "1 hawaiian size=small"],
     None),
    # "borda tradicional" is the classic crust, not a size
    (["uma havaiana grande de borda recheada", "borda tradicional"], ["1 hawaiian size=large"], None),
    # "a pepperoni tem carne?" asks what the pizza has; "sou vegetariana" orders nothing
    (["a pepperoni tem carne? sou vegetariana"], [], "item-info"),
    # quantities set with a verb ("faz 4", "diminui para 2", "deixa 2 só", "o certo são duas")
    (["uma coca", "faz 4 kkkk"], ["4 coke"], None),
    (["5 sprites", "diminui para 2"], ["2 sprite"], None),
    (["3 cocas", "deixa 2 só"], ["2 coke"], None),
    (["três havaianas", "perdão, o certo são duas"], ["2 hawaiian"], None),
    (["1 havaiana, 1 coca e 1 brownie", "item 3 para 2"], ["1 hawaiian", "1 coke", "2 brownie"], None),
    # questions, chat spellings ("qto", "vcs", "hj", "mto") included
    (["uma coca", "qto custa o tiramisu?"], ["1 coke"], "price"),
    (["uma havaiana", "e a borda recheada é quanto?"], ["1 hawaiian"], "price"),
    (["vcs entregam no centro?"], [], "delivery-area"),
    (["que horas vcs abrem hj?"], [], "hours"),
    (["1 coca", "vai demorar mto?"], ["1 coke"], "eta"),
    (["aceitam pix?"], [], "payment"),
    (["uma havaiana", "como ficou meu pedido?"], ["1 hawaiian"], "cart"),
    (["um tiramisu", "finalizar", "retirada", "confirmar", "como anda meu pedido?"], [], "order-status"),
    # small talk
    (["uma coca", "valeu demais"], ["1 coke"], "ack"),
    (["uma coca", "muito obrigado, meu amigo"], ["1 coke"], "ack"),
    (["uma coca", "era só isso"], ["1 coke"], "offer-checkout"),
    # the language of a first message: names read only as misspellings by the default
    # language ("havaianas"), "e" before anything but an "i" (Spanish writes "y"), "oxe"
    (["3 havaianas", "onde fica a loja?"], ["3 hawaiian"], "contact"),
    (["1 brownie e 1 pepperoni grande", "em vez do brownie, 2 tiramisus"],
     ["2 tiramisu", "1 pepperoni size=large"], None),
    (["oxe, entrega lá no centro?"], [], "delivery-area"),
    # "e não dois": the quantity corrected, not a second one set
    (["uma havaiana e duas cocas", "correção: são três cocas e não duas"], ["1 hawaiian", "3 coke"], None),
    # "the other one" after a line removed in the same message is the line left
    (["quero uma pepperoni e uma marguerita", "tira a pepperoni e põe mais uma da outra"],
     ["2 margherita"], None),
    # "quero só uma", "quis dizer 4", "mais uma igual", "tem sobremesa?"
    (["3 havaianas", "quero só uma"], ["1 hawaiian"], None),
    (["2 sprites", "quis dizer 4"], ["4 sprite"], None),
    (["uma havaiana", "mais uma igual"], ["2 hawaiian"], None),
    (["tem sobremesa?"], [], "menu"),
    # an option taken "da havaiana" is taken from it; "tudo menos a…" keeps that line only
    (["2 cocas e 1 havaiana", "tira o abacaxi da havaiana"], ["2 coke", "1 hawaiian -toppings=pineapple"],
     None),
    (["2 cocas e 1 havaiana", "tira tudo menos a havaiana"], ["1 hawaiian"], None),
    (["2 cocas e 1 havaiana", "quanto deu tudo?"], ["2 coke", "1 hawaiian"], "price"),
    # "na verdade é só uma", "aumenta a coca pra 3", "faz duas dela", "vcs fecham que horas"
    (["quero duas pepperoni", "na verdade é só uma"], ["1 pepperoni"], None),
    (["quero duas pepperoni e uma coca", "aumenta a coca pra 3"], ["2 pepperoni", "3 coke"], None),
    (["quero uma vegetariana", "faz duas dela"], ["2 veggie"], None),
    (["vcs fecham que horas"], [], "hours"),
    # "por favor" is Portuguese too: a Portuguese customer is not switched to Spanish by it
    (["quero duas pepperoni e uma coca", "retira a coca por favor"], ["2 pepperoni"], None),
    # "coloca uma coca" orders one more, it does not set the line to one
    (["2 cocas e 1 havaiana", "coloca uma coca"], ["3 coke", "1 hawaiian"], None),
    (["uma coca", "quais as sobremesas?"], ["1 coke"], "menu"),
    # "X não precisa mais", "X não, tchê": X taken out; "na X tira a Y": Y taken off X
    (["uma salada e uma coca", "coca não precisa mais não"], ["1 salad"], None),
    (["uma salada e uma coca", "coca não, tchê"], ["1 salad"], None),
    (["uma havaiana e uma coca", "na havaiana tira o abacaxi e a cebola"],
     ["1 hawaiian -toppings=pineapple -toppings=onions", "1 coke"], None),
    # cancelling the order just placed
    (["um tiramisu", "finalizar", "retirada", "confirmar", "mano, cancela aí o pedido"], [],
     "order-cancelled"),
    (["um tiramisu", "finalizar", "retirada", "confirmar", "Gostaria de cancelar o pedido que eu fiz"],
     [], "order-cancelled"),
    (["um tiramisu", "finalizar", "retirada", "confirmar", "tem como cancelar o pedido? cancela ele"],
     [], "order-cancelled"),
    # a correction right after one line was added replaces that line
    (["uma havaiana pequena", "na verdade uma pepperoni"], ["1 pepperoni size=small"], None),
    (["uma havaiana", "errei, era pepperoni"], ["1 pepperoni"], None),
    # "uma sem abacaxi" after two of them: one of them without pineapple
    (["2 havaianas grandes", "uma sem abacaxi"],
     ["1 hawaiian size=large", "1 hawaiian size=large -toppings=pineapple"], None),
    # wings come eight to a portion: a count said in portions is portions, a choice is answered
    (["8 porções de asinhas"], ["8 wings"], None),
    (["duas asinhas e uma coca"], ["2 wings", "1 coke"], None),
    (["quero 8 asinhas", "1"], ["1 wings"], None),
    (["quero 8 asinhas e uma coca", "2"], ["8 wings", "1 coke"], None),
    # "cocas zero" are the diet ones
    (["2 cocas e 2 cocas zero"], ["2 coke", "2 diet-coke"], None),
    (["uma vegetariana grande", "a mesma coisa só q broto"], ["1 veggie size=large", "1 veggie size=small"],
     None),
    (["3 cocas", "uma delas sprite"], ["2 coke", "1 sprite"], None),
    # a request asked as a question; "já tá bom" says the count is enough
    (["2 cocas e uma pepperoni", "as cocas podem ser sprite?"], ["1 pepperoni", "2 sprite"], None),
    (["2 saladas", "uma salada ja ta bom"], ["1 salad"], None),
    # "era coca e não água": the water swapped for a coke
    (["uma agua", "ops, era coca e n agua"], ["1 coke"], None),
    # "3 tá bom", "pode deixar só uma", "foi mal, eram 2": the quantity meant
    (["5 aguas", "eita mto, 3 ta bom"], ["3 water"], None),
    (["2 havaiana grande", "opa, vc pode deixar só uma?"], ["1 hawaiian size=large"], None),
    (["4 pães de alho", "foi mal, eram 2 pães de alho"], ["2 garlic-bread"], None),
    # "oq" is "o que", word by word
    (["uma coca", "oq tem no meu carrinho?"], ["1 coke"], "cart"),
    (["pepperoni grande", "quanto fica?"], ["1 pepperoni size=large"], "price"),
    # "a broto": the small one
    (["havaiana grande e havaiana broto", "tira a broto"], ["1 hawaiian size=large"], None),
    (["4 pepperoni e 4 coca", "somos só 3, entao 3 pizzas e 3 cocas"], ["3 pepperoni", "3 coke"], None),
    # a line named by its size with "da", then its new count
    (["uma havaiana grande e uma havaiana broto", "da broto quero 3"],
     ["1 hawaiian size=large", "3 hawaiian size=small"], None),
    (["3 sprites pequenas e uma sprite grande", "das pequenas só uma"],
     ["1 sprite drink-size=small", "1 sprite drink-size=large"], None),
    (["2 cocas e uma havaiana", "da coca faz 4"], ["4 coke", "1 hawaiian"], None),
    # "a zero": the word that makes the Coca-Cola Zero of a coke names that line
    (["coca e coca zero", "tira a zero"], ["1 coke"], None),
    (["coca e coca zero", "a zero grande"], ["1 coke", "1 diet-coke drink-size=large"], None),
    # a first message of menu names only is read in the language that knows them as written,
    # not as misspellings of another's ("havaiana" is not Spanish "hawaiana"): "a pepperoni
    # grande" then names the line with the options it is to have ("uma pepperoni grande"
    # would be one more), never "a" Spanish
    (["1 havaiana e 1 pepperoni", "a pepperoni grande"], ["1 hawaiian", "1 pepperoni size=large"], None),
    (["uma água e uma zero"], [], "ask"),
    (["3 cocas", "uma delas diet"], ["2 coke", "1 diet-coke"], None),
    # "troca uma por havaiana": one of the units becomes another item
    (["3 cocas", "troca uma por sprite"], ["2 coke", "1 sprite"], None),
    # "uma das duas": one unit of the line of two
    (["2 margueritas", "uma das duas com queijo extra"],
     ["1 margherita", "1 margherita toppings=cheese:extra"], None),
    # "mais uma dessa": one more of the line talked about
    (["uma pepperoni grande", "mais uma dessa"], ["2 pepperoni size=large"], None),
    # "sem presunto" after a Havaiana and a Pepperoni: the one that has ham
    (["havaiana e pepperoni", "sem presunto"], ["1 hawaiian -toppings=ham", "1 pepperoni"], None),
    # "sem salada nem pão de alho": neither line
    (["asinhas, salada e pão de alho", "sem salada nem pão de alho"], ["1 wings"], None),
    # "umas", "uns": some
    (["uma vegetariana massa fina", "e umas asinhas tb"], ["1 veggie crust=thin", "1 wings"], None),
    # "só isso mesmo" is all, never "isso mesmo" (yes) with "so" before it
    (["havaiana", "só isso mesmo"], ["1 hawaiian"], "offer-checkout"),
    # a first message asking about the store is Portuguese, and answered
    (["abre domingo?"], [], "hours"),
    (["tem guaraná?"], [], "menu"),
    (["uma coca", "tem guaraná?"], ["1 coke"], "menu"),
    (["chegam até o 11231?"], [], "delivery-area"),
    # "uma sobremesa" asks which; "deixa quieto" drops the question
    (["uma coca", "e uma sobremesa", "deixa quieto"], ["1 coke"], "dropped"),
    (["coca", "coloca uma sobremesa", "ah n precisa n"], ["1 coke"], "dropped"),
    (["coca", "coloca uma sobremesa", "não, obrigado"], ["1 coke"], "dropped"),
    # a size said in the plural after two items is each one's
    (["havaiana e pepperoni grandes"], ["1 hawaiian size=large", "1 pepperoni size=large"], None),
    (["havaiana e pepperoni grandes", "uma broto"], ["1 hawaiian size=large", "1 pepperoni size=large"],
     "ask"),
    # a count taken back in the same message: the count said last
    (["quero duas pizzas grandes de pepperoni... não, uma só"], ["1 pepperoni size=large"], None),
    # "uma" of a line of several swapped is one unit of it ("uma das cocas": one of them)
    (["2 cocas", "troca uma coca por coca zero"], ["1 coke", "1 diet-coke"], None),
    (["2 cocas", "troca uma das cocas por uma coca zero"], ["1 coke", "1 diet-coke"], None),
]  # fmt: skip


@pytest.mark.parametrize(("turns", "cart", "answer"), MEANT, ids=[t[0][-1] for t in MEANT])
async def test_portuguese_messages_do_what_the_customer_meant(
    database_url: str, menu: Menu, turns: list[str], cart: list[str], answer: str | None
) -> None:
    before, after, kinds = await _play(database_url, menu, turns)
    dialogue = Dialogue("pt", tuple(turns), tuple(cart), answer)
    assert after == expected_cart(dialogue, menu), (before, after, kinds)
    if answer is not None:
        assert answer in kinds, kinds


# Messages that could mean more than one change: asked about, the cart left as it was.
ASKED = [
    ["uma havaiana grande e uma coca", "tira ela"],
    # "não é isso", "tá errado": something is wrong, but not what
    ["2 cocas e 1 havaiana", "não é isso"],
    ["2 cocas e 1 havaiana", "tá errado"],
    # "ao invés de coca, guaraná": what is meant instead is not on the menu
    ["2 cocas e 1 havaiana", "ao invés de coca, guaraná"],
    # a pizza of two halves is no item of the menu: asked which, never both added
    ["quero uma pizza metade marguerita metade calabresa"],
    ["uma coca", "faz uma meio a meio de havaiana e pepperoni"],
    ["half and half please, half hawaiian half veggie"],
    # a count of wings that is rather a count of pieces (a portion has eight): which is meant?
    ["quero 8 asinhas"],
    # the last message added two lines: which one a correction swaps is asked
    ["uma coca e uma marguerita", "na verdade uma sprite"],
    ["uma coca", "e 10 asinhas"],
]


@pytest.mark.parametrize("turns", ASKED, ids=[t[-1] for t in ASKED])
async def test_portuguese_messages_that_could_mean_more_than_one_change_are_asked_about(
    database_url: str, menu: Menu, turns: list[str]
) -> None:
    before, after, kinds = await _play(database_url, menu, turns)
    assert after == before, (before, after, kinds)
    assert "ask" in kinds, kinds


async def test_a_first_message_both_languages_read_whole_is_in_the_language_of_the_number(
    database_url: str,
) -> None:
    # "1 sprite, 1 coca" is Spanish as much as Portuguese: a number from Brazil reads it in
    # Portuguese, one from Mexico in Spanish; the cart is the same either way
    async with direct_chat(database_url, start=NOON) as chat:
        brazil = " ".join(await chat.say("1 sprite, 1 coca", customer="whatsapp:+5511987650099"))
        mexico = " ".join(await chat.say("1 sprite, 1 coca", customer="whatsapp:+5215512340099"))
    assert "Adicionei" in brazil, brazil
    assert "Agregué" in mexico, mexico


async def test_a_language_no_message_has_shown_yet_follows_the_words_read(
    database_url: str, menu: Menu
) -> None:
    # "coca" was no evidence of a language (Spanish, the store's first that reads it, was
    # guessed): "garrafa, n lata" is read whole only in Portuguese, which it then is
    turns = ["coca", "garrafa, n lata"]
    _, after, kinds = await play(database_url, menu, turns, customer="whatsapp:+15557770031", start=NOON)
    assert after == expected_cart(Dialogue("pt", tuple(turns), ("1 coke container=bottle",)), menu), kinds


async def test_a_guessed_language_follows_the_marker_words_of_a_message_two_languages_read(
    database_url: str, menu: Menu
) -> None:
    # "4 brownies" shows no language; Spanish and Portuguese both read "um a menos" whole, but
    # "um" is Portuguese: the brownies go down by one, in Portuguese
    async with direct_chat(database_url, start=NOON) as chat:
        customer = "whatsapp:+15557770032"
        await chat.say("4 brownies", customer=customer)
        reply = " ".join(await chat.say("um a menos", customer=customer))
    assert "3 x" in reply and "Lo siento" not in reply, reply
