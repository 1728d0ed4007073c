"""Language identification: English passes, other languages are flagged, too little is None.

Every sentence here was written for this file (none is taken from a data set).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from types import ModuleType

import pytest

from frankly.errors import InputError, MissingDependencyError
from frankly.text import language
from frankly.text.language import LanguageGuess, detect_languages, unsupported_language

ENGLISH = [
    "The parcel never arrived and nobody answers my emails",
    "Delivery was quick and the support team was lovely",
    "great!!",
    "thanks so much",
    "worst purchase ever, want a refund",
    "ngl the update is mid, lowkey want my money back",
    "smh customer service never picked up the phone",
    "cant log in since the last update, pls fix",
    "Tacos were fire 🔥🔥 but the salsa was meh",
    "@acme_help my order is 3 days late, any news? https://t.co/x1",
    "I love the café au lait here, the staff are great",
    "Ordered the pad thai, arrived cold. Won’t order again.",
    "10/10 would recommend to anyone looking for a good blender",
]
# Terse reviews with few function words: the detector's low-accuracy mode misreads some of
# these on its own ("Absolutely fantastic hotel" as Romanian).
TERSE_ENGLISH = [
    "Absolutely fantastic hotel", "Samsung Galaxy Buds Pro noise cancelling earbuds",
    "Lasagna portion tiny, overpriced", "Battery life excellent, camera mediocre",
    "Stunning views, friendly staff, delicious breakfast", "Sturdy build, intuitive controls",
    "Packaging flimsy, contents intact", "Tent leaked during light rain",
    "Vacuum suction weak, loud motor", "Espresso bitter, croissant stale",
    "Firmware update bricked router", "Burrito enormous, salsa bland",
    "Lovely boutique hotel, central location", "Mattress sagging already",
    "Taxi driver lost, meter running", "Seller responsive, item as described",
]
# Slang and fragments: English, or too little to say, but never flagged.
SLANG = ["yo this app slaps, no cap", "no cap fr fr this bussin", "ur app is trash",
         "W service", "lmaooo", "ok boomer", "its giving cheap", "deadass the worst app"]

OTHER = {
    "de": "Das Paket ist nicht angekommen und der Kundendienst antwortet nicht",
    "es": "Mi pedido no ha llegado y nadie responde a mis correos",
    "fr": "Le colis est arrivé en retard et le service client ne répond pas",
    "pt": "O produto chegou quebrado e ninguém me responde",
    "it": "Il prodotto è arrivato rotto e nessuno risponde alle mie email",
    "nl": "De bestelling is nooit aangekomen en niemand reageert op mijn berichten",
    "ar": "لم يصل الطلب حتى الآن ولا أحد يرد على رسائلي",
    "hi": "मेरा ऑर्डर अभी तक नहीं आया और कोई जवाब नहीं दे रहा",
    "zh": "我的订单还没有到，客服也不回复",
    "ja": "注文した商品がまだ届きません",
    "ko": "주문한 상품이 아직 도착하지 않았어요",
    "ru": "Заказ так и не пришёл, а поддержка не отвечает",
}

TOO_LITTLE = ["ok", "meh", "Danke", "Gracias!", "Super!", "hotel taxi pizza", "😍😍😍",
              "10/10", "!!!", "https://example.com/order/123", "@acme_help", "", "   ",
              "Ciao bella", "#MasterChef"]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_is_english_and_not_flagged(text: str) -> None:
    guess = detect_languages([text])[0]
    assert guess == LanguageGuess("en", None)


@pytest.mark.parametrize("text", TERSE_ENGLISH)
def test_terse_english_is_never_flagged(text: str) -> None:
    guess = detect_languages([text])[0]
    assert guess.language in ("en", None) and guess.review_reason is None


@pytest.mark.parametrize("text", SLANG)
def test_slang_is_never_flagged(text: str) -> None:
    guess = detect_languages([text])[0]
    assert guess.language in ("en", None) and guess.review_reason is None


@pytest.mark.parametrize(("code", "text"), sorted(OTHER.items()))
def test_other_languages_are_flagged_with_their_code(code: str, text: str) -> None:
    guess = detect_languages([text])[0]
    assert guess.language == code
    assert guess.review_reason == f"unsupported language: {code}"


def test_hindi_in_latin_letters_is_flagged() -> None:
    # Hinglish: Lingua has no model for it, the word screen recognises it.
    texts = ["bhai delivery bahut late thi aur koi reply nahi aaya",
             "product accha hai lekin packing kharab thi"]
    assert [g.review_reason for g in detect_languages(texts)] == ["unsupported language: hi"] * 2


@pytest.mark.parametrize("text", TOO_LITTLE)
def test_too_little_text_is_unknown_and_not_flagged(text: str) -> None:
    assert detect_languages([text])[0] == LanguageGuess(None, None)


@pytest.mark.parametrize("text", ["非常好", "很好", "شكرا", "спасибо"])
def test_a_short_text_in_another_script_is_flagged(text: str) -> None:
    # It cannot be English at any length: the English models would only be guessing.
    assert detect_languages([text])[0].review_reason is not None


def test_a_batch_keeps_order_and_length() -> None:
    texts = [ENGLISH[0], OTHER["de"], "ok", OTHER["ja"], ENGLISH[1]]
    assert [g.language for g in detect_languages(texts)] == ["en", "de", None, "ja", "en"]
    assert detect_languages([]) == []


def test_a_supported_language_is_named_not_flagged() -> None:
    guesses = detect_languages([OTHER["de"], ENGLISH[0]], supported=frozenset({"en", "de"}))
    assert guesses == [LanguageGuess("de"), LanguageGuess("en")]
    # A model trained only on German: English is the unsupported one.
    assert detect_languages([ENGLISH[0]], supported=frozenset({"de"}))[0].review_reason == (
        "unsupported language: en")


@pytest.mark.parametrize("supported", ["en", frozenset({"EN"}), frozenset({"english"})])
def test_bad_supported_codes_are_an_input_error(supported: frozenset[str]) -> None:
    with pytest.raises(InputError):
        detect_languages(["hello there"], supported=supported)


def test_a_value_that_is_not_a_str_is_an_input_error() -> None:
    with pytest.raises(InputError, match="index 1"):
        detect_languages(["fine", 42])  # type: ignore[list-item]


def test_unsupported_language_keeps_its_old_signature() -> None:
    assert unsupported_language(OTHER["es"]) == "unsupported language: es"
    assert unsupported_language(ENGLISH[0]) is None
    assert unsupported_language("ok") is None


@pytest.mark.parametrize("text", [
    "\ud800 broken surrogate", "\udfff", "\x00\x01\x02", "Das ist\x00 nicht gut, gar nicht",
    "😀" * 5000, "a" * 1_000_000, "Der Kunde " * 200_000, "\u202e reversed text here",
    "I love my new phone новый телефон очень хороший 😊", "مرحبا hello 你好 Привет",
    "\ufeff\u200b\u200d", "ﷺ" * 30, "Ǆǅǆ ǈǉ ﬁﬂ",
])
def test_odd_strings_get_a_guess_not_an_error(text: str) -> None:
    (guess,) = detect_languages([text])
    assert isinstance(guess, LanguageGuess)
    assert guess.review_reason is None or guess.review_reason.startswith("unsupported language: ")


def test_a_lone_surrogate_does_not_stop_the_detector() -> None:
    # Lingua takes valid UTF-8 only; the surrogate becomes "?" on the way there.
    text = "Das Paket ist \ud800 nicht angekommen und niemand antwortet"
    assert detect_languages([text])[0] == LanguageGuess("de", "unsupported language: de")


def test_only_the_first_characters_are_read() -> None:
    # A long English review with a German signature far past MAX_CHARS stays English.
    text = "The blender works well and the jug is sturdy. " * 100 + OTHER["de"] * 50
    assert len(text) > language.MAX_CHARS
    assert detect_languages([text])[0] == LanguageGuess("en")


def test_threads_share_one_detector() -> None:
    language._detectors.clear()
    results: list[list[LanguageGuess]] = []
    texts = [OTHER["fr"], OTHER["pt"], ENGLISH[0]]

    def work() -> None:
        results.append(detect_languages(texts))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(language._detectors) == 1
    assert all([g.language for g in r] == ["fr", "pt", "en"] for r in results)
    assert len(results) == 8


def test_missing_lingua_is_reported_only_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(language, "_detectors", {})
    monkeypatch.setitem(sys.modules, "lingua", None)  # "import lingua" now fails
    # The screen decides these without the detector.
    assert [g.language for g in detect_languages([ENGLISH[0], "ok", "😀"])] == ["en", None, None]
    with pytest.raises(MissingDependencyError, match="pip install"):
        detect_languages([OTHER["de"]])


def test_import_frankly_does_not_import_lingua() -> None:
    code = "import frankly, sys; assert 'lingua' not in sys.modules, 'lingua imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def hypothesis_api() -> ModuleType:
    """The hypothesis module; the property test is skipped where it is not installed."""
    return pytest.importorskip("hypothesis")


def test_never_raises_for_any_str(hypothesis_api: ModuleType) -> None:
    st = hypothesis_api.strategies

    @hypothesis_api.settings(max_examples=300, deadline=None, database=None)
    @hypothesis_api.given(st.lists(st.text(max_size=300), max_size=5))
    def check(texts: list[str]) -> None:
        guesses = detect_languages(texts)
        assert len(guesses) == len(texts)
        for guess in guesses:
            code = guess.language
            assert code is None or (len(code) == 2 and code.isascii() and code.islower())
            assert guess.review_reason in (None, f"unsupported language: {code}")

    check()
