"""The sentence encoder behind the model's "semantic" feature (haris.detect.encoder)."""
from __future__ import annotations

import numpy as np
import pytest

from haris.detect import encoder
from haris.detect.model import PolicyModel, load_model
from haris.errors import ConfigError


def test_embeddings_are_unit_length_and_the_same_one_by_one_or_in_batches():
    texts = ["For sale: girl, 12 years old, $12,500", "بنت للبيع عمرها ١٢ سنة", "Toyota 2012, 12 500 €"]
    batch = encoder.embed_many(texts)
    assert batch.shape == (3, encoder.DIMENSIONS)
    for i, t in enumerate(texts):
        one = encoder.embed(t)
        assert abs(float(one @ one) - 1.0) < 1e-3
        assert np.allclose(one, batch[i], atol=1e-5)         # training and scoring see the same vector


def test_what_is_learnt_in_one_language_carries_to_the_others():
    """A sale of a person in Arabic and French lies nearer the English one than a car advert does."""
    en = encoder.embed("For sale: girl, 12 years old, $12,500, delivery soon")
    ar = encoder.embed("للبيع بنت عمرها ١٢ سنة، السعر ١٢٥٠٠ دولار، التسليم قريباً")
    fr = encoder.embed("À vendre : fille de 12 ans, 12 500 $, livraison bientôt")
    car = encoder.embed("For sale: Toyota, 12 years old, $12,500, delivery soon")
    assert float(en @ ar) > float(ar @ car)
    assert float(en @ fr) > float(fr @ car)


def test_long_and_empty_texts_are_bounded_and_do_not_fail():
    assert np.allclose(encoder.embed("x " * 500_000), encoder.embed(("x " * 500_000)[:encoder.MAX_CHARS]))
    assert encoder.embed("").shape == (encoder.DIMENSIONS,)
    assert encoder.embed("🙂🙂🙂").shape == (encoder.DIMENSIONS,)


def test_the_shipped_model_reads_this_encoder_and_refuses_another():
    model = load_model()
    for policy in ("trafficking", "terrorism"):
        second = model[policy].second_stage
        assert second is not None and second.semantic is not None and "semantic" in second.features
        assert model[policy].semantic is None          # the first stage never encodes
    params = {"features": ["rule_logit"], "coef": [1.0], "intercept": 0.0, "calibration": {"a": 1.0, "b": 0.0},
              "threshold": 0.5, "semantic": {"encoder": "another-encoder", "coef": [0.0] * 512, "intercept": 0.0}}
    with pytest.raises(ConfigError, match="retrain"):
        PolicyModel("trafficking", params)


def _cascade() -> PolicyModel:
    first = {"features": ["rule_logit"], "coef": [1.0], "intercept": 0.0, "calibration": {"a": 1.0, "b": 0.0},
             "threshold": 0.5}
    second = {"features": ["rule_logit", "semantic"], "coef": [1.0, 2.0], "intercept": -1.0,
              "calibration": {"a": 1.0, "b": 0.0}, "band": [0.2, 0.8],
              "semantic": {"encoder": encoder.NAME, "coef": [0.0] * encoder.DIMENSIONS, "intercept": 0.0}}
    return PolicyModel("trafficking", {**first, "second_stage": second})


def test_only_scores_in_the_uncertain_band_go_to_the_encoder():
    model = _cascade()
    for logit in (-5.0, 5.0):        # clearly benign, clearly violating: the first stage answers
        score, contribs = model.score({"rule_logit": logit}, "text", "text")
        assert abs(score - 1 / (1 + np.exp(-logit))) < 1e-9
        assert "semantic" not in {c.feature for c in contribs}
    score, contribs = model.score({"rule_logit": 0.0}, "text", "text")   # 0.5: inside [0.2, 0.8)
    # second stage: z = -1 + 0 + 2 · σ(0) = 0 → 0.5, and the read-out is in the evidence
    assert abs(score - 0.5) < 1e-9
    assert {c.feature for c in contribs} == {"semantic"}


def test_the_shipped_cascade_rescoring_band_is_recorded_in_training():
    model = load_model()
    for policy in ("trafficking", "terrorism"):
        low, high = model[policy].band
        assert 0.0 <= low < high
        assert model.meta["out_of_fold"][policy]["second_stage"]["band"] == [low, high]


def test_prefetching_a_chunk_batches_the_encoder_and_changes_no_signal(monkeypatch):
    from haris.detect.message import prefetch_embeddings
    from haris.detect.registry import message_detectors
    from haris.text.analysis import analyse_text

    texts = ["Le club vend son attaquant de 24 ans pour 9 M€", "خرفان للبيع السعر 300 ألف دينار للتواصل",
             "Our channel was banned again. New channel 👉 t.me/example_ansar01 — share it with the brothers.",
             "Selling my car, 2012 model, $12,500, delivery soon", "see you at 7 👍"]
    detectors = message_detectors()
    items = [analyse_text(t) for t in texts]

    def signals():
        return [[(s.policy, s.score) for d in detectors for s in d.detect(a)] for a in items]

    monkeypatch.setattr(encoder._local, "prefetched", {}, raising=False)
    monkeypatch.setattr(encoder._local, "last", None, raising=False)
    one_by_one = signals()
    model = encoder._get()
    calls: list[int] = []
    real = model.encode
    monkeypatch.setattr(model, "encode", lambda batch: calls.append(len(batch)) or real(batch))
    monkeypatch.setattr(encoder._local, "last", None)
    wanted = prefetch_embeddings(items, detectors)
    assert wanted >= 1 and calls == [wanted]          # one batch for the whole chunk
    assert signals() == one_by_one and calls == [wanted]   # scoring found every embedding ready


def test_a_prefetched_chunk_is_analysed_once_and_nothing_more_is_held(monkeypatch):
    from haris.detect import view as view_module
    from haris.detect.message import prefetch_embeddings
    from haris.detect.registry import message_detectors
    from haris.text.analysis import analyse_text

    detectors = message_detectors()
    chunk = [analyse_text(t) for t in ("For sale: girl, 12 years old, $12,500, delivery soon",
                                       "New channel of the Dawla: t.me/example_news, share it with the brothers",
                                       "see you at 7 👍")]
    builds: list[str] = []
    real = view_module._build
    monkeypatch.setattr(view_module, "_build", lambda a: builds.append(a.original) or real(a))
    prefetch_embeddings(chunk, detectors)
    for a in chunk:
        for d in detectors:
            list(d.detect(a))
    assert sorted(builds) == sorted(a.original for a in chunk)    # each message's view built once
    later = [analyse_text(f"message number {i}") for i in range(5)]  # one at a time after the chunk
    for a in later:
        for d in detectors:
            list(d.detect(a))
    assert len(view_module._local.held) == len(chunk)                # only the chunk is held


def test_the_rbf_read_out_scores_as_the_fitted_support_vector_machine_and_reads_the_atoms():
    """What training fits (scikit-learn's SVC) and what inference computes (plain NumPy) agree."""
    from haris.detect.model import SemanticReadout
    from haris.detect.train import Design, TrainConfig, _readout_params, _semantic_readout, semantic_inputs

    rng = np.random.default_rng(3)
    # near-identical embeddings: what tells the messages apart is the roles beside them
    E = rng.normal(size=encoder.DIMENSIONS) + 0.02 * rng.normal(size=(80, encoder.DIMENSIONS))
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    names = ["person", "price", "rule_logit"]
    X = np.column_stack([rng.integers(0, 2, 80), rng.integers(0, 3, 80), rng.normal(size=80)])
    y = ((X[:, 0] > 0) & (X[:, 1] > 0)).astype(int)          # the label depends on the atoms only
    d = Design(names, X, [""] * 80, [""] * 80, y, np.arange(80), np.arange(80), np.ones(80))
    cfg = TrainConfig()
    J = semantic_inputs(E, d, cfg)
    assert J.shape == (80, encoder.DIMENSIONS + 2)          # the rule score is not beside the embedding
    assert set(np.unique(J[:, -1])) <= {0.0, cfg.semantic_atoms}   # counts are clipped to 1
    svm = _semantic_readout(J, y, cfg)
    readout = SemanticReadout("trafficking", _readout_params(svm, names, cfg))
    assert readout.kernel == "rbf" and readout.atoms == ["person", "price"]
    expected = 1 / (1 + np.exp(-svm.decision_function(J[:10])))
    got = [readout.value(E[i], dict(zip(names, X[i]))) for i in range(10)]
    assert np.allclose(got, expected, atol=2e-3)            # float16 support vectors
    # the same embedding reads differently with and without the roles it was learnt with
    with_roles = readout.value(E[0], {"person": 1, "price": 2})
    without = readout.value(E[0], {})
    assert with_roles > 0.5 > without


def test_an_unknown_read_out_kernel_is_refused():
    from haris.detect.model import SemanticReadout

    with pytest.raises(ConfigError, match="kernel"):
        SemanticReadout("trafficking", {"encoder": encoder.NAME, "kernel": "poly", "coef": [0.0] * 512,
                                        "intercept": 0.0})


def test_eastern_arabic_digits_are_read_as_the_digits_they_are():
    """The encoder's vocabulary has no ١٢: the text it reads has 12 instead (and . , for ٫ ٬)."""
    assert encoder.text_key("بنت ١٢ سنة، ٣٫٥٠٠ $ و۱۴") == "بنت 12 سنة، 3.500 $ و14"
    assert np.allclose(encoder.embed("بنت ١٢ سنة"), encoder.embed("بنت 12 سنة"))


def test_the_tokenizer_is_the_original_sentencepiece_one_unknown_piece_per_unknown_run():
    """The C++ library, as the original model's op: a run outside the vocabulary is ONE unknown piece
    (the package's pure-Python port gave one per character, so such texts read differently)."""
    sp = encoder._get().sp
    ids = sp.encode("mother \U0001F469\u200d\U0001F467\u200d\U0001F466 kids", out_type=int)
    assert ids.count(sp.unk_id()) == 1
    assert encoder._get().sp.encode("for sale", out_type=int, add_bos=True, add_eos=True)[0] == 1   # <s>
