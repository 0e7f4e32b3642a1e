"""Safe file input and output: one place for every user file the package reads or writes.

- :func:`load_yaml_file` / :func:`load_yaml_text`: YAML for scenarios, ablation grids and any user
  YAML. Refuses files over :data:`MAX_YAML_BYTES`, folders, non-UTF-8 text, nesting deeper than
  :data:`MAX_YAML_DEPTH`, more than :data:`MAX_YAML_ALIASES` aliases or a document that would expand
  (aliases counted each time they are used) past :data:`MAX_YAML_NODES` nodes ("billion laughs"),
  and duplicate mapping keys (YAML keeps the last one silently).
- :func:`atomic_write_text` / :func:`atomic_write_json`: write a temporary file in the same folder
  and ``os.replace`` it over the target, so a kill mid-write never leaves a half-written file.
- :func:`read_json_or_none`: read a cache or record file; a missing, unreadable or corrupt file gives
  ``None`` and a logged warning, never an exception.
- :func:`check_name` / :func:`child_path`: names that become file names are safe slugs, and joined
  paths never leave the folder the user chose.

Every error names the file and quotes user values through :func:`invmgmt_marl.errors.quote`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from yaml import MappingNode, Node, ScalarNode, SequenceNode

from invmgmt_marl.errors import ScenarioError, quote

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_ALIASES",
    "MAX_YAML_NODES",
    "MAX_JSON_BYTES",
    "SAFE_NAME",
    "load_yaml_file",
    "load_yaml_text",
    "atomic_write_text",
    "atomic_write_json",
    "read_json_or_none",
    "check_name",
    "child_path",
]

logger = logging.getLogger(__name__)

#: largest YAML file read (scenario and grid files are a few kB; the biggest shipped one is 18 kB)
MAX_YAML_BYTES = 1 << 20
#: deepest nesting of mappings / sequences (shipped scenarios nest 5 deep)
MAX_YAML_DEPTH = 32
#: most aliases (``*name``) in one document (no shipped scenario uses any)
MAX_YAML_ALIASES = 64
#: most nodes of a document with every alias expanded where it is used
MAX_YAML_NODES = 200_000
#: largest JSON record / cache / metadata file read
MAX_JSON_BYTES = 16 << 20
#: a name that becomes (part of) a file name: letters, digits, ``_``, ``-``, ``.``; not starting with ``.``
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}")


class _YamlLimit(yaml.YAMLError):
    """A document broke one of the limits (depth, aliases, expanded size, duplicate keys)."""


class _SafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with limits on depth, aliases and expanded size, and no duplicate keys."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                mark = self.peek_event().start_mark
                raise _YamlLimit(
                    f"more than {MAX_YAML_ALIASES} aliases (line {mark.line + 1}); write the values out"
                )
            return super().compose_node(parent, index)
        if self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent):
            self._depth += 1
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise _YamlLimit(f"nested more than {MAX_YAML_DEPTH} levels deep (line {mark.line + 1})")
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: construct_mapping reports it below
                continue
            if first is not None:
                raise _YamlLimit(
                    f"duplicate key {quote(key)} (lines {first} and {key_node.start_mark.line + 1}); "
                    "YAML would silently keep the last one"
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: Node) -> int:
    """Nodes of the document with aliases expanded, memoised on shared nodes (linear in distinct nodes)."""
    memo: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in memo:
            continue
        if isinstance(node, ScalarNode):
            memo[id(node)] = 1
            continue
        children: list[Node] = (
            [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else list(node.value)
        )
        if done:
            memo[id(node)] = min(1 + sum(memo[id(c)] for c in children), MAX_YAML_NODES + 1)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
    return memo[id(root)]


def _parse(text: str) -> Any:
    loader = _SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if isinstance(root, (MappingNode, SequenceNode)):
            size = _expanded_size(root)
            if size > MAX_YAML_NODES:
                raise _YamlLimit(
                    f"expands to more than {MAX_YAML_NODES} values once its aliases are resolved "
                    "(a 'billion laughs' document?)"
                )
        return loader.construct_document(root)
    finally:
        loader.dispose()


def load_yaml_text(text: str, source: str = "<yaml>", error: type[ValueError] = ScenarioError) -> Any:
    """Parse YAML text with the package's limits (see the module docstring).

    Args:
        text: the YAML document (at most :data:`MAX_YAML_BYTES` bytes as UTF-8).
        source: where it came from, for messages (a file name, ``--option value``, ...).
        error: the exception class raised (``ScenarioError``, ``AblationError``, ...).

    Raises:
        error: ``"<source>: <what is wrong>"``.
    """
    if len(text) > MAX_YAML_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise error(f"{source}: larger than the {MAX_YAML_BYTES} bytes allowed for a YAML document")
    try:
        return _parse(text)
    except _YamlLimit as err:
        raise error(f"{source}: refused YAML: {err}") from None
    except yaml.YAMLError as err:  # ComposerError, ConstructorError, ScannerError, ...
        raise error(f"{source}: not valid YAML: {_short(str(err))}") from None
    except RecursionError:  # pragma: no cover - the depth limit fires first
        raise error(f"{source}: refused YAML: nested too deeply") from None


def load_yaml_file(path: str | Path, error: type[ValueError] = ScenarioError) -> Any:
    """Read a YAML file with the package's limits: a regular UTF-8 file of at most
    :data:`MAX_YAML_BYTES` bytes, parsed by :func:`load_yaml_text`.

    Raises:
        error: naming the file (missing, a folder, too large, not UTF-8, invalid or refused YAML).
    """
    p = Path(path)
    name = quote(str(p), 200)
    try:
        st = p.stat()
    except OSError as err:
        raise error(f"{name}: cannot read the file ({err.strerror})") from None
    if not p.is_file():
        raise error(f"{name}: not a regular file" + (" (a folder)" if p.is_dir() else ""))
    if st.st_size > MAX_YAML_BYTES:
        raise error(f"{name}: {st.st_size} bytes, more than the {MAX_YAML_BYTES} allowed for a YAML file")
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_YAML_BYTES + 1)
    except OSError as err:
        raise error(f"{name}: cannot read the file ({err.strerror})") from None
    if len(raw) > MAX_YAML_BYTES:
        raise error(f"{name}: more than the {MAX_YAML_BYTES} bytes allowed for a YAML file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise error(f"{name}: not UTF-8 text (byte {err.start})") from None
    return load_yaml_text(text, source=name, error=error)


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------------
def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: a temporary file in the same folder, flushed and
    ``os.replace``-d over the target. Readers see the old file or the new one, never a partial one."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return p


def atomic_write_json(path: str | Path, data: Any, **dumps: Any) -> Path:
    """:func:`atomic_write_text` of ``json.dumps(data, indent=2, **dumps)`` plus a newline."""
    return atomic_write_text(path, json.dumps(data, **{"indent": 2, **dumps}) + "\n")


def read_json_or_none(path: str | Path, what: str = "file", expect: type | None = dict) -> Any:
    """The JSON in ``path``, or ``None`` when it is missing; a file that cannot be read, is larger than
    :data:`MAX_JSON_BYTES`, is not valid JSON or (``expect``) does not hold that type is ignored with a
    logged warning (returns ``None``)."""
    p = Path(path)
    try:
        if not p.is_file():
            return None
        if p.stat().st_size > MAX_JSON_BYTES:
            logger.warning("ignoring %s %s: larger than %d bytes", what, p, MAX_JSON_BYTES)
            return None
        data = json.loads(p.read_text(encoding="utf-8"))
        if expect is not None and not isinstance(data, expect):
            logger.warning("ignoring corrupt %s %s: expected a JSON %s", what, p, expect.__name__)
            return None
        return data
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        logger.warning("ignoring corrupt %s %s: %s", what, p, _short(str(err), 200))
        return None


# --------------------------------------------------------------------------------------------------
def check_name(name: object, field: str, error: type[ValueError] = ValueError) -> str:
    """Return ``name`` if it is a safe file-name slug (:data:`SAFE_NAME`: letters, digits, ``_``, ``-``,
    ``.``, at most 100 characters, not starting with ``.``), else raise ``error`` naming ``field``."""
    if not isinstance(name, str) or SAFE_NAME.fullmatch(name) is None:
        raise error(
            f"{field}: must be a name of letters, digits, '_', '-' or '.' (at most 100, not starting "
            f"with '.'), used in file names; got {quote(name)}"
        )
    return name


def child_path(folder: str | Path, *parts: str) -> Path:
    """``folder / parts...``, refusing (``ValueError``) any result outside ``folder`` (``..``, absolute
    parts, separators in names)."""
    base = Path(folder).resolve()
    out = base.joinpath(*parts).resolve()
    if out != base and base not in out.parents:
        raise ValueError(f"path: {quote('/'.join(parts))} would leave the folder {quote(str(base), 200)}")
    return out
