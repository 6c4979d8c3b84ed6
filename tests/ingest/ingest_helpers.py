"""Helpers for the ingest tests: fixture paths and checks every connector must pass.

A module with a unique name (not conftest) so test files can import it: tests/ folders have no
__init__.py, so module names must not clash with other folders.
"""
from __future__ import annotations

from pathlib import Path


from haris.model import Account, Channel, Conversation, Message

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def split(records):
    """(accounts, channels, conversations, messages) keyed by id (messages as a list, in order)."""
    accounts = {r.id: r for r in records if isinstance(r, Account)}
    channels = {r.id: r for r in records if isinstance(r, Channel)}
    conversations = {r.id: r for r in records if isinstance(r, Conversation)}
    messages = [r for r in records if isinstance(r, Message)]
    return accounts, channels, conversations, messages


def assert_well_ordered(records) -> None:
    """Each account/channel/conversation once, before the first message that refers to it."""
    seen: set[str] = set()
    for r in records:
        if isinstance(r, (Account, Channel, Conversation)):
            assert r.id not in seen, f"{r} yielded twice"
            seen.add(r.id)
            if isinstance(r, Conversation) and r.channel_id:
                assert r.channel_id in seen, f"{r} before its channel"
        else:
            assert isinstance(r, Message)
            for ref in (r.author_id, r.channel_id, r.conversation_id, r.forwarded_from_id):
                assert ref is None or ref in seen, f"{r.origin}: {ref} not yielded before the message"


def message(messages, platform_id: str) -> Message:
    found = [m for m in messages if m.platform_id == platform_id]
    assert len(found) == 1, f"{len(found)} messages with platform id {platform_id}"
    return found[0]
