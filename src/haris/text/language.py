"""Language identification for short social-media messages: Arabic, Arabizi, English, French, ...

Decision order (each step is cheaper than the next):

1. No letters → ``und``.
2. Script shares (letters only). Essentially Arabic script (≥ 85 % of letters) → ``ar`` without
   lingua, unless Persian/Urdu-only letters (``data/language/arabic_script_letters.tsv``) make up a
   visible share, in which case lingua decides (its answer is kept if it is ar, fa or ur).
3. Latin words are checked for Arabizi with our own rule (lingua calls Arabizi Swahili or French):
   a word is Arabizi when it is listed in ``arabizi_words.tsv`` or has an Arabizi digit
   (2 3 5 6 7 8 9) next to letters in a word of 3+ letters with a vowel ("3ala", "ma3a", "7abibi",
   "2awal") — but not a number with a unit ("7h", "3rd", "12yo", "3ans", see
   ``number_suffixes.txt``) nor textspeak ("2day"). Score = (strong words + ½ weak words) / words;
   Arabizi when the score is ≥ 0.25 and at least one strong word is present.
4. Otherwise lingua chooses among ``languages.tsv``, in high-accuracy mode (better on short
   messages, which is what haris reads). Set ``HARIS_LANGUAGE_ACCURACY=low`` for lingua's
   low-accuracy mode: about half the time per call and ~35 MB instead of ~400 MB of models, but
   wrong more often on texts of a few words (numbers in the final report of this module's tests).
5. Arabic + Latin script (at least a word of each): shares from the letter counts, the Latin part
   identified by 3-4 (a Latin fragment of one or two words only among the product languages of
   ``languages.tsv``: lingua cannot tell "iPhone pro" from German). ``script`` is "mixed" when
   the smaller script has at least 15 % of the letters. Latin text of two languages (en + fr),
   noticed by the other language's function words (``function_words.tsv``): each clause is
   identified and shares are word counts, when they agree with the whole text.

>>> identify("للبيع سيارة بحالة ممتازة").lang
'ar'
>>> r = identify("yalla habibi, ana 3am estanna")
>>> (r.lang, r.arabizi, r.script)
('ar', True, 'latn')
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from haris.errors import ConfigError
from haris.text.normalize import clean

DATA_DIR = Path(__file__).parent / "data" / "language"

SCRIPT_SHARE = 0.85  # a text is in one script when this share of its letters is
MIXED_SHARE = 0.15  # a second script with at least this share of letters makes the text "mixed"
ARABIZI_SCORE = 0.25
PERSIAN_URDU_SHARE = 0.03  # of Arabic-script letters
MIN_LETTERS = 3  # fewer letters than this in Latin script: "und"
MIN_WORD_LETTERS = 4  # a second script with this many letters gets a share
MAX_CLAUSES = 3  # clause voting costs one lingua call per clause
SHORT_FRAGMENT = 4  # Latin fragments of fewer words in mixed text: only product languages

_LETTER_RUN = re.compile(r"[^\W\d_]+")
_LATIN_WORD = re.compile(r"[a-zA-Z0-9\u00c0-\u024f]+(?:'[a-zA-Z\u00c0-\u024f]+)?")
_CLAUSE = re.compile(r"[^.,;:!?،؛؟\n]+")
_VOWEL = re.compile(r"[aeiouy]")


@dataclass(slots=True)
class LanguageResult:
    lang: str  # "ar", "en", "fr", another ISO 639-1 code, or "und"
    confidence: float  # 0..1
    script: str  # "arab", "latn", "mixed", "other" (another script), "none" (no letters)
    arabizi: bool  # Arabic written in Latin letters and digits
    shares: dict[str, float] = field(default_factory=dict)  # share of each language, sums to 1


def identify(text: str) -> LanguageResult:
    """Identify the language of a short text; see the module docstring for the rules."""
    if not isinstance(text, str):
        raise TypeError(f"identify() needs a str, got {type(text).__name__}")
    s = clean(text).text
    arabic = latin = other = 0
    for word in _LETTER_RUN.findall(s):  # a word's script is its first letter's (fast)
        first = word[0]
        if first < "\u0250" and (first.isascii() or first >= "\u00c0"):
            latin += len(word)
        elif "\u0620" <= first <= "\u06ff" or "\u0750" <= first <= "\u08ff":
            arabic += len(word)
        else:
            other += len(word)
    letters = arabic + latin + other
    if letters == 0:
        return LanguageResult("und", 0.0, "none", False, {"und": 1.0})
    ar_share, la_share, ot_share = arabic / letters, latin / letters, other / letters

    if min(arabic, latin) >= MIN_WORD_LETTERS:  # at least a word of each: shares from both parts
        return _mixed_script(s, ar_share, la_share + ot_share)
    if ar_share >= SCRIPT_SHARE:
        return _arabic_script(s, arabic)
    if la_share >= SCRIPT_SHARE:
        return _latin_script(s)
    if ot_share >= SCRIPT_SHARE or ot_share > max(ar_share, la_share):
        result = _lingua(s)
        result.script = "mixed" if max(ar_share, la_share) >= MIXED_SHARE else "other"
        return result
    return _arabic_script(s, arabic) if ar_share > la_share else _latin_script(s)


# ---------------------------------------------------------------- Arabic script

def _arabic_script(s: str, arabic: int) -> LanguageResult:
    specific = len(_arabic_script_letters().findall(s))
    if specific >= 2 and specific / arabic >= PERSIAN_URDU_SHARE:
        result = _lingua(s)
        if result.lang in ("ar", "fa", "ur"):
            result.script = "arab"
            return result
    # The script decides; very short texts get less confidence.
    confidence = round(min(1.0, 0.5 + arabic / 20), 3)
    return LanguageResult("ar", confidence, "arab", False, {"ar": 1.0})


# ---------------------------------------------------------------- Latin script and Arabizi

def _latin_script(s: str) -> LanguageResult:
    words = [w.casefold() for w in _LATIN_WORD.findall(s)]
    arabizi = _arabizi(words)
    if arabizi is not None:
        return arabizi
    if sum(len(w) for w in _LETTER_RUN.findall(s)) < MIN_LETTERS:
        return LanguageResult("und", 0.0, "latn", False, {"und": 1.0})
    result = _lingua(s)
    result.script = "latn"
    if len(words) >= 6 and _other_function_words(words, result.lang) >= 2:
        _clause_shares(s, result)
    return result


def _other_function_words(words: list[str], lang: str) -> int:
    """How many of ``words`` are function words of a language other than ``lang``."""
    table = _function_words()
    if lang not in table:
        return 0
    return max(sum(1 for w in words if w in fw) for other, fw in table.items() if other != lang)


def _arabizi(words: list[str]) -> LanguageResult | None:
    """An Arabizi result if ``words`` (casefolded Latin words) are Arabizi, else None."""
    words = [w for w in words if not w.isdigit()]  # prices and ages say nothing about language
    if not words:
        return None
    lexicon = _arabizi_words()
    strong = weak = 0
    rest: list[str] = []
    for w in words:
        kind = lexicon.get(w) or _arabizi_shape(w)
        if kind == "strong":
            strong += 1
        elif kind == "weak":
            weak += 1
        else:
            rest.append(w)
    score = (strong + 0.5 * weak) / len(words)
    if strong == 0 or score < ARABIZI_SCORE:
        return None
    ar_share = (strong + weak) / len(words)
    confidence = round(min(1.0, 0.5 + score), 3)
    shares = {"ar": 1.0}
    if len(rest) >= 4 and ar_share <= 0.6:  # Arabizi mixed with another language
        other = _lingua(" ".join(rest), only=_product_languages() - {"ar"})
        if other.lang != "und" and other.confidence >= 0.3:
            shares = {"ar": round(ar_share, 3), other.lang: round(1 - ar_share, 3)}
    lang = max(shares, key=shares.__getitem__)
    if lang != "ar":  # mostly another language with some Arabizi in it
        confidence = round(shares[lang] * other.confidence, 3)
    return LanguageResult(lang, confidence, "latn", True, shares)


_LETTER_DIGIT = re.compile(r"(?:^|[a-z])[235-9][a-z]")  # 3ala, ma3a: a digit used as a letter
_FINAL_DIGIT = re.compile(r"[a-z][235-9]$")  # sa7, la2 (also iphone7: only a weak sign)
_NUMBER_WITH_SUFFIX = re.compile(r"(\d+)([a-zà-ÿ]+)")


def _arabizi_shape(word: str) -> str | None:
    """"strong" for a word that uses an Arabizi digit as a letter (3ala, ma3a, 7abibi), "weak" for
    a short word ending in one (sa7), else None."""
    if word.isalpha() or word.isdigit():
        return None
    if sum(1 for c in word if c.isdigit()) > 2 or re.search(r"\d\d", word):
        return None  # "covid19", "a1b2c3d4": numbers or codes, not letters
    m = _NUMBER_WITH_SUFFIX.fullmatch(word)
    if (m and m.group(2) in _number_suffixes()) or _arabizi_words().get(word) == "not":
        return None  # 7h, 3rd, 3ans, 2day
    letters = sum(1 for c in word if c.isalpha())
    if letters < 2 or not _VOWEL.search(word):
        return None  # mp3, ps5, b2b
    if letters >= 3 and _LETTER_DIGIT.search(word):
        return "strong"
    if letters <= 4 and _FINAL_DIGIT.search(word):
        return "weak"
    return None


# ---------------------------------------------------------------- mixed

def _mixed_script(s: str, ar_share: float, other_share: float) -> LanguageResult:
    total = ar_share + other_share
    ar_share, other_share = ar_share / total, other_share / total
    latin_words = _LATIN_WORD.findall(s)
    if not latin_words:
        latin = LanguageResult("und", 0.0, "latn", False, {"und": 1.0})
    elif sum(1 for w in latin_words if not w.isdigit()) < SHORT_FRAGMENT:
        latin = _lingua(" ".join(latin_words), only=_product_languages())
    else:
        latin = _latin_script(" ".join(latin_words))
    shares: dict[str, float] = {"ar": ar_share}
    for lang, share in latin.shares.items():
        if lang != "und":
            shares[lang] = shares.get(lang, 0.0) + share * other_share
    norm = sum(shares.values())
    shares = {k: round(v / norm, 3) for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}
    lang = next(iter(shares))
    confidence = shares[lang] if lang == "ar" else shares[lang] * latin.confidence
    script = "mixed" if min(ar_share, other_share) >= MIXED_SHARE else (
        "arab" if ar_share > other_share else "latn")
    return LanguageResult(lang, round(confidence, 3), script, latin.arabizi, shares)


def _clause_shares(s: str, result: LanguageResult) -> None:
    """Latin text of several clauses (en + fr): identify each clause of 3+ words; when two
    languages each hold at least a quarter of the words, shares are word counts."""
    counts: dict[str, int] = {}
    clauses = [c for c in _CLAUSE.findall(s) if len(c.split()) >= 3]
    if len(clauses) < 2:
        return
    clauses = sorted(clauses, key=len, reverse=True)[:MAX_CLAUSES]  # bound the cost
    for clause in clauses:
        lang = _lingua(clause).lang
        if lang != "und":
            counts[lang] = counts.get(lang, 0) + len(clause.split())
    total = sum(counts.values())
    shares = {k: v / total for k, v in counts.items() if v / total >= 0.25} if total else {}
    if len(shares) < 2 or max(shares, key=shares.__getitem__) != result.lang:
        return  # one language, or clause votes that disagree with the whole text: keep it simple
    norm = sum(shares.values())
    result.shares = {k: round(v / norm, 3) for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}


# ---------------------------------------------------------------- lingua

def _lingua(s: str, only: frozenset[str] | None = None) -> LanguageResult:
    """lingua's best language for ``s`` (among ``only``, if given)."""
    detector, codes = _detector()
    values = detector.compute_language_confidence_values(s)
    if only is not None:
        values = [v for v in values if codes[v.language] in only]
    if not values or values[0].value <= 0.0:
        return LanguageResult("und", 0.0, "latn", False, {"und": 1.0})
    top = values[0]
    lang = codes[top.language]
    return LanguageResult(lang, round(top.value, 3), "latn", False, {lang: 1.0})


@lru_cache(maxsize=1)
def _detector():  # -> tuple[lingua.LanguageDetector, dict[lingua.Language, str]]
    """Build the one lingua detector (models ship in the wheel; loaded on first use)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    path = DATA_DIR / "languages.tsv"
    codes: dict[Language, str] = {}
    for lineno, row in _rows(path):
        code = row[0]
        if len(row) < 3 or row[2] not in ("product", "other"):
            raise ConfigError(f"{path}:{lineno}: expected 'code<TAB>lingua name<TAB>product|other'")
        try:
            language = Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
        except AttributeError:
            raise ConfigError(f"{path}:{lineno}: {code!r} is not a language lingua knows") from None
        codes[language] = code
    if len(codes) < 2:
        raise ConfigError(f"{path}: lingua needs at least two languages")
    builder = LanguageDetectorBuilder.from_languages(*codes)
    if os.environ.get("HARIS_LANGUAGE_ACCURACY", "high") == "low":
        builder = builder.with_low_accuracy_mode()
    return builder.build(), codes


# ---------------------------------------------------------------- data

def _rows(path: Path) -> list[tuple[int, list[str]]]:
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            rows.append((lineno, [c.strip() for c in line.split("\t")]))
    return rows


@lru_cache(maxsize=1)
def _arabizi_words() -> dict[str, str]:
    path = DATA_DIR / "arabizi_words.tsv"
    words: dict[str, str] = {}
    for lineno, row in _rows(path):
        if len(row) < 2 or row[1] not in ("strong", "weak", "not"):
            raise ConfigError(f"{path}:{lineno}: expected 'word<TAB>strong|weak|not'")
        words[row[0].casefold()] = row[1]
    return words


@lru_cache(maxsize=1)
def _product_languages() -> frozenset[str]:
    """Languages haris is built for; short Latin fragments in mixed text are one of these."""
    return frozenset(row[0] for _, row in _rows(DATA_DIR / "languages.tsv") if row[2] == "product")


@lru_cache(maxsize=1)
def _function_words() -> dict[str, frozenset[str]]:
    return {row[0]: frozenset(row[1].split()) for _, row in _rows(DATA_DIR / "function_words.tsv")}


@lru_cache(maxsize=1)
def _number_suffixes() -> frozenset[str]:
    return frozenset(row[0].casefold() for _, row in _rows(DATA_DIR / "number_suffixes.txt"))


@lru_cache(maxsize=1)
def _arabic_script_letters() -> re.Pattern[str]:
    letters = "".join(row[0] for _, row in _rows(DATA_DIR / "arabic_script_letters.tsv"))
    return re.compile(f"[{re.escape(letters)}]")
