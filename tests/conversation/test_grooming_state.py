"""Incremental scoring: stages, roles, ages, and bad input (bounded memory, no crash)."""
from __future__ import annotations

from datetime import timedelta

from haris.detect.conversation import ConversationState, assess
from haris.detect.conversation.state import EVIDENCE_PER_STAGE, MAX_SENDERS

from conversation_helpers import T0, state_of
from haris.detect.conversation.state import deep_size


def test_stages_begin_where_the_adult_first_says_them(grooming_en):
    a = assess(state_of(grooming_en))
    assert a.minor == "b" and a.adult == "a"
    assert a.stages == {"contact": 0, "age_signal": 3, "isolation": 5, "requests": 7, "compensation": 7,
                        "meeting": 8}
    assert a.current_stage == "meeting"
    assert a.flagged and a.action == "queue:urgent" and "safety_intervention" in a.actions


def test_score_rises_as_the_grooming_advances(grooming_en):
    st = ConversationState("c", lang="en")
    scores = []
    for i, (who, text) in enumerate(grooming_en):
        st.add(who, text, message_id=f"m{i}")
        scores.append(st.score())
    assert scores[-1] > 0.9
    assert scores[1] < 0.2
    assert max(scores[:5]) < scores[-1]


def test_a_reply_to_how_old_are_you_is_the_senders_age():
    st = state_of([("a", "how old are you?"), ("b", "14 u?"), ("a", "i'm 31")])
    assert st.senders["b"].self_age == 14
    assert st.senders["a"].self_age == 31


def test_ages_of_third_parties_are_not_the_senders():
    st = state_of([("p", "hello, my son is 12, he's in 7th grade"), ("t", "i charge $20 an hour")])
    assert st.senders["p"].self_age is None and st.senders["p"].grades == 0
    assert assess(st).minor is None


def test_an_age_said_to_someone_is_the_addressees():
    st = state_of([("b", "hi"), ("a", "you're only 14 but so mature")])
    assert st.senders["b"].told_age == 14
    assert assess(st).minor == "b"


def test_children_of_the_same_age_are_peers_not_groomer_and_child():
    st = state_of([("a", "gg bro"), ("b", "how old r u"), ("a", "13 u?"), ("b", "13 too"),
                   ("a", "send me a pic of your new skin"), ("b", "don't tell anyone i'm this bad lol"),
                   ("a", "wanna meet at the park after school?")])
    a = assess(st)
    assert a.features["peer"] == 1.0
    assert not a.flagged


def test_one_message_and_empty_messages_do_not_crash():
    st = ConversationState("c", lang="en")
    assert st.score() == 0.0
    st.add("a", "")
    st.add("a", "   ")
    st.add("a", None)  # type: ignore[arg-type]
    assert st.n == 3 and st.score() < 0.1
    one = state_of([("a", "hello")])
    assert one.n == 1 and not assess(one).flagged


def test_unknown_senders_are_counted_not_crashed():
    st = ConversationState("c", lang="en")
    st.add(None, "how old are you?")
    st.add(None, "13")
    st.add(None, "don't tell your parents")
    assert st.unknown_senders == 3
    assert 0.0 <= st.score() <= 1.0


def test_out_of_order_and_missing_times_are_counted():
    st = ConversationState("c", lang="en")
    st.add("a", "hi", time=T0)
    st.add("b", "hey", time=T0 - timedelta(hours=1))    # out of order
    st.add("a", "sup", time=None)                        # missing
    st.add("b", "ok", time=T0.replace(tzinfo=None))      # naive against aware
    assert st.out_of_order == 1
    assert st.n == 4


def test_memory_is_bounded_whatever_the_length(grooming_en):
    short = ConversationState("c", lang="en")
    for who, text in grooming_en:
        short.add(who, text)
    long = ConversationState("c", lang="en")
    for i in range(20_000):   # the 100,000-message case is in test_detector (short texts, faster)
        who, text = grooming_en[i % len(grooming_en)]
        long.add(who, text, message_id=f"m{i}")
    assert long.n == 20_000
    assert len(long.evidence) <= EVIDENCE_PER_STAGE * 7
    assert deep_size(long) < 10_000
    assert deep_size(long) < deep_size(short) + 2_000   # grows with nothing but counters


def test_many_senders_share_one_slot():
    st = ConversationState("c", lang="en")
    for i in range(50):
        st.add(f"user{i}", "hello everyone")
    assert len(st.senders) == MAX_SENDERS + 1


def test_unsupported_language_is_reported_not_scored():
    st = state_of([("a", "Hallo, wie alt bist du? Ich bin dreizehn Jahre alt und gehe in die Schule."),
                   ("b", "Sag deinen Eltern nichts davon, das bleibt unser Geheimnis, okay?")], lang=None)
    assert st.unsupported == "de"
    assert st.score() == 0.0
    given = ConversationState("c", lang="de")
    given.add("a", "anything")
    assert given.unsupported == "de"


def test_language_is_identified_when_not_given(grooming_en):
    st = state_of(grooming_en, lang=None)
    assert st.lang == "en"
    assert assess(st).flagged
    assert ConversationState("c", lang="und").lang is None     # "und" means: identify it


def test_arabic_lines_in_a_french_chat_are_read_with_the_arabic_lexicon():
    st = state_of([("a", "salut, t'as quel âge ?"), ("b", "13 ans"), ("a", "لا تقولي لأهلك")], lang="fr")
    assert st.senders["a"].stage_first[2] == 2    # isolation, from the Arabic line
