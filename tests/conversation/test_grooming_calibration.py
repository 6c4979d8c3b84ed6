"""The shipped calibration is the fit of the train split, and its coefficients make sense."""
from __future__ import annotations

import json

from haris.detect.conversation import calibrate
from haris.detect.conversation.scoring import CALIBRATION, FEATURES


def test_calibration_json_is_the_fit_of_the_train_split():
    shipped = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    refit = calibrate.fit()
    hint = "stale: run .venv/bin/python -m haris.detect.conversation.calibrate"
    assert shipped["train_sha256"] == refit["train_sha256"], hint
    assert shipped["threshold"] == refit["threshold"], hint
    assert abs(shipped["intercept"] - refit["intercept"]) < 1e-3, hint
    for name, value in refit["coef"].items():   # solver noise across machines stays far below 1e-3
        assert abs(shipped["coef"][name] - value) < 1e-3, (name, hint)


def test_coefficients_point_the_documented_way():
    coef = json.loads(CALIBRATION.read_text(encoding="utf-8"))["coef"]
    assert set(coef) == set(FEATURES)
    for grooming in ("isolation", "requests", "contact", "order", "minor_strong", "threat"):
        assert coef[grooming] > 0, grooming
    for benign in ("family", "protective", "peer"):
        assert coef[benign] < 0, benign


def test_threshold_is_a_probability_chosen_on_train():
    doc = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    assert 0.2 <= doc["threshold"] <= 0.8
    assert doc["fitted_on"].endswith("train.jsonl")
