"""Build the labelled message corpus (train, dev and test .jsonl) from hand-written templates.

The corpus evaluates and trains the message-level detectors for the `trafficking` and
`terrorism` policies. Every message is written by hand in ``templates/<lang>/*.yaml``;
this script only fills the slots (ages, prices, fictional contacts, places), applies
keyword obfuscation to a few marked items, assigns ids, and writes the three splits.

Splits are decided per *family* (scenario) in ``families.yaml`` and ``families.d/*.yaml``:
a family goes wholly to train, dev or test, in every language, so the test split measures
generalisation to unseen phrasings and scenarios, not memorisation.

Template syntax
    ``{slot}``      replaced by a filler (NUMERIC_SLOTS, PRICE_SLOTS below; words from
                    ``fillers/<lang>.yaml``)
    ``[[words]]``   a cue that may be obfuscated (spacing, look-alikes, leetspeak,
                    zero-width characters, tatweel); brackets are dropped otherwise
    an entry may be ``{t: "...", sub: [..]}`` to override the family's sub-labels.

Everything is deterministic: each item draws from its own ``random.Random`` seeded with
``SEED|lang|family|index``, so editing one template never changes another item.

Example::

    .venv/bin/python data/corpus/messages/generate.py          # rewrite the files
    .venv/bin/python data/corpus/messages/generate.py --check  # exit 1 if stale
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex
import yaml

from haris.detect.corpus import MAX_SPLIT_FILE_BYTES, split_paths
from haris.errors import ConfigError

HERE = Path(__file__).resolve().parent
SEED = 20240611
LANGS = ("ar", "en", "fr")
KINDS = ("positive", "hard_negative", "easy_negative")
SPLITS = ("train", "dev", "test")

# Numeric slots: (low, high, step). Ages of minors are kept apart from adult ages so the
# generator can add the `minor_involved` sub-label automatically and never by mistake.
NUMERIC_SLOTS: dict[str, tuple[int, int, int]] = {
    "minor_age": (9, 16, 1),
    "teen_age": (12, 16, 1),
    "child_age": (2, 8, 1),
    "adult_age": (19, 34, 1),
    "n": (2, 9, 1),
}
MINOR_SLOTS = frozenset({"minor_age", "teen_age", "child_age"})
PRICE_SLOTS: dict[str, tuple[int, int, int]] = {
    "price_tiny": (5, 60, 1),          # hourly rates, small items
    "price_small": (20, 900, 10),      # phones, lambs, rents, paid "dates"
    "price": (1500, 20000, 100),       # persons in the positives; cars, camels in the negatives
    "price_big": (30000, 450000, 1000),  # apartments, villas, land
}
# Fictional phone ranges only: NANP 555-0100..0199 and Ofcom's 07700 900000..900999.
PHONE_FORMATS = (
    "+1 {npa} 555 01{xx}", "+1-{npa}-555-01{xx}", "({npa}) 555-01{xx}", "+1{npa}55501{xx}",
    "+44 7700 900{xxx}", "07700 900{xxx}", "+447700900{xxx}", "+44 7700 900 {xxx}",
)
NPAS = ("202", "312", "415", "514", "613", "438", "305", "713", "819", "418")
URL_HOSTS = ("https://example.com/", "example.com/", "https://example.org/", "www.example.net/",
             "https://files.example/")
TG_FORMATS = ("t.me/example_{w}", "https://t.me/example_{w}")

# Obfuscation of a marked cue, per script. Cyrillic look-alikes for Latin letters.
HOMOGLYPHS = str.maketrans({"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х", "y": "у",
                            "A": "А", "E": "Е", "O": "О", "C": "С", "P": "Р", "X": "Х"})
LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "A": "4", "E": "3", "I": "1", "O": "0"})
LATIN_OBFUSCATIONS = ("spaced", "homoglyph", "leet", "zero_width", "dotted")
ARABIC_OBFUSCATIONS = ("spaced", "zero_width", "tatweel", "dotted")
OBFUSCATION_RATE = 0.7  # share of *marked* items that get obfuscated (~5% of all items)
EASTERN_DIGIT_RATE = 0.3  # share of Arabic-script items whose slot numbers use ٠-٩
EASTERN_DIGITS = str.maketrans("0123456789.,", "٠١٢٣٤٥٦٧٨٩٫٬")
# Inserted by the zero-width obfuscation and written as \uXXXX escapes in the JSONL so
# reviewers can see them. U+200D (joiner) is left alone: emoji sequences need it.
INVISIBLE = ("\u200b", "\u200c", "\u2060", "\ufeff")

SLOT_RE = re.compile(r"\{(\w+)\}")
MARK_RE = re.compile(r"\[\[(.+?)\]\]")
ARABIC_LETTER_RE = re.compile(r"[\u0621-\u064a]")
LATIN_LETTER_RE = re.compile(r"[A-Za-z]")
# A number written in a template, not part of a handle, link or Latin word (i7, akhi_1436).
LITERAL_NUMBER_RE = re.compile(r"(?<![A-Za-z_@/.:+\-\d])\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Family:
    """A scenario: all its messages go to one split, in every language."""

    name: str
    split: str
    kind: str
    labels: tuple[str, ...]
    sublabels: tuple[str, ...]
    mimics: str | None
    about: str
    framing: bool = False  # a hard negative that reports, studies, warns about, condemns or testifies


@dataclass(frozen=True)
class Template:
    lang: str
    family: str
    index: int
    text: str
    sublabels: tuple[str, ...] | None  # None: use the family's


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def family_files(path: Path = HERE / "families.yaml") -> list[Path]:
    """families.yaml, then every families.d/*.yaml beside it (sorted): one file per author."""
    return [path, *sorted((path.parent / "families.d").glob("*.yaml"))]


def load_families(path: Path = HERE / "families.yaml") -> tuple[dict[str, tuple[str, ...]], dict[str, Family]]:
    """Return (policy id -> allowed sub-labels, family name -> Family), checked.

    ``policies`` come from families.yaml; families from it and from ``families.d/*.yaml``.
    """
    doc = _load_yaml(path)
    policies = {k: tuple(v) for k, v in doc["policies"].items()}
    families: dict[str, Family] = {}
    specs: dict[str, tuple[Path, dict[str, Any]]] = {}
    for file in family_files(path):
        for name, spec in ((_load_yaml(file) or {}).get("families") or {}).items():
            if name in specs:
                raise ConfigError(f"{file}: family {name} is already declared in {specs[name][0].name}")
            specs[name] = (file, spec)
    for name, (file, spec) in specs.items():
        fam = Family(name=name, split=spec["split"], kind=spec["kind"],
                     labels=tuple(spec.get("labels", [])), sublabels=tuple(spec.get("sublabels", [])),
                     mimics=spec.get("mimics"), about=spec["about"], framing=spec.get("framing", False))
        where = f"{file}: family {name}"
        if fam.split not in SPLITS:
            raise ConfigError(f"{where}: split must be one of {SPLITS}, got {fam.split!r}")
        if fam.kind not in KINDS:
            raise ConfigError(f"{where}: kind must be one of {KINDS}, got {fam.kind!r}")
        if fam.framing not in (True, False) or (fam.framing and fam.kind != "hard_negative"):
            raise ConfigError(f"{where}: framing: true is for hard negatives only (and must be true or false)")
        if (fam.kind == "positive") != bool(fam.labels):
            raise ConfigError(f"{where}: positives need labels and negatives must have none")
        for label in fam.labels:
            if label not in policies:
                raise ConfigError(f"{where}: unknown policy {label!r}")
        _check_sublabels(fam.labels, fam.sublabels, policies, where)
        families[name] = fam
    return policies, families


def _check_sublabels(labels: tuple[str, ...], subs: tuple[str, ...],
                     policies: dict[str, tuple[str, ...]], where: str) -> None:
    allowed = {s for label in labels for s in policies[label]}
    bad = [s for s in subs if s not in allowed]
    if bad:
        raise ConfigError(f"{where}: sub-labels {bad} not allowed for labels {list(labels)}")


def load_templates(lang: str, families: dict[str, Family]) -> list[Template]:
    """Read every templates/<lang>/*.yaml file into Template objects, in file order."""
    out: list[Template] = []
    seen: set[str] = set()
    for path in sorted((HERE / "templates" / lang).glob("*.yaml")):
        doc = _load_yaml(path) or {}
        for family, entries in doc.items():
            if family not in families:
                raise ConfigError(f"{path}: family {family!r} is not declared in families.yaml")
            if family in seen:
                raise ConfigError(f"{path}: family {family!r} appears twice for language {lang}")
            seen.add(family)
            if not isinstance(entries, list) or not entries:
                raise ConfigError(f"{path}: family {family!r} needs a non-empty list of messages")
            for i, entry in enumerate(entries):
                if isinstance(entry, str):
                    out.append(Template(lang, family, i, entry, None))
                elif isinstance(entry, dict) and "t" in entry:
                    out.append(Template(lang, family, i, entry["t"], tuple(entry.get("sub", []))))
                else:
                    raise ConfigError(f"{path}: {family}[{i}] must be a string or a mapping with 't'")
    return out


@dataclass(frozen=True)
class ItemStyle:
    """Choices made once per message, so that all its prices read alike."""

    currency: str      # pattern such as "{n} USD"
    rate: float        # local units per US dollar, roughly, so "DA" prices look like DA prices
    number_style: str  # comma | dot | space | plain | thousands
    eastern: bool      # write slot numbers with Eastern Arabic digits


class Filler:
    """Draws slot values for one language from fillers/<lang>.yaml."""

    def __init__(self, lang: str):
        self.lang = lang
        self.data = _load_yaml(HERE / "fillers" / f"{lang}.yaml")

    def item_style(self, rng: random.Random, eastern: bool) -> ItemStyle:
        currency = rng.choice(self.data["currencies"])
        pattern, rate = (currency, 1.0) if isinstance(currency, str) else (currency["p"], currency["rate"])
        return ItemStyle(pattern, rate, rng.choice(self.data["number_styles"]), eastern)

    def format_amount(self, amount: int, style: str) -> str:
        if amount >= 1_000_000:  # "1.6 million DA", "16 مليون دينار": nobody writes seven zeros
            value = f"{round(amount / 1_000_000, 1):g}".replace(".", self.data["decimal_mark"])
            return self.data["millions_pattern"].format(n=value)
        if style == "thousands" and amount >= 1000 and amount % 100 == 0:
            value = f"{amount / 1000:g}".replace(".", self.data["decimal_mark"])
            return self.data["thousands_pattern"].format(n=value)
        grouped = f"{amount:,}"
        return {"comma": grouped, "dot": grouped.replace(",", "."), "space": grouped.replace(",", " ")
                }.get(style, str(amount))

    def value(self, slot: str, rng: random.Random, style: ItemStyle) -> str:
        d = self.data
        if slot in NUMERIC_SLOTS:
            low, high, step = NUMERIC_SLOTS[slot]
            text = str(rng.randrange(low, high + 1, step))
            return text.translate(EASTERN_DIGITS) if style.eastern else text
        if slot in PRICE_SLOTS:
            low, high, step = PRICE_SLOTS[slot]
            number = self.format_amount(_round3(rng.randrange(low, high + 1, step) * style.rate),
                                        style.number_style)
            if style.eastern:
                number = number.translate(EASTERN_DIGITS)
            return style.currency.format(n=number)
        if slot == "phone":
            fmt = rng.choice(PHONE_FORMATS)
            return fmt.format(npa=rng.choice(NPAS), xx=f"{rng.randrange(0, 100):02d}",
                              xxx=f"{rng.randrange(0, 1000):03d}")
        if slot == "handle":
            return "@example_" + rng.choice(d["handle_words"])
        if slot == "tg":
            return rng.choice(TG_FORMATS).format(w=rng.choice(d["handle_words"]))
        if slot == "url":
            return rng.choice(URL_HOSTS) + rng.choice(d["url_paths"])
        lists = {"place": "places", "wilayah": "wilayat", "day": "days", "time": "times", "contact": "contacts"}
        if slot in lists:
            return rng.choice(d[lists[slot]])
        raise KeyError(slot)


def _round3(value: float) -> int:
    """Round to three significant digits, as prices are written (1,625,000 -> 1,630,000)."""
    digits = len(str(int(value)))
    return int(round(value, min(0, 3 - digits)))


def obfuscate(cue: str, method: str, rng: random.Random) -> str:
    """Disguise one cue the way evasive posters do; the words stay readable to a person.

    Letters are split as grapheme clusters so Arabic diacritics stay on their letter.
    """
    words = [regex.findall(r"\X", w) for w in cue.split(" ")]
    if method == "spaced":
        return "  ".join(" ".join(w) for w in words)
    if method == "dotted":
        return " ".join(".".join(w) for w in words)
    if method == "homoglyph":
        return cue.translate(HOMOGLYPHS)
    if method == "leet":
        return cue.translate(LEET)
    if method == "zero_width":
        mark = rng.choice(INVISIBLE[:3])  # not U+FEFF: it also marks byte order
        return " ".join(mark.join(w) for w in words)
    if method == "tatweel":
        return " ".join(_stretch(w) for w in words)
    raise ValueError(method)


# Arabic letters that never join the next letter: a tatweel after them would float alone.
NON_JOINING = set("اأإآدذرزوؤةىء")


def _stretch(graphemes: list[str]) -> str:
    """Insert tatweel (U+0640) between Arabic letters that join, e.g. للبيع -> لـلـبـيـع."""
    out = []
    for i, g in enumerate(graphemes):
        out.append(g)
        nxt = graphemes[i + 1] if i + 1 < len(graphemes) else ""
        if nxt and ARABIC_LETTER_RE.match(g) and ARABIC_LETTER_RE.match(nxt) and g[0] not in NON_JOINING:
            out.append("ـ")
    return "".join(out)


def _is_arabic_script(text: str) -> bool:
    return len(ARABIC_LETTER_RE.findall(text)) > len(LATIN_LETTER_RE.findall(text))


def render(tpl: Template, fam: Family, filler: Filler,
           policies: dict[str, tuple[str, ...]]) -> tuple[dict[str, Any], str | None]:
    """Turn one template into one corpus record (without id) and the obfuscation applied."""
    rng = random.Random(f"{SEED}|{tpl.lang}|{tpl.family}|{tpl.index}")
    where = f"templates/{tpl.lang}: {tpl.family}[{tpl.index}]"
    eastern = tpl.lang == "ar" and _is_arabic_script(tpl.text) and rng.random() < EASTERN_DIGIT_RATE
    style = filler.item_style(rng, eastern)
    used: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        slot = match.group(1)
        used.add(slot)
        try:
            value = filler.value(slot, rng, style)
        except KeyError:
            raise ConfigError(f"{where}: unknown slot {{{slot}}}") from None
        return SLOT_RE.sub(fill, value)  # contacts may hold {phone}, {handle}, {tg}

    source = LITERAL_NUMBER_RE.sub(lambda m: m.group(0).translate(EASTERN_DIGITS), tpl.text) if eastern else tpl.text
    text = SLOT_RE.sub(fill, source)
    method = None
    if MARK_RE.search(text):
        if rng.random() < OBFUSCATION_RATE:
            first_cue = MARK_RE.search(text).group(1)
            methods = ARABIC_OBFUSCATIONS if ARABIC_LETTER_RE.search(first_cue) else LATIN_OBFUSCATIONS
            method = rng.choice(methods)
            text = MARK_RE.sub(lambda m: obfuscate(m.group(1), method, rng), text)
        else:
            text = MARK_RE.sub(lambda m: m.group(1), text)
    if "[[" in text or "]]" in text or "{" in text or "}" in text:
        raise ConfigError(f"{where}: unbalanced [[ ]] or {{ }} in template")

    subs = list(tpl.sublabels if tpl.sublabels is not None else fam.sublabels)
    if "trafficking" in fam.labels and used & MINOR_SLOTS and "minor_involved" not in subs:
        subs.append("minor_involved")
    _check_sublabels(fam.labels, tuple(subs), policies, where)
    order = [s for label in fam.labels for s in policies[label]]
    record = {"lang": tpl.lang, "labels": list(fam.labels), "sublabels": sorted(subs, key=order.index),
              "kind": fam.kind, "family": fam.name, "text": text}
    if fam.kind != "positive":
        record["framing"] = fam.framing
    return record, method


ID_CODES = {"trafficking": "tr", "terrorism": "te", "hard_negative": "hn", "easy_negative": "ez"}


@dataclass
class Corpus:
    splits: dict[str, list[dict[str, Any]]]  # "train"/"dev"/"test" -> records with ids
    obfuscated: Counter[tuple[str, str]]      # (lang, method) -> items obfuscated by the generator


def build() -> Corpus:
    """Render all templates into the splits, with ids assigned."""
    policies, families = load_families()
    order = list(families)
    rendered: list[dict[str, Any]] = []
    obfuscated: Counter[tuple[str, str]] = Counter()
    used_families: set[str] = set()
    for lang in LANGS:
        filler = Filler(lang)
        for tpl in load_templates(lang, families):
            used_families.add(tpl.family)
            record, method = render(tpl, families[tpl.family], filler, policies)
            rendered.append(record)
            if method:
                obfuscated[(lang, method)] += 1
    unused = [f for f in families if f not in used_families]
    if unused:
        raise ConfigError(f"families.yaml: families without templates in any language: {unused}")
    # Stable order: split, language, family order in families.yaml, template order.
    rendered.sort(key=lambda r: (SPLITS.index(families[r["family"]].split), LANGS.index(r["lang"]),
                                 order.index(r["family"])))
    counters: Counter[tuple[str, str]] = Counter()
    splits: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    for rec in rendered:
        code = ID_CODES[rec["labels"][0] if rec["labels"] else rec["kind"]]
        counters[(rec["lang"], code)] += 1
        splits[families[rec["family"]].split].append(
            {"id": f"{rec['lang']}-{code}-{counters[(rec['lang'], code)]:04d}", **rec})
    return Corpus(splits, obfuscated)


def to_jsonl(records: list[dict[str, Any]]) -> str:
    """One JSON object per line; invisible characters written as \\uXXXX escapes."""
    lines = []
    for rec in records:
        line = json.dumps(rec, ensure_ascii=False)
        for ch in INVISIBLE:
            line = line.replace(ch, f"\\u{ord(ch):04x}")
        lines.append(line)
    return "\n".join(lines) + "\n"


def split_files(split: str, records: list[dict[str, Any]], directory: Path = HERE) -> dict[Path, str]:
    """The files of one split and their text: ``<split>.jsonl``, and ``<split>.2.jsonl``… once it
    outgrows MAX_SPLIT_FILE_BYTES (readers take :func:`haris.detect.corpus.split_paths` in order)."""
    parts: list[list[str]] = [[]]
    size = 0
    for line in to_jsonl(records).splitlines(keepends=True):
        n = len(line.encode("utf-8"))
        if parts[-1] and size + n > MAX_SPLIT_FILE_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(line)
        size += n
    return {directory / (f"{split}.jsonl" if i == 0 else f"{split}.{i + 1}.jsonl"): "".join(lines)
            for i, lines in enumerate(parts)}


def counts_markdown(corpus: Corpus) -> str:
    """Tables of counts per split x language x label/kind, obfuscations, and per family."""
    splits = corpus.splits
    _, families = load_families()
    cols = [("trafficking", "positive"), ("terrorism", "positive"), ("", "hard_negative"), ("", "easy_negative")]
    head = "| split | lang | trafficking | terrorism | hard negative | easy negative | total | hard-neg share |"
    rows = [head, "|" + "---|" * 8]
    for lang in LANGS:
        for split in (*SPLITS, "all"):
            recs = [r for s in SPLITS if split in (s, "all") for r in splits[s] if r["lang"] == lang]
            c = Counter((r["labels"][0] if r["labels"] else "", r["kind"]) for r in recs)
            share = c[("", "hard_negative")] / max(len(recs), 1)
            rows.append(f"| {split} | {lang} | " + " | ".join(str(c[k]) for k in cols)
                        + f" | {len(recs)} | {share:.0%} |")
    fam_rows = ["| family | split | kind | labels / mimics | ar | en | fr | about |", "|" + "---|" * 8]
    per = Counter((r["family"], r["lang"]) for s in SPLITS for r in splits[s])
    for fam in families.values():
        what = ", ".join(fam.labels) if fam.labels else (f"mimics {fam.mimics}" if fam.mimics else "-")
        fam_rows.append(f"| `{fam.name}` | {fam.split} | {fam.kind} | {what} | "
                        + " | ".join(str(per[(fam.name, lang)]) for lang in LANGS) + f" | {fam.about} |")
    methods = sorted({m for _, m in corpus.obfuscated})
    obf_rows = ["| lang | " + " | ".join(methods) + " | total |", "|" + "---|" * (len(methods) + 2)]
    for lang in LANGS:
        per_lang = [corpus.obfuscated[(lang, m)] for m in methods]
        obf_rows.append(f"| {lang} | " + " | ".join(map(str, per_lang)) + f" | {sum(per_lang)} |")
    return ("\n".join(rows) + "\n\nKeyword obfuscations applied by the generator (hand-written leetspeak,"
            " emoji stand-ins and Arabizi come on top):\n\n" + "\n".join(obf_rows)
            + "\n\n" + "\n".join(fam_rows) + "\n")


README_START, README_END = "<!-- counts:start -->", "<!-- counts:end -->"


def readme_with_counts(readme: str, corpus: Corpus) -> str:
    """Replace the generated block between the README markers."""
    start, end = readme.index(README_START) + len(README_START), readme.index(README_END)
    return readme[:start] + "\n" + counts_markdown(corpus) + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed files are stale")
    parser.add_argument("--dry-run", action="store_true",
                        help="build and validate everything, print the counts, write nothing")
    args = parser.parse_args(argv)
    corpus = build()
    splits = corpus.splits
    if args.dry_run:
        print(counts_markdown(corpus))
        return 0
    outputs = {path: text for s in SPLITS for path, text in split_files(s, splits[s]).items()}
    readme_path = HERE / "README.md"
    outputs[readme_path] = readme_with_counts(readme_path.read_text(encoding="utf-8"), corpus)
    # parts of a split that has shrunk since it was last written
    leftover = [p for s in SPLITS for p in split_paths(HERE, s) if p.exists() and p not in outputs]
    stale = [p.name for p, text in outputs.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text] + [p.name for p in leftover]
    if args.check:
        if stale:
            print(f"stale: {', '.join(stale)}; run {Path(__file__).name}", file=sys.stderr)
        return 1 if stale else 0
    for path in leftover:
        path.unlink()
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    total = sum(len(v) for v in splits.values())
    print(f"wrote {total} messages: " + ", ".join(f"{s}={len(splits[s])}" for s in SPLITS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
