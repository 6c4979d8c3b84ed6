"""Fixtures of the conversation tests (helpers live in conversation_helpers.py)."""
from __future__ import annotations

import pytest
from conversation_helpers import GROOMING_EN


@pytest.fixture
def grooming_en() -> list[tuple[str, str]]:
    return list(GROOMING_EN)
