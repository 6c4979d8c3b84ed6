"""Bad input and adversaries: no crash, bounded work, obfuscation still caught."""
from __future__ import annotations

import pytest

from haris.detect.features import view_of
from haris.text.analysis import analyse_text


@pytest.mark.parametrize("text", ["", " ", "\n\n", "😀😀😀🔥", "\u200b\u200c\u200d", "1234567890", "؟؟؟!!!",
                                  "\x00\x01\x02", "🏴" * 50, "ـــــ"])
def test_odd_input_gives_no_signal_and_no_crash(scan, text):
    sigs = scan(text)
    assert all(s.score < 0.5 for s in sigs.values())


def test_megabyte_message_is_bounded_and_still_detected(detectors):
    filler = "lorem ipsum dolor sit amet " * 40_000            # ~1 MB of noise
    text = "For sale: girl, 12 years old, $12,500, delivery soon. " + filler
    analysed = analyse_text(text, lang="en")
    v = view_of(analysed)
    assert len(v.hits) < 200                                   # head and tail only, capped
    sigs = {s.policy: s for d in detectors for s in d.detect(analysed)}
    assert sigs["trafficking"].score >= 0.5
    assert all(e.end <= len(text) for e in sigs["trafficking"].evidence if e.end is not None)


def test_megabyte_of_cue_words_is_capped(detectors):
    text = "girl for sale $100 " * 60_000
    analysed = analyse_text(text[:200_000], lang="en")
    sigs = [s for d in detectors for s in d.detect(analysed)]
    assert len(sigs) == 1 and len(sigs[0].evidence) <= 40


@pytest.mark.parametrize("text", [
    "fоr sаlе: gіrl 12, $9,000, dеlіvеrу soon",                 # Cyrillic look-alikes
    "f.o.r s.a.l.e g.i.r.l 12 yrs $9k",                          # dotted letters
    "4 s4le: g1rl 12 y/o, pr1ce $9000, d3l1very s00n",          # leetspeak
    "for\u200b sa\u200cle: gi\u200drl 12, $9,000",               # zero-width characters
    "ل ل ب ي ع: بـنـت عمرها ١٢ سنة، ٩٠٠٠ دولار",                   # spaced letters, tatweel, Eastern digits
    "👧 12 💵 9000$ 🚚 soon, DM",                                  # emoji stand-ins
    "for sale 🔥 بنت 12 سنة $9000 DM",                            # mixed scripts
])
def test_obfuscated_offers_are_detected(flagged, text):
    assert "trafficking" in flagged(text)


@pytest.mark.parametrize("text", [
    "N3w ch4nn3l of the D4wla 👉 t.me/example_x, spread it brothers",
    "B.a.q.i.y.a 🏴 the Khilafa remains",
    "ا ل خ ل ا ف ة باقية، انشروا الرابط الجديد t.me/example_y",
])
def test_obfuscated_propaganda_is_detected(flagged, text):
    assert "terrorism" in flagged(text)
