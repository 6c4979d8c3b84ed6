"""Evaluation on labelled conversation files, and the targets on the held-out test split."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conversation_helpers import GROOMING_EN, chat

from haris.detect.conversation import evaluate_conversations, render_evaluation
from haris.errors import InputError

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus" / "conversations"


def write(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_metrics_per_language_and_earliness(tmp_path):
    pos = {**chat(GROOMING_EN, cid="p1"), "labels": ["child_exploitation"]}
    neg = {**chat([("k", "mom can you pick me up?"), ("m", "sure honey, at 4")], cid="n1"), "labels": []}
    fr_neg = {**chat([("a", "salut"), ("b", "ça va ?")], lang="fr", cid="n2"), "labels": []}
    result = evaluate_conversations(write(tmp_path / "c.jsonl", [pos, neg, fr_neg]))
    m = result["policies"]["child_exploitation"]
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (1, 0, 0, 2)
    assert m["precision"] == m["recall"] == m["f1"] == 1.0 and m["support"] == 1
    assert set(m["by_lang"]) == {"en", "fr"} and m["by_lang"]["fr"]["tn"] == 1
    assert 0 < result["earliness"]["median"] <= 1 and result["earliness"]["n"] == 1
    text = render_evaluation(result)
    assert "child_exploitation" in text and "earliness" in text


def test_a_higher_threshold_flags_less(tmp_path):
    pos = {**chat(GROOMING_EN, cid="p1"), "labels": ["child_exploitation"]}
    path = write(tmp_path / "c.jsonl", [pos])
    assert evaluate_conversations(path, threshold=0.999999)["policies"]["child_exploitation"]["fn"] == 1


@pytest.mark.parametrize("line,problem", [
    ("not json", "not JSON"),
    ('{"id": "x", "labels": []}', "not a conversation"),
    ('{"id": "x", "labels": "yes", "messages": []}', "labels"),
    ('{"id": "x", "labels": [], "messages": [{"sender": "a", "text": "hi", "time": "yesterday"}]}', "ISO 8601"),
    ('{"id": "x", "labels": [], "messages": ["hi"]}', "not an object"),
])
def test_bad_lines_name_the_file_and_line(tmp_path, line, problem):
    path = write(tmp_path / "bad.jsonl", [chat([("a", "hi")]), line])
    with pytest.raises(InputError, match=problem) as err:
        evaluate_conversations(path)
    assert err.value.line == 2 and str(path) in str(err.value)


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        evaluate_conversations(tmp_path / "nope.jsonl")


def test_targets_on_the_held_out_test_split():
    """The release targets of issue 5, on scenario families that training never saw."""
    result = evaluate_conversations(CORPUS / "test.jsonl")
    per_lang = result["policies"]["child_exploitation"]["by_lang"]
    assert set(per_lang) == {"ar", "en", "fr"}
    for lang, m in per_lang.items():
        assert m["f1"] >= 0.90, (lang, m)
    assert result["earliness"]["median"] <= 0.5
    flagged = result["hard_negatives_flagged"]
    assert flagged["hn.relative-birthday"] == 0 and flagged["hn.teacher-school-trip"] == 0
