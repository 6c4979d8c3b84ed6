"""Safety interventions in the child's language, with real public help resources by country."""
from __future__ import annotations

import warnings

import pytest

from haris.detect.base import Signal
from haris.protect import at_risk_from_signal, intervention_for, resources_for
from haris.protect.interventions import helplines


def quiet(lang, country=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return intervention_for(lang, country)


@pytest.mark.parametrize("lang,country,must", [
    ("en", "GB", ["0800 1111"]),
    ("en", "US", ["1-800-422-4453", "report.cybertip.org"]),
    ("en", "CA", ["1-800-668-6868"]),
    ("fr", "CA", ["1-800-668-6868", "Jeunesse, J'écoute"]),
    ("fr", "FR", ["119", "3018", "116 111"]),
    ("fr", "BE", ["116 111"]),
    ("ar", "EG", ["16000"]),
    ("ar", "SA", ["116111"]),
])
def test_country_resources_appear_in_the_message(lang, country, must):
    iv = quiet(lang, country)
    assert iv.lang == lang and iv.country == country
    for needle in must:
        assert needle in iv.text


def test_messages_are_in_the_childs_language():
    assert "You're not in trouble" in quiet("en").text
    assert "Tu n'as rien fait de mal" in quiet("fr").text
    assert "لست في ورطة" in quiet("ar").text
    assert quiet("de").lang == "en"                     # no template: English


def test_without_a_country_international_resources_are_given():
    ids = [r.id for r in resources_for(None)]
    assert ids == ["int-cybertipline", "int-take-it-down", "int-chi-directory"]


def test_unverified_numbers_are_flagged_and_warned():
    with pytest.warns(UserWarning, match="not yet verified"):
        iv = intervention_for("ar", "MA")
    assert "ma-2511" in iv.unverified
    assert iv.to_dict()["resources"][0]["verify"] is True


def test_every_resource_can_be_reached_and_is_unique():
    resources, eu = helplines()
    assert len({r.id for r in resources}) == len(resources)
    assert {"FR", "BE", "DE"} <= eu
    for r in resources:
        assert r.phone or r.url, r.id
        assert {"ar", "en", "fr"} <= set(r.names) or r.names, r.id


def test_no_at_risk_record_without_a_flagged_minor():
    base = dict(policy="child_exploitation", score=0.2, detector="grooming", detector_version="1.0", item_id="c")
    assert at_risk_from_signal(Signal(**base, data={"minor": "b", "action": "none"})) is None
    assert at_risk_from_signal(Signal(**{**base, "score": 0.9}, data={"minor": None, "action": "queue:urgent"})) is None
    assert at_risk_from_signal(Signal(**{**base, "policy": "terrorism", "score": 0.9},
                                      data={"minor": "b", "action": "queue:urgent"})) is None
