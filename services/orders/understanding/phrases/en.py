"""English: the phrases of corrections, references, questions and small talk.

Patterns match a clause's normalised words (``acts.normalise``: lowercase, no accents, no
apostrophes, so "what's" is "whats"), after the lead and trail filler is stripped. Rules are
tried in order; the first that reads the clause wins, so the narrower shapes come first.
"""

from __future__ import annotations

import dataclasses
import re

from services.orders.menu.catalog import Menu
from services.orders.understanding.acts import (
    Act,
    Clause,
    Phrases,
    Rule,
    Target,
    category_items,
    kind_hinted,
    normalise,
    number_of,
    options_only,
    order_of,
    read_target,
)
from services.orders.understanding.parser import Modifiers
from services.orders.understanding.rules import (
    adjust_rule,
    change_rule,
    fixed_rule,
    menu_question_rule,
    question_rule,
    remove_rule,
    replace_rule,
    scale_rule,
    set_quantity_rule,
)

__all__ = ["PHRASES"]

# A quantity as said: digits or words ("2", "two", "a couple of").
NUM = (
    r"(?:-?\d{1,9}(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"a couple(?: of)?|couple of|a pair of|a dozen|half a dozen|a single|single|just one|only one|the one)"
)
# A quantity as written, even one that cannot be used ("2.5", "1e9", "0x10"): refused with the range.
NUMISH = NUM[:-1] + r"|-?\d[\w.,/-]*)"
# Words that count portions after a number ("make it 2 orders", "3 portions"): no name.
UNITS = r"(?:\s+(?:orders?|portions?|servings?|plates?|boxes|box|lots|units|helpings?))?"
# "what kinds of desserts", "what kinda drinks", "which other pizzas": before what is asked about.
KIND_OF = (
    r"(?:other\s+)?(?:(?:kinds?|types?|sorts?|flavou?rs?) of\s+|kinda\s+|sorta\s+|typa\s+)?(?:other\s+)?"
)
# "it", "that", "them" and the other words that point at the line being talked about.
PTR = r"(?:it|that|this|them|those|these|that one|this one|em|they)"


# Words of chat before or after what a message says, which change nothing of it: tags ("ngl",
# "fr", "tbh"), words said to the reader ("bruh", "fam", "abeg", "yaar"), a drawn-out sound.
CHAT = (
    r"(?:ngl|tbh|tbf|fr(?: fr)?|frfr|no cap|honestly|lowkey|deadass|legit|bruh|bro|bruv|fam|dawg|"
    r"abeg|biko|jare|sha|yaar|ji|bhai|lah|innit|aight|ight|yall|y all|lmao|lmfao|o+h+|a+h+|m{3,}|"
    r"u+m+|oo+)"
)


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(
        pattern.replace("{NUMISH}", NUMISH)
        .replace("{NUM}", NUM)
        .replace("{PTR}", PTR)
        .replace("{CHAT}", CHAT)
        .replace("{UNITS}", UNITS)
        .replace("{KIND_OF}", KIND_OF)
    )


LEAD = _re(
    r"^(?:(?:{CHAT}|actually|actualy|acutally|sorry|soz|oops|oh|ah|ahh|hmm+|um+|uh+|er|wait|hold on|"
    r"ok|okay|k|so|and|also|then|hey|hi|hello|well|please|pls|plz|kindly|yes|yeah|yep|oi mate|oi|mate|"
    r"i mean|my bad|on second thought|on second thoughts|second thoughts|change of plans?|on reflection|"
    r"thinking about it|come to think of it|"
    r"correction|scratch that|no wait|wait no|"
    r"can you|could you|would you|can u|could u|will you|pls can you|please can you|"
    r"i want to|i wanna|i would like to|id like to|i need to|id like you to|"
    r"lets|let us|could we|can we|you can|just to be clear|to be clear|"
    r"no no|nono|nah|oh wait|one more thing|and also|also can you|now|woops|whoops|ooops|"
    r"typo|my typo|ugh|argh|lol|haha|omg|yo|hey there|sorry i meant|i meant to say|"
    r"oh and|hmm actually|no sorry|sorry no|wait wait|uh oh|oh no|"
    r"(?:my\s+)?(?:boss|wife|husband|mom|mum|dad|friend|son|daughter|kid|kids|partner)\s+says|"
    r"(?:can|could|may)\s+(?:i|we)(?=\s+(?:change|make|swap|switch|remove|replace|take|drop|delete|put)\b)|"
    r"no(?=\s+(?:only|just|actually|i meant|i said|make|sorry|my bad|wait|"
    r"\d(?!\d*\s*(?:liters?|litres?|l|ml|lt)\b)|"
    r"one|two|three|four|five|six|"
    r"seven|eight|nine|ten)\b))\s+)+"
)
TRAIL = _re(
    r"(?:\s+(?:{CHAT}|o|tho|though|sis|hun|dude|guys|please|pls|plz|thanks|thank you|thx|ty|then|too|as well|"
    r"for me|for us|for now|for today|"
    r"for tonight|"
    r"from (?:my|the) (?:cart|order|basket|bag|list)|from it|off (?:my|the) (?:order|cart|list)|"
    r"actually|after all|anymore|any more|now|ok|okay|thanks a lot|mate|lol|haha|will ya|will you|would ya|"
    r"cheers|"
    r"if (?:you can|possible|thats ok|thats okay)|x|xx|lol|haha|pls thx|thanks so much|"
    r"(?<!\bon\s)(?<!\bfor\s)(?<!\bto\s)(?:but\s+)?(?:keep\s+)?(?:the|my)\s+[a-z]+(?:\s+[a-z]+)?\s+(?:is|are|stays?|"
    r"can stay)(?:\s+(?:fine|ok|"
    r"okay|good|great))?|"
    r"(?:its|it s) been (?:ages|forever|an hour|a while)|😡|please and thank you))+$"
)
# Cues that a clause corrects what was said before ("2 cokes actually", "sorry, I meant 1").
CORRECTIVE = _re(
    r"\b(?:actually|actualy|sorry|oops|woops|whoops|wait|i mean|i meant|meant|my bad|typo|"
    r"correction|second thoughts?|change of plans?|instead|rather|scratch that|should be|"
    r"should have been|supposed to be|enough|only|just|not)\b"
)
# Words that say a message may change the cart rather than add to it.
EDIT_CUES = _re(
    r"\b(?:change|swap|switch|replace|instead|rather|actually|not|only|just|remove|delete|take|"
    r"without|less|fewer|wrong|mistake|meant|mean|sorry|oops|correct|should|edit|fix|update|make|"
    r"same|other|cancel|forget|drop|scratch|no|bigger|smaller|larger|cheaper|double|triple|half|rest|both|"
    r"them|size)\b"
)
# Words that make a clause an addition whatever the cart holds.
ADDING = _re(r"\b(?:add|also|another|more|plus|extra|too|as well|and a|^and (?:one|\d+)|one more)\b")
# Where a new act starts inside a sentence: "remove the coke and add a sprite".
SPLIT = _re(
    r"\s+(?=(?:actually|no|i mean|sorry|wait)\s+(?:no\s+)?make (?:that|it)\b)|"
    r"\s*(?:,|\band\b|\bthen\b|\bplus\b|\balso\b|\bbut\b)\s+(?=(?:also |then |please )?"
    r"(?:add|remove|delete|drop|take|make|change|swap|switch|replace|forget|cancel|put|throw|"
    r"get|give me|i want|id like|ill have|can i (?:get|have)|no more|instead)\b)"
)

# -- small talk -------------------------------------------------------------------------
NEVER_MIND = _re(
    r"(?:(?:oh|ah|hmm|ok|okay|no)\s+)?(?:never ?mind|nvm|nevermind|nm|forget (?:it|that|about it|that one|"
    r"about that)|"
    r"scratch that|ignore (?:that|it|me|my last message|the last message|this)|cancel that|"
    r"doesnt matter|it doesnt matter|no worries|dont worry(?: about it)?|skip it|"
    r"forget i (?:said|asked) (?:that|anything)|not important|no matter|disregard(?: that)?|"
    r"leave it(?: as it is| as is| like that| be)?|keep it(?: as it is| as is| like that)?|as you were|"
    r"all good|its fine|it s fine|thats fine|fine as is|no change|dont change (?:it|anything))"
    r"(?:\s+(?:then|leave it|forget it|its fine|all good|keep it|leave it as it is|thanks))*"
)
_DONE_PRE = (
    r"(?:no|nope|nah|no thanks|no thank you|thanks|thank you|i think|ok|okay|so|yeah|yep|um|im good|"
    r"were good|and)"
)
_DONE_CORE = (
    r"(?:(?:i think )?(?:thats|that is|thatll be|that will be|that would be|thatd be|that should be|"
    r"that should do|that does|that will do|thatll do)(?:\s+(?:it|all|everything|enough))?|all done|done|"
    r"im done|"
    r"i am done|were done|we are done|im good|were good|im all set|all set|nothing else|nothing more|no more|"
    r"none else|enough|finished|just that|just those|thats everything|that s everything)"
)
_DONE_SUF = (
    r"(?:all|it|everything|thanks|thank you|thank u|for now|for today|for me|for us|for tonight|then|please|"
    r"i think|just that|just those|cheers|thats everything|that s everything|thanks so much)"
)
DONE = _re(rf"(?:{_DONE_PRE}\s+)*{_DONE_CORE}(?:\s+{_DONE_SUF})*")
_ACK_WORD = (
    r"(?:ok+|okay|okey|k+|cool|great|nice|perfect|awesome|alright|all right|got it|gotcha|noted|lovely|"
    r"brilliant|excellent|sounds good|sounds great|sure|fine|good|thanks|thank you|thank u|thanku|thx|ty|"
    r"tks|tnx|thnx|thanx|cheers|ta|much appreciated|appreciate it|appreciated|wonderful|amazing|super|sweet|"
    r"sweet as|yay|yes|yeah|yep|understood|makes sense|fair enough|right|oh|ah|so much|a lot|a bunch|"
    r"very much|love it|great stuff|good stuff|no problem|np|legend|youre a star|you re a star|lifesaver|"
    r"you re a lifesaver|youre a lifesaver|brill|ace|champion|top|wicked|dope|lit|yummy|cant wait|"
    r"can t wait|looking forward to it|nice one|good one|kind|so kind|how kind)"
)
_VOCATIVE = (
    r"(?:mate|man|buddy|friend|dear|bro|bruh|fam|love|hun|sis|guys|again|x+|lol|haha|boss|chief|"
    r"my friend|sir|maam|pal|dude|mister|champ)"
)
ACK = _re(rf"{_ACK_WORD}(?:\s+{_ACK_WORD})*(?:\s+{_VOCATIVE})*")

# -- questions: what the store's data answers ----------------------------------------------
_MY = r"(?:my|our|the|me)"
QUESTIONS: list[Rule] = [
    # "what would a sprite cost instead of a coke": a price, whatever follows
    question_rule(
        _re(r"^(?:what|how much)\s+(?:would|will|does|do|d)\s+(?P<s>.+?)\s+(?:cost|be|come to)\b"), "price"
    ),
    # "is stuffed crust extra?", "does extra cheese cost more", "are the toppings free"
    question_rule(
        _re(
            r"^(?:is|are|does|do)\s+(?!you\b|u\b|ya\b|they\b)(?P<s>.+?)\s+(?:cost\s+)?(?:extra|more|"
            r"(?<!gluten )(?<!dairy )(?<!lactose )(?<!sugar )(?<!nut )free|included|an extra charge|"
            r"extra charge|charged|additional|(?:any|more) expensive)(?:\s+(?:too|as well))?$"
        ),
        "price",
    ),
    question_rule(
        _re(
            r"^(?:what(?:s| is| have| do)?\s+(?:i|we)\s+(?:got|get|have|ordered|order)|whats in my (?:cart|"
            r"basket|order)|"
            r"what is in my (?:cart|basket|order)|show (?:me )?(?:my|the) (?:cart|basket|order)|"
            r"(?:can i|could i|let me) see (?:my|the) (?:cart|basket|order)|what did i order|"
            r"whats my order|what is my order|read (?:me )?(?:my|the) order back|"
            r"what do i have|what have i (?:got|ordered)|whats the total|what is the total|"
            r"how much is my total|"
            r"total so far|my total)\b"
        ),
        "cart",
    ),
    question_rule(
        _re(
            r"^(?:has|have|did|is)\s+(?:the kitchen|the chef|you|u|you guys|u guys|they|the store|"
            r"the restaurant|anyone)\s+"
            r"(?:start|started|starting|get|got|receive|received|begin|began|make|made|making|seen|see|"
            r"accept|accepted|confirm|confirmed)"
            r"(?:\s+(?:on|making|cooking|with))?\s+" + "(?:my|our|the)" + r"\s+(?:order|pizzas?|food|meal)\b"
        ),
        "order-status",
    ),
    question_rule(
        _re(
            r"^(?:where(?: is| are| s)?|wheres|hows|how is|how are|whats happening with|"
            r"what about|any news on|any update on|any updates on)\s+" + _MY + r"\s+"
            r"(?:order|food|pizzas?|delivery|meal|stuff|dinner|lunch|drinks?|pie|pies)\b"
        ),
        "order-status",
    ),
    question_rule(
        _re(
            r"^(?:is|are|has|have|did)\s+" + _MY + r"\s+(?:order|food|pizzas?|delivery|meal|stuff)\b.*\b"
            r"(?:ready|done|coming|on (?:the|its) way|out|left|shipped|dispatched|sent|confirmed|"
            r"started|cooking|arrived|accepted|in the oven|been made|being made|go through|gone through)"
        ),
        "order-status",
    ),
    question_rule(
        _re(
            r"\b(?:status|update|updates|news|progress)\s+(?:of|on|for|about)\s+" + _MY + r"\s+order\b|"
            r"^(?:any|an)\s+(?:update|updates|news)\b|\btrack\s+" + _MY + r"\s+order\b|"
            r"^(?:did|have)\s+(?:you|u)\s+(?:get|got|receive|received|start|started|see|seen)\s+"
            r"(?:my|our)\s+order\b|\bis it ready\b|\bis it (?:coming|on (?:the|its) way)\b|"
            r"\bwhats the status\b|\bwhat is the status\b|\border status\b"
        ),
        "order-status",
    ),
    question_rule(
        _re(
            r"\bhow (?:long|much longer|much more time|many more minutes)\b|"
            r"\bwhen (?:will|would|is|does|do|can|should)\s+(?:it|my order|the order|my food|the food|"
            r"my pizzas?|the pizzas?|you|i|we|they|the delivery|my delivery)\b.*\b"
            r"(?:ready|arrive|arriving|be here|get here|come|coming|deliver|delivered|be done|"
            r"pick (?:it )?up|collect|pickup|be delivered|show up|turn up)\b|"
            r"\b(?:eta|wait time|waiting time|delivery time|prep time|preparation time)\b|"
            r"\bhow many (?:minutes|mins|hours)\b|"
            r"\bwhat time (?:will|would|should|can)\s+(?:it|my order|the order|my food|you|i|we)\b"
        ),
        "eta",
    ),
    question_rule(
        _re(
            r"\b(?:are|r)\s+(?:you|u|ya|you guys)\s+(?:still\s+)?(?:open|closed|closing)\b|"
            r"^(?:you|u|ya|you guys|u guys)\s+(?:still\s+)?(?:open|closed)\b|^(?:still\s+)?open\s+(?:now|"
            r"today|tonight|on|late|tomorrow)\b|"
            r"\b(?:opening|business|store|shop|your|trading|open)\s+(?:hours|times)\b|^hours\b|"
            r"\bwhen\s+(?:are|do|does)\s+(?:you|u|the (?:store|shop|restaurant))\s+(?:open|close)\b|"
            r"\bwhat time\s+(?:do|are|does)\s+(?:you|u|the (?:store|shop|restaurant))\s+(?:open|close)\b|"
            r"\b(?:open|close|closing)\s+(?:now|today|tonight|tomorrow|on (?:mon|tues|wednes|thurs|fri|"
            r"satur|sun)day|"
            r"at what time|time)\b|\bis\s+(?:the|your)\s+(?:store|shop|restaurant|kitchen|place)\s+open\b|"
            r"\bwhat are your hours\b|\bwhen do you close\b|\buntil what time\b|\bhow late\b"
        ),
        "hours",
    ),
    question_rule(
        _re(
            r"\b(?:delivery|shipping)\s+(?:fee|fees|charge|charges|cost|costs|price)\b|"
            r"\bhow much\s+(?:is|for|does|do you charge for|to|are)\s+(?:the\s+)?deliver(?:y|ing)?\b|"
            r"\bmin(?:imum)?\s+(?:order|spend|amount|purchase|for delivery)\b|"
            r"\b(?:is there|do you have|whats the|what is the|any)\s+(?:a\s+)?minimum\b|"
            r"\bfree delivery\b|\bcharge (?:for|to) deliver\w*\b|\bcost to deliver\b|"
            r"\bdelivery\s+(?:is\s+)?free\b|\bdo you charge\b"
        ),
        "delivery-fee",
    ),
    question_rule(
        _re(r"\bdeliver(?:y|ing)?\s+(?:to|in|out to|near|around|over to)\s+(?P<s>.+)"), "delivery-area"
    ),
    question_rule(
        _re(
            r"\b(?:do|can|will|would)\s+(?:you|u|ya|you guys)\s+deliver\b|"
            r"\bdeliver(?:y)?\s+(?:to|in|out to|near|around|over to)\s+(?P<s>.+)|"
            r"\bdelivery\s+(?:area|areas|zone|zones|radius|range|region)\b|"
            r"\bwhere\s+(?:do|can)\s+(?:you|u)\s+deliver\b|\bhow far\s+(?:do|will|can)\s+(?:you|"
            r"u)\s+deliver\b|"
            r"\b(?:in|within)\s+(?:your\s+)?(?:delivery\s+)?(?:area|range|zone|radius)\b|"
            r"\bdo you do delivery\b|\bis delivery available\b|\bcan i get (?:it )?delivered\b"
        ),
        "delivery-area",
    ),
    question_rule(
        _re(
            r"\b(?:do|can|will)\s+(?:you|u|ya)\s+(?:take|accept|do)\s+(?:credit\s+|debit\s+)?"
            r"(?:cards?|cash|credit|debit|apple pay|google pay|amex|visa|mastercard|paypal|venmo|zelle|"
            r"contactless|checks?|cheques?)\b|"
            r"\b(?:can|could|may)\s+(?:i|we)\s+pay\b|\bhow\s+(?:do|can|should)\s+(?:i|we)\s+pay\b|"
            r"\bpayment\s+(?:methods?|options?|types?)\b|\bcash on delivery\b|"
            r"\b(?:pay|paying)\s+(?:by|with|in|on)\s+(?:card|cash|credit|debit|apple pay|google pay|phone|"
            r"delivery)\b|"
            r"\bwhat\s+(?:payment|payments|forms of payment|ways to pay)\b|\bdo i pay\b|"
            r"\b(?:cards?|cash|apple pay|google pay|credit cards?|debit cards?|paypal|venmo|amex|"
            r"visa)\s+(?:ok|okay|accepted|fine|good|works?)\b|"
            r"^(?:cards?|cash|apple pay|google pay|credit cards?|debit cards?|paypal|venmo|amex|visa)$"
        ),
        "payment",
    ),
    question_rule(
        _re(
            r"\b(?:whats|what is|what s|give me|send me|tell me|need|share)\s+(?:your|ur|the)\s+"
            r"(?:address|location|phone|phone number|number|telephone|contact|contact details|"
            r"store address|shop address|restaurant address)\b|"
            r"\bwhere\s+(?:are|r)\s+(?:you|u|ya|you guys)(?:\s+(?:located|based|at))?$|"
            r"\bwhere\s+(?:are|r|is)\s+(?:you|u|ya|the (?:store|shop|restaurant))\s+(?:located|based)\b|"
            r"\bhow\s+(?:can|do)\s+(?:i|we)\s+(?:call|reach|contact|find)\s+(?:you|u|the store)\b|"
            r"\b(?:your|the store s|the stores|the restaurants)\s+(?:address|phone number|phone|location)\b|"
            r"\bcan i call\b|\bphone number\b|\bwhere do i (?:pick|collect)\b|\bwhere (?:is|s) the (?:store|"
            r"shop|restaurant)\b|"
            r"^(?:address|phone|number|location|phone no|tel|telephone|contact)(?:\s+(?:pls|please|plz))?$|"
            r"\bwhats the number\b|\bwhat is the number\b|\bwhat number (?:can|do|should) i (?:ring|call|"
            r"phone|text)\b|"
            r"\b(?:ring|call|phone) (?:you|u|the (?:store|shop|restaurant))\b"
        ),
        "contact",
    ),
    question_rule(
        _re(
            r"^(?:how much|hw much|how mch|howmuch|hm|price|prices|cost|costs|"
            r"what(?:s| is| does| do| would| will)?(?: the)? (?:price|cost|prices|costs))"
            r"(?:\s+(?:is|are|for|of|does|do|would|will|be|a|an|to get|to order|are the|is the|4|more|extra|"
            r"more for|extra for|would it be|is it|for a|for an))*"
            r"\s+(?P<s>.+?)(?:\s+(?:cost|costs|be|come to|go for|run|run me|set me back))?$"
        ),
        "price",
    ),
    question_rule(
        _re(
            r"^(?:what|whats|what s)\s+(?:does|do|would|will|is)?\s*(?P<s>.+?)\s+"
            r"(?:cost|costs|go for|run|gonna cost|going to cost|cost me|gonna cost me|going to cost me|"
            r"set me back)$"
        ),
        "price",
    ),
    question_rule(
        _re(
            r"^(?:what|which)\s+{KIND_OF}(?P<s>[a-z]+(?: [a-z]+)?)\s+"
            r"(?:do|have|can|does)\s+(?:you|u|ya|you guys)\s+(?:have|got|do|offer|sell|serve|carry)\b|"
            r"^(?:what|which)\s+{KIND_OF}(?P<s2>[a-z]+)\s+(?:are there|are available|options|choices)\b|"
            r"^(?:what|which)\s+{KIND_OF}(?P<s3>[a-z]+)\s+(?:do\s+)?(?:you|u|ya)\s+(?:got|have)\b"
        ),
        "menu",
    ),
    # "what sizes do the pizzas come in", "which crusts does the veggie come with"
    question_rule(
        _re(
            r"^(?:what|which)\s+(?:sizes?|crusts?|toppings?|options?|extras?|flavou?rs?|kinds?|types?|"
            r"choices?)\s+(?:do|does|can|will)\s+(?:the\s+|your\s+)?(?P<s>[a-z][a-z ]*?)\s+"
            r"(?:come in|come with|have|come|take|get)\b"
        ),
        "menu",
    ),
]

# Whether the menu has an option, alone or on an item: answered, the cart never changed. A
# request phrased as a question ("can I get thin crust?", "could the pepperoni be thin crust?")
# is no such question: it orders or changes, as said (docs/conversation.md).
_YOU = r"(?:you|u|ya|you guys|u guys|yall|y all|they)"
_HAS = (
    r"(?:have|has|got|come with|comes with|come in|comes in|contain|contains|include|includes|"
    r"do you have|dont you have)"
)
OPTION_QUESTIONS: list[Rule] = [
    # "do you have thin crust", "do you do gluten free", "dont you have stuffed crust"
    menu_question_rule(
        _re(
            r"(?:do|dont|did)\s+" + _YOU + r"\s+(?:also\s+|still\s+)?(?:have|got|do|offer|sell|serve|carry|"
            r"make|stock)\s+(?P<s>.+)"
        )
    ),
    # "have you got thin crust", "you have gluten free", "got stuffed crust", "any thin crust"
    menu_question_rule(
        _re(r"(?:have\s+" + _YOU + r"\s+got|" + _YOU + r"\s+(?:have|got)|got|any)\s+(?P<s>.+)")
    ),
    # "u guys do gluten free crust?", "you sell stuffed crust?": a question by its mark alone
    menu_question_rule(
        _re(_YOU + r"\s+(?:also\s+|still\s+)?(?:do|offer|sell|serve|carry|make|stock)\s+(?P<s>.+)"),
        needs_mark=True,
    ),
    # "is there pineapple on the hawaiian", "are there gluten free options"
    menu_question_rule(_re(r"(?:is|are)\s+there\s+(?P<s>.+)")),
    # "is thin crust available", "is gluten free crust available for the veggie"
    menu_question_rule(
        _re(
            r"(?:is|are)\s+(?P<s>.+?)\s+(?:available|an option|possible|offered)(?:\s+(?:on|for|with|in)\s+"
            r"(?P<i>.+))?"
        )
    ),
    # "does the veggie have onions", "does the margherita come with basil",
    # "does the pepperoni come in thin crust"
    # ("do a build your own with chicken" asks for one: an article after "do" is no subject)
    menu_question_rule(
        _re(
            r"(?:does|do(?!\s+(?:an?|one|\d+)\s)|did|will|would|is|are)\s+(?P<i>.+?)\s+"
            r"(?:" + _HAS + r"|with)\s+(?:any\s+)?(?P<s>.+)"
        )
    ),
    # "the hawaiian comes with pineapple?", "la hawaiana lleva piña?", "a vegetariana tem cebola?"
    menu_question_rule(_re(r"(?P<i>.+?)\s+" + _HAS + r"\s+(?:any\s+)?(?P<s>.+)"), needs_mark=True),
]

# -- corrections and references -----------------------------------------------------------
_SET_VERB = r"(?:change|make|set|update|edit|adjust|put|bump|increase|decrease|reduce|lower|raise|up|fix)"
_REMOVE_VERB = (
    r"(?:remove|delete|del|rm|drop|take(?: out| off| away)?|cancel|forget(?: about)?|lose|ditch|"
    r"scrap|skip|nix|get rid of|scratch|erase|leave out|leave off|cut|kill|dump|bin|toss|"
    r"no more|minus|can you remove|please remove|pls remove|take away|strike|x out)"
)
_WANT = (
    r"(?:i want|i would like|id like|id prefer|i prefer|give me|get me|make it|make that|"
    r"can i (?:get|have)|could i (?:get|have)|can we (?:get|have)|ill have|ill take|"
    r"lets do|lets go with|go with|ill go with|i need|i will have|we want|we will have|"
    r"id rather have|id rather|rather|let me get|let me have|put|send|bring|do|i meant|"
    r"i mean|i said|i wanted|i asked for|it should be|should be)"
)
REPLACE_CONNECTORS = frozenset({"for", "with", "to", "into", "by"})

_SWAP = _re(
    r"(?:swap|switch|change|replace|sub|substitute|trade)\s+(?:out\s+)?(?:the\s+)?(?P<old>.+?)\s+(?:for|"
    r"with|to)\s+"
    r"(?:some\s+)?(?P<new>.+?)\s+(?:on|in|for)\s+(?P<t>.+)"
)


_ONE_OF_THEM = replace_rule(
    _re(
        r"(?P<t>(?:one|1) of (?:them|those|these))\s+(?:to\s+|for\s+|into\s+)?(?:an?\s+)?"
        r"(?P<x>(?!of\b|\d|(?:two|three|four|five|six|both)\b)(?!.*\b(?:should|be|is|are)\b).+)"
    )
)


def _one_of_them_another(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "one of them a sprite" after three cokes: one unit of the line becomes another item
    (never one more sprite); "one of them large" is a change of options, read further on."""
    act = _ONE_OF_THEM(menu, phrases, clause)
    return act if act is not None and act.kind == "replace" and act.new is not None else None


_ONE_TO = _re(
    r"(?:change|make|swap|switch|turn|replace)\s+(?:one|1)\s+(?:(?:in)?to\s+|into\s+|for\s+|with\s+)?(?P<x>.+)"
)


def _one_to_another(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "change one to a hawaiian", "make one a sprite" after two pepperoni: one unit of the
    line being talked about becomes another item, as "one of them a hawaiian"."""
    match = _ONE_TO.fullmatch(clause.key)
    if match is None:
        return None
    said = match["x"].split()
    if any(w in phrases.other_words or w in phrases.rest_words or w in phrases.plural_pointers for w in said):
        return None  # "make one a sprite and the rest diet": the rest is no part of the order
    new = order_of(menu, match["x"])
    if new is None or len(new.lines) != 1 or new.ambiguous:
        return None
    return Act("replace", target=Target("one", pointer=True, plural=True, count=1), new=new)


_SWAP_ONE = _re(
    r"(?:change|swap|switch|replace|exchange|trade|sub)\s+(?:one|a)\s+(?:for|to|with|into|by)\s+"
    r"(?P<x>(?!of\b).+)"
)


def _swap_one(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "change one to a hawaiian", "cambia una por hawaiana" ("change a for hawaiana"), "troca
    uma por havaiana": one unit of the line talked about becomes another item, as "change one
    of them for a hawaiian"."""
    match = _SWAP_ONE.fullmatch(clause.key)
    if match is None:
        return None
    return _one_of_them_another(
        menu, phrases, dataclasses.replace(clause, key=f"one of them for {match['x']}")
    )


def _topping_swap(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "swap the ham for bacon on the hawaiian": one option out, another in, on a line."""
    match = _SWAP.fullmatch(clause.key)
    if match is None:
        return None
    old, new = options_only(menu, match["old"]), options_only(menu, match["new"])
    target = read_target(menu, phrases, match["t"])
    if old is None or new is None or target is None or not old.options:
        return None
    mods = Modifiers(options=new.options, excluded=old.options, text=f"{match['new']}")
    return Act("change", target=target, modifiers=mods)


_INSTEAD_OF = _re(
    r"(?:(?P<t>.+?)\s+(?:(?:on|with|in)\s+)?)?(?P<new>[a-z ]+?)\s+(?:instead of|rather than|not)\s+"
    r"(?:the\s+)?(?P<old>[a-z ]+)"
)


def _option_instead(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "pepperoni, hand tossed instead of thin", "thin crust not thick": an option replacing
    another of the same line (the line named, or the one being talked about)."""
    match = _INSTEAD_OF.fullmatch(clause.key)
    if match is None:
        return None
    old, new = options_only(menu, match["old"]), options_only(menu, match["new"])
    if old is None or new is None or not new.options:
        return None
    words = match["t"] or ""
    target = read_target(menu, phrases, words) if words else Target("", pointer=True)
    return Act("change", target=target, modifiers=new) if target is not None else None


_STAYS = _re(
    r"(?P<t>(?:the\s+)?[a-z ]+?)\s+(?:stay|stays|remain|remains|can stay|is fine|are fine|is ok|are ok)"
    r"(?:\s+(?:at|as)?\s*\S+)?"
)


def _kept_line(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "the sprite stays two", "the pepperoni can stay": a line named to be kept, nothing to do
    (an option "is fine" is not: "normal crust is fine" changes the crust back)."""
    match = _STAYS.fullmatch(clause.key)
    target = read_target(menu, phrases, match["t"]) if match else None
    return Act("ack") if target is not None and target.items and not target.options else None


_EACH_SAID = _re(
    r"(?:make|change|set)\s+(?:it|that|them|those|these|it all)\s+(?:to\s+)?(?P<a>{NUM})\s+(?:and|&)\s+"
    r"(?P<b>{NUM})(?:\s+(?:please|pls|instead|then))*"
)


def _quantity_each(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "make it two and two" after three veggies and three waters: a quantity for each line
    being talked about, in the order of the cart."""
    match = _EACH_SAID.fullmatch(clause.key)
    if match is None:
        return None
    quantities = (number_of(match["a"]), number_of(match["b"]))
    if None in quantities:
        return None
    said = [q for q in quantities if q is not None]
    return Act("set_quantity", target=Target(clause.key, pointer=True, plural=True), quantities=tuple(said))


_EXCHANGE = _re(
    r"(?:swap|switch|exchange|trade|flip|reverse)\s+(?:the\s+|their\s+|them\s+|our\s+)?(?P<g>[a-z]+s)"
    r"(?:\s+(?:around|over|round|between them|between the two))?"
)


def _exchanged(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "swap the crusts", "switch the sizes around": two lines trade their choices of a
    single-choice group (a size, a crust)."""
    match = _EXCHANGE.fullmatch(clause.key)
    if match is None:
        return None
    word = match["g"][:-1]
    for group in menu.option_groups:
        names = (normalise(group.name), normalise(group.code.replace("-", " ")))
        if group.kind == "single" and word in names:
            return Act("change", target=Target(clause.key, pointer=True, plural=True), exchange=group.code)
    return None


_ARTICLE_OPTION = _re(
    r"(?:make|change|turn|switch)\s+(?P<t>{PTR})\s+(?:to\s+|into\s+)?(?P<o>(?:a|an|one)\s+[a-z0-9 ]+?)"
    r"(?:\s+(?:instead|please|pls))?"
)


def _article_option(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "make it a liter", "change it to a litre": a single choice named with its article (the
    article is part of the option's name), not an item to replace the line with."""
    match = _ARTICLE_OPTION.fullmatch(clause.key)
    mods = options_only(menu, match["o"]) if match else None
    if match is None or mods is None or mods.excluded or not mods.options:
        return None
    if not all((g := menu.group(o.group)) is not None and g.kind == "single" for o in mods.options):
        return None
    target = read_target(menu, phrases, match["t"])
    return Act("change", target=target, modifiers=mods) if target is not None else None


_KEEP = r"(?:\s+(?:just|only|keep)\s+(?:the\s+)?[a-z ]+)?"
EDITS: list[Rule] = [
    _quantity_each,
    # "make it a liter": an option whose name starts with an article
    _article_option,
    _exchanged,
    # "item 2 to 3", "line 1 x2", "#3 qty 2"
    set_quantity_rule(
        _re(
            r"(?:" + _SET_VERB + r"\s+)?(?P<t>(?:item|line|number|no|#)\s?\d{1,2})\s+"
            r"(?:to\s+|x\s?|qty\s+|quantity\s+|=\s*|into\s+|should be\s+)?(?P<n>{NUM})"
            r"(?:\s+(?:please|pcs|pieces|items|of them))?"
        )
    ),
    # "2 is plenty", "nah 2 pizzas is enough", "4 of those is fine"
    set_quantity_rule(
        _re(
            r"(?P<n>{NUM})(?:\s+of\s+(?:those|them|these|it))?(?:\s+(?P<t>(?!is\b|are\b|will\b|"
            r"would\b).+?))?\s+"
            r"(?:is|are|will be|would be|should be)\s+(?:plenty|enough|fine|good|ok|okay|all i need|"
            r"all we need|"
            r"more than enough|loads|heaps)"
        )
    ),
    # "just one of each", "2 of each please"
    set_quantity_rule(
        _re(
            r"(?:(?:just|only)\s+)?(?P<n>{NUM})\s+of\s+"
            r"(?P<t>each|every one|everything|(?:each|every)\s+[a-z ]+?)"
            r"(?:\s+(?:pls|please|"
            r"plz))?"
            r"(?:\s+(?:not|instead of)\s+(?P<m>{NUM}))?"
        )
    ),
    # "the last one with extra cheese", "the middle one in a bottle": a line named by its place,
    # then what it should have ("the one with extra cheese" alone names a line by it)
    change_rule(
        _re(
            r"(?P<t>(?:the|that|this)\s+(?:first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th|last|middle|"
            r"final|other)\s+ones?)\s+(?:make it\s+|make them\s+)?(?P<o>(?:with|without|no|in)\s+.+)"
        )
    ),
    # "the one without onions make it thin", "the large one no pineapple"
    change_rule(
        _re(
            r"(?P<t>(?:the|that|this)\s+(?:.+\s+)?ones?(?:\s+(?:with|without|no)\s+.+?)?)\s+(?:make it\s+|"
            r"make them\s+)?(?P<o>.+)"
        )
    ),
    # "double the cokes", "half that", "6 is way too much, half that", "can you triple it"
    scale_rule(
        _re(
            r"(?:{NUM}(?:\s+[a-z ]+?)?\s+(?:is|are|s)\s+(?:way\s+|a bit\s+|far\s+)?(?:too much|too many|"
            r"a lot|not enough|too few)(?:\s+(?:lol|haha))*\s+)?(?:make (?:it|that|them)\s+)?"
            r"(?P<f>double|twice|triple|half|halve)(?:\s+(?:up\s+)?(?:of\s+)?(?P<t>.+?))?"
            r"(?:\s+(?:the (?:order|amount|quantity|number)|please|pls|plz))?"
        )
    ),
    # "it should be four of those, not two"
    set_quantity_rule(
        _re(
            r"(?:it|that|they|those|these|them)\s+(?:should be|should have been|was supposed to be|"
            r"is supposed to be)\s+"
            r"(?P<n>{NUM})(?:\s+of\s+(?:those|them|these|it))?(?:\s+(?:not|instead of|"
            r"rather than)\s+(?P<m>{NUM}))?"
        )
    ),
    _one_of_them_another,
    _one_to_another,
    _swap_one,
    # "we'll have 2 of the margherita", "i'll have 2 of those", "3 of the cokes please"
    set_quantity_rule(
        _re(
            r"(?:(?:we|well|we ll|we will|ill|i ll|i will|i|id|i d|lets|let s|can i|could i|can we)\s+)?"
            r"(?:(?:like|want|have|take|get|do|need|make it|give me|get me)\s+)?(?:to\s+)?(?:have\s+|get\s+)?"
            r"(?P<n>{NUM})\s+of\s+(?P<t>(?:the|those|them|these|that|it)(?:\s+.+?)?)"
            r"(?:\s+(?:instead of|not|rather than)\s+(?P<m>{NUM}))?"
        ),
        add_when_missing=True,
    ),
    # "hawaiian x2", "the coke x 3"
    set_quantity_rule(_re(r"(?P<t>.+?)\s+x\s?(?P<n>\d{1,3})"), add_when_missing=True, or_more=True),
    # "diet cokes 2 only", "pepperoni make 3 only", "tiramisu make it 2", "salads only 1"
    set_quantity_rule(
        _re(
            r"(?P<t>[a-z][a-z ]*?)\s+(?:make it\s+|make\s+|just\s+|only\s+|to\s+|should be\s+)(?P<n>{NUM})"
            r"(?:\s+(?:only|please|pls|plz|instead|total|in total|each))*"
        )
    ),
    set_quantity_rule(
        _re(r"(?P<t>[a-z][a-z ]*?)\s+(?P<n>{NUM})(?:\s+(?:only|please|pls|instead|total|in total))+")
    ),
    # "5 garlic bread is too much, make it 3", "3 pizzas is a lot for us, 2", "4 is too many, 2 cokes"
    set_quantity_rule(
        _re(
            r"(?P<m>{NUM})(?:\s+(?P<t2>(?!is\b|are\b|s\b).+?))?\s+(?:is|are|s)\s+(?:way\s+|a bit\s+|far\s+)?"
            r"(?:too much|too many|a lot|too big|too little|not enough|too few)(?:\s+(?:for (?:us|me|"
            r"us lol)|lol|haha))*"
            r"\s+(?:make it\s+|make that\s+|just\s+|only\s+|lets do\s+|do\s+)?(?P<n>{NUM})(?:\s+(?P<t>.+))?"
        )
    ),
    # "one hawaiian less", "2 cokes fewer"
    adjust_rule(_re(r"(?P<n>{NUM}|an?)\s+(?P<t>.+?)\s+(?:less|fewer)"), -1),
    # "the sprite stays two", "sprite stay 2": a line kept as it is
    _kept_line,
    # "make that 3", "make it 2 cokes", "make that 1 pepperoni not 2"
    set_quantity_rule(
        _re(
            r"(?:make|change|set|put|bump|update)\s+(?P<t3>it|that|this|them|those|these|both|both of them|"
            r"all|"
            r"all of them|them all|each|each one)\s+(?:to\s+)?(?P<n>{NUM}){UNITS}"
            r"(?:\s+(?P<t>(?!not\b|instead\b).+?))?(?:\s+(?:not|instead of|rather than)\s+(?P<m>{NUM}))?"
            r"(?:\s+(?:of (?:them|those|it)|instead|total|in total))?"
        )
    ),
    # "change the coke to 2", "set the pepperoni to 1", "make the wings 3"
    set_quantity_rule(
        _re(
            _SET_VERB + r"\s+(?:the\s+)?(?:quantity|qty|number|amount)?\s*(?:of\s+)?(?P<t>.+?)\s+"
            r"(?:to|into|=|x|qty|quantity|amount|should be)?\s*(?P<n>{NUMISH}){UNITS}"
            r"(?:\s+(?:please|pcs|pieces|items|units|of them|instead|total))?"
            r"(?:\s+(?:not|instead of|rather than)\s+(?P<m>{NUM}))?"
        )
    ),
    # "the cokes just 2", "cokes: just the one"
    set_quantity_rule(
        _re(
            r"(?P<t>.+?)\s+(?:just|only|should be|to)\s+(?:the\s+)?(?P<n>{NUM}|one)(?:\s+(?:please|pls|"
            r"of them|total))?"
        )
    ),
    # "only 2", "just one pepperoni", "i only want 1 coke", "just 2 of them"
    set_quantity_rule(
        _re(
            r"(?:(?:i|we)\s+)?(?:only|just|really only|actually only)\s+(?:want|need|wanted|needed|get|have|"
            r"take|ordered|meant)?\s*"
            r"(?P<n>{NUM})(?:\s+(?:of (?:them|those|it)|x))?(?:\s+(?P<t>(?!not\b|instead\b).+?))?"
            r"(?:\s+(?:not|instead of|rather than)\s+(?P<m>{NUM}))?(?:\s+(?:total|in total|please))?"
        ),
        add_when_missing=True,
    ),
    # "1 not 2", "2 cokes not 3", "2 instead of 3", "i said 2 not 3", "i meant 1 pepperoni not 2"
    set_quantity_rule(
        _re(
            r"(?:(?:i|we)\s+(?:said|meant|wanted|asked for|ordered|want|need)\s+|do\s+|give me\s+|get me\s+|"
            r"i want\s+|id like\s+)?"
            r"(?:make (?:it|that)\s+)?(?:just\s+|only\s+)?(?P<n>{NUM})"
            r"(?:\s+(?P<t>(?!not\b|instead\b).+?))?\s+(?:not|instead of|rather than|and not|"
            r"no)\s+(?P<m>{NUM})"
            r"(?:\s+(?P<t2>.+))?"
        )
    ),
    # "not 2, 1", "not 3 just 2 cokes"
    set_quantity_rule(
        _re(
            r"not\s+(?P<m>{NUM})(?:\s+(?P<t2>(?!but\b|just\b|only\b|make\b).+?))?\s+"
            r"(?:but\s+|just\s+|only\s+|make it\s+|i want\s+|i said\s+)?(?P<n>{NUM})(?:\s+(?P<t>.+))?"
        )
    ),
    # "one more", "2 more cokes", "another one", "another coke", "add another"
    adjust_rule(
        _re(
            r"(?:add\s+|and\s+|plus\s+|also\s+|give me\s+|get me\s+|id like\s+|i want\s+|can i (?:get|"
            r"have)\s+)?"
            r"(?P<n>{NUM}|an?)\s+(?:more|extra|additional)(?:\s+(?:of\s+)?(?P<t>.+))?"
        ),
        +1,
    ),
    adjust_rule(
        _re(
            r"(?:add\s+|and\s+|plus\s+|also\s+|give me\s+|get me\s+|id like\s+|i want\s+|can i (?:get|"
            r"have)\s+)?"
            r"(?:another|an?\s+(?:second|2nd|extra)|one more)(?:\s+(?P<t>(?!one\b|of\b).+)|\s+one(?:\s+of\s+"
            r"(?P<t2>(?:those|them|these|it|that|the)(?:\s+[a-z ]+)?))?|"
            r"\s+of\s+(?P<t3>(?:those|these|that|them|it)(?:\s+[a-z ]+)?|the\s+[a-z ]+))?"
        ),
        +1,
    ),
    # "one less", "one less coke", "2 fewer waters"
    adjust_rule(_re(r"(?P<n>{NUM}|an?)\s+(?:less|fewer)(?:\s+(?:of\s+)?(?P<t>.+))?"), -1),
    # "remove the coke", "forget the dessert", "delete item 2", "i dont want the wings anymore"
    remove_rule(
        _re(
            r"(?:just\s+)?" + _REMOVE_VERB + r"\s+(?:the\s+)?(?P<t>.+?)"
            r"(?:\s+(?:from|off|out of)\s+(?:my |the )?(?:cart|order|basket|list|bag))?"
        )
    ),
    remove_rule(
        _re(
            r"(?:i|we|he|she|they|kids|the kids)?\s*(?:dont|do not|no longer|dont really|do not really|"
            r"didnt|did not|"
            r"doesnt|does not|wont|won t|will not|wouldnt|would not)\s+"
            r"(?:want|need|wanna|require|fancy)\s+(?:the\s+|any\s+|that\s+|"
            r"those\s+)?(?P<t>.+?)(?:\s+(?:anymore|any more|"
            r"after all|now|either))?"
        )
    ),
    remove_rule(_re(r"(?:(?:i|we)\s+)?changed? (?:my|our) minds?\s+(?:about|on)\s+(?P<t>.+)")),
    remove_rule(
        _re(
            r"(?P<t>.+?)\s+(?:not needed|no longer needed|isnt needed|is not needed|can go|has to go|"
            r"needs to go|is out|out please|no more|not anymore|is not necessary|not necessary)"
        )
    ),
    # "diet coke out", "salad gone please"
    remove_rule(
        _re(r"(?P<t>[a-z][a-z ]*?)\s+(?:out|gone|can go|goes|delete|remove|off)(?:\s+(?:please|pls|plz))?")
    ),
    # "take the jalapenos off, too spicy": a topping off the line that has it
    change_rule(_re(r"(?:take|hold|leave|pick)\s+(?:the\s+)?(?P<o>[a-z ]+?)\s+(?:off|out)"), negate=True),
    # "item 2 was a mistake", "the wings were wrong"
    remove_rule(
        _re(
            r"(?P<t>.+?)\s+(?:was|is|were|are)\s+(?:a\s+|my\s+)?(?:mistake|wrong|an error|by mistake|"
            r"not what i wanted|"
            r"a typo|a mistake sorry)(?:\s+(?:remove|delete|take off|drop)\s+(?:it|that|them))?"
        )
    ),
    # "take one of them off", "item 2 out", "the coke can go"
    remove_rule(
        _re(
            r"(?:just\s+)?(?:take|knock|get|leave|drop)\s+(?P<t>.+?)\s+(?:off|out|away)"
            r"(?:\s+of (?:it|the order|my order|the cart))?"
        )
    ),
    remove_rule(
        _re(
            r"(?P<t>(?:item|line|number|#)\s?\d{1,2}|\d{1,2}|it|that|those|them|the .+?)\s+(?:out|off|gone|"
            r"away|delete|remove|please remove|pls remove|can go|goes)(?:\s+(?:please|pls|plz))?"
        )
    ),
    # "nvm the tiramisu, just the pizza"
    remove_rule(
        _re(
            r"(?:nvm|never ?mind|forget|no need for|dont need|skip)\s+(?:the\s+)?(?P<t>.+?)(?:\s+(?:just|"
            r"only)\s+(?:the\s+)?.+)?"
        )
    ),
    # "no water", "no more coke", "without the garlic bread": a line, when it is an item
    remove_rule(
        _re(r"(?:no|without|sans|nope no|no more|not the|not)\s+(?:the\s+|any\s+)?(?P<t>.+?)" + _KEEP),
        item_only=True,
    ),
    # "swap the coke for a diet coke", "change the sprite to water", "replace item 2 with a tiramisu"
    replace_rule(
        _re(
            r"(?:swap|switch|change|replace|exchange|substitute|sub|trade|turn|convert|"
            r"make)\s+(?:out\s+)?(?P<tx>.+)"
        ),
        REPLACE_CONNECTORS,
    ),
    # "swap the veggie out for a pepperoni", "switch the coke over to a sprite"
    replace_rule(
        _re(
            r"(?:swap|switch|change|replace|exchange|substitute|sub|trade)\s+(?P<t>.+?)\s+(?:out|over|up|in)\s+"
            r"(?:for|with|to|into)\s+(?P<x>.+)"
        )
    ),
    # "please change the hawaiian, I want a veggie"
    replace_rule(
        _re(
            r"(?:change|swap|switch|replace)\s+(?P<t>.+?)\s+(?:i want|i d like|id like|i would like|make it|"
            r"i prefer|"
            r"give me|i ll have|ill have|to)\s+(?:an?\s+|the\s+)?(?P<x>.+)"
        )
    ),
    # "rather a hawaiian than the veggie", "i'd rather the veggie than the margarita"
    replace_rule(
        _re(
            r"(?:(?:i|we)\s+)?(?:would|d|id)?\s*rather(?:\s+have)?\s+(?:an?\s+|"
            r"the\s+)?(?P<x>.+?)\s+than\s+(?P<t>.+)"
        )
    ),
    # "can the coke be a water instead", "could the margherita be a pepperoni"
    replace_rule(_re(r"(?:can|could|would)\s+(?P<t>.+?)\s+be\s+(?:an?\s+)?(?P<x>.+?)(?:\s+instead)?")),
    # "the margherita should be a veggie", "the coke should have been a sprite"
    replace_rule(
        _re(
            r"(?P<t>.+?)\s+(?:should be|should have been|was meant to be|"
            r"is meant to be)\s+(?:an?\s+)?(?P<x>.+)"
        )
    ),
    # "brownie no, tiramisu yes", "the coke no the sprite yes"
    replace_rule(
        _re(
            r"(?:the\s+)?(?P<t>[a-z][a-z ]*?)\s+no\s+(?:the\s+|an?\s+)?(?P<x>[a-z][a-z ]*?)\s+(?:yes|instead)"
        )
    ),
    # "hawaii change to vegetarian", "the coke switch it for a sprite"
    replace_rule(
        _re(
            r"(?P<t>[a-z][a-z ]*?)\s+(?:change|switch|swap)\s+(?:it\s+|that\s+)?(?:to|for|with|into)\s+"
            r"(?:an?\s+)?(?P<x>.+)"
        )
    ),
    # "instead a veggie", "instead, a sprite please"
    replace_rule(_re(r"instead\s+(?:an?\s+|the\s+|of that\s+|of it\s+)?(?P<x>(?!of\b).+)")),
    # "swap the ham for bacon on the hawaiian": one topping for another on a line
    _topping_swap,
    # "pepperoni, hand tossed instead of thin": an option for another on a line
    _option_instead,
    # "the cokes can be sprite?", "the cokes make them sprite": the line named first
    replace_rule(
        _re(
            r"(?P<t>(?:the|my)\s+[a-z][a-z ]*?)\s+(?:(?:can|could|should|would)\s+(?:they\s+|it\s+)?be|"
            r"make (?:them|it))\s+(?:an?\s+)?(?P<x>[a-z][a-z ]*?)\s*\??"
        )
    ),
    # "make the margherita a pepperoni", "turn the coke into a sprite"
    replace_rule(_re(r"(?:make|turn|change)\s+(?P<tx>.+)"), frozenset({"a", "an", "into"})),
    # "not sprite, diet coke", "not the veggie but a hawaiian"
    replace_rule(_re(r"not\s+(?:the\s+|a\s+|an\s+)?(?P<tx>.+)"), frozenset({"but", "i want", "make it"})),
    replace_rule(_re(r"not\s+(?:the\s+|a\s+|an\s+)?(?P<tx>.+)")),
    # "switch to build your own", "change to a sprite", "go with the veggie instead"
    replace_rule(
        _re(r"(?:switch|change|swap|go|move)\s+(?:it\s+|that\s+)?(?:to|for|with)\s+(?:an?\s+)?(?P<x>.+)")
    ),
    # "instead of the veggie a hawaiian", "instead of the coke can i get a sprite"
    replace_rule(_re(r"(?:instead of|in place of)\s+(?P<t>.+?)\s+" + _WANT + r"\s+(?P<x>.+)")),
    replace_rule(_re(r"(?:instead of|in place of)\s+(?P<tx>.+)")),
    # "a sprite instead of the coke", "i want a hawaiian instead of the veggie"
    replace_rule(
        _re(
            r"(?:"
            + _WANT
            + r"\s+)?(?P<x>.+?)\s+(?:instead of|rather than|in place of|not)\s+(?:the\s+)?(?P<t>.+)"
        )
    ),
    # "a sprite instead", "can i have a hawaiian instead", "make it a diet coke instead"
    replace_rule(
        _re(
            r"(?:" + _WANT + r"\s+)?(?P<x>(?!.*\b(?:one|1|two|2|three|3) of\b).+?)\s+instead"
            r"(?:\s+(?:of that|of it|of this|of those|of them))?"
        )
    ),
    # "change it to a sprite", "make it a hawaiian", "make that a large"
    replace_rule(
        _re(
            r"(?:change|switch|swap|make|turn)\s+(?P<t>"
            + PTR
            + r")\s+(?:to|for|into|with|in)?\s*(?:an?\s+)?(?P<x>.+)"
        )
    ),
    # "i meant hawaiian", "i said sprite not coke"
    replace_rule(
        _re(r"(?:i meant|i mean|i said|i wanted|i asked for|i ordered|it should be|should be)\s+(?P<x>.+)")
    ),
    # "one of the margheritas large", "make one of them thin crust", "one of the two pizzas with extra cheese"
    change_rule(
        _re(
            r"(?:make\s+|have\s+|change\s+|i want\s+|id like\s+)?(?P<n>one|1|two|2|three|3)\s+of\s+(?P<to>.+)"
        ),
        None,
    ),
    # "make the margherita gluten free", "change the pepperoni to thin crust", "make it large"
    change_rule(
        _re(r"(?:make|change|switch|turn|do|have|update|get|want|i want|id like|i would like)\s+(?P<to>.+)"),
        None,
    ),
    change_rule(
        _re(r"(?:make|change|switch|turn|do|have|update)\s+(?P<to>.+)"),
        frozenset({"to", "into", "as", "with", "in"}),
    ),
    # "can the pepperoni be thin crust", "could it have extra cheese"
    change_rule(
        _re(r"(?:can|could|will|would|should)\s+(?P<t>.+?)\s+(?:be|have|come with|get|come)\s+(?P<o>.+)")
    ),
    # "put the onions back on the veggie"
    change_rule(_re(r"(?:put|add)\s+(?:the\s+)?(?P<o>.+?)\s+back(?:\s+(?:on|onto|in|into))?\s+(?P<t>.+)")),
    # "add mushrooms to the veggie", "put extra cheese on both"
    change_rule(
        _re(
            r"(?:add|put|throw|stick|include|sprinkle|give)\s+(?P<o>.+?)\s+(?:on|onto|to|in|into|for|"
            r"with)\s+(?P<t>.+)"
        )
    ),
    # "take the onions off the veggie", "hold the olives on it"
    change_rule(
        _re(
            r"(?:take|remove|leave|hold|skip|drop)\s+(?:off\s+|out\s+)?(?:the\s+)?(?P<o>.+?)\s+"
            r"(?:off|from|on|out of|off of)\s+(?P<t>.+)"
        ),
        negate=True,
    ),
    # "thin crust on the pepperoni", "no onions on it", "large for the coke"
    change_rule(
        _re(
            r"(?P<o>.+?)\s+(?:on|for|onto)\s+(?P<t>.+?)"
            r"(?:\s+(?:is|are|would be)\s+(?:fine|ok|okay|good|better))?"
        )
    ),
    # "make the cokes diet": a name completed by the new words
    replace_rule(_re(r"(?:make|turn)\s+(?P<tx>.+)")),
    # "both large", "all of them thin crust", "them large please"
    change_rule(
        _re(
            r"(?P<t>both|both of them|all|all of them|them all|them both|all of those|them|both pizzas|"
            r"all the pizzas)\s+(?P<o>.+)"
        )
    ),
    # "the pepperoni with thin crust", "the coke large", "item 2 without onions", "both drinks in a bottle"
    change_rule(
        _re(r"(?P<to>(?:the|my|that|item|line|#|both|all|all the|first|second|last|other|1st|2nd)\s+.+)")
    ),
    # "hawaiian → pepperoni", "sprite to water": a line to another item
    replace_rule(_re(r"(?P<t>[a-z][a-z ]*?)\s+to\s+(?:an?\s+)?(?P<x>[a-z0-9][a-z0-9 ]*)")),
]

UNSURE = _re(
    r"(?:change|edit|modify|fix|update|amend|alter)\s+(?:it|that|this|my order|the order|something|my cart|"
    r"the cart|stuff|a thing)|"
    r"(?:thats|that is|its|it is|this is)\s+(?:not right|wrong|not correct|incorrect|not what i (?:ordered|"
    r"asked for|wanted))|"
    r"(?:wrong|not right|incorrect|mistake|i made a mistake|made a mistake|not what i (?:ordered|asked for|"
    r"wanted))|"
    r"(?:something|anything) (?:different|else)|add more|more|the other one|the other|other one|"
    r"i want to change (?:something|it|my order)|can i change (?:something|it|my order)|"
    r"i need to change (?:something|my order)"
)
CANCEL = _re(
    r"cancel(?:\s+cancel)*|cancel\s+(?:it|it all|everything|all|all of it|the whole (?:thing|order|lot)|"
    r"my (?:whole )?order|the order|that order|this order|the lot|all that|order|my cart|the cart)|"
    r"(?:i want to|i wanna|i need to|i would like to|id like to|can i|could i|please)\s+cancel(?:\s+.+)?|"
    r"start (?:over|again|from scratch|fresh)(?: from scratch)?|(?:lets|can we|could we) start (?:over|"
    r"again)|"
    r"cancel (?:the|my|that|this) order(?: .+)?|(?:please )?dont (?:make|send|cook|do) (?:my|the|this|"
    r"that) order(?: .+)?|"
    r"clear (?:it|everything|them) (?:all )?out|clear it all out|"
    r"scrap\s+(?:it|it all|everything|the (?:whole )?(?:order|thing|lot|cart))|"
    r"(?:clear|empty|delete|remove|wipe|reset)\s+(?:everything|it all|all|all of it|the whole (?:order|cart|"
    r"thing)|"
    r"my (?:whole )?(?:cart|order|basket)|the (?:cart|basket|order))|"
    r"forget (?:the whole (?:order|thing)|everything|all of it|the order)|ordered by mistake|"
    r"wrong order(?: cancel)?|"
    r"(?:(?:forget it|forget that|never ?mind|nvm|scratch that|you know what)\s+)?"
    r"i dont want (?:anything|it anymore|any of it|this order|the order)(?:\s+(?:anymore|any more|at all))?"
    r"(?:\s+(?:sorry|soz|after all))?|"
    r"(?:omg )?wrong order cancel(?: cancel)*|"
    r"cancel\s+(?:.+\s+)?(?:by mistake|by accident|wrong order)|(?:ordered|placed) (?:it |that |"
    r"the order )?(?:by mistake|by accident)(?: cancel)?"
)


_HOW_MUCH_ALONE = _re(
    r"(?:so\s+|and\s+)?(?:how much|hw much|howmuch)(?:\s+(?:is|are|does it cost|do they cost))?(?:\s*\?)*"
)


def _how_much_alone(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "how much?", "¿cuánto sale?", "quanto fica?" said alone: the price of what is being
    talked about, as "how much is it?"."""
    if _HOW_MUCH_ALONE.fullmatch(clause.key) is None:
        return None
    return Act("question", topic="price", subject="it")


def _menu_question(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "any desserts?", "show me the pizzas", "do you have wings": a section or an item."""
    match = _MENU_ASK.fullmatch(clause.key)
    if match is None:
        return None
    subject = match.group("s")
    if category_items(menu, phrases, subject) or order_of(menu, subject) is not None:
        return Act("question", topic="menu", subject=subject)
    if kind_hinted(menu, subject):
        # "do you have pepsi?", "tem guaraná?": not on the menu, but a kind it has (drinks)
        return Act("question", topic="menu", subject=subject)
    return None


_MENU_ASK = _re(
    r"(?:any|got any|do you have(?: any)?|have you got(?: any)?|you have(?: any)?|you got(?: any)?|"
    r"do you do|do you sell|do you serve|show me|show|list|see|what about)\s+"
    r"(?:the\s+|your\s+|all the\s+|all your\s+|some\s+)?(?P<s>.+?)(?:\s+(?:menu|list|options|selection|"
    r"please|pls))?"
)


def _colon_change(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "pepperoni: large, pan crust": options for the line named before the colon."""
    segments = [seg for seg in re.split(r"[.;!?\n]+", clause.text) if ":" in seg]
    found = [seg for seg in segments if normalise(seg.replace(":", " ")) == clause.key] or segments[:1]
    head, colon, tail = found[0].partition(":") if found else ("", "", "")
    if not colon or len(head.split()) > 4:
        return None
    target = read_target(menu, phrases, normalise(head))
    quantity = number_of(normalise(tail))
    if (
        target is None
        and quantity is not None
        and (named := read_target(menu, phrases, f"the {normalise(head)}"))
    ):
        # "cans: 3": the lines of that option (quoted back as said)
        target = dataclasses.replace(named, said=normalise(head)) if named.options else None
    if target is not None and quantity is not None:
        return Act("set_quantity", target=target, quantity=quantity)  # "brownies: 4"
    mods = options_only(menu, normalise(tail)) if target is not None else None
    if target is None or mods is None:
        return None
    return Act("change", target=target, modifiers=mods)


_NAMED = _re(
    r"(?:(?P<verb>add|with|plus|put|on|in|get|make it|make them|should be|"
    r"to be)\s+)?(?P<o>.+?)"
    r"(?P<also>(?:\s+(?:too|as well|also|aswell|please|pls|plz|instead|now|thanks))*)"
)


def _named_line_options(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "veggie add chicken and extra mushrooms", "pepperoni gluten free as well", "hawaiians with
    bacon too": options for a line named by its item, with no verb before it. With a word
    of change ("add", "too", "instead"...) it changes that line; bare ("pepperoni thin
    crust") it could also be a new line, so the conversation asks (subject "or-add")."""
    key = clause.key
    first = key.split()[0]
    if first in ("a", "an", "one", "another", "some", "more", "extra", "no", "not") or first.isdigit():
        return None
    if first in ("only", "just"):
        return None  # "only the margherita thin" also says the others are not: asked
    for left, right in _split_words(key):
        kind = left.removeprefix("the ")
        if category_items(menu, phrases, kind) and not (
            kind.endswith("s") and kind == left and " " not in kind
        ):
            # "pizza with ham" orders a pizza: a kind names no line of the cart ("pizzas
            # medium pls", a kind in the plural with no number, names the lines of it)
            return None
        target = read_target(menu, phrases, left)
        if target is None or not target.items or target.pointer or target.count or target.options:
            continue
        match = _NAMED.fullmatch(right)
        if match is None:
            continue
        mods = options_only(menu, match["o"])
        if mods is None:
            continue
        # "pepperoni gluten free as well": the trail words were stripped from the clause
        also = re.search(re.escape(key) + r"\s+(?:too|as well|also|aswell)\b", normalise(clause.text))
        # "diet cokes regular size": a plural name with no number names the lines in the cart
        # (another order would say how many)
        # "build your own with olives" after one with ham: olives on it, or another? ("with"
        # says options, not a change)
        verb = match["verb"] not in (None, "with")
        sure = bool(verb or match["also"].strip() or clause.corrective or also or target.plural)
        return Act("change", target=target, modifiers=mods, subject="" if sure else "or-add")
    return None


def _split_words(words: str) -> list[tuple[str, str]]:
    tokens = words.split()
    return [(" ".join(tokens[:i]), " ".join(tokens[i:])) for i in range(1, min(len(tokens), 4))]


# A hesitation before a bare number says it reconsiders ("hmm 2", "umm, three").
_HESITATION = _re(r"^(?:hmm+|hm+|um+|uh+|er+m?)\b")


def _corrected_number(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "actually 2", "sorry, 3", "hmm 2": a bare number correcting the line being talked about."""
    reconsidered = clause.corrective or _HESITATION.match(normalise(clause.text)) is not None
    if not reconsidered or _NUMBER.fullmatch(clause.key) is None:
        return None
    quantity = number_of(clause.key)
    return (
        Act("set_quantity", target=Target(clause.key, pointer=True), quantity=quantity)
        if quantity is not None
        else None
    )


_NUMBER = _re(r"{NUM}")

_ONES_BY_OPTIONS = set_quantity_rule(_re(r"(?P<n>{NUM})\s+(?P<t>(?:[a-z]+\s+){1,3}ones?)"))


_COUNT_BY_OPTIONS = _re(r"(?:only\s+|just\s+)?(?P<n>{NUM})\s+(?P<o>[a-z][a-z ]*?)")


def _corrected_ones(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "3 small ones actually", "only 1 large, sorry": a correction of how many of the line
    that has those options (said without a correction, "2 large ones" may as well order more;
    "only 1 large" is read so only when it names a size, container or volume alone)."""
    if not clause.corrective:
        return None
    act = _ONES_BY_OPTIONS(menu, phrases, clause)
    match = _COUNT_BY_OPTIONS.fullmatch(clause.key) if act is None else None
    mods = options_only(menu, match.group("o")) if match else None
    if (
        match
        and mods
        and not mods.excluded
        and all((g := menu.group(o.group)) is not None and g.kind == "single" for o in mods.options)
    ):
        ones = dataclasses.replace(clause, key=f"{match.group('n')} {match.group('o')} ones")
        act = _ONES_BY_OPTIONS(menu, phrases, ones)
        if act is not None and act.target is not None:  # quoted back as said: "large"
            act = dataclasses.replace(act, target=dataclasses.replace(act.target, said=match.group("o")))
    return act


# Allergies and diets said on their own are a note for the kitchen, not an option change
# ("gluten free please" is not "gluten-free crust" on the salad).
_DIET = _re(
    r"\b(?:gluten|dairy|lactose|nut|nuts|peanuts?|vegan|vegetarian|allerg\w*|celiac|coeliac|halal|kosher|"
    r"intoleran\w*)\b"
)


_SAME_NUMBER = _re(r"(?:the\s+)?same\s+(?:number|amount|quantity|qty)\s+of\s+(?P<x>[a-z][a-z ]*)")
_FOR_EACH = _re(
    r"(?P<x>(?:{NUM}|an?)\s+[a-z][a-z ]*?)\s+(?:(?:for|with)\s+(?:each|every|every single)|"
    r"per(?:\s+(?:each|every))?)\s+(?P<t>[a-z][a-z ]*)"
)


def _counted_by_lines(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "the same number of tiramisus", "one coke for each pizza": an order whose quantity is
    counted by lines of the cart (the lines being talked about, or those named)."""
    match = _SAME_NUMBER.fullmatch(clause.key)
    if match is not None:
        new = order_of(menu, f"1 {match['x']}")
        if new is None or new.ambiguous or len(new.lines) != 1:
            return None
        return Act("add", new=new, per=Target(clause.key, pointer=True))
    key = clause.key
    head, _, rest = key.partition(" ")
    if category_items(menu, phrases, head) and rest:
        key = rest  # "drinks: one coke for each pizza"
    match = _FOR_EACH.fullmatch(key)
    if match is None:
        return None
    new = order_of(menu, match["x"])
    per = read_target(menu, phrases, match["t"])
    if new is None or new.ambiguous or len(new.lines) != 1 or per is None or not per.items:
        return None
    return Act("add", new=new, per=per)


_SO_TOTAL = _re(
    r"(?P<why>[a-z][a-z ]*?)\s+(?:so|which makes|that makes|making it|makes)\s+(?:thats\s+|that makes\s+|"
    r"that s\s+|its\s+|make it\s+|make that\s+|we need\s+|i need\s+)?(?P<x>{NUM}\s+[a-z][a-z ]*?)"
    r"(?:\s+(?:in total|total|altogether|in all))?"
)


def _so_total(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "my sister wants one too so 2 tiramisus", "the kids are out, so that makes 1 coke": a
    reason, then the count it comes to, said again as the line's total (an item not in the cart
    is added). The reason must name nothing on the menu and change nothing itself."""
    match = _SO_TOTAL.fullmatch(clause.key)
    if match is None or phrases.edit_cues.search(match["why"]) or _NEGATION.search(match["why"]):
        return None
    why = order_of(menu, match["why"])
    if why is not None or options_only(menu, match["why"]) is not None:
        return None
    if phrases.adding.search(match["x"]):
        return None  # "so 2 more cokes" orders more
    new = order_of(menu, match["x"])
    if new is None or new.ambiguous or len(new.lines) != 1:
        return None
    return Act("restate", new=new)


_NEGATION = _re(r"\b(?:no|not|dont|doesnt|didnt|cant|wont|never|without)\b")

_COPY = _re(
    r"(?:(?:the\s+)?same(?:\s+(?P<t>[a-z][a-z ]*?))?\s+again|another(?:\s+one|\s+(?P<t2>[a-z][a-z ]*?))?)"
    r"\s+(?:but\s+)?(?P<o>(?:with|without|no|in)\s+.+)"
    # "same again but small", "another one but make it thin crust": options alone after "but"
    r"|(?:(?:the\s+)?same(?:\s+(?P<t3>[a-z][a-z ]*?))?\s+again|another(?:\s+one|\s+(?P<t4>[a-z][a-z ]*?))?)"
    r"\s+but\s+(?:make\s+(?:it|that|this)\s+)?(?P<b>.+)"
    # "the same but small", "same thing but thin crust": one more, with those options
    r"|(?:the\s+)?same(?:\s+(?:thing|one))?\s+but\s+(?P<o2>.+)"
)


def _copy_with_changes(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "same pizza again but with mushrooms", "another one without onions", "same again but
    small", "the same but small": one more of a line, with options changed (the line named, or
    the one being talked about), the line itself left as it was."""
    match = _COPY.fullmatch(clause.key)
    if match is None:
        return None
    mods = options_only(menu, match["o"] or match["b"] or match["o2"])
    words = match["t"] or match["t2"] or match["t3"] or match["t4"] or ""
    like = read_target(menu, phrases, words) if words else Target(clause.key, pointer=True)
    if mods is None or like is None or like.options:
        return None
    new = order_of(menu, f"1 {words}") if words else None
    return Act("add", like=like, modifiers=mods, new=new)


_SAME_AGAIN = _re(
    r"(?:the\s+)?same(?:\s+(?:thing|one|order|pizza|again))*\s+again|(?:another|one more)\s+of\s+the\s+same|"
    r"same\s+again|(?:i(?:ll| will)\s+)?have\s+(?:the\s+)?same\s+again"
)


def _same_again(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "same again", "another of the same": the line being talked about once more, as said
    (its quantity doubled); several lines being talked about are asked about."""
    if _SAME_AGAIN.fullmatch(clause.key) is None:
        return None
    return Act("adjust", target=Target(clause.key, pointer=True), scale=(2, 1))


# "the xl ones are too big": a statement about lines, not options to choose.
_COMPLAINT = _re(r"\btoo\b")


def _bare_options(menu: Menu, phrases: Phrases, clause: Clause) -> Act | None:
    """ "thin crust", "extra cheese", "no onions" on their own: the lines being talked about."""
    if _DIET.search(clause.key) or _COMPLAINT.search(clause.key):
        return None
    mods = options_only(menu, clause.key)
    return (
        Act("change", target=Target(clause.key, pointer=True), modifiers=mods) if mods is not None else None
    )


RULES: list[Rule] = [
    fixed_rule(NEVER_MIND, "never_mind"),
    fixed_rule(DONE, "done"),
    fixed_rule(ACK, "ack"),
    fixed_rule(CANCEL, "cancel"),
    fixed_rule(UNSURE, "unsure"),
    _how_much_alone,
    _menu_question,
    *QUESTIONS,
    *OPTION_QUESTIONS,
    _colon_change,
    _same_again,
    _copy_with_changes,
    _counted_by_lines,
    _so_total,
    _corrected_ones,
    *EDITS,
    _named_line_options,
    _corrected_number,
    _bare_options,
]

PHRASES = Phrases(
    language="en",
    rules=RULES,
    lead=LEAD,
    trail=TRAIL,
    split=SPLIT,
    determiners=frozenset(
        {
            "the",
            "my",
            "our",
            "that",
            "this",
            "those",
            "these",
            "both",
            "all",
            "each",
            "every",
            "of",
            "your",
            "them",
        }
    ),
    pointers=frozenset(
        {
            "it",
            "that",
            "this",
            "them",
            "those",
            "these",
            "they",
            "em",
            "that one",
            "this one",
            "the one",
            "both",
            "all",
            "everything",
            "all of them",
            "both of them",
            "them all",
            "same",
            "same one",
        }
    ),
    plural_pointers=frozenset(
        {
            "them",
            "those",
            "these",
            "they",
            "em",
            "both",
            "all",
            "everything",
            "all of them",
            "both of them",
            "them all",
        }
    ),
    ordinals={
        "first": 1,
        "1st": 1,
        "second": 2,
        "2nd": 2,
        "third": 3,
        "3rd": 3,
        "fourth": 4,
        "4th": 4,
        "fifth": 5,
        "5th": 5,
        "last": -1,
        "middle": 0,
        "final": -1,
        "latest": -1,
        "previous": -1,
    },
    line_words=frozenset({"item", "items", "line", "lines", "number", "no", "#", "row", "entry"}),
    other_words=frozenset({"other"}),
    corrective=CORRECTIVE,
    adding=ADDING,
    edit_cues=EDIT_CUES,
    each_words=frozenset({"each", "every one", "everything", "each one", "all of them", "them all"}),
    not_in_targets=frozenset(
        {
            "add",
            "throw",
            "plus",
            "out",
            "away",
            "get",
            "want",
            "make",
            "change",
            "swap",
            "instead",
            "remove",
            "take",
            "keep",
            "off",
            "from",
            "would",
            "should",
            "could",
            "can",
            "need",
            "be",
            "is",
            "was",
            "are",
            "rather",
            "than",
        }
    ),
    rest_words=frozenset({"rest", "others", "other ones", "everything else", "all the rest", "rest of it"}),
    category_words={
        "sweet": "desserts",
        "sweets": "desserts",
        "pud": "desserts",
        "pudding": "desserts",
        "beverage": "drinks",
        "soda": "drinks",
        "side dish": "sides",
        "starter": "sides",
        "starters": "sides",
        "appetizer": "sides",
        "appetizers": "sides",
    },
)
