"""Everything the text stage knows about one message, computed once.

Detectors never normalize or extract on their own: they read an
:class:`AnalysedText`, which holds the original text, its matching form
(``norm``, which maps back to the original), the language, the entities and
the links. Entities are extracted from the original text, so evidence spans
are always offsets into the original.

>>> a = analyse_text("For sale: girl, 12 years old, $12,500")
>>> [e.kind for e in a.entities]
['age', 'price']
"""
from __future__ import annotations

from dataclasses import dataclass, field

from haris.model import Link, Message
from haris.text.extract import Entity, classify_url, extract
from haris.text.language import LanguageResult, identify
from haris.text.normalize import NormalizedText, for_matching


@dataclass(slots=True)
class AnalysedText:
    original: str
    norm: NormalizedText
    language: LanguageResult
    entities: list[Entity]
    links: list[Link] = field(default_factory=list)
    message: Message | None = None

    @property
    def lang(self) -> str:
        return self.language.lang

    @property
    def item_id(self) -> str | None:
        return self.message.id if self.message is not None else None

    def entities_of(self, kind: str) -> list[Entity]:
        return [e for e in self.entities if e.kind == kind]

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the matching text back to the original text."""
        return self.norm.to_original(start, end)


def _merge_links(message: Message | None, entities: list[Entity]) -> list[Link]:
    """Links the platform gave (with their spans) plus URLs found in the text, classified, once each."""
    out: dict[str, Link] = {}
    if message is not None:
        for link in message.links:
            c = classify_url(link.url)
            c.start, c.end = link.start, link.end
            out.setdefault(c.url, c)
    for e in entities:
        if e.kind == "url":
            c = classify_url(e.value if isinstance(e.value, str) else e.text)
            c.start, c.end = e.start, e.end
            out.setdefault(c.url, c)
    return list(out.values())


def analyse_text(text: str, message: Message | None = None, *, lang: str | None = None) -> AnalysedText:
    """Normalize, identify the language, extract entities and links.

    ``lang`` skips language identification when the caller already knows it
    (an evaluation file, a platform that labels its posts).
    """
    text = text or ""
    language = identify(text) if lang is None else LanguageResult(
        lang=lang, confidence=1.0, script="none", arabizi=False, shares={lang: 1.0})
    entities = extract(text, lang=language.lang)
    return AnalysedText(original=text, norm=for_matching(text), language=language,
                        entities=entities, links=_merge_links(message, entities), message=message)


def analyse_message(message: Message) -> AnalysedText:
    return analyse_text(message.text, message)
