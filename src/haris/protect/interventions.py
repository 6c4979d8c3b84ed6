"""Safety interventions: a message in the child's language with help resources for their country.

The platform delivers it (haris never contacts anyone): to the likely minor of a flagged
grooming conversation, in Arabic, English or French, with the child helplines and reporting
lines of ``data/helplines.yaml``.

>>> iv = intervention_for("fr", "FR")
>>> [r.id for r in iv.resources][:2]
['fr-119', 'fr-3018']
>>> "119" in iv.text
True
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from haris.errors import ConfigError

DATA = Path(__file__).parent / "data"
LANGS = ("ar", "en", "fr")
FALLBACK_LANG = "en"
KIND_ORDER = {"helpline": 0, "report": 1, "removal": 2, "directory": 3}


@dataclass(slots=True, frozen=True)
class Resource:
    """One public help or reporting service."""

    id: str
    country: str              # ISO 3166-1 alpha-2, "EU" or "INT"
    kind: str                 # helpline, report, removal, directory
    names: dict[str, str]
    phone: str | None = None
    sms: str | None = None
    url: str | None = None
    free: bool = False
    verify: bool = False      # number or scope not confirmed: confirm before showing it to children
    note: str | None = None

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get(FALLBACK_LANG) or next(iter(self.names.values()))

    def to_dict(self, lang: str) -> dict:
        d = {"id": self.id, "country": self.country, "kind": self.kind, "name": self.name(lang)}
        for k in ("phone", "sms", "url"):
            if getattr(self, k):
                d[k] = getattr(self, k)
        if self.verify:
            d["verify"] = True
        return d


@dataclass(slots=True)
class Intervention:
    """The message to deliver and the resources it lists."""

    text: str
    resources: list[Resource]
    lang: str
    country: str | None = None
    unverified: list[str] = field(default_factory=list)   # ids of resources marked verify: true

    def to_dict(self) -> dict:
        return {"lang": self.lang, "country": self.country, "text": self.text,
                "resources": [r.to_dict(self.lang) for r in self.resources], "unverified": self.unverified}


def _load(name: str) -> dict:
    path = DATA / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping")
    return data


@lru_cache(maxsize=1)
def helplines() -> tuple[tuple[Resource, ...], frozenset[str]]:
    """All resources of helplines.yaml and the EU member states (who get the 116 111 number)."""
    data = _load("helplines.yaml")
    out = []
    for i, r in enumerate(data.get("resources") or []):
        try:
            names = r["name"] if isinstance(r["name"], dict) else {FALLBACK_LANG: str(r["name"])}
            out.append(Resource(id=str(r["id"]), country=str(r["country"]).upper(), kind=str(r["kind"]),
                                names={str(k): str(v) for k, v in names.items()},
                                phone=r.get("phone"), sms=r.get("sms"), url=r.get("url"),
                                free=bool(r.get("free", False)), verify=bool(r.get("verify", False)),
                                note=r.get("note")))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{DATA / 'helplines.yaml'}: resource {i}: missing or invalid {exc}") from None
        if out[-1].kind not in KIND_ORDER:
            raise ConfigError(f"{DATA / 'helplines.yaml'}: resource {out[-1].id}: unknown kind {out[-1].kind!r}")
    return tuple(out), frozenset(str(c).upper() for c in data.get("eu_members") or [])


@lru_cache(maxsize=1)
def _templates() -> dict:
    data = _load("interventions.yaml")
    for lang in LANGS:
        if lang not in data or "text" not in data[lang]:
            raise ConfigError(f"{DATA / 'interventions.yaml'}: no template for {lang!r}")
    return data


def resources_for(country: str | None = None) -> list[Resource]:
    """The country's helplines and reporting lines (and 116 111 in the EU), then international ones."""
    all_resources, eu = helplines()
    country = country.upper() if country else None
    local = [r for r in all_resources if country and (r.country == country or (r.country == "EU" and country in eu))]
    international = [r for r in all_resources if r.country == "INT"]
    if local and any(r.kind == "helpline" and not r.verify for r in local):
        international = [r for r in international if r.kind != "directory"]
    local.sort(key=lambda r: (KIND_ORDER[r.kind], r.country == "EU"))
    return local + international


def intervention_for(lang: str, country: str | None = None) -> Intervention:
    """The safety message in ``lang`` (ar, en, fr; other languages get English) for ``country``.

    Resources marked ``verify: true`` are included and listed in ``unverified`` (with a
    warning), so a platform sees what it must confirm before deployment.
    """
    templates = _templates()
    lang = lang if lang in LANGS else FALLBACK_LANG
    t = templates[lang]
    resources = resources_for(country)
    lines = []
    for r in resources:
        phone = t["phone"].format(phone=r.phone) if r.phone else ""
        if r.sms and r.sms != r.phone:
            phone += t["sms"].format(sms=r.sms)
        url = t["url"].format(url=r.url) if r.url else ""
        lines.append(t["resource_line"].format(name=r.name(lang), phone=phone, url=url))
    unverified = [r.id for r in resources if r.verify]
    if unverified:
        warnings.warn(f"help resources not yet verified for deployment: {', '.join(unverified)}", stacklevel=2)
    return Intervention(text=t["text"].format(resources="\n".join(lines)), resources=resources, lang=lang,
                        country=country.upper() if country else None, unverified=unverified)
