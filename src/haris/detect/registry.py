"""Which detectors run by default.

Detectors are plug-ins on the interface in :mod:`haris.detect.base`. This is
the one place that lists the default set, so the CLI, the API and every engine
run the same detectors.
"""
from __future__ import annotations

from haris.detect.base import Detector


def message_detectors() -> list[Detector]:
    """The message-level detectors, constructed once per analyzer."""
    return []


def conversation_detectors() -> list[Detector]:
    """The conversation-level detectors."""
    return []


# Score at or above which a signal counts as flagged, per policy. Each value is
# the documented default chosen on the training split of the policy's corpus;
# `--threshold policy=value` overrides it for one run.
DEFAULT_THRESHOLDS: dict[str, float] = {}


def threshold_for(policy: str) -> float:
    return DEFAULT_THRESHOLDS.get(policy, 0.5)
