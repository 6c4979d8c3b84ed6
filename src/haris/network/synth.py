"""Synthetic account networks with planted answers, in the store's shape.

:func:`generate` builds accounts, channels and messages (haris model records,
fictional throughout: handles like ``example_abu_nour_7``, links like
``https://t.me/+example…`` and ``example.com``, neutral word-salad texts from
``data/synth/{ar,en,fr}.txt``) together with the truth the analyses should
recover:

- **communities**: each account belongs to one; it posts mostly in its
  community's groups, replies to and mentions mostly its members, forwards its
  channels, shares its invite links and media;
- **evaders**: accounts banned at a known time that come back under a new
  account, with *strong* evidence (renumbered handle, same name and bio, same
  avatar, a "new account" announcement naming the old one, old contacts, old
  texts and links) or *weak* evidence (exactly two kinds); *decoys* share a
  similar handle by chance (another community, nothing else in common); *late
  joiners* arrive after a ban in the same community with other names;
- **migration**: one community's invite links move from Telegram to TamTam at
  a known moment;
- **policy mix**: one community's messages carry terrorism signals, another's
  trafficking signals (scores planted in ``signals``, detector ``synth``);
- **bad input**: accounts with no messages, self-replies, replies to missing
  messages, forwards from unknown accounts, channel posts with no author.

:func:`load_into_store` writes it through the store's own writer, so the
evaluation exercises the whole path store → graph → analyses.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from haris.detect.base import Signal
from haris.model import Account, Channel, Conversation, Link, Media, Message, stable_id

DATA = Path(__file__).parent / "data" / "synth"
LANGS = ("ar", "en", "fr")
PLATFORM = "telegram"


@dataclass
class SynthConfig:
    seed: int = 0
    communities: int = 8
    accounts: tuple[int, int] = (30, 60)               # per community
    channels: int = 2                                  # per community
    weeks: int = 16
    start: datetime = datetime(2026, 1, 5, tzinfo=timezone.utc)   # a Monday
    messages: tuple[int, int] = (6, 20)                # per account over the whole period
    p_inside: float = 0.9                              # a message stays inside its community
    p_reply: float = 0.3
    p_mention: float = 0.1
    p_forward: float = 0.08
    p_link: float = 0.12
    p_media: float = 0.08
    strong_evaders: int = 6
    weak_evaders: int = 8
    bans_without_return: int = 2
    decoys: int = 8
    late_joiners: int = 12
    inactive: int = 8
    migration_community: int = 2
    migration_week: int = 9
    supporters_community: int = 0                      # terrorism signals; seeds for expansion
    trafficking_community: int = 1


@dataclass
class SynthTruth:
    community_of: dict[str, int] = field(default_factory=dict)    # account id -> planted community
    evaders: list[dict] = field(default_factory=list)             # {banned, evader, strength, evidence}
    decoys: list[dict] = field(default_factory=list)              # {banned, decoy}
    late_joiners: list[str] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)             # {account_id, at, reason}
    migration: dict = field(default_factory=dict)                 # {community, at, from, to}
    supporters: list[str] = field(default_factory=list)
    inactive: list[str] = field(default_factory=list)


@dataclass
class SynthData:
    config: SynthConfig
    records: list = field(default_factory=list)        # Account, Channel, Conversation, Message
    signals: list[Signal] = field(default_factory=list)
    lang_of: dict[str, str] = field(default_factory=dict)   # author id -> language of its messages
    avatars: dict[str, str] = field(default_factory=dict)   # account id -> PDQ hex (fictional)
    truth: SynthTruth = field(default_factory=SynthTruth)

    @property
    def messages(self) -> list[Message]:
        return [r for r in self.records if isinstance(r, Message)]


@lru_cache(maxsize=None)
def _words(name: str) -> tuple[str, ...]:
    lines = (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return tuple(w for ln in lines if not ln.startswith("#") for w in ln.split())


@lru_cache(maxsize=1)
def _name_parts() -> tuple[tuple[str, ...], tuple[str, ...]]:
    first, second = [], []
    for ln in (DATA / "names.txt").read_text(encoding="utf-8").splitlines():
        if ln.startswith("@first"):
            first = ln.split()[1:]
        elif ln.startswith("@second"):
            second = ln.split()[1:]
    return tuple(first), tuple(second)


@dataclass
class _Person:
    account: Account
    community: int
    start: datetime
    end: datetime
    lang: str
    n_messages: int
    contacts_from: str | None = None          # an old account whose contacts this one seeks out
    copy_from: str | None = None              # an old account whose texts and items this one reposts
    announce: str | None = None               # "named" or "plain"
    personal_link: str = ""
    personal_media: str = ""


class _Generator:
    def __init__(self, cfg: SynthConfig):
        self.cfg, self.rng = cfg, random.Random(cfg.seed)
        self.data = SynthData(cfg)
        self.end = cfg.start + timedelta(weeks=cfg.weeks)
        self.people: list[_Person] = []
        self.by_id: dict[str, _Person] = {}
        self.used_stems: set[str] = set()
        self.n = 0

    # -- identities -----------------------------------------------------------------
    def _hex(self, nbytes: int) -> str:
        return "%0*x" % (nbytes * 2, self.rng.getrandbits(nbytes * 8))

    def _stem(self) -> tuple[str, str]:
        first, second = _name_parts()
        while True:
            a, b = self.rng.choice(first), self.rng.choice(second)
            stem = f"{a}_{b}_{self.rng.choice(second)}" if f"{a}_{b}" in self.used_stems else f"{a}_{b}"
            if stem not in self.used_stems:
                self.used_stems.add(stem)
                return stem, " ".join(p.title() for p in stem.split("_"))

    def _bio(self, lang: str) -> str:
        return " ".join(self.rng.choice(_words(lang)) for _ in range(6))

    def person(self, community: int, *, handle: str | None = None, name: str | None = None, bio: str | None = None,
               start: datetime | None = None, end: datetime | None = None, avatar: str | None = None) -> _Person:
        self.n += 1
        if handle is None:
            stem, shown = self._stem()
            handle = f"example_{stem}" + (f"_{self.rng.randint(1, 40)}" if self.rng.random() < 0.5 else "")
            name = name or shown
        lang = LANGS[community % len(LANGS)]
        acct = Account.make(PLATFORM, f"user{self.cfg.seed}_{self.n}", handle=handle, display_name=name,
                            bio=bio if bio is not None else self._bio(lang))
        p = _Person(acct, community, start or self.cfg.start, end or self.end, lang,
                    self.rng.randint(*self.cfg.messages),
                    personal_link=f"https://example.com/u/{handle}", personal_media=self._hex(32))
        self.people.append(p)
        self.by_id[acct.id] = p
        self.data.avatars[acct.id] = avatar or self._hex(32)
        self.data.records.append(acct)
        self.data.truth.community_of[acct.id] = community
        return p

    def _near(self, pdq: str, flips: int = 6) -> str:
        v = int(pdq, 16)
        for bit in self.rng.sample(range(256), flips):
            v ^= 1 << bit
        return "%064x" % v

    # -- the plan -----------------------------------------------------------------------
    def build(self) -> SynthData:
        cfg, rng = self.cfg, self.rng
        self.channels = []
        for c in range(cfg.communities):
            chans = [Channel.make(PLATFORM, f"synth{cfg.seed}_c{c}_g{j}", kind="group",
                                  title=f"Example group {c}-{j}", handle=f"example_group_{c}_{j}")
                     for j in range(cfg.channels)]
            self.channels.append(chans)
            for ch in chans:
                self.data.records += [ch, Conversation(id=ch.id, platform=PLATFORM, channel_id=ch.id, kind="group")]
            for _ in range(rng.randint(*cfg.accounts)):
                self.person(c)
        self.invites = {c: [f"https://t.me/+example{c}{self._hex(5)}" for _ in range(3)]
                        for c in range(cfg.communities)}
        self.tamtam = [f"https://tt.me/join/example{cfg.migration_community}{self._hex(5)}" for _ in range(3)]
        self.media_pool = {c: [self._hex(32) for _ in range(6)] for c in range(cfg.communities)}
        self._plant_evasion()
        for _ in range(cfg.inactive):
            p = self.person(rng.randrange(cfg.communities))
            p.n_messages = 0
            self.data.truth.inactive.append(p.account.id)
        planted = cfg.start + timedelta(weeks=cfg.migration_week, days=rng.uniform(0, 7))
        self.data.truth.migration = {"community": cfg.migration_community, "at": planted,
                                     "from": "telegram", "to": "tamtam"}
        self._messages(planted)
        sup = cfg.supporters_community
        self.data.truth.supporters = [p.account.id for p in self.people if p.community == sup and p.n_messages]
        self.data.lang_of = {p.account.id: p.lang for p in self.people}
        return self.data

    def _ban_time(self) -> datetime:
        return self.cfg.start + timedelta(weeks=self.rng.uniform(5, 11))

    def _plant_evasion(self) -> None:
        cfg, rng, truth = self.cfg, self.rng, self.data.truth
        kinds = ["name", "bio", "avatar", "announce", "content", "contacts"]
        plan = (["strong"] * cfg.strong_evaders + ["weak"] * cfg.weak_evaders + ["none"] * cfg.bans_without_return)
        banned: list[_Person] = []
        for strength in plan:
            c = rng.randrange(cfg.communities)
            at = self._ban_time()
            stem, shown = self._stem()
            num = rng.randint(1, 30)
            old = self.person(c, handle=f"example_{stem}_{num}", name=shown, end=at)
            banned.append(old)
            truth.actions.append({"account_id": old.account.id, "at": at, "reason": "synthetic: terms of service"})
            if strength == "none":
                continue
            back = at + timedelta(days=rng.uniform(0.3, 6))
            evidence = kinds if strength == "strong" else rng.sample(kinds, 2)
            if "name" in evidence:
                variant = 0 if strength == "strong" else rng.randrange(3)
                handle = (f"example_{stem}_{num + 1}", f"example.{stem.replace('_', '.')}.{num}",
                          f"example_{stem}_{num}{rng.randint(0, 9)}")[variant]
                name = shown
            else:
                handle, name = None, None
            new = self.person(c, handle=handle, name=name, start=back,
                              bio=old.account.bio if "bio" in evidence else None,
                              avatar=self._near(self.data.avatars[old.account.id]) if "avatar" in evidence else None)
            new.n_messages = max(new.n_messages, 8)
            new.announce = ("named" if strength == "strong" else "plain") if "announce" in evidence else None
            new.copy_from = old.account.id if "content" in evidence else None
            new.contacts_from = old.account.id if "contacts" in evidence else None
            truth.evaders.append({"banned": old.account.id, "evader": new.account.id, "strength": strength,
                                  "evidence": sorted(evidence)})
        for i in range(cfg.decoys):
            old = banned[i % len(banned)]
            a = next(x for x in truth.actions if x["account_id"] == old.account.id)["at"]
            other = rng.choice([c for c in range(cfg.communities) if c != old.community] or [old.community])
            base = old.account.handle.rsplit("_", 1)[0]
            d = self.person(other, handle=f"{base}_{rng.randint(31, 99)}", name=old.account.display_name,
                            start=a + timedelta(days=rng.uniform(0.5, 20)))
            truth.decoys.append({"banned": old.account.id, "decoy": d.account.id})
        for _ in range(cfg.late_joiners):
            old = rng.choice(banned)
            a = next(x for x in truth.actions if x["account_id"] == old.account.id)["at"]
            j = self.person(old.community, start=a + timedelta(days=rng.uniform(0.5, 20)))
            truth.late_joiners.append(j.account.id)

    # -- messages -------------------------------------------------------------------------
    def _messages(self, planted: datetime) -> None:
        cfg, rng = self.cfg, self.rng
        plan = []
        for p in self.people:
            span = (min(p.end, self.end) - p.start).total_seconds()
            for k in range(p.n_messages):
                plan.append((p.start + timedelta(seconds=rng.uniform(60, max(120, span - 60))), p, k))
        plan.sort(key=lambda x: (x[0], x[1].account.id, x[2]))
        members = {c: [p for p in self.people if p.community == c and p.n_messages] for c in range(cfg.communities)}
        recent: dict[str, list[Message]] = {}
        posted: dict[str, list[Message]] = {}
        contacts: dict[str, list[str]] = {}
        announced: set[str] = set()
        for i, (t, p, _k) in enumerate(plan):
            c = p.community if rng.random() < cfg.p_inside else rng.randrange(cfg.communities)
            ch = rng.choice(self.channels[c])
            words = [rng.choice(_words(p.lang)) for _ in range(rng.randint(8, 14))]
            links: list[Link] = []
            media: list[Media] = []
            reply_to = fwd = None
            if p.announce and p.account.id not in announced:
                announced.add(p.account.id)
                phrase = rng.choice(_announcements(p.lang))
                old = self._old(p)
                words = [phrase] + words[:4] + ([f"@{old.account.handle}"] if p.announce == "named" else [])
            elif p.copy_from and posted.get(p.copy_from) and rng.random() < 0.4:
                src = rng.choice(posted[p.copy_from])
                words = src.text.split()
            pool = recent.get(ch.id, [])
            # A returning account that seeks out its old contacts replies to and mentions them more.
            reconnect = 2.0 if p.contacts_from else 1.0
            if pool and rng.random() < cfg.p_reply * reconnect:
                target = self._pick_contact(p, pool, contacts)
                reply_to = target.id
                contacts.setdefault(p.account.id, []).append(target.author_id)
            if rng.random() < cfg.p_mention * reconnect * 1.5:
                who = self._mention(p, c, members, contacts)
                if who is not None:
                    words.append("@" + who.account.handle)
            if rng.random() < cfg.p_forward:
                fwd = rng.choice(self.channels[c])
            if rng.random() < (cfg.p_link * (2 if p.community == cfg.migration_community else 1)):
                links.append(self._link(p, t, planted))
            if p.copy_from and rng.random() < 0.5:
                old = self.by_id[p.copy_from]
                links.append(_link(old.personal_link))
                media.append(Media(id=stable_id("media", PLATFORM, "copy", cfg.seed, i), kind="photo",
                                   sha256=old.personal_media))
            elif rng.random() < 0.1:
                links.append(_link(p.personal_link))
            if rng.random() < cfg.p_media:
                sha = rng.choice(self.media_pool[p.community]) if rng.random() < 0.8 else p.personal_media
                media.append(Media(id=stable_id("media", PLATFORM, cfg.seed, i), kind="photo", sha256=sha))
            text = " ".join(words + [ln.url for ln in links])
            m = Message(id=Message.make_id(PLATFORM, ch.platform_id, f"{cfg.seed}_{i}"), platform=PLATFORM,
                        platform_id=f"{cfg.seed}_{i}", channel_id=ch.id, author_id=p.account.id, time=t, text=text,
                        conversation_id=ch.id, reply_to_id=reply_to, forwarded_from=fwd.title if fwd else None,
                        forwarded_from_id=fwd.id if fwd else None, links=links, media=media)
            self.data.records.append(m)
            recent.setdefault(ch.id, []).append(m)
            del recent[ch.id][:-30]
            posted.setdefault(p.account.id, []).append(m)
            self._signal(p, m)
        self._bad_input(plan)

    def _old(self, p: _Person) -> _Person:
        ev = next(e for e in self.data.truth.evaders if e["evader"] == p.account.id)
        return self.by_id[ev["banned"]]

    def _pick_contact(self, p: _Person, pool: list[Message], contacts: dict[str, list[str]]) -> Message:
        if p.contacts_from and self.rng.random() < 0.7:
            old_contacts = set(contacts.get(p.contacts_from, []))
            mine = [m for m in pool if m.author_id in old_contacts]
            if mine:
                return self.rng.choice(mine)
        return self.rng.choice(pool)

    def _mention(self, p: _Person, c: int, members: dict, contacts: dict) -> _Person | None:
        if p.contacts_from and contacts.get(p.contacts_from):
            return self.by_id.get(self.rng.choice(contacts[p.contacts_from]))
        return self.rng.choice(members[c]) if members[c] else None

    def _link(self, p: _Person, t: datetime, planted: datetime) -> Link:
        rng, c = self.rng, p.community
        roll = rng.random()
        if roll < 0.6:
            if c == self.cfg.migration_community and t >= planted and rng.random() < 0.85:
                return _link(rng.choice(self.tamtam))
            return _link(rng.choice(self.invites[c]))
        if roll < 0.9:
            return _link(f"https://site{c}.example.org/post/{rng.randint(1, 500)}")
        return _link(f"https://news.example.net/item/{rng.randint(1, 500)}")

    def _signal(self, p: _Person, m: Message) -> None:
        cfg, rng = self.cfg, self.rng
        r = rng.random()
        if p.community == cfg.supporters_community and r < 0.35:
            policy, score = "terrorism", rng.uniform(0.6, 0.95)
        elif p.community == cfg.trafficking_community and r < 0.25:
            policy, score = "trafficking", rng.uniform(0.6, 0.95)
        elif r < 0.03:
            policy, score = rng.choice(("terrorism", "trafficking", "child_exploitation")), rng.uniform(0.5, 0.7)
        elif r < 0.13:
            policy, score = rng.choice(("terrorism", "trafficking")), rng.uniform(0.05, 0.4)
        else:
            return
        self.data.signals.append(Signal(policy=policy, score=round(score, 3), detector="synth",
                                        detector_version="1", labels=["synthetic"], item_id=m.id))

    def _bad_input(self, plan) -> None:
        """Edge cases real exports contain: self-replies, dangling replies, unknown forwards, authorless posts."""
        msgs = self.data.messages
        if not msgs:
            return
        rng, cfg = self.rng, self.cfg
        for k in range(3):
            m = rng.choice(msgs)
            mine = [x for x in msgs if x.author_id == m.author_id and x.time > m.time]
            if mine:
                mine[0].reply_to_id = m.id                                         # a self-reply
            rng.choice(msgs).reply_to_id = stable_id("msg", PLATFORM, "missing", cfg.seed, k)   # parent never seen
            rng.choice(msgs).forwarded_from_id = stable_id("acct", PLATFORM, "unknown", cfg.seed, k)
            ch = self.channels[k % len(self.channels)][0]
            self.data.records.append(Message(
                id=Message.make_id(PLATFORM, ch.platform_id, f"notice{cfg.seed}_{k}"), platform=PLATFORM,
                platform_id=f"notice{cfg.seed}_{k}", channel_id=ch.id, author_id=None,
                time=cfg.start + timedelta(days=k + 1), text="group notice: schedule update", conversation_id=ch.id))


def _link(url: str) -> Link:
    host = url.split("/")[2]
    if host == "t.me":
        return Link(url=url, platform="telegram", kind="invite" if "/+" in url else "profile", domain=host)
    if host == "tt.me":
        return Link(url=url, platform="tamtam", kind="invite" if "/join/" in url else "profile", domain=host)
    return Link(url=url, platform="web", kind="web", domain=host)


@lru_cache(maxsize=None)
def _announcements(lang: str) -> tuple[str, ...]:
    from haris.network.similarity import DATA as SIM_DATA

    lines = (SIM_DATA / "announcements" / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
    return tuple(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))


def generate(config: SynthConfig | None = None, **overrides) -> SynthData:
    """A synthetic network (records, signals, avatars) and its planted truth; same seed, same data."""
    cfg = config or SynthConfig()
    for k, v in overrides.items():
        if not hasattr(cfg, k):
            raise TypeError(f"SynthConfig has no setting {k!r}")
        setattr(cfg, k, v)
    return _Generator(cfg).build()


def load_into_store(store, data: SynthData, *, actions: bool = True) -> None:
    """Write the records and signals with the store's writer, set each message's language, record the bans."""
    from sqlalchemy import bindparam, update

    from haris.store import schema
    from haris.store.writer import RecordWriter

    with store.begin() as conn:
        writer = RecordWriter(store, conn, source_id=None)
        for rec in data.records:
            writer.add(rec)
        writer.add_signals(data.signals)
        writer.flush()
        rows = [{"b_id": r.id, "b_lang": data.lang_of[r.author_id]}
                for r in data.messages if r.author_id in data.lang_of]
        if rows:
            conn.execute(update(schema.messages).where(schema.messages.c.id == bindparam("b_id"))
                         .values(lang=bindparam("b_lang")), rows)
    if actions:
        from haris.network.evasion import mark_actioned

        for a in data.truth.actions:
            mark_actioned(store, a["account_id"], a["at"], a["reason"])
