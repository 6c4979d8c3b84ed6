"""The console's interface in English, Arabic and French, and the direction of text.

Strings live in ``data/i18n/<lang>.yaml`` (nested mappings, looked up by
dotted key); adding a language is adding a file and its code to
:data:`LANGUAGES`. A key missing in a language falls back to English, and a
key missing in English shows as the key itself, so a gap is visible but
never breaks a page.

>>> t = translator("fr")
>>> t("nav.queue")
'File'
>>> direction("ar"), text_direction("للبيع"), text_direction("For sale"), text_direction("12 / 5")
('rtl', 'rtl', 'ltr', 'auto')
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Callable

import yaml

from haris.errors import ConfigError

LANGUAGES = ("en", "ar", "fr")
DEFAULT = "en"
RTL_LANGUAGES = frozenset({"ar", "fa", "ur", "he", "ps", "ckb", "yi"})
DATA = Path(__file__).parent / "data" / "i18n"


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = str(v)
    return out


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """All strings of one language, by dotted key."""
    path = DATA / f"{lang}.yaml"
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no interface strings for language {lang!r}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to strings")
    return _flatten(tree)


def pick(*candidates: str | None) -> str:
    """The first candidate that is an interface language (e.g. ``?lang=``, then the user's setting)."""
    for c in candidates:
        if c:
            code = c.strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return DEFAULT


def from_accept_language(header: str | None) -> str | None:
    """The preferred interface language of an ``Accept-Language`` header, by its q-values."""
    best, best_q = None, -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower()[:2]
        if code in LANGUAGES and q > best_q:
            best, best_q = code, q
    return best


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **values)``: the string in ``lang`` (else English, else the key), formatted with values."""
    own, fallback = catalog(pick(lang)), catalog(DEFAULT)

    def t(key: str, **values) -> str:
        s = own.get(key) or fallback.get(key) or key
        return s.format(**values) if values else s
    return t


def direction(lang: str | None) -> str:
    """``rtl`` or ``ltr`` for a language code."""
    return "rtl" if (lang or "").lower().split("-")[0] in RTL_LANGUAGES else "ltr"


def text_direction(text: str | None) -> str:
    """The direction of a text from its first strong character (as HTML's ``dir=auto`` decides).

    Computed on the server so that the page says ``dir="rtl"`` outright for an
    Arabic message even in an English interface; ``auto`` when the text has
    no letter at all.
    """
    for ch in text or "":
        bidi = unicodedata.bidirectional(ch)
        if bidi in ("R", "AL"):
            return "rtl"
        if bidi == "L":
            return "ltr"
    return "auto"
