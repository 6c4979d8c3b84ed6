"""The labelled conversation corpus: schema, balance, split by family, and the data rules."""
from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from haris.detect.conversation.lexicon import STAGES

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus" / "conversations"
LANGS = ("ar", "en", "fr")
FIELDS = {"id", "lang", "labels", "kind", "family", "stages", "roles", "messages"}
# Explicit words that must never appear: the corpus states grooming schematically and
# euphemistically ("a photo just for me"), never sexual acts or bodies.
GRAPHIC = re.compile(r"(?i)\b(nude|naked|sex|sexy|porn|undress|breast|genital|nue|nues|déshabill|seins|"
                     r"porno)\w*|عاري|عارية|جنس|إباحي|اباحي")
URL_RE = re.compile(r"(?i)\b(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/\S*)?")
PHONE_RE = re.compile(r"\+?\d[\d\s().-]{7,}\d")


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict]]:
    out = {}
    for split in ("train", "test"):
        lines = (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        out[split] = [json.loads(line) for line in lines]
    return out


def test_schema_and_ids(splits):
    ids = Counter()
    for split, rows in splits.items():
        for r in rows:
            assert FIELDS <= set(r), r["id"]
            assert r["lang"] in LANGS
            assert r["labels"] in ([], ["child_exploitation"])
            assert r["kind"] == ("positive" if r["labels"] else "hard_negative")
            assert f"-{split}-" in r["id"]
            assert all(s in STAGES for s in r["stages"])
            assert set(r["roles"]) == {m["sender"] for m in r["messages"]}
            ids[r["id"]] += 1
    assert max(ids.values()) == 1


def test_size_balance_and_length(splits):
    rows = splits["train"] + splits["test"]
    for lang in LANGS:
        mine = [r for r in rows if r["lang"] == lang]
        assert len(mine) >= 130
        assert sum(1 for r in mine if r["kind"] == "hard_negative") >= len(mine) / 2
        assert all(8 <= len(r["messages"]) <= 30 for r in mine)
    assert {r["dialect"] for r in rows if r["lang"] == "ar"} >= {"lev", "egy", "gulf", "mag", "irq", "z"}


def test_families_never_cross_the_split(splits):
    train = {r["family"] for r in splits["train"]}
    test = {r["family"] for r in splits["test"]}
    assert not train & test
    for split in splits.values():
        assert {r["kind"] for r in split} == {"positive", "hard_negative"}


def test_positives_are_scripted_with_stages_in_the_grooming_order(splits):
    for r in splits["train"] + splits["test"]:
        if r["labels"]:
            assert "contact" in r["stages"] and len(r["stages"]) >= 4
            assert "adult" in r["roles"].values() and "minor" in r["roles"].values()


def test_data_rules_no_graphic_words_no_real_contacts(splits):
    for r in splits["train"] + splits["test"]:
        for m in r["messages"]:
            text = m["text"]
            assert not GRAPHIC.search(text), (r["id"], text)
            for url in URL_RE.findall(text):
                assert "example" in url, (r["id"], url)
            assert not PHONE_RE.search(text), (r["id"], text)
            for handle in re.findall(r"\bexample_\w+|@\w+", text):
                assert handle.lstrip("@").startswith("example_"), (r["id"], handle)


def test_committed_files_match_the_generator():
    spec = importlib.util.spec_from_file_location("conv_corpus_generate", CORPUS / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.main(["--check"]) == 0, "run: .venv/bin/python data/corpus/conversations/generate.py"
