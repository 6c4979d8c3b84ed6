"""Which detectors run by default.

Detectors are plug-ins on the interface in :mod:`haris.detect.base`. This is
the one place that lists the default set, so the CLI, the API and every engine
run the same detectors.
"""
from __future__ import annotations

from haris.detect.base import Detector


def message_detectors() -> list[Detector]:
    """The message-level detectors, constructed once per analyzer.

    Construction is cheap: the lexicons and the model load on the first message, once per process.
    """
    from haris.detect.terrorism import TerrorismDetector
    from haris.detect.trafficking import TraffickingDetector

    return [TraffickingDetector(), TerrorismDetector()]


def conversation_detectors() -> list[Detector]:
    """The conversation-level detectors."""
    try:
        from haris.detect.conversation import GroomingDetector
    except ImportError:   # the conversation detector is not part of this installation
        return []
    return [GroomingDetector()]


# Score at or above which a signal counts as flagged, per policy. Each value is
# the documented default chosen on the training split of the policy's corpus;
# `--threshold policy=value` overrides it for one run.
#
# trafficking, terrorism: chosen by `haris train` on out-of-fold, calibrated scores of
# data/corpus/messages/train.jsonl + dev*.jsonl (folds grouped by scenario family): the best F1 such that at
# most 2% of news/NGO/counter-speech negatives are flagged (see docs/detection.md and
# src/haris/detect/models/messages.json). tests/detect checks they equal the shipped model's.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "trafficking": 0.62,
    "terrorism": 0.64,
}


def threshold_for(policy: str) -> float:
    if policy in DEFAULT_THRESHOLDS:
        return DEFAULT_THRESHOLDS[policy]
    if policy == "child_exploitation":
        # documented and calibrated by the conversation detector itself (docs/grooming.md)
        try:
            from haris.detect.conversation import default_threshold
        except ImportError:
            return 0.5
        return float(default_threshold())
    return 0.5
