"""Rule packs as data: per-language lexicons, and one multi-pattern matcher over all of them.

The lexicons live in ``data/lexicons/<lang>/*.yaml`` (plus ``common/`` for emoji), one file per
concern, each mapping a category of ``data/lexicons/categories.yaml`` to its entries. Every entry
is turned into a *matching key* with :func:`haris.text.normalize.for_matching`, the same function
that produces the message's matching text, so "À vendre", "a v e n d r e" and "à vеndrе" (with
Cyrillic е) all meet the entry ``a vendre``.

All keys of all languages go into ONE Aho-Corasick automaton (pyahocorasick), built once per
process: one pass over a message finds every entry of every language, which is what mixed posts
("for sale 🔥 بنت … DM", Arabizi inside English) need. Each raw match is then checked for word
boundaries:

- Latin (and other) entries match whole words; a plural "s" may follow ("girl" → "girls"), and an
  entry written with a final ``*`` matches any word ending ("captive*").
- Arabic-script entries may carry the usual proclitics in front (و ف ب ل ك س ال لل وال بال...) and a
  short pronoun or plural ending after (ها هم هن ات ين ...), so "بيع" matches "للبيع" and "بيعها";
  an entry ending in ة (ه after folding) also matches its ت form before an ending ("سبيتين").
- Entries that begin or end with a non-word character (emoji, "/hour") need no boundary there.
- An entry may list whole words that contain it but are other words (``not_in``): "بكر" (a
  virgin) is not found in "بكره" (tomorrow), nor "بايع" (pledged) in "البايع" (the seller).

>>> lex = default_lexicon()
>>> sorted({h.category for h in lex.match("for sale: girl, delivery soon")})
['logistics', 'offer', 'person']
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from haris.errors import ConfigError
from haris.text.normalize import for_matching

LEXICON_DIR = Path(__file__).parent / "data" / "lexicons"
ATTRIBUTES = frozenset({"gender", "minor", "plural", "pronoun", "value", "not_in"})

# Arabic clitics. Proclitics: conjunctions, prepositions, the article and their combinations.
_PROCLITICS = frozenset("و ف ب ل ك س ال لل وال فال بال كال ولل فلل وب ول وك فب فل فك وس فس".split())
# Letters of pronoun and plural endings (ه ها هم هن ك كم ي ني نا ات ين ون ان تين ...).
_SUFFIX_LETTERS = frozenset("اهمنكيوت")
# ...except the nisba ending (ملك → ملكيه "ownership" is another word).
_NOT_SUFFIXES = frozenset({"يه", "يات", "يين"})
_IMPERFECT_PREFIXES = frozenset("يتنا")
_MAX_PROCLITIC = 3
# Arabizi writes the same clitics glued to a Latin word: "lbay3a", "l5ilafa", "wbent", "fdawla",
# and the article assimilated before a sun letter: "ddawla", "eddawla", "ssabiya". Latin entries
# of the Arabic lexicon are also registered with these in front (their keys normalized as the
# message is, so "l5ilafa" finds "5ilafa" even though its inner digit is folded as leet).
_ARABIZI_PROCLITICS = ("l", "el", "al", "w", "wl", "wel", "b", "bl", "bel", "f", "fl", "fel", "lel", "lil")
_SUN_LETTERS = frozenset("tdrzsnl")
_MIN_ARABIZI_KEY = 4   # short entries glued to a letter would be found inside other words
_MAX_SUFFIX = 3
MAX_HITS = 4000  # per message; a megabyte of spam cannot make the detectors quadratic


def _is_arabic(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\u08a0" <= ch <= "\u08ff"


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry: a term of a category, as written and as matched."""

    category: str
    term: str                  # as written in the YAML file
    lang: str                  # the file's language ("common" for emoji)
    key: str                   # the matching key (for_matching(term), "*" removed)
    prefix: bool = False       # "*": any word ending
    arabic: bool = False       # Arabic-script entry: clitics allowed around it
    needs_suffix: bool = False  # the ت form of a final ة: only before an ending
    attrs: tuple[tuple[str, Any], ...] = ()
    not_in: frozenset[str] = frozenset()   # whole words (matching keys) that contain the entry but are others

    def attr(self, name: str, default: Any = None) -> Any:
        for k, v in self.attrs:
            if k == name:
                return v
        return default


@dataclass(slots=True)
class Hit:
    """An entry found in a matching text; ``start``/``end`` are offsets in that text."""

    entry: Entry
    start: int
    end: int
    plural_s: bool = False  # matched with an added plural "s"

    @property
    def category(self) -> str:
        return self.entry.category


@dataclass(slots=True)
class Category:
    name: str
    policy: str
    about: str


@dataclass(slots=True)
class Lexicon:
    """All entries of all languages and the automaton that finds them."""

    categories: dict[str, Category]
    entries: list[Entry]
    false_friends: dict[str, frozenset[str]] = field(default_factory=dict)
    _automaton: Any = field(default=None, repr=False)
    _glued: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        by_key: dict[str, list[Entry]] = defaultdict(list)
        for e in self.entries:
            by_key[e.key].append(e)
        auto = ahocorasick.Automaton()
        for key, entries in by_key.items():
            auto.add_word(key, tuple(entries))
        auto.make_automaton()
        self._automaton = auto

    @classmethod
    def load(cls, directory: Path = LEXICON_DIR) -> "Lexicon":
        """Read categories.yaml and every ``<lang>/*.yaml`` under ``directory``."""
        categories = _load_categories(directory / "categories.yaml")
        entries: dict[tuple[str, str, bool], Entry] = {}
        friends: dict[str, frozenset[str]] = {}
        files = sorted(p for p in directory.glob("*/*.yaml"))
        if not files:
            raise ConfigError(f"{directory}: no lexicon files (expected <lang>/<name>.yaml)")
        for path in files:
            if path.name == "false_friends.yaml":
                friends[path.parent.name] = _load_false_friends(path)
                continue
            for e in _load_file(path, categories):
                entries.setdefault((e.category, e.key, e.needs_suffix), e)
        return cls(categories, list(entries.values()), friends)

    def drop_false_friends(self, hits: list[Hit], text: str, lang: str) -> list[Hit]:
        """Hits of other languages' entries on everyday words of ``lang`` are dropped.

        In a French message "son" is "his", not the English "son"; "car" is "because".
        """
        words = self.false_friends.get(lang)
        if not words:
            return hits
        return [h for h in hits if h.entry.lang in (lang, "common") or text[h.start:h.end] not in words]

    def match_glued(self, token: str, offset: int) -> list[Hit]:
        """Entries inside one word that normalization glued together from spaced or dotted letters.

        "s.a.l.e g.i.r.l" normalizes to "salegirl": the word boundaries are gone, so keys are
        looked for anywhere inside the token, spaces removed, at least 4 letters long.
        """
        if self._glued is None:
            auto = ahocorasick.Automaton()
            by_key: dict[str, list[Entry]] = defaultdict(list)
            for e in self.entries:
                k = e.key.replace(" ", "")
                if len(k) >= 4 and k.isalnum() and not e.needs_suffix and not e.attr("pronoun"):
                    by_key[k].append(e)
            for k, es in by_key.items():
                auto.add_word(k, tuple(es))
            auto.make_automaton()
            self._glued = auto
        out = []
        for last, entries in self._glued.iter(token):
            for e in entries:
                n = len(e.key.replace(" ", ""))
                out.append(Hit(e, offset + last + 1 - n, offset + last + 1))
        return out

    def languages(self) -> list[str]:
        return sorted({e.lang for e in self.entries})

    def match(self, text: str, *, max_hits: int = MAX_HITS) -> list[Hit]:
        """Every entry found in ``text`` (a matching text), whole words only, sorted by position.

        Overlapping hits of the same category keep the longest (``for sale`` over ``sale``).
        """
        if not text:
            return []
        raw: list[Hit] = []
        n = len(text)
        for last, entries in self._automaton.iter(text):
            end = last + 1
            for e in entries:
                start = end - len(e.key)
                hit = _check(text, n, start, end, e)
                if hit is not None:
                    raw.append(hit)
            if len(raw) >= max_hits:
                break
        raw.sort(key=lambda h: (h.start, h.start - h.end))
        kept: list[Hit] = []
        last_end: dict[str, int] = {}
        for h in raw:
            if h.start < last_end.get(h.entry.category, -1):
                continue
            last_end[h.entry.category] = h.end
            kept.append(h)
        return kept


def _check(text: str, n: int, start: int, end: int, e: Entry) -> Hit | None:
    """The hit if [start, end) stands as a word (with clitics for Arabic), else None."""
    key = e.key
    # left edge
    if key[0].isalnum() and start > 0 and text[start - 1].isalnum():
        if not e.arabic:
            return None
        p = start - 1
        while p > 0 and text[p - 1].isalnum() and start - p < _MAX_PROCLITIC:
            p -= 1
        clitic = text[p:start]
        if (p > 0 and text[p - 1].isalnum()) or clitic not in _PROCLITICS:
            return None
        if clitic[-1] == "س" and key[0] not in _IMPERFECT_PREFIXES:
            return None  # the future prefix س only goes before a verb (سنهاجم), not سريع → ريع
    # right edge
    plural_s = False
    if key[-1].isalnum() and end < n and text[end].isalnum():
        if e.prefix:
            pass
        elif e.arabic:
            q = end
            while q < n and text[q].isalnum():
                if q - end >= _MAX_SUFFIX or text[q] not in _SUFFIX_LETTERS:
                    return None
                q += 1
            if text[end:q] in _NOT_SUFFIXES:
                return None
            if key[-1] == "ي" and text[end] == "ن":
                return None  # a dual or plural stem, not "my X": بنتين is two girls, not بنتي + ن
            end = q  # the hit covers the ending ("بنتها"), so what follows it is what follows the word
        elif text[end] == "s" and (end + 1 == n or not text[end + 1].isalnum()):
            plural_s = True
            end += 1
        else:
            return None
    elif e.needs_suffix:
        return None
    if e.not_in:
        ws, we = start, end
        while ws > 0 and text[ws - 1].isalnum():
            ws -= 1
        while we < n and text[we].isalnum():
            we += 1
        if text[ws:we] in e.not_in or text[start:we] in e.not_in:   # also behind a proclitic (وعيلتي)
            return None
    return Hit(e, start, end, plural_s)


def _load_categories(path: Path) -> dict[str, Category]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the category list: {exc}") from None
    cats = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(cats, dict) or not cats:
        raise ConfigError(f"{path}: expected a mapping 'categories: {{name: {{policy, about}}}}'")
    out = {}
    for name, spec in cats.items():
        if not isinstance(spec, dict) or spec.get("policy") not in ("trafficking", "terrorism", "both"):
            raise ConfigError(f"{path}: category {name!r} needs policy trafficking, terrorism or both")
        out[name] = Category(name, spec["policy"], str(spec.get("about", "")))
    return out


def _load_false_friends(path: Path) -> frozenset[str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    words = data.get("false_friends") if isinstance(data, dict) else None
    if not isinstance(words, list):
        raise ConfigError(f"{path}: expected 'lang: xx' and 'false_friends: [word, ...]'")
    return frozenset(for_matching(str(w)).text for w in words if str(w).strip())


def _load_file(path: Path, categories: dict[str, Category]) -> list[Entry]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise ConfigError(f"{path}: expected 'lang: xx' and 'categories: {{name: [entries]}}'")
    lang = str(data.get("lang") or path.parent.name)
    if lang != path.parent.name:
        raise ConfigError(f"{path}: lang {lang!r} does not match its folder {path.parent.name!r}")
    out: list[Entry] = []
    for cat, items in data["categories"].items():
        if cat not in categories:
            raise ConfigError(f"{path}: unknown category {cat!r}; declare it in categories.yaml")
        if not isinstance(items, list):
            raise ConfigError(f"{path}: category {cat!r} must be a list of entries")
        for item in items:
            out.extend(_entries(path, cat, lang, item))
    return out


def _entries(path: Path, cat: str, lang: str, item: Any) -> list[Entry]:
    if isinstance(item, dict):
        term = item.get("term")
        attrs = {k: v for k, v in item.items() if k != "term"}
        unknown = set(attrs) - ATTRIBUTES
        if unknown:
            raise ConfigError(f"{path}: entry {term!r} has unknown attributes {sorted(unknown)}")
    else:
        term, attrs = item, {}
    if not isinstance(term, (str, int)) or not str(term).strip():
        raise ConfigError(f"{path}: category {cat!r} has an empty or invalid entry {item!r}")
    term = str(term).strip()
    prefix = term.endswith("*")
    bare = term.rstrip("*").strip()
    key = for_matching(bare).text
    if not key:
        raise ConfigError(f"{path}: entry {term!r} is empty after normalization")
    arabic = _is_arabic(key[0]) or _is_arabic(key[-1])
    not_in = attrs.pop("not_in", None) or []
    if not isinstance(not_in, list):
        raise ConfigError(f"{path}: entry {term!r}: not_in must be a list of words")
    others = frozenset(for_matching(str(w)).text for w in not_in)
    frozen = tuple(sorted(attrs.items()))
    forms = [key]
    # "الدولة الإسلامية" after the preposition ل is written "للدولة الإسلامية": the article's alif goes
    if arabic and key.startswith("ال") and len(key) > 4 and " " in key:
        forms.append("لل" + key[2:])
    entries = []
    for form in forms:
        entries.append(Entry(cat, term, lang, form, prefix, arabic, False, frozen, others))
        if arabic and form.endswith("ه") and len(form) > 2 and not prefix:
            entries.append(Entry(cat, term, lang, form[:-1] + "ت", False, True, True, frozen, others))
    if lang == "ar" and not arabic and len(key) >= _MIN_ARABIZI_KEY and key[0].isalnum() and key.isascii():
        entries.extend(Entry(cat, term, lang, k, prefix, False, False, frozen, others)
                       for k in arabizi_keys(bare) if k != key)
    return entries


def arabizi_keys(term: str) -> list[str]:
    """The matching keys of an Arabizi term with its clitics glued on: "dawla" → "ldawla", "ddawla"…"""
    glued = [c + term for c in _ARABIZI_PROCLITICS]
    if term[0].lower() in _SUN_LETTERS:
        glued += [term[0] + term, "e" + term[0] + term, "a" + term[0] + term]
    return list(dict.fromkeys(for_matching(g).text for g in glued))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The shipped lexicons, loaded and compiled once per process."""
    return Lexicon.load()
