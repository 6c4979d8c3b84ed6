"""Validate the labelled message corpus in data/corpus/messages (train, dev and test .jsonl).

The corpus feeds detector training and the evaluation that gates releases, so these tests
guard its schema, its balance, the separation of the splits by scenario family, and the data
rules of the project (fictional phone numbers, links and handles only).
"""
from __future__ import annotations

import importlib.util
import json
import re
import statistics
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import phonenumbers
import pytest
import yaml
from rapidfuzz import fuzz, process

from haris.detect.corpus import split_paths
from haris.errors import ConfigError

CORPUS_DIR = Path(__file__).resolve().parents[2] / "data" / "corpus" / "messages"
SPLITS = ("train", "dev", "test")
LANGS = {"ar", "en", "fr"}
KINDS = {"positive", "hard_negative", "easy_negative"}
FIELDS = {"id", "lang", "labels", "sublabels", "kind", "family", "text"}
SUBLABELS = {
    "trafficking": {"sale", "auction", "sexual_services", "minor_involved"},
    "terrorism": {"claim", "recruitment", "incitement", "glorification", "resurgence"},
}
ID_CODE = {"trafficking": "tr", "terrorism": "te", "hard_negative": "hn", "easy_negative": "ez"}
INVISIBLE_RE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
# Regions whose numbering plans the corpus' audience writes in; a number valid in any of
# them must be in a fictional range.
PHONE_REGIONS = ("US", "CA", "GB", "FR", "BE", "CH", "DE", "MA", "DZ", "TN", "EG", "SA", "AE", "KW",
                 "QA", "IQ", "SY", "LB", "JO", "TR")
TLDS = ("com|net|org|me|io|info|co|fr|ca|ly|gg|app|xyz|tv|ru|be|ch|de|ma|dz|tn|sa|iq|ae|eg|sy|lb|jo|"
        "uk|us|link|site|online|to|cc|ws|onion|live|chat|example|test|invalid")
HOST_RE = re.compile(rf"(?i)(?<![\w@.-])(?:https?://)?((?:[a-z0-9-]+\.)+(?:{TLDS}))\b(/[^\s]*)?")
HANDLE_RE = re.compile(r"(?<![A-Za-z0-9_.])@([A-Za-z0-9_]+)")
FICTIONAL_HOSTS = {"example.com", "example.org", "example.net", "www.example.com", "www.example.org",
                   "www.example.net"}


def _load_split(name: str) -> list[dict]:
    records = []
    for path in split_paths(CORPUS_DIR, name):      # a large split is written in parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                pytest.fail(f"{path}:{number}: not JSON: {exc}")
    return records


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict]]:
    return {name: _load_split(name) for name in SPLITS}


@pytest.fixture(scope="module")
def records(splits) -> list[dict]:
    return [dict(r, split=name) for name in SPLITS for r in splits[name]]


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("corpus_generate", CORPUS_DIR / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def normalise(text: str) -> str:
    """Case- and whitespace-insensitive form, without invisible characters."""
    text = unicodedata.normalize("NFKC", INVISIBLE_RE.sub("", text)).casefold()
    return " ".join(text.split())


def without_numbers(text: str) -> str:
    return re.sub(r"\d+", "#", normalise(text))  # \d covers Eastern Arabic digits too


# ------------------------------------------------------------------------------ schema

def test_every_record_has_the_schema(records):
    for r in records:
        where = f"{r.get('split')}:{r.get('id')}"
        assert set(r) - {"split", "framing"} == FIELDS, where
        assert r["lang"] in LANGS, where
        assert r["kind"] in KINDS, where
        assert isinstance(r["text"], str) and r["text"].strip(), where
        assert isinstance(r["family"], str) and r["family"], where
        assert set(r["labels"]) <= set(SUBLABELS) and len(r["labels"]) <= 1, where
        if r["kind"] == "positive":
            assert r["labels"], f"{where}: a positive needs a label"
            allowed = set().union(*(SUBLABELS[label] for label in r["labels"]))
            assert r["sublabels"] and set(r["sublabels"]) <= allowed, where
        else:
            assert r["labels"] == [] and r["sublabels"] == [], f"{where}: negatives carry no labels"
        # every negative says whether it frames (the "≤ 2% flagged" target counts these); positives never do
        assert ("framing" in r) == (r["kind"] != "positive"), where
        assert r.get("framing") in (None, True, False), where
        assert not (r.get("framing") and r["kind"] != "hard_negative"), where
        assert len(set(r["sublabels"])) == len(r["sublabels"]), where


def test_ids_are_unique_and_match_language_and_label(records):
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for r in records:
        code = ID_CODE[r["labels"][0] if r["labels"] else r["kind"]]
        assert re.fullmatch(rf"{r['lang']}-{code}-\d{{4}}", r["id"]), r["id"]


def test_texts_are_short(records):
    words = [len(r["text"].split()) for r in records]
    assert max(words) <= 60, max(words)
    assert 5 <= statistics.median(words) <= 40


def test_invisible_characters_are_escaped_in_the_files():
    for name in SPLITS:
        raw = (CORPUS_DIR / f"{name}.jsonl").read_text(encoding="utf-8")
        assert not re.search(r"[\u200b\u200c\u2060\ufeff]", raw), f"{name}: raw zero-width character"


# ----------------------------------------------------------------------------- balance

def test_each_language_is_large_and_balanced(records):
    for lang in sorted(LANGS):
        recs = [r for r in records if r["lang"] == lang]
        kinds = Counter(r["kind"] for r in recs)
        labels = Counter(r["labels"][0] for r in recs if r["labels"])
        assert len(recs) >= 300, (lang, len(recs))
        assert kinds["hard_negative"] / len(recs) >= 0.40, (lang, kinds)
        assert 0.25 <= labels["trafficking"] / len(recs) <= 0.35, (lang, labels)
        assert 0.20 <= labels["terrorism"] / len(recs) <= 0.30, (lang, labels)
        assert 0.02 <= kinds["easy_negative"] / len(recs) <= 0.10, (lang, kinds)


def test_held_out_splits_are_sizeable_and_cover_every_class(records):
    for lang in sorted(LANGS):
        recs = [r for r in records if r["lang"] == lang]
        n_test = sum(r["split"] == "test" for r in recs)
        # at least 120 held-out messages a language, an eighth or more of the corpus as it grows (new
        # training families come with new test families)
        assert n_test >= 120 and 0.12 <= n_test / len(recs) <= 0.4, (lang, n_test, len(recs))
        # dev is read while developing and then trained on (make model): what matters is that a round of
        # development has enough messages in every class to read, not its share of a growing corpus
        assert sum(r["split"] == "dev" for r in recs) >= 100, lang
        for split in SPLITS:
            part = [r for r in recs if r["split"] == split]
            subs = {s for r in part for s in r["sublabels"]}
            assert subs == set().union(*SUBLABELS.values()), (lang, split, subs)
            assert {r["kind"] for r in part} == KINDS, (lang, split)


def test_framing_negatives_are_in_every_split_for_both_policies(records, generator):
    families = generator.load_families()[1]
    for lang in sorted(LANGS):
        seen = {(r["split"], families[r["family"]].mimics) for r in records if r["lang"] == lang and r.get("framing")}
        assert seen == {(s, p) for s in SPLITS for p in SUBLABELS}, (lang, seen)


def test_hard_negatives_mimic_both_policies_in_every_split(records, generator):
    families = {name: {"mimics": fam.mimics} for name, fam in generator.load_families()[1].items()}
    for lang in sorted(LANGS):
        seen = {(r["split"], families[r["family"]]["mimics"])
                for r in records if r["lang"] == lang and r["kind"] == "hard_negative"}
        assert seen == {(s, p) for s in SPLITS for p in SUBLABELS}, (lang, seen)


# ---------------------------------------------------------------- train/test separation

def test_no_family_is_in_two_splits(records):
    split_of: dict[str, set[str]] = defaultdict(set)
    for r in records:
        split_of[r["family"]].add(r["split"])
    assert [f for f, s in split_of.items() if len(s) > 1] == []


def test_each_family_has_one_kind_and_label_set(records):
    seen: dict[str, set] = defaultdict(set)
    for r in records:
        seen[r["family"]].add((r["kind"], tuple(r["labels"])))
    assert {f: s for f, s in seen.items() if len(s) > 1} == {}


def test_no_text_is_duplicated(records):
    by_text: dict[str, set[str]] = defaultdict(set)
    for r in records:
        by_text[normalise(r["text"])].add(r["id"])
    dupes = {t: ids for t, ids in by_text.items() if len(ids) > 1}
    assert dupes == {}


def test_no_two_messages_differ_only_by_numbers(records):
    by_shape: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in records:
        by_shape[(r["lang"], without_numbers(r["text"]))].append(r["id"])
    assert [ids for ids in by_shape.values() if len(ids) > 1] == []


@pytest.mark.parametrize("held_out", ["dev", "test"])
def test_held_out_messages_are_not_near_copies_of_train_messages(splits, held_out):
    for lang in sorted(LANGS):
        train = [without_numbers(r["text"]) for r in splits["train"] if r["lang"] == lang]
        for r in splits[held_out]:
            if r["lang"] != lang:
                continue
            match, score, _ = process.extractOne(without_numbers(r["text"]), train, scorer=fuzz.ratio)
            assert score < 85, (r["id"], r["text"], match)


# ------------------------------------------------------------------------- data rules

# Subscriber numbers that someone could call have at least 8 digits in these regions.
MIN_PHONE_DIGITS = 8
# The reserved fictional ranges, as digits written internationally or nationally:
# NANP NPA-555-0100..0199 and Ofcom 07700 900000..900999.
FICTIONAL_DIGITS_RE = re.compile(r"(?:1?\d{3}55501\d\d|(?:44|0)7700900\d{3})")


def _is_fictional(number: phonenumbers.PhoneNumber, raw: str = "") -> bool:
    """True for a number in a fictional range, however a region's plan reads its digits.

    "07700 900123" is Ofcom's drama range but also a valid German number when read with
    region DE; the digits as written decide.
    """
    if FICTIONAL_DIGITS_RE.fullmatch(phonenumbers.normalize_digits_only(raw)):
        return True
    national = str(number.national_number)
    if number.country_code == 1:
        return national[3:6] == "555" and 100 <= int(national[6:] or 0) <= 199
    return number.country_code == 44 and national.startswith("7700900")


def test_every_phone_number_is_fictional(records):
    for r in records:
        if sum(ch.isdigit() for ch in r["text"]) < 7:
            continue
        for region in PHONE_REGIONS:
            for match in phonenumbers.PhoneNumberMatcher(r["text"], region,
                                                        leniency=phonenumbers.Leniency.VALID):
                if len(phonenumbers.normalize_digits_only(match.raw_string)) < MIN_PHONE_DIGITS:
                    continue  # prices such as "16 900 €" are valid short numbers in some plans
                assert _is_fictional(match.number, match.raw_string), (r["id"], region, match.raw_string)


@pytest.mark.parametrize("text, fictional", [
    ("call +1 202 555 0143", True),
    ("whatsapp +44 7700 900123", True),
    ("whatsapp 07700 900123", True),
    ("اتصل ٠٧٧٠٠ ٩٠٠١٢٣", True),
    ("call +1 202 555 1234", False),
    ("appelle le 06 12 34 56 78", False),
])
def test_phone_rule_tells_fictional_from_real(text, fictional):
    found = [m for region in ("US", "FR", "DE") for m in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.POSSIBLE)]
    assert found and all(_is_fictional(m.number, m.raw_string) == fictional for m in found)


def _bad_links(text: str) -> list[str]:
    bad = []
    for match in HOST_RE.finditer(text):
        host, path = match.group(1).lower(), match.group(2) or ""
        if host in FICTIONAL_HOSTS or host.endswith((".example", ".test", ".invalid")):
            continue
        if host in {"t.me", "telegram.me"} and path.startswith("/example_"):
            continue
        bad.append(match.group(0))
    bad += [h for h in HANDLE_RE.findall(text) if not h.startswith("example_")]
    return bad


def test_every_link_and_handle_is_fictional(records):
    assert {r["id"]: _bad_links(r["text"]) for r in records if _bad_links(r["text"])} == {}


@pytest.mark.parametrize("text, bad", [
    ("join t.me/example_news and https://example.com/x", []),
    ("join t.me/realchannel", ["t.me/realchannel"]),
    ("see www.realsite.org/post", ["www.realsite.org/post"]),
    ("ask @someone or @example_ok", ["someone"]),
])
def test_link_rule_tells_fictional_from_real(text, bad):
    assert _bad_links(text) == bad


# --------------------------------------------------------------------------- variety

def test_arabic_has_eastern_digits_arabizi_and_dialect_markers(records):
    arabic = [r["text"] for r in records if r["lang"] == "ar"]
    eastern = [t for t in arabic if re.search(r"[٠-٩]", t)]
    arabizi = [t for t in arabic if re.search(r"\b[a-z]*[2357][a-z]+", t) and not re.search(r"[\u0621-\u064a]", t)]
    dialect = [t for t in arabic if re.search(r"\b(اكو|هسه|بدو|بدي|عايز|يبي|أبغى|شو|هلق|باچر|ويا|توها)\b", t)]
    assert len(eastern) >= 0.1 * len(arabic)
    assert len(arabizi) >= 10
    assert len(dialect) >= 15


def test_obfuscated_spellings_are_present_in_every_language(records):
    def obfuscated(text: str, lang: str) -> bool:
        return bool(re.search(r"[\u200b\u200c\u2060\ufeff]", text)                   # zero-width
                    or re.search(r"[a-zA-Z][\u0400-\u04ff]|[\u0400-\u04ff][a-zA-Z]", text)  # look-alikes
                    or re.search(r"(?:\b\w\b[ .]){3,}", text)                              # s p a c e d
                    or re.search(r"[\u0621-\u064a]ـ[\u0621-\u064a]", text)                  # tatweel
                    # leetspeak; Arabizi writes letters as digits too, so not counted for ar
                    or lang != "ar" and re.search(r"\b[a-z]+[0134][a-z]+\b", text, re.IGNORECASE))
    for lang in sorted(LANGS):
        recs = [r for r in records if r["lang"] == lang]
        share = sum(obfuscated(r["text"], lang) for r in recs) / len(recs)
        assert share >= 0.04, (lang, share)


# ------------------------------------------------------------------------- generator

def test_committed_files_match_the_generator(generator, splits):
    corpus = generator.build()
    for name in SPLITS:
        assert corpus.splits[name] == splits[name], f"{name}.jsonl is stale: run generate.py"
    readme = (CORPUS_DIR / "README.md").read_text(encoding="utf-8")
    assert generator.readme_with_counts(readme, corpus) == readme, "README counts are stale"


def test_generator_rejects_unknown_slots_and_wrong_sublabels(generator):
    policies, families = generator.load_families()
    filler = generator.Filler("en")
    fam = families["tr.captive-listing"]
    with pytest.raises(ConfigError, match="unknown slot"):
        generator.render(generator.Template("en", fam.name, 0, "girl {nope}", None), fam, filler, policies)
    with pytest.raises(ConfigError, match="not allowed"):
        generator.render(generator.Template("en", fam.name, 0, "girl", ("claim",)), fam, filler, policies)


def test_generator_refuses_framing_on_a_positive(generator, tmp_path):
    (tmp_path / "families.d").mkdir()
    (tmp_path / "families.yaml").write_text(
        "policies: {trafficking: [sale]}\nfamilies:\n"
        "  tr.x: {split: train, kind: positive, framing: true, labels: [trafficking], sublabels: [sale], about: x}\n",
        encoding="utf-8")
    with pytest.raises(ConfigError, match="framing: true is for hard negatives"):
        generator.load_families(tmp_path / "families.yaml")


def test_generator_marks_minors_and_keeps_arabic_marks_on_their_letters(generator):
    policies, families = generator.load_families()
    fam = families["tr.auction-bidding"]
    record, _ = generator.render(generator.Template("en", fam.name, 99, "girl {minor_age}, bid {price}", None),
                                 fam, generator.Filler("en"), policies)
    assert record["sublabels"] == ["auction", "minor_involved"]
    spaced = generator.obfuscate("قريباً", "spaced", None)
    assert spaced.split(" ")[-1] == "اً"
    assert generator.obfuscate("للبيع", "tatweel", None) == "لـلـبـيـع"
    assert generator.obfuscate("الدار", "tatweel", None) == "الـدار"


def test_a_large_split_is_written_in_parts_read_back_in_order(generator, splits, tmp_path, monkeypatch):
    """No file passes the size limit: the generator starts dev.2.jsonl, dev.3.jsonl…, and
    split_paths gives them back in order (dev.10 after dev.9), so readers see one split."""
    records = splits["dev"][:80]
    monkeypatch.setattr(generator, "MAX_SPLIT_FILE_BYTES", 1_500)
    files = generator.split_files("dev", records, tmp_path)
    assert len(files) > 10 and all(len(t.encode()) <= 1_500 for t in files.values())
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    parts = split_paths(tmp_path, "dev")
    assert [p.name for p in parts[:2]] == ["dev.jsonl", "dev.2.jsonl"] and parts[10].name == "dev.11.jsonl"
    assert "".join(p.read_text(encoding="utf-8") for p in parts) == generator.to_jsonl(records)
