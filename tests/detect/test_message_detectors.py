"""The two message detectors: what they flag, what they leave alone, and the evidence they give."""
from __future__ import annotations

import pytest

from haris.detect.base import Detector
from haris.detect.registry import DEFAULT_THRESHOLDS, message_detectors

TRAFFICKING_POSITIVES = [
    ("en", "For sale: girl, 12 years old, $12,500, delivery soon."),
    ("en", "A mother with her two children (3 years and 7 months), $3,700 for all, delivery after the checkpoint."),
    ("en", "New girls, 14 to 16, prices by DM 💋"),
    ("en", "Auction tonight: captive woman (25), opening bid $4,000, bids in the comments."),
    ("fr", "À vendre : fille de 13 ans, 9 000 $, livraison bientôt, prix en mp."),
    ("fr", "Enchères ce soir : captive de 22 ans, mise de départ 3 000 €."),
    ("ar", "للبيع: بنت عمرها ١٢ سنة، السعر ١٢٫٥٠٠ دولار، التسليم قريباً"),
    ("ar", "مزاد الليلة على سبية عمرها ٢٥، السعر الافتتاحي ٤٠٠٠ دولار"),
    ("ar", "lel be3 bent 3omraha 13, el se3r 9000 dollar, tasleem orayeb"),
    # listings that name nobody: only ages and prices make them candidates
    ("en", "Two left, 14 and 16, $3,000 each, passports stay with the buyer. DM."),
    ("fr", "Il en reste deux, 14 et 16 ans, 3 000 € chacune, les papiers restent chez l'acheteur. MP."),
    ("ar", "باقي ثنتين، ١٤ و١٦، ٣٠٠٠ دولار للوحدة، الجواز يبقى عند المشتري. خاص"),
    # workers supplied per head, paid to the supplier who keeps their phones: nobody is named
    ("en", "skip the agency bro, mine come cheaper: 480 usd a month per head paid to me, phones stay with me"),
    ("fr", "Mes gars c'est 2 400 € par mois et par tête, versés à moi, téléphones chez moi. T'en veux combien ?"),
]
TERRORISM_POSITIVES = [
    ("en", "Amaq Agency: soldiers of the caliphate targeted a checkpoint in Wilayat al-Sahil."),
    ("en", "O Muslims, make hijra to the land of the Khilafa, the Dawla needs doctors."),
    ("en", "Our channel was banned again. New channel of the Dawla: t.me/example_news — share it with the brothers."),
    ("fr", "Ô lions du califat, frappez les croisés où que vous les trouviez."),
    ("fr", "Nous prêtons allégeance à l'émir des croyants, écouter et obéir."),
    ("ar", "#باقية_وتتمدد 🏴 الدولة الإسلامية باقية وتتمدد"),
    ("ar", "انفروا والتحقوا بصفوف المجاهدين في ولاية الجنوب، الدولة تنادي الشباب"),
]
NEGATIVES = [   # hard negatives of the issue: they share the words and must not be flagged
    ("en", "Toyota Corolla, 12 years old, $12,500, delivery soon. Call +1 555 0142."),
    ("en", "Lambs for sale, 6 months old, $300 each, delivery possible."),
    ("en", "My daughter is 12 today 🎂 can't believe it!"),
    ("en", "Babysitter available: I'm 17, first aid trained, $10 an hour."),
    # the benchmark's stream: "I'm 17" with a bare number, a phone and an hourly rate
    ("en", "Babysitter available, I'm 17, $20 an hour, evenings. Text +44 7700 900001"),
    # a claim quoted in single quotes inside a lesson is the lesson's example, not a claim
    ("en", "Civics homework: explain why a post reading 'soldiers of the caliphate struck the checkpoint' is propaganda, not news."),
    ("en", "Investigators said one ad read “for sale, 12 years old, $12,500, delivery soon”."),
    ("en", "Awareness: if you see a post offering a girl for sale, don't share it, report it. Helpline +1 555 0100."),
    ("en", "Daesh claimed the attack through its Amaq agency, officials said."),
    ("en", "The Abbasid caliphate moved its capital to Baghdad in 762."),
    ("en", "Our cooking show got a new channel after the ban, recipes here: t.me/example_cook"),
    ("en", "Don't fall for the recruiters of Daesh's so-called caliphate: it brought nothing but graves."),
    ("fr", "Agneaux à vendre, 6 mois, 300 € pièce, livraison possible."),
    ("fr", "Le califat omeyyade de Cordoue comptait des bibliothèques."),
    ("ar", "أعلن تنظيم داعش مسؤوليته عن الهجوم عبر وكالة أعماق، بحسب مسؤولين"),
    ("ar", "بنتي صار عمرها ١٢ اليوم 🎂"),
    ("ar", "خرفان للبيع عمرها ٦ شهور، ٣٠٠ دولار للراس، التوصيل متوفر"),
    # an age or a price with no person: candidates now, and the model leaves them alone
    ("en", "Concert tickets $45 each, two left, DM me."),
    ("fr", "Vélo d'occasion, 3 ans, 300 €, à récupérer sur place. MP."),
    ("ar", "دراجة مستعملة عمرها ٣ سنين، ٣٠٠ دولار، الاستلام من المحل. خاص"),
    # a testimony: the quoted offer, then who speaks ("…," says / raconte): reported, not offered
    ("en", "'The broker sold me to a farm owner for $1,500 and kept my passport,' says a woman now 31, who escaped last year."),
    ("fr", "« Le courtier m'a vendue à un fermier pour 1 500 $ et a gardé mon passeport », raconte une femme de 31 ans, qui s'est enfuie l'an dernier."),
    # girls, an age and a price, but they are the guests of a lawful hostel (the `customer` role)
    ("en", "Girls' dorm: beds free from Friday, 15 and up only with a parent's consent form, $25 a night, towels included"),
    ("fr", "Dortoir filles : lits libres dès vendredi, à partir de 15 ans avec autorisation parentale, 25 € la nuit, draps fournis"),
    ("ar", "مهجع البنات: في أسرّة فاضية من الجمعة، من عمر 15 مع ولي الأمر، 25 دولار الليلة، الشراشف معها"),
    # everyday posts: animals with their age, meals priced per person, a children's entertainer
    ("en", "Rabbits for sale, 2 months old, $21 each, black and white, pick-up only"),
    ("ar", "بيع أرانب صغار عمر شهرين، الواحد ب21 دولار، بس بالاستلام"),
    ("en", "Iftar set menu all Ramadan: soup, dates, salad, main and a drink for $10 per person, kids' menu available"),
    ("ar", "بوفيه أعراس، 34 دولار للشخص، أقل عدد 100 شخص، والأطفال مجانا. للحجز واتس"),
    ("en", "Magician and balloon modelling for kids' parties, 1-hour show 90 usd, up to 25 children aged 3-10"),
]


@pytest.mark.parametrize("lang,text", TRAFFICKING_POSITIVES)
def test_sale_of_persons_is_flagged(flagged, lang, text):
    assert "trafficking" in flagged(text, lang)


@pytest.mark.parametrize("lang,text", TERRORISM_POSITIVES)
def test_terrorist_content_is_flagged(flagged, lang, text):
    assert "terrorism" in flagged(text, lang)


@pytest.mark.parametrize("lang,text", NEGATIVES)
def test_hard_negatives_are_not_flagged(flagged, lang, text):
    assert flagged(text, lang) == set()


def test_detectors_follow_the_shared_interface():
    dets = message_detectors()
    assert {d.policy for d in dets} == {"trafficking", "terrorism"}
    for d in dets:
        assert isinstance(d, Detector) and d.scope == "message" and d.name and d.version
    assert set(DEFAULT_THRESHOLDS) == {"trafficking", "terrorism"}


def test_signal_carries_policy_sublabels_score_and_original_spans(scan):
    text = "F O R  S A L E: g1rl, 12 years old, $12,500, delivery soon. t.me/example_seller"
    sig = scan(text)["trafficking"]
    assert sig.detector == "trafficking-message" and sig.detector_version
    assert 0.0 <= sig.score <= 1.0
    assert sig.labels == ["sale", "minor_involved"]
    spans = [e for e in sig.evidence if e.start is not None]
    assert spans and all(text[e.start:e.end] == e.text for e in spans)
    lexicon = {e.detail["category"]: e.text for e in sig.evidence if e.kind == "lexicon"}
    assert lexicon["offer"] == "F O R  S A L E" and lexicon["person"] == "g1rl"
    kinds = {e.kind for e in sig.evidence}
    assert {"lexicon", "entity", "pattern", "model"} <= kinds
    assert any(e.label.startswith("rule:listing") for e in sig.evidence)


def test_listing_is_structured(scan):
    sig = scan("For sale: a mother with her 2 kids (3 and 9), $3,700 for all, delivery to Eastgate, "
               "WhatsApp +1 555 0142")["trafficking"]
    listing = sig.data["listing"]
    assert listing["persons"]["count"] >= 3
    assert listing["persons"]["ages"] == [3, 9] and listing["persons"]["minor"] is True
    assert "f" in listing["persons"]["genders"]
    assert listing["prices"][0]["value"] == {"amount": 3700.0, "currency": "USD"}
    assert "delivery" in " ".join(listing["logistics"])
    assert listing["contact"] and listing["contact"][0]["kind"] == "phone"
    assert "sale" in listing["offer"]


def test_sublabels_of_each_policy(scan):
    assert scan("Auction tonight: girl, 14, opening bid $5,000")["trafficking"].labels == ["auction", "minor_involved"]
    assert "sexual_services" in scan("New girls for men, hotel or your place, prices by DM")["trafficking"].labels
    assert scan("Amaq: soldiers of the caliphate attacked a checkpoint")["terrorism"].labels == ["claim"]
    assert "incitement" in scan("O lions of the caliphate, kill the crusaders wherever you find them")["terrorism"].labels
    assert "recruitment" in scan("We renew our bay'ah to the amir al-mu'minin of the Dawla")["terrorism"].labels


def test_reported_quote_drops_the_quoted_cues_but_keeps_counter_evidence(scan):
    sigs = scan("Police said the account advertised “new girls, 14 to 16, prices by DM” before the arrests.")
    sig = sigs.get("trafficking")
    assert sig is None or sig.score < DEFAULT_THRESHOLDS["trafficking"]


def test_pejorative_name_outweighs_the_vocabulary(scan):
    supportive = scan("The soldiers of the Dawla attacked the apostates, may Allah accept them")["terrorism"].score
    reported = scan("Daesh attacked the army, may God protect us from these khawarij")
    assert supportive >= 0.9
    assert "terrorism" not in reported or reported["terrorism"].score < 0.5


def test_shipped_model_is_loaded_once():
    from haris.detect.model import load_model

    assert load_model() is load_model()


def test_a_bare_number_after_im_is_the_writers_own_age():
    from haris.detect.features import trafficking_features, view_of
    from haris.text.analysis import analyse_text

    def own(text: str) -> float:
        return trafficking_features(view_of(analyse_text(text, lang="en")))["self_age_near"]

    assert own("Babysitter available, I'm 17, $20 an hour") == 1.0
    assert own("I'm 5.30 late, sorry, $20 for the taxi") == 0.0       # a time, not an age
    assert own("she is 14, $900, delivery Friday") == 0.0              # somebody else's age


def test_ages_in_parentheses_after_a_person_and_one_word_are_inferred():
    from haris.detect.features import view_of
    from haris.text.analysis import analyse_text

    def ages(text: str, lang: str) -> list[float]:
        return sorted(a for a, _ in view_of(analyse_text(text, lang=lang)).ages)

    assert ages("القائمة اتجددت 📋 بنات جداد (13، ١٦، ١٧) — السعر حسب الطلب", "ar") == [13, 16, 17]
    assert ages("new girls (14 and 15) ready tonight", "en") == [14, 15]
    assert ages("the girls school (12 classes) reopens", "en") == []     # no closing parenthesis after numbers


def test_the_state_with_a_capital_is_the_groups_name_in_english():
    from haris.detect.features import terrorism_features, view_of
    from haris.text.analysis import analyse_text

    def named(text: str) -> float:
        return terrorism_features(view_of(analyse_text(text, lang="en")))["state_name"]

    assert named("army closing the grazing routes again. last year the State opened them. join its ranks") == 1.0
    assert named("the State's new channel after the ban: t.me/example_news") == 1.0
    assert named("The State of Ohio won the case; Ohio State won the game") == 0.0
    assert named("the State Department said the state of the roads is poor") == 0.0
    # a report shortens the group's name the same way: not the group's own voice
    assert named("Researchers say the State's media office moved its channels to smaller apps") == 0.0


def test_the_groups_name_alone_makes_a_terrorism_candidate():
    """No lexicon cue but "the State" in a supporter's words: the model, not the gate, decides."""
    from haris.detect.features import is_candidate, view_of
    from haris.text.analysis import analyse_text

    def candidate(text: str) -> bool:
        return is_candidate(view_of(analyse_text(text, lang="en")), "terrorism")

    assert candidate("only sell the loaded phones to people vouched for by the State")
    assert not candidate("only sell the phones to people vouched for by the shop")
    assert not candidate("the State Department said the state of the roads is poor")


def test_workers_named_by_their_trade_are_persons_and_parents_are_not_a_frame():
    from haris.detect.features import view_of
    from haris.text.analysis import analyse_text

    def view(text: str, lang: str):
        return view_of(analyse_text(text, lang=lang))

    for text, lang in (("Take 2 of my apprentices instead, they stay until the account is clear", "en"),
                       ("je lui envoie la nouvelle serveuse pour le week-end", "fr"),
                       ("الحمالين اللي كانوا عنده يتقسموا بين ولاده", "ar")):
        assert view(text, lang).persons(), text
    # "parents" is in every family post: only "talk to your kids"-style phrases frame a message
    assert not view("Ses parents croient qu'elle apprend toujours chez moi", "fr").has("awareness")
    assert view("Which policy applies to this post, and what action do you take?", "en").has("awareness")


def test_content_embedded_after_a_label_or_in_parentheses_is_quoted_by_a_frame():
    """A report pastes the ad after a label ("Ad text again: …") or in parentheses, without
    quotation marks; with a framing cue outside, what is embedded is the ad, not an offer.
    An advert's own parentheses stay its own words."""
    from haris.detect.features import view_of
    from haris.text.analysis import analyse_text

    v = view_of(analyse_text("Copy-edit query: is the price change intended? Ad text again: Boy 5, healthy, "
                             "papers arranged, we deliver to the border. Thanks"))
    assert v.reported and not v.ages and not v.has("person", "transfer")
    v = view_of(analyse_text("Beta reader feedback: the auction chapter works. The pinned post (opening bid 380 "
                             "dollars, girl 13, highest bid by 8 pm) chills because nobody objects."))
    assert v.reported and not v.ages and not v.has("person")
    v = view_of(analyse_text("New girls (14 and 16, fresh, prices by DM), delivery tonight"))
    assert not v.reported and v.has("person") and sorted(int(y) for y, _ in v.ages) == [14, 16]
    # content after a label may run to the end of the message (no closing mark): its span maps back
    v = view_of(analyse_text("Reported. Ad text: girl 12, 500 usd"))
    assert v.reported and not v.ages and not v.prices


def test_regions_answer_as_the_plain_scan_does():
    """Quoted spans are tested with a bisect (a megabyte of repeated quotes has thousands of
    entities): the answer is the one of the plain scan over every span."""
    import random

    from haris.detect.view import _Regions

    rnd = random.Random(3)
    for _ in range(2000):
        spans = [(a, a + rnd.randint(0, 30)) for a in (rnd.randint(0, 100) for _ in range(rnd.randint(0, 6)))]
        regions = _Regions(spans)
        for _ in range(10):
            s = rnd.randint(0, 130)
            e = s + rnd.randint(0, 20)
            assert regions.holds(s, e) == any(qs < s and e <= qe for qs, qe in spans)


def test_a_quoted_offer_followed_by_the_writers_own_contact_is_marked():
    """A "warning" that quotes an offer and then gives its own number "for details" is the offer."""
    from haris.detect.features import trafficking_features, view_of
    from haris.text.analysis import analyse_text

    def beside(text: str) -> float:
        return trafficking_features(view_of(analyse_text(text, lang="en")))["contact_beside_quote"]

    assert beside("I'm warning all parents: 'girl 14, $3,840, delivery free'. She is still here, "
                  "+44 7700 900977 for details") == 1.0
    assert beside("I'm warning all parents: 'girl 14, $3,840, delivery free'. Report such posts.") == 0.0
    assert beside("girl 14, $3,840, call +44 7700 900977") == 0.0          # no quote: the usual atoms
