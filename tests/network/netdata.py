"""Hand-made records for the network tests (imported by the test modules as ``netdata``)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from haris.model import Account, Channel, Link, Media, Message
from haris.store.writer import RecordWriter

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def acct(pid: str, handle: str | None = None, name: str | None = None, bio: str | None = None) -> Account:
    return Account.make("telegram", pid, handle=handle, display_name=name, bio=bio)


def chan(pid: str, handle: str | None = None) -> Channel:
    return Channel.make("telegram", pid, kind="group", title=f"Example group {pid}", handle=handle)


def msg(ch: Channel, pid: str, author: Account | None, hours: float, text: str = "hello there", **kw) -> Message:
    return Message(id=Message.make_id("telegram", ch.platform_id, pid), platform="telegram", platform_id=pid,
                   channel_id=ch.id, author_id=author.id if author else None, time=T0 + timedelta(hours=hours),
                   text=text, conversation_id=ch.id, **kw)


def link(url: str, platform: str = "telegram", kind: str = "invite") -> Link:
    return Link(url=url, platform=platform, kind=kind, domain=url.split("/")[2])


def media(sha: str, i: int) -> Media:
    return Media(id=f"med_{sha[:6]}_{i}", kind="photo", sha256=sha)


def write(store, *records) -> None:
    with store.begin() as conn:
        w = RecordWriter(store, conn)
        for r in records:
            w.add(r)
        w.flush()


SMALL = dict(communities=4, accounts=(14, 20), messages=(5, 10), p_link=0.3, strong_evaders=2, weak_evaders=2,
             bans_without_return=1, decoys=2, late_joiners=3, inactive=3, migration_community=1,
             supporters_community=0, trafficking_community=2)
