"""A cheap check for text the English models were not trained to read.

Not a language identifier: it flags text that is clearly not English, so the product says
``needs_review`` instead of guessing. Two signals: most letters in a non-Latin script, or
several function words of another language and few English ones.
"""

from __future__ import annotations

import unicodedata

# Frequent function words that are not also common English words (so "die", "per", "con",
# "a", "no" and "me" are left out). Enough to tell a sentence, not a single word.
_FUNCTION_WORDS = {
    "Spanish": "el los las que y por para con muy pero está están una del al lo su sus "
               "pedido gracias hola mi también porque cuando hace tengo",
    "French": "le les et est une des du au pas avec très pour mais je nous vous sont "
              "c'est ne qui dans sur mon merci bonjour j'ai",
    "German": "der das und ist nicht mit sehr ein eine für ich sie wir auf auch aber "
              "noch bitte danke mein meine wurde habe",
    "Portuguese": "o e os um uma não ninguém nada ainda com muito mas são está meu minha "
                  "obrigado olá também "
                  "quando isso pedido foi",
    "Italian": "il di che è della non sono molto anche ma questo grazie ciao mio perché "
               "ho gli delle",
}
_OTHER = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_ANY_OTHER = frozenset().union(*_OTHER.values())
_ENGLISH = frozenset(
    "the and is are was were to of it this that for with my you i not but have has on in be "
    "they we at your our me so just very what when can will would do did don't it's i'm".split())
MIN_WORDS = 4          # shorter texts carry too little evidence either way
MIN_FOREIGN_HITS = 2   # function words of one other language needed to flag
LATIN_END = 0x250      # letters above this (outside Latin Extended Additional) are non-Latin


def unsupported_language(text: str) -> str | None:
    """A review reason when ``text`` is clearly not English, else None.

    >>> unsupported_language("Das Paket ist nicht angekommen und ich bin sehr enttäuscht")
    'language not supported: reads as German; the models read English only'
    >>> unsupported_language("The parcel never arrived") is None
    True
    """
    if not text.isascii():
        letters = [c for c in text if c.isalpha()]
        foreign = [c for c in letters if ord(c) >= LATIN_END and not 0x1E00 <= ord(c) < 0x1F00]
        if letters and len(foreign) > len(letters) / 2:
            script = unicodedata.name(foreign[0], "UNKNOWN").split()[0].title()
            return f"language not supported: {script} script; the models read English only"
    lowered = text.lower().split()
    # Fast exit for the common case (no foreign function word at all): no set is built.
    if len(lowered) < MIN_WORDS or _ANY_OTHER.isdisjoint(lowered):
        return None
    words = set(lowered)
    english = len(words & _ENGLISH)
    lang, hits = max(((lang, len(words & fw)) for lang, fw in _OTHER.items()),
                     key=lambda item: item[1])
    if hits >= MIN_FOREIGN_HITS and hits > 2 * english:
        return f"language not supported: reads as {lang}; the models read English only"
    return None
