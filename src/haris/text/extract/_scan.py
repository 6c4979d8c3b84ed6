"""One Aho-Corasick pass over the matching key finds every lexicon word and place name.

The hits tell each extractor where to look: prices are only tried where a currency word or sign
is, ages where an age cue, unit or person word is, places are the hits themselves. A message
with none of them costs one pass of C code. The automaton is built once, on first use.

Hits are substring hits: word boundaries are checked by the extractors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import ahocorasick

from haris.text.extract import _lexicon as lex

CURRENCY, NUMBER, AGE, HANDLE_CUE, PLACE = "cur", "num", "age", "hcue", "place"


@dataclass(slots=True)
class Hits:
    """Lexicon hits in one key text, by category, as (start, end, data) in key coordinates."""

    cur: list[tuple[int, int, object]] = field(default_factory=list)
    num: list[tuple[int, int, object]] = field(default_factory=list)
    age: list[tuple[int, int, object]] = field(default_factory=list)
    hcue: list[tuple[int, int, object]] = field(default_factory=list)
    place: list[tuple[int, int, object]] = field(default_factory=list)


def _words_by_category() -> dict[str, dict[str, object]]:
    from haris.text.extract.places import place_keys
    from haris.text.extract.prices import currency_forms
    from haris.text.extract.numbers import multiplier_words, number_words

    # Age words carry their role, so that each age pattern is only tried where it can start.
    age_words: dict[str, object] = {}
    for path, role in (("ages.cues_before", "cue"), ("ages.persons", "person"),
                       ("ages.dual_units", "dual")):
        for w in lex.gather(path):
            age_words.setdefault(w, role)
    for lang in lex.languages().values():
        for group in ("units", "units_strong", "units_weak"):
            for words in (lang.ages.get(group) or {}).values():
                for w in words:
                    age_words.setdefault(w, "unit")
        for w in lang.ordinals:
            age_words.setdefault(w, "ordinal")
    handle_cues: dict[str, object] = {}
    for lang in lex.languages().values():
        for platform, words in lang.handles.items():
            for word in words:
                handle_cues.setdefault(word, platform)
    numbers = {w: None for w in (*number_words(), *multiplier_words()) if len(w) >= 2}
    return {
        CURRENCY: {w: None for w in currency_forms()},
        NUMBER: numbers,
        AGE: {w: role for w, role in age_words.items() if len(w) >= 2},
        HANDLE_CUE: handle_cues,
        PLACE: dict(place_keys()),
    }


_CATEGORIES = (CURRENCY, NUMBER, AGE, HANDLE_CUE, PLACE)  # bucket order in :func:`scan`


@cache
def automaton() -> ahocorasick.Automaton:
    merged: dict[str, list[tuple[int, object]]] = {}
    for category, words in _words_by_category().items():
        index = _CATEGORIES.index(category)
        for word, data in words.items():
            merged.setdefault(word, []).append((index, data))
    auto = ahocorasick.Automaton()
    for word, entries in merged.items():
        auto.add_word(word, (len(word) - 1, tuple(entries)))
    auto.make_automaton()
    return auto


def scan(key: str) -> Hits:
    hits = Hits()
    buckets = (hits.cur, hits.num, hits.age, hits.hcue, hits.place)
    for last, (back, entries) in automaton().iter(key):
        start, end = last - back, last + 1
        for index, data in entries:
            buckets[index].append((start, end, data))
    return hits
