"""Account handles: "@name" and platform cues such as "tg: name", "snap: name", "تلغرام: name".

A bare "@name" needs at least 4 characters after the "@" (Telegram usernames have 5 or more,
short mentions are mostly noise) and may not be part of an e-mail address ("user@example.com")
or end in a top-level domain ("@example.com"). The platform is given when a platform word
stands right before the handle ("telegram @name", "insta: name"). Values are lower case
("@name"): the platforms treat usernames case-insensitively.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from haris.text.extract import _lexicon as lex
from haris.text.extract import _platforms
from haris.text.extract._prep import Prepared
from haris.text.extract._scan import Hits
from haris.text.extract._spans import SpanSet

_NAME = r"[a-z][a-z0-9_]{2,31}(?:\.[a-z0-9_]{1,30}){0,3}"
_AT = re.compile(r"@(?<![\w.%+\-@]@)(?P<name>[a-z][a-z0-9_]{3,31}(?:\.[a-z0-9_]{1,30}){0,3})"
                 r"(?![\w@-])")
_CUE_WINDOW = 24


@dataclass(frozen=True, slots=True)
class HandleMatch:
    start: int
    end: int
    handle: str
    platform: str | None
    cue: str | None


@cache
def _cue_patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    cue_words: dict[str, str] = {}
    for lang in lex.languages().values():
        for platform, words in lang.handles.items():
            for w in words:
                cue_words.setdefault(w, platform)
    cues = lex.alternation(cue_words, left=False)
    # "tg: name", "snap - name", "insta:@name", "telegram @name"
    with_cue = re.compile(rf"{lex.AR_CONJ}(?P<cue>{cues})\s{{0,2}}(?:[:：=-]\s{{0,2}}|(?=@))"
                          rf"(?P<handle>@?(?P<name>{_NAME}))(?![\w@-])")
    nearby = re.compile(rf"{lex.WORD_START}(?P<cue>{cues})[^@\n]{{0,16}}\Z")
    return with_cue, nearby, cue_words


def _platform_of(cue: str, cue_words: dict[str, str]) -> str | None:
    return cue_words.get(" ".join(cue.split())) or cue_words.get(cue)


def _is_domain(name: str) -> bool:
    return "." in name and name.rsplit(".", 1)[1] in _platforms.rules().schemeless_tlds


def find_handles(prep: Prepared, hits: Hits, taken: SpanSet) -> list[HandleMatch]:
    key = prep.key
    with_cue, nearby, cue_words = _cue_patterns()
    out: list[HandleMatch] = []
    starts = {s for s, _, _ in hits.hcue if s == 0 or not key[s - 1].isalnum() or key[s - 1] in "وف"}
    for start in sorted(starts):
        m = with_cue.match(key, start)
        if m is None or _is_domain(m.group("name")):
            continue
        s, e = m.span("handle")
        if taken.try_add(s, e):
            cue = m.group("cue")
            out.append(HandleMatch(s, e, "@" + m.group("name"), _platform_of(cue, cue_words), cue))
    if "@" in key:
        for m in _AT.finditer(key):
            if _is_domain(m.group("name")) or not taken.try_add(m.start(), m.end()):
                continue
            near = nearby.search(key, max(0, m.start() - _CUE_WINDOW), m.start())
            cue = near.group("cue") if near else None
            platform = _platform_of(cue, cue_words) if cue else None
            out.append(HandleMatch(m.start(), m.end(), "@" + m.group("name"), platform, cue))
    out.sort(key=lambda h: h.start)
    return out
