"""The review console over HTTP (FastAPI TestClient), on SQLite and on PostgreSQL."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import console_seed as cs
from haris.review import workflow as wf
from haris.service import audit
from haris.service.console_admin import at_risk_table
from haris.service.i18n import translator

EN = translator("en")


def _csrf(client: TestClient, path: str = "/queue") -> str:
    return cs.csrf_of(client.get(path).text)


def _actions(store, action: str) -> list[dict]:
    return [e for e in audit.entries(store, action=action)]


def test_every_page_refuses_anonymous_callers_and_wrong_roles(seeded, app, as_user):
    store, people, ids = seeded
    anon = TestClient(app, follow_redirects=False)
    rid, mid = ids["r_en"], ids["media_offer"]
    pages = ["/queue", f"/items/{rid}", "/cases", "/cases/cas_0000000000", "/search?q=sale", "/audit",
             "/admin/users", "/at-risk"]
    for path in pages:
        r = anon.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    for path in (f"/media/{mid}/blurred", f"/media/{mid}/original"):
        assert anon.get(path).status_code == 401
    for path in (f"/items/{rid}/decide", f"/items/{rid}/take", f"/items/{rid}/assign", f"/items/{rid}/case",
                 f"/media/{mid}/reveal", "/cases", "/admin/users", "/logout", "/settings/language"):
        assert anon.post(path, data={"csrf": "x"}).status_code == 401, path

    victim_only, reviewer, auditor, admin = (as_user(n) for n in ("vic", "rev1", "aud", "admin"))
    for path in ("/queue", f"/items/{rid}", "/cases", "/search?q=sale", "/audit", f"/media/{mid}/blurred"):
        assert victim_only.get(path).status_code == 403, path
    for path in ("/audit", "/admin/users", "/at-risk"):
        assert reviewer.get(path).status_code == 403, path
    assert admin.get("/at-risk").status_code == 403          # admin does not imply victims' data
    assert reviewer.post("/admin/users", data={"csrf": _csrf(reviewer), "username": "x", "password": "y" * 12,
                                               "roles": "admin"}).status_code == 403
    token = _csrf(auditor)
    for path, data in ((f"/items/{rid}/decide", {"label": "benign", "action": "no_action", "reason": "x"}),
                       (f"/media/{mid}/reveal", {"back": rid}), (f"/items/{rid}/take", {})):
        assert auditor.post(path, data={"csrf": token, **data}).status_code == 403, path
    assert wf.get(store, rid)["status"] == "open" and wf.get(store, rid)["assigned_to"] is None

    # What each role may see, it sees.
    assert auditor.get(f"/items/{rid}").status_code == 200 and auditor.get("/audit").status_code == 200
    assert 'id="decision-form"' not in auditor.get(f"/items/{rid}").text      # read-only
    assert admin.get("/admin/users").status_code == 200
    assert victim_only.get("/at-risk").status_code == 200
    assert victim_only.get("/").headers["location"] == "/at-risk" and reviewer.get("/").headers["location"] == "/queue"


def test_posts_without_the_right_csrf_token_are_refused(seeded, app, as_user):
    store, _people, ids = seeded
    rid = ids["r_en"]
    rev1, rev2 = as_user("rev1"), as_user("rev2")
    good = {"label": "trafficking", "action": "remove_item", "reason": "sale offer"}
    assert rev1.post(f"/items/{rid}/decide", data=good).status_code == 403                     # missing
    assert rev1.post(f"/items/{rid}/decide", data={**good, "csrf": "forged"}).status_code == 403
    assert rev1.post(f"/items/{rid}/decide", data={**good, "csrf": _csrf(rev2)}).status_code == 403  # another's
    r = rev1.post(f"/items/{rid}/decide", data={**good, "csrf": _csrf(rev1)},
                  headers={"Origin": "https://evil.example.com"})
    assert r.status_code == 403
    assert "expired or did not come from this console" in r.text
    assert wf.get(store, rid)["status"] == "open"
    assert rev1.post(f"/items/{rid}/decide", data={**good, "csrf": _csrf(rev1)}).status_code == 303
    assert wf.get(store, rid)["status"] == "closed"

    # The log-in form: a double-submit cookie, no session yet.
    fresh = TestClient(app, follow_redirects=False)
    fresh.get("/login")
    form = {"username": "rev1", "password": cs.PASSWORD, "next": "/queue"}
    assert fresh.post("/login", data=form).status_code == 403
    assert fresh.post("/login", data={**form, "csrf": "not-the-cookie"}).status_code == 403
    no_cookie = TestClient(app, follow_redirects=False)
    token = cs.csrf_of(no_cookie.get("/login").text)
    no_cookie.cookies.clear()
    assert no_cookie.post("/login", data={**form, "csrf": token}).status_code == 403


def test_login_issues_a_new_token_and_ignores_any_cookie_presented_before(seeded, app, as_user):
    store = seeded[0]
    victim = TestClient(app, follow_redirects=False)
    victim.cookies.set("haris_session", "attacker-chosen-token")
    token = cs.csrf_of(victim.get("/login").text)
    r = victim.post("/login", data={"username": "rev1", "password": cs.PASSWORD, "csrf": token, "next": "/queue"})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    new = re.search(r"haris_session=([^;]+)", cookie).group(1)
    assert new != "attacker-chosen-token" and len(new) > 30
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie and "Secure" not in cookie
    planted = TestClient(app, follow_redirects=False, cookies={"haris_session": "attacker-chosen-token"})
    assert planted.get("/queue").status_code == 303

    # A real session planted in someone's browser (the attacker's own) is ended, not adopted.
    attacker = as_user("rev2")
    attacker_token = attacker.cookies.get("haris_session")
    victim2 = TestClient(app, follow_redirects=False)
    victim2.cookies.set("haris_session", attacker_token)
    token = cs.csrf_of(victim2.get("/login").text)
    r = victim2.post("/login", data={"username": "senior1", "password": cs.PASSWORD, "csrf": token})
    assert re.search(r"haris_session=([^;]+)", r.headers["set-cookie"]).group(1) != attacker_token
    assert attacker.get("/queue").status_code == 303          # the planted session no longer works

    secure = as_user("senior2", base_url="https://testserver")
    assert secure.get("/queue").status_code == 200
    r = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = cs.csrf_of(r.get("/login").text)
    r = r.post("/login", data={"username": "aud", "password": cs.PASSWORD, "csrf": token})
    assert "Secure" in r.headers["set-cookie"]

    # After log-in, only a local path is followed (no open redirect).
    for target, landing in (("//evil.example.com/x", "/"), ("https://evil.example.com", "/"), ("/cases", "/cases")):
        c = TestClient(app, follow_redirects=False)
        token = cs.csrf_of(c.get("/login").text)
        r = c.post("/login", data={"username": "rev1", "password": cs.PASSWORD, "csrf": token, "next": target})
        assert r.headers["location"] == landing

    # Log-out ends the session on the server, not only in the browser.
    client = as_user("aud")
    old = client.cookies.get("haris_session")
    assert client.post("/logout", data={"csrf": _csrf(client)}).status_code == 303
    assert TestClient(app, follow_redirects=False, cookies={"haris_session": old}).get("/queue").status_code == 303
    assert [e["action"] for e in audit.entries(store, action="logout")] == ["logout"]


def test_repeated_failures_lock_the_account_and_the_page_says_so(seeded, app):
    client = TestClient(app, follow_redirects=False)

    def attempt(password: str):
        token = cs.csrf_of(client.get("/login").text)
        return client.post("/login", data={"username": "rev1", "password": password, "csrf": token})

    for _ in range(5):
        r = attempt("not the password at all")
        assert r.status_code == 200 and EN("login.wrong") in r.text
    r = attempt(cs.PASSWORD)
    assert r.status_code == 200 and EN("login.locked") in r.text and "haris_session" not in r.headers.get(
        "set-cookie", "")


def test_the_queue_puts_the_child_at_risk_first_with_counts_and_filters(seeded, as_user):
    _store, people, ids = seeded
    rev1 = as_user("rev1")
    page = rev1.get("/queue").text
    order = re.findall(r'data-href="/items/(rev_[0-9a-f]+)"', page)
    assert order == [ids["r_child"], ids["r_ar"], ids["r_en"], ids["r_fr"]]   # urgent, high (older first), normal
    assert re.search(r"child-safety</span><span class=\"count\">1<", page)
    assert re.search(r"trafficking</span><span class=\"count\">2<", page)
    only = re.findall(r'data-href="/items/(rev_[0-9a-f]+)"', rev1.get("/queue?policy=terrorism").text)
    assert only == [ids["r_fr"]]
    assert re.findall(r'data-href="/items/(rev_[0-9a-f]+)"', rev1.get("/queue?mine=1").text) == []
    rev1.post(f"/items/{ids['r_en']}/take", data={"csrf": _csrf(rev1)})
    assert re.findall(r'data-href="/items/(rev_[0-9a-f]+)"', rev1.get("/queue?mine=1").text) == [ids["r_en"]]
    assert _actions(seeded[0], "review.assign")[0]["target"] == ids["r_en"]


def test_the_item_page_shows_evidence_in_the_original_text_and_the_whole_context(seeded, as_user):
    _store, _people, ids = seeded
    page = as_user("rev1").get(f"/items/{ids['r_ar']}").text
    focal = re.search(r'<div class="msg-text msg-focal" id="message" dir="rtl" lang="ar">(.*?)</div>', page).group(1)
    assert focal == ('<mark class="ev ev-trafficking" title="sale_verb">للبيع</mark> امرأة '
                     '<mark class="ev ev-trafficking" title="age">عمرها 25 سنة</mark> السعر '
                     '<mark class="ev ev-trafficking" title="price">12.500 دولار</mark> التسليم قريبا')
    thread = page[page.index('class="thread"'):]
    assert thread.index("للبيع") < thread.index(cs.EN_REPLY) < thread.index("contact +1 555 0142")
    assert "Example Buyer" in page                               # network neighbour (replied to the seller)
    assert "trafficking-offer" in page and "12500" in page        # rule that fired, listing
    assert "Its latest other messages" in page and "$3,700" in page    # the account's history
    fr = as_user("rev1").get(f"/items/{ids['r_fr']}").text
    assert "example-propaganda" in fr and 'lang="fr"' in fr      # a bank match, the message's language


def test_media_is_blurred_until_a_logged_reveal_and_child_media_is_hash_only(seeded, as_user, tmp_path):
    store, _people, ids = seeded
    rid, mid = ids["r_en"], ids["media_offer"]
    rev1, rev2 = as_user("rev1"), as_user("rev2")
    page = rev1.get(f"/items/{rid}").text
    assert f'src="/media/{mid}/blurred"' in page and f'src="/media/{mid}/original"' not in page
    blurred = rev1.get(f"/media/{mid}/blurred")
    assert blurred.headers["content-type"] == "image/png"
    im = Image.open(io.BytesIO(blurred.content))
    assert im.mode == "L"                                       # greyscale
    original = Image.open(tmp_path / "media" / "offer.png").convert("L").resize(im.size)
    diff = np.abs(np.asarray(im, dtype=int) - np.asarray(original, dtype=int))
    assert diff.max() > 40                                      # the circle and the bar are gone
    assert rev1.get(f"/media/{mid}/original").status_code == 403
    assert _actions(store, "media.reveal") == []

    r = rev1.post(f"/media/{mid}/reveal", data={"csrf": _csrf(rev1), "back": rid})
    assert r.status_code == 303 and r.headers["location"] == f"/items/{rid}#media-{mid}"
    entry = _actions(store, "media.reveal")[0]
    assert entry["actor"] == "rev1" and entry["target"] == mid and entry["detail"]["review_id"] == rid
    assert f'src="/media/{mid}/original"' in rev1.get(f"/items/{rid}").text
    got = rev1.get(f"/media/{mid}/original")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.content == (tmp_path / "media" / "offer.png").read_bytes()
    assert rev2.get(f"/media/{mid}/original").status_code == 403          # a grant is per session

    child = ids["media_child"]
    page = rev1.get(f"/items/{ids['r_child']}").text
    assert "cd" * 32 in page and f"/media/{child}/" not in page.replace(f'action="/media/{child}/reveal"', "")
    assert rev1.get(f"/media/{child}/blurred").status_code == 403
    assert rev1.post(f"/media/{child}/reveal", data={"csrf": _csrf(rev1), "back": ids["r_child"]}).status_code == 403
    assert rev1.get(f"/media/{child}/original").status_code == 403
    assert len(_actions(store, "media.reveal")) == 1


def test_suspending_an_account_goes_to_a_second_senior_who_closes_it(seeded, as_user):
    store, people, ids = seeded
    rid = ids["r_ar"]
    rev1, senior1, senior2, aud = (as_user(n) for n in ("rev1", "senior1", "senior2", "aud"))
    r = rev1.post(f"/items/{rid}/decide", data={"csrf": _csrf(rev1), "label": "trafficking",
                                                "action": "suspend_account", "reason": "offers a person for sale"})
    assert r.status_code == 303 and wf.get(store, rid)["status"] == "needs_second_review"
    page = rev1.get(f"/items/{rid}").text
    assert 'id="second-review"' in page and "offers a person for sale" in page and EN("decision.waiting_senior") in page
    assert 'id="confirm-form"' not in page
    page = senior1.get(f"/items/{rid}").text
    assert 'id="confirm-form"' in page and 'id="overturn-form"' in page
    r = senior1.post(f"/items/{rid}/decide", data={"csrf": _csrf(senior1), "label": "trafficking",
                                                   "action": "suspend_account", "agrees": "yes",
                                                   "reason": "confirmed: sale offer with a price"})
    assert r.status_code == 303
    item = wf.get(store, rid)
    assert item["status"] == "closed" and [d["stage"] for d in item["decisions"]] == ["first", "second"]
    assert item["decisions"][1]["agrees"] is True and item["decisions"][1]["reviewer_id"] == people["senior1"].id
    assert EN("decision.confirmed") in senior2.get(f"/items/{rid}").text

    # A senior who made the first decision cannot also make the second.
    rid2 = ids["r_en"]
    senior1.post(f"/items/{rid2}/decide", data={"csrf": _csrf(senior1), "label": "trafficking",
                                                "action": "report", "reason": "refer"})
    assert EN("decision.not_your_own") in senior1.get(f"/items/{rid2}").text
    r = senior1.post(f"/items/{rid2}/decide", data={"csrf": _csrf(senior1), "label": "trafficking",
                                                    "action": "report", "agrees": "yes", "reason": "self"})
    assert r.status_code == 403 and wf.get(store, rid2)["status"] == "needs_second_review"
    senior2.post(f"/items/{rid2}/decide", data={"csrf": _csrf(senior2), "label": "benign", "action": "no_action",
                                                "agrees": "no", "reason": "a news quote"})
    assert wf.get(store, rid2)["decisions"][1]["agrees"] is False

    audit_page = aud.get("/audit").text
    assert 'data-ok="true"' in audit_page
    for action in ("decision.first", "decision.second", "login"):
        assert f'data-action="{action}"' in audit_page
    assert [e["actor"] for e in _actions(store, "decision.second")] == ["senior2", "senior1"]
    assert audit.verify(store).ok


def test_cases_from_the_queue_and_for_a_conversation_and_search(seeded, as_user):
    store, _people, ids = seeded
    rev1 = as_user("rev1")
    r = rev1.post("/cases", data={"csrf": _csrf(rev1), "title": "Sellers in the example market",
                                  "review_ids": [ids["r_ar"], ids["r_fr"]]})
    assert r.status_code == 303
    case_page = rev1.get(r.headers["location"]).text
    assert "Sellers in the example market" in case_page
    assert set(re.findall(r'data-href="/items/(rev_[0-9a-f]+)"', case_page)) == {ids["r_ar"], ids["r_fr"]}
    assert rev1.post("/cases", data={"csrf": _csrf(rev1), "title": "", "review_ids": [ids["r_ar"]]}).status_code == 400

    r = rev1.post(f"/items/{ids['r_en']}/case", data={"csrf": _csrf(rev1), "scope": "conversation"})
    conv_case = wf.case(store, r.headers["location"].rsplit("/", 1)[1])
    assert conv_case["kind"] == "conversation" and {i["id"] for i in conv_case["items"]} == {ids["r_ar"], ids["r_en"]}
    assert [e["action"] for e in audit.entries(store, action="case.create")] == ["case.create"] * 2

    found = rev1.get("/search?q=FOR SALE").text                       # case-insensitive substring
    assert '<mark class="ev ev-search" title="FOR SALE">For sale</mark>' in found
    assert rev1.get(f"/search?q={ids['r_child']}").headers["location"] == f"/items/{ids['r_child']}"
    by_account = rev1.get(f"/search?q={ids['seller']}").text
    assert by_account.count('class="result"') == 2
    assert EN("search.too_short") in rev1.get("/search?q=x").text
    assert rev1.get("/search?q=%25").text.count('class="result"') == 0     # LIKE wildcards are literal


def test_admin_manages_users_and_roles_and_every_change_is_audited(seeded, as_user):
    store, people, _ids = seeded
    admin = as_user("admin")
    r = admin.post("/admin/users", data={"csrf": _csrf(admin), "username": "newrev", "password": cs.PASSWORD,
                                         "roles": ["reviewer"], "language": "fr"})
    assert r.status_code == 303
    assert _actions(store, "user.create")[0]["detail"] == {"username": "newrev", "roles": ["reviewer"]}
    assert admin.post("/admin/users", data={"csrf": _csrf(admin), "username": "short", "password": "short",
                                            "roles": ["reviewer"]}).status_code == 400
    r = admin.post(f"/admin/users/{people['rev2'].id}/roles", data={"csrf": _csrf(admin),
                                                                   "roles": ["reviewer", "senior_reviewer"]})
    assert r.status_code == 303
    assert _actions(store, "user.roles")[0]["detail"]["to"] == ["reviewer", "senior_reviewer"]
    assert admin.post(f"/admin/users/{people['admin'].id}/roles", data={"csrf": _csrf(admin),
                                                                       "roles": ["reviewer"]}).status_code == 400
    newrev = as_user("newrev")
    page = newrev.get("/queue").text
    assert page.startswith("<!doctype html>\n<html lang=\"fr\" dir=\"ltr\">") and "File" in page


def test_the_interface_speaks_arabic_right_to_left(seeded, as_user):
    store, _people, ids = seeded
    rev1 = as_user("rev1")
    page = rev1.get("/queue?lang=ar").text
    assert '<html lang="ar" dir="rtl">' in page and "قائمة الانتظار" in page
    assert '<html lang="en" dir="ltr">' in rev1.get("/queue").text
    r = rev1.post("/settings/language", data={"csrf": _csrf(rev1), "language": "ar", "back": "/queue"})
    assert r.status_code == 303
    assert '<html lang="ar" dir="rtl">' in rev1.get(f"/items/{ids['r_en']}").text
    assert _actions(store, "user.language")[0]["detail"] == {"from": "en", "to": "ar"}
    assert '<html lang="fr" dir="ltr">' in TestClient(rev1.app).get("/login?lang=fr").text


def test_the_console_walks_the_queue_in_the_workflows_order_page_after_page(store):
    """The console's index-friendly walk gives exactly workflow.queue's order, with any filter, over keyset pages."""
    from haris.service.console_context import ACTIVE, queue_counts, walk_queue

    plan = [("low", "general", None), ("urgent", "child-safety", "child_exploitation"),
            ("normal", "terrorism", "terrorism"), ("high", "trafficking", "trafficking")]
    with store.begin() as conn:
        for i in range(60):
            priority, queue, policy = plan[(i * 7) % 4]
            wf.enqueue(conn, f"msg_{i:04d}", "message", {"action": "queue", "priority": priority, "queue": queue},
                       policy=policy, score=0.5)
    people = cs.users(store)
    some = [r["id"] for r in wf.queue(store, limit=60)][::5]
    for rid in some[:4]:
        wf.decide(store, rid, people["rev1"], label="trafficking", action="suspend_account", reason="x")
    for rid in some[4:]:
        wf.assign(store, rid, people["rev2"])
    for filters in ({}, {"queue": "terrorism"}, {"policy": "trafficking"}, {"assigned_to": people["rev2"].id}):
        for statuses in (ACTIVE, ("needs_second_review",)):
            expected = [r["id"] for r in wf.queue(store, status=statuses, limit=100, **filters)]
            got, after = [], None
            with store.connect() as conn:
                while True:
                    page = walk_queue(conn, statuses, after=after, limit=7, **filters)
                    got += [r["id"] for r in page]
                    if len(page) < 7:
                        break
                    after = page[-1]
            assert got == expected, (filters, statuses)
    with store.connect() as conn:
        assert queue_counts(conn) == wf.counts(store)


@pytest.mark.skipif(at_risk_table() is None, reason="haris.protect (the at-risk records) is not installed")
def test_at_risk_records_are_shown_only_to_victim_data_and_every_view_is_audited(seeded, app, as_user):
    from haris.detect.base import Signal
    from haris.protect.at_risk import at_risk_from_signal, record_at_risk
    from haris.service import auth

    store, people, ids = seeded
    person = at_risk_from_signal(Signal("child_exploitation", 0.93, "grooming", "1", ["compensation"],
                                        item_id=ids["conv_private"],
                                        data={"minor": "acc_example_minor", "current_stage": "compensation",
                                              "action": "queue:review", "lang": "en"}),
                                 platform="telegram")
    record_at_risk(store, person)
    vic = as_user("vic")
    page = vic.get("/at-risk").text
    assert person.id in page
    seen = _actions(store, "victim.view")
    assert len(seen) == 1 and seen[0]["actor"] == "vic" and seen[0]["detail"]["records"] == [person.id]
    assert person.id in vic.get(f"/at-risk?item={ids['conv_private']}").text
    assert person.id not in vic.get(f"/at-risk?item={ids['conv_market']}").text
    assert len(_actions(store, "victim.view")) == 3                 # every view, even an empty one
    for name in ("rev1", "senior1", "aud", "admin"):
        client = as_user(name)
        assert client.get("/at-risk").status_code == 403
        assert person.id not in client.get(f"/items/{ids['r_child']}").text
        assert 'id="at-risk-link"' not in client.get(f"/items/{ids['r_child']}").text
    auth.set_roles(store, people["rev2"].id, ["reviewer", "victim_data"], actor="admin")
    item = as_user("rev2").get(f"/items/{ids['r_child']}").text
    assert f'href="/at-risk?item={ids["conv_private"]}" id="at-risk-link"' in item
    assert len(_actions(store, "victim.view")) == 3                 # the link alone shows nothing
