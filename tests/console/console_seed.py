"""Synthetic review data for the console tests (schematic, short, non-graphic; fictional numbers and links).

``seed(store, media_dir)`` writes accounts, two conversations, messages with
signals whose evidence points into the original text, generated pictures
(a gradient with shapes, never a photo) and review items, and returns their ids.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import update

from haris.detect.base import Evidence, Signal
from haris.model import Account, Channel, Media, Message, stable_id
from haris.review import workflow as wf
from haris.service import auth
from haris.store import schema
from haris.store.writer import RecordWriter

PASSWORD = "a long enough password"
PEOPLE = {"admin": ["admin"], "rev1": ["reviewer"], "rev2": ["reviewer"], "senior1": ["senior_reviewer"],
          "senior2": ["senior_reviewer"], "aud": ["auditor"], "vic": ["victim_data"]}

AR_OFFER = "للبيع امرأة عمرها 25 سنة السعر 12.500 دولار التسليم قريبا"
EN_REPLY = "How much for delivery to example city?"
EN_OFFER = "For sale: woman, 25, price $3,700, contact +1 555 0142"
GROOMING = "You are so mature for 13. I can send $40 for each picture, keep it secret"
FR_PROPAGANDA = "Rejoignez la nouvelle chaîne t.me/example_backup_7 après le bannissement"


def picture(path: Path, hue: int = 0) -> Path:
    """A generated 320×240 colour gradient with a circle and a bar: no person, only shapes."""
    im = Image.new("RGB", (320, 240))
    px = im.load()
    for x in range(320):
        for y in range(240):
            px[x, y] = ((x * 255 // 319 + hue) % 256, y * 255 // 239, 200)
    d = ImageDraw.Draw(im)
    d.ellipse((110, 70, 210, 170), fill=(250, 220, 0))
    d.rectangle((20, 200, 300, 220), fill=(0, 160, 80))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, format="PNG")
    return path


def span(text: str, needle: str) -> tuple[int, int]:
    i = text.index(needle)
    return i, i + len(needle)


def _ev(text: str, needle: str, label: str, kind: str = "lexicon") -> Evidence:
    s, e = span(text, needle)
    return Evidence(kind=kind, label=label, start=s, end=e, text=needle)


def _decision(priority: str, queue: str, policy: str, rules: list[str], action: str = "queue",
              second: bool = False) -> dict:
    return {"policy_id": "default", "policy_version": 1, "action": action, "actions": [action],
            "priority": priority, "queue": queue, "second_review": second, "intervention": None,
            "rules": rules, "policies": [policy]}


def users(store) -> dict:
    return {name: auth.create_user(store, name, PASSWORD, roles) for name, roles in PEOPLE.items()}


def seed(store, media_dir: Path) -> dict[str, str]:
    """Write the synthetic items; returns ids by name (messages ``m_*``, review items ``r_*``, media ``media_*``)."""
    t0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
    seller = Account.make("telegram", "1001", handle="example_seller", display_name="Example Seller")
    buyer = Account.make("telegram", "1002", handle="example_buyer", display_name="Example Buyer")
    adult = Account.make("telegram", "1003", handle="example_adult", display_name="Example Adult")
    poster = Account.make("telegram", "1004", handle="example_channel_admin")
    market = Channel.make("telegram", "-100200", kind="group", title="Example market")
    private = Channel.make("telegram", "555", kind="private", title="Private chat")
    news = Channel.make("telegram", "-100300", kind="channel", title="Example backup channel")

    def msg(pid: str, chan: Channel, author: Account, minutes: int, text: str, reply_to: str | None = None,
            media: list[Media] | None = None) -> Message:
        mid = Message.make_id("telegram", chan.platform_id, pid)
        return Message(id=mid, platform="telegram", platform_id=pid, channel_id=chan.id, author_id=author.id,
                       time=t0 + timedelta(minutes=minutes), text=text, conversation_id=chan.id,
                       reply_to_id=reply_to, media=media or [])

    ids: dict[str, str] = {}
    m_ar = msg("1", market, seller, 0, AR_OFFER)
    m_reply = msg("2", market, buyer, 3, EN_REPLY, reply_to=m_ar.id)
    offer_media = Media(id=stable_id("media", "telegram", "offer-pic"), kind="photo",
                        path=str(picture(media_dir / "offer.png")), sha256="ab" * 32, mime="image/png")
    m_en = msg("3", market, seller, 5, EN_OFFER, media=[offer_media])
    child_media = Media(id=stable_id("media", "telegram", "child-pic"), kind="photo",
                        path=str(picture(media_dir / "child.png", hue=90)), sha256="cd" * 32, mime="image/png")
    m_child = msg("10", private, adult, 20, GROOMING, media=[child_media])
    m_fr = msg("20", news, poster, 30, FR_PROPAGANDA)
    messages = [m_ar, m_reply, m_en, m_child, m_fr]
    langs = {m_ar.id: "ar", m_reply.id: "en", m_en.id: "en", m_child.id: "en", m_fr.id: "fr"}

    signals = [
        Signal("trafficking", 0.91, "sale-of-persons", "1", ["person_for_sale"], item_id=m_ar.id,
               evidence=[_ev(AR_OFFER, "للبيع", "sale_verb"), _ev(AR_OFFER, "عمرها 25 سنة", "age", "entity"),
                         _ev(AR_OFFER, "12.500 دولار", "price", "entity")],
               data={"listing": {"age": 25, "price": 12500, "currency": "USD", "delivery": True}}),
        Signal("trafficking", 0.88, "sale-of-persons", "1", ["person_for_sale"], item_id=m_en.id,
               evidence=[_ev(EN_OFFER, "For sale", "sale_verb"), _ev(EN_OFFER, "$3,700", "price", "entity")],
               data={"listing": {"age": 25, "price": 3700, "currency": "USD"}}),
        Signal("child_exploitation", 0.93, "grooming", "1", ["flattery", "compensation", "secrecy"],
               item_id=m_child.id,
               evidence=[_ev(GROOMING, "so mature for 13", "flattery"), _ev(GROOMING, "$40 for each picture",
                                                                             "compensation"),
                         _ev(GROOMING, "keep it secret", "secrecy")]),
        Signal("terrorism", 0.7, "bank-match", "1", ["known_content"], item_id=m_fr.id,
               evidence=[Evidence("hash", "near-duplicate of known propaganda",
                                  detail={"bank": "example-propaganda", "bank_type": "text", "distance": 0.08,
                                          "category": "terrorism"})]),
        Signal("terrorism", 0.66, "propaganda", "1", ["recruitment"], item_id=m_fr.id,
               evidence=[_ev(FR_PROPAGANDA, "Rejoignez la nouvelle chaîne", "call_to_join")]),
    ]
    with store.begin() as conn:
        w = RecordWriter(store, conn)
        for r in (seller, buyer, adult, poster, market, private, news):
            w.add(r)
        for m in messages:
            w.add_message(m)
        w.add_signals(signals)
        w.flush()
        for mid, lang in langs.items():
            conn.execute(update(schema.messages).where(schema.messages.c.id == mid).values(lang=lang))
        # Oldest first: the child at risk is queued last and must still come first.
        ids["r_fr"] = wf.enqueue(conn, m_fr.id, "message", _decision("normal", "terrorism", "terrorism",
                                                                       ["terrorism-known-content"], "auto_remove"),
                                 policy="terrorism", score=0.7)
        ids["r_ar"] = wf.enqueue(conn, m_ar.id, "message", _decision("high", "trafficking", "trafficking",
                                                                       ["trafficking-offer"]),
                                 policy="trafficking", score=0.91)
        ids["r_en"] = wf.enqueue(conn, m_en.id, "message", _decision("high", "trafficking", "trafficking",
                                                                       ["trafficking-offer"]),
                                 policy="trafficking", score=0.88)
        ids["r_child"] = wf.enqueue(conn, m_child.id, "message",
                                    _decision("urgent", "child-safety", "child_exploitation", ["grooming-high"],
                                              "safety_intervention"),
                                    policy="child_exploitation", score=0.93)
    ids.update(m_ar=m_ar.id, m_reply=m_reply.id, m_en=m_en.id, m_child=m_child.id, m_fr=m_fr.id,
               media_offer=offer_media.id, media_child=child_media.id, seller=seller.id, buyer=buyer.id,
               conv_market=market.id, conv_private=private.id)
    return ids


CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    m = CSRF_RE.search(html)
    assert m, "no csrf field on the page"
    return m.group(1)
