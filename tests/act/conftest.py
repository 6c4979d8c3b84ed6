"""Fixtures for the act-and-report tests: a real local HTTP receiver and a seeded store.

All content is synthetic, short and schematic (see the brief's data rules):
fictional accounts (example_…), example.com, no real people.
"""
from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from act_helpers import PW, T0, Receiver

from haris.model import Account, Channel, Conversation, Link, Media, Message
from haris.service import auth
from haris.store.db import Store
from haris.store.writer import RecordWriter


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite store migrated once; each test gets a copy (migrating takes most of a second)."""
    path = tmp_path_factory.mktemp("template") / "haris.db"
    Store.open(f"sqlite:///{path}").dispose()      # closing the last connection checkpoints the WAL
    return path


@pytest.fixture
def store(db_url, sqlite_template):
    """The shared ``store`` fixture, faster on SQLite: a copy of a migrated template."""
    if db_url.startswith("sqlite:///"):
        target = Path(db_url[len("sqlite:///"):])
        shutil.copyfile(sqlite_template, target)
        s = Store.open(db_url, migrate=False)
    else:
        s = Store.open(db_url)
    yield s
    s.dispose()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Argon2 with its production cost takes ~0.5 s a user; these tests are not about passwords."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("HARIS_DATA_DIR", str(d))
    monkeypatch.delenv("HARIS_EVIDENCE_KEY", raising=False)
    monkeypatch.delenv("HARIS_SECRET_KEY", raising=False)
    return d


@pytest.fixture
def seeded(store, tmp_path, data_dir):
    """Accounts, channels and messages on three platforms, people with roles, and their ids."""
    img = tmp_path / "media" / "photo_1.png"
    img.parent.mkdir()
    from PIL import Image
    import numpy as np

    Image.fromarray((np.random.default_rng(7).random((64, 64, 3)) * 255).astype("uint8")).save(img)
    ids: dict[str, str] = {}
    with store.begin() as conn:
        w = RecordWriter(store, conn)
        seller = Account.make("telegram", "1001", handle="example_seller", display_name="Seller X")
        recruiter = Account.make("telegram", "1002", handle="example_caller", display_name="Caller")
        adult = Account.make("telegram", "2001", handle="example_adult", display_name="Uncle K")
        minor = Account.make("telegram", "2002", handle="example_kid", display_name="Kid")
        tw = Account.make("twitter", "3001", handle="example_poster")
        for a in (seller, recruiter, adult, minor, tw):
            w.add(a)
        market = Channel.make("telegram", "-100777", kind="channel", title="Example Market", handle="example_market")
        news = Channel.make("telegram", "-100888", kind="channel", title="Example Calls", handle="example_calls")
        dm = Channel.make("telegram", "2001_2002", kind="private", title="private chat")
        timeline = Channel.make("twitter", "timeline", kind="timeline")
        for c in (market, news, dm, timeline):
            w.add(c)
        w.add(Conversation(id=dm.id, platform="telegram", channel_id=dm.id, kind="private"))

        def m(platform, chan, pid, author, text, minutes, **kw):
            mid = Message.make_id(platform, chan.platform_id, pid)
            w.add_message(Message(id=mid, platform=platform, platform_id=pid, channel_id=chan.id,
                                  conversation_id=kw.pop("conversation_id", chan.id), author_id=author.id,
                                  time=T0 + timedelta(minutes=minutes), text=text, **kw))
            return mid

        ids["before"] = m("telegram", market, "40", seller, "selling a used car, good price", 0)
        ids["sale"] = m("telegram", market, "41", seller, "offer: girl, age 12, price 12,500, delivery soon", 5,
                        links=[Link(url="https://example.com/shop/1", platform="web", kind="web", domain="example.com"),
                               Link(url="https://t.me/+exampleInvite1", platform="telegram", kind="invite",
                                    domain="t.me")],
                        media=[Media(id="med_sale_1", kind="photo", sha256="ab" * 32, path=str(img))])
        ids["after"] = m("telegram", market, "42", seller, "selling goats, contact me", 10)
        ids["call"] = m("telegram", news, "7", recruiter, "join the group, the brothers are recruiting", 20,
                        links=[Link(url="https://example.org/join", platform="web", kind="web", domain="example.org")])
        ids["tweet"] = m("twitter", timeline, "1790000000000000001", tw, "join us, travel to the front", 30)
        conv = [("2001", adult, "how old are you?", 40), ("2002", minor, "i am 13", 41),
                ("2003", adult, "send me a photo, i will pay $40, don't tell your parents", 42)]
        for pid, who, text, minute in conv:
            ids[f"dm_{pid}"] = m("telegram", dm, pid, who, text, minute,
                                 media=[Media(id=f"med_dm_{pid}", kind="photo", sha256=f"{int(pid):064x}",
                                              path=str(img))] if pid == "2003" else [])
        w.flush()
        # the grooming detector's conversation signal names the adult and the minor
        from haris.detect.base import Signal
        w.add_signals([Signal(policy="child_exploitation", score=0.93, detector="grooming", detector_version="1",
                              labels=["contact", "age_signal", "requests", "compensation"], item_id=dm.id,
                              data={"adult": adult.id, "minor": minor.id})], item_kind="conversation")
        w.add_signals([Signal(policy="trafficking", score=0.95, detector="trafficking", detector_version="1",
                              labels=["sale", "minor_involved"], item_id=ids["sale"]),
                       Signal(policy="terrorism", score=0.9, detector="terrorism", detector_version="1",
                              labels=["recruitment"], item_id=ids["call"])])
        w.flush()
    ids.update(conversation=dm.id, seller=seller.id, adult=adult.id, minor=minor.id, market=market.id)
    people = {name: auth.create_user(store, name, PW, roles)
              for name, roles in [("rev1", ["reviewer"]), ("senior", ["senior_reviewer"]), ("aud", ["auditor"]),
                                  ("admin", ["admin"])]}
    return {"ids": ids, "people": people, "image": img}


