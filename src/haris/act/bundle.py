"""Signed ZIP bundles: writing them canonically, signing them with Ed25519, and checking them.

A bundle holds data files, a ``manifest.json`` listing the SHA-256 and size of
every one of them, ``manifest.sig`` (the Ed25519 signature of the manifest's
exact bytes, base64) and ``public_key.pem``. The archive itself is written
canonically (files stored uncompressed, fixed dates and attributes, a fixed
order), so :func:`verify_bundle` can re-encode what it read and require the
very same bytes: a change to *any* byte of the bundle — a file, the manifest,
the signature, a header, a date, a comment — is found.

Who signed matters as much as the signature: pass the expected public key (or
its fingerprint) to :func:`verify_bundle` to pin it; without it the check proves
that nothing changed since the holder of the bundled key signed it.

The signing key is ``HARIS_EVIDENCE_KEY`` (the path of a PEM private key), else
``evidence_ed25519.pem`` in the data folder (``HARIS_DATA_DIR``), created on
first use with permissions 0600.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from haris.act.items import data_dir
from haris.errors import ConfigError, InputError

MANIFEST, SIGNATURE, PUBLIC_KEY = "manifest.json", "manifest.sig", "public_key.pem"
SIGNED_PARTS = (MANIFEST, SIGNATURE, PUBLIC_KEY)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
KEY_FILE = "evidence_ed25519.pem"


# -- keys ----------------------------------------------------------------------------------------
def key_path() -> Path:
    env = os.environ.get("HARIS_EVIDENCE_KEY")
    return Path(env) if env else data_dir() / KEY_FILE


def signing_key(path: str | Path | None = None) -> tuple[Ed25519PrivateKey, Path]:
    """The Ed25519 key that signs bundles; the default key file is created once, readable by its owner only."""
    explicit = path is not None or bool(os.environ.get("HARIS_EVIDENCE_KEY"))
    p = Path(path) if path is not None else key_path()
    if not p.exists():
        if explicit:
            raise ConfigError(f"evidence signing key {p} does not exist (HARIS_EVIDENCE_KEY names a PEM private key)")
        p.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:   # another process made it first: use theirs
            return signing_key(p)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return key, p
    try:
        key = serialization.load_pem_private_key(p.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"{p}: not a readable, unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{p}: evidence is signed with Ed25519; this key is {type(key).__name__}")
    return key, p


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in hex: what people compare."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def key_info(key: Ed25519PublicKey) -> dict:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"algorithm": "Ed25519", "public_key": base64.b64encode(raw).decode(), "fingerprint": fingerprint(key)}


# -- writing ---------------------------------------------------------------------------------------
def _zip_into(out: BinaryIO, members: Iterable[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


def build_manifest(files: dict[str, bytes], meta: dict, key: Ed25519PrivateKey) -> tuple[bytes, bytes]:
    """The manifest's bytes (every file's SHA-256 and size, plus ``meta``) and its signature (base64)."""
    bad = [n for n in files if n in SIGNED_PARTS or n.startswith("/") or ".." in n.split("/")]
    if bad:
        raise ValueError(f"reserved or unsafe file names in a bundle: {bad}")
    manifest = {**meta, "signing_key": key_info(key.public_key()),
                "files": [{"path": n, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                          for n, d in files.items()]}
    data = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    return data, base64.b64encode(key.sign(data)) + b"\n"


def write_bundle(out: str | Path, files: dict[str, bytes], meta: dict, key: Ed25519PrivateKey) -> str:
    """Write a signed bundle; returns the SHA-256 of its manifest. Written to a temporary name, then renamed."""
    manifest, sig = build_manifest(files, meta, key)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "wb") as f:
        _zip_into(f, [*files.items(), (MANIFEST, manifest), (SIGNATURE, sig),
                      (PUBLIC_KEY, public_pem(key.public_key()))])
    tmp.replace(out)
    return hashlib.sha256(manifest).hexdigest()


# -- checking -------------------------------------------------------------------------------------
@dataclass
class BundleCheck:
    ok: bool
    path: str
    problem: str | None = None
    files: int = 0
    fingerprint: str | None = None
    manifest: dict = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "path": self.path, "problem": self.problem, "files": self.files,
                "fingerprint": self.fingerprint, "case_id": self.manifest.get("case_id")}


def _expected_fingerprint(expected: str | Path | None) -> str | None:
    if expected is None:
        return None
    text = str(expected).strip()
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text.lower()):
        return text.lower()
    try:
        key = serialization.load_pem_public_key(Path(text).read_bytes())
    except (OSError, ValueError) as exc:
        raise InputError(text, f"not a PEM public key or a 64-hex fingerprint: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(text, "not an Ed25519 public key")
    return fingerprint(key)


def verify_bundle(path: str | Path, expected_key: str | Path | None = None) -> BundleCheck:
    """Check every hash, the signature and the archive's bytes; the result names the first problem."""
    path = str(path)
    want = _expected_fingerprint(expected_key)
    res = BundleCheck(False, path)
    try:
        original = Path(path).read_bytes()
    except OSError as exc:
        res.problem = f"cannot read: {exc.strerror or exc}"
        return res
    try:
        with zipfile.ZipFile(io.BytesIO(original)) as zf:
            names = zf.namelist()
            members = {}
            for name in names:
                try:
                    members[name] = zf.read(name)
                except Exception as exc:  # noqa: BLE001 - CRC, flags, method: any failure here means an altered archive
                    res.problem = f"{name}: cannot be read back ({exc}): the bundle was altered or truncated"
                    return res
    except (zipfile.BadZipFile, ValueError, UnicodeDecodeError, OSError) as exc:
        res.problem = f"not a readable ZIP archive ({exc}): the bundle was altered or truncated"
        return res
    if len(set(names)) != len(names):
        res.problem = "the archive holds two entries with the same name"
        return res
    for part in SIGNED_PARTS:
        if part not in members:
            res.problem = f"{part} is missing"
            return res
    try:
        manifest = json.loads(members[MANIFEST])
        listed = manifest["files"]
        res.manifest = manifest
    except (ValueError, KeyError, TypeError):
        res.problem = f"{MANIFEST} is not a bundle manifest (JSON with a files list)"
        return res
    # 1. every listed file, byte for byte
    seen = set()
    for entry in listed:
        name = entry.get("path")
        seen.add(name)
        if name not in members:
            res.problem = f"{name}: listed in the manifest but missing from the bundle"
            return res
        digest = hashlib.sha256(members[name]).hexdigest()
        if digest != entry.get("sha256") or len(members[name]) != entry.get("size"):
            res.problem = (f"{name}: SHA-256 {digest[:16]}… does not match the manifest's "
                           f"{str(entry.get('sha256'))[:16]}… (the file was altered)")
            return res
    extra = [n for n in names if n not in seen and n not in SIGNED_PARTS]
    if extra:
        res.problem = f"{extra[0]}: in the bundle but not in the manifest (added after signing)"
        return res
    res.files = len(listed)
    # 2. the signature over the manifest, with the bundled key (and the expected one, when given)
    try:
        pub = serialization.load_pem_public_key(members[PUBLIC_KEY])
    except ValueError:
        res.problem = f"{PUBLIC_KEY} is not a PEM public key"
        return res
    if not isinstance(pub, Ed25519PublicKey):
        res.problem = f"{PUBLIC_KEY} is not an Ed25519 key"
        return res
    res.fingerprint = fingerprint(pub)
    if (manifest.get("signing_key") or {}).get("fingerprint") != res.fingerprint:
        res.problem = f"{PUBLIC_KEY} is not the key the manifest names (the key was swapped)"
        return res
    if want is not None and want != res.fingerprint:
        res.problem = f"signed by key {res.fingerprint[:16]}…, not the expected key {want[:16]}…"
        return res
    try:
        pub.verify(base64.b64decode(members[SIGNATURE], validate=False), members[MANIFEST])
    except (InvalidSignature, ValueError):
        res.problem = "the signature does not verify: the manifest was altered after signing"
        return res
    # 3. the archive's own bytes: headers, dates and comments are not in any file's hash
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as again:
        _zip_into(again, [(e["path"], members[e["path"]]) for e in listed]
                  + [(n, members[n]) for n in SIGNED_PARTS])
        again.seek(0)
        if hashlib.sha256(again.read()).digest() != hashlib.sha256(original).digest():
            res.problem = ("the archive's structure was altered (a byte outside the files' contents: a header, "
                           "a date or a comment)")
            return res
    res.ok = True
    return res
