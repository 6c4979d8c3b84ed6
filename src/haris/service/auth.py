"""People, roles, sessions and API keys.

* Passwords are hashed with argon2id (argon2-cffi's defaults, which follow
  RFC 9106's recommendations); a hash made with older parameters is upgraded
  at the next successful log-in.
* After ``MAX_FAILURES`` failed log-ins an account is locked for
  ``LOCKOUT``; the failure and the lock are audited.
* Sessions: a random 256-bit token in an HttpOnly, SameSite=Strict cookie;
  the store keeps only its SHA-256, so a database leak gives no sessions. A
  new token is issued at every log-in (no session fixation). Each session has
  its own CSRF token for forms.
* API keys: ``hk_<prefix>_<secret>``; the store keeps the SHA-256 of the whole
  key (the secret has 256 bits of entropy, so a slow KDF adds nothing), its
  scopes, its rate limit and whether it was revoked. The service remembers a
  verified key for ``API_KEY_CACHE_SECONDS`` (:class:`ApiKeyCache`): a key
  revoked in the serving process stops working at once, one revoked elsewhere
  (``haris apikey revoke``, another server process) within that bound.

Roles: ``admin`` (users, keys, policies), ``senior_reviewer`` (second
reviews, reports to authorities), ``reviewer`` (queues and first decisions),
``auditor`` (read-only, the audit log), ``victim_data`` (may see the records
of people at risk; given only to those who need it).
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update

from haris.errors import ConfigError, HarisError
from haris.model import stable_id
from haris.service import audit
from haris.service.tables import api_keys, sessions, users
from haris.store.db import Store

ROLES = ("admin", "senior_reviewer", "reviewer", "auditor", "victim_data")
SCOPES = ("items:write", "reports:write", "read", "banks:write", "policies:write")
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=8)
API_KEY_CACHE_SECONDS = 5.0     # the longest a key revoked by another process keeps working in this one
_hasher = PasswordHasher()


class AuthError(HarisError):
    """Log-in or key refused; the message is safe to show (it never says which part was wrong)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=timezone.utc) if t is not None and t.tzinfo is None else t


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    id: str
    username: str
    roles: tuple[str, ...]
    language: str = "en"

    def has(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)


def _user(row) -> User:
    return User(row["id"], row["username"], tuple(row["roles"] or ()), row["language"] or "en")


def create_user(store: Store, username: str, password: str, roles: list[str], *, language: str = "en",
                actor: str = "system") -> User:
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ConfigError(f"unknown role(s) {', '.join(bad)}; roles are {', '.join(ROLES)}")
    if len(password) < 12:
        raise ConfigError("a password has at least 12 characters")
    uid = stable_id("user", "haris", username.lower())
    with store.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == username)).first():
            raise ConfigError(f"user {username!r} exists")
        conn.execute(users.insert().values(id=uid, username=username, password_hash=_hasher.hash(password),
                                           roles=list(roles), language=language, active=True, failed_logins=0,
                                           created_at=_now()))
        audit.append(conn, actor, "user.create", uid, {"username": username, "roles": list(roles)})
    return User(uid, username, tuple(roles), language)


def set_roles(store: Store, user_id: str, roles: list[str], actor: str) -> None:
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ConfigError(f"unknown role(s) {', '.join(bad)}")
    with store.begin() as conn:
        old = conn.execute(select(users.c.roles).where(users.c.id == user_id)).scalar()
        conn.execute(update(users).where(users.c.id == user_id).values(roles=list(roles)))
        audit.append(conn, actor, "user.roles", user_id, {"from": old, "to": list(roles)})


def login(store: Store, username: str, password: str, *, ip: str | None = None) -> tuple[User, str, str]:
    """Check a password; returns (user, session token, csrf token). Raises AuthError on any failure."""
    now = _now()
    refusal = None
    # Failures are committed before the refusal is raised: a raise inside the
    # transaction would roll back the failure count and the audit entry.
    with store.begin() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
        if row is None or not row["active"]:
            _hasher.hash(password)  # same work either way: no user enumeration by timing
            audit.append(conn, username or "?", "login.failed", None, {"ip": ip, "reason": "unknown user"})
            refusal = "wrong user name or password"
        elif _aware(row["locked_until"]) and _aware(row["locked_until"]) > now:
            audit.append(conn, username, "login.refused", row["id"], {"ip": ip, "reason": "locked"})
            refusal = "too many failed attempts; try again later"
        else:
            try:
                _hasher.verify(row["password_hash"], password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                failures = row["failed_logins"] + 1
                values = {"failed_logins": failures}
                if failures >= MAX_FAILURES:
                    values = {"failed_logins": 0, "locked_until": now + LOCKOUT}
                conn.execute(update(users).where(users.c.id == row["id"]).values(**values))
                audit.append(conn, username, "login.failed", row["id"],
                             {"ip": ip, "failures": failures, "locked": failures >= MAX_FAILURES})
                refusal = "wrong user name or password"
        if refusal is None:
            values = {"failed_logins": 0, "locked_until": None}
            if _hasher.check_needs_rehash(row["password_hash"]):
                values["password_hash"] = _hasher.hash(password)
            conn.execute(update(users).where(users.c.id == row["id"]).values(**values))
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            conn.execute(sessions.insert().values(id=_sha(token), user_id=row["id"], csrf_token=csrf,
                                                  created_at=now, expires_at=now + SESSION_TTL, last_seen_at=now))
            audit.append(conn, username, "login", row["id"], {"ip": ip})
    if refusal is not None:
        raise AuthError(refusal)
    return _user(row), token, csrf


def session_user(store: Store, token: str | None) -> tuple[User, str] | None:
    """The user and CSRF token of a live session, or None."""
    if not token:
        return None
    with store.connect() as conn:
        row = conn.execute(select(users, sessions.c.csrf_token, sessions.c.expires_at)
                           .join(sessions, sessions.c.user_id == users.c.id)
                           .where(sessions.c.id == _sha(token))).mappings().first()
    if row is None or not row["active"] or _aware(row["expires_at"]) <= _now():
        return None
    return _user(row), row["csrf_token"]


def logout(store: Store, token: str) -> None:
    with store.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.id == _sha(token)))


# -- API keys ------------------------------------------------------------------
@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    rate_per_minute: int


def create_api_key(store: Store, name: str, scopes: list[str], *, rate_per_minute: int = 600,
                   actor: str = "system") -> tuple[ApiKey, str]:
    """Returns the key record and the secret, which is shown once and never stored."""
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise ConfigError(f"unknown scope(s) {', '.join(bad)}; scopes are {', '.join(SCOPES)}")
    prefix = secrets.token_hex(4)
    secret = f"hk_{prefix}_{secrets.token_urlsafe(32)}"
    kid = stable_id("key", "haris", prefix)
    with store.begin() as conn:
        conn.execute(api_keys.insert().values(id=kid, name=name, prefix=prefix, key_hash=_sha(secret),
                                              scopes=list(scopes), rate_per_minute=rate_per_minute,
                                              created_at=_now()))
        audit.append(conn, actor, "apikey.create", kid, {"name": name, "scopes": list(scopes), "prefix": prefix})
    return ApiKey(kid, name, prefix, tuple(scopes), rate_per_minute), secret


def check_api_key(store: Store, secret: str | None) -> ApiKey | None:
    """The live key whose secret this is, read from the store; None for a wrong, unknown or revoked key."""
    if not secret or not secret.startswith("hk_") or secret.count("_") < 2:
        return None
    prefix = secret.split("_", 2)[1]
    with store.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).mappings().first()
    if row is None or row["revoked_at"] is not None or not secrets.compare_digest(row["key_hash"], _sha(secret)):
        return None
    return ApiKey(row["id"], row["name"], row["prefix"], tuple(row["scopes"]), row["rate_per_minute"])


class ApiKeyCache:
    """Keys verified in the last ``ttl`` seconds, so that a request needs no lookup in the store.

    Only keys found valid are kept (a wrong key is looked up every time, as
    without the cache), under the SHA-256 of the secret. :func:`revoke_api_key`
    drops a key from every cache of its process at once; a key revoked by
    another process is dropped when its entry expires, i.e. within ``ttl``.

    >>> cache = ApiKeyCache(store)
    >>> cache.check(secret)          # the store is read once, then not for ``ttl`` seconds
    ApiKey(...)
    """

    _all: "weakref.WeakSet[ApiKeyCache]" = weakref.WeakSet()

    def __init__(self, store: Store, ttl: float = API_KEY_CACHE_SECONDS, *, max_keys: int = 1024,
                 clock=time.monotonic):
        self.store, self.ttl, self.max_keys, self.clock = store, ttl, max_keys, clock
        self._keys: dict[str, tuple[ApiKey, float]] = {}      # sha256(secret) -> (key, verified at)
        self._lock = threading.Lock()
        self._revocations = 0        # forget() calls so far: a lookup that overlapped one is not cached
        ApiKeyCache._all.add(self)

    def cached(self, secret: str) -> ApiKey | None:
        """The key if it was verified less than ``ttl`` seconds ago; None means: ask :meth:`check`."""
        hit = self._keys.get(_sha(secret))
        if hit is None or self.clock() - hit[1] >= self.ttl:
            return None
        return hit[0]

    def check(self, secret: str | None) -> ApiKey | None:
        """Like :func:`check_api_key`, answered from the cache while the entry is fresh."""
        if not secret:
            return None
        key = self.cached(secret)
        if key is not None:
            return key
        verified_at = self.clock()     # before the read: a revocation after it is seen within ttl of it
        revocations = self._revocations
        key = check_api_key(self.store, secret)
        if key is not None:
            with self._lock:
                # A key revoked in this process while we read it may have been read as live: not cached,
                # or the revocation would take ttl to apply instead of applying at once.
                if self._revocations == revocations:
                    if len(self._keys) >= self.max_keys:       # many keys in use: start again rather than grow
                        self._keys.clear()
                    self._keys[_sha(secret)] = (key, verified_at)
        return key

    def forget(self, key_id_or_prefix: str) -> None:
        """Drop a key (by id or prefix) at once: :func:`revoke_api_key` calls it for every cache."""
        with self._lock:
            self._revocations += 1
            for h, (key, _t) in list(self._keys.items()):
                if key_id_or_prefix in (key.id, key.prefix):
                    del self._keys[h]

    @classmethod
    def forget_everywhere(cls, key_id_or_prefix: str) -> None:
        for cache in list(cls._all):
            cache.forget(key_id_or_prefix)


def revoke_api_key(store: Store, key_id_or_prefix: str, actor: str = "system") -> bool:
    with store.begin() as conn:
        res = conn.execute(update(api_keys).where((api_keys.c.id == key_id_or_prefix)
                                                  | (api_keys.c.prefix == key_id_or_prefix))
                           .where(api_keys.c.revoked_at.is_(None)).values(revoked_at=_now()))
        if res.rowcount:
            audit.append(conn, actor, "apikey.revoke", key_id_or_prefix, {})
    # After the commit: a request between the two would re-cache the key as still live.
    ApiKeyCache.forget_everywhere(key_id_or_prefix)
    return bool(res.rowcount)
