import pytest

from haris.match.links import canonical_domain, canonical_link, domain_match_keys, url_match_keys


@pytest.mark.parametrize("written", [
    "t.me/example_x", "https://t.me/s/example_x", "http://telegram.me/Example_X", "https://www.t.me/example_x/",
    "https://telegram.dog/example_x?embed=1", "tg://resolve?domain=example_x", " https://T.ME/example_x#top ",
])
def test_telegram_channel_forms_are_one(written):
    link = canonical_link(written)
    assert (link.url, link.platform, link.kind) == ("https://t.me/example_x", "telegram", "profile")


def test_invites_keep_their_case_and_both_forms_are_one():
    assert canonical_link("t.me/joinchat/AbCdEf").url == canonical_link("https://t.me/+AbCdEf").url \
        == "https://t.me/+AbCdEf"
    assert canonical_link("t.me/+AbCdEf").kind == "invite"
    assert canonical_link("t.me/+abcdef").url != canonical_link("t.me/+AbCdEf").url
    assert canonical_link("chat.whatsapp.com/AbC123").kind == "invite"


def test_tracking_parameters_go_other_parameters_stay_sorted():
    link = canonical_link("https://www.example.com/offer/?utm_source=x&id=7&fbclid=abc&a=1#frag")
    assert link.url == "https://example.com/offer?a=1&id=7"
    assert canonical_link("https://x.com/Example/status/1?s=20&t=abc").url == canonical_link(
        "https://twitter.com/example/status/1").url == "https://x.com/example/status/1"


def test_shorteners_are_recorded_as_such():
    link = canonical_link("https://bit.ly/3ExAmPl")
    assert link.shortener and link.url == "https://bit.ly/3ExAmPl"
    assert not canonical_link("https://example.com/a").shortener
    assert url_match_keys("https://bit.ly/3ExAmPl") == ["https://bit.ly/3ExAmPl"]


def test_post_links_also_match_their_channel():
    assert url_match_keys("https://t.me/s/example_x/45?single") == ["https://t.me/example_x/45",
                                                                    "https://t.me/example_x"]
    assert url_match_keys("https://example.com/a/b?q=1") == [
        "https://example.com/a/b?q=1", "https://example.com/a/b", "https://example.com/a", "https://example.com"]


def test_domains_and_their_parents():
    assert domain_match_keys("https://News.Example.co.uk/x") == ["news.example.co.uk", "example.co.uk", "co.uk"]
    assert canonical_domain("WWW.Example.com.") == "example.com"
    assert canonical_domain("пример.рф") == "xn--e1afmkfd.xn--p1ai"


def test_not_a_url():
    with pytest.raises(ValueError, match="not a URL"):
        canonical_link("just words")
