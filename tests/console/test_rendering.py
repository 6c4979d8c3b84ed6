"""Evidence marking, text direction and interface strings (no database)."""
import re
from pathlib import Path

from haris.service import i18n
from haris.service.console_context import Span, marked

TEMPLATES = Path(i18n.__file__).parent / "templates"


def test_marks_are_escaped_and_overlaps_are_cut_at_every_boundary():
    text = "<b>x</b> sale of girl 12"
    html = str(marked(text, [Span(9, 13, "trafficking", "sale"), Span(17, 24, "trafficking", "person"),
                             Span(22, 24, "child_exploitation", "age"), Span(40, 50, "x", "out of range")]))
    assert html == ('&lt;b&gt;x&lt;/b&gt; <mark class="ev ev-trafficking" title="sale">sale</mark> of '
                    '<mark class="ev ev-trafficking" title="person">girl </mark>'
                    '<mark class="ev ev-child_exploitation ev-trafficking" title="age, person">12</mark>')
    hostile = str(marked('"><script>', [Span(0, 2, 'x" onmouseover="y', 'a"<b>')]))
    assert "<script>" not in hostile and 'title="a&#34;&lt;b&gt;"' in hostile
    assert 'class="ev ev-xonmouseovery"' in hostile


def test_direction_follows_the_first_strong_character():
    assert i18n.text_direction("12 للبيع sale") == "rtl"
    assert i18n.text_direction("wallah 3alaik") == "ltr"
    assert i18n.text_direction("١٢ / ٥") == "auto"
    assert i18n.direction("ar") == "rtl" and i18n.direction("fr") == "ltr"
    assert i18n.pick("de", "ar-EG") == "ar" and i18n.from_accept_language("de;q=1, fr;q=0.8, ar;q=0.9") == "ar"


def test_every_string_the_templates_use_exists_in_every_language():
    keys = set()
    dynamic = {"priority.": ["urgent", "high", "normal", "low"], "status.": ["active", "open", "needs_second_review",
                                                                          "closed"],
               "policy.": ["trafficking", "child_exploitation", "terrorism"],
               "label.": ["trafficking", "child_exploitation", "terrorism", "benign"],
               "action.": ["no_action", "remove_item", "suspend_account", "preserve", "report", "safety_intervention"],
               "stage.": ["first", "second"], "source.": ["proactive", "user_report"], "lang.": ["en", "ar", "fr"],
               "role.": ["admin", "senior_reviewer", "reviewer", "auditor", "victim_data"],
               "media.": ["absent", "no_preview"], "cases.kind_": ["network", "conversation", "manual"]}
    for tpl in TEMPLATES.glob("*.html"):
        keys |= set(re.findall(r"""\bt\(["']([a-z_]+\.[a-z_.]+)["']\s*[),]""", tpl.read_text()))
    for prefix, names in dynamic.items():
        keys |= {prefix + n for n in names}
    src = (TEMPLATES.parent / "console.py").read_text() + (TEMPLATES.parent / "console_web.py").read_text()
    keys |= {k for k in re.findall(r'"((?:error|login|case|age)\.[a-z_]+)"', src) if not k.endswith(".html")}
    english = i18n.catalog("en")
    assert sorted(keys - set(english)) == []
    for lang in i18n.LANGUAGES:
        assert set(i18n.catalog(lang)) == set(english), lang
