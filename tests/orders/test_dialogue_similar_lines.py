"""Carts of similar lines (sizes, containers, volumes, toppings) and a change that names one of
them by what sets it apart, in English, Spanish and Portuguese: the line meant is changed, or
the bot asks (reply kind ``ask``) and the cart stays as it was; never another line changed,
never an act dropped."""

from __future__ import annotations

import pytest

from evals.conversations import Dialogue, expected_cart
from services.orders.menu.catalog import demo_menu_path, load_menu_file
from tests.orders.dialogues import play, play_replies

CUSTOMER = "whatsapp:+15557770101"
MENU = load_menu_file(demo_menu_path())

# (turns, what the last one must do): the cart after it, line by line; or the kind of reply it
# must get ("ask", "menu"), the cart left as it was.

CASES: list[tuple[list[str], list[str] | str]] = [
    # a line named by its size compared with the others', or by its size with "one"
    (["a hawaiian xl", "and a large hawaiian", "take the xl one out"], ["1 hawaiian size=large"]),
    (["una hawaiana familiar", "y una hawaiana grande", "la más grande sácala"], ["1 hawaiian size=large"]),
    (["pepperoni familiar y hawaiana chica", "la pizza más chica que sean 2"],
     ["2 hawaiian size=small", "1 pepperoni size=extra-large"]),
    (["pepperoni família e havaiana broto", "a pizza menor coloca 2"],
     ["2 hawaiian size=small", "1 pepperoni size=extra-large"]),
    # two quantities set with one verb: both applied, never only the second
    (["3 xl pepperoni and a diet coke", "make the pizzas 2 and the diet coke 2"],
     ["2 pepperoni size=extra-large", "2 diet-coke"]),
    # "that has extra mushrooms": one line (the plural is the topping's), and only the one with extra
    (["2 veggie pizzas, one with extra mushrooms",
      "remove the veggie that has extra mushrooms, keep the other one"], ["1 veggie"]),
    # a "no" alone before what is meant instead corrects it; it leaves nothing out
    (["margherita w extra cheese", "hmm no, light cheese"], ["1 margherita toppings=cheese:light"]),
    # of two choices of one group left out, the last said is the one meant instead
    (["veggie thin", "actually not thin, thick crust"], ["1 veggie crust=thick"]),
    # wanting nothing any more is a cancel: asked, then emptied with the "yes"
    (["margherita and veggie", "i dont want anything anymore sorry", "yes"], []),
    # the word that tells an item's name from another's ("coca light" beside "coca") names its line
    (["2 coca light y 2 cocas", "las light por sprites"], ["2 coke", "2 sprite"]),
    (["coca e coca zero", "a zero troca por sprite"], ["1 coke", "1 sprite"]),
    (["2 coca zero e 2 cocas", "as zero troca por sprite"], ["2 coke", "2 sprite"]),
    # "uma das": one of them, never the whole line
    (["3 margueritas", "uma das margueritas troca por vegetariana"], ["2 margherita", "1 veggie"]),
    # options put "on" the lines named first: those lines changed, no new ones
    (["2 margueritas", "1 coca", "nas duas margueritas coloca jalapeño"],
     ["2 margherita toppings=jalapenos", "1 coke"]),
    # a topping left out, then "take it off": "it" is the topping, never the line
    (["uma havaiana", "não curto abacaxi, tira ele"], ["1 hawaiian -toppings=pineapple"]),
    (["hawaiian", "i dont like pineapple, take it off"], ["1 hawaiian -toppings=pineapple"]),
    # "o de queijo", "el de queso": the line with that option, never the option added to another
    (["um pão de alho com queijo e um pão de alho com molho marinara", "o de queijo tira"],
     ["1 garlic-bread side-extras=marinara-dip"]),
    (["un pan de ajo con queso y un pan de ajo con salsa marinara", "el de queso quítalo"],
     ["1 garlic-bread side-extras=marinara-dip"]),
    # "muda pra" another item: the line swapped, never another one added
    (["uma marguerita família", "muda pra monte sua pizza família com cogumelo e bacon"],
     ["1 build-your-own size=extra-large toppings=bacon toppings=mushrooms"]),
    # "la grande que sea sprite": the line named first becomes the other item
    (["una coca normal y una coca grande", "la grande que sea sprite grande"],
     ["1 coke", "1 sprite drink-size=large"]),
    # "dejá una": the quantity the line is left at, never one more
    (["2 porciones de alitas y 2 panes de ajo", "de alitas dejá una porción sola"],
     ["1 wings", "2 garlic-bread"]),
    # "and 1 … no onions": the "no" leaves an option out of the line added, no change is asked
    (["2 large veggie", "and 1 small veggie no onions", "2 of the small ones"],
     ["2 veggie size=large", "2 veggie size=small -toppings=onions"]),
    # "and 3 cokes" inside a restatement is no word of adding
    (["4 pepperoni 4 cokes", "wait we're only 3 people so 3 pepperoni and 3 cokes"],
     ["3 pepperoni", "3 coke"]),
    # lines named alone, then an edit of "it" or "those": the edit of the lines named
    (["a large coke in a bottle and a small coke in a can", "the bottle one, 2 of those"],
     ["2 coke drink-size=large container=bottle", "1 coke drink-size=small"]),
    (["a large pepperoni", "a small pepperoni", "a coke", "the last pizza, make it medium"],
     ["1 pepperoni size=large", "1 pepperoni", "1 coke"]),
    (["xl pepperoni and a small hawaiian", "the smaller pizza, make it 2"],
     ["1 pepperoni size=extra-large", "2 hawaiian size=small"]),
    # a size, container or volume taken out beside lines that differ by it: the line that has it
    (["2 large hawaiian 1 xl hawaiian", "remove the xl"], ["2 hawaiian size=large"]),
    (["a coke in a bottle and a coke in a can", "lose the can one"], ["1 coke container=bottle"]),
    # "the 1 liter ones": a volume, not a count
    (["1 liter water and a half liter water", "make the 1 liter ones 3"], ["3 water volume=1l", "1 water"]),
    # "de la pequeña póngame tres", "de la gruesa también dos", "de lata 3": a line by its option
    (["una margarita pequeña y una margarita grande", "de la pequeña póngame tres"],
     ["3 margherita size=small", "1 margherita size=large"]),
    (["2 hawaianas finas y 1 hawaiana gruesa", "de la gruesa también dos"],
     ["2 hawaiian crust=thin", "2 hawaiian crust=thick"]),
    (["2 coca zero en botella y 1 coca zero en lata", "de lata 3"],
     ["2 diet-coke container=bottle", "3 diet-coke container=can"]),
    # the formal imperatives ("elimine", "quíteme"), and "la de 2 litros no"
    (["dos pepperoni, una delgada y otra gruesa", "elimine la gruesa"], ["1 pepperoni crust=thin"]),
    (["3 sprites", "quíteme una sprite"], ["2 sprite"]),
    (["un agua de litro y un agua de 2 litros", "la de 2 litros no"], ["1 water volume=1l"]),
    # Portuguese: the quantity of a line named first by what it has
    (["duas pepperoni grandes e uma pepperoni broto", "das grandes só uma"],
     ["1 pepperoni size=large", "1 pepperoni size=small"]),
    (["2 havaianas massa fina e 1 havaiana massa grossa", "da grossa tbm quero 2"],
     ["2 hawaiian crust=thin", "2 hawaiian crust=thick"]),
    (["uma coca grande de garrafa e uma coca pequena de lata", "a de garrafa manda 2"],
     ["2 coke drink-size=large container=bottle", "1 coke drink-size=small container=can"]),
    (["uma água de 1 litro e uma água de meio litro", "as de 1 litro quero 3"],
     ["3 water volume=1l", "1 water"]),
    (["uma marguerita broto e uma marguerita grande", "na broto coloca azeitona"],
     ["1 margherita size=small toppings=olives", "1 margherita size=large"]),
    # "the normal one" beside one with extra cheese: the line as it comes
    (["a margherita with extra cheese and a normal margherita", "3 of the normal one"],
     ["3 margherita", "1 margherita toppings=cheese:extra"]),
    # "the little one", "the big one": the line of the smallest or largest size
    (["2 large pepperoni, 1 small pepperoni", "the little one extra cheese"],
     ["2 pepperoni size=large", "1 pepperoni size=small toppings=cheese:extra"]),
    (["large pepperoni and small hawaiian", "remove the big one"], ["1 hawaiian size=small"]),
    # "the cheesy one can go": the line goes; "can" there is no container
    (["1 garlic bread with cheese and 1 garlic bread with marinara", "the cheesy one can go"],
     ["1 garlic-bread side-extras=marinara-dip"]),
    # "instead of the large veggie, a large hawaiian": a name is never cut into a line by its
    # options and a replacement ("the large | veggie")
    (["large veggie and large margherita", "instead of the large veggie, a large hawaiian"],
     ["1 hawaiian size=large", "1 margherita size=large"]),
    (["una vegetariana grande y una margarita grande",
      "en vez de la vegetariana grande, una hawaiana grande"],
     ["1 hawaiian size=large", "1 margherita size=large"]),
    (["uma vegetariana grande e uma marguerita grande",
      "ao invés da vegetariana grande, uma havaiana grande"],
     ["1 hawaiian size=large", "1 margherita size=large"]),
    (["large veggie and large margherita", "in place of the large veggie, a large hawaiian"],
     ["1 hawaiian size=large", "1 margherita size=large"]),
    # "only 1 large, sorry": a correction of how many of the line of that size
    (["2 large cokes and 2 small cokes y'all", "only 1 large, sorry"],
     ["1 coke drink-size=large", "2 coke drink-size=small"]),
    # "cans: 3": the quantity of the line of that option
    (["2 diet coke bottles and 1 diet coke can", "cans: 3"],
     ["2 diet-coke container=bottle", "3 diet-coke container=can"]),
    # an option left out that one line chose, said after another line that could leave it out
    (["garlic bread with cheese", "margherita", "no cheese"], "ask"),
    (["pan de ajo con queso", "margarita", "sin queso"], "ask"),
    (["pão de alho com queijo", "marguerita", "sem queijo"], "ask"),
    # an item that is also a topping, said with "and" and no article after a pizza
    (["una margarita", "y pepperoni"], "ask"),
    (["uma marguerita", "e pepperoni"], "ask"),
    # "no 2 liter" beside a 1 liter water: that water out? asked (no word of removing)
    (["a 1 liter water and a 2 liter water", "no 2 liter"], "ask"),
    # a question marked only by its question mark asks what the menu has; the cart stays
    (["margherita", "u guys do gluten free crust?"], "menu"),
]  # fmt: skip


@pytest.mark.parametrize(("turns", "expected"), CASES, ids=[t[0][-1] for t in CASES])
async def test_the_line_named_is_the_one_changed_or_it_is_asked_about(
    database_url: str, turns: list[str], expected: list[str] | str
) -> None:
    before, after, kinds = await play(database_url, MENU, turns, customer=CUSTOMER)
    if isinstance(expected, str):
        assert after == before, (before, after, kinds)
        assert expected in kinds, kinds
    else:
        assert after == expected_cart(Dialogue("reference", tuple(turns), tuple(expected)), MENU), kinds


TOLD_APART = [
    # a question between lines of one name shows what tells them apart, never "Water or Water"
    (["1 liter water and a half liter water", "make it 2 liter"], ["Water (1 liter)", "Water (500 ml)"]),
    (["2 diet coke bottles and 1 diet coke can", "cans: 3"], ["Diet Coke (Bottle)", "Diet Coke (Can)"]),
    # and so does the reply that says what changed
    (["a large coke in a bottle and a small coke", "2 of the bottle one"], ["Coke (Large, Bottle) to 2"]),
]


@pytest.mark.parametrize(("turns", "shown"), TOLD_APART, ids=[t[0][-1] for t in TOLD_APART])
async def test_lines_of_one_name_are_shown_with_what_tells_them_apart(
    database_url: str, turns: list[str], shown: list[str]
) -> None:
    _, _, replies = await play_replies(database_url, MENU, turns, customer=CUSTOMER)
    text = "\n".join(body for _, body in replies)
    for words in shown:
        assert words in text, text
