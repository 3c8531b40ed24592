"""Ed25519 keys and signatures for ledger entries and attestations.

The hash chain shows that entries were not edited *unless the editor recomputed the chain*;
anyone who can write the ledger file can do that. A signature over an entry's hash needs the
private key, which lives with the validator (a CI secret), not beside the ledger. With trusted
public keys configured, `ledger verify` and `gate` accept only entries signed by one of them.

>>> from validator.verdict.signing import generate_keys
>>> private, public = generate_keys(Path("keys"), "ci")     # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validator.errors import LabelpactError, UsageError


class SigningError(LabelpactError):
    """A key cannot be read or written."""


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:  # pragma: no cover - cryptography is a dependency
        raise SigningError("signing needs the `cryptography` package") from exc
    return serialization, ed25519


def key_id(public_raw: bytes) -> str:
    """A short, stable name for a public key: SHA-256 of its raw 32 bytes, 16 hex digits."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def default_key_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where `keys generate` writes without `--dir`: `$XDG_CONFIG_HOME/labelpact/keys`, else
    `~/.config/labelpact/keys`. Outside any project, so a private key is never committed."""
    env = os.environ if env is None else env
    config = env.get("XDG_CONFIG_HOME", "")
    if os.path.isabs(config):  # the XDG spec: a relative value is to be ignored
        return Path(config) / "labelpact" / "keys"
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".config" / "labelpact" / "keys"


def generate_keys(directory: Path, name: str = "labelpact") -> tuple[Path, Path]:
    """Write NAME.key (PKCS#8 PEM, readable by the owner only) and NAME.pub (PEM); a directory
    it creates is readable by the owner only (0700)."""
    serialization, ed25519 = _crypto()
    private_path, public_path = directory / f"{name}.key", directory / f"{name}.pub"
    if private_path.exists():
        raise UsageError(f"{private_path} exists; choose another --name or remove it first")
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        directory.chmod(0o700)  # mkdir's mode is masked by the umask
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


@dataclass(frozen=True)
class Signer:
    """A private key that signs; `keyid` names its public half."""

    keyid: str
    _key: Any

    def sign(self, message: bytes) -> str:
        """Base64 Ed25519 signature of `message`."""
        return base64.b64encode(self._key.sign(message)).decode("ascii")

    @property
    def public_raw(self) -> bytes:
        serialization, _ = _crypto()
        raw: bytes = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return raw


def load_signer(path: Path) -> Signer:
    serialization, ed25519 = _crypto()
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"cannot read the signing key {path}: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SigningError(f"{path} is not an Ed25519 private key (`labelpact keys generate`)")
    signer = Signer("", key)
    return Signer(key_id(signer.public_raw), key)


class TrustedKeys:
    """Public keys whose signatures are accepted, by key id."""

    def __init__(self, paths: tuple[Path, ...]) -> None:
        self.keys: dict[str, Any] = {}
        serialization, ed25519 = _crypto()
        for path in _expand(paths):
            try:
                key = serialization.load_pem_public_key(path.read_bytes())
            except (OSError, ValueError) as exc:
                raise SigningError(f"cannot read the trusted key {path}: {exc}") from exc
            if not isinstance(key, ed25519.Ed25519PublicKey):
                raise SigningError(f"{path} is not an Ed25519 public key")
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.keys[key_id(raw)] = key
        if paths and not self.keys:
            raise SigningError(f"no public keys (*.pub) in {', '.join(map(str, paths))}")

    def __bool__(self) -> bool:
        return bool(self.keys)

    def problem(self, signature: Any, message: bytes) -> str | None:
        """Why `signature` (as read from the ledger: anything) does not prove `message` came
        from a trusted key (None: it does)."""
        from cryptography.exceptions import InvalidSignature

        if not signature:
            return "unsigned"
        if not isinstance(signature, dict) or not isinstance(signature.get("sig", ""), str):
            return "signature is damaged (not a {keyid, sig} object)"
        key = self.keys.get(str(signature.get("keyid")))
        if key is None:
            return f"signed by an unknown key ({signature.get('keyid')})"
        try:
            key.verify(base64.b64decode(signature.get("sig", "")), message)
        except (InvalidSignature, ValueError):
            return f"signature does not match (key {signature['keyid']})"
        return None


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    """Files as given; directories contribute their *.pub files."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(path.glob("*.pub"))
        elif path.exists():
            out.append(path)
        else:
            raise SigningError(f"trusted key {path} does not exist")
    return out
