"""Per-platform URL rules: what a path means (invite, profile, post) and its canonical form.

The lists (hosts, aliases, shorteners, tracking parameters) are in ``data/extract/urls.yaml``;
what each platform's paths mean is code, one small function per platform.
Kinds: "invite" (joins a group or channel), "profile" (an account, channel or group page),
"post" (one message or video), "shortener", "web" (anything else).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from haris.errors import ConfigError
from haris.text.extract import _lexicon as lex


@dataclass(slots=True)
class Result:
    host: str
    segments: list[str]
    query: list[str]
    kind: str = "web"
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rules:
    strip_prefixes: tuple[str, ...]
    aliases: dict[str, str]
    hosts: dict[str, str]                 # host → platform
    shorteners: frozenset[str]
    tracking: frozenset[str]
    tracking_prefixes: tuple[str, ...]
    platform_tracking: dict[str, frozenset[str]]
    schemeless_tlds: frozenset[str]

    def canonical_host(self, host: str) -> str:
        host = host.lower().rstrip(".")
        host = self.aliases.get(host, host)
        changed = True
        while changed:
            changed = False
            for prefix in self.strip_prefixes:
                rest = host[len(prefix):]
                if host.startswith(prefix) and "." in rest:
                    host, changed = rest, True
        return self.aliases.get(host, host)

    def platform(self, host: str) -> str:
        parts = host.split(".")
        for i in range(len(parts) - 1):
            found = self.hosts.get(".".join(parts[i:]))
            if found:
                return found
        return "web"

    def is_shortener(self, host: str, segments: list[str]) -> bool:
        return host in self.shorteners or (
            bool(segments) and segments[0] == "t" and host in ("tiktok.com", "snapchat.com"))

    def is_tracking(self, name: str, platform: str) -> bool:
        name = name.lower()
        return (name in self.tracking or name.startswith(self.tracking_prefixes)
                or name in self.platform_tracking.get(platform, ()))


@cache
def rules() -> Rules:
    path = lex.EXTRACT_DIR / "urls.yaml"
    data = lex.load_yaml(path)
    try:
        hosts = {h.lower(): platform for platform, hs in data["platforms"].items() for h in hs}
        return Rules(
            strip_prefixes=tuple(data["strip_host_prefixes"]),
            aliases={k.lower(): v.lower() for k, v in data["host_aliases"].items()},
            hosts=hosts,
            shorteners=frozenset(h.lower() for h in data["shorteners"]),
            tracking=frozenset(p.lower() for p in data["tracking_params"]),
            tracking_prefixes=tuple(data["tracking_prefixes"]),
            platform_tracking={k: frozenset(v) for k, v in data["platform_tracking_params"].items()},
            schemeless_tlds=frozenset(data["schemeless_tlds"]),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: missing or invalid key: {exc}") from exc


_TG_USER = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_TG_RESERVED = {"share", "addstickers", "addemoji", "proxy", "socks", "iv", "setlanguage", "login",
                "addtheme", "bg", "invoice", "boost", "giftcode", "confirmphone", "contact", "k", "a", "z"}
_TWITTER_USER = re.compile(r"[A-Za-z0-9_]{1,15}")
_TWITTER_RESERVED = {"home", "search", "explore", "hashtag", "i", "intent", "share", "settings", "messages",
                     "notifications", "login", "signup", "tos", "privacy", "compose", "about", "jobs"}
_FB_POST = {"permalink.php", "story.php", "photo.php", "photo", "photos", "watch", "reel", "videos",
            "share", "posts"}
_FB_RESERVED = {"login", "help", "policies", "privacy", "marketplace", "events", "gaming", "settings",
                "notifications", "home.php", "login.php", "sharer", "sharer.php", "dialog", "plugins"}
_IG_USER = re.compile(r"[A-Za-z0-9._]{1,30}")
_IG_RESERVED = {"explore", "accounts", "direct", "about", "developer", "legal", "web", "emails"}
_TAMTAM_RESERVED = {"about", "download", "privacy", "terms", "faq", "help", "blog", "apps", "legal"}


def _query_value(query: list[str], name: str) -> str | None:
    for q in query:
        k, _, v = q.partition("=")
        if k == name:
            return v
    return None


def _telegram(r: Result) -> None:
    if r.host != "t.me":
        return
    seg = r.segments
    if len(seg) > 1 and seg[0] == "s":
        seg = seg[1:]  # web preview of a channel
    if not seg:
        r.segments = []
        return
    head = seg[0]
    if head == "joinchat" and len(seg) > 1:
        r.segments, r.kind = ["+" + seg[1]], "invite"
    elif head.startswith("+"):
        rest = head[1:]
        if rest.isdigit():
            r.segments, r.kind, r.extra = [head], "profile", {"phone": head}
        elif rest:
            r.segments, r.kind = [head], "invite"
    elif head == "addlist" and len(seg) > 1:
        r.segments, r.kind = seg[:2], "invite"
    elif head == "c" and len(seg) >= 3 and seg[1].isdigit() and seg[2].isdigit():
        r.segments, r.kind = seg[:3], "post"
    elif head.lower() in _TG_RESERVED:
        r.segments = seg
    elif _TG_USER.fullmatch(head):
        user = head.lower()
        r.extra = {"handle": "@" + user}
        if len(seg) > 1 and seg[1].isdigit():
            r.segments, r.kind = [user, seg[1]], "post"
        else:
            r.segments, r.kind = [user], "profile"
            r.query = [q for q in r.query if q.split("=", 1)[0] in ("start", "startgroup")]
    else:
        r.segments = seg


def _whatsapp(r: Result) -> None:
    seg = r.segments
    if r.host == "chat.whatsapp.com" and seg:
        code = seg[1] if seg[0] == "invite" and len(seg) > 1 else seg[0]
        r.segments, r.query, r.kind = [code], [], "invite"
    elif r.host == "api.whatsapp.com" and _query_value(r.query, "phone"):
        phone = re.sub(r"\D", "", _query_value(r.query, "phone") or "")
        r.host, r.segments, r.query, r.kind = "wa.me", [phone], [], "profile"
        r.extra = {"phone": "+" + phone}
    elif r.host == "wa.me" and seg:
        if seg[0].isdigit():
            r.segments, r.query, r.kind = [seg[0]], [], "profile"
            r.extra = {"phone": "+" + seg[0]}
        elif seg[0] == "message" and len(seg) > 1:
            r.segments, r.query, r.kind = seg[:2], [], "profile"
    elif seg and seg[0] == "channel" and len(seg) > 1:
        r.segments, r.kind = seg[:2], "profile"


def _tamtam(r: Result) -> None:
    seg = r.segments
    if not seg or seg[0].lower() in _TAMTAM_RESERVED:
        return
    if seg[0] == "join" and len(seg) > 1:
        r.segments, r.kind = seg[:2], "invite"
    elif seg[0].startswith("+") and len(seg[0]) > 1:
        r.segments, r.kind = seg[:1], "invite"
    elif _TG_USER.fullmatch(seg[0]):
        user = seg[0].lower()
        r.extra = {"handle": "@" + user}
        if len(seg) > 1 and seg[1].isdigit():
            r.segments, r.kind = [user, seg[1]], "post"
        else:
            r.segments, r.kind = [user], "profile"


def _twitter(r: Result) -> None:
    seg = r.segments
    if r.host != "x.com" or not seg:
        return
    if seg[:3] == ["i", "web", "status"] and len(seg) > 3 and seg[3].isdigit():
        r.segments, r.kind = ["i", "web", "status", seg[3]], "post"
    elif seg[0].lower() in _TWITTER_RESERVED:
        return
    elif _TWITTER_USER.fullmatch(seg[0]):
        user = seg[0].lower()
        r.extra = {"handle": "@" + user}
        if len(seg) > 2 and seg[1] in ("status", "statuses") and seg[2].isdigit():
            r.segments, r.kind = [user, "status", seg[2]], "post"
        else:
            r.segments, r.kind = [user], "profile"


def _facebook(r: Result) -> None:
    seg = r.segments
    if r.host in ("fb.me", "m.me") and seg:
        r.kind = "profile"
        return
    if r.host == "fb.watch" and seg:
        r.kind = "post"
        return
    if r.host != "facebook.com" or not seg:
        return
    head = seg[0].lower()
    if head == "groups" and len(seg) > 1:
        if len(seg) > 3 and seg[2] in ("posts", "permalink"):
            r.segments, r.kind = seg[:4], "post"
        else:
            r.segments, r.kind = seg[:2], "profile"
    elif head == "profile.php":
        ident = _query_value(r.query, "id")
        r.query = [f"id={ident}"] if ident else []
        r.kind = "profile" if ident else "web"
    elif head in _FB_POST:
        r.kind = "post"
    elif head == "pages":
        r.kind = "profile"
    elif head in _FB_RESERVED:
        return
    elif re.fullmatch(r"[A-Za-z0-9.]{5,50}", seg[0]):
        user = seg[0].lower()
        r.extra = {"handle": user}
        if len(seg) > 2 and seg[1] in ("posts", "videos", "photos"):
            r.segments, r.kind = [user, *seg[1:3]], "post"
        else:
            r.segments, r.query, r.kind = [user], [], "profile"


def _instagram(r: Result) -> None:
    seg = r.segments
    if not seg:
        return
    head = seg[0].lower()
    if head in ("p", "reel", "reels", "tv") and len(seg) > 1:
        r.segments, r.query, r.kind = [head, seg[1]], [], "post"
    elif head == "stories" and len(seg) > 1:
        r.segments, r.query, r.kind = ["stories", seg[1].lower(), *seg[2:3]], [], "post"
    elif head in _IG_RESERVED:
        return
    elif _IG_USER.fullmatch(seg[0]):
        user = seg[0].lower()
        r.segments, r.query, r.kind, r.extra = [user], [], "profile", {"handle": "@" + user}


def _snapchat(r: Result) -> None:
    seg = r.segments
    if r.host.startswith("story.") and seg:
        r.kind = "post"
    elif seg and seg[0] == "add" and len(seg) > 1:
        user = seg[1].lower()
        r.segments, r.query, r.kind, r.extra = ["add", user], [], "profile", {"handle": user}
    elif seg and seg[0].startswith("@") and len(seg[0]) > 1:
        user = seg[0][1:].lower()
        r.segments, r.query, r.kind, r.extra = ["add", user], [], "profile", {"handle": user}
    elif seg and seg[0] in ("spotlight", "discover"):
        r.kind = "post"


def _youtube(r: Result) -> None:
    seg = r.segments
    if r.host == "youtu.be" and seg:
        r.host, r.segments, r.query, r.kind = "youtube.com", ["watch"], [f"v={seg[0]}"], "post"
        return
    if not seg:
        return
    head = seg[0]
    if head == "watch" and _query_value(r.query, "v"):
        r.query, r.kind = [f"v={_query_value(r.query, 'v')}"], "post"
    elif head in ("shorts", "live", "embed") and len(seg) > 1:
        r.segments, r.query, r.kind = [head, seg[1]], [], "post"
    elif head.startswith("@"):
        r.segments, r.query, r.kind = [head.lower()], [], "profile"
        r.extra = {"handle": head.lower()}
    elif head in ("c", "user") and len(seg) > 1:
        r.segments, r.query, r.kind = [head, seg[1].lower()], [], "profile"
    elif head == "channel" and len(seg) > 1:
        r.segments, r.query, r.kind = [head, seg[1]], [], "profile"


def _tiktok(r: Result) -> None:
    seg = r.segments
    if seg and seg[0].startswith("@") and len(seg[0]) > 1:
        user = seg[0].lower()
        r.extra = {"handle": user}
        if len(seg) > 2 and seg[1] == "video":
            r.segments, r.query, r.kind = [user, "video", seg[2]], [], "post"
        else:
            r.segments, r.query, r.kind = [user], [], "profile"


def _invite_host(r: Result) -> None:
    if r.segments and r.host in ("discord.gg", "signal.group", "chat.whatsapp.com"):
        r.kind = "invite"
    elif r.segments and r.host in ("discord.com", "discordapp.com") and r.segments[0] == "invite":
        r.kind = "invite"


_BY_PLATFORM: dict[str, Callable[[Result], None]] = {
    "telegram": _telegram, "whatsapp": _whatsapp, "tamtam": _tamtam, "twitter": _twitter,
    "facebook": _facebook, "instagram": _instagram, "snapchat": _snapchat, "youtube": _youtube,
    "tiktok": _tiktok, "discord": _invite_host, "signal": _invite_host,
}


def apply(platform: str, host: str, segments: list[str], query: list[str]) -> Result:
    result = Result(host, list(segments), list(query))
    rule = _BY_PLATFORM.get(platform)
    if rule is not None:
        rule(result)
    return result
