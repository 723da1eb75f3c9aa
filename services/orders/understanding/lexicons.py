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

from collections.abc import Callable, Mapping
from dataclasses import dataclass

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


def _lexicon(locale: str, phrases: str, common: str, nouns: Mapping[str, str]) -> Lexicon:
    table = _table(phrases)
    words = frozenset(common.split()) | {w for k in table for w in k} | set(nouns)
    return Lexicon(locale, table, words, max(len(k) for k in table), nouns)


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
    otra mas=another|otro mas=another|una mas=another|uno mas=another|
    y=and|e=and|o=or|u=or|ademas=also|tambien=also|mas=extra|con mas=with extra|
    con extra=with extra|extra de=extra|doble=double|el doble de=double|triple=triple|
    poco=light|poca=light|un poco de=a little|poquito=light|poquita=light|un poquito de=a little|
    con=with|sin=without|pero sin=but without|pero con=but with|pero=but|sin nada de=without|
    nada de=no|no=no|no quiero=no|no le pongas=no|quitale=no|quitale el=no|quitale la=no|
    quita=no|quitar=no|sacale=no|menos=no|
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
    cambiar cambia cambio quitar borrar eliminar agregar anadir sumar dejar deja""",
    _nouns("drink", "bebida bebidas refresco refrescos gaseosa gaseosas soda sodas"),
)

_PT = _lexicon(
    "pt_BR",
    """
    um=a|uma=a|dois=two|duas=two|tres=three|quatro=four|cinco=five|seis=six|sete=seven|
    oito=eight|nove=nine|dez=ten|onze=eleven|doze=twelve|treze=thirteen|catorze=fourteen|
    quatorze=fourteen|quinze=fifteen|dezesseis=sixteen|dezessete=seventeen|dezoito=eighteen|
    dezenove=nineteen|vinte=twenty|
    um par de=a couple of|uma duzia de=a dozen|uma duzia=a dozen|meia duzia de=half a dozen|
    meia duzia=half a dozen|outra=another|outro=another|mais uma=another|mais um=another|
    e=and|ou=or|tambem=also|mais=extra|com mais=with extra|com extra=with extra|extra de=extra|
    em dobro=double|dobro de=double|o dobro de=double|duplo=double|dupla=double|triplo=triple|
    pouco=light|pouca=light|um pouco de=a little|pouquinho=light|um pouquinho de=a little|
    com=with|sem=without|mas sem=but without|mas com=but with|mas=but|porem=but|
    sem nada de=without|nada de=no|nao=no|nao quero=no|tira=no|tirar=no|tira o=no|tira a=no|
    menos=no|
    coloca=add|coloque=add|adiciona=add|adicione=add|poe=add|bota=add|acrescenta=add|
    bem passada=well done|bem passado=well done|bem assada=well done|crocante=crispy|
    apimentada=spicy|picante=spicy|cortada em quadrados=cut in squares|
    o=the|a=the|os=the|as=the|do=of the|da=of the|dos=of the|das=of the|de=of|no=on the|
    na=on the|nos=on the|nas=on the|em=in|para=for|pra=for|pro=for the|meu=my|minha=my|
    quero=i want|queria=i would like|gostaria=i would like|gostaria de=i would like|
    me ve=give me|me da=give me|da=give|me manda=send me|manda=send|me traz=bring me|
    traz=bring|vou querer=i want|vou pedir=i want|preciso=i need|pedir=order|pede=order|
    pra mim=for me|tambem quero=i also want|e tambem=and also|
    por favor=please|pfv=please|pf=please|porfa=please|obrigado=thanks|obrigada=thanks|
    valeu=thanks|ola=hi|oi=hi|bom dia=good morning|boa tarde=good afternoon|boa noite=good night|
    so isso=thats all|e so isso=thats all|e isso=thats all|so=just|mais nada=thats all|
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
    adicionar colocar deixa deixar cade""",
    _nouns("drink", "bebida bebidas refri refris refrigerante refrigerantes"),
)

_LEXICONS: Mapping[str, Lexicon] = {"es": _ES, "pt_BR": _PT}


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
    tokens: list[str], lexicon: Lexicon, menu_phrase_at: Callable[[list[str], int], MenuPhrase]
) -> list[str]:
    """`tokens` as the English the parser reads. Where a menu name or alias begins
    (`menu_phrase_at(tokens, i)`) its words are kept; elsewhere the language's phrases become
    English, longest first; then the word order of the language becomes English: "pizzas de
    pepperoni" → "pepperoni pizzas", "queijo extra" → "extra queijo"."""
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        size, _ = menu_phrase_at(tokens, i)
        if size:
            out.extend(tokens[i : i + size])
            i += size
            continue
        for length in range(min(lexicon.max_phrase, n - i), 0, -1):
            english = lexicon.phrases.get(tuple(tokens[i : i + length]))
            # a phrase must not swallow the start of a menu name ("pero sin gluten")
            if english is not None and not any(
                menu_phrase_at(tokens, j)[0] for j in range(i + 1, i + length)
            ):
                out.extend(english)
                i += length
                break
        else:
            out.append(tokens[i])
            i += 1
    return _english_order(out, menu_phrase_at)


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
