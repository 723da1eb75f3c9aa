"""The English words the message parser knows without a menu: negations, quantity
qualifiers, generic nouns for kinds of item, notes, connectives and filler.

Phrases are written as text and split on spaces; the parser matches them by longest match,
so "not a lot of" (a light portion) wins over "not" (a negation).
"""

from __future__ import annotations

import re
from collections.abc import Mapping


def _split(text: str) -> list[str]:
    """Phrases written one after another with ``|`` between them, spaces normalised."""
    return [" ".join(p.split()) for p in text.split("|") if p.strip()]


__all__ = [
    "ANAPHORS",
    "CHAT_WORDS",
    "COMMON_WORDS",
    "FILLER_PHRASES",
    "INTERJECTION",
    "KIND_NOUNS",
    "LIST_WORDS",
    "NEGATIONS",
    "NEGATION_GLUE",
    "NOTE_PHRASES",
    "ORDER_PHRASES",
    "ORDER_VERBS",
    "POSITIVE_MARKERS",
    "QUALIFIER_PHRASES",
]

NEGATIONS: frozenset[str] = frozenset(
    _split("""no|not|none|without|wo|sans|minus|except|excluding|exclude|hold|hold the|hold on|
    hold off|hold off on|hold off on the|skip|skip the|avoid|leave out|leave out the|leave off|
    leave off the|take off|take off the|remove|remove the|no more|not any|none of|
    dont want|do not want|dont put|do not put|dont add|do not add|dont like|do not like|
    dont include|do not include|free of|allergic to|dont|do not|
    make sure its not|make sure there is no|make sure theres no|please no|nix|nix the|
    forget the|forget|cut the|lose the|no need for|without any|with no|with out|withouth|
    witout|whitout|ditch the|drop the|omit|omit the""")
)

# Words allowed between a negation and what it negates ("hold off on the onions").
NEGATION_GLUE: frozenset[str] = frozenset({"the", "any", "of", "on", "more", "some", "my", "it"})

# Qualifier phrase -> qualifier code (see catalog.QUALIFIERS for pricing).
QUALIFIER_PHRASES: Mapping[str, str] = {
    **dict.fromkeys(
        _split("""light|lite|lightly|light on|light on the|go light on|go light on the|easy on|
        easy on the|go easy on|go easy on the|a little|a little bit|a little bit of|a bit of|
        little|little bit of|just a little|just a bit|just a bit of|only a little|only a bit|
        only a little bit of|a touch of|just a touch of|a drizzle|a drizzle of|just a drizzle|
        just a drizzle of|only a drizzle|only a drizzle of|no more than a drizzle|
        no more than a drizzle of|drizzle of|drizzled|a tiny bit of|a tiny bit|
        just a tiny bit of|not much|not a lot|not a lot of|not many|not too much|
        not too many|not too much of|less|
        a small amount of|a sprinkle of|a sprinkling of|sprinkled|half the|
        a light layer of|scant|sparingly"""),
        "light",
    ),
    **dict.fromkeys(
        _split("""extra|xtra|extras|lots of|lot of|a lot of|alot of|a whole lot of|loads of|
        load of|plenty of|heavy|heavy on|heavy on the|go heavy on|go heavy on the|
        a bunch of|a whole bunch of|bunch of|more|much more|some more|additional|added|
        a ton of|tons of|ton of|generous|a generous amount of|a generous|generously|loaded|
        loaded with|piled with|piled high with|lots|plenty|heaps of|a heap of|a pile of|
        a large amount of|large amount of|a big portion of|big portion of|lotsa|
        add more|add extra|more of|a double|double portion of|
        extra portion of"""),
        "extra",
    ),
    **dict.fromkeys(["double", "doubled", "twice the", "2x the", "double the"], "double"),
    **dict.fromkeys(["triple", "tripled", "three times the"], "triple"),
}

# Nouns that name a kind of item rather than an item ("two pizzas", "a drink").
KIND_NOUNS: Mapping[str, str] = {
    **dict.fromkeys(
        _split("""pizza|pizzas|pie|pies|pizza pie|pizza pies|za|zza|pizzs|pizzaa|pizzaz|pizze|
        piza|pizaa|pizzia|pzza|piizza|pizas|pizzae|pizzas pie|pitza|pitzas"""),
        "pizza",
    ),
    **dict.fromkeys(
        _split("""drink|drinks|soda|sodas|soft drink|soft drinks|beverage|beverages|bev|bevs|
        pop|sodapop|fizzy drink|fizzy drinks|cold drink|cold drinks"""),
        "drink",
    ),
}

# Things customers ask for by a name the menu may not have: when one is not on the menu, the
# items of its kind are better suggestions than names spelt alike ("pepsi" is a drink, not
# "pepperoni").
KIND_HINTS: Mapping[str, str] = {
    **dict.fromkeys(
        _split("""pepsi|pepsis|fanta|fantas|dr pepper|mountain dew|7up|seven up|lemonade|
        iced tea|ice tea|juice|orange juice|apple juice|soda water|sparkling water|tonic|
        ginger ale|root beer|cola|colas|beer|beers|wine|milkshake|smoothie|red bull|
        guarana|guaranas|suco|sucos|jugo|jugos|cerveja|cervejas|cerveza|cervezas|vino|vinho|
        limonada|limonadas"""),
        "drink",
    ),
}

# Free notes a kitchen understands; kept on the line as written.
NOTE_PHRASES: frozenset[str] = frozenset(
    _split("""well done|extra crispy|crispy|extra well done|cut in squares|cut into squares|
    square cut|squares|not cut|uncut|dont cut|do not cut|cut in half|cut in 8|
    cut into 8 slices|light bake|lightly baked|extra hot|extra spicy|spicy|mild|
    sauce on the side|on the side|dressing on the side|no ice|with ice|ice|cold|
    well cooked|not too crispy|soft|burnt|well baked|easy bake""")
)

# Words after which a list of options continues ("with ham, onions and olives").
LIST_WORDS: frozenset[str] = frozenset({"and", "or", "nor", ",", "n", "&", "plus", "also"})

# Words that start a positive option list and end the scope of a negation.
POSITIVE_MARKERS: frozenset[str] = frozenset(
    _split("""with|w|plus|add|also|but|including|include|includes|topped|topping|toppings|
    having|has|have|want|like|and with|along|as well|put|get|make|made|same|instead""")
)

# Verbs after which an unknown word is probably something ordered ("can i get a lasagna").
ORDER_VERBS: frozenset[str] = frozenset(
    _split("""get|want|wanna|have|order|like|need|take|gimme|give|bring|send|buy|try|
    prefer|add|grab|fancy|craving|do""")
)

# Words that order more when said together ("throw in a tiramisu", "chuck in some wings"); alone
# ("chuck the tiramisu") they may as well take a line out.
ORDER_PHRASES: frozenset[tuple[str, ...]] = frozenset(
    tuple(p.split())
    for p in _split("""throw in|chuck in|toss in|pop in|bung in|stick in|whack in|
    add in|slide in|sneak in|throw on|chuck on""")
)

# Words before a kind noun that point back at an order already made ("on those pizzas").
ANAPHORS: frozenset[str] = frozenset(
    {"the", "those", "these", "that", "this", "each", "all", "both", "every", "of", "my",
     "our", "them", "said", "same"}
)  # fmt: skip

# Multi-word phrases that are pure filler and must not be read as anything else:
# "thanks a lot" is no qualifier, "can i" is no container, "that's everything" no style.
FILLER_PHRASES: frozenset[str] = frozenset(
    _split("""thanks a lot|thank you a lot|thanks alot|thx a lot|a lot|a lot thanks|
    can i|can you|can we|can u|can i get|can i have|i can|you can|we can|cant|
    can i please|can i also|can i just|can i order|can ya|
    thats all|that is all|thats it|that is it|thats everything|that is everything|
    that will be all|thatll be all|that would be all|thatll be everything|
    that will be everything|and thats all|and that is all|is that all|
    thats all for today|for now|for today|for tonight|right now|asap|
    order number|phone number|my number|a minute|a moment|a second|a sec|one sec|
    one second|one moment|at one|at two|at three|at four|at five|at six|at seven|
    at eight|at nine|at ten|in a bit|a bit|lets see|let me see|let me think|
    one of those|no problem|no worries|no thanks|not sure|no rush|of course|
    a favor|a question|one question|one thing|a pizza place|the menu|a menu|
    one more thing|oh and|and also|as well as|along with|along side|alongside|
    together with|on top|on top of it|on it|on them|on there|in it|
    a nice day|a good day|a great day|good day|good evening|good morning|
    good afternoon|good night""")
)

# Ordinary words never spell-corrected into menu words ("want" is not "wings").
COMMON_WORDS: frozenset[str] = frozenset(
    _split("""a|an|the|i|im|ive|id|ill|me|my|mine|we|us|our|you|your|u|ya|he|she|it|its|they|them|
    their|this|that|these|those|there|here|what|which|who|whom|whose|when|where|why|how|
    is|am|are|was|were|be|been|being|do|does|did|done|doing|have|has|had|having|get|gets|
    got|getting|give|gives|gave|want|wants|wanted|wanna|need|needs|needed|like|likes|
    liked|love|would|could|should|will|shall|may|might|must|can|cant|wont|dont|doesnt|
    didnt|isnt|arent|wasnt|order|orders|ordered|ordering|place|placing|put|take|took|
    taking|make|makes|made|bring|send|deliver|delivery|deliverd|pickup|pick|up|collect|
    please|pls|plz|thanks|thank|thx|ty|cheers|hi|hey|hello|hola|yo|good|great|nice|
    morning|evening|afternoon|night|today|tonight|tomorrow|now|later|soon|asap|
    and|or|but|so|then|than|also|too|very|really|just|only|maybe|perhaps|ok|okay|sure|
    yes|yeah|yep|yup|nope|no|not|all|any|some|every|each|both|either|neither|none|
    more|most|less|few|many|much|lot|lots|bit|of|on|in|at|to|for|from|by|with|without|
    about|into|onto|over|under|up|down|out|off|as|if|while|after|before|again|once|
    one|two|three|four|five|six|seven|eight|nine|ten|first|second|third|other|another|
    same|else|thing|things|something|anything|everything|nothing|stuff|kind|type|sort|
    size|sized|sizes|style|way|top|topped|topping|toppings|side|sides|piece|pieces|
    slice|slices|whole|half|cut|also|well|go|going|gonna|let|lets|try|see|look|looking|
    think|guess|know|say|said|tell|told|ask|asked|add|added|adding|include|including|
    includes|change|cancel|remove|menu|price|prices|cost|total|pay|cash|card|address|
    street|home|house|work|office|time|minute|minutes|hour|hours|day|days|week|
    people|person|family|kids|friends|party|guys|folks|everyone|someone|anyone|
    buddy|dude|man|mate|sir|madam|maam|boss|chef|team|store|shop|restaurant|place|
    food|meal|dinner|lunch|breakfast|snack|hungry|starving|delicious|yummy|tasty|
    awesome|perfect|fine|cool|lovely|beautiful|amazing|excellent|wonderful|fantastic|
    favorite|favourite|usual|regular|normal|standard|classic|original|plain|simple|
    fresh|hot|warm|new|old|big|small|little|large|huge|tiny|fast|quick|quickly|
    which|whatever|whichever|fully|totally|absolutely|definitely|probably|actually|
    literally|basically|honestly|still|yet|already|even|ever|always|sometimes|
    thats|theres|heres|whats|hows|wheres|lemme|gimme|gotta|kinda|sorta|dunno|
    oh|ah|um|uh|hmm|hm|er|eh|lol|haha|wow|oops|pizza|pizzas|pie|pies|drink|drinks|
    choose|chose|pick|picked|prefer|preferred|fancy|feel|feeling|craving|crave|
    request|requesting|wish|hoping|hope|able|possible|available|enough|right|left|
    extra|again|instead|plus|minus|only|alone|together|separate|separately|each|
    come|comes|coming|came|go|goes|went|gone|put|puts|putting|adds|use|uses|using|used|
    keep|keeps|kept|leave|leaves|left|hold|holds|held|skip|skips|avoid|avoids|
    though|through|thought|although|tho|thru|because|cause|since|until|till|unless|
    whether|otherwise|however|anyway|anyways|besides|meanwhile|also|either|rather|
    quite|pretty|almost|enough|such|own|same|own|self|myself|yourself|ourselves|
    themselves|himself|herself|itself|everybody|somebody|nobody|anybody|
    would|wouldnt|couldnt|shouldnt|might|mightnt|ill|youll|well|weve|theyre|were|
    youre|hes|shes|its|lets|id|youd|wed|theyd|ive|youve|theyve|
    need|needs|wants|asking|ordering|getting|having|giving|making|taking|trying|
    tried|tries|tries|wanting|needing|liking|loving|hoping|planning|thinking|
    start|started|finish|finished|done|ready|wait|waiting|hurry|rush|late|early|
    deliver|delivered|delivering|pick|picking|picked|pickup|drop|dropped|
    call|called|calling|text|message|phone|number|name|email|reply|answer|
    sounds|sound|looks|seems|seem|mean|means|meant|right|wrong|true|false|
    great|super|top|best|better|worse|worst|most|least|last|next|previous|
    again|back|away|around|here|there|everywhere|somewhere|anywhere|nowhere|
    kind|kinds|much|many|lot|couple|pair|bunch|dozen|number|amount|
    today|week|weekend|monday|tuesday|wednesday|thursday|friday|saturday|sunday|
    birthday|celebration|game|movie|night|evening|noon|midnight|oclock|pm|am|
    dinner|lunch|supper|brunch|dessert|desserts|appetizer|appetizers|starter|
    starters|main|mains|course|dish|dishes|order|meal|combo|deal|deals|special|
    specials|offer|offers|coupon|discount|free|cheap|expensive|cost|costs|price|
    please|kindly|thank|thanks|thankyou|appreciate|appreciated|grateful|sorry|
    excuse|pardon|welcome|bye|goodbye|later|cya|see|soon|hope|nice|day|
    also|both|also|each|every|either|neither|nor|yet|so|such|than|then|
    order|ordered|orders|reorder|same|again|usual|instead|change|swap|replace|
    substitute|sub|switch|make|made|maker|making|cook|cooked|bake|baked|
    toppings|topping|topped|top|tops|covered|cover|loaded|piled|sprinkle|
    slice|sliced|slices|cut|cuts|piece|pieces|part|parts|half|halves|whole|
    one|ones|another|others|rest|remaining|everything|nothing|anything|something|
    yes|yeah|yea|yah|ya|yup|yep|ok|okay|okey|k|kk|alright|allright|fine|sure|
    no|nah|nope|not|never|none|nothing|without|except|but|however|
    open|opens|opening|close|closes|closing|closed|hours|delivery|deliveries|deliver|
    status|track|tracking|cart|basket|checkout|confirm|confirmed|receipt|bill|tip|
    help|agent|human|stop|start|unsubscribe|info|information|details|question|questions|em""")
)

# Words of chat that say nothing of an order or of a change: tags ("ngl", "fr", "tbh"), words
# said to the reader ("bruh", "fam", "abeg", "yaar"), the people an order is for ("my sister
# wants one too"). A message read beside them means what it says without them.
CHAT_WORDS: frozenset[str] = frozenset(
    _split("""ngl|fr|frfr|tbh|tbf|idk|imo|imho|btw|fyi|rn|ikr|smh|lmao|lmfao|rofl|omg|omfg|ffs|
    lowkey|highkey|deadass|legit|innit|init|aight|ight|yall|bruh|bro|bruv|fam|sis|hun|babe|
    dawg|homie|mate|oi|abeg|biko|oga|abi|sha|jare|o|oo|ooo|yaar|ji|bhai|bhaiya|didi|lah|
    cuz|coz|cos|reckon|arvo|heaps|ta|sister|brother|mom|mum|mommy|mummy|dad|daddy|
    wife|husband|hubby|son|daughter|kid|child|children|baby|partner|boyfriend|girlfriend|bf|gf|
    roommate|flatmate|housemate|cousin|aunt|auntie|uncle|grandma|grandpa|nan|nana|gran|
    colleague|coworker|coworkers|colleagues|neighbour|neighbor|guest|guests|ugh|argh""")
)

# An interjection however long it is drawn out ("ooh", "ahhh", "hmmm", "ummm", "mmm").
INTERJECTION = re.compile(r"o+h*|a+h+|h+m+|m{2,}|u+[mh]+|e+r+m*|e+h+|o+p+s+|w+o+w+")
