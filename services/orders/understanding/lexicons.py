"""The words of Spanish and Portuguese (Brazil) the message parser reads without a menu, as the
English words it already knows: numbers ("dos", "duas"), connectors and negation ("y", "e",
"con", "com", "sin", "sem", "pero sin", "mas sem"), qualifiers ("más", "doble", "pouco"),
notes, kind nouns ("bebida", "refrigerante") and the usual verbs and filler ("quiero",
"por favor", "me vê").

`bridge(tokens, locale, starts_menu_phrase)` rewrites a message's tokens (already lowercase,
accents dropped: menu_index.tokenize) into the English the parser reads, longest phrase first,
leaving alone every place where a menu name or alias of the customer's language starts (an
alias such as "sin gluten" wins over "sin"). Words are read in the customer's language only:
"mas" is "more" in Spanish ("más queso") but "but" in Portuguese ("mas sem cebola"), "dos" is
two in Spanish but "of the" in Portuguese, "no" is a negation in Spanish but "on the" in
Portuguese. Menu words of each language come from the menu file (docs/menu-format.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from services.orders.understanding.numbers import number_from_words

__all__ = ["Lexicon", "MenuPhrase", "bridge", "lexicon_for"]


def _table(spec: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    """`phrase=english|phrase=english` lines; an empty English side drops the phrase."""
    out: dict[tuple[str, ...], tuple[str, ...]] = {}
    for entry in spec.replace("\n", "|").split("|"):
        entry = entry.strip()
        if not entry:
            continue
        said, _, english = entry.partition("=")
        out[tuple(said.split())] = tuple(english.split())
    return out


@dataclass(frozen=True, slots=True)
class Lexicon:
    """One language's words as the parser's English: `phrases` maps token tuples (accents
    dropped) to English tokens (empty: the phrase is only politeness and is dropped); `common`
    are ordinary words of the language never spelling-corrected into menu words."""

    locale: str
    phrases: Mapping[tuple[str, ...], tuple[str, ...]]
    common: frozenset[str]
    max_phrase: int
    # Nouns for a kind of item ("bebidas" → drink): read as the kind, quoted as written.
    nouns: Mapping[str, str]
    # Words that mean nothing the parser needs, read as such wherever they stand: the listed
    # ordinary words and interjections ("oigan", "uai"), not the words that only make up a
    # longer phrase ("cancela" of "cancela todo"), which said alone were not understood.
    plain: frozenset[str] = frozenset()
    # The English words the phrases become: read, whatever the menu.
    english: frozenset[str] = frozenset()
    # The language's own word order made English, after the phrases ("la coca cámbiala por
    # una sprite" → "change the coca for a sprite"): None when English order is kept.
    reorder: Callable[[list[str], Callable[[list[str], int], MenuPhrase]], list[str]] | None = None
    # Phrases read even where a menu name starts inside them: "soy vegetariana" says what the
    # customer eats, it orders no Vegetariana.
    over_menu: frozenset[tuple[str, ...]] = frozenset()
    # Words that, ending a message after a menu name, say it is one more ("y una margarita
    # grande más"): read as "too", never as "extra" of the option before them.
    more_last: frozenset[str] = frozenset()
    # Short spellings of chat ("vc", "qto", "hj") and the words they stand for, read as those
    # words before anything else.
    short: Mapping[str, str] = dataclasses.field(default_factory=dict)


# "ponme 3", "déjala en 2", "coloca 3": a quantity set on the line being talked about.
_SET_VERBS: Final[dict[str, tuple[str, ...]]] = {
    "es": (
        "ponme", "ponle", "hazme", "dejala en", "dejalo en", "dejalas en", "dejalos en", "deja en",
        "me dejas", "me dejan", "deja", "dejame", "pongame", "poneme", "ponga",
    ),
    "pt_BR": (
        "coloca", "bota", "poe", "deixa em", "faz", "faca", "deixa so", "deixa", "aumenta pra",
        "aumenta para", "diminui pra", "diminui para", "muda pra", "muda para", "passa pra",
        "passa para", "troca pra", "troca para", "nao", "o certo e", "o certo sao", "o correto e",
        "pode deixar", "voce pode deixar", "deixar",
        "o correto sao", "na verdade sao", "sao", "serao", "ficam",
    ),
}  # fmt: skip
_NUMBER_WORDS: Final[dict[str, dict[str, int]]] = {
    "es": {"uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6},
    "pt_BR": {"um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6},
}


# "item 2 pra 3": the word that joins a line's number to its new quantity.
_LINE_TO: Final[dict[str, tuple[str, ...]]] = {"pt_BR": ("pra", "para")}
# "e não dois", "mas não 2": the quantity being corrected, said after the new one.
_NOT_BEFORE: Final[dict[str, tuple[str, ...]]] = {"pt_BR": ("e nao", "mas nao", ", nao", "e nao sao")}
# The verbs of setting a quantity that also add ("coloca uma coca" is one more coke).
_ADD_VERBS: Final[dict[str, tuple[str, ...]]] = {"pt_BR": ("coloca", "bota", "poe")}
_TO_QUANTITY: Final[dict[str, tuple[str, ...]]] = {"pt_BR": ("pra", "para")}
# "3 nomás": "just" said after the quantity.
_JUST_AFTER: Final[dict[str, tuple[str, ...]]] = {"es": ("nomas",)}
# "3 tá bom", "2 já basta": the words that say a quantity said before them is enough.
_ENOUGH_AFTER: Final[dict[str, tuple[str, ...]]] = {"pt_BR": ("ta bom", "esta bom", "ja ta bom")}
# "deixa 1 só": "only" said after the quantity.
_ONLY_AFTER: Final[dict[str, str]] = {"pt_BR": "so"}


def _set_quantities(locale: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    numbers = {str(n): n for n in range(1, 21)} | _NUMBER_WORDS.get(locale, {})
    just_words = {"es": ("solo", "nomas", "solamente"), "pt_BR": ("so", "somente", "apenas")}.get(locale, ())
    out: dict[tuple[str, ...], tuple[str, ...]] = {
        (*verb.split(), *just, said): ("make", "it", str(value))
        for verb in _SET_VERBS.get(locale, ())
        for just in ((), *((word,) for word in just_words))
        for said, value in numbers.items()
        # "coloca uma coca", "põe um guaraná": "a" after a verb of adding orders one more
        if not (verb in _ADD_VERBS.get(locale, ()) and not said.isdigit() and value == 1)
    }
    for said, value in numbers.items():
        for just_after in _JUST_AFTER.get(locale, ()):
            # "3 nomás": just that many
            out[(said, just_after)] = ("just", str(value))
        for enough in _ENOUGH_AFTER.get(locale, ()):
            # "3 tá bom": that many is enough
            out[(said, *enough.split())] = ("make", "it", str(value))
    only = _ONLY_AFTER.get(locale)
    if only:
        out |= {(*key, only): value for key, value in out.items()}
    for joint in _NOT_BEFORE.get(locale, ()):
        # "serão três, e não dois": the quantity corrected, never a second one set
        out |= {(*joint.split(), said): ("not", str(value)) for said, value in numbers.items()}
    for joint in _TO_QUANTITY.get(locale, ()):
        # "aumenta a coca pra 3": the quantity a line is changed to
        out |= {(joint, str(n)): ("to", str(n)) for n in range(1, 21)}
    for joint in _LINE_TO.get(locale, ()):
        out |= {("item", str(n), joint): ("item", str(n), "to") for n in range(1, 21)}
    return out


# "mais 2", "mais duas": units added to the line talked about, said before the number; English
# says them after it ("2 more").
_MORE_WORDS: Final[dict[str, str]] = {"pt_BR": "mais"}


def _more(locale: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    word = _MORE_WORDS.get(locale)
    if word is None:
        return {}
    numbers = {str(n): str(n) for n in range(2, 21)} | {
        said: str(value) for said, value in _NUMBER_WORDS.get(locale, {}).items() if value > 1
    }
    return {(word, said): (value, "more") for said, value in numbers.items()}


def _lexicon(locale: str, phrases: str, common: str, nouns: Mapping[str, str]) -> Lexicon:
    table = _table(phrases) | _set_quantities(locale) | _more(locale)
    plain = frozenset(common.split()) | set(nouns)
    words = plain | {w for k in table for w in k}
    english = frozenset(w for v in table.values() for w in v)
    return Lexicon(locale, table, words, max(len(k) for k in table), nouns, plain, english)


def _nouns(kind: str, words: str) -> dict[str, str]:
    return dict.fromkeys(words.split(), kind)


_ES = _lexicon(
    "es",
    """
    un=a|una=a|uno=one|unos=some|unas=some|dos=two|tres=three|cuatro=four|cinco=five|seis=six|
    siete=seven|ocho=eight|nueve=nine|diez=ten|once=eleven|doce=twelve|trece=thirteen|
    catorce=fourteen|quince=fifteen|dieciseis=sixteen|diecisiete=seventeen|dieciocho=eighteen|
    diecinueve=nineteen|veinte=twenty|
    un par de=a couple of|par de=couple of|una docena de=a dozen|una docena=a dozen|
    media docena de=half a dozen|media docena=half a dozen|otra=another|otro=another|
    mitad=half|mitades=halves|
    otra mas=another|otro mas=another|una mas=another|uno mas=another|
    y=and|e=and|o=or|u=or|ni=or|ademas=also|tambien=also|mas=extra|con mas=with extra|
    con extra=with extra|extra de=extra|doble=double|el doble de=double|triple=triple|
    poco=light|poca=light|un poco de=a little|poquito=light|poquita=light|un poquito de=a little|
    con=with|sin=without|pero sin=but without|pero con=but with|pero=but|sin nada de=without|
    nada de=no|no=no|no ,=actually|no no=actually|no le pongas=no|menos=no|
    quita=remove|quitar=remove|quitale=remove|quitame=remove|saca=remove|sacale=remove|
    quitales=remove|sacales=remove|quitenle=remove|saquenle=remove|ponles=add|ponganle=add|
    elimina=remove|eliminar=remove|borra=remove|borrar=remove|ya no quiero=remove|
    no quiero=i dont want|
    cambia=change|cambiar=change|cambiale=change|cambiame=change|cambiala=change it|
    cambialo=change it|hazla=make it|hazlo=make it|que sea=make it|que sean=make them|
    por=for|en vez de=instead of|en lugar de=instead of|mejor=actually|solo=only|solamente=only|
    nomas=only|uno mas=one more|una mas=one more|uno menos=one less|una menos=one less|
    la ultima=the last one|el ultimo=the last one|la primera=the first one|
    el primero=the first one|la otra=the other one|el otro=the other one|
    eso=that|esa=that|ese=that|esto=this|esta=this|
    olvidalo=never mind|olvida eso=never mind|olvidate=never mind|dejalo=never mind|
    dejalo asi=never mind|no importa=never mind|
    perfecto=ok|genial=ok|vale=ok|dale=ok|okey=ok|listo=ok|de acuerdo=ok|
    cuanto cuesta=how much is|cuanto cuestan=how much are|cuanto vale=how much is|
    cuanto es=how much is|cuanto sale=how much is|que precio tiene=how much is|
    precio de=price of|a que hora abren=what time do you open|
    a que hora cierran=what time do you close|estan abiertos=are you open|
    esta abierto=is the store open|horario=opening hours|horarios=opening hours|
    hacen envios=do you deliver|hacen delivery=do you deliver|hacen entregas=do you deliver|
    llevan a domicilio=do you deliver|entregan a domicilio=do you deliver|reparten=do you deliver|
    envian a=do you deliver to|entregan en=do you deliver to|llegan a=do you deliver to|
    llegan al=do you deliver to|envian al=do you deliver to|mandan al=do you deliver to|
    entregan al=do you deliver to|reparten a=do you deliver to|reparten al=do you deliver to|
    hacen domicilio=do you deliver|hacen domicilios=do you deliver|
    hacen domicilio a=do you deliver to|hacen domicilio al=do you deliver to|
    hacen domicilios a=do you deliver to|hacen domicilios al=do you deliver to|
    hacen envios a=do you deliver to|hacen envios al=do you deliver to|
    hacen delivery a=do you deliver to|hacen delivery al=do you deliver to|
    cuanto cuesta el envio=how much is delivery|cuanto es el envio=how much is delivery|
    costo de envio=delivery fee|precio del envio=delivery fee|pedido minimo=minimum order|
    aceptan=do you take|reciben=do you take|tarjeta=card|efectivo=cash|
    donde estan=where are you located|donde quedan=where are you located|
    cual es su direccion=what is your address|su direccion=your address|
    cual es su telefono=what is your phone number|su telefono=your phone number|
    numero de telefono=phone number|
    donde esta mi pedido=where is my order|como va mi pedido=how is my order|
    cuanto falta=how long|cuanto tarda=how long|cuanto demora=how long|cuanto tiempo=how long|
    que=what|cuales=which|cual=which|tienen=do you have|
    cancela todo=cancel everything|cancelar todo=cancel everything|
    cancela el pedido=cancel the order|puedo pagar=can i pay|pagar con=pay with|pagar en=pay in|
    quita uno=remove one|quita una=remove one|quitale uno=remove one|quitale una=remove one|
    cuanto es en total=how much is the total|cuanto seria=how much is it|cuanto va=how much is it|
    hasta que hora atienden=until what time are you open|hasta que hora abren=until what time are you open|
    hasta que hora=until what time are you open|atienden=are you open|
    tienen delivery=do you deliver|tienen envio=do you deliver|tienen envios=do you deliver|
    tienen servicio a domicilio=do you deliver|donde los encuentro=where are you located|
    donde estan ubicados=where are you located|cuanto cobran de envio=how much is delivery|
    cuanto cobran por el envio=how much is delivery|cuanto cobran=how much is|
    ya esta listo mi pedido=is my order ready|esta listo mi pedido=is my order ready|
    sacame=remove|quitala=remove it|quitalo=remove it|quitalas=remove them|quitalos=remove them|
    la segunda=the second one|el segundo=the second one|la tercera=the third one|
    el tercero=the third one|una de ellas=one of them|uno de ellos=one of them|
    eso seria todo=thats all|seria todo=thats all|que sea sin=without|que sean sin=without|
    cuanto me sale=how much is|cuanto me cuesta=how much is|cuanto me cobran=how much is|
    abren los domingos=are you open on sunday|abren el domingo=are you open on sunday|
    abren hoy=are you open today|abren=are you open|llegan hasta=do you deliver to|
    llegan a=do you deliver to|el envio es gratis=is delivery free|envio gratis=free delivery|
    es gratis el envio=is delivery free|que tienen de postre=which desserts do you have|
    que tienen de tomar=which drinks do you have|que tienen de beber=which drinks do you have|
    como pago=how do i pay|como puedo pagar=how can i pay|me equivoque=actually|eran=|son=|
    ponle=add|agregale=add|agrega=add|anade=add|anadele=add|le pones=add|
    bien cocida=well done|bien cocido=well done|bien hecha=well done|bien tostada=extra crispy|
    crujiente=crispy|picante=spicy|cortada en cuadros=cut in squares|
    el=the|la=the|los=the|las=the|lo=the|del=of the|de la=of the|de=of|al=to the|a=to|
    en=in|para=for|por=for|mi=my|mis=my|su=their|
    quiero=i want|quisiera=i would like|queria=i wanted|quiero pedir=i want|me das=give me|
    dame=give me|me da=give me|me puedes dar=can i get|me pones=give me|me traes=bring me|
    traeme=bring me|mandame=send me|me mandas=send me|necesito=i need|pedir=order|pido=i order|
    para mi=for me|tambien quiero=i also want|y tambien=and also|
    por favor=please|porfa=please|porfavor=please|plis=please|gracias=thanks|muchas gracias=thanks|
    hola=hi|buenas=hi|buenos dias=good morning|buenas tardes=good afternoon|buenas noches=good night|
    eso es todo=thats all|es todo=thats all|nada mas=thats all|solo eso=thats all|
    agregame=add|agregales=add|agregalo=add|agregala=add|ponele=add|poneme=give me|
    me mandan=send me|mandame=send me|cancela=cancel|cancelame=cancel|descarta=remove|
    descartame=remove|quitadme=remove|quitame=remove|fuera=out|
    que precio tienen=how much are|q precio tiene=how much is|q precio tienen=how much are|
    che=|oigan=|oye=|tio=|tia=|uy=|ay=|nah=|bah=|po=|pues=|weno=|mira=|jaja=|jajaja=|xd=|wey=|
    guey=|chamo=|pana=|
    espera=wait|esperate=wait|no espera=no wait|lo mismo=the same|entonces=so|
    empecemos de nuevo=start over|empezar de nuevo=start over|empecemos otra vez=start over|
    ya no quiero nada=i dont want anything|no quiero nada=i dont want anything|
    al final=actually|pensandolo bien=actually|mejor dicho=actually|en realidad=actually|
    en vez del=instead of the|en lugar del=instead of the|
    cambialas=change them|cambialos=change them|cambiamela=change it|cambiamelo=change it|
    cambiamelas=change them|cambiamelos=change them|me la cambias=change it|me lo cambias=change it|
    me la cambia=change it|me lo cambia=change it|me las cambias=change them|
    me los cambias=change them|me la cambian=change it|me lo cambian=change it|
    borrala=remove it|borralo=remove it|borralas=remove them|borralos=remove them|
    sacala=remove it|sacalo=remove it|sacalas=remove them|sacalos=remove them|
    quitamela=remove it|quitamelo=remove it|quitamelas=remove them|quitamelos=remove them|
    eliminala=remove it|eliminalo=remove it|
    ya no la quiero=remove it|ya no lo quiero=remove it|ya no las quiero=remove them|
    ya no los quiero=remove them|no la quiero=remove it|no lo quiero=remove it|
    borralo todo=cancel everything|borra todo=cancel everything|quitalo todo=cancel everything|
    quita todo=cancel everything|borrame todo=cancel everything|quitame todo=cancel everything|
    saca todo=cancel everything|elimina todo=cancel everything|
    cancelar=cancel|cancelen=cancel|cancelenla=cancel it|cancelenlo=cancel it|cancelala=cancel it|
    cancelalo=cancel it|cancelad=cancel|anula=cancel|anular=cancel|anulen=cancel|anulad=cancel|
    anulame=cancel|la orden=the order|mi orden=my order|
    orden=order|ordenes=orders|porcion=portion|porciones=portions|racion=portion|raciones=portions|
    olvida=forget|olvidate de=forget|olvidense de=forget|dulce=sweet|dulces=sweets|
    q sea=make it|q sean=make them|que sea de=make it|que sean de=make them|
    si=yes|sip=yes|sipi=yes|simon=yes|claro que si=yes|orale=ok|va=ok|sale=ok|
    ya con eso=thats all|con eso=thats all|con eso es todo=thats all|ya esta=thats all|
    eso nomas=thats all|nada mas gracias=thats all|es todo gracias=thats all|
    a como esta=how much is|a como estan=how much are|a cuanto esta=how much is|
    a cuanto estan=how much are|cuanto sale=how much is|
    manejan=do you have|venden=do you have|
    pasame la carta=show me the menu|la carta=the menu|
    hasta donde reparten=where do you deliver|donde reparten=where do you deliver|
    hasta donde llegan=where do you deliver|hasta donde entregan=where do you deliver|
    a donde reparten=where do you deliver|
    tiene costo=cost|tiene algun costo=cost|cobran el envio=delivery fee|es gratis=is free|
    gratis=free|el delivery=delivery|transferencia=bank transfer|
    cual es la direccion=what is the address|cual es el telefono=what is the phone number|
    direccion=address|
    que llevo=what do i have|lo que llevo=what i have|que llevo hasta ahora=what do i have|
    que tengo hasta ahora=what do i have|que pedi=what did i order|
    perdon=sorry|perdona=sorry|disculpa=sorry|disculpe=sorry|ponme=give me|ultima=last one|
    ultimo=last one|esa ultima=the last one|ese ultimo=the last one|
    esta ultima=the last one|este ultimo=the last one|lleve=with|lleven=with|
    armar mi propia pizza=build your own|arma mi propia pizza=build your own|
    mi propia pizza=build your own|armar mi pizza=build your own|armar una pizza=build your own|
    no van=no|no va=no|ya no van=no|ya no va=no|era=|sola=|solas=|solito=|solita=|
    alcanza=is enough|alcanzan=is enough|basta=is enough|bastan=is enough|es suficiente=is enough|
    con eso alcanza=thats all|con eso basta=thats all|somos menos=|que al final=actually|
    ya esta lista=is ready|ya esta listo=is ready|ya estan listas=are ready|ya estan listos=are ready|
    pasame el menu=show me the menu|mandame la carta=show me the menu|mandame el menu=show me the menu|
    me pasas la carta=show me the menu|me pasas el menu=show me the menu|
    cuanto esta=how much is|cuanto estan=how much are|cuanto=how much|
    pica=is spicy|pican=are spicy|picosa=spicy|picoso=spicy|picosas=spicy|picosos=spicy|
    sabores=flavors|sabor=flavor|tipos=kinds|tipo=kind|
    abrieron=are you open|ya abrieron=are you open|ya abren=are you open|
    mandan a domicilio=do you deliver|mandan a=do you deliver to|envian=do you deliver|
    minimo de compra=minimum order|compra minima=minimum order|monto minimo=minimum order|minimo=minimum|
    cuanto se demora=how long|cuanto se demoran=how long|se demora=how long|se demoran=how long|
    demoran=how long|tardan=how long|cuanto tardan=how long|se tarda=how long|
    a que hora llega=what time will it arrive|cuando llega=when will it arrive|
    como se paga=how do i pay|como se puede pagar=how can i pay|se puede pagar=can i pay|
    formas de pago=payment methods|forma de pago=payment methods|metodos de pago=payment methods|
    medios de pago=payment methods|
    telefono=phone number|cual es su numero=what is your phone number|su numero=your phone number|
    donde queda=where is|el local=the store|la tienda=the store|la pizzeria=the store|local=store|
    cuanto llevo=what is the total|cuanto es todo=what is the total|cuanto seria todo=what is the total|
    me muestras=show me|me ensenas=show me|
    ya salio mi pedido=is my order on its way|salio mi pedido=is my order on its way|
    ya salio=is it on its way|como va=how is|viene=is coming|ya viene=is coming|
    esta en camino=is it on its way|ya esta en camino=is it on its way|
    no llega=hasnt arrived|no ha llegado=hasnt arrived|todavia no llega=hasnt arrived|
    ya mero llega=is it coming|ya casi llega=is it coming|
    quitas=remove|me quitas=remove|sacas=remove|me sacas=remove|quitarle=remove|quitarla=remove it|
    quitarlo=remove it|sacarle=remove|agregas=add|me agregas=add|agregar=add|agregarle=add|
    ponerle=add|poner=add|apuntas=give me|me apuntas=give me|apuntame=give me|
    me regalas=give me|regalame=give me|me regala=give me|puedes=can you|podrias=can you|
    podria=could you|me puedes=can you|me podrias=can you|se puede=can you|
    trabajan=are you open|estan atendiendo=are you open|atendiendo=open|cubren=do you deliver to|
    cubren la zona de=do you deliver to|en cuanto llega=how long|en cuanto tiempo=how long|
    demora mucho=how long|tarda mucho=how long|demora=how long|tarda=how long|
    se paga=do i pay|pago al recibir=cash on delivery|contra entrega=cash on delivery|
    contraentrega=cash on delivery|nequi=paypal|daviplata=paypal|yape=paypal|plin=paypal|
    mercado pago=paypal|mercadopago=paypal|numero para llamar=phone number|
    vegana=vegan|veganas=vegan|vegano=vegan|veganos=vegan|
    y de postre que hay=which desserts do you have|de postre que hay=which desserts do you have|
    que hay de postre=which desserts do you have|de tomar que hay=which drinks do you have|
    que hay de tomar=which drinks do you have|va en camino=is coming|ya va en camino=is coming|
    viene en camino=is coming|por donde viene=where is|por donde va=where is|
    confirmaron=did you receive|ya confirmaron=did you receive|recibieron=did you receive|
    ya recibieron=did you receive|cuanto le falta=how long|cuanto les falta=how long|
    cuanto falta para=how long|
    sumale=add|sumame=add|suma=add|sumar=add|anademe=add|
    elimine=remove|eliminela=remove it|quite=remove|quiteme=remove|quitele=remove|saque=remove|borre=remove|
    una con=one with|uno con=one with|una sin=one without|uno sin=one without|
    una de las=one of the|uno de los=one of the|una de esas=one of those|uno de esos=one of those|
    la de=the of|el de=the of|las de=the of|los de=the of|x una=for a|x un=for a|que pena=sorry|ya=|
    otra igual=another one|otro igual=another one|otra igualita=another one|
    otro igualito=another one|mas iguales=more|otra mas=another one|otro mas=another one|
    en vez de una=instead of one|en vez de uno=instead of one|en lugar de una=instead of one|
    me repites=|repiteme=|me dices=|dime=|
    el envio=delivery|envio=delivery|quiero cancelar=cancel|queria cancelar=cancel|quisiera cancelar=cancel|
    pedido=order|muestrame=show me|mostrame=show me|
    ensename=show me|carrito=cart|hazlas=make them|hazlos=make them|
    esos=those|esas=those|ambas=both|ambos=both|
    refresco=soda|refrescos=sodas|gaseosa=soda|gaseosas=sodas|
    esta lista=is ready|esta listo=is ready|estan listas=are ready|estan listos=are ready|
    """,
    """que qué cual como cuanto cuantos cuanta cuantas cuesta vale valen es son esta estan hay
    tiene tienen tengo tienes quiero quieres puedo puedes podria seria sera va vamos voy
    yo tu usted ustedes nosotros me te se le les nos lo la los las este esta estos estas ese
    esa eso aqui ahi alli ahora hoy manana tarde noche luego despues antes ya todavia aun
    si claro vale bueno ok listo perfecto genial gracias hola adios chao porfa favor
    tambien solo solamente nada algo todo toda todos todas cada otro otra mismo misma
    muy mucho mucha muchos muchas poco poca pocos pocas bien mal mejor peor
    pedido pedidos orden ordenes comida cena almuerzo desayuno hambre domicilio recoger
    llevar direccion casa calle numero nombre precio precios cuenta pagar efectivo tarjeta
    hacer hace hecho pon pone poner puede pueden quisiera queria gustaria encanta gusta
    donde cuando porque por para sobre entre hasta desde sin con pero mas menos
    cambiar cambia cambio quitar borrar eliminar agregar anadir sumar dejar deja regalas regala
    regalame regalarias porfis mandas manda traes trae
    hola buenas noches dias tardes senor senora amigo amiga gracias favor disculpa perdon
    quisiera quisieramos queremos pedimos pedir ordenar orden ordeno encargar encargo llevar
    traer mandar enviar envia envie recibir recibo llega llegue llegar tardar tarda demora
    rapido pronto despues luego antes siempre nunca tambien ademas otra vez mismo misma
    grande pequeno mediano familia familiar casa oficina trabajo aqui alla calle avenida
    numero piso depto departamento edificio esquina colonia barrio ciudad codigo postal
    efectivo tarjeta cambio billete vuelto propina cuenta total precio caro barato oferta
    promo promocion combo rica rico delicioso sabroso caliente frio fria hambre comer
    cenar almorzar desayunar beber tomar probar gustar gusta gustan encanta encantan
    prefiero prefieres elegir escoger opcion opciones sabor sabores tipo tipos clase
    ninguna ninguno alguna alguno cualquiera ambas ambos cada varias varios todas todos
    bueno oiga amigo loco hermano""",
    _nouns("drink", "bebida bebidas refresco refrescos gaseosa gaseosas soda sodas"),
)

_PT = _lexicon(
    "pt_BR",
    """
    um=a|uma=a|uns=some|umas=some|dois=two|duas=two|tres=three|quatro=four|cinco=five|seis=six|sete=seven|
    oito=eight|nove=nine|dez=ten|onze=eleven|doze=twelve|treze=thirteen|catorze=fourteen|
    quatorze=fourteen|quinze=fifteen|dezesseis=sixteen|dezessete=seventeen|dezoito=eighteen|
    dezenove=nineteen|vinte=twenty|
    um par de=a couple of|uma duzia de=a dozen|uma duzia=a dozen|meia duzia de=half a dozen|
    meia duzia=half a dozen|outra=another|outro=another|mais uma=another|mais um=another|
    e=and|ou=or|nem=or|tambem=also|mais=extra|com mais=with extra|com extra=with extra|extra de=extra|
    em dobro=double|dobro de=double|o dobro de=double|duplo=double|dupla=double|triplo=triple|
    pouco=light|pouca=light|um pouco de=a little|pouquinho=light|um pouquinho de=a little|
    com=with|sem=without|mas sem=but without|mas com=but with|mas=but|porem=but|
    sem nada de=without|nada de=no|nao=no|nao ,=actually|nao nao=actually|menos=no|
    tira=remove|tirar=remove|remove=remove|remover=remove|exclui=remove|excluir=remove|
    nao quero mais=remove|ja nao quero=remove|nao quero=i dont want|
    muda pra=change it to|muda para=change it to|troca pra=change it to|troca para=change it to|
    troca=swap|trocar=swap|muda=change|mudar=change|altera=change|alterar=change|
    substitui=swap|deixa=make it|por=for|pela=for the|pelo=for the|
    em vez de=instead of|ao inves de=instead of|no lugar de=instead of|na verdade=actually|
    melhor=actually|somente=only|apenas=only|um a menos=one less|uma a menos=one less|
    a ultima=the last one|o ultimo=the last one|a primeira=the first one|
    o primeiro=the first one|a outra=the other one|o outro=the other one|
    isso=that|essa=that|esse=that|isto=this|esta=this|
    deixa pra la=never mind|deixa para la=never mind|esquece=never mind|
    esquece isso=never mind|nao importa=never mind|
    beleza=ok|blz=ok|show=ok|perfeito=ok|otimo=ok|fechado=ok|
    quanto custa=how much is|quanto custam=how much are|quanto e=how much is|
    quanto fica=how much is|qual o preco=what is the price|qual e o preco=what is the price|
    que horas abre=what time do you open|que horas voces abrem=what time do you open|
    que horas fecha=what time do you close|que horas voces fecham=what time do you close|
    esta aberto=is the store open|estao abertos=are you open|voces estao abertos=are you open|
    horario=opening hours|voces entregam=do you deliver|entregam=do you deliver|
    fazem entrega=do you deliver|tem entrega=do you deliver|tem delivery=do you deliver|
    entregam em=do you deliver to|entrega em=do you deliver to|
    taxa de entrega=delivery fee|quanto e a entrega=how much is delivery|
    qual a taxa=how much is delivery|qual e a taxa=how much is delivery|
    quanto e a taxa=how much is delivery|e a taxa=how much is delivery|taxa=delivery fee|
    quanto cobram pela entrega=how much is delivery|quanto cobram de entrega=how much is delivery|
    quanto cobram de taxa=how much is delivery|quanto voces cobram pela entrega=how much is delivery|
    quanto voces cobram de entrega=how much is delivery|cobram taxa=delivery fee|cobram entrega=delivery fee|
    quanto cobram=how much is|quanto voces cobram=how much is|quanto cobra=how much is|
    quanto custa a entrega=how much is delivery|pedido minimo=minimum order|
    aceita=do you take|aceitam=do you take|voces aceitam=do you take|cartao=card|
    dinheiro=cash|onde fica=where are you located|onde voces ficam=where are you located|
    qual o endereco=what is your address|qual e o endereco=what is your address|
    endereco de voces=your address|qual o telefone=what is your phone number|
    telefone=phone number|cade meu pedido=where is my order|cade o meu pedido=where is my order|
    onde esta meu pedido=where is my order|quanto tempo=how long|quanto falta=how long|
    demora quanto=how long|que=what|quais=which|qual=which|voces tem=do you have|
    tem=do you have|cancela tudo=cancel everything|cancela o pedido=cancel the order|
    posso pagar=can i pay|pagar com=pay with|pagar no=pay by|tira um=remove one|tira uma=remove one|
    quanto deu=how much is the total|quanto ficou=how much is the total|quanto da=how much is it|
    sao=|serao=|seriam=|e so isso obrigado=thats all thanks|
    ate que horas voces atendem=until what time are you open|ate que horas=until what time are you open|
    atendem=are you open|voces fazem delivery=do you deliver|fazem delivery=do you deliver|
    quanto sai=how much is|meu pedido ja ta pronto=is my order ready|
    meu pedido ja esta pronto=is my order ready|ja ta pronto=is it ready|ta pronto=is it ready|
    a segunda=the second one|o segundo=the second one|a terceira=the third one|
    nao curto=i dont like|eu nao curto=i dont like|nao gosto de=i dont like|eu nao gosto de=i dont like|
    o terceiro=the third one|uma delas=one of them|um deles=one of them|uma das=one of the|
    um dos=one of the|e isso ai=thats all|
    fechou=ok|que seja sem=without|
    voces abrem=are you open|abrem=are you open|abre hoje=are you open today|abre=are you open|
    ta aberto=are you open|esta aberto=are you open|
    o que tem de sobremesa=which desserts do you have|o que tem de bebida=which drinks do you have|
    a entrega e gratis=is delivery free|entrega gratis=free delivery|e gratis a entrega=is delivery free|
    como eu pago=how do i pay|como pago=how do i pay|como posso pagar=how can i pay|
    porcao=portion|porcoes=portions|
    errei=actually|me enganei=actually|e so=thats all|ta bom=ok|tudo bem=ok|ta otimo=ok|
    coloca=add|coloque=add|adiciona=add|adicione=add|poe=add|bota=add|acrescenta=add|
    bem passada=well done|bem passado=well done|bem assada=well done|crocante=crispy|
    apimentada=spicy|picante=spicy|cortada em quadrados=cut in squares|
    o=the|a=the|os=the|as=the|do=of the|da=of the|dos=of the|das=of the|de=of|no=on the|
    na=on the|nos=on the|nas=on the|em=in|para=for|pra=for|pro=for the|meu=my|minha=my|
    quero=i want|queria=i would like|gostaria=i would like|gostaria de=i would like|
    me ve=give me|me da=give me|me manda=send me|manda=send|me traz=bring me|
    traz=bring|vou querer=i want|em vez da=instead of the|em vez do=instead of the|
    no lugar da=instead of the|no lugar do=instead of the|
    vou pedir=i want|preciso=i need|pedir=order|pede=order|
    pra mim=for me|tambem quero=i also want|e tambem=and also|
    por favor=please|pfv=please|pf=please|porfa=please|obrigado=thanks|obrigada=thanks|
    valeu=thanks|ola=hi|oi=hi|bom dia=good morning|boa tarde=good afternoon|boa noite=good night|
    so isso=thats all|e so isso=thats all|e isso=thats all|so=just|mais nada=thats all|
    cancela=cancel|deleta=remove|apaga=remove|retire=remove|retira=remove|desisti da=remove the|
    desisti do=remove the|desisti das=remove the|desisti dos=remove the|esquece=forget|
    uai=|oxe=|vixe=|bah=|tche=|mano=|vei=|kkk=|kkkk=|haha=|rs=|bjs=|beijo=|mds=|nossa=|eita=|
    opa=|ue=|pfvr=please|
    ai=|tche=|ne=|po=|
    ele=it|ela=it|eles=them|elas=them|tudo=everything|tudo isso=everything|pedido=order|
    carrinho=cart|o carrinho=the cart|meu carrinho=my cart|limpa=clear|limpar=clear|zera=clear|
    zerar=clear|esvazia=clear|esvaziar=clear|cancelar=cancel|cancele=cancel|desisti=cancel|
    quero cancelar=i want to cancel|queria cancelar=i want to cancel|desejo cancelar=i want to cancel|
    gostaria de cancelar=i want to cancel|preciso cancelar=i need to cancel|
    da pra cancelar=can i cancel|da para cancelar=can i cancel|posso cancelar=can i cancel|
    tem como cancelar=can i cancel|que acabei de fazer=|que eu fiz=|que fiz=|
    esquece tudo=forget everything|nao quero mais nada=i dont want anything|
    nao vou querer mais nada=i dont want anything|nao vou querer mais=remove|
    nao quero mais=remove|
    ao inves da=instead of the|ao inves do=instead of the|ao inves das=instead of the|
    ao inves dos=instead of the|em vez das=instead of the|em vez dos=instead of the|
    no lugar das=instead of the|no lugar dos=instead of the|no lugar=instead|
    dessa=of that|desse=of that|desta=of that|deste=of that|dessas=of those|desses=of those|
    da outra=of the other one|do outro=of the other one|
    uma das duas=one of the two|um dos dois=one of the two|as duas=both|os dois=both|
    uma das=one of the|um dos=one of the|
    ambas=both|ambos=both|as duas de=both|os dois de=both|
    faz=make|faca=make|faz ela=make it|faz ele=make it|faz elas=make them|faz eles=make them|
    faz de=make it|faz ela de=make it|faz ele de=make it|
    pode tirar=remove|pode remover=remove|pode trocar=swap|pode mudar=change|
    o ultimo item=the last item|a ultima linha=the last item|o primeiro item=the first item|
    na vdd=actually|na real=actually|pensando melhor=actually|pensando bem=actually|
    correcao=actually|pera=actually|nao pera=no wait|perdao=sorry|desculpa=sorry|
    ops=|era=|a mesma coisa=the same|mesma coisa=the same|so que=but|podem ser=make them|
    ja ta bom=thats enough|ja esta bom=thats enough|
    o que tem no meu carrinho=what is in my cart|o que tem no carrinho=what is in my cart|
    foi mal=sorry|eram=|ah=|eita muito=|
    o refri=the soda|os refris=the sodas|os refri=the sodas|o refrigerante=the soda|
    os refrigerantes=the sodas|
    a bebida=the drink|as bebidas=the drinks|
    qual o valor=how much is|qual e o valor=how much is|qual o valor da=how much is the|
    qual o valor do=how much is the|qual o preco da=how much is the|qual o preco do=how much is the|
    quanto ta=how much is|quanto esta=how much is|quanto tá=how much is|quanto sai=how much is|
    e quanto a mais=how much extra|quanto a mais=how much extra|e quanto=how much|
    custa quanto=how much|fica quanto=how much|sai quanto=how much|
    entrega la no=do you deliver to|entrega la na=do you deliver to|entrega la em=do you deliver to|
    entrega no=do you deliver to|entrega na=do you deliver to|entregam no=do you deliver to|
    entregam na=do you deliver to|entregam la=do you deliver to|entrega la=do you deliver to|
    chegam ate=do you deliver to|chegam ate o=do you deliver to|chegam ate a=do you deliver to|
    chegam no=do you deliver to|chegam na=do you deliver to|chegam em=do you deliver to|
    fazem entrega no=do you deliver to|fazem entrega na=do you deliver to|
    fazem delivery no=do you deliver to|fazem delivery na=do you deliver to|
    fazem delivery em=do you deliver to|
    voces entregam no=do you deliver to|voces entregam na=do you deliver to|
    frete=delivery fee|o frete e quanto=how much is delivery|quanto e o frete=how much is delivery|
    quanto fica o frete=how much is delivery|qual o frete=how much is delivery|
    quanto custa o frete=how much is delivery|pra entregar aqui=|para entregar aqui=|
    voces estao abertos=are you open|voces tao abertos=are you open|tao abertos=are you open|
    ta aberto=is the store open|estao abertos agora=are you open now|abertos=open|aberto=open|
    funcionam=are you open|funciona=are you open|voces funcionam=are you open|
    aos domingos=on sunday|no domingo=on sunday|domingo=sunday|aos sabados=on saturday|
    no sabado=on saturday|sabado=saturday|hoje=today|agora=now|
    que horas voces fecham hoje=what time do you close today|que horas fecham=what time do you close|
    ate que horas abre=until what time are you open|ate que horas fica aberto=until what time are you open|
    demora muito=how long|demora=how long|vai demorar=how long|vai demorar muito=how long|
    quanto demora=how long|tempo de entrega=how long|
    aceita pix=what payment methods do you take|aceitam pix=what payment methods do you take|
    tem pix=what payment methods do you take|pode ser no pix=what payment methods do you take|
    formas de pagamento=what payment methods do you take|
    onde fica a pizzaria=where are you located|onde fica a loja=where are you located|
    onde e a pizzaria=where are you located|onde e a loja=where are you located|
    qual o endereco da pizzaria=what is your address|endereco da pizzaria=your address|
    meu pedido ta como=where is my order|meu pedido esta como=where is my order|
    como ta meu pedido=where is my order|como esta o meu pedido=where is my order|
    como anda meu pedido=where is my order|e o meu pedido=where is my order|
    e meu pedido=where is my order|como ficou meu pedido=show my cart|
    me mostra como ficou o pedido=show my cart|mostra como ficou o pedido=show my cart|
    me mostra como ficou meu pedido=show my cart|o que eu pedi=what did i order|
    o que eu pedi ate agora=what did i order so far|me mostra o carrinho=show my cart|
    mostra o carrinho=show my cart|como ficou o pedido=show my cart|me mostra=show|mostra=show|
    me perdi=|kk=|rsrs=|hehe=|
    minha filha=|meu filho=|minha querida=|meu querido=|meu amigo=|minha amiga=|moco=|moca=|
    muito obrigada=thanks|muito obrigado=thanks|valeu demais=thanks|brigado=thanks|brigada=thanks|
    obrigadao=thanks|show de bola=ok|top=ok|
    mais nada nao=thats all|so isso mesmo=thats all|era isso=thats all|era so isso=thats all|
    e isso mesmo=thats all|por enquanto e so=thats all|so isso por enquanto=thats all|
    deixa quieto=never mind|nada nao=never mind|nada nao , deixa=never mind|deixa=make it|
    e muito=|o certo e=actually|o correto e=actually|o certo sao=actually|o correto sao=actually|
    so uma=only one|so um=only one|uma so=only one|um so=only one|apenas uma=only one|
    apenas um=only one|somente uma=only one|somente um=only one|
    quis dizer=actually|eu quis dizer=actually|queria dizer=actually|quero so uma=only one|
    quero so um=only one|quero apenas uma=only one|quero apenas um=only one|
    so isso , obrigado=thats all thanks|so isso , obrigada=thats all thanks|
    so isso , valeu=thats all thanks|e so isso , obrigado=thats all thanks|
    e so isso , obrigada=thats all thanks|so isso obrigado=thats all thanks|
    so isso obrigada=thats all thanks|
    e so uma=only one|e so um=only one|pode ser so uma=only one|pode ser so um=only one|
    aumenta=change|diminui=change|aumentar=change|diminuir=change|dela=of that|dele=of that|
    voces fecham que horas=what time do you close|fecham que horas=what time do you close|
    nao vou querer=remove|nao e isso=thats not right|nao era isso=thats not right|
    ta errado=thats wrong|esta errado=thats wrong|veio errado=thats wrong|
    quanto deu tudo=how much is the total|quanto ficou tudo=how much is the total|
    quanto fica tudo=how much is the total|quanto da tudo=how much is the total|
    quais as bebidas=which drinks do you have|quais bebidas=which drinks do you have|
    quais sao as bebidas=which drinks do you have|quais as sobremesas=which desserts do you have|
    quais sobremesas=which desserts do you have|quais sao as sobremesas=which desserts do you have|
    entao=|
    nao , tche=no|nao tche=no|nao , uai=no|nao uai=no|nao , mano=no|nao mano=no|nao , ne=no|
    nao precisa mais nao=no|nao precisa mais=no|nao precisa nao=no|nao precisa=no|
    menos a=except the|menos o=except the|menos as=except the|menos os=except the|
    meio a meio=half and half|metade=half|meia=half|metade de=half|duas metades=half and half|
    mais uma igual=another one of those|mais um igual=another one of those|
    outra igual=another one of those|outro igual=another one of those|
    sou vegetariano=|sou vegetariana=|sou vegano=|sou vegana=|eu sou vegetariano=|
    eu sou vegetariana=|
    """,
    """que qual quais como quanto quantos quanta quantas custa sai e sao esta estao tem tenho
    tens quero quer posso pode poderia seria sera vai vamos vou eu voce voces gente me te
    se lhe nos o a os as este esta estes estas esse essa isso aqui ai ali agora hoje
    amanha tarde noite depois antes ja ainda sim claro beleza bom ok pronto perfeito otimo
    valeu obrigado obrigada oi ola tchau favor tambem so somente nada algo tudo toda
    todos todas cada outro outra mesmo mesma muito muita muitos muitas pouco pouca bem
    mal melhor pior pedido pedidos comida jantar almoco cafe fome entrega retirada retirar
    buscar endereco casa rua numero nome preco precos conta pagar dinheiro cartao pix fazer
    faz feito poe por pode podem queria gostaria adoro gosto onde quando porque para sobre
    entre ate desde sem com mas mais menos mudar muda trocar troca tirar remover apagar
    adicionar colocar deixa deixar cade
    oi ola bom boa noite dia tarde senhor senhora amigo amiga obrigado obrigada desculpa
    perdao queria queremos pedimos pedir encomendar levar trazer mandar enviar manda envia
    receber chega chegar demorar demora rapido logo depois antes sempre nunca tambem mesmo
    mesma grande pequeno medio familia casa trabalho aqui ali rua avenida numero apto
    apartamento bloco predio esquina bairro cidade cep dinheiro cartao troco gorjeta conta
    total preco caro barato oferta promo promocao combo gostoso gostosa delicioso quente
    gelado gelada fome comer jantar almocar beber tomar provar gostar gosto prefiro
    escolher opcao opcoes sabor sabores tipo tipos nenhuma nenhum alguma algum qualquer
    ambas ambos cada varias varios todas todos ta to tava vc vcs pq blz
    abraco cara gente moco moca""",
    _nouns("drink", "bebida bebidas refri refris refrigerante refrigerantes"),
)


def _asking(lexicon: Lexicon, phrases: str) -> Lexicon:
    """`lexicon` with the words of `phrases` added (theirs win over the same phrase before)."""
    table = dict(lexicon.phrases) | _table(phrases)
    words = lexicon.common | {w for k in table for w in k}
    english = frozenset(w for v in table.values() for w in v)
    return dataclasses.replace(
        lexicon, phrases=table, common=words, max_phrase=max(len(k) for k in table), english=english
    )


# Asking whether the menu has something ("¿hay masa sin gluten?", "¿la hawaiana lleva piña?",
# "a havaiana vem com abacaxi?"): read as the English questions of phrases/en.py, which answer
# them and never change the cart. "a domicilio" is how home delivery is said, never a place.
_ES = _asking(
    _ES,
    """hay=do you have|no hay=dont you have|lleva=comes with|llevan=come with|viene con=comes with|
    vienen con=come with|tiene=has|a domicilio=""",
)
_PT = _asking(_PT, "vem com=comes with|vem acompanhada de=comes with|vem acompanhado de=comes with")
# A line named by its size compared with the others ("la más grande sácala", "a pizza menor
# coloca 2"): "the biggest one", "the smallest pizza" (docs/conversation.md, references); only
# after an article, so "una coca más grande" is still a coke with more of its size said.
_ES = _asking(
    _ES,
    """la mas grande=the biggest one|el mas grande=the biggest one|las mas grandes=the biggest ones|
    la mas chica=the smallest one|el mas chico=the smallest one|la mas pequena=the smallest one|
    el mas pequeno=the smallest one|la pizza mas grande=the biggest pizza|
    la pizza mas chica=the smallest pizza|la pizza mas pequena=the smallest pizza""",
)
_PT = _asking(
    _PT,
    """a maior=the biggest one|o maior=the biggest one|a menor=the smallest one|o menor=the smallest one|
    a pizza maior=the biggest pizza|a pizza menor=the smallest pizza""",
)
# Short spellings of Brazilian chat, read as the words they stand for.
_PT = dataclasses.replace(
    _PT,
    short={
        "vc": "voce",
        "vcs": "voces",
        "tb": "tambem",
        "tbm": "tambem",
        "hj": "hoje",
        "mto": "muito",
        "mt": "muito",
        "qto": "quanto",
        "qnt": "quanto",
        "qnto": "quanto",
        "qt": "quanto",
        "q": "que",
        "agr": "agora",
        "vdd": "verdade",
        "obg": "obrigado",
        "vlw": "valeu",
        "msm": "mesmo",
        "td": "tudo",
        "dps": "depois",
        "hrs": "horas",
        "hr": "hora",
        "n": "nao",
        "cmg": "comigo",
        "pq": "porque",
        "oq": "o que",
        "tô": "estou",
    },
)


def lexicon_for(locale: str) -> Lexicon | None:
    """The lexicon of `locale` ("es", "pt_BR"); None for English (the parser's own words)."""
    return _LEXICONS.get(locale)


# Nouns said before the item they name ("pizza de pepperoni", "pizzas hawaianas") and the
# words that may join them; English puts the item first ("pepperoni pizza").
_NOUNS_BEFORE = frozenset({"pizza", "pizzas"})
_NOUN_GLUE = frozenset({"de", "da", "do"})
# Qualifiers said after the option ("queso extra", "queijo em dobro"), in English before it.
_QUALIFIERS_AFTER = frozenset({"extra", "double", "triple"})

# What a menu phrase at a position is: its length in tokens (0: none) and whether it names an
# item ("item"), an option ("option") or both ("").
MenuPhrase = tuple[int, str]


def bridge(
    tokens: list[str],
    lexicon: Lexicon,
    menu_phrase_at: Callable[[list[str], int], MenuPhrase],
    variants: Mapping[str, tuple[str, tuple[str, ...]]] | None = None,
) -> list[str]:
    """`tokens` as the English the parser reads. Where a menu name or alias begins
    (`menu_phrase_at(tokens, i)`) its words are kept; elsewhere the language's phrases become
    English, longest first; then the word order of the language becomes English: "pizzas de
    pepperoni" → "pepperoni pizzas", "queijo extra" → "extra queijo". `variants` are the
    menu's words that make another item of a name said before them (`MenuIndex.variants`):
    said after "the" alone ("la zero grande", "a light não"), they name that item."""
    if lexicon.short:
        tokens = [word for tok in tokens for word in lexicon.short.get(tok, tok).split()]
    if variants:
        tokens = _variant_named(tokens, variants, menu_phrase_at)
    out: list[str] = []
    i, n = 0, len(tokens)
    if (
        n > 1
        and tokens[-1] in lexicon.more_last
        and any(menu_phrase_at(tokens, k)[0] == n - 1 - k for k in range(n - 1))
    ):
        tokens = [*tokens[:-1], "too"]
    while i < n:
        size, _ = menu_phrase_at(tokens, i)
        if size:
            out.extend(tokens[i : i + size])
            i += size
            continue
        for length in range(min(lexicon.max_phrase, n - i), 0, -1):
            key = tuple(tokens[i : i + length])
            english = lexicon.phrases.get(key)
            # a phrase must not swallow the start of a menu name ("pero sin gluten"), unless
            # it says what the customer is ("soy vegetariana", "sou vegetariana" order no
            # Vegetariana)
            if english is not None and (
                key in lexicon.over_menu
                or tokens[i] in _SELF_WORDS
                or not any(menu_phrase_at(tokens, j)[0] for j in range(i + 1, i + length))
            ):
                out.extend(english)
                i += length
                break
        else:
            out.append(tokens[i])
            i += 1
    out = _options_shared(out, menu_phrase_at)
    ordered = _line_first(_english_order(_one_with(out, menu_phrase_at), menu_phrase_at), menu_phrase_at)
    if lexicon.reorder is not None:
        ordered = lexicon.reorder(ordered, menu_phrase_at)
    ordered = _negation_first(ordered, menu_phrase_at)
    for reorder in _REORDERS.get(lexicon.locale, ()):
        ordered = reorder(ordered, menu_phrase_at)
    return ordered


_ONE = frozenset({"a", "an", "one", "the"})
# "the" in Spanish and Portuguese, as said, and "of them" ("una de ellas light", "uma delas
# diet"): a line of the cart is named after them.
_DEFINITE = frozenset({"el", "la", "los", "las", "o", "a", "os", "as", "ellas", "ellos", "delas", "deles"})


def _variant_named(
    tokens: list[str],
    variants: Mapping[str, tuple[str, tuple[str, ...]]],
    menu_phrase_at: Callable[[list[str], int], MenuPhrase],
) -> list[str]:
    """ "la zero grande" → "la coca zero grande", "a light não" → "a coca light não", "uma
    delas diet" → "uma delas coca diet": a word that makes another item of a name ("coca
    zero") said after "the" or "of them" with no such name in the message is that item; beside
    the name ("una coca y una light") it is read as before."""
    for i in range(1, len(tokens)):
        made = variants.get(tokens[i])
        if made is None or tokens[i - 1] not in _DEFINITE or menu_phrase_at(tokens, i)[0]:
            continue
        if made[0] in tokens:
            return tokens
        return [*tokens[:i], made[0], *tokens[i:]]
    return tokens


def _plural_option(tokens: list[str], i: int, menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> bool:
    """Whether `tokens[i]` is an option said in the plural ("grandes", "chicas", "brotos")."""
    word = tokens[i]
    if menu_phrase_at(tokens, i) != (1, "option") or not word.endswith("s"):
        return False
    return any(menu_phrase_at([stem], 0) == (1, "option") for stem in (word[:-1], word[:-2]) if stem)


def _options_shared(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "hawaiana and pepperoni grandes", "a havaiana e a pepperoni grandes": an option said in
    the plural after two or more items named once each (singular, no count but "a") is each
    one's, "grandes hawaiana and grandes pepperoni"; said in the singular it is the last one's,
    and after a count ("2 hawaianas y 2 pepperonis grandes") it is left as it was said."""
    n = len(tokens)
    for i in range(2, n):
        if not _plural_option(tokens, i, menu_phrase_at):
            continue
        if i > 0 and _plural_option(tokens, i - 1, menu_phrase_at):
            continue
        end = i
        while end < n and _plural_option(tokens, end, menu_phrase_at):
            end += 1
        options = tokens[i:end]
        # the items before, walking back: [a] ITEM (and|,) [a] ITEM ...
        starts: list[int] = []
        k = i
        while True:
            found = None
            for j in range(k - 1, max(k - 4, -1), -1):
                size, what = menu_phrase_at(tokens, j)
                if size and j + size == k and what != "option":
                    found = j
                    break
            if found is None or tokens[k - 1].endswith("s"):
                break
            starts.append(found)
            k = found
            if k > 0 and tokens[k - 1] in _ONE:
                k -= 1
            if k > 0 and tokens[k - 1] in ("and", ",") and k > 1:
                k -= 1
                continue
            break
        if len(starts) < 2 or tokens[k] in ("and", ","):
            continue
        if k > 0 and (
            tokens[k - 1] in ("with", "without", "no", "of") or number_from_words((tokens[k - 1],))
        ):
            continue
        out = list(tokens[:i])
        for start in starts:
            out[start:start] = options
        return [*out, *tokens[end:]]
    return tokens


def _one_with(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "o de queijo tira", "el de queso" ("the of queijo"): a line named "the (one) of" an
    option is the one with it ("the one with queijo"); "la de pepperoni" is the pepperoni."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i : i + 2] == ["the", "of"] and i + 2 < len(tokens):
            size, what = menu_phrase_at(tokens, i + 2)
            out.extend(["the", "one", "with"] if size and what == "option" else ["the"])
            i += 2
            continue
        out.append(tokens[i])
        i += 1
    return out


def _instead(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "sprite não, coca" ("sprite actually coca"): an item said with "não," and another
    after it is the one said instead: "instead of the sprite , coca"."""
    start = 1 if tokens[:1] == ["the"] else 0
    size, what = menu_phrase_at(tokens, start) if len(tokens) > start else (0, "")
    end = start + size
    if not size or what == "option" or end + 1 >= len(tokens) or tokens[end] != "actually":
        return tokens
    rest = tokens[end + 1 :]
    items = (menu_phrase_at(rest, j) for j in range(len(rest)))
    if not any(size and what != "option" for size, what in items):
        return tokens
    return ["instead", "of", "the", *tokens[start:end], ",", *rest]


def _one_of_them(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "duas margueritas, uma grande e uma pequena": "um"/"uma" before an option after a
    comma or "and" counts one of the units said ("one large"), as English says it; "a large"
    would describe them all."""
    out = list(tokens)
    for i in range(1, len(out) - 1):
        if out[i] == "a" and out[i - 1] in (",", "and"):
            size, what = menu_phrase_at(out, i + 1)
            if size and what == "option":
                out[i] = "one"
    return out


_OPTION_GLUE = frozenset({"and", ",", "extra", "double", "light", "no", "the"})


def _one_alone(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "una sin piña", "uma com queijo extra" said alone ("one without pina"): one of the units
    of the line talked about with those options ("one of them without pina"), as English says
    it; anything but options after "with"/"without" leaves the message as it was."""
    start = 0
    while start < len(tokens) and tokens[start] in ("and", ","):
        start += 1
    head = tokens[start : start + 2]
    if len(head) != 2 or head[0] not in ("one", "a") or head[1] not in ("with", "without"):
        return tokens
    i, named = start + 2, False
    while i < len(tokens):
        size, what = menu_phrase_at(tokens, i)
        if size and what == "option":
            named, i = True, i + size
        elif tokens[i] in _OPTION_GLUE or tokens[i] == head[1]:
            i += 1
        else:
            return tokens
    return [*tokens[:start], "one", "of", "them", *tokens[start + 1 :]] if named else tokens


def _negation_first(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "la sprite mejor no", "salada não": a "no" that ends the message after an item takes
    that item out ("remove the sprite"); English says it first ("no sprite")."""
    n = len(tokens)
    if n < 2 or tokens[-1] != "no":
        return tokens
    end = n - 1
    while end > 0 and tokens[end - 1] in ("actually", "just", ","):
        end -= 1
    for i in range(end):
        size, what = menu_phrase_at(tokens, i)
        if size and i + size == end and what != "option":
            start = i - 1 if i > 0 and tokens[i - 1] == "the" else i
            return [*tokens[:start], "remove", "the", *tokens[i:end]]
    if tokens[:3] == ["the", "one", "with"] and end > 3 and menu_phrase_at(tokens, 3)[0]:
        return ["remove", *tokens[:end]]  # "la de 2 litros no": the line with that option
    return tokens


# Words that start a phrase saying what the customer is ("sou vegetariana", "soy vegano"):
# such a phrase is read whole even where a menu name starts inside it.
_SELF_WORDS = frozenset({"sou", "soy"})


# Verbs that put options on a line, said after the line it names: "a la hawaiana ponle borde
# relleno" → "to the hawaiana add borde relleno".
_LINE_VERBS = frozenset({"add"})


def _line_first(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "to the hawaiana add borde relleno" → "add borde relleno to the hawaiana": the line is
    named first in Spanish and Portuguese, after the options in English ("add mushrooms to the
    veggie"). The options moved end at "and" or a comma ("… y quítale las aceitunas")."""
    n = len(tokens)
    for i in range(n - 3):
        if tokens[i : i + 2] != ["to", "the"]:
            continue
        size, what = menu_phrase_at(tokens, i + 2)
        j = i + 2 + size
        if not size or what == "option" or j >= n or tokens[j] not in _LINE_VERBS:
            continue
        end = j + 1
        while end < n and tokens[end] not in ("and", ","):
            end += 1
        if end == j + 1:
            continue
        return [*tokens[:i], tokens[j], *tokens[j + 1 : end], *tokens[i:j], *tokens[end:]]
    return tokens


# Verbs said after the line they change ("a sobremesa tira", "o refri troca por coca", "a
# grande põe 2"), said before it in English.
_VERBS_AFTER = frozenset({"remove", "swap", "change", "make"})
# Words that end the line named first: no line's name holds them.
_NOT_A_LINE = frozenset({"and", ",", "?", ".", "the", "of", "for", "with", "without", "no", "actually"})


def _verb_first(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "the sobremesa remove" → "remove the sobremesa", "the grande make it 2" → "make the
    grande 2": a line named before its verb at the start of a clause (the line as said, one to
    three words after "the"); English names it after."""
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        start = i == 0 or tokens[i - 1] in (",", "and", "actually", ".")
        if start and tokens[i] == "the":
            j = i + 1
            while j < n and j - i <= 3 and tokens[j] not in _VERBS_AFTER and tokens[j] not in _NOT_A_LINE:
                j += 1
            if i + 1 < j < n and tokens[j] in _VERBS_AFTER:
                line = tokens[i:j]
                verb = [tokens[j]]
                k = j + 1
                if tokens[j] == "make" and k < n and tokens[k] in ("it", "them"):
                    # "the grande make it 2": a quantity set on a line named by an option is
                    # left as said (a question, not a guess at which line)
                    out.append(tokens[i])
                    i += 1
                    continue
                out.extend([*verb, *line])
                i = k
                continue
        out.append(tokens[i])
        i += 1
    return out


def _english_order(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok in _NOUNS_BEFORE:
            # "pizza [grande] [de] pepperoni" → "[grande] pepperoni pizza"
            j = i + 1
            options: list[str] = []
            while j < n:
                size, what = menu_phrase_at(tokens, j)
                if not size or what != "option":
                    break
                options.extend(tokens[j : j + size])
                j += size
            if j < n and tokens[j] in ("of", *_NOUN_GLUE):
                j += 1
            size, what = menu_phrase_at(tokens, j) if j < n else (0, "")
            if size and what != "option":
                out.extend(options)
                out.extend(tokens[j : j + size])
                out.append(tok)
                i = j + size
                continue
        size, what = menu_phrase_at(tokens, i)
        after_with = bool(out) and out[-1] in ("with", "and", ",", "without", "no")
        if size and (what == "item" or (what == "" and not after_with)):
            # "pepperoni grande" → "grande pepperoni": the options said after an item go first
            j = i + size
            after: list[str] = []
            while j < n:
                more, kind = menu_phrase_at(tokens, j)
                if not more or kind != "option" or (j + more < n and tokens[j + more] in _QUALIFIERS_AFTER):
                    break
                after.extend(tokens[j : j + more])
                j += more
            if after:
                out.extend(after)
                out.extend(tokens[i : i + size])
                i = j
                continue
        # an option (or a name that is also an item, after "with": "com pepperoni em dobro")
        option = what == "option" or (what == "" and bool(out) and out[-1] in ("with", "and", ","))
        if size and option and i + size < n and tokens[i + size] in _QUALIFIERS_AFTER:
            out.append(tokens[i + size])
            out.extend(tokens[i : i + size])
            i += size + 1
            continue
        if size:
            out.extend(tokens[i : i + size])
            i += size
            continue
        out.append(tok)
        i += 1
    return out


# -- Spanish word order -----------------------------------------------------------------------
# Spanish names the line first and repeats it with a pronoun on the verb ("la coca cámbiala
# por una sprite", "a la hawaiana quítale la piña", "la segunda bórrala"); English names the
# verb first. These rewrite the bridged words into the English order the rules read.

_PRONOUNS = frozenset({"it", "them"})
# Words a reference to cart lines is made of, besides menu names: "the last one", "one of the
# two margaritas", "that", "item 2".
_REF_WORDS = frozenset(
    {"the", "that", "this", "those", "these", "one", "ones", "of", "them", "it", "last", "first",
     "second", "third", "other", "item", "both", "two", "three", "four", "five", "my",
     "biggest", "smallest",
     # kinds and categories: "el refresco cámbialo por agua", "el postre que sean 2"
     "soda", "sodas", "drink", "drinks", "bebida", "bebidas", "sweet", "sweets", "postre", "postres",
     "dessert", "desserts", "pizza", "pizzas", "entrada", "entradas"}
)  # fmt: skip
# Words said before a reference that stay in front ("actually", "and", "ok").
_LEADS = frozenset({"actually", "and", "ok", "yes", "no", "so", "please", "sorry", ","})
_COUNTS = frozenset({"a", "one", "two", "three", "four", "five", "six"})


def _reference_end(tokens: list[str], i: int, menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> int:
    """Where a reference to cart lines that starts at `i` ends (== i: none starts there)."""
    j = i
    while j < len(tokens):
        size, _ = menu_phrase_at(tokens, j)
        if size:
            j += size
        elif tokens[j] in _REF_WORDS or tokens[j].isdigit() or tokens[j - 1 : j + 1] == ["one", "with"]:
            j += 1  # "the one with queso": a line named by an option it has
        else:
            break
    return j


def _names_line(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> bool:
    """Whether `tokens` (a whole reference) name a line: a menu name, "the …", an ordinal."""
    return any(
        t in ("the", "that", "those", "these", "last", "first", "second", "third", "item", "them")
        for t in tokens
    ) or any(menu_phrase_at(tokens, k)[0] for k in range(len(tokens)))


def _verb_after_line(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "the coca light change it for a sprite" → "change the coca light for a sprite"; "the
    second one remove it" → "remove the second one"; "the tiramisu for a brownie" → "change the
    tiramisu for a brownie" (a line of the cart for another: a swap)."""
    start = 0
    while start < len(tokens) and tokens[start] in _LEADS:
        start += 1
    end = _reference_end(tokens, start, menu_phrase_at)
    ref = tokens[start:end]
    if (
        ref == ["the"]
        and tokens[end + 1 : end + 2] == ["for"]
        and tokens[end] not in _NOT_A_LINE
        and any(menu_phrase_at(tokens, k)[0] for k in (end + 2, end + 3) if k < len(tokens))
    ):
        # "las light por sprites": the word that tells a line apart, then "for" another item
        end += 1
        ref = tokens[start:end]
    if not ref or not _names_line(ref, menu_phrase_at):
        return tokens
    rest = tokens[end:]
    if ref[0] == "of" and len(ref) > 2 and not rest and ref[-1].isdigit() and ref[-2] != "item":
        ref, rest = ref[:-1], ref[-1:]  # "de lata 3": the quantity, not a line number
    if ref[0] == "of" and len(ref) > 1:
        # "of those remove one" (de esas quita una) → "remove one of those"; "of the coca
        # actually 2" (de la coca mejor 2) → "2 of the coca"
        named = ref if ref[1] in ("the", "those", "these", "them") else ["of", "the", *ref[1:]]
        if rest and rest[0] == "remove":
            return [*tokens[:start], *rest, *named]
        said = (
            rest[2:]
            if rest[:2] == ["make", "it"]
            else rest[1:]
            if rest[:1] in (["actually"], ["only"], ["also"])
            else rest
        )
        if said and (said[0].isdigit() or said[0] in _NUMBERS or said[0] == "one"):
            return [*tokens[:start], said[0], *named, *said[1:]]
        return tokens
    if len(rest) >= 2 and rest[0] in ("change", "remove") and rest[1] in _PRONOUNS:
        return [*tokens[:start], rest[0], *ref, *rest[2:]]
    if (
        rest[:1] == ["make"]
        and rest[1:2] in (["it"], ["them"])
        and ref[0] == "the"
        and any(
            menu_phrase_at(rest, k)[0] and menu_phrase_at(rest, k)[1] == "item" for k in range(2, len(rest))
        )
    ):
        # "la grande que sea sprite grande": the line named first becomes another item
        return [*tokens[:start], "change", *ref, "for", *rest[2:]]
    if rest == ["remove"]:
        return [*tokens[:start], "remove", *ref]
    if (
        len(rest) >= 2
        and rest[0] == "for"
        and ref[0] == "the"
        and (rest[1] in ("a", "an", "some", "one") or menu_phrase_at(rest, 1)[0])
    ):
        return [*tokens[:start], "change", *ref, *rest]
    return tokens


# What is said between a line named with "of" and its new count: "de la chica que sean 2",
# "da grande quero 2", "da broto faz 2", "de la coca mejor 2".
_COUNT_LEADS = (["make", "it"], ["make", "them"], ["i", "want"], ["give", "me"], ["actually"])


def _count_of_line(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "of those remove one" (de esas quita una) → "remove one of those"; "of the coca
    actually 2" (de la coca mejor 2), "of the chica make them 2" (de la chica que sean 2), "of
    the grande i want 2" (da grande quero 2) → "2 of the …"; "of the chicas only a" (de las
    chicas solo una, das broto só uma) → "only one of the chicas": a line named first with
    "of", then what is to be done with it."""
    start = 0
    while start < len(tokens) and tokens[start] in _LEADS:
        start += 1
    if tokens[start : start + 1] != ["of"]:
        return tokens
    end = _reference_end(tokens, start, menu_phrase_at)
    ref = tokens[start:end]
    if len(ref) < 2 or not _names_line(ref, menu_phrase_at):
        return tokens
    named = ref if ref[1] in ("the", "those", "these", "them") else ["of", "the", *ref[1:]]
    rest = tokens[end:]
    if rest[:1] == ["remove"]:
        return [*tokens[:start], *rest, *named]
    only: list[str] = []
    while rest:
        lead = next((lead for lead in _COUNT_LEADS if rest[: len(lead)] == lead), None)
        if lead is not None:
            rest = rest[len(lead) :]
        elif rest[0] in ("only", "just"):
            only, rest = ["only"], rest[1:]
        else:
            break
    if not rest or not (
        rest[0].isdigit() or rest[0] in _NUMBERS or rest[0] == "one" or (only and rest[0] == "a")
    ):
        return tokens
    count = "one" if rest[0] == "a" else rest[0]
    return [*tokens[:start], *only, count, *named, *rest[1:]]


def _options_before_line(
    tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]
) -> list[str]:
    """ "to one of the two margaritas add extra cheese" → "add extra cheese to one of the two
    margaritas"; "to the hawaiana remove the pineapple" → "remove the pineapple from the
    hawaiana"; "remove the extra cheese to the margarita" → "… from the margarita"."""
    n = len(tokens)
    for i in range(n):
        if tokens[i] != "to":
            continue
        end = _reference_end(tokens, i + 1, menu_phrase_at)
        ref = tokens[i + 1 : end]
        if ref and end == n and i > 0 and "remove" in tokens[:i] and "for" not in tokens[:i]:
            return [*tokens[:i], "from", *ref]  # "remove the extra cheese to the margarita"
        if (
            not ref
            or end >= n
            or tokens[end] not in ("add", "remove")
            or not _names_line(ref, menu_phrase_at)
        ):
            continue
        stop = end + 1
        while stop < n and tokens[stop] not in ("and", ","):
            stop += 1
        if stop == end + 1:
            continue
        joint = "to" if tokens[end] == "add" else "from"
        return [*tokens[:i], tokens[end], *tokens[end + 1 : stop], joint, *ref, *tokens[stop:]]
    return tokens


_SWAPS = frozenset({"change", "swap", "replace"})


def _unit_swapped(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "swap a coca for coca zero" → "swap one coca for coca zero" (troca uma coca por…,
    cambia una coca por…): "una", "uma" before the line swapped is a number, one unit of it."""
    out = list(tokens)
    for k in range(len(out) - 3):
        named = menu_phrase_at(out, k + 2)[0] if out[k] in _SWAPS and out[k + 1] == "a" else 0
        if named and k + 2 + named < len(out) and out[k + 2 + named] in ("for", "with", "to"):
            out[k + 1] = "one"
    return out


def _units_removed(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "remove a coca" → "remove one coca" ("una" is a number); "remove the margarita and one
    coca" → "… and remove one coca", each line its own removal; "a coca no" (una coca menos) →
    "one less coca"."""
    out = list(tokens)
    if len(out) >= 3 and out[-1] == "no" and out[0] in _COUNTS | {"and"}:
        lead = 1 if out[0] == "and" else 0
        count = out[lead]
        if count in _COUNTS and menu_phrase_at(out, lead + 1)[0] == len(out) - lead - 2:
            return [*out[:lead], "one" if count == "a" else count, "less", *out[lead + 1 : -1]]
    if "remove" not in out:
        return out
    k = out.index("remove")
    result = out[: k + 1]
    for j in range(k + 1, len(out)):
        tok = out[j]
        if tok == "a" and result[-1] in ("remove", "and"):
            tok = "one"
        if (
            tok == "and"
            and j + 1 < len(out)
            and out[j + 1] in ("the", "a", "one", "two", "three")
            and ("remove" not in out[j + 1 :])
        ):
            result.extend(["and", "remove"])
            continue
        result.append(tok)
    return result


_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
# What "the other one" is said to be when it is the dish as it comes ("y la otra normal").
_PLAIN = frozenset({"normal", "regular", "sencilla", "sencillo", "plain", "sola", "solo", "asi"})


def _one_of_them_with(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "2 grandes margaritas , one with extra queso" → "1 grandes margaritas and 1 grandes
    margaritas with extra queso": the units of an order told apart ("and the other one …" gives
    the rest their own options; "normal" leaves them as they come)."""
    n = len(tokens)
    for c in range(1, n - 2):
        if (
            tokens[c] not in (",", "?", "and")
            or tokens[c + 1] != "one"
            or tokens[c + 2] not in ("with", "without")
        ):
            continue
        for k in range(c - 1, -1, -1):
            count = int(tokens[k]) if tokens[k].isdigit() else _NUMBERS.get(tokens[k])
            if count is None:
                continue
            j = k + 1
            while j < c and menu_phrase_at(tokens, j)[0]:
                j += menu_phrase_at(tokens, j)[0]
            if j != c or j == k + 1 or not 1 < count < 100:
                break
            seg = tokens[k + 1 : c]
            stop = c + 3
            while stop < n and tokens[stop] not in ("and", ","):
                stop += 1
            own = tokens[c + 2 : stop]
            rest = tokens[stop:]
            other: list[str] = []
            if rest[:3] == ["and", "the", "other"] or rest[:3] == [",", "the", "other"]:
                other = [w for w in rest[3:] if w != "one"]
                rest = []
                if other and all(w in _PLAIN for w in other):
                    other = []
            return [*tokens[:k], str(count - 1), *seg, *other, "and", "1", *seg, *own, *rest]
    return tokens


def _no_then_instead(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "no vegetarianas , make them pepperoni" (ya no vegetarianas, que sean de pepperoni) →
    "change the vegetarianas for pepperoni": the line said no to, replaced by what follows."""
    start = 0
    while start < len(tokens) and tokens[start] in _LEADS - {"no"}:
        start += 1
    if tokens[start : start + 1] != ["no"]:
        return tokens
    i = start + 1 + (tokens[start + 1 : start + 2] == ["the"])
    j = i
    while j < len(tokens) and menu_phrase_at(tokens, j)[0]:
        j += menu_phrase_at(tokens, j)[0]
    tail = tokens[j:]
    if (
        j == i
        or len(tail) < 3
        or tail[0] != ","
        or (tail[1:3] not in (["make", "them"], ["make", "it"]) and tail[1] != "actually")
    ):
        return tokens
    new = tail[3:] if tail[1] == "make" else tail[2:]
    while new and new[-1] in ("and", ","):
        new = new[:-1]
    return [*tokens[:start], "change", "the", *tokens[i:j], "for", *new] if new else tokens


def _numbers_said(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "make it 1 coca" (ponme una coca, hazme una hawaiana) orders: a quantity set on a line
    is only "ponme 3" with nothing named after it. "the two" with no item after it (las dos con
    extra queso, las dos mejor grandes) is "both"."""
    out = list(tokens)
    for i in range(len(out) - 3):
        if out[i : i + 2] == ["make", "it"] and (out[i + 2].isdigit() or out[i + 2] in _NUMBERS):
            size, what = menu_phrase_at(out, i + 3)
            if size and what != "option":
                out[i : i + 2] = ["give", "me"]
    for i in range(len(out) - 1):
        if out[i : i + 2] == ["the", "two"]:
            j = i + 2
            size, what = menu_phrase_at(out, j) if j < len(out) else (0, "")
            while size and what == "option":
                j += size
                size, what = menu_phrase_at(out, j) if j < len(out) else (0, "")
            if not size:
                return [*out[:i], "both", *out[i + 2 :]]
    return out


_ASKED = ["do", "you", "have"]
_ORDERING = (["give", "me"], ["i", "want"], ["bring", "me"], ["send", "me"])
_SOME = frozenset({"a", "one", "some", "two", "three", "four", "five", "six"})
_THEN = frozenset({"and", "then", "entonces", "so", "ok", "please", ","})


def _asked_then_ordered(
    tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]
) -> list[str]:
    """ "do you have hawaiana ? give me a" (¿tienen hawaiana? dame una) → "give me a hawaiana":
    what is asked about is what the count after it orders; nothing else may be said."""
    if tokens[:3] != _ASKED or "?" not in tokens:
        return tokens
    mark = tokens.index("?")
    named = tokens[3:mark]
    i = 0
    while i < len(named):
        size, _ = menu_phrase_at(named, i)
        if not size and named[i] not in ("a", "the", "some"):
            return tokens
        i += size or 1
    if not any(menu_phrase_at(named, k)[1] not in ("", "option") for k in range(len(named))):
        return tokens
    rest = tokens[mark + 1 :]
    while rest and rest[0] in _THEN:
        rest = rest[1:]
    while rest and rest[-1] in ("please", "!"):
        rest = rest[:-1]
    if len(rest) != 3 or rest[:2] not in _ORDERING or rest[2] not in _SOME:
        return tokens
    count = "a" if rest[2] == "some" else rest[2]
    return [*rest[:2], count, *(w for w in named if w not in ("a", "the", "some"))]


def _units_told_apart(
    tokens: list[str],
    k: int,
    total: int,
    stems: list[str],
    menu_phrase_at: Callable[[list[str], int], MenuPhrase],
) -> list[str]:
    """ "two cocas , a normal and a light" → "a coca and a coca light": every unit of the
    count said apart, each plain or another item; anything else is left as it was said."""
    if tokens[k + 1 : k + 2] != [","]:
        return tokens
    parts: list[list[str]] = []
    j = k + 2
    while j + 1 < len(tokens) and tokens[j] in _COUNTS:
        said = tokens[j + 1]
        variant = next((w for w in stems if menu_phrase_at([w, said], 0) == (2, "item")), None)
        if variant is not None:
            parts.append(["a", variant, said])
        elif said in _PLAIN:
            parts.append(["a", stems[-1]])
        else:
            return tokens
        if tokens[j] not in ("a", "one"):
            return tokens
        j += 2
        if j < len(tokens) and tokens[j] in ("and", ","):
            j += 1
    if j < len(tokens) or len(parts) != total:
        return tokens
    out = list(tokens[: k - 1])
    for n, part in enumerate(parts):
        out += ([] if n == 0 else ["and"]) + part
    return out


def _kind_said_alone(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "two cocas , a light" (dos cocas, una light) → "a coca and a coca light"; "a coca light
    and a normal" → "a coca light and a coca": a word that makes another item of the one just
    named ("coca light") said with a count alone is that item; "normal" beside it is the plain
    one. The units of a count said first are those told apart, the rest stay as they are."""
    for i, word in enumerate(tokens):
        if word not in _COUNTS or i == 0 or tokens[i - 1] not in ("and", ",") or i + 1 >= len(tokens):
            continue
        said = tokens[i + 1]
        end = i + 2
        if end < len(tokens) and tokens[end] not in ("and", ",", "please"):
            continue
        named = [
            (k, menu_phrase_at(tokens, k)[0]) for k in range(i) if menu_phrase_at(tokens, k)[1] == "item"
        ]
        if not named:
            continue
        k, size = named[-1]
        head = tokens[k]
        stems = [head, head[:-1]] if head.endswith("s") else [head]
        variant = next((w for w in stems if menu_phrase_at([w, said], 0) == (2, "item")), None)
        if variant is not None and size == 1:
            new = [variant, said]
        elif said in _PLAIN and size == 2 and menu_phrase_at([head], 0) == (1, "item"):
            new = [head]  # "a coca light and a normal": the plain coca
        elif said in _PLAIN and size == 1 and k + 1 < i - 1:
            new = [head]  # "a hawaiana with stuffed crust and a normal": one as it comes
        else:
            continue
        count = tokens[k - 1] if k > 0 else ""
        total = _NUMBERS.get(count) or (int(count) if count.isdigit() else 0)
        if total > 1 and tokens[k + size : k + size + 1] == [","]:
            apart = _units_told_apart(tokens, k, total, stems, menu_phrase_at)
            if apart is not tokens:
                return apart
            if tokens[k + 1 : k + 2] == [","] and k + 2 == i and variant is not None and end == len(tokens):
                # "two cocas , a light": one of the two is the other item
                left = total - 1
                kept = [*tokens[: k - 1], str(left) if left > 1 else "a", stems[-1] if left == 1 else head]
                return [*kept, "and", word, *new]
            return tokens
        return [*tokens[: i + 1], *new, *tokens[end:]]
    return tokens


def _spanish_order(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """Spanish word order made English (see the section's comment)."""
    while tokens and tokens[0] == ",":
        tokens = tokens[1:]
    if tokens[:2] == ["what", "the"] and "?" not in tokens:
        tokens = tokens[1:]  # "que la margarita lleve doble queso": a wish, not a question
    for i in range(min(len(tokens) - 3, 3)):
        if (
            tokens[i] == "with"
            and tokens[i + 2 : i + 4] == ["is", "enough"]
            and all(t in _LEADS for t in tokens[:i])
        ):
            tokens = [*tokens[:i], *tokens[i + 1 :]]  # "con 3 alcanza" → "3 is enough"
            break
    for i in range(len(tokens) - 4):
        if tokens[i : i + 4] == ["the", "other", "one", "with"] and all(
            menu_phrase_at(tokens, k)[1] == "option" or tokens[k] in ("and", ",")
            for k in range(i + 4, len(tokens))
            if menu_phrase_at(tokens, k)[0] or tokens[k] in ("and", ",")
        ):
            tokens = [*tokens[: i + 3], *tokens[i + 4 :]]  # "la otra con masa delgada"
            break
    tokens = _asked_then_ordered(tokens, menu_phrase_at)
    tokens = _one_alone(tokens, menu_phrase_at)
    tokens = _kind_said_alone(tokens, menu_phrase_at)
    tokens = _numbers_said(tokens, menu_phrase_at)
    tokens = _one_of_them_with(tokens, menu_phrase_at)
    tokens = _no_then_instead(tokens, menu_phrase_at)
    tokens = _count_of_line(tokens, menu_phrase_at)
    tokens = _verb_after_line(tokens, menu_phrase_at)
    tokens = _options_before_line(tokens, menu_phrase_at)
    return _unit_swapped(_units_removed(tokens, menu_phrase_at), menu_phrase_at)


# What the customer (or someone they order for) eats: "es pa mi hermana que es vegetariana".
_ES_DIETS = _table(
    "|".join(
        f"{who} {diet}{end}="
        for who in ("soy", "somos", "es", "son", "que es", "que son")
        for diet in ("vegetarian", "vegan", "celiac")
        for end in ("o", "a", "os", "as")
    )
)
_ES = _asking(_ES, "carne=meat|")
_ES = dataclasses.replace(
    _ES,
    phrases={**_ES.phrases, **_ES_DIETS},
    max_phrase=max(_ES.max_phrase, *(len(k) for k in _ES_DIETS)),
    # "la más grande": read over the size's name, which it compares
    over_menu=frozenset(_ES_DIETS)
    | {k for k in _ES.phrases if "mas" in k[1:3] and k[0] in ("la", "el", "las")},
    more_last=frozenset({"mas"}),
    reorder=_spanish_order,
)
_LEXICONS: Mapping[str, Lexicon] = {"es": _ES, "pt_BR": _PT}


def _item_has(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "a vegetariana tem carne?" ("the vegetariana do you have carne"): "tem" after an item
    asks what the item has, "does the vegetariana have carne", not whether the store has it."""
    n = len(tokens)
    for i in range(n):
        size, what = menu_phrase_at(tokens, i)
        end = i + size
        if size and what != "option" and tokens[end : end + 3] == ["do", "you", "have"]:
            start = i - 1 if i > 0 and tokens[i - 1] == "the" else i
            return [*tokens[:start], "does", "the", *tokens[i:end], "have", *tokens[end + 3 :]]
    return tokens


def _question_first(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "e a borda recheada é qto a mais?" ("and the borda recheada how much extra"): what is
    asked about said before "how much" is said after it in English ("how much extra is the
    borda recheada")."""
    start = 0
    while start < len(tokens) and tokens[start] in ("and", ","):
        start += 1
    if tokens[start : start + 1] != ["the"]:
        return tokens
    for k in range(start + 2, len(tokens) - 1):
        if tokens[k : k + 2] == ["how", "much"]:
            end = k + 3 if tokens[k + 2 : k + 3] == ["extra"] else k + 2
            return [*tokens[k:end], "is", *tokens[start:k], *tokens[end:]]
    return tokens


def _from_item(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "tira o abacaxi da havaiana" ("remove the abacaxi of the havaiana"), "quita el jamón de
    la hawaiana", "tira a cebola da pizza": an option taken "of" an item, or of the pizza, is
    taken from it ("remove the abacaxi from the havaiana"), not the item."""
    if tokens[:1] != ["remove"]:
        return tokens
    for i in range(1, len(tokens) - 2):
        size, what = menu_phrase_at(tokens, i)
        end = i + size
        if size and what == "option" and tokens[end : end + 2] == ["of", "the"]:
            after, kind = menu_phrase_at(tokens, end + 2)
            if (after and kind != "option") or tokens[end + 2] in _NOUNS_BEFORE:
                return [*tokens[:end], "from", *tokens[end + 1 :]]
    return tokens


def _on_item_remove(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "na vegetariana tira a azeitona" ("on the vegetariana remove the azeitona"): options
    taken off a line named first are taken "from" it, as English says after them."""
    if tokens[:2] != ["on", "the"]:
        return tokens
    end = _reference_end(tokens, 2, menu_phrase_at)
    ref = tokens[2:end]
    # a line by its item or by an option it has ("na broto coloca azeitona": the small one)
    named = [what for k in range(len(ref)) if (what := menu_phrase_at(ref, k))[0]]
    verb = tokens[end : end + 1]
    if not named or verb not in (["remove"], ["add"]) or end + 1 >= len(tokens):
        return tokens
    # "nas duas margueritas coloca jalapeño": options put "on" the lines named first
    return [*verb, *tokens[end + 1 :], "from" if verb == ["remove"] else "to", "the", *ref]


# What may stand between a line named first and the quantity it is to have ("só", "tbm quero",
# "manda", "coloca").
_QUANTITY_SAID = (
    ("i", "also", "want"), ("i", "want"), ("make", "it"), ("make", "them"), ("give", "me"), ("only",),
    ("also",), ("send",), ("want",), (),
)  # fmt: skip


def _quantity_of_named(
    tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]
) -> list[str]:
    """ "das grandes só uma" ("of the grandes only one"), "da grossa tbm quero 2", "a de garrafa
    manda 2" ("the one with garrafa send 2"): the quantity of a line named first by what it has
    → "only one of the grandes", "2 of the grossa", "2 of the one with garrafa"."""
    if tokens[:2] == ["of", "the"]:
        first = 2
    elif tokens[:3] == ["the", "one", "with"]:
        first = 3
    else:
        return tokens
    end = _reference_end(tokens, first, menu_phrase_at)
    if end == first or not any(menu_phrase_at(tokens, k)[0] for k in range(first, end)):
        return tokens
    if end == len(tokens) and tokens[end - 1].isdigit() and end - 1 > first:
        end -= 1  # "da lata 3": the quantity, not part of the name
    rest = tokens[end:]
    for lead in _QUANTITY_SAID:
        said = rest[len(lead) :]
        if tuple(rest[: len(lead)]) != lead or len(said) != 1:
            continue
        if said[0].isdigit() or said[0] in _NUMBERS or said[0] == "one":
            named = tokens[:end] if tokens[0] == "of" else ["of", *tokens[:end]]
            return [*(["only"] if lead == ("only",) else []), said[0], *named]
    return tokens


def _all_but(tokens: list[str], menu_phrase_at: Callable[[list[str], int], MenuPhrase]) -> list[str]:
    """ "tira tudo menos a havaiana" ("remove everything except the havaiana"): only the lines
    named stay ("only the havaiana , forget the rest")."""
    if tokens[:3] != ["remove", "everything", "except"] or len(tokens) < 5:
        return tokens
    return ["only", *tokens[3:], ",", "forget", "the", "rest"]


# Word orders of one language read as English, after the common ones (see each function).
_Reorder = Callable[[list[str], Callable[[list[str], int], MenuPhrase]], list[str]]
_REORDERS: Final[dict[str, tuple[_Reorder, ...]]] = {
    "es": (_from_item,),
    "pt_BR": (
        _count_of_line,
        _quantity_of_named,
        _verb_first,
        _one_alone,
        _one_of_them,
        _instead,
        _item_has,
        _question_first,
        _from_item,
        _all_but,
        _on_item_remove,
        _unit_swapped,
    ),
}
