"""`haris eval` and `haris train`: output shape, thresholds, bad input, reproducible training."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from haris.cli import cli
from haris.detect.corpus import split_paths
from haris.detect.registry import DEFAULT_THRESHOLDS

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "data" / "corpus" / "messages" / "train.jsonl"
DEV = split_paths(ROOT / "data" / "corpus" / "messages", "dev")   # dev.jsonl, dev.2.jsonl…
PROBES = Path(__file__).parent / "data" / "probes.jsonl"
METRIC_KEYS = {"precision", "recall", "f1", "support", "tp", "fp", "fn", "tn"}


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [
    {"id": "1", "lang": "en", "labels": ["trafficking"], "text": "For sale: girl, 12 years old, $12,500, delivery soon"},
    {"id": "2", "lang": "en", "labels": [], "text": "Toyota, 12 years old, $12,500, delivery soon"},
    {"id": "3", "lang": "fr", "labels": ["terrorism"], "text": "Agence Amaq : les soldats du califat ont ciblé un barrage"},
    {"id": "4", "lang": "fr", "labels": [], "kind": "hard_negative", "family": "hn.te-news-report",
     "text": "Daech a revendiqué l'attaque via son agence Amaq, selon des responsables."},
    {"id": "5", "lang": "ar", "labels": ["trafficking"], "text": "للبيع بنت عمرها ١٢ سنة السعر ٥٠٠٠ دولار"},
]


def test_eval_json_has_every_policy_and_language(tmp_path):
    f = _write(tmp_path / "eval.jsonl", ROWS)
    res = CliRunner().invoke(cli, ["eval", str(f), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out["policies"]) == {"trafficking", "terrorism", "child_exploitation"}
    for m in out["policies"].values():
        assert METRIC_KEYS <= set(m) and set(m["by_lang"]) == {"ar", "en", "fr"}
        assert METRIC_KEYS <= set(m["by_lang"]["fr"])
    tr = out["policies"]["trafficking"]
    assert (tr["tp"], tr["fp"], tr["fn"], tr["support"]) == (2, 0, 0, 2)
    assert out["policies"]["terrorism"]["tp"] == 1
    assert out["policies"]["child_exploitation"]["support"] == 0
    assert out["negatives"]["framing"] == {"count": 1, "flagged": 0, "share": 0.0,
                                           "by_policy": {"trafficking": 0, "terrorism": 0}}


def test_eval_threshold_override_changes_the_counts(tmp_path):
    f = _write(tmp_path / "eval.jsonl", ROWS)
    res = CliRunner().invoke(cli, ["eval", str(f), "--json", "--threshold", "trafficking=1.0",
                                   "--threshold", "terrorism=0.0"])
    out = json.loads(res.output)
    assert out["thresholds"]["trafficking"] == 1.0
    assert out["policies"]["terrorism"]["fp"] >= 1          # everything scored counts at 0.0


def test_eval_reports_worst_errors_with_evidence(tmp_path):
    rows = [{"id": "fn", "lang": "en", "labels": ["trafficking"], "text": "hello there"},
            {"id": "fp", "lang": "en", "labels": [], "text": "For sale: girl, 12 years old, $12,500"}]
    res = CliRunner().invoke(cli, ["eval", str(_write(tmp_path / "e.jsonl", rows)), "--json"])
    worst = json.loads(res.output)["worst"]["trafficking"]
    assert worst["false_positives"][0]["id"] == "fp" and worst["false_positives"][0]["evidence"]
    assert worst["false_negatives"][0]["id"] == "fn" and "not a candidate" in worst["false_negatives"][0]["why"]
    text = CliRunner().invoke(cli, ["eval", str(tmp_path / "e.jsonl")]).output
    assert "worst false positives" in text and "evidence:" in text


@pytest.mark.parametrize("content,where", [
    ('{"id": "1", "labels": [], "text": "ok"}\n{not json\n', ":2"),
    ('{"id": "1", "labels": ["spam"], "text": "ok"}\n', ":1"),
    ('{"id": "1", "labels": []}\n', ":1"),
])
def test_eval_bad_line_is_an_input_error_naming_the_line(tmp_path, content, where):
    from haris.cli import main
    import sys

    f = tmp_path / "bad.jsonl"
    f.write_text(content, encoding="utf-8")
    argv = sys.argv
    sys.argv = ["haris", "eval", str(f)]
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = argv
    assert exc.value.code == 3


def test_eval_bad_threshold_is_a_usage_error(tmp_path):
    f = _write(tmp_path / "eval.jsonl", ROWS)
    res = CliRunner().invoke(cli, ["eval", str(f), "--threshold", "trafficking=high"])
    assert res.exit_code == 2 and "POLICY=SCORE" in res.output


def test_eval_delegates_conversation_files(tmp_path):
    conv = ROOT / "data" / "corpus" / "conversations" / "train.jsonl"
    if not conv.exists():
        pytest.skip("no conversation corpus in this tree")
    rows = [json.loads(line) for line in conv.read_text(encoding="utf-8").splitlines()[:4]]
    res = CliRunner().invoke(cli, ["eval", str(_write(tmp_path / "c.jsonl", rows)), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out["policies"]) == {"trafficking", "terrorism", "child_exploitation"}
    assert out["policies"]["child_exploitation"]["tp"] + out["policies"]["child_exploitation"]["fn"] == \
        sum("child_exploitation" in r["labels"] for r in rows)


def test_probe_sentences_written_for_these_tests_generalise(tmp_path):
    """Held-out probes (tests/detect/data/probes.jsonl): new phrasings, never used for training."""
    from haris.detect.evaluate import evaluate_messages

    out = evaluate_messages(PROBES)
    for policy in ("trafficking", "terrorism"):
        assert out["policies"][policy]["f1"] >= 0.9, out["worst"][policy]


def test_train_is_reproducible_and_calibrated_on_train_only(tmp_path):
    lines = TRAIN.read_text(encoding="utf-8").splitlines()
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(lines[::3]) + "\n", encoding="utf-8")    # a third of the train split
    runner = CliRunner()
    for out in ("a", "b"):
        res = runner.invoke(cli, ["train", str(small), "--out", str(tmp_path / out), "--json"])
        assert res.exit_code == 0, res.output
    a, b = ((tmp_path / d / "messages.joblib").read_bytes() for d in ("a", "b"))
    assert a == b                                                        # fixed seeds: same bytes
    report = json.loads(res.output)
    for policy in ("trafficking", "terrorism"):
        assert 0.05 <= report["thresholds"][policy] <= 0.95
        assert report["meta"]["out_of_fold"][policy]["all"]["f1"] > 0.8
    from haris.detect.model import MessageModel

    model = MessageModel.load(tmp_path / "a")
    assert set(model.policies) == {"trafficking", "terrorism"}


def test_train_reads_several_files_and_refuses_the_same_record_twice(tmp_path):
    a = _write(tmp_path / "a.jsonl", ROWS[:2])
    b = _write(tmp_path / "b.jsonl", ROWS[2:])
    res = CliRunner().invoke(cli, ["train", str(a), str(a), "--out", str(tmp_path / "m")])
    assert res.exit_code != 0
    assert "a.jsonl:1: record id '1' is already in the training data" in str(res.exception)
    from haris.detect.train import corpus_sha256

    assert corpus_sha256([a, b]) == hashlib.sha256(a.read_bytes() + b.read_bytes()).hexdigest()


def test_train_refuses_a_file_without_positives(tmp_path):
    f = _write(tmp_path / "neg.jsonl", [{"id": str(i), "lang": "en", "labels": [], "text": "girl for sale"}
                                        for i in range(5)])
    res = CliRunner().invoke(cli, ["train", str(f), "--out", str(tmp_path / "m")])
    assert res.exit_code != 0


def test_shipped_model_is_fresh_and_thresholds_match_the_registry():
    """`make model` must be re-run when the corpus, the lexicons or the rules change."""
    from haris.detect.model import load_model
    from haris.detect.train import data_fingerprint

    model = load_model()
    assert model.meta["corpus_sha256"] == hashlib.sha256(b"".join(p.read_bytes() for p in (TRAIN, *DEV))).hexdigest()
    assert model.meta["data_sha256"] == data_fingerprint()
    assert model.meta["trained_on"] == "+".join(p.name for p in (TRAIN, *DEV))   # never the test split
    assert "test" not in model.meta["trained_on"]
    for policy in ("trafficking", "terrorism"):
        assert DEFAULT_THRESHOLDS[policy] == model[policy].threshold
    # the support vectors of the rbf read-outs (float16) are most of it; each retrain is a new blob in git
    assert (ROOT / "src/haris/detect/models/messages.joblib").stat().st_size < 5_000_000


def test_a_written_model_reads_back_the_same_support_vectors(tmp_path):
    """write_artifact stores the float16 support vectors as byte planes; loading gives back the same bits."""
    import joblib
    import numpy as np

    from haris.detect.model import MessageModel, _from_byte_planes, _with_support, write_artifact

    path = ROOT / "src/haris/detect/models/messages.joblib"
    raw = joblib.load(path)                                                  # as stored: byte planes
    assert all("support" not in raw["policies"][p]["second_stage"]["semantic"] for p in raw["policies"])
    artifact = _with_support(raw, _from_byte_planes, "support_planes", "support")   # as training holds it
    for p in artifact["policies"]:
        assert artifact["policies"][p]["second_stage"]["semantic"]["support"].dtype == np.float16
    write_artifact(artifact, tmp_path / "m.joblib")
    assert (tmp_path / "m.joblib").stat().st_size < 5_000_000
    shipped, again = MessageModel.load(path), MessageModel.load(tmp_path / "m.joblib")
    for p in shipped.policies:
        assert np.array_equal(again[p].second_stage.semantic.support_t, shipped[p].second_stage.semantic.support_t)


def test_support_vectors_keep_seven_mantissa_bits_rounded_to_nearest():
    """short_float16 drops float16's 3 lowest mantissa bits (the file stays small), rounding to nearest."""
    import numpy as np

    from haris.detect.model import load_model
    from haris.detect.train import short_float16

    a = np.random.default_rng(3).normal(0, 0.05, 5000)
    b = short_float16(a)
    assert b.dtype == np.float16 and not (b.view(np.uint16) & 0b111).any()
    full = a.astype(np.float16).astype(np.float64)
    # nearest of the representable 7-bit values: never further than half a step (2^-8 relative)
    assert np.all(np.abs(b.astype(np.float64) - full) <= np.abs(full) * 2.0 ** -8 + 2.0 ** -22)  # subnormals: absolute
    assert short_float16(np.array([0.0, 0.25, 1.0, -0.5])).tolist() == [0.0, 0.25, 1.0, -0.5]
    for p, pm in load_model().policies.items():       # the shipped model was written this way
        sv = pm.second_stage.semantic.support_t.astype(np.float16)
        assert not (sv.view(np.uint16) & 0b111).any(), p


def test_a_declared_framing_field_overrides_the_family_name(tmp_path):
    from haris.detect.corpus import read_labelled

    path = tmp_path / "labelled.jsonl"
    rows = [{"id": "a", "lang": "en", "labels": [], "family": "hn.survivor-testimony", "framing": True, "text": "x"},
            {"id": "b", "lang": "en", "labels": [], "family": "hn.news-quiz-night", "framing": False, "text": "y"},
            {"id": "c", "lang": "en", "labels": [], "family": "hn.news-report", "text": "z"},
            {"id": "d", "lang": "en", "labels": ["trafficking"], "family": "tr.x", "framing": True, "text": "w"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    got = {it.id: it.framing_negative for it in read_labelled(path)}
    # declared beats the name ("news" in b's name); c has no field: guessed from its name; a positive never frames
    assert got == {"a": True, "b": False, "c": True, "d": False}


def test_out_of_fold_report_counts_everyday_posts_flagged():
    import numpy as np

    from haris.detect.corpus import Labelled
    from haris.detect.train import _oof_report

    items = [Labelled(id=str(i), lang="en", labels=frozenset(lab), text="t", line=i + 1, kind=kind)
             for i, (lab, kind) in enumerate([(("trafficking",), "positive"), ((), "easy_negative"),
                                              ((), "easy_negative"), ((), "hard_negative")])]
    y = np.array([1, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.1, 0.9])      # one of the two everyday posts is flagged
    report = _oof_report(items, scores, y, np.zeros(4, dtype=bool), 0.5)
    assert report["everyday_negatives_flagged"] == 0.5
    assert report["all"]["fp"] == 2


def test_framing_negatives_weigh_more_when_the_config_says_so(tmp_path):
    """TrainConfig.framing_weight / everyday_weight: such a negative counts N times in every fit."""
    import numpy as np

    from haris.detect.corpus import read_labelled
    from haris.detect.train import TrainConfig, _fit, analyse_corpus, design

    everyday = {"id": "6", "lang": "en", "labels": [], "kind": "easy_negative",
                "text": "Selling my old car, 12 years old, $1,500, new tyres"}
    items = list(read_labelled(_write(tmp_path / "c.jsonl", [*ROWS, everyday])))
    views = analyse_corpus(items)
    d = design(items, views, "terrorism", framing_weight=3.0)
    framing = {items[i].id: w for i, w in zip(d.index, d.weight)}
    assert framing["4"] == 3.0 and framing["3"] == 1.0          # row 4 is a news report (framing)
    d = design(items, views, "trafficking", everyday_weight=2.0)
    weights = {items[i].id: w for i, w in zip(d.index, d.weight)}
    assert weights["6"] == 2.0 and weights["2"] == 1.0          # row 6 is an everyday post
    # the same atoms, one positive and one framing negative: the weight decides which side wins
    X, y = np.ones((2, 1)), np.array([1, 0])
    even, _, _ = _fit(X, ["", ""], y, TrainConfig(), np.array([1.0, 1.0]))
    weighted, _, _ = _fit(X, ["", ""], y, TrainConfig(), np.array([1.0, 3.0]))
    assert abs(even(X[:1], [""])[0]) < 1e-6 < -weighted(X[:1], [""])[0]
