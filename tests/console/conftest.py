"""Fixtures of the console tests: a seeded store, an app, and logged-in clients."""
from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

import console_seed as cs
from haris.service import auth
from haris.service.app import create_app


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    # argon2id with its production cost takes ~0.1 s a hash; these tests create and log in
    # many users. The algorithm is unchanged, only its cost parameters.
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def seeded(store, tmp_path):
    """(store, people, ids): the synthetic items of console_seed on the test's store."""
    people = cs.users(store)
    ids = cs.seed(store, tmp_path / "media")
    return store, people, ids


@pytest.fixture
def app(seeded):
    return create_app(store=seeded[0])


def login(app, username: str, password: str = cs.PASSWORD, base_url: str = "http://testserver") -> TestClient:
    """A client logged in through the form (double-submit token and all)."""
    client = TestClient(app, base_url=base_url, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": username, "password": password, "csrf": token, "next": "/queue"})
    assert r.status_code == 303 and r.headers["location"] == "/queue", r.text
    return client


@pytest.fixture
def as_user(app):
    return lambda name, **kw: login(app, name, **kw)
