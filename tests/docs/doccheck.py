"""Run the code examples of README.md and docs/*.md, as a reader would, and compare their shown output.

The rules a page follows (they are what the collector enforces):

- Every fenced ```python block runs. Blocks of one page run in order in one namespace (a later block
  may use names an earlier one defined), in a temporary working directory of that page's own, so
  nothing is written into the repository.
- Every fenced ```bash block runs when each of its commands is ``invmgmt-marl ...``: the command goes
  to :func:`invmgmt_marl.cli.main` in the same working directory (later python blocks can read what
  it wrote). A block with any other command (``pip``, ``ray start``, ``python script.py``) must carry a
  skip marker.
- A ```yaml block whose first line is a comment naming a file (``# my_chain.yaml: what it is``) is
  written to that file in the page's folder when the runner reaches it (and must parse as YAML), so a
  later block can load it. Other yaml blocks are illustrations and do not run.
- A ```text block that directly follows a code block (nothing but blank lines and markers between) is
  that block's printed output, and is compared with what the block printed: line by line, trailing
  spaces ignored. Rich's console output is rendered at :data:`COLUMNS` columns, without colour.
- An HTML comment right before a block changes this, and must give its reason in parentheses:

  ``<!-- doc-test: skip (trains for 10 minutes) -->`` before a code block: it is not run;
  ``<!-- doc-test: output varies (wall-clock times) -->`` before a code block or its text block: it
  runs, but its output is not compared;
  ``<!-- doc-test: slow (trains for 8 s) -->`` before a code block: it runs as a ``slow`` test.

:func:`collect` parses the pages, :class:`PageRunner` runs them; ``tests/docs/test_docs.py`` makes one
test per block (id ``path:line``). ``python -m tests.docs.doccheck --update [PAGE ...]`` rewrites the
shown outputs from a fresh run, for after a deliberate change of output; review the diff.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: the console width the shown CLI outputs are rendered at
COLUMNS = 100

_FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$")
_MARKER_BODY = re.compile(r"^(skip|output varies|slow)\s*\((.+)\)$")
_ANY_MARKER = re.compile(r"doc-test")
_FILE_HEADER = re.compile(r"^#\s*([A-Za-z0-9_.-]+\.ya?ml)\b")


class DocFormatError(ValueError):
    """A page breaks the rules of the doc runner (a marker without a reason, an unknown marker...)."""


@dataclass
class Block:
    """One fenced block of a page.

    Attributes:
        path: the page, relative to the repository root, e.g. ``docs/env.md``.
        line: 1-based line number of the opening fence.
        lang: the fence's language (``python``, ``bash``, ``text``, ``yaml``, or ``""``).
        file: for a yaml block that names a file in its first line, that file name.
        source: the block's text, without the fences and with the fence's indentation removed.
        skip: the reason given by a ``skip`` marker, or None.
        slow: the reason given by a ``slow`` marker, or None.
        varies: the reason given by an ``output varies`` marker (on the block or its output), or None.
        output: the ``text`` block shown as its output, if one directly follows.
    """

    path: str
    line: int
    lang: str
    source: str
    file: str | None = None
    skip: str | None = None
    slow: str | None = None
    varies: str | None = None
    output: Block | None = None

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class _Raw:
    line: int
    lang: str
    source: str
    markers: list[tuple[str, str]] = field(default_factory=list)  # (kind, reason)
    gap_only_blank: bool = True  # only blank lines / markers between the previous block and this one


def pages() -> list[Path]:
    """README.md and docs/*.md, sorted."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:  # a page outside the repository (the runner's own tests)
        return path.name


def parse(path: Path) -> list[_Raw]:
    """Fenced blocks of a page with the markers right before each (raises :class:`DocFormatError`)."""
    rel = _rel(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[_Raw] = []
    markers: list[tuple[str, str]] = []
    gap_blank = True
    i = 0
    while i < len(lines):
        text = lines[i]
        m = _FENCE.match(text)
        if m:
            indent, lang = m.group(1), m.group(2)
            body: list[str] = []
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j].lstrip())
                j += 1
            if j == len(lines):
                raise DocFormatError(f"{rel}:{i + 1}: fence never closed")
            out.append(_Raw(i + 1, lang, "\n".join(body) + "\n", markers, gap_blank))
            markers, gap_blank = [], True
            i = j + 1
            continue
        mm = _MARKER.match(text)
        if mm:
            body_m = _MARKER_BODY.match(mm.group(1))
            if not body_m:
                raise DocFormatError(
                    f"{rel}:{i + 1}: a doc-test marker is 'skip (reason)', 'slow (reason)' or "
                    f"'output varies (reason)', got {mm.group(1)!r}"
                )
            markers.append((body_m.group(1), body_m.group(2).strip()))
        elif _ANY_MARKER.search(text):
            raise DocFormatError(f"{rel}:{i + 1}: malformed doc-test marker {text.strip()!r}")
        elif text.strip():
            if markers:
                raise DocFormatError(f"{rel}:{i + 1}: a doc-test marker must come right before a fence")
            gap_blank = False
        i += 1
    if markers:
        raise DocFormatError(f"{rel}: a doc-test marker at the end of the page marks no block")
    return out


def collect(path: Path) -> list[Block]:
    """The runnable blocks (python, bash) of a page, each with its shown output and markers."""
    rel = _rel(path)
    raw = parse(path)
    blocks: list[Block] = []
    for k, r in enumerate(raw):
        header = _FILE_HEADER.match(r.source) if r.lang == "yaml" else None
        if header:
            if r.markers:
                raise DocFormatError(f"{rel}:{r.line}: a doc-test marker on a yaml file block")
            blocks.append(Block(rel, r.line, "yaml", r.source, file=header.group(1)))
            continue
        if r.lang not in ("python", "bash"):
            if r.lang == "text" and r.markers and not (k > 0 and raw[k - 1].lang in ("python", "bash")):
                raise DocFormatError(f"{rel}:{r.line}: a marker on a text block that is no block's output")
            if r.lang not in ("text",) and r.markers:
                raise DocFormatError(f"{rel}:{r.line}: a doc-test marker on a {r.lang or 'plain'} block")
            continue
        b = Block(rel, r.line, r.lang, r.source)
        for kind, reason in r.markers:
            if kind == "skip":
                b.skip = reason
            elif kind == "slow":
                b.slow = reason
            else:
                b.varies = reason
        nxt = raw[k + 1] if k + 1 < len(raw) else None
        if nxt is not None and nxt.lang == "text" and nxt.gap_only_blank:
            b.output = Block(rel, nxt.line, "text", nxt.source)
            for kind, reason in nxt.markers:
                if kind != "output varies":
                    raise DocFormatError(
                        f"{rel}:{nxt.line}: '{kind}' goes before the code block, not its output"
                    )
                b.varies = reason
        blocks.append(b)
    return blocks


def normalise(text: str) -> str:
    """Trailing spaces and leading/trailing blank lines dropped (rich pads table lines)."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def bash_commands(block: Block) -> list[list[str]]:
    """The ``invmgmt-marl`` argument lists of a bash block (raises if another command is in it)."""
    joined = block.source.replace("\\\n", " ")
    cmds: list[list[str]] = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] != "invmgmt-marl" or any(w in ("&&", "|", ";", ">", "||") for w in words):
            raise DocFormatError(
                f"{block.id}: only plain 'invmgmt-marl ...' commands run; mark the block "
                f"'<!-- doc-test: skip (reason) -->' (found {line.strip()!r})"
            )
        cmds.append(words[1:])
    return cmds


class BlockFailed(AssertionError):
    """A block raised, or printed something other than its shown output."""


@contextlib.contextmanager
def _in_dir(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@contextlib.contextmanager
def _environment(workdir: Path) -> Iterator[None]:
    """Rich renders at :data:`COLUMNS` columns without colour; matplotlib draws off screen; the tuning
    cache starts empty in the page's folder (a reader's first run is a cold one)."""
    keys = ("COLUMNS", "LINES", "NO_COLOR", "TERM", "MPLBACKEND", "INVMGMT_MARL_CACHE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(
        {
            "COLUMNS": str(COLUMNS),
            "NO_COLOR": "1",
            "TERM": "dumb",
            "MPLBACKEND": "Agg",
            "INVMGMT_MARL_CACHE": str(workdir / ".cache"),
        }
    )
    os.environ.pop("LINES", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_RegistryState = dict[str, tuple[dict[str, Any], dict[str, Any]]]


def _registry_state() -> _RegistryState:
    """A copy of every registry's entries (``invmgmt_marl.registry``)."""
    from invmgmt_marl import registry

    return {
        name: (dict(reg._lazy), dict(reg._loaded))
        for name, reg in vars(registry).items()
        if isinstance(reg, registry.Registry)
    }


def _set_registry_state(state: _RegistryState) -> None:
    from invmgmt_marl import registry

    for name, (lazy, loaded) in state.items():
        reg = getattr(registry, name)
        reg._lazy, reg._loaded = dict(lazy), dict(loaded)


@contextlib.contextmanager
def _own_registries(runner: PageRunner) -> Iterator[None]:
    """Run with the page's own registries: what one page registers (a view, a demand process) is not
    seen by another page, which a reader running that page alone would not have either."""
    outside = _registry_state()
    _set_registry_state(runner.registries)
    try:
        yield
    finally:
        runner.registries = _registry_state()
        _set_registry_state(outside)


class PageRunner:
    """Runs the blocks of one page in order, in one namespace and one temporary working directory."""

    def __init__(self, path: Path, workdir: Path | None = None) -> None:
        self.path = path
        self.blocks = collect(path)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="doctest_")
            workdir = Path(self._tmp.name)
        self.workdir = workdir
        self.namespace: dict[str, Any] = {"__name__": "__doc_example__"}
        self.registries = _registry_state()  # as the page starts: as the process has them now
        self.printed: dict[int, str] = {}  # block line -> what it printed
        self.errors: dict[int, str] = {}  # block line -> traceback
        self._next = 0

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def run_through(self, block: Block) -> None:
        """Run every block up to and including ``block`` that has not run yet."""
        idx = self.blocks.index(block)
        while self._next <= idx:
            b = self.blocks[self._next]
            self._next += 1
            if b.skip is None:
                self._run(b)

    def _run(self, block: Block) -> None:
        buf = io.StringIO()
        with (
            _in_dir(self.workdir),
            _environment(self.workdir),
            _own_registries(self),
            contextlib.redirect_stdout(buf),
        ):
            try:
                if block.file is not None:
                    import yaml

                    Path(block.file).write_text(block.source, encoding="utf-8")
                    yaml.safe_load(block.source)
                elif block.lang == "python":
                    code = compile(block.source, f"{block.id}", "exec")
                    exec(code, self.namespace)
                else:
                    from invmgmt_marl.cli import main

                    for argv in bash_commands(block):
                        rc = main(argv)
                        if rc != 0:
                            raise BlockFailed(f"invmgmt-marl {shlex.join(argv)} exited with {rc}")
            except Exception:
                self.errors[block.line] = traceback.format_exc()
        self.printed[block.line] = buf.getvalue()

    def check(self, block: Block) -> None:
        """Run up to ``block``; raise :class:`BlockFailed` if it raised or its shown output is stale."""
        self.run_through(block)
        if block.line in self.errors:
            raise BlockFailed(
                f"{block.id} raised:\n{self.errors[block.line]}\nprinted:\n{self.printed[block.line]}"
            )
        if block.output is None or block.varies is not None:
            return
        got, shown = normalise(self.printed[block.line]), normalise(block.output.source)
        if got != shown:
            import difflib

            diff = "\n".join(
                difflib.unified_diff(
                    shown.splitlines(), got.splitlines(), "shown in the page", "printed now", lineterm=""
                )
            )
            raise BlockFailed(f"{block.id}: the shown output (line {block.output.line}) is stale:\n{diff}")


def update(path: Path) -> int:
    """Rewrite the shown outputs of a page from a fresh run; returns the number of outputs changed."""
    runner = PageRunner(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        edits: list[tuple[int, int, list[str]]] = []
        for b in runner.blocks:
            if b.skip is not None:
                continue
            runner.run_through(b)
            if b.line in runner.errors:
                print(f"{b.id} raised; output left as it is:\n{runner.errors[b.line]}", file=sys.stderr)
                continue
            if b.output is None or b.varies is not None:
                continue
            got = normalise(runner.printed[b.line])
            if got != normalise(b.output.source):
                start = b.output.line  # 1-based fence line; body starts on the next line
                end = start
                while lines[end].strip() != "```":
                    end += 1
                edits.append((start, end, got.splitlines()))
        for start, end, new in reversed(edits):
            lines[start:end] = new
        if edits:
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return len(edits)
    finally:
        runner.close()


def _main(argv: list[str]) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m tests.docs.doccheck", description=__doc__.split("\n")[0])
    p.add_argument("--update", action="store_true", help="rewrite stale shown outputs in place")
    p.add_argument("pages", nargs="*", help="pages (default: README.md and docs/*.md)")
    args = p.parse_args(argv)
    targets = [Path(x).resolve() for x in args.pages] or pages()
    failed = 0
    for path in targets:
        if args.update:
            print(f"{path.relative_to(ROOT)}: {update(path)} output(s) rewritten")
            continue
        runner = PageRunner(path)
        try:
            for b in runner.blocks:
                if b.skip is not None:
                    print(f"{b.id}: skipped ({b.skip})")
                    continue
                start = time.perf_counter()
                try:
                    runner.check(b)
                    print(f"{b.id}: ok ({time.perf_counter() - start:.1f} s)")
                except BlockFailed as err:
                    failed += 1
                    print(f"{b.id}: FAILED\n{err}")
        finally:
            runner.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
