"""The grooming detector on the shared interface: signal shape, evidence spans, negatives."""
from __future__ import annotations

from datetime import timedelta

from conversation_helpers import GROOMING_EN, T0, chat, message

from haris.detect.base import CHILD_EXPLOITATION, Detector
from haris.detect.conversation import (GroomingDetector, assemble, conversation_from_eval_row,
                                       default_threshold)


def detect(lines, lang="en"):
    sigs = GroomingDetector().detect(conversation_from_eval_row(chat(lines, lang=lang)))
    return sigs[0] if sigs else None


def test_the_detector_fits_the_shared_interface():
    det = GroomingDetector()
    assert isinstance(det, Detector)
    assert (det.name, det.scope) == ("grooming", "conversation")


def test_a_grooming_conversation_gives_a_full_signal():
    conv = conversation_from_eval_row(chat(GROOMING_EN))
    sig = GroomingDetector().detect(conv)[0]
    assert sig.policy == CHILD_EXPLOITATION and sig.item_id == "c1"
    assert sig.score >= default_threshold()
    assert sig.labels == ["contact", "age_signal", "isolation", "requests", "compensation", "meeting"]
    assert sig.data["adult"] == "a" and sig.data["minor"] == "b"
    assert sig.data["stages"]["isolation"] == {"first_message": 5, "first_message_id": "c1:5"}
    assert sig.data["action"] == "queue:urgent"
    assert "safety_intervention" in sig.data["actions"]
    assert [t["message_index"] for t in sig.data["timeline"]] == sorted(t["message_index"] for t in sig.data["timeline"])
    # every evidence span points into the original text of its message
    for ev in sig.evidence:
        original = conv.messages[ev.detail["message_index"]].text
        assert original[ev.start:ev.end] == ev.text
        assert ev.kind in ("lexicon", "entity", "reply")
    assert any(ev.kind == "entity" and ev.label == "compensation" for ev in sig.evidence) or \
        any(ev.label == "compensation" for ev in sig.evidence)
    assert sig.to_dict()["policy"] == CHILD_EXPLOITATION


def test_evidence_spans_survive_obfuscation():
    conv = conversation_from_eval_row(chat([("a", "how old are you?"), ("b", "12"),
                                            ("a", "ok. D.E.L.E.T.E this chat and d0n't t3ll your mom")]))
    sig = GroomingDetector().detect(conv)[0]
    spans = {ev.text for ev in sig.evidence if ev.label == "isolation"}
    assert "D.E.L.E.T.E this chat" in spans


def test_arabic_and_arabizi_and_french_grooming_are_detected():
    ar = detect([("a", "انتي ناضجة كتير بالنسبة لعمرك"), ("a", "قديش عمرك؟"), ("b", "عمري ١٣"),
                 ("a", "لا تقولي لأهلك، امسحي المحادثة"), ("a", "ابعتيلي صورة إلك، إلي بس"),
                 ("a", "بجيبلك موبايل جديد، وين ساكنة؟")], lang="ar")
    assert ar is not None and ar.score >= default_threshold() and ar.data["minor"] == "b"
    arabizi = detect([("a", "enti 7elwe ktir"), ("a", "2adesh 3omrik?"), ("b", "3omri 13"),
                      ("a", "ma t2oli la ahlik, em7i el mo7adase"), ("a", "ba3atili sora ili bas")], lang="ar")
    assert arabizi is not None and arabizi.score >= default_threshold()
    fr = detect([("a", "t'es tellement mature pour ton âge"), ("a", "t'as quel âge ?"), ("b", "13 ans"),
                 ("a", "dis rien à tes parents, supprime la conversation"),
                 ("a", "envoie une photo rien que pour moi, je te donne une carte cadeau")], lang="fr")
    assert fr is not None and fr.score >= default_threshold() and fr.data["minor"] == "b"


def flagged(lines, lang="en"):
    sig = detect(lines, lang)
    return sig is not None and sig.score >= default_threshold()


def test_parents_teachers_same_age_children_and_adults_are_not_flagged():
    parent = [("kid", "mom can you pick me up after school?"), ("mom", "sure honey, i'll pick you up at 4"),
              ("kid", "i need $15 for the museum trip"), ("mom", "ok i'll give you the money tonight"),
              ("mom", "don't tell your sister about her birthday present, it's a surprise"),
              ("kid", "ok i won't"), ("mom", "love you")]
    teacher = [("s", "hello miss, i forgot the math homework"), ("t", "yes, send me a photo of your worksheet"),
               ("t", "well done, that's very mature work for 7th grade"),
               ("t", "i've let your parents know you're doing great"), ("s", "thank you miss!")]
    peers = [("a", "gg bro"), ("b", "how old r u"), ("a", "12 u?"), ("b", "12"),
             ("a", "add me on snap"), ("b", "send a pic of ur setup"), ("a", "lets meet at the park with the others")]
    adults = [("x", "hey, loved your profile"), ("y", "thank you!"), ("x", "i'm 34, you?"), ("y", "31, i'm a nurse"),
              ("x", "you're really beautiful"), ("y", "add me on whatsapp"), ("x", "dinner on friday? i'll pick you up at 8")]
    for lines in (parent, teacher, peers, adults):
        assert not flagged(lines), lines[0]


def test_nothing_found_means_no_signal():
    assert detect([("a", "hi"), ("b", "hello"), ("a", "nice weather today")]) is None


def test_unsupported_language_gives_a_clear_signal():
    sig = detect([("a", "Hallo, wie alt bist du? Ich bin dreizehn und gehe noch zur Schule."),
                  ("b", "Sag deinen Eltern nichts davon, das bleibt unser Geheimnis.")], lang=None)
    assert sig.labels == ["unsupported_language"]
    assert sig.score == 0.0 and sig.data["unsupported_language"] == "de"


def test_detect_accepts_raw_messages_and_assembles_them():
    msgs = [message(i, who, text, conv="k", time=T0 + timedelta(minutes=i)) for i, (who, text) in enumerate(GROOMING_EN)]
    sigs = GroomingDetector().detect(list(reversed(msgs)))     # out of order on input
    assert len(sigs) == 1 and sigs[0].data["minor"] == "b" and sigs[0].data["stages"]["isolation"]["first_message"] == 5


def test_assemble_groups_orders_and_skips_service_messages():
    a = [message(0, "x", "b", conv="one", time=T0 + timedelta(minutes=2)),
         message(1, "y", "a", conv="one", time=T0),
         message(2, "x", "c", conv="one", time=None),     # no time: stays right after "a", its predecessor
         message(3, "z", "other thread", conv="two", time=T0)]
    service = message(4, None, "x joined", conv="one", time=T0)
    service.kind = "service"
    convs = {c.id: c for c in assemble(a + [service])}
    assert [m.text for m in convs["one"].messages] == ["a", "c", "b"]
    assert convs["one"].participants == ["x", "y"]
    assert len(convs["two"]) == 1
    assert assemble(a, max_participants=1)[0].id == "two"


def test_a_conversation_of_100000_messages_is_scored():
    lines = [("a", "ok"), ("b", "lol")] * 50_000
    lines[10] = ("a", "how old are you?")
    lines[11] = ("b", "13")
    lines[99_990] = ("a", "don't tell your parents, delete this chat")
    sig = detect(lines)
    assert sig is not None and sig.data["messages"] == 100_000
    assert sig.data["stages"]["isolation"]["first_message"] == 99_990
