"""Model directories: config, checksums and model card, verified at load.

A model directory holds ``config.json``, ``checksums.json`` (sha256 of every other file),
``MODEL_CARD.md`` and the weight files the config names. Loading fails loudly when any of
them is missing or altered: Frankly never falls back to default or random weights.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from frankly.errors import ChecksumError, ModelError, ModelNotFoundError

CONFIG = "config.json"
CHECKSUMS = "checksums.json"
CARD = "MODEL_CARD.md"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_checksums(model_dir: Path) -> None:
    """Record the sha256 of every file in ``model_dir`` (call after the last write)."""
    sums = {p.name: sha256(p) for p in sorted(model_dir.iterdir())
            if p.is_file() and p.name != CHECKSUMS}
    (model_dir / CHECKSUMS).write_text(json.dumps(sums, indent=2) + "\n")


def verify_checksums(directory: Path, what: str) -> None:
    """Fail loudly when a file listed in ``directory``'s checksums is missing or altered
    (``what`` names the resources in the message, e.g. "urgency resources")."""
    try:
        expected = json.loads((directory / CHECKSUMS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{what} in {directory} lack a readable {CHECKSUMS}: {exc}") from exc
    _check_files(directory, expected, what)


def _check_files(directory: Path, sums: dict[str, str], what: str) -> None:
    """Raise if a file ``sums`` names is missing from ``directory`` or has another sha256."""
    for name, digest in sums.items():
        path = directory / name
        if not path.is_file():
            raise ModelError(f"{what}: {path} is missing")
        if sha256(path) != digest:
            raise ChecksumError(f"{what}: {path} does not match its checksum: the file was "
                                f"altered or damaged; reinstall frankly or rebuild it")


def read_model_dir(model_dir: Path) -> dict[str, Any]:
    """Verify ``model_dir`` and return its config. Raises a ModelError naming what is wrong."""
    if not model_dir.is_dir():
        raise ModelNotFoundError(f"no model directory at {model_dir}")
    for name in (CONFIG, CHECKSUMS, CARD):
        if not (model_dir / name).is_file():
            raise ModelError(f"model directory {model_dir} is missing {name}")
    try:
        config = json.loads((model_dir / CONFIG).read_text(encoding="utf-8"))
        sums = json.loads((model_dir / CHECKSUMS).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{model_dir}: unreadable {CONFIG} or {CHECKSUMS}: {exc}") from exc
    for name in config.get("files", []):
        if name not in sums:
            raise ModelError(f"{model_dir}: {name} has no checksum in {CHECKSUMS}")
    _check_files(model_dir, sums, f"model directory {model_dir}")
    for key in ("name", "version", "kind", "labels", "temperature", "review_threshold"):
        if key not in config:
            raise ModelError(f"{model_dir / CONFIG} lacks the key {key!r}")
    return config
