"""The licence pyproject.toml declares is the one shipped with the code."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_declared_licence_is_shipped_verbatim():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "AGPL-3.0-or-later"
    text = (ROOT / "LICENSE").read_bytes()
    assert b"GNU AFFERO GENERAL PUBLIC LICENSE\n                       Version 3" in text
    # The Free Software Foundation's text, unchanged (https://www.gnu.org/licenses/agpl-3.0.txt).
    assert hashlib.md5(text).hexdigest() == "eb1e647870add0502f8f010b19de32af"  # noqa: S324
