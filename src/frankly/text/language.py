"""Which language a text is in, and whether the models can read it.

The models read English only. A text written in another language gets ``needs_review``
with the reason ``"unsupported language: xx"`` (ISO 639-1) instead of a confident guess.
A text that is too short or too ambiguous to tell is *not* flagged on language alone:
"ok", "10/10", "😍😍" or a product name say nothing about the writer's language.

Two stages, because nearly every text is English and the fast model reads ~75,000 texts/s:

1. A screen in pure Python (a few µs a text) recognises plain English by its function
   words ("the", "and", "you", "it's"...) and no foreign function words, and answers "en"
   without the detector. It also recognises Hindi written in Latin letters ("kya", "nahi",
   "bhi"...), which the detector has no model for (see ``_HINGLISH_STRONG``).
2. Everything else goes to `Lingua <https://github.com/pemistahl/lingua-py>`_
   (``lingua-language-detector``), built once per process on first use, in low-accuracy
   mode over the languages in ``DETECTOR_LANGUAGES``. Its top language is flagged only
   when it is confident, the text long enough, and (for Latin script) the text's English
   words do not outnumber its foreign function words: low-accuracy Lingua reads English
   news and names as Tagalog or Norwegian now and then, the word lists do not.

The language is judged on the first ``MAX_CHARS`` characters; a longer text is not
truncated anywhere else, only sampled here. The measured accuracy per language, speed and
memory are in ``benchmarks/language.py`` (written to benchmarks/RESULTS.md).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from frankly.errors import InputError, MissingDependencyError

if TYPE_CHECKING:  # lingua is imported on first use only (DESIGN.md, "Light import")
    from lingua import ConfidenceValue, LanguageDetector

__all__ = ["DETECTOR_LANGUAGES", "SUPPORTED", "LanguageGuess", "detect_languages",
           "unsupported_language"]

SUPPORTED: frozenset[str] = frozenset({"en"})
"""ISO 639-1 codes of the languages the shipped models were trained on."""

# The languages Lingua chooses among: the eight of XLM-T (ar en fr de hi it pt es), then
# languages customers commonly write in. A language left out cannot be named, and its
# texts go to the nearest one in the list (flagged under another code) or stay unknown.
# Tagalog is left out on purpose: in low-accuracy mode its model claims short English and
# Romance texts (the most frequent wrong code on XLM-T, and it flagged terse English such
# as "Lasagna portion tiny, overpriced"); Tagalog text now goes to ms/id or stays unknown.
# Each language costs memory: in low-accuracy mode these 33 add ~45 MB RSS (all 75 of
# Lingua's: ~77 MB); high-accuracy mode needs 730-800 MB for them (Lingua 2.1.1, see
# benchmarks/language.py), far more than the ~200 MB of the accurate model's process.
DETECTOR_LANGUAGES: tuple[str, ...] = (
    "ar", "en", "fr", "de", "hi", "it", "pt", "es",              # XLM-T
    "nl", "pl", "tr", "ru", "uk", "ja", "zh", "ko", "sv", "da",  # common in feedback
    "nb", "fi", "id", "ms", "vi", "cs", "ro", "hu", "el", "he",
    "th", "fa", "ur", "bn", "ca",
)

# Lingua's low-accuracy mode (trigrams only) rather than high accuracy (1- to 5-grams):
# ~45 MB and 0.1-0.2 s to load instead of 730-800 MB and 2-8 s, ~4x faster a text. Alone
# (top guess, no thresholds) it names the language of 85-98% of XLM-T's tweets in each
# language but Hindi, against 93-99% in high accuracy. The screen and the thresholds
# below make up for the short texts where low accuracy is weakest.
LOW_ACCURACY_MODE = True

# Only this many leading characters are read: plenty for a confident decision (Lingua's
# docs: beyond ~120 characters low accuracy is as good as high), and a 1 MB text costs no
# more than a tweet.
MAX_CHARS = 2_000

# Latin-script text shares words across languages ("no", "hotel", "taxi", "super"), so
# fewer than this many letters or words is too little to name a language (the issue's
# "~3 words / ~15 letters"; XLM-T tweets below it are mostly names and fragments).
MIN_LATIN_LETTERS = 15
MIN_LATIN_WORDS = 3
# A text in another script (Arabic, Cyrillic, Han, Devanagari...) cannot be English at any
# length, so a few letters suffice; a Han, kana or Hangul character is a syllable or a word.
MIN_OTHER_SCRIPT_LETTERS = 4
MIN_CJK_CHARACTERS = 2
# Lingua's top probability (over DETECTOR_LANGUAGES, summing to 1) needed to name a
# language; below it the text is ambiguous and gets None. 0.5 = more likely than all the
# others together. On XLM-T train, 0.7 instead flagged 1-4 points fewer non-English
# tweets (pt 81% instead of 85%) and no fewer English ones.
MIN_CONFIDENCE = 0.50
# A Latin-script text with neither a function word of another language (_FOREIGN) nor an
# accented letter needs this much to be flagged: Lingua's low-accuracy mode reads terse
# English ("Absolutely fantastic hotel": Romanian 0.61; "Samsung Galaxy Buds Pro noise
# cancelling earbuds": Norwegian 0.75) as another language. Costs 0.5-5 points of flags
# on XLM-T train (hi 49% -> 45%, pt 88% -> 85%).
MIN_CONFIDENCE_UNACCENTED = 0.90
# A text whose English probability is at least this is never flagged: it may well be
# English that the detector finds hard. A margin: on XLM-T the English-word veto (see
# _decide) already stops every English false flag this would, at 0.2-0.5 point of recall.
ENGLISH_GUARD = 0.10
# The screen answers "en" only for text made of English words: at least this many
# English words (weak ones count half; every word, for a text of one or two words) and
# this share of its words. Tweets are full of names and hashtags: at 0.20 the screen
# decided 92% of XLM-T's English train tweets, at 0.10 97%, and let through 0.2 point
# more of the German and Hindi sets (English tweets in those sets, read as English).
SCREEN_MIN_ENGLISH_WORDS = 2
SCREEN_MIN_ENGLISH_SHARE = 0.10


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# English words that are not common words of another Latin-script language in
# DETECTOR_LANGUAGES, and words customers use for feedback, so that "great!!" or "thanks"
# read as English. "a", "no", "me", "die" are left out (Spanish, Italian, German...).
_ENGLISH = _words("""
the and of you your you're this that with have had are were it it's its not but they
them their there what when where which who why how just can would should could don't
didn't doesn't can't won't isn't wasn't i'm i've i'll i'd she he's she's our from about
been being if or because than then very really much more some any only get got getting
out up one all thank thanks great good loved awesome terrible amazing worst awful poor
slow broken refund waste disappointed recommend helpful useless please thx pls plz
gonna wanna gotta kinda dont cant didnt doesnt wont isnt ive idk tbh ngl smh wtf lmao
lmfao bruh btw imo tho
like make makes made want need think know feel going anyone someone everyone something
nothing everything people time day today tomorrow tonight yesterday week year night
morning new first last next never ever back after before into off here now said says
let's lets yes yeah hey guys him her his us go come well way too even
monday tuesday wednesday thursday friday saturday sunday
1st 2nd 3rd 4th 5th 6th 7th 8th 9th 10th 11th 12th 13th 14th 15th 16th 17th 18th 19th
20th 21st 22nd 23rd 24th 25th 26th 27th 28th 29th 30th 31st
""")
# English words that are also common in another language here count half, and never
# alone outvote the detector: German "was", "so", "will", "man", "an", "bad", "fast";
# Dutch "is", "we", "best", "over"; Polish "my", "do", "to", "i", "u"; Danish "for", "at";
# Swedish "ur"; Italian "in"; French "on"; Spanish "has", "he"; loanwords ("service",
# "cool", "love").
_ENGLISH_WEAK = _words("""
my we was is for at be by do to on in so will an man i im has bad fast best he see
still over also u ur
love nice happy cool wow omg lol service delivery order customer support staff product
""")

# Common function words of other Latin-script languages (Hindi written in Latin letters
# has its own lists below): one of them sends the text to the detector.
# Rare-in-English words ("de", "la", "den") cost only speed when an English text has them;
# "o", "e", "um", "et", "mi" are left out ("Jackie O", "um...", "8pm ET", "MI").
_FOREIGN = _words("""
el los las que y por para con muy pero esta está están una del al lo su sus es un
tu también porque cuando hace tengo gracias hola bien nada todo ya pues cómo qué más
estoy eres somos hay este ese eso ni sin sobre entre hasta desde
le les est une des du au pas avec très pour mais je nous vous sont c'est ne qui
dans sur mon merci bonjour j'ai ça il elle ce cette ils leur aussi comme tout être fait
suis sans mes tes ses moi toi
der das und ist nicht mit sehr ein eine für ich sie wir auf auch aber noch bitte danke
mein meine wurde habe den dem zu ist sind wie die von dann euch ganz ohne schon mal nur
doch oder wenn weil kein keine hier jetzt heute immer alle viel mir dir mich dich uns ihr
ihn sich wird kann muss gibt nach bei aus vom zum zur einen einem einer diese dieser gute
guten schön
os uma não com muito mas são meu minha obrigado olá isso foi você eu ele ela já vai
meus tudo nós também até quando pra
il di che è della non sono molto anche ma questo grazie ciao mio perché ho gli delle
per sei siamo questa quello tutto tutti sempre ancora più nel alla dei nella
het een niet ook maar zijn wel dat voor bij nog heel dank
nie jest się tak ale już jak tylko dla
ve bir bu çok için ama
och att det som inte jag är på med för av har
og ikke jeg er til af
ja ei ole että se kiitos
yang dan di ini itu tidak saya ada untuk dengan sudah aku
ang ng sa mga ako ko mo naman hindi po lang
si nu sunt foarte
""")

# Hindi written in Latin letters (Hinglish): common in Indian feedback, and Lingua has no
# model for it (it reads it as English, Tagalog or Indonesian). Strong words are not
# English, nor common in another language here; weak ones collide ("ki", "ke", "hai" in
# Italian, "mein" in German, "ho") and count only next to a strong one.
_HINGLISH_STRONG = _words("""
kya nahi nahin nhi nai bhi aur tha thi raha rahe rahi rha rhe rhi gaya gye gya gayi gyi
kuch kuchh mujhe tujhe humko tum mera meri mere tera teri tere hota hoti hote hoga karo
karna karne karte karta karti karenge karega kiya kyu kyun kyon kyunki kaise kaisa bahut
bohot bahot abhi yaar wala wale wali liye matlab accha acha achha achhe acche achi sahi
jab koi apna apni apne dekho dekha aaj hain chahiye bhai bhaiya bhaiyya kab kaha kahan
yahan wahan hoon hua hui huwa thoda thodi kitna kitni lekin lakin magar phir sirf baat
kaam paise zyada jyada jaise aise aisa kaun haan samajh pta sakta sakte sakti milta
unka unki uska uski iska iski saala saale arre arey hamesha saath sath wajah
""")
# Also words of other languages or of English ("ki" Turkish, "se" Finnish, "mein" German,
# "ko" Tagalog, "logo", "naam" Dutch), so they count only next to a strong word.
_HINGLISH_WEAK = _words("""
hai h ki ka ke ko se ye yeh wo woh toh mein kr ho hum par hu hun ji log logo dil bola
pata naam mila mili fir bas yr abe hue
""")
# Distinct strong words to call a text Hindi, or one strong word and this many weak ones.
HINGLISH_MIN_STRONG = 2
HINGLISH_MIN_WEAK = 2

_NOISE = re.compile(r"(?:https?://|www\.)\S+|\bhttp\b|[@#][\w.]+|&[a-z]+;|&#\d+;", re.IGNORECASE)
# A word has a letter; digits inside it stay ("iph0ne", "4th"), so "ne" is not a word there.
_WORD = re.compile(r"\d*[^\W\d_][^\W_]*(?:['’][^\W\d_]+)*")
_LETTER = re.compile(r"[^\W\d_]")
_NON_ASCII_LETTER = re.compile(r"(?![\x00-\x7f])[^\W\d_]")
# ASCII punctuation but the apostrophe becomes a space (in the screen's UTF-8 bytes).
_ASCII_PUNCTUATION = b"!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~"
_PUNCTUATION_TO_SPACE = bytes.maketrans(_ASCII_PUNCTUATION, b" " * len(_ASCII_PUNCTUATION))
# The word lists as UTF-8, for the screen.
_B_ENGLISH, _B_ENGLISH_WEAK, _B_FOREIGN, _B_HINGLISH_STRONG, _B_HINGLISH_WEAK = (
    frozenset(word.encode() for word in words)
    for words in (_ENGLISH, _ENGLISH_WEAK, _FOREIGN, _HINGLISH_STRONG, _HINGLISH_WEAK))
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]")
_ACCENTED = re.compile(r"[\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u1E00-\u1EFF]")
_CJK = re.compile(r"[\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF]")


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The language of one text, and the review reason when the models cannot read it.

    ``language`` is an ISO 639-1 code, or None when the text is too short or too ambiguous
    to say. ``review_reason`` is ``"unsupported language: xx"`` when the text is confidently
    in a language outside the supported set, else None.
    """

    language: str | None
    review_reason: str | None = None


_UNKNOWN = LanguageGuess(None)
_detectors: dict[frozenset[str], LanguageDetector] = {}  # a cache, one per language set
_detectors_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Words:
    """What ``_evidence`` found in a text the screen passed on, for ``_decide``."""

    text: str        # without links, handles, hashtags and HTML entities
    latin: bool      # mostly Latin letters
    english: int     # distinct English words (_ENGLISH)
    foreign: int     # distinct function words of another language (_FOREIGN), +1 for accents


def detect_languages(texts: Sequence[str],
                     supported: frozenset[str] = SUPPORTED) -> list[LanguageGuess]:
    """The language of each text, and a review reason for those the models cannot read.

    Never raises for a str. Only texts the English screen cannot decide reach the detector,
    which is built on first use (MissingDependencyError if lingua is not installed).

    >>> [g.language for g in detect_languages(["The parcel never arrived, and nobody replies",
    ...                                         "great!!", "😍😍", "Danke"])]
    ['en', 'en', None, None]
    >>> detect_languages(["Das Paket ist nicht angekommen und niemand antwortet"])[0]
    LanguageGuess(language='de', review_reason='unsupported language: de')
    """
    supported = _check_supported(supported)
    guesses: list[LanguageGuess | None] = []
    pending: list[tuple[int, _Words]] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"expected str texts, found {type(text).__name__} at index {i}")
        text = text[:MAX_CHARS]
        guess = _screen(text, supported)
        if guess is None:
            evidence = _evidence(text)
            if isinstance(evidence, _Words):
                pending.append((i, evidence))
            else:
                guess = evidence
        guesses.append(guess)
    if pending:
        detector = _detector(frozenset(DETECTOR_LANGUAGES) | supported)
        # One call for all of them: Lingua spreads it over every core, in Rust.
        values = detector.compute_language_confidence_values_in_parallel(
            [_lingua_text(words.text) for _, words in pending])
        for (i, words), found in zip(pending, values):
            guesses[i] = _decide(found, words, supported)
    return guesses  # type: ignore[return-value]  # every None was replaced above


def unsupported_language(text: str) -> str | None:
    """The review reason when ``text`` is confidently not English, else None.

    >>> unsupported_language("Das Paket ist nicht angekommen und ich bin sehr enttäuscht")
    'unsupported language: de'
    >>> unsupported_language("The parcel never arrived") is None
    True
    """
    return detect_languages([text])[0].review_reason


@functools.lru_cache(maxsize=256)  # guesses are immutable: share them
def _verdict(code: str, supported: frozenset[str]) -> LanguageGuess:
    if code in supported:
        return LanguageGuess(code)
    return LanguageGuess(code, f"unsupported language: {code}")


def _screen(text: str, supported: frozenset[str]) -> LanguageGuess | None:
    """A guess from word lists alone, or None for the detector to decide.

    Runs on UTF-8 bytes split at spaces and ASCII punctuation, all in C: about twice as
    fast as the same on str and several times faster than a word regex. What the split
    gets wrong ("fire🔥" is one word) only sends a text on to the detector.
    """
    if not text.isascii():
        if _NON_ASCII_LETTER.search(text):
            return None  # "é", "ß", Cyrillic, Han...: the detector knows better
        text = text.replace("’", "'")  # the apostrophe phones type: "don’t" is "don't"
    distinct = set(text.lower().encode("utf-8", "replace").translate(_PUNCTUATION_TO_SPACE)
                   .split())
    english = len(distinct & _B_ENGLISH) + len(distinct & _B_ENGLISH_WEAK) / 2
    hindi = len(distinct & _B_HINGLISH_STRONG)
    if hindi:
        hindi_weak = len(distinct & _B_HINGLISH_WEAK)
        if (hindi + hindi_weak > english
                and (hindi >= HINGLISH_MIN_STRONG or hindi_weak >= HINGLISH_MIN_WEAK)):
            return _verdict("hi", supported)
        return None
    if (english and english >= min(SCREEN_MIN_ENGLISH_WORDS, len(distinct))
            and english >= SCREEN_MIN_ENGLISH_SHARE * len(distinct)
            and distinct.isdisjoint(_B_FOREIGN)):
        return _verdict("en", supported)
    return None


def _evidence(text: str) -> _Words | LanguageGuess:
    """What the detector needs to know about a text, or the unknown guess if too little."""
    if "@" in text or "#" in text or "&" in text or "http" in text or "www." in text:
        text = _NOISE.sub(" ", text)
    tokens = _WORD.findall(text)
    letters = len(_LETTER.findall(text))
    latin = len(_LATIN.findall(text))
    if latin * 2 >= letters:  # mostly Latin script
        if latin < MIN_LATIN_LETTERS or len(tokens) < MIN_LATIN_WORDS:
            return _UNKNOWN
    elif (len(_CJK.findall(text)) < MIN_CJK_CHARACTERS
          and letters - latin < MIN_OTHER_SCRIPT_LETTERS):
        return _UNKNOWN
    distinct = {token.lower().replace("’", "'") for token in tokens}
    accents = _ACCENTED.search(text) is not None  # "é", "ñ", "ß": rare in English
    return _Words(text, latin=latin * 2 >= letters, english=len(distinct & _ENGLISH),
                  foreign=len(distinct & _FOREIGN) + accents)


def _lingua_text(text: str) -> str:
    if not text.isascii():
        # Lone surrogates cannot cross into Lingua (Rust strings are valid UTF-8).
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _decide(values: list[ConfidenceValue], words: _Words,
            supported: frozenset[str]) -> LanguageGuess:
    """Lingua's verdict (its confidence values, best first) on a text the screen could not
    decide, with the thresholds above."""
    if not values or values[0].value < MIN_CONFIDENCE:
        return _UNKNOWN
    code = values[0].language.iso_code_639_1.name.lower()
    if code in supported:
        return LanguageGuess(code)
    if "en" in supported:
        english = next((v.value for v in values if v.language.iso_code_639_1.name == "EN"), 0.0)
        if english >= ENGLISH_GUARD:
            return _UNKNOWN
        if words.latin and words.english > words.foreign:
            return _UNKNOWN  # English words outvote the detector, which is weak on names
        if words.latin and not words.foreign and values[0].value < MIN_CONFIDENCE_UNACCENTED:
            return _UNKNOWN  # plain ASCII without a foreign word: terse English, often
    return _verdict(code, supported)


def _check_supported(supported: frozenset[str]) -> frozenset[str]:
    if isinstance(supported, str) or not all(
            isinstance(c, str) and len(c) == 2 and c.isascii() and c.islower()
            for c in supported):
        raise InputError(f"supported must be a set of ISO 639-1 codes like {{'en'}}, "
                         f"found {supported!r}")
    return frozenset(supported)


def _detector(languages: frozenset[str]) -> LanguageDetector:
    """Lingua's detector for ``languages``, built once per process (thread-safe)."""
    detector = _detectors.get(languages)
    if detector is not None:
        return detector
    with _detectors_lock:
        detector = _detectors.get(languages)
        if detector is None:
            detector = _build_detector(languages)
            _detectors[languages] = detector
        return detector


def _build_detector(languages: frozenset[str]) -> LanguageDetector:
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder
    except ImportError as exc:
        raise MissingDependencyError(
            "language identification needs Lingua: pip install 'lingua-language-detector>=2.1'"
        ) from exc
    codes = []
    for code in sorted(languages):
        iso = getattr(IsoCode639_1, code.upper(), None)
        if iso is None:
            raise InputError(f"no language detector model for {code!r}; supported codes "
                             f"must be ISO 639-1 codes that Lingua knows")
        codes.append(iso)
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    if LOW_ACCURACY_MODE:
        builder = builder.with_low_accuracy_mode()
    # Preloaded: the first texts of a batch job should not wait for model files one by one.
    return builder.with_preloaded_language_models().build()
