from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from haris.errors import ConfigError
from haris.service import audit, auth
from haris.service.tables import users

PW = "correct horse battery"


def test_login_gives_a_session_and_wrong_passwords_lock_the_account(store):
    auth.create_user(store, "rana", PW, ["reviewer"])
    user, token, csrf = auth.login(store, "rana", PW)
    assert user.roles == ("reviewer",) and len(token) > 30 and len(csrf) > 30
    assert auth.session_user(store, token)[0].username == "rana"
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthError, match="wrong user name or password"):
            auth.login(store, "rana", "not the password")
    with pytest.raises(auth.AuthError, match="too many failed attempts"):
        auth.login(store, "rana", PW)     # locked even with the right password
    with store.begin() as conn:          # the lock expires
        conn.execute(update(users).values(locked_until=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert auth.login(store, "rana", PW)[0].username == "rana"
    actions = [e["action"] for e in audit.entries(store)]
    assert "login.refused" in actions and actions.count("login.failed") == auth.MAX_FAILURES
    assert audit.verify(store).ok


def test_passwords_are_stored_as_argon2id_and_sessions_only_as_hashes(store):
    auth.create_user(store, "omar", PW, ["auditor"])
    _u, token, _c = auth.login(store, "omar", PW)
    with store.connect() as conn:
        h = conn.execute(select(users.c.password_hash)).scalar()
        ids = [r[0] for r in conn.execute(select(auth.sessions.c.id))]
    assert h.startswith("$argon2id$") and PW not in h
    assert token not in ids and auth._sha(token) in ids


def test_each_login_issues_a_new_session_token(store):
    auth.create_user(store, "lea", PW, ["reviewer"])
    t1 = auth.login(store, "lea", PW)[1]
    t2 = auth.login(store, "lea", PW)[1]
    assert t1 != t2
    auth.logout(store, t1)
    assert auth.session_user(store, t1) is None and auth.session_user(store, t2) is not None


def test_unknown_roles_and_short_passwords_are_refused(store):
    with pytest.raises(ConfigError, match="unknown role"):
        auth.create_user(store, "x", PW, ["superuser"])
    with pytest.raises(ConfigError, match="12 characters"):
        auth.create_user(store, "x", "short", ["reviewer"])


def test_api_keys_are_checked_scoped_and_revocable(store):
    key, secret = auth.create_api_key(store, "platform-a", ["items:write"])
    got = auth.check_api_key(store, secret)
    assert got.scopes == ("items:write",) and got.prefix == key.prefix
    assert auth.check_api_key(store, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert auth.check_api_key(store, "hk_nothing_here") is None
    assert auth.revoke_api_key(store, key.prefix)
    assert auth.check_api_key(store, secret) is None
