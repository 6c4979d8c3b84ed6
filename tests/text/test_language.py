"""Tests for haris.text.language on short synthetic messages (ar + dialects, en, fr, Arabizi, mixed)."""
from __future__ import annotations

import pytest

from haris.errors import ConfigError
from haris.text import language
from haris.text.language import LanguageResult, identify

ARABIC = [
    # MSA
    "أعلنت الشرطة اليوم عن إغلاق عشرات الحسابات المخالفة",
    "للبيع سيارة مستعملة بحالة ممتازة والسعر قابل للتفاوض",
    "تحذر المنظمة من حسابات تستغل الأطفال على الإنترنت",
    "يرجى التواصل معنا عبر البريد الإلكتروني لمزيد من المعلومات",
    "نشر التقرير أرقاما جديدة عن ضحايا الاتجار بالبشر",
    # Levantine
    "شو عم تعمل هلق؟ بدي شوفك بكرا",
    "كيفك حبيبي، منيح؟ اشتقنالك كتير",
    "هيدا الموبايل للبيع، السعر مية دولار",
    "ليش ما رديت عليي مبارح؟",
    "خلص منلتقى بعد الضهر عند الجامعة",
    # Egyptian
    "إزيك يا صاحبي عامل إيه النهارده؟",
    "أنا عايز أشتري عربية مستعملة بس مش غالية",
    "مفيش مشكلة خالص، هكلمك بكرة الصبح",
    "الواد ده بيذاكر كويس أوي السنة دي",
    "ماما قالت لازم نرجع البيت بدري",
    # Gulf
    "شلونك اليوم؟ وش مسوي؟",
    "أبي أروح السوق الحين مع الشباب",
    "والله ما أدري وين حطيت الجوال",
    "تعال البيت بعد صلاة العصر نتقهوى",
    "عندنا حلال للبيع، غنم وإبل بسعر زين",
]

ENGLISH = [
    "Used car for sale, excellent condition, price negotiable",
    "Police closed dozens of accounts after the report came out",
    "Can you pick up the kids from school tomorrow?",
    "I have 3 cars and 2 bikes in the garage",
    "The meeting is moved to next Tuesday at noon",
    "Thanks for the birthday wishes, see you soon",
    "This charity helps survivors of trafficking find work",
    "Please report suspicious accounts to the platform",
    "We are selling our old sofa, pick up only",
    "The new phone has a better camera than the last one",
    "My sister just started her first job in the city",
    "COVID-19 cases went down again this week",
    "Don't forget to bring your passport and tickets",
    "The weather was great so we went to the beach",
    "Who wants pizza tonight? I can order at 7pm",
    "see you 2moro at the mall",
]

FRENCH = [
    "Voiture d'occasion à vendre, très bon état, prix à débattre",
    "La police a fermé des dizaines de comptes après le rapport",
    "Tu peux récupérer les enfants à l'école demain ?",
    "rdv à 7h devant la gare avec les autres",
    "J'ai 3 voitures et 2 vélos dans le garage",
    "La réunion est repoussée à mardi prochain à midi",
    "Merci pour les voeux d'anniversaire, à bientôt",
    "Cette association aide les victimes de la traite",
    "Signalez les comptes suspects à la plateforme",
    "On vend notre vieux canapé, à récupérer sur place",
    "Ma soeur vient de commencer son premier travail",
    "Il fait beau, on va à la plage cet après-midi",
    "N'oublie pas ton passeport et les billets",
    "Le nouveau téléphone a un meilleur appareil photo",
    "Qui veut une pizza ce soir ? Je commande vers 19h30",
    "Je suis en bas avec ma soeur, elle a 3ans",
]

ARABIZI = [
    "ana 3am fakkir fik kteer habibi",
    "shu 3am ta3mel halla2?",
    "yalla ba3den mnetla2a 3al jem3a",
    "kifak ya sahbi, inshallah mni7?",
    "wallah ma ba3ref wein 7atet el mobile",
    "ana 3ayez a4tery 3arabeya bas mesh ghalya",
    "ezzay 7alak ya basha? 3amel eh?",
    "mafeesh moshkela, hakalmak bokra",
    "enta fein delwa2ty?",
    "5alas, nshoofak ba3d el salah",
    "shlonak? wesh 3ndak el yom?",
    "ya3ni lazem nrou7 hala2?",
    "el sayyara lel bay3 b 500 dollar",
    "mar7aba, 3andak wa2et bokra?",
    "habibti ma3 mama fi el bet",
    "la2 mish hek, ana ma 2elt heik",
    "tayeb tamam, ashoofak bukra inshallah",
]

MIXED = [  # (dominant language, the other language, text): Arabic script with Latin words
    ("ar", "en", "للبيع iPhone 13 pro max بحالة ممتازة السعر 500 دولار"),
    ("ar", "en", "اجتماع اليوم تأجل إلى الغد بسبب الظروف، meeting postponed"),
    ("ar", "en", "شكرا كتير على المساعدة thank you"),
    ("ar", "fr", "مرحبا صديقي، à demain"),
    ("ar", "fr", "السيارة للبيع، prix négociable، التواصل على الخاص"),
    ("ar", "en", "الاجتماع بكرة الساعة خمسة، don't be late"),
    ("ar", "fr", "أنا في الطريق الآن إلى البيت مع أخي، j'arrive"),
    ("ar", "en", "تحذير: حسابات وهمية تطلب صور الأطفال، report them to the platform"),
    ("ar", "fr", "عيد مبارك لكل العائلة والأصدقاء، bonne fête à tous"),
    ("en", "ar", "The meeting is at five, see you there, thanks a lot يا صديقي"),
    ("en", "ar", "Please share this awareness post with your friends, شكرا لكم"),
    ("en", "ar", "Happy birthday my dear brother, كل عام وأنت بخير"),
    ("fr", "ar", "Bonjour à tous, la réunion est reportée à demain matin, merci بالتوفيق"),
    ("fr", "ar", "Rendez-vous devant la mairie à dix heures, ما تتأخر"),
    ("fr", "ar", "Livraison gratuite partout en ville, للطلب راسلونا"),
]

MIXED_LATIN = [  # (dominant language, text): en + fr in one message
    ("en", "Thanks a lot for your help yesterday my friend, merci"),
    ("fr", "Merci beaucoup pour ton aide d'hier, c'était super, thanks"),
]

OTHER = [
    ("es", "Vendo coche usado en muy buen estado, precio negociable"),
    ("de", "Ich verkaufe mein altes Fahrrad, nur Abholung"),
    ("tr", "Yarın okuldan sonra seni arayacağım"),
    ("fa", "فردا بعد از مدرسه با تو تماس می‌گیرم، خیلی ممنون"),
    ("ur", "میں کل اسکول کے بعد آپ کو فون کروں گا"),
]


def check_shape(r: LanguageResult) -> None:
    assert 0.0 <= r.confidence <= 1.0
    assert r.script in ("arab", "latn", "mixed", "other", "none")
    assert abs(sum(r.shares.values()) - 1.0) < 0.01
    assert r.lang in r.shares and r.shares[r.lang] == max(r.shares.values())


@pytest.mark.parametrize("text", ARABIC)
def test_arabic_msa_and_dialects_by_script(text):
    r = identify(text)
    check_shape(r)
    assert (r.lang, r.script, r.arabizi, r.shares) == ("ar", "arab", False, {"ar": 1.0})
    assert r.confidence >= 0.9


@pytest.mark.parametrize("text", ENGLISH)
def test_english(text):
    r = identify(text)
    check_shape(r)
    assert (r.lang, r.script, r.arabizi) == ("en", "latn", False)


@pytest.mark.parametrize("text", FRENCH)
def test_french(text):
    r = identify(text)
    check_shape(r)
    assert (r.lang, r.script, r.arabizi) == ("fr", "latn", False)


@pytest.mark.parametrize("text", ARABIZI)
def test_arabizi_is_arabic_in_latin_script(text):
    r = identify(text)
    check_shape(r)
    assert (r.lang, r.script, r.arabizi) == ("ar", "latn", True)


@pytest.mark.parametrize("expected, other, text", MIXED)
def test_arabic_mixed_with_english_or_french(expected, other, text):
    r = identify(text)
    check_shape(r)
    assert r.lang == expected and not r.arabizi
    assert set(r.shares) == {expected, other}
    assert 0.1 < r.shares["ar"] < 0.9


@pytest.mark.parametrize("expected, text", MIXED_LATIN)
def test_english_mixed_with_french_gets_the_dominant_language(expected, text):
    r = identify(text)
    check_shape(r)
    assert (r.lang, r.script, r.arabizi) == (expected, "latn", False)


def test_mixed_script_shares_follow_the_letters():
    r = identify("للبيع سيارة ممتازة جدا، price negotiable")
    assert r.script == "mixed" and r.lang == "ar"
    assert set(r.shares) == {"ar", "en"} and r.shares["ar"] > r.shares["en"] > 0.2


def test_mixed_latin_languages_get_shares_by_clause():
    r = identify("Thanks a lot for your help yesterday my friend, merci beaucoup pour tout ça")
    assert r.lang == "en" and set(r.shares) == {"en", "fr"}
    assert r.shares["en"] > r.shares["fr"] > 0.2


def test_arabizi_mixed_with_english():
    r = identify("yalla habibi, ana jeye ba3d shwaya, wait for me at the station")
    assert r.arabizi and r.script == "latn"
    assert set(r.shares) == {"ar", "en"}


@pytest.mark.parametrize("expected, text", OTHER)
def test_other_languages_are_not_forced_into_ar_en_fr(expected, text):
    r = identify(text)
    check_shape(r)
    assert r.lang == expected and not r.arabizi
    assert r.script == ("arab" if expected in ("fa", "ur") else "latn")


@pytest.mark.parametrize("text", [
    "I have 3 cars", "rdv à 7h", "COVID-19 update", "see you 2moro", "iphone 7 for sale",
    "Je suis en bas avec ma soeur", "il a 3ans et elle 5ans", "run 5km at 6am", "mp3 player b2b",
    "Ana is my friend from school", "la fille de ma voisine", "win 2 tickets for the 3rd show",
])
def test_english_and_french_with_numbers_are_not_arabizi(text):
    r = identify(text)
    assert not r.arabizi and r.lang != "ar"


@pytest.mark.parametrize("text", ["", "   ", "12345", "$12,500", "😀🔥👍", "!!! ???", "+44 7700 900123"])
def test_no_letters_is_undetermined(text):
    r = identify(text)
    assert (r.lang, r.script, r.confidence, r.arabizi) == ("und", "none", 0.0, False)


def test_short_texts_fall_back_gracefully():
    assert identify("لا").lang == "ar"
    assert identify("لا").confidence < identify("للبيع سيارة مستعملة بحالة ممتازة").confidence
    assert (identify("yalla").lang, identify("yalla").arabizi) == ("ar", True)
    for text in ("ok", "a", "hi!", "xx"):
        r = identify(text)
        check_shape(r)
        assert r.script == "latn"
    assert identify("a").lang == "und"


def test_other_scripts():
    r = identify("Привет, как дела? Увидимся завтра")
    assert (r.lang, r.script) == ("ru", "other")


def test_arabic_script_fast_path_does_not_call_lingua(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("lingua called")

    monkeypatch.setattr(language, "_lingua", boom)
    assert identify("أبي أروح السوق الحين مع الشباب").lang == "ar"
    assert identify("yalla habibi, ana 3am estanna").arabizi
    with pytest.raises(AssertionError):
        identify("Used car for sale")


def test_bad_languages_file_is_a_config_error(tmp_path, monkeypatch):
    (tmp_path / "languages.tsv").write_text("en\tENGLISH\tproduct\nxx\tNOPE\tother\n", encoding="utf-8")
    monkeypatch.setattr(language, "DATA_DIR", tmp_path)
    language._detector.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"languages.tsv:2"):
            language._detector()
    finally:
        monkeypatch.undo()
        language._detector.cache_clear()


def test_identify_rejects_non_text():
    with pytest.raises(TypeError):
        identify(None)  # type: ignore[arg-type]
