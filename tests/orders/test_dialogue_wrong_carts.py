"""Messages the dialogue layer must never turn into a cart the customer did not ask for: a
reference that names no line, words it does not understand beside a change, a correction that
could be read as an addition. Each is played through the real conversation (a real PostgreSQL),
and either changes the cart as meant or asks (reply kind ``ask``), leaving the cart as it was."""

from __future__ import annotations

from collections import Counter

import pytest

from evals.conversations import Dialogue, expected_cart
from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from services.orders.understanding.acts import said_last
from tests.orders.dialogues import play

CUSTOMER = "whatsapp:+15557770001"


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


async def _play(
    database_url: str, menu: Menu, turns: list[str]
) -> tuple[Counter[str], Counter[str], list[str]]:
    """(cart before the last turn, cart after it, the kinds of the replies to it)."""
    return await play(database_url, menu, turns, customer=CUSTOMER)


ASKED = [
    # "no cheese" with the cheese chosen on one line: which is asked (only a dish with it as it
    # comes is named by what it leaves out)
    ["margherita and garlic bread with cheese", "no cheese"],
    # a line described by options no line has: never another line instead
    ["a pepperoni", "a pepperoni with extra cheese", "the one with mushrooms large"],
    ["2 pepperoni", "the cheesy one large"],
    # words the bot does not understand, with a cart to change: a question, not "sorry"
    ["1 pepperoni and 1 margherita", "make them the same size"],
    ["a margherita and a veggie", "i want the bigger one"],
    # an item of the cart named with a "no" beside words that could change it
    ["a thin margherita and a brownie", "brownie no, tiramisu maybe"],
    # an ingredient left out that two lines have (one chose it, the other comes with it)
    ["a veggie", "and a margherita with olives", "take off the olives"],
    # "them" over pizzas and drinks: a size for which of them?
    ["1 pepperoni and 1 hawaiian and 2 cokes", "make them large"],
    # a correction that would leave the cart as it was was not understood: asked
    ["i'll get a margherita and a pepperoni, both thin", "no wait only the margherita thin"],
    ["margherita and pepperoni, add mushrooms to both", "only on the margherita actually"],
    # "another one with mushrooms" after two pizzas: another of which?
    ["a pepperoni and a margherita", "another one with mushrooms"],
    # "the same number" of the lines being talked about, when they are several
    ["2 pepperoni and a coke", "and the same number of tiramisus"],
    # "the bigger one" of two lines of the same size is a question
    ["a large pepperoni and a large hawaiian", "remove the bigger one"],
    # "one" after an ordinal is the reference, not a quantity
    ["margherita, pepperoni, hawaiian", "wait change the second one"],
    # both lines are large: which one?
    ["large pepperoni and large coke", "remove the large one"],
    # "double it" with two lines being talked about; half of 3 is no whole number
    ["2 pepperoni and a coke", "double it"],
    # "the other" is 2 of the 3: which is not said, and the first half is not applied alone
    ["3 veggie", "one of them large and the other thin"],
    ["veggie no onions + sprite", "and another veggie, that one can have the onions"],
    # a quantity the line already has corrects nothing: what was meant is asked
    ["2 cokes", "make it 2"],
    # an option left out whose name is a word of an item in the cart: the topping, or the item?
    ["margherita with garlic, and a garlic bread", "no garlic"],
    # what is meant instead is not on the menu: the line named is not said again
    ["2 cokes and a hawaiian", "instead of the coke, a guarana"],
    # a count of an item already in the cart: the new total, or that many more?
    ["1 hawaiian", "i want 2 hawaiians"],
    ["1 havaiana", "quero 2 havaianas"],
    ["una hawaiana y una coca", "quiero 3 hawaianas"],
    # an item in the cart named again "with" an option: that line changed, or another one?
    ["build your own with ham", "build your own with olives"],
    ["byo w ham", "byo with olives"],
    # two lines of one item that differ by size, named by the item alone: which one?
    ["a large pepperoni and a small pepperoni", "remove the pepperoni"],
    ["large pepperoni, small pepperoni", "no onions on it"],
    ["large pepperoni + small pepperoni", "pepperoni x2"],
    ["large pepperoni + small pepperoni", "remove one pepperoni"],
    ["large pepperoni and small pepperoni", "another pepperoni"],
    ["pepperoni large and pepperoni medium", "swap the pepperoni for a hawaiian"],
    ["large pepperoni + small pepperoni + coke", "the pepperoni gluten free"],
    # a plural name with one unit of its item, and another line whose name holds it
    ["a coke and a diet coke", "cancel the cokes"],
    ["a coke a diet coke and a sprite", "remove the cokes"],
    # the second edit names no line it can change: the first is not applied alone
    ["2 pepperoni and a coke", "remove the coke and make the rest diet"],
    # two lines of several units: which one is meant is not said
    ["3 cokes and 2 sprites", "only two of those"],
    # two quantities for three lines: which is which is not said
    ["a pepperoni, a coke and a sprite", "make them two and three"],
    # nothing to trade: both have the same crust, or three lines could
    ["margherita thin crust and pepperoni thin crust", "swap the crusts"],
    ["thin margherita, thick pepperoni, stuffed veggie", "swap the crusts"],
]


@pytest.mark.parametrize("turns", ASKED, ids=[t[-1] for t in ASKED])
async def test_words_that_name_no_line_or_are_not_understood_are_asked_about(
    database_url: str, menu: Menu, turns: list[str]
) -> None:
    before, after, kinds = await _play(database_url, menu, turns)
    assert after == before, (before, after, kinds)
    assert "ask" in kinds, kinds


CHANGED = [
    (["2 veggie no onions", "a veggie", "2 cokes", "the one without onions make it thin"],
     ["2 veggie -toppings=onions crust=thin", "1 veggie", "2 coke"]),
    (["salad, garlic bread, wings", "only the wings, forget the rest"], ["1 wings"]),
    (["one coke, one sprite, one diet coke", "and a margherita", "drop the first two drinks"],
     ["1 diet-coke", "1 margherita"]),
    (["garlic bread", "wings", "salad", "remove the first two"], ["1 salad"]),
    # "the bigger one" of two sizes of one item, after a line with no size
    (["1 small hawaiian, 1 large hawaiian", "and a tiramisu", "remove the bigger one"],
     ["1 hawaiian size=small", "1 tiramisu"]),
    (["a hawaiian and a veggie", "remove the veggie and add another of the other one"], ["2 hawaiian"]),
    (["large pepperoni stuffed crust x2, coke x2", "make both 3"],
     ["3 pepperoni size=large crust=stuffed", "3 coke"]),
    # quantities said relative to the line: doubled, halved; "x3*" corrects to 3 in all
    (["a pepperoni and 2 cokes", "double the cokes"], ["1 pepperoni", "4 coke"]),
    (["1 tiramisu, 1 brownie, 1 veggie", "double the desserts"], ["2 tiramisu", "2 brownie", "1 veggie"]),
    (["6 garlic bread", "6 is way too much, half that"], ["3 garlic-bread"]),
    (["wings x2 and a large coke", "wings x3*"], ["3 wings", "1 coke drink-size=large"]),
    (["1 hawaiian and 1 coke", "hawaiian x2"], ["2 hawaiian", "1 coke"]),
    (["a margherita", "same again"], ["2 margherita"]),
    # two edits joined by "and" with no verb after it; "the other one" is the line not named
    (["wings, salad", "the salad x2 and the other one out"], ["2 salad"]),
    (["1 water and 1 coke", "the water 2 litres, the other one a bottle"],
     ["1 water volume=2l", "1 coke container=bottle"]),
    (["2 veggie", "one of them large and the other thin"], ["1 veggie size=large", "1 veggie crust=thin"]),
    # a line named by what it has, as the dish comes ("the one with pineapple" is the Hawaiian)
    (["a margherita and a hawaiian", "could you make the one with pineapple a pepperoni instead"],
     ["1 margherita", "1 pepperoni"]),
    (["2 pepperoni, one with extra cheese", "make the one with extra cheese large"],
     ["1 pepperoni", "1 pepperoni size=large toppings=cheese:extra"]),
    # a name, then a change of "it": that line; "X, not Y": Y swapped for X
    (["2 veggie, 2 wings", "wings, take one off"], ["2 veggie", "1 wings"]),
    (["a small veggie and a coke", "Oh, I meant a small pepperoni, not a veggie"],
     ["1 pepperoni size=small", "1 coke"]),
    # lines named by position, by options, by kind; "each dessert"
    (["hawaiian, veggie, margherita", "the middle one gluten free"],
     ["1 hawaiian", "1 veggie crust=gluten-free", "1 margherita"]),
    (["2 margherita small", "2 margherita large", "only one of the small"],
     ["1 margherita size=small", "2 margherita size=large"]),
    (["a large margherita and a small margherita", "3 small ones actually"],
     ["1 margherita size=large", "3 margherita size=small"]),
    (["1 coke and 1 large pepperoni", "another one of those pizzas"], ["1 coke", "2 pepperoni size=large"]),
    (["2 tiramisu 2 brownie 1 pepperoni xl", "just one of each dessert"],
     ["1 tiramisu", "1 brownie", "1 pepperoni size=extra-large"]),
    # an option said back to what the line comes with; a plural name is the line in the cart
    (["2 diet cokes small", "and a pepperoni", "diet cokes regular size pls"],
     ["2 diet-coke", "1 pepperoni"]),
    (["large pepperoni stuffed crust, 2 sprites", "normal crust on the pepperoni is fine actually"],
     ["1 pepperoni size=large", "2 sprite"]),
    # "the bigger one": the line of the largest size; "the xl ones are too big" is no option
    (["1 small hawaiian, 1 large hawaiian", "and a tiramisu", "remove the bigger one"],
     ["1 hawaiian size=small", "1 tiramisu"]),
    (["pepperoni xl + hawaiian xl", "hmm the xl ones are too big, make them both large"],
     ["1 pepperoni size=large", "1 hawaiian size=large"]),
    # a kind in the plural with options and no number: the lines of that kind
    (["small margherita 2x, coke 2x", "pizzas medium pls"], ["2 margherita", "2 coke"]),
    # one more of a line, with options changed
    (["large pepperoni and a diet coke", "same pizza again but with mushrooms"],
     ["1 diet-coke", "1 pepperoni size=large", "1 pepperoni size=large toppings=mushrooms"]),
    (["a large veggie", "another one without onions"],
     ["1 veggie size=large", "1 veggie size=large -toppings=onions"]),
    (["a large veggie", "same again but small"], ["1 veggie size=large", "1 veggie size=small"]),
    # the "no" of a topping does not reach a size said after a comma
    (["hawaiian with extra pineapple", "actually no extra pineapple, normal is fine"], ["1 hawaiian"]),
    (["veggie no onions, large"], ["1 veggie size=large -toppings=onions"]),
    (["a large veggie", "the same but small"], ["1 veggie size=large", "1 veggie size=small"]),
    # one of the units becomes another item; a count for each of several lines
    (["3 cokes", "one of them a sprite"], ["2 coke", "1 sprite"]),
    (["2 cokes and a pepperoni", "the cokes can be sprite?"], ["1 pepperoni", "2 sprite"]),
    (["4 pepperoni and 4 cokes", "we are only 3, so 3 pizzas and 3 cokes"], ["3 pepperoni", "3 coke"]),
    # an order counted by lines of the cart
    (["3 brownies", "and the same number of tiramisus"], ["3 brownie", "3 tiramisu"]),
    (["2 pep 1 marg", "drinks: one coke for each pizza"], ["2 pepperoni", "1 margherita", "3 coke"]),
    # "X no, Y yes" and "X change to Y" swap a line
    (["a thin margherita and a brownie", "brownie no, tiramisu yes"],
     ["1 margherita crust=thin", "1 tiramisu"]),
    (["hi 1 hawaii and 1 coke can", "hawaii change to vegetarian"], ["1 veggie", "1 coke container=can"]),
    # "without extra cheese" is the dish as it comes, not without cheese
    (["a pepperoni pizza with extra cheese and a pepperoni pizza without extra cheese"],
     ["1 pepperoni toppings=cheese:extra", "1 pepperoni"]),
    # another amount of an option already chosen replaces it
    (["1 margherita with extra cheese, 1 coke", "not extra cheese, double cheese"],
     ["1 margherita toppings=cheese:double", "1 coke"]),
    # "a large and a small" are one of each now; the large one's new quantity
    (["2 margheritas, a large and a small", "the large make it 2"],
     ["2 margherita size=large", "1 margherita size=small"]),
    # the answer to "the new total, or that many more?"
    (["1 hawaiian", "i want 2 hawaiians", "1"], ["2 hawaiian"]),
    (["1 hawaiian", "i want 2 hawaiians", "2"], ["3 hawaiian"]),
    # a word of adding says it is more
    (["1 hawaiian", "2 more hawaiians"], ["3 hawaiian"]),
    # options said after a swap, in a part of their own, go on the new line
    (["a large hawaiian and a coke", "swap the hawaiian for a build your own, with ham and olives"],
     ["1 build-your-own size=large toppings=ham toppings=olives", "1 coke"]),
    # lines of one item that differ by size or by name, each named by what sets it apart
    (["large pep + small pep", "the small one x2"], ["1 pepperoni size=large", "2 pepperoni size=small"]),
    (["coke n diet coke", "2 of the coke"], ["2 coke", "1 diet-coke"]),
    (["a coke and a diet coke", "remove the coke"], ["1 diet-coke"]),
    (["a coke and a diet coke", "the coke a bottle"], ["1 coke container=bottle", "1 diet-coke"]),
    (["2 cokes and a diet coke", "one less coke"], ["1 coke", "1 diet-coke"]),
    (["large pepperoni and small pepperoni", "make both medium"], ["2 pepperoni size=medium"]),
    (["2 byo one with ham one with pineapple", "extra cheese on the pineapple one"],
     ["1 build-your-own toppings=ham", "1 build-your-own toppings=pineapple toppings=cheese:extra"]),
    # "one of the large": one unit of the line by its size, not the whole line
    (["2 large pepperoni and 1 small pepperoni", "remove one of the large"],
     ["1 pepperoni size=large", "1 pepperoni size=small"]),
    (["2 large pepperoni and 2 small hawaiian", "one of the small thin crust"],
     ["2 pepperoni size=large", "1 hawaiian size=small", "1 hawaiian size=small crust=thin"]),
    # a line said again that is already in the cart as said is that line, not the other changed
    (["a large pepperoni and a small pepperoni", "the small pepperoni is for my kid, no pepperoni on it lol"],
     ["1 pepperoni size=large", "1 pepperoni size=small -toppings=pepperoni"]),
    (["large pepperoni, small pepperoni", "make the small one large and add a coke"],
     ["2 pepperoni size=large", "1 coke"]),
    # a line taken back and said again in the same message: only what was said last
    (["2 pepperoni no wait 3"], ["3 pepperoni"]),
    (["a coke, sorry, a diet coke"], ["1 diet-coke"]),
    (["a veggie and a coke, i mean a sprite"], ["1 veggie", "1 sprite"]),
    (["a veggie, no olives"], ["1 veggie -toppings=olives"]),
    (["2 margherita... actually make that 1"], ["1 margherita"]),
    # "another of that": one more of the line talked about
    (["a large pepperoni", "another of that"], ["2 pepperoni size=large"]),
    # "no ham" after a Hawaiian and a Pepperoni: the one that has ham
    (["hawaiian and pepperoni", "no ham"], ["1 hawaiian -toppings=ham", "1 pepperoni"]),
    # "no salad or garlic bread": neither line
    (["wings, salad and garlic bread", "no salad or garlic bread"], ["1 wings"]),
    # "one of the two": one unit of the line of two
    (["2 margheritas", "one of the two with extra cheese"],
     ["1 margherita", "1 margherita toppings=cheese:extra"]),
    # "change one to a hawaiian": one of the units becomes another item
    (["2 pepperoni", "change one to a hawaiian"], ["1 pepperoni", "1 hawaiian"]),
    # to "change my thin one, or add a stuffed one?", the thin one taken off: the change
    (["margherita thin crust", "margherita stuffed crust", "remove the thin one"],
     ["1 margherita crust=stuffed"]),
    # an option before the name says which line is counted ("the small cokes")
    (["large coke and small coke", "3 of the small cokes"],
     ["1 coke drink-size=large", "3 coke drink-size=small"]),
    (["2 large pepperoni and a small pepperoni", "2 of the small pepperonis"],
     ["2 pepperoni size=large", "2 pepperoni size=small"]),
    # "let's do a ... with ... instead": an order said instead, no question about the menu
    (["I'll have a veggie", "hmm no, let's do a build your own with chicken and bacon instead"],
     ["1 build-your-own toppings=chicken toppings=bacon"]),
    # toppings said alone after "with" are for the line just added, even one named like a pizza
    (["build your own", "with pepperoni, sausage and onions"],
     ["1 build-your-own toppings=pepperoni toppings=sausage toppings=onions"]),
    # a bare number after a hesitation reconsiders the line just added
    (["3 brownies please", "hmm 2"], ["2 brownie"]),
    # a word of one item's name before "one" names that line
    (["coke and diet coke", "make the diet one large"], ["1 coke", "1 diet-coke drink-size=large"]),
    # a line named by its place, then what it should have
    (["pepperoni, margherita", "the last one with extra cheese"],
     ["1 pepperoni", "1 margherita toppings=cheese:extra"]),
    (["1 coke 1 diet coke 1 sprite", "the middle one in a bottle"],
     ["1 coke", "1 diet-coke container=bottle", "1 sprite"]),
    # one unit of the line being talked about becomes another item
    (["2 pepperoni", "change one to a hawaiian"], ["1 pepperoni", "1 hawaiian"]),
    # "the rest", after some units of a line were changed, is what that line still has
    (["3 cokes and a veggie", "make one a sprite and the rest diet"],
     ["1 sprite", "2 diet-coke", "1 veggie"]),
    # "just one of them": one unit of the only line that has several
    (["2 brownies and a margherita", "no actually just one of them"], ["1 brownie", "1 margherita"]),
    # a name typed with its last letter doubled is that name ("spritess")
    (["2 spritess n a hawaian", "hawaiian x2 and them sprites large"],
     ["2 hawaiian", "2 sprite drink-size=large"]),
    # "normal ham" is the ham's amount, not a medium size: the dish as it comes again
    (["Hawaiian with light ham please, and a diet coke", "Actually, normal ham is fine."],
     ["1 hawaiian", "1 diet-coke"]),
    # "X instead of Y" of two options of one choice: X
    (["large veggie gluten free", "and 2 brownies", "the veggie on thin crust instead of gf"],
     ["1 veggie crust=thin size=large", "2 brownie"]),
    # a quantity for each line being talked about, in order
    (["i'll take three large veggie pizzas and three waters", "Actually make it two and two"],
     ["2 veggie size=large", "2 water"]),
    # two lines trade their choices of one group
    (["hawaiian thin crust, pepperoni thick crust", "swap the crusts"],
     ["1 hawaiian crust=thick", "1 pepperoni crust=thin"]),
    (["large pepperoni, small hawaiian, a coke", "switch the sizes around"],
     ["1 pepperoni size=small", "1 hawaiian size=large", "1 coke"]),
]  # fmt: skip


@pytest.mark.parametrize(("turns", "cart"), CHANGED, ids=[t[0][-1] for t in CHANGED])
async def test_a_line_named_by_what_it_is_without_is_the_one_changed(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("reference", tuple(turns), tuple(cart)), menu), kinds


QUESTIONS = [
    (["a margherita", "is stuffed crust extra?"], "price"),
    (["a large pepperoni", "does extra cheese cost more?"], "price"),
    (["a margherita", "how much is thin crust?"], "price"),
    (["what sizes do the pizzas come in"], "menu"),
    (["pepperoni", "forget it i dont want anything anymore"], "confirm-empty-cart"),
]


@pytest.mark.parametrize(("turns", "kind"), QUESTIONS, ids=[t[0][-1] for t in QUESTIONS])
async def test_a_question_that_names_an_option_changes_no_line(
    database_url: str, menu: Menu, turns: list[str], kind: str
) -> None:
    before, after, kinds = await _play(database_url, menu, turns)
    assert after == before, (before, after, kinds)
    assert kind in kinds, kinds


def _cart(menu: Menu, lines: list[str]) -> Counter[str]:
    return expected_cart(Dialogue("remove", ("x",), tuple(lines)), menu)


async def test_a_count_to_take_off_the_one_line_is_units_of_it(database_url: str, menu: Menu) -> None:
    turns = ["4 pepperoni", "take off 2"]
    _before, after, _kinds = await _play(database_url, menu, turns)
    assert after == _cart(menu, ["2 pepperoni"])


async def test_a_line_number_the_cart_does_not_have_is_asked_about(database_url: str, menu: Menu) -> None:
    turns = ["a pepperoni and a coke and a sprite", "remove the sprite and remove 5"]
    _before, after, kinds = await _play(database_url, menu, turns)
    assert after == _cart(menu, ["1 pepperoni", "1 coke", "1 sprite"])
    assert kinds == ["ask"]


@pytest.mark.parametrize(
    ("locale", "said", "meant"),
    [
        ("es", "2 pepperoni no espera 3", "3 pepperoni"),
        ("es", "una coca, perdón, una sprite", "una sprite"),
        ("pt_BR", "2 pepperoni não pera 3", "3 pepperoni"),
        ("pt_BR", "uma coca, quer dizer, uma sprite", "uma sprite"),
        # the count taken back is a number word of the language ("duas", "cuatro")
        ("pt_BR", "duas pepperoni não pera três", "3 pepperoni"),
        ("pt_BR", "duas pepperoni não pera quatro", "4 pepperoni"),
        ("es", "cuatro hawaianas no espera cinco", "5 hawaianas"),
        # "and not" before the count says which count is corrected: nothing is taken back
        ("pt_BR", "serão três sprites, e não dois", None),
        ("es", "serán tres sprites y no dos", None),
        # a bare "no" between two names is "not" ("a coke, not water"), unless a comma or a
        # number alone after it makes it the word of taking back
        ("es", "uy, era una coca no agua", None),
        ("es", "una coca no una sprite", None),
        ("pt_BR", "uma coca não água", None),
        ("es", "una coca, no, una sprite", "una sprite"),
        ("es", "2 pepperoni no 3", "3 pepperoni"),
        ("en", "a pepperoni, no wait, also a veggie", None),
        ("en", "a pepperoni no wait a coke", None),
        ("en", "a coke no ice", None),
        # an ellipsis parts the line from the words taking it back; words that only lead up to
        # the new count ("actually make that", "mejor", "só") are no part of it
        ("en", "2 margherita... actually make that 1", "1 margherita"),
        ("es", "quiero 3 cocas, no, mejor 2", "quiero 2 cocas"),
        ("es", "y dos hawaianas... no, mejor una", "y 1 hawaianas"),
        (
            "pt_BR",
            "quero duas pizzas grandes de pepperoni... não, uma só",
            "quero 1 pizzas grandes de pepperoni",
        ),
        # "otra" is no count; "only a sprite" could leave out more than the last line
        ("es", "2 cocas, perdón, otra", None),
        ("en", "a veggie and a coke, no, only a sprite", None),
    ],
)
def test_a_line_taken_back_in_the_message_is_read_as_said_last(
    menu: Menu, locale: str, said: str, meant: str | None
) -> None:
    assert said_last(menu.localized(locale), said) == meant
