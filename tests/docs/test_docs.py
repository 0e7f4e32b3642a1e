"""Every code example of README.md and docs/*.md runs, and its shown output is what it prints.

One test per python or bash block (id ``path:line`` of its opening fence); the rules are in
:mod:`tests.docs.doccheck`. Blocks of a page run in order in one namespace and one temporary folder,
so running one test alone first runs the blocks above it on the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.doccheck import ROOT, Block, DocFormatError, PageRunner, collect, pages

_BLOCKS: list[Block] = [b for page in pages() for b in collect(page)]
_RUNNERS: dict[str, PageRunner] = {}


@pytest.fixture(scope="module", autouse=True)
def _close_runners() -> Iterator[None]:
    yield
    for runner in _RUNNERS.values():
        runner.close()
    _RUNNERS.clear()


@pytest.mark.parametrize(
    "block", [pytest.param(b, id=b.id, marks=[pytest.mark.slow] if b.slow else []) for b in _BLOCKS]
)
def test_doc_block(block: Block) -> None:
    if block.skip is not None:
        pytest.skip(f"{block.id}: {block.skip}")
    runner = _RUNNERS.get(block.path)
    if runner is None:
        runner = _RUNNERS[block.path] = PageRunner(ROOT / block.path)
    runner.check(runner.blocks[[b.line for b in runner.blocks].index(block.line)])


def test_every_page_parses_and_every_marker_has_a_reason(tmp_path: Path) -> None:
    # the shipped pages parse (the collection above would have raised otherwise) ...
    assert sum(b.lang == "python" for b in _BLOCKS) > 20
    # ... and the rules are enforced: a marker without a reason, an unknown marker, a stray marker
    bad = {
        "no_reason.md": "<!-- doc-test: skip -->\n```python\nprint(1)\n```\n",
        "unknown.md": "<!-- doc-test: ignore (because) -->\n```python\nprint(1)\n```\n",
        "stray.md": "<!-- doc-test: skip (x) -->\nSome prose.\n```python\nprint(1)\n```\n",
        "yaml.md": "<!-- doc-test: skip (x) -->\n```yaml\na: 1\n```\n",
    }
    for name, text in bad.items():
        page = tmp_path / name
        page.write_text(text, encoding="utf-8")
        with pytest.raises(DocFormatError):
            collect(page)


def test_runner_compares_output_and_shares_a_namespace(tmp_path: Path) -> None:
    page = tmp_path / "runner.md"
    page.write_text(
        "```python\nx = 6 * 7\nprint(x)\n```\n\n```text\n42\n```\n"
        "```python\nprint(x + 1)\n```\n```text\n44\n```\n"
        "<!-- doc-test: output varies (a test of the marker) -->\n```python\nprint(x)\n```\n```text\n0\n```\n"
        "```python\nopen('written.txt', 'w').write('x')\nimport os\n"
        f"print(os.getcwd() != {str(ROOT)!r})\n```\n"
        "```text\nTrue\n```\n",
        encoding="utf-8",
    )
    runner = PageRunner(page)
    try:
        first, second, third, fourth = runner.blocks
        assert [b.output is not None for b in runner.blocks] == [True] * 4
        runner.check(first)  # 42 is what it prints
        with pytest.raises(AssertionError, match="stale"):
            runner.check(second)  # prints 43, the page shows 44; and x came from the first block
        assert runner.printed[second.line] == "43\n"
        runner.check(third)  # output varies: not compared
        runner.check(fourth)  # runs in the page's temporary folder, not in the repository
        assert (runner.workdir / "written.txt").exists() and not (ROOT / "written.txt").exists()
    finally:
        runner.close()


def test_what_a_page_registers_stays_in_that_page(tmp_path: Path) -> None:
    from invmgmt_marl.registry import VIEWS

    registers = tmp_path / "registers.md"
    registers.write_text(
        "```python\nfrom invmgmt_marl.observe import register_view\n\n"
        "@register_view('doc_test_view')\ndef v(net, feats):\n    return feats\n```\n"
        "```python\nfrom invmgmt_marl.registry import VIEWS\nprint('doc_test_view' in VIEWS)\n```\n"
        "```text\nTrue\n```\n",
        encoding="utf-8",
    )
    reads = tmp_path / "reads.md"
    reads.write_text(
        "```python\nfrom invmgmt_marl.registry import VIEWS\nprint('doc_test_view' in VIEWS)\n```\n"
        "```text\nFalse\n```\n",
        encoding="utf-8",
    )
    first, second = PageRunner(registers), PageRunner(reads)
    try:
        first.check(first.blocks[1])  # the page's later block sees its own registration ...
        second.check(second.blocks[0])  # ... another page does not
        assert "doc_test_view" not in VIEWS  # and neither does the test process
    finally:
        first.close()
        second.close()
