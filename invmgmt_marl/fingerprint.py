"""Fingerprints of scenarios: hashes that change whenever anything that shapes a result changes.

A scenario's mapping names its files (CSV demand series) only by path, so hashing the mapping alone
misses an edit of the file: :func:`scenario_fingerprint` hashes the mapping *and the content of every
file it refers to*. The tuning cache keys on it, and checkpoints record it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from invmgmt_marl.scenario.schema import Scenario

__all__ = ["scenario_fingerprint", "referenced_files", "file_digest"]


def referenced_files(data: Any) -> Iterator[str]:
    """Every ``path`` value in a scenario mapping (demand processes that read files), in mapping order."""
    if isinstance(data, Mapping):
        for k, v in data.items():
            if k == "path" and isinstance(v, str):
                yield v
            else:
                yield from referenced_files(v)
    elif isinstance(data, (list, tuple)):
        for v in data:
            yield from referenced_files(v)


def file_digest(path: str) -> str:
    """SHA-256 of a file's bytes (``"missing"`` if it cannot be read: scenario validation says why)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return "missing"
    return h.hexdigest()


def scenario_fingerprint(scenario: Scenario, length: int = 16) -> str:
    """A hex digest of the scenario's full mapping plus the content of every file it reads.

    Two scenarios get the same fingerprint exactly when their mappings are equal and their files hold
    the same bytes (a CSV changed from 5 to 500 per period changes it).
    """
    data = scenario.to_dict()
    files = {p: file_digest(p) for p in referenced_files(data) if os.path.isabs(p) or os.path.exists(p)}
    blob = json.dumps([data, files], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]
