"""Helpers for the conversation tests: short synthetic, non-graphic chats (imported by the tests)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from haris.detect.conversation import ConversationState, conversation_from_eval_row
from haris.model import Message

T0 = datetime(2025, 3, 1, 18, 0, tzinfo=timezone.utc)


def chat(lines: list[tuple[str, str]], *, lang: str | None = "en", cid: str = "c1", timed: bool = True) -> dict:
    """An eval row from (sender, text) pairs."""
    msgs = []
    for i, (who, text) in enumerate(lines):
        m = {"sender": who, "text": text}
        if timed:
            m["time"] = (T0 + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        msgs.append(m)
    row = {"id": cid, "labels": [], "messages": msgs}
    if lang:
        row["lang"] = lang
    return row


def state_of(lines: list[tuple[str, str]], lang: str | None = "en") -> ConversationState:
    conv = conversation_from_eval_row(chat(lines, lang=lang))
    st = ConversationState(conv.id, lang=conv.lang)
    for m in conv.messages:
        st.update(m)
    return st


def message(i: int, author: str | None, text: str, *, conv: str = "c1", time: datetime | None = None) -> Message:
    return Message(id=f"m{conv}{i}", platform="telegram", platform_id=str(i), channel_id=f"chan_{conv}",
                   author_id=author, time=time, text=text, conversation_id=conv)


GROOMING_EN = [
    ("a", "hey, you're really good at this game"),
    ("b", "thx lol"),
    ("a", "how old are you?"),
    ("b", "13"),
    ("a", "i'm 27 but you're so mature for your age"),
    ("a", "don't tell your parents we talk, delete this chat after"),
    ("b", "ok"),
    ("a", "send me a photo just for me and i'll get you a $50 gift card"),
    ("a", "i can pick you up after school on friday"),
]
