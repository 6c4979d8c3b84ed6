"""Near-duplicate text. All texts are synthetic and schematic (see the brief's data rules)."""
import pytest

from haris.match.text import TextIndex, jaccard, matching_key, shingles

PROPAGANDA_EN = ("New release from the example brigade is out now. Follow our channel for daily statements "
                 "and join the ranks of the example group today. t.me/example_brigade")
PROPAGANDA_AR = "الإصدار الجديد من كتيبة المثال متوفر الآن، تابعوا قناتنا للبيانات اليومية وانضموا إلينا اليوم"
SALE_EN = "For sale: girl, 12 years old, price $12,500, delivery soon. Contact t.me/example_seller or +1 555 0100"

REPOSTS = {
    "edited words": PROPAGANDA_EN.replace("daily", "weekly").replace("today", "now"),
    "emoji and new link": "🔥🔥 " + PROPAGANDA_EN.replace("t.me/example_brigade", "https://t.me/+ExampleNewInvite")
                          + " ⚔️",
    "case and punctuation": PROPAGANDA_EN.upper().replace(". ", "!!! "),
    "handle added": "@example_mirror " + PROPAGANDA_EN,
    "arabic with tatweel and diacritics": "🔴 " + PROPAGANDA_AR.replace("الجديد", "الجـــديد")
                                          .replace("متوفر", "مُتوفِّر") + " https://t.me/example_ar2",
    "sale re-posted with leetspeak": SALE_EN.replace("For sale", "F0r s4le").replace("t.me/example_seller",
                                                                                     "t.me/example_seller2"),
}
HARD_NEGATIVES = [
    # News, research and counter-speech about the same things, and an ordinary classified.
    "News: authorities closed channels of the example group that posted daily statements and recruitment calls.",
    "Researchers track how the example brigade uses channels to spread releases; report published today.",
    "Do not follow channels that call you to join armed groups. Report them to the platform.",
    "أعلنت السلطات إغلاق قنوات تنشر إصدارات دعائية لجماعة المثال",
    "For sale: used car, 2015, price $12,500, delivery possible. Contact +1 555 0101",
]


@pytest.fixture(scope="module")
def index():
    idx = TextIndex(threshold=0.5)
    idx.add([(1, PROPAGANDA_EN), (2, PROPAGANDA_AR), (3, SALE_EN)])
    return idx


def test_matching_key_drops_links_handles_emoji_and_folds_case():
    assert matching_key("🔥 JOIN us @example_h at https://t.me/example_x NOW!!!") == "join us at now"
    assert matching_key("تابِعوا القنـــاة") == matching_key("تابعوا القناة")


@pytest.mark.parametrize("name", REPOSTS)
def test_reposts_match_with_their_similarity(index, name):
    expected = 3 if "sale" in name else 2 if "arabic" in name else 1
    found = index.query(REPOSTS[name])
    assert found and found[0][0] == expected
    assert 0.5 <= found[0][1] <= 1.0


def test_the_changed_link_alone_does_not_lower_similarity(index):
    assert index.query(PROPAGANDA_EN.replace("example_brigade", "example_other")) == [(1, 1.0)]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_do_not_match(index, text):
    assert index.query(text) == []


def test_similarity_is_the_exact_jaccard_of_shingle_sets(index):
    text = REPOSTS["edited words"]
    [(entry, sim)] = index.query(text)
    a, b = shingles(matching_key(text)), shingles(matching_key(PROPAGANDA_EN))
    assert sim == round(jaccard(a, b), 4)
    assert jaccard(a, a) == 1.0 and jaccard(a, shingles("")) == 0.0


def test_threshold_is_a_setting(tmp_path):
    strict = TextIndex(threshold=0.95)
    strict.add([(1, PROPAGANDA_EN)])
    assert strict.query(REPOSTS["edited words"]) == []
    assert strict.query(REPOSTS["case and punctuation"]) == [(1, 1.0)]
    with pytest.raises(ValueError):
        TextIndex(threshold=0)


def test_save_and_load(index, tmp_path):
    index.meta = {"version": 3}
    index.save(tmp_path / "t")
    loaded = TextIndex.load(tmp_path / "t")
    assert loaded.meta == {"version": 3} and len(loaded) == 3
    for text in REPOSTS.values():
        assert loaded.query(text) == index.query(text)
