"""Shared helpers for the message-detector tests (synthetic, schematic messages only)."""
from __future__ import annotations

import pytest

from haris.detect.registry import message_detectors, threshold_for
from haris.text.analysis import analyse_text


@pytest.fixture(scope="session")
def detectors():
    return message_detectors()


@pytest.fixture(scope="session")
def scan(detectors):
    """scan(text) -> {policy: Signal} for the signals of both message detectors."""
    def run(text: str, lang: str | None = None):
        analysed = analyse_text(text, lang=lang)
        return {s.policy: s for d in detectors for s in d.detect(analysed)}
    return run


@pytest.fixture(scope="session")
def flagged(scan):
    """flagged(text) -> the set of policies flagged at the default thresholds."""
    def run(text: str, lang: str | None = None) -> set[str]:
        return {p for p, s in scan(text, lang).items() if s.score >= threshold_for(p)}
    return run
