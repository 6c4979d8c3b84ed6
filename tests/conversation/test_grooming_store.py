"""Conversations from the store and at-risk records, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from conversation_helpers import GROOMING_EN, T0
from sqlalchemy import inspect

from haris.detect.conversation import GroomingDetector, load_conversations
from haris.protect import at_risk_for_conversation, at_risk_from_signal, mark_intervention, record_at_risk
from haris.protect.tables import at_risk_persons
from haris.store import schema


def _insert_chat(store, conn, conv: str, lines, *, channel_kind: str = "private", lang: str | None = None):
    store.insert_ignore(conn, schema.channels, [dict(id=f"chan_{conv}", platform="telegram", platform_id=conv,
                                                     kind=channel_kind)])
    accounts = sorted({who for who, _ in lines})
    store.insert_ignore(conn, schema.accounts, [dict(id=f"acc_{conv}_{who}", platform="telegram",
                                                     platform_id=f"tg{conv}{who}") for who in accounts])
    store.insert_ignore(conn, schema.messages, [
        dict(id=f"msg_{conv}_{i}", platform="telegram", platform_id=str(i), channel_id=f"chan_{conv}",
             conversation_id=f"conv_{conv}", author_id=f"acc_{conv}_{who}", time=T0 + timedelta(minutes=i),
             text=text, kind="message", lang=lang)
        for i, (who, text) in enumerate(lines)])


def test_load_conversations_reads_private_chats_and_small_groups(store):
    big_group = [(f"u{i}", "hello all") for i in range(8)]
    with store.begin() as conn:
        _insert_chat(store, conn, "p", GROOMING_EN, lang="en")
        _insert_chat(store, conn, "b", GROOMING_EN, channel_kind="channel")     # broadcast: skipped
        _insert_chat(store, conn, "g", big_group, channel_kind="group")          # 8 people: skipped
    convs = list(load_conversations(store))
    assert [c.id for c in convs] == ["conv_p"]
    conv = convs[0]
    assert [m.text for m in conv.messages] == [t for _, t in GROOMING_EN]
    assert conv.kind == "private" and conv.lang == "en" and len(conv.participants) == 2
    assert [c.id for c in load_conversations(store, max_participants=10)] == ["conv_g", "conv_p"]


def test_at_risk_person_is_recorded_refreshed_and_marked(store):
    with store.begin() as conn:
        _insert_chat(store, conn, "p", GROOMING_EN, lang="en")
    conv = next(load_conversations(store))
    sig = GroomingDetector().detect(conv)[0]
    person = at_risk_from_signal(sig, platform="telegram")
    assert person is not None and person.account_id == "acc_p_b"
    record_at_risk(store, person)
    record_at_risk(store, person)                       # idempotent
    assert mark_intervention(store, person.id, "delivered")
    rows = at_risk_for_conversation(store, "conv_p")
    assert len(rows) == 1
    row = rows[0]
    assert row["platform_account_id"] == "tgpb"         # filled from the accounts table
    assert row["restricted"] is True and row["intervention_status"] == "delivered"
    assert row["stage"] == sig.data["current_stage"] and row["stages"] == sig.labels
    assert row["lang"] == "en" and row["score"] >= 0.5


def test_migration_creates_the_table_as_defined(store):
    cols = {c["name"] for c in inspect(store.engine).get_columns("at_risk_persons")}
    assert cols == {c.name for c in at_risk_persons.columns}
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("at_risk_persons")}
    assert {"ix_at_risk_persons_conversation_id", "ix_at_risk_persons_platform_platform_account_id"} <= indexes
