"""Grooming lexicons: one automaton per language, whole-word matching on normalized text."""
from __future__ import annotations

import pytest

from haris.detect.conversation.lexicon import SECTIONS, GroomingLexicon, lexicon_for, supported_languages
from haris.errors import ConfigError
from haris.text.normalize import for_matching


def found(lang: str, text: str) -> list[tuple[str, str]]:
    key = for_matching(text).text
    return [(h.section, key[h.start:h.end]) for h in lexicon_for(lang).match(key)]


def sections(lang: str, text: str) -> set[str]:
    return {s for s, _ in found(lang, text)}


def test_every_product_language_has_a_lexicon_with_every_stage():
    assert {"ar", "en", "fr"} <= set(supported_languages())
    for lang in ("ar", "en", "fr"):
        lex = lexicon_for(lang)
        assert lex.size > 300
        assert lexicon_for(lang) is lex   # built once


@pytest.mark.parametrize("lang,text,section", [
    ("en", "ok but don't tell your parents", "isolation"),
    ("en", "dont tell anyone", "isolation"),
    ("en", "send me a photo just for me", "requests"),
    ("en", "i'll get you a gift card", "compensation"),
    ("en", "i can pick you up after school", "meeting"),
    ("en", "my friends would pay to meet you", "commercial"),
    ("en", "you're so mature for your age", "contact"),
    ("fr", "dis rien à tes parents", "isolation"),
    ("fr", "envoie une photo rien que pour moi", "requests"),
    ("fr", "je passe te prendre après les cours", "meeting"),
    ("fr", "t'es tellement mature pour ton âge", "contact"),
    ("ar", "لا تقولي لأهلك", "isolation"),
    ("ar", "ابعتيلي صورة إلك، إلي بس", "requests"),
    ("ar", "حجزت غرفة بالفندق", "meeting"),
    ("ar", "صحابي بيدفعوا عشان يقعدوا معك", "commercial"),
    ("ar", "ma t2oli la ahlik", "isolation"),          # Arabizi
])
def test_stage_phrases_are_found(lang, text, section):
    assert section in sections(lang, text)


def test_obfuscated_cues_are_found_on_the_normalized_text():
    assert "isolation" in sections("en", "d.e.l.e.t.e this chat")
    assert "isolation" in sections("en", "D0N'T T3LL your mom")
    assert "isolation" in sections("ar", "لـا تـقـولـي لأهلك")         # tatweel
    assert "requests" in sections("fr", "une phоtо rien que pour moi")   # Cyrillic о


def test_matches_are_whole_words():
    assert "meeting" in sections("en", "a room downtown")
    assert "meeting" not in sections("en", "a roomy flat")             # "a room" is not "a roomy"
    assert "meeting" in sections("en", "two hotels nearby")            # "hotel*" may continue
    assert "isolation" not in sections("en", "undeleted thistle")
    assert sections("en", "a discotheque") == set()


def test_arabic_entries_accept_proclitics_and_article():
    assert "meeting" in sections("ar", "رح نروح بالفندق")
    assert "isolation" in sections("ar", "ولا تقولي لحدا")


def test_longer_hits_hide_the_ones_inside_them():
    # the protective phrase contains an isolation cue; only the longer one counts
    got = found("en", "no secrets about online friends ok?")
    assert ("protective", "no secrets about") in got
    assert not any(s == "isolation" for s, _ in got)
    # context cues (whose age is it?) survive inside longer hits
    assert "second_person" in sections("en", "you're the best")


def test_ranges_and_apostrophes_expand():
    assert ("grade", "8th grade") in found("en", "i'm in 8th grade")
    assert ("grade", "u14") in found("en", "the u14 team")
    assert "isolation" in sections("en", "dont tell")


def test_a_bad_lexicon_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown section"):
        GroomingLexicon("xx", {"flirting": ["hi"]}, {})
    with pytest.raises(ConfigError, match="empty"):
        GroomingLexicon("xx", {}, {})
    with pytest.raises(ConfigError, match="no grooming lexicon"):
        lexicon_for("de")


def test_sections_of_the_data_files_are_known():
    for lang in supported_languages():
        lex = lexicon_for(lang)
        assert all(e.section in (*SECTIONS, "number")
                   for entries in lex._automaton.values() for e in entries[1])
