"""Lexicons as data: loading, validation, whole-word matching with Arabic clitics, obfuscation."""
from __future__ import annotations

import pytest

from haris.detect.lexicon import Lexicon, default_lexicon
from haris.detect.rules import load_pack, rule_pack
from haris.errors import ConfigError
from haris.text.normalize import for_matching


def cats(text: str) -> dict[str, list[str]]:
    norm = for_matching(text).text
    out: dict[str, list[str]] = {}
    for h in default_lexicon().match(norm):
        out.setdefault(h.category, []).append(norm[h.start:h.end])
    return out


def view_cats(text: str) -> set[str]:
    """The categories a message's view keeps (after the view's own drops: links, quotes, holders)."""
    from haris.detect.view import view_of
    from haris.text.analysis import analyse_text

    return {h.entry.category for h in view_of(analyse_text(text)).hits}


def test_every_language_has_every_policy_file():
    lex = default_lexicon()
    assert {"ar", "en", "fr"} <= set(lex.languages())
    by_lang = {}
    for e in lex.entries:
        by_lang.setdefault(e.lang, set()).add(e.category)
    for lang in ("ar", "en", "fr"):
        assert {"person", "offer", "org", "call", "reporting", "pejorative", "goods"} <= by_lang[lang]


def test_whole_words_only_and_plural():
    assert "person" not in cats("the girlfriend of the engineer")   # girl ⊄ girlfriend
    assert cats("new girls in town")["person"] == ["girls"]
    assert "org" not in cats("a dawlatabad trip")


def test_arabic_clitics_and_ta_marbuta():
    assert cats("وللبيع سيارة")["offer"] == ["للبيع"]             # و + للبيع
    assert cats("بنتها عمرها ١٢")["person"] == ["بنتها", "عمرها"]  # pronoun ending kept in the hit;
    # "عمرها" ("her age") names a person without a noun, as "she" does in en (entry with pronoun: true)
    assert "captive" in cats("السبيتين جاهزتين")                  # سبية → سبيت + ين
    assert "charity" not in cats("دفع سريع")                     # سريع is not س + ريع
    assert "history" not in cats("تم نقل الملكية")                 # الملكية is not الملك + ية
    # a dual is a stem + ين, not "my X" + ن: "two girls, two boys" is no family talk
    found = cats("للبيع بنتين وولدين")
    assert "family" not in found and found["person"] == ["بنتين", "ولدين"]
    assert cats("بنتي عمرها ١٢")["family"] == ["بنتي"]
    assert "goods" not in cats("ولدين للبستان")                  # an orchard, not بسة (a cat) + ان


def test_an_entry_is_not_found_in_the_other_words_it_lists():
    """not_in: "بكر" (a virgin) is not "بكرة" (tomorrow); "بايع" (pledged) is not "البائع" (the seller)."""
    assert "person" not in cats("الاستلام بكرة الصبح")
    assert "pledge" not in cats("لا ترد على البائع")
    assert "pledge" in cats("بايع يا أخي")            # the entry itself still matches


@pytest.mark.parametrize("text", [
    "f o r  s a l e girl", "s.a.l.e g.i.r.l", "fоr sаlе gіrl",   # spaced, dotted, Cyrillic look-alikes
    "f\u200bo\u200br sale girl", "for s4le g1rl", "FOR SALE GIRL",
])
def test_obfuscated_english_is_matched(text):
    from haris.detect.features import view_of
    from haris.text.analysis import analyse_text

    v = view_of(analyse_text(text))     # the view adds words glued by normalization ("salegirl")
    assert v.has("person") and v.has("offer", "auction")


@pytest.mark.parametrize("text", ["ل ل ب ي ع بنت", "لـلـبـيـع بـنـت", "للبيع بنت\u200c", "lel be3 bent"])
def test_obfuscated_arabic_and_arabizi_are_matched(text):
    found = cats(text)
    assert found.get("offer") and found.get("person")


def test_words_inside_links_are_not_words_of_the_message():
    from haris.detect.features import view_of
    from haris.text.analysis import analyse_text
    v = view_of(analyse_text("join the brothers at t.me/example_annonces_reported"))
    assert not v.has("reporting")


def _write(tmp_path, cats_yaml: str, lang_yaml: str):
    (tmp_path / "categories.yaml").write_text(cats_yaml, encoding="utf-8")
    (tmp_path / "xx").mkdir(exist_ok=True)
    (tmp_path / "xx" / "a.yaml").write_text(lang_yaml, encoding="utf-8")


def test_unknown_category_is_a_config_error_naming_the_file(tmp_path):
    _write(tmp_path, "categories:\n  offer: {policy: trafficking}\n", "lang: xx\ncategories:\n  bogus: [a]\n")
    with pytest.raises(ConfigError, match=r"a\.yaml.*bogus"):
        Lexicon.load(tmp_path)


def test_unknown_attribute_and_wrong_language_are_errors(tmp_path):
    _write(tmp_path, "categories:\n  person: {policy: trafficking}\n",
           "lang: xx\ncategories:\n  person: [{term: girl, colour: red}]\n")
    with pytest.raises(ConfigError, match="colour"):
        Lexicon.load(tmp_path)
    _write(tmp_path, "categories:\n  person: {policy: trafficking}\n", "lang: yy\ncategories:\n  person: [girl]\n")
    with pytest.raises(ConfigError, match="does not match its folder"):
        Lexicon.load(tmp_path)


def test_a_new_language_is_data_only(tmp_path):
    _write(tmp_path, "categories:\n  offer: {policy: trafficking}\n  person: {policy: trafficking}\n",
           "lang: xx\ncategories:\n  offer: [te koop]\n  person: [{term: meisje, gender: f}]\n")
    lex = Lexicon.load(tmp_path)
    norm = for_matching("Te koop: meisje").text
    assert sorted(h.category for h in lex.match(norm)) == ["offer", "person"]


def test_rules_refer_only_to_known_atoms(tmp_path):
    for policy in ("trafficking", "terrorism"):
        assert rule_pack(policy).rules    # validated against the feature names on load
    bad = tmp_path / "r.yaml"
    bad.write_text("policy: trafficking\nbias: 0\nrules:\n  x: {weight: 1, all: [no_such_atom]}\n")
    with pytest.raises(ConfigError, match="no_such_atom"):
        load_pack(bad, {"person"})


def test_match_is_bounded_on_spam():
    text = for_matching("girl for sale " * 20_000).text
    hits = default_lexicon().match(text)
    assert len(hits) <= 4_000 + 8


def test_false_friends_of_the_message_language_are_ignored():
    from haris.detect.features import view_of
    from haris.text.analysis import analyse_text

    fr = view_of(analyse_text("Le club vend son attaquant de 25 ans", lang="fr"))
    assert not fr.has("person")                     # French "son" is "his", not the English "son"
    en = view_of(analyse_text("For sale: my son, 12", lang="en"))
    assert en.has("person")
    assert view_of(analyse_text("je viens car il pleut", lang="fr")).has("goods") is False
    # French "thèse" folds to "these": it framed every English post with "these" as research
    assert not view_of(analyse_text("Put up 30 of these at the bus stop", lang="en")).has("research", "counter")
    assert view_of(analyse_text("Extrait de ma thèse sur ces annonces", lang="fr")).has("research")


def test_single_quotes_mark_a_quotation_but_apostrophes_do_not():
    from haris.detect.view import _quoted_regions

    def quoted(text: str) -> list[str]:
        return [text[a:b + 1] for a, b in _quoted_regions(text)]

    assert quoted("a channel posts 'soldiers of the caliphate targeted x.' which clues") == [
        "'soldiers of the caliphate targeted x.'"]
    assert quoted("he said 'for sale, girl 12' and 'new girls' ok") == ["'for sale, girl 12'", "'new girls'"]
    assert quoted("it's the brothers' house, l'etat") == []


def test_come_is_not_the_exalted_of_a_quran_quotation():
    # تعالى folds to تعالي, which the "come" entry would otherwise take with a suffix
    assert "call" not in cats("قال الله تعالى في كتابه")
    assert cats("تعال يا أخي")["call"] == ["تعال"]


def test_ad_wording_is_not_attribution():
    # "السعر حسب الطلب" (price on request) is in every ad; "حسب مصادر" (according to sources) reports
    assert "reporting" not in cats("السعر حسب الطلب")
    assert cats("حسب مصادر محلية، عرضت الفتيات للبيع")["reporting"] == ["حسب مصادر"]
    # "كروت" (cards) is ك + روت ("she recounted") only to a matcher that ignores the word
    assert "reporting" not in cats("الدفع كروت جوجل بلاي بس")
    assert cats("روت الناجية ما حدث")["reporting"] == ["روت"]


def test_frames_of_trackers_audits_and_call_logs_and_coded_banners():
    """Who quotes a post to fix, audit or act on it frames it; supporters' banner emoji do not."""
    assert "awareness" in cats("bug: false negative when spaced out, steps to reproduce below")
    assert "research" in cats("Finding 12: 3 of 40 sampled items stayed up. Management response: agreed")
    assert "reporting" in cats("Call-taker note: the caller read out a post")
    assert "research" in cats("Réponse de la direction au constat 9 : d'accord")
    assert "research" in cats("فحصنا ٧ عينات")
    assert "slogan" in cats("sold out again 🏴☝️ those who know, know")
    assert "slogan" not in cats("🏴 the flag of our club")              # the black flag alone stays a weak symbol
    assert "slogan" in cats("may Allah raise the black one again")


@pytest.mark.parametrize("policy", ["trafficking", "terrorism"])
def test_rule_pack_evaluates_as_each_rule_holds(policy):
    """evaluate() tests the rules on sets (for speed): the rules fire that all / any / none say."""
    import random

    pack = rule_pack(policy)
    names, rnd = sorted(pack.atoms()), random.Random(7)
    for _ in range(500):
        atoms = {a: rnd.choice([0, 0, 1, 0.5, -1]) for a in rnd.sample(names, rnd.randint(0, len(names)))}
        on = {a for a, v in atoms.items() if v > 0}
        fired = [(r.name, r.weight) for r in pack.rules
                 if all(a in on for a in r.all) and (not r.any or any(a in on for a in r.any))
                 and not any(a in on for a in r.none)]
        assert pack.evaluate(atoms) == (pack.bias + sum(w for _, w in fired), fired)


def test_seizure_frames_and_ordinary_flags_and_oaths():
    assert "reporting" in cats("Seizure notice 2: parcel of stickers stopped at the sorting centre")
    assert "reporting" in cats("La douane a saisi 2 000 porte-clés")
    assert "slogan" not in cats("الراية السودا مرفوعة النهارده، ممنوع نزول البحر")   # a beach's no-swimming flag
    assert "legit_owner" in cats("الراية السودا مرفوعة النهارده، ممنوع نزول البحر")
    assert "glorify" in cats("remember the men who kept their oath when the world turned on them")


def test_arabizi_clitics_glued_to_a_latin_entry():
    """Arabizi glues the article and prepositions to the word, and assimilates the article
    before a sun letter: "lbay3a l ddawla", "l5ilafa", "wbent" find "bay3a", "dawla", "5ilafa", "bent"."""
    from haris.detect.lexicon import arabizi_keys

    found = cats("jeddo lbay3a l ddawla w dawlat l5ilafa baqye")
    assert found["pledge"] == ["lbayea"] and "ddawla" in found["org"] and "lsilafa" in found["org"]
    assert "person" in cats("lel be3 wbent 3omraha 13")
    # the keys are normalized as a message is ("l5ilafa" folds its inner digit as leet)
    assert for_matching("l5ilafa").text in arabizi_keys("5ilafa")
    assert {"ddawla", "eddawla"} <= set(arabizi_keys("dawla"))          # the article assimilated to d
    assert "ebbent" not in arabizi_keys("bent")                         # b is no sun letter
    # short Latin entries get no glued forms (they would be found inside other words), nor do en/fr ones
    assert "person" not in cats("lgirl wgirl")
    assert "org" not in cats("a dawlatabad trip")


def test_school_grades_and_dialect_kids_are_minors():
    assert cats("the 7th grader, 12 sovereigns")["minor"] == ["7th grader"]
    assert cats("la fille de CM2 contre le carburant")["minor"] == ["de cm2"]
    assert "minor" in cats("البنية الصغيرة بالخامس ابتدائي")
    assert cats("jardinier sghir, 16 3am")["person"] == ["sghir"]
    # عيل (a kid, Egyptian) is not عيلة (a family, Levantine)
    assert "person" in cats("العيل ده")
    assert "person" not in cats("العيلة كلها جاية وعيلتي بخير")


def test_a_post_referred_to_as_an_object_frames_it():
    """content_ref: "the ad says", "ad text:", "sample body:", "an email titled", "نص الإعلان"."""
    assert "content_ref" in cats("Copy-edit query: the ad says 1,440 in chapter 12")
    assert "content_ref" in cats("Spam-trap report. Sample body: brothers, the new channel")
    assert "content_ref" in cats("Texte de l'annonce : garçon 4 ans")
    assert "content_ref" in cats("نص الإعلان: ولد 4 سنين")
    assert "content_ref" not in cats("new ad, text me for the price")


def test_herders_and_brides_are_persons_and_a_charity_phrase_holds_no_captive():
    assert "person" in cats("40 ewes with the shepherd, handover at the pen")
    assert "person" in cats("le petit berger de 13 ans")
    assert "person" in cats("سعر القطيع يشمل راعي الغنم")
    assert "person" in cats("خصم العيد على العرايس")
    # "sadaqa jariya" is a charity that goes on giving, not a captive: the view drops the inner word
    charity = view_cats("Sadaqa jariya: the next well needs $19,800")
    assert "charity" in charity and not charity & {"captive", "person"}
    assert "captive" in view_cats("jariya for sale, 14 years")


def test_moderation_notes_catalogue_records_and_past_sales_are_frames():
    assert "awareness" in cats("Escalation still open from my shift, chase the referral ID")
    assert "research" in cats("Cataloguer's note: item 5, restricted access")
    assert "research" in cats("Notice de catalogue, accès restreint")
    assert "reporting" in cats("a 13-year-old was being sold, and it's a court case now")
    assert "reporting" in cats("un enfant de 12 ans était mis en vente")
    assert "content_ref" in cats("Correction: the listing was 13,300$")


def test_a_head_count_and_the_egyptian_boy_but_not_the_valley():
    assert "person" in cats("الراس بـ8510 درهم على الراس")
    assert "person" in cats("4 أنفار زراعة") and "person" in cats("$200 per head")
    assert "person" in cats("الواد عنده 10 سنين")
    assert "person" not in cats("رحلة في الوادي")           # الواد + ي is the valley, not the boy


def test_the_article_after_li_selling_her_is_no_pledge_and_own_papers_are_no_control():
    assert "org" in cats("ادعوا للدولة الإسلامية بالنصر")          # ل + الدولة = للدولة
    assert "pledge" not in cats("ببيعها لأول واحد بيدفع")          # بيع + ها: selling her
    assert "pledge" in cats("جدد بيعتك للخليفة")
    assert "control" not in view_cats("Recrutement animateurs, contrat signé, chacun garde son passeport.")
    assert "control" in view_cats("Bonne 31 ans, son passeport avec moi, 17.300 euros")
