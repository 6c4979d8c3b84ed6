"""Tests for haris.text.normalize: every rule, the offset map, idempotence and robustness."""
from __future__ import annotations

import random

import pytest

from haris.errors import ConfigError
from haris.text import normalize as nz
from haris.text.normalize import NormalizedText, clean, for_matching, load_table, normalize


def m(text: str) -> str:
    return for_matching(text).text


def c(text: str) -> str:
    return clean(text).text


# ---------------------------------------------------------------- clean level

@pytest.mark.parametrize("char", [
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d",
    "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff", "\u00ad", "\u061c", "\u2060",
])
def test_clean_removes_invisible_and_bidi_characters(char):
    assert c(f"for{char}sale") == "forsale"
    assert c(f"لل{char}بيع") == "للبيع"


def test_clean_removes_harakat_quranic_marks_and_tatweel():
    assert c("مُحَمَّدٌ") == "محمد"
    assert c("بـــيـــع") == "بيع"
    assert c("الرَّحْمَٰنِ") == "الرحمن"  # superscript alef U+0670
    assert c("عَلَيْهِۖ") == "عليه"  # Quranic small high ligature U+06D6


def test_clean_converts_eastern_arabic_and_persian_digits_and_separators():
    assert c("العمر ١٢ سنة") == "العمر 12 سنة"
    assert c("قیمت ۳۷۰۰ دلار") == "قیمت 3700 دلار"
    assert c("١٢٬٥٠٠ دولار") == "12,500 دولار"
    assert c("٣٫٥ مليون") == "3.5 مليون"


def test_clean_keeps_case_digits_and_letter_variants():
    assert c("For SALE: 12 years, $12,500") == "For SALE: 12 years, $12,500"
    assert c("إلى مدرسة") == "إلى مدرسة"
    assert c("s4le À vendre") == "s4le À vendre"


def test_clean_applies_nfkc_and_collapses_whitespace():
    assert c("Ｖｅｎｔｅ\u00a0\u00a0enfant\t\n 𝟏𝟐 ans ") == "Vente enfant 12 ans"
    assert c("ﻻ") == "لا"
    assert c("1️⃣2️⃣ سنة") == "12 سنة"  # keycap emoji digits


# ---------------------------------------------------------------- match level: letters

@pytest.mark.parametrize("variant, base", [
    ("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ى", "ي"), ("ة", "ه"), ("ؤ", "و"),
    ("ئ", "ي"), ("ک", "ك"), ("ی", "ي"),
])
def test_match_unifies_arabic_letter_variants(variant, base):
    assert m(variant) == base


def test_match_arabic_sentences():
    assert m("إلى المدرسة") == "الي المدرسه"
    assert m("أطفال للبيع") == m("اطفال للبيع")
    assert m("مسؤول") == m("مسوول")


def test_match_casefolds_and_folds_accents():
    assert m("À VENDRE") == "a vendre"
    assert m("Bébé, fillette, garçon") == "bebe, fillette, garcon"
    assert m("Straße") == "strasse"
    assert m("Sœur") == "soeur"


@pytest.mark.parametrize("text", [
    "ѕаlе",  # Cyrillic dze, a, ie
    "sаle",  # one Cyrillic a
    "ѕαlε",  # Greek alpha, epsilon
    "ＳＡＬＥ",  # full width
    "𝐬𝐚𝐥𝐞",  # mathematical bold
    "𝓼𝓪𝓵𝓮",  # mathematical script
    "ⓢⓐⓛⓔ",  # circled
    "🅢🅐🅛🅔",  # negative circled
    "🆂🅰🅻🅴",  # negative squared
    "🇸🇦🇱🇪",  # regional indicators
    "SALE",
])
def test_match_folds_look_alike_letters_to_latin(text):
    assert m(text) == "sale"


def test_match_folds_typographic_punctuation():
    assert m("l’enfant") == "l'enfant"
    assert m("«vente»") == '"vente"'
    assert m("12–15 ans") == "12-15 ans"


# ---------------------------------------------------------------- leetspeak

@pytest.mark.parametrize("text, expected", [
    ("s4le", "sale"), ("s3x", "sex"), ("ch!ld", "child"), ("ch1ld", "child"), ("h0t", "hot"),
    ("g1rl", "girl"), ("s@le", "sale"), ("pu$$y", "pussy"), ("k1ll", "kill"), ("c00l", "cool"),
    ("v3nte", "vente"), ("3nf4nt", "3nfant"),  # leading digit: no letter before it
    # a digit ending a word is leet when the word has leet inside
    ("h1jr4", "hijra"), ("s4l3!", "sale!"), ("r3st4nt3", "restante"),
])
def test_match_folds_leetspeak_inside_words(text, expected):
    assert m(text) == expected


@pytest.mark.parametrize("text", [
    "12", "$12,500", "5k", "2024", "12yo", "covid19", "3ans", "+1 555 0123", "mp3", "7h30",
    "a123b", "sale!", "@user_name", "u18", "i7", "area51", "channel2",
])
def test_match_leaves_numbers_and_edges_alone(text):
    assert m(text) == text.casefold()


@pytest.mark.parametrize("text", ["3ala", "7abibi", "ma3a", "ba3d", "sa2al", "5alas", "2awal", "b2b"])
def test_match_leaves_arabizi_words_alone(text):
    assert m(text) == text


def test_match_leaves_urls_and_email_addresses_alone():
    assert m("mail user@example.com or em@il") == "mail user@example.com or email"
    assert m("https://example.com/s4le") == "https://example.com/s4le"
    assert m("www.ex4mple.com") == "ww.ex4mple.com"  # www squeezed like any letter run, not leet


# ---------------------------------------------------------------- spacing and repeats

@pytest.mark.parametrize("text, expected", [
    ("f o r s a l e", "forsale"),
    ("f o r  s a l e", "for sale"),  # a double space keeps the word boundary
    ("s.a.l.e", "sale"), ("s-a-l-e", "sale"), ("s_a_l_e", "sale"), ("s . a . l . e", "sale"),
    ("v e n t e  e n f a n t", "vente enfant"),
    ("ل ل ب ي ع", "للبيع"), ("ب.ن.ت", "بنت"),
    ("girl f o r s a l e now", "girl forsale now"),
])
def test_match_rejoins_spaced_out_letters(text, expected):
    assert m(text) == expected


@pytest.mark.parametrize("text", ["il y a", "a b", "U.S", "x 2 y 3", "ab cd ef"])
def test_match_keeps_ordinary_short_words(text):
    assert m(text) == text.casefold()


@pytest.mark.parametrize("text, expected", [
    ("sooooo cute", "soo cute"), ("hiiiii", "hii"), ("cool", "cool"), ("trooop", "troop"),
    ("تعاااال", "تعال"), ("جميييييل", "جميل"), ("للبيع", "للبيع"),
    ("!!!!", "!!!!"), ("1000000", "1000000"),
])
def test_match_squeezes_repeated_letters(text, expected):
    assert m(text) == expected


def test_match_combined_obfuscation():
    assert m("F O R  S A L E: g1rl, 12 yo, $12,500 ✅") == "for sale: girl, 12 yo, $12,500 ✅"
    assert m("بـنـت  ل ل ب ي ع  ١٢ سنة") == "بنت للبيع 12 سنه"


# ---------------------------------------------------------------- API

def test_levels_and_aliases():
    assert clean("À vendre").level == "clean"
    assert normalize("À vendre").text == for_matching("À vendre").text == "a vendre"
    assert normalize("À vendre", "clean").text == "À vendre"
    with pytest.raises(ValueError, match="level"):
        normalize("x", "loose")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        normalize(b"bytes")  # type: ignore[arg-type]


def test_hand_built_instance_maps_only_identity():
    assert NormalizedText("abc", "abc").to_original(1, 2) == (1, 2)
    with pytest.raises(ValueError, match="normalize"):
        NormalizedText("Abc", "abc").to_original(0, 1)


# ---------------------------------------------------------------- offsets

def mapped(n: NormalizedText, needle: str) -> str:
    start = n.text.index(needle)
    a, b = n.to_original(start, start + len(needle))
    return n.original[a:b]


def test_offsets_across_removals_and_nfkc_expansions():
    n = for_matching("قال ﷺ: لا تبيعوا الأطـفـال")
    assert mapped(n, "صلي الله عليه وسلم") == "ﷺ"
    assert mapped(n, "الله") == "ﷺ"  # part of an expansion maps to the whole source character
    assert mapped(n, "الاطفال") == "الأطـفـال"
    n = clean("ﻻ\u200bبيع")
    assert n.text == "لابيع"
    assert n.to_original(0, 1) == (0, 1) and n.to_original(1, 2) == (0, 1)
    assert n.to_original(2, 5) == (2, 5)


def test_offsets_of_rejoined_and_folded_words():
    n = for_matching("Girl f o r  s a l e, s4le, ch!ld, sooooo, زو\u200cج")
    assert mapped(n, "for") == "f o r"
    assert mapped(n, "sale,") == "s a l e,"
    assert mapped(n, "sale, child") == "s4le, ch!ld"
    assert mapped(n, "soo") == "sooooo"
    assert mapped(n, "زوج") == "زو\u200cج"
    a, b = n.to_original(n.text.index("l"), n.text.index("l") + 1)  # one letter of "girl"
    assert n.original[a:b] == "l"


def test_offsets_of_collapsed_whitespace_and_empty_spans():
    n = clean("  a \t\n b  ")
    assert n.text == "a b"
    assert n.to_original(1, 2) == (3, 7)  # the space stands for the whole whitespace run
    assert n.to_original(0, 0) == (2, 2)
    assert n.to_original(3, 3) == (8, 8)
    with pytest.raises(ValueError):
        n.to_original(2, 4)
    with pytest.raises(ValueError):
        n.to_original(2, 1)


def random_unicode(rng: random.Random, length: int) -> str:
    out = []
    for _ in range(length):
        r = rng.random()
        if r < 0.3:
            out.append(rng.choice(" .-_*|!@$0134579 \t\nabcdeoslx"))
        elif r < 0.45:
            out.append(rng.choice("ابتثجحةىأإآئؤـًٌٍَُِّ ٠١٢٣ ﻻﷺ\u200b\u200d\u202e"))
        elif r < 0.75:
            out.append(chr(rng.randrange(0x20, 0x3000)))
        else:
            out.append(chr(rng.randrange(0x20, 0x110000)))
    return "".join(out)


@pytest.mark.parametrize("level", ["clean", "match"])
def test_random_unicode_never_raises_and_offsets_are_monotonic(level):
    rng = random.Random(20240501)
    for _ in range(400):
        text = random_unicode(rng, rng.randint(0, 40))
        n = normalize(text, level)
        prev = (0, 0)
        for i in range(len(n.text)):
            a, b = n.to_original(i, i + 1)
            assert 0 <= a < b <= len(text)
            assert a >= prev[0] and b >= prev[1]
            prev = (a, b)


def test_random_spans_at_clean_level_map_back_to_text_that_normalizes_the_same():
    rng = random.Random(7)
    for _ in range(300):
        text = random_unicode(rng, rng.randint(1, 40))
        n = clean(text)
        if not n.text:
            continue
        for _ in range(5):
            s = rng.randrange(len(n.text))
            e = rng.randint(s + 1, len(n.text))
            a, b = n.to_original(s, e)
            assert n.text[s:e].strip() in clean(text[a:b]).text


def test_random_spans_at_match_level_over_words():
    # Leet, squeezing and rejoining depend on the neighbouring letters, so spans are drawn over
    # whole words here; the other match rules are per character.
    rng = random.Random(11)
    words = ["Bébé", "À", "VENDRE", "ѕаlе", "أطفال", "مدرسة", "ﻻ", "ﷺ", "s4le", "ch!ld", "١٢",
             "Ｇｉｒｌ", "l’enfant", "بـيـع", "مُحَمَّد", "sooooo", "تعاااال", "🅰🅱", "f o r", "ma3a"]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
        n = for_matching(text)
        tokens = n.text.split(" ")
        i = rng.randrange(len(tokens))
        j = rng.randint(i + 1, len(tokens))
        start = len(" ".join(tokens[:i])) + (1 if i else 0)
        piece = " ".join(tokens[i:j])
        a, b = n.to_original(start, start + len(piece))
        assert piece in for_matching(text[a:b]).text


def test_lazy_offset_map_replays_exactly_the_same_text():
    rng = random.Random(3)
    for _ in range(300):
        text = random_unicode(rng, rng.randint(0, 60))
        for level in ("clean", "match"):
            n = normalize(text, level)
            spans = nz._offset_map(n)  # raises if the replay differs from n.text
            assert len(spans[0]) == len(spans[1]) == len(n.text)
            for step in nz._MATCH_STEPS if level == "match" else nz._CLEAN_STEPS:
                out, a_list, b_list = step.tracked(text)
                assert out == step.apply(text)
                assert len(a_list) == len(b_list) == len(out)
                text = out


# ---------------------------------------------------------------- idempotence and robustness

@pytest.mark.parametrize("text", [
    "F O R  S A L E: g1rl 12yo", "x  y  z", "a b  c", "a.b  c d e", "ععع ب ت", "so0o",
    "İstanbul ΐ", "ل ل  ب ي ع", "s o o o o", "ﷺ ﻻ",
])
def test_match_is_idempotent_on_tricky_cases(text):
    once = m(text)
    assert m(once) == once


def test_match_is_idempotent_on_random_unicode():
    rng = random.Random(99)
    for _ in range(1000):
        once = m(random_unicode(rng, rng.randint(0, 40)))
        assert m(once) == once


def test_empty_and_emoji_only_inputs():
    for level in ("clean", "match"):
        n = normalize("", level)
        assert n.text == "" and n.to_original(0, 0) == (0, 0)
    assert m("😀🔥👍") == "😀🔥👍"
    assert m("\u200b\u200f") == ""


def test_one_megabyte_input_is_processed_in_one_pass():
    unit = "Girl f o r s a l e s4le ١٢ سنة تعاااال ﻻ ch!ld $12,500 مُحَمَّد\u200b ok. "
    text = unit * (1_000_000 // len(unit) + 1)
    for level in ("clean", "match"):
        n = normalize(text, level)
        assert 0.8 * len(text) <= len(n.text) <= 1.1 * len(text)
    n = for_matching(text)
    assert n.text.count("forsale") == n.text.count("girl")
    assert n.to_original(len(n.text) - 3, len(n.text)) == (len(text) - 4, len(text) - 1)


# ---------------------------------------------------------------- data files

def test_table_loader_reports_file_and_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# comment\nU+0041\ta\tok\nU+XYZ\tb\tbroken\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.tsv:3"):
        load_table(bad)
    dup = tmp_path / "dup.tsv"
    dup.write_text("a\tb\nU+0061\tc\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="twice"):
        load_table(dup)
    ok = tmp_path / "ok.tsv"
    ok.write_text("U+0660..U+0662\tseq:0\tdigits\nx\t-\tdelete\n9\tKEEP\n", encoding="utf-8")
    table, keep = load_table(ok)
    assert table == {0x660: "0", 0x661: "1", 0x662: "2", ord("x"): None} and keep == {ord("9")}


@pytest.mark.parametrize("text", [
    "FOR SALE girl 12", "ÉCOLE À VENDRE ﬁn", "s.a.l.e G1RL ２０ $", "İstanbul ß ﬀ", "Ａｂｃ\u200b d",
    "ΣΊΣΥΦΟΣ", "لـلـبـيـع بنت ١٢", "e\u0301cole  \t NEW",
])
def test_one_to_one_shortcut_gives_the_same_offset_map_as_replaying_every_character(text, monkeypatch):
    from haris.text import normalize as nz

    nt = nz.normalize(text)
    fast = nz._offset_map(nt)
    for step in (nz._Casefold, nz._Translate):
        monkeypatch.setattr(step, "one_to_one", lambda self, s: False)
    assert nz._offset_map(nt) == fast


def test_a_table_with_too_many_uneven_keys_for_a_class_never_takes_the_shortcut():
    from haris.text import normalize as nz

    # every other code point deleted: too many ranges for a character class
    step = nz._Translate({cp: None for cp in range(0x4E00, 0x4E00 + 4000, 2)})
    assert step.uneven is None and not step.all_even
    assert step.one_to_one("abc") is False
    assert nz._Translate({ord("a"): "b"}).one_to_one("a\u4e00")     # only even keys: always one to one


@pytest.mark.parametrize("text, same", [
    ("For sale: girl, 12", True), ("FOR SALE Girl", True), ("À VENDRE fille", False), ("للبيع بنت عمرها ١٢", True),
    ("s.a.l.e today", False), ("f o r  s a l e", False), ("sooooo good", False), ("ﬁne ligature", False),
])
def test_offsets_of_a_one_for_one_normalization_need_no_replay(text, same):
    """A text whose every change kept one character for one maps spans without replaying the steps."""
    from haris.text.normalize import _offset_map

    nt = for_matching(text)
    assert nt.same_offsets is same
    starts, ends = _offset_map(nt)
    assert [nt.to_original(i, i + 1) for i in range(len(nt.text))] == list(zip(starts, ends))
