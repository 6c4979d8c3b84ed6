"""Build the labelled conversation corpus (train.jsonl, test.jsonl) from hand-written scripts.

The corpus evaluates (and calibrates) the conversation-level detector of the
`child_exploitation` policy: grooming across a whole chat, in Arabic (dialects and
Arabizi), English and French, against hard negatives that use the same words (parents,
teachers, coaches, photographers, children of the same age, adults dating adults).

Every message is written by hand in ``templates/<lang>.yaml``: a family (scenario) is a
script of *beats*; each beat has a speaker letter, optional stages it starts, an optional
probability, and several alternative phrasings. This script picks one phrasing per beat,
fills slots, interleaves chit-chat from the speakers' filler pools, obfuscates a few
marked cues, adds timestamps and writes the two splits. Splits are decided per family in
``families.yaml``, so the test split measures generalisation to unseen scenarios.

Template syntax
    ``{slot}``     a value fixed for the whole conversation (an age, a price, an app...):
                   NUMERIC_SLOTS below, ``{grade}`` from the minor's age, words from the
                   template's ``slots:``
    ``[[words]]``  a cue that may be obfuscated (spaced letters, dots, look-alikes,
                   leetspeak, tatweel); the brackets are dropped otherwise
    ``lev:`` ...   a dialect tag (``dialects:`` of the template: lev, egy, gulf, mag, irq,
                   msa, and z for Arabizi); each conversation is drawn in one dialect (or in
                   Arabizi) and prefers that dialect's phrasings, then untagged ones
    beat keys      ``s`` speaker (a, m, x, p, q), ``st`` stage or list of stages the beat
                   starts (positives only), ``p`` probability the beat is kept, ``t`` the
                   phrasings

Everything is deterministic: each conversation draws from its own ``random.Random``
seeded with ``SEED|lang|family|index``.

    .venv/bin/python data/corpus/conversations/generate.py          # rewrite the files
    .venv/bin/python data/corpus/conversations/generate.py --check  # exit 1 if stale
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SEED = 20250305
LANGS = ("ar", "en", "fr")
SPLITS = ("train", "test")
MIN_MESSAGES, MAX_MESSAGES = 8, 30
OBFUSCATION_RATE = 0.5      # share of marked cues that get obfuscated
ARABIZI_RATE = 0.2           # share of Arabic conversations drawn in Arabizi mode
EASTERN_DIGITS_RATE = 0.3    # share of Arabic-script conversations written with ١٢٣

NUMERIC_SLOTS: dict[str, tuple[int, int]] = {
    "minor_age": (11, 15),       # the child in positives and family negatives
    "teen_age": (16, 17),        # babysitters: minors, but hiring them is lawful
    "adult_age": (19, 46),
    "young_adult_age": (19, 24), # older cousins and siblings
    "child_age": (6, 10),        # a younger child mentioned by a parent
    "price_tiny": (10, 25),      # hourly rates
    "price_small": (20, 120),    # gift cards, trips, sessions
    "price_mid": (150, 600),     # phones, 'clients pay'
    "n_currency": (400, 5000),   # game currency
    "hour": (3, 8),
}
LATIN_ONLY_SLOTS = frozenset({"handle"})
MARK_RE = re.compile(r"\[\[(.+?)\]\]")
SLOT_RE = re.compile(r"\{(\w+)\}")
HOMOGLYPHS = str.maketrans({"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х", "y": "у"})
LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"})
EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


TAG_RE = re.compile(r"^(\w+):\s*(.*)$", re.S)


def _phrasings(beat: dict, dialect: str | None, tags: frozenset[str]) -> list[str]:
    """The phrasings of a beat for one conversation's dialect.

    A phrasing may start with a dialect tag ("lev: ...", "z: ..." for Arabizi). Tagged
    phrasings of the conversation's dialect come first, then untagged ones; phrasings of
    another dialect are used only when a beat has nothing else.
    """
    split: dict[str | None, list[str]] = {}
    for t in (str(x) for x in beat["t"]):
        m = TAG_RE.match(t)
        tag, text = (m.group(1), m.group(2)) if m and m.group(1) in tags else (None, t)
        split.setdefault(tag, []).append(text)
    return split.get(dialect) or split.get(None) or [t for v in split.values() for t in v]


def _pool(items: list[str], dialect: str | None, tags: frozenset[str]) -> list[str]:
    """Filler and slot words: the dialect's own plus the untagged ones."""
    out = []
    for t in (str(x) for x in items):
        m = TAG_RE.match(t)
        if m and m.group(1) in tags:
            if m.group(1) == dialect:
                out.append(m.group(2))
        else:
            out.append(t)
    return out or [TAG_RE.sub(r"\2", str(x)) for x in items]


def _obfuscate(cue: str, rng: random.Random, counts: Counter) -> str:
    if rng.random() >= OBFUSCATION_RATE:
        return cue
    arabic = bool(re.search(r"[\u0600-\u06ff]", cue))
    methods = ("spaced", "tatweel", "dotted") if arabic else ("spaced", "dotted", "leet", "homoglyph")
    method = rng.choice(methods)
    counts[method] += 1
    if method == "spaced":
        return "  ".join(" ".join(w) for w in cue.split())
    if method == "dotted":
        return " ".join(".".join(w) for w in cue.split())
    if method == "tatweel":
        return " ".join("ـ".join(w) for w in cue.split())
    if method == "leet":
        return cue.translate(LEET)
    return cue.translate(HOMOGLYPHS)


class Slots:
    """Slot values fixed for one conversation."""

    def __init__(self, lang_data: dict, rng: random.Random, eastern: bool, dialect: str | None = None):
        tags = frozenset(lang_data.get("dialects", ()))
        self.words = {k: _pool(v, dialect, tags) for k, v in lang_data.get("slots", {}).items()}
        self.grades: dict[int, str] = {int(k): str(v) for k, v in lang_data.get("grade_by_age", {}).items()}
        self.rng = rng
        self.eastern = eastern
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str:
        if name not in self.values:
            self.values[name] = self._draw(name)
        return self.values[name]

    def _draw(self, name: str) -> str:
        if name == "grade":
            return self.grades[int(self.get("minor_age").translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")))]
        if name == "peer_age":  # a friend of the same age as the minor, give or take one year
            base = int(self.get("minor_age").translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")))
            return self._num(base + self.rng.choice((-1, 0, 0, 1)), name)
        if name in NUMERIC_SLOTS:
            lo, hi = NUMERIC_SLOTS[name]
            value = self.rng.randint(lo, hi)
            if name.startswith("price") and value > 30:
                value = value // 5 * 5
            if name == "n_currency":
                value = value // 100 * 100
            return self._num(value, name)
        if name in self.words:
            return self.rng.choice(self.words[name])
        raise KeyError(f"unknown slot {{{name}}}")

    def _num(self, value: int, name: str) -> str:
        s = str(value)
        return s.translate(EASTERN) if self.eastern else s


def render_text(template: str, slots: Slots, rng: random.Random, obf: Counter) -> str:
    text = SLOT_RE.sub(lambda m: slots.get(m.group(1)), template)
    return MARK_RE.sub(lambda m: _obfuscate(m.group(1), rng, obf), text)


def _sender_ids(rng: random.Random, letters: list[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    while len(ids) < len(letters):
        candidate = f"user_{rng.randint(1000, 99999)}"
        if candidate not in ids.values():
            ids[letters[len(ids)]] = candidate
    return ids


def build_conversation(lang: str, fam_name: str, fam: dict, lang_data: dict, index: int,
                       obf: Counter) -> dict:
    rng = random.Random(f"{SEED}|{lang}|{fam_name}|{index}")
    tags = frozenset(lang_data.get("dialects", ()))
    arabizi = "z" in tags and rng.random() < ARABIZI_RATE
    dialect = "z" if arabizi else (rng.choice(sorted(tags - {"z"})) if tags - {"z"} else None)
    eastern = lang == "ar" and not arabizi and rng.random() < EASTERN_DIGITS_RATE
    slots = Slots(lang_data, rng, eastern, dialect)
    script = lang_data["families"][fam_name]
    fill = fam["fill"]
    fillers = lang_data["fillers"]

    beats: list[tuple[str, str, list[str]]] = []   # (speaker, template, stages)
    for beat in script:
        if rng.random() >= float(beat.get("p", 1.0)):
            continue
        st = beat.get("st") or []
        beats.append((beat["s"], rng.choice(_phrasings(beat, dialect, tags)), [st] if isinstance(st, str) else list(st)))
    target = max(len(beats), rng.randint(MIN_MESSAGES, MAX_MESSAGES))
    target = min(max(target, MIN_MESSAGES), MAX_MESSAGES)
    n_fill = max(0, target - len(beats))
    # Chit-chat goes between beats (more often after the opening and at the end), spoken by
    # the conversation's participants in their own register.
    slots_for_fill = [rng.randint(1, len(beats)) for _ in range(n_fill)]
    speakers = sorted({b[0] for b in beats} | set(fill))
    sequence: list[tuple[str, str, list[str]]] = []
    for pos in range(len(beats) + 1):
        if pos > 0:
            sequence.append(beats[pos - 1])
        for _ in range(slots_for_fill.count(pos)):
            who = rng.choice([s for s in speakers if s in fill and s != (sequence[-1][0] if sequence else None)]
                             or speakers)
            pool = _pool(fillers[fill[who]], dialect, tags)
            sequence.append((who, rng.choice(pool), []))
    if len(sequence) > MAX_MESSAGES:
        raise SystemExit(f"{lang}/{fam_name}: a script of {len(beats)} beats is longer than {MAX_MESSAGES}")

    ids = _sender_ids(rng, sorted({s for s, _, _ in sequence}))
    t = datetime(2025, 1, 6, 15, 0, tzinfo=timezone.utc) + timedelta(days=rng.randint(0, 300),
                                                                     minutes=rng.randint(0, 360))
    messages, stages = [], {}
    for i, (who, template, st) in enumerate(sequence):
        text = render_text(template, slots, rng, obf)
        gap = rng.choice((5, 12, 30, 45, 60, 90, 180, 400)) if rng.random() < 0.93 else rng.randint(3600, 86400)
        t += timedelta(seconds=gap)
        messages.append({"sender": ids[who], "text": text, "time": t.strftime("%Y-%m-%dT%H:%M:%SZ")})
        if fam["kind"] == "positive":
            for stage in st:
                stages.setdefault(stage, i)
    roles = {ids[s]: fam["roles"].get(s, "unknown") for s in ids}
    return {
        "id": None, "lang": lang,
        "labels": ["child_exploitation"] if fam["kind"] == "positive" else [],
        "kind": fam["kind"], "family": fam_name,
        "stages": dict(sorted(stages.items(), key=lambda kv: kv[1])),
        "roles": roles, **({"dialect": dialect} if dialect else {}), "messages": messages,
    }


def build() -> tuple[dict[str, list[dict]], Counter]:
    fams = _load_yaml(HERE / "families.yaml")
    stage_names = set(fams["stages"])
    splits: dict[str, list[dict]] = {s: [] for s in SPLITS}
    obf: Counter = Counter()
    for lang in LANGS:
        lang_data = _load_yaml(HERE / "templates" / f"{lang}.yaml")
        missing = set(fams["families"]) - set(lang_data["families"])
        if missing:
            raise SystemExit(f"templates/{lang}.yaml lacks families: {sorted(missing)}")
        for fam_name, fam in fams["families"].items():
            for beat in lang_data["families"][fam_name]:
                st = beat.get("st") or []
                for stage in [st] if isinstance(st, str) else st:
                    if stage not in stage_names:
                        raise SystemExit(f"{lang}/{fam_name}: unknown stage {stage!r}")
            code = "gr" if fam["kind"] == "positive" else "hn"
            for i in range(fam["count"]):
                conv = build_conversation(lang, fam_name, fam, lang_data, i, obf)
                conv["_code"] = code
                splits[fam["split"]].append(conv)
    for split, convs in splits.items():
        per: Counter = Counter()
        for conv in convs:
            key = (conv["lang"], conv.pop("_code"))
            per[key] += 1
            conv["id"] = f"{key[0]}-{key[1]}-{split}-{per[key]:04d}"
    return splits, obf


def to_jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def counts_markdown(splits: dict[str, list[dict]], obf: Counter) -> str:
    rows = ["| split | lang | grooming | hard negative | total | hard-neg share | messages (min-median-max) |",
            "|---|---|---|---|---|---|---|"]
    for split in SPLITS:
        for lang in LANGS:
            convs = [c for c in splits[split] if c["lang"] == lang]
            pos = sum(1 for c in convs if c["labels"])
            lens = sorted(len(c["messages"]) for c in convs)
            rows.append(f"| {split} | {lang} | {pos} | {len(convs) - pos} | {len(convs)} | "
                        f"{(len(convs) - pos) / len(convs):.0%} | {lens[0]}-{lens[len(lens) // 2]}-{lens[-1]} |")
    fams = _load_yaml(HERE / "families.yaml")["families"]
    rows += ["", "| family | split | kind | conversations per language | about |", "|---|---|---|---|---|"]
    for name, fam in fams.items():
        rows.append(f"| `{name}` | {fam['split']} | {fam['kind']} | {fam['count']} | {fam['about']} |")
    arabizi = sum(1 for s in SPLITS for c in splits[s] if c.get("dialect") == "z")
    rows += ["", f"Arabizi-mode Arabic conversations: {arabizi}. Cues obfuscated by the generator: "
             + ", ".join(f"{k} {v}" for k, v in sorted(obf.items())) + "."]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed files are stale")
    args = ap.parse_args(argv)
    splits, obf = build()
    outputs = {HERE / f"{s}.jsonl": to_jsonl(splits[s]) for s in SPLITS}
    readme_path = HERE / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.exists() else ""
    start, end = "<!-- counts:start -->", "<!-- counts:end -->"
    if start in readme and end in readme:
        head, rest = readme.split(start, 1)
        _, tail = rest.split(end, 1)
        outputs[readme_path] = f"{head}{start}\n{counts_markdown(splits, obf)}\n{end}{tail}"
    stale = [p for p, text in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in stale:
            print(f"stale: {p.relative_to(HERE)}", file=sys.stderr)
        return 1 if stale else 0
    for p, text in outputs.items():
        p.write_text(text, encoding="utf-8")
    print(f"wrote {', '.join(f'{s}: {len(splits[s])}' for s in SPLITS)} conversations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
