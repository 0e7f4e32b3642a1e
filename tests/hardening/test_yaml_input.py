"""Issue 13 items 2, 9 and 14 (files): YAML bombs, deep nesting, duplicate keys, folders, non-UTF-8
files and huge values quoted in errors. Every case must be a ScenarioError (AblationError for grids)
that names the file, raised fast, never a MemoryError, RecursionError or a multi-megabyte message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from invmgmt_marl._io import MAX_YAML_BYTES, MAX_YAML_DEPTH, load_yaml_text
from invmgmt_marl.ablation import AblationError, load_grid
from invmgmt_marl.errors import QUOTE_LIMIT, ScenarioError, quote
from invmgmt_marl.scenario import load_scenario, scenario_dir
from invmgmt_marl.scenario.schema import MESSAGE_LIMIT


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic alias bomb: level k is a list of ``width`` aliases of level k - 1, so the document
    expands to ``width ** levels`` strings (9 ** 9 = 387 million) from well under a kilobyte."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for k in range(1, levels):
        lines.append(f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_873_byte_billion_laughs_is_refused_fast(tmp_path: Path) -> None:
    text = billion_laughs()
    text += "#" * (873 - len(text) - 1) + "\n"  # padded to the 873 bytes of the file
    assert len(text.encode()) == 873
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match=r"bomb\.yaml.*aliases"):
        load_scenario(path)
    assert time.perf_counter() - start < 0.5  # before: 112 s and 3.25 GB, then MemoryError


def test_few_aliases_expanding_hugely_are_refused(tmp_path: Path) -> None:
    # 2 aliases per level, 30 levels: 60 aliases (under the alias limit) but 2**30 leaves once expanded
    text = billion_laughs(levels=30, width=2)
    path = tmp_path / "doubling.yaml"
    path.write_text(text)
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match="expands to more than"):
        load_scenario(path)
    assert time.perf_counter() - start < 0.5


def test_grid_file_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(billion_laughs())
    with pytest.raises(AblationError, match=r"grid\.yaml.*aliases"):
        load_grid(path, scenario="serial")


def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 10_000 + "]" * 10_000 + "\n")
    with pytest.raises(ScenarioError, match=f"nested more than {MAX_YAML_DEPTH} levels"):
        load_scenario(path)


def test_nesting_within_the_limit_still_parses() -> None:
    depth = MAX_YAML_DEPTH - 1
    assert load_yaml_text("[" * depth + "1" + "]" * depth) is not None


def test_duplicate_keys_in_scenario_are_refused(tmp_path: Path) -> None:
    text = (scenario_dir() / "serial.yaml").read_text()
    # a second `periods:` later in the file: YAML would silently keep 7
    path = tmp_path / "dup.yaml"
    path.write_text(text + "periods: 7\n")
    with pytest.raises(ScenarioError, match=r"duplicate key 'periods' \(lines 8 and \d+\)"):
        load_scenario(path)


def test_duplicate_keys_nested_and_in_grid(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="duplicate key 'mean'"):
        load_yaml_text("demand: {process: poisson, mean: 5, mean: 500}")
    grid = tmp_path / "grid.yaml"
    grid.write_text("configs:\n  a: {reward: {scheme: cost}}\n  a: {reward: {scheme: profit}}\n")
    with pytest.raises(AblationError, match="duplicate key 'a'"):
        load_grid(grid, scenario="serial")


def test_merge_keys_are_not_duplicates() -> None:
    assert load_yaml_text("x: {<<: {a: 1, b: 2}, a: 3}") == {"x": {"a": 3, "b": 2}}


def test_folder_named_yaml_is_a_scenario_error(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    with pytest.raises(ScenarioError, match=r"folder\.yaml.*not a regular file \(a folder\)"):
        load_scenario(folder)


def test_non_utf8_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\nperiods: 3\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin1\.yaml.*not UTF-8"):
        load_scenario(path)


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * MAX_YAML_BYTES + "\n")
    with pytest.raises(ScenarioError, match=r"big\.yaml.*bytes"):
        load_scenario(path)


def test_huge_value_in_error_is_truncated(tmp_path: Path) -> None:
    # before: a 735-byte file produced a 4.3-million-character message; here a 100,000-character
    # string where a number is expected, and an unknown key holding a 20,000-item list
    text = (scenario_dir() / "serial.yaml").read_text().replace("periods: 200", "periods: " + "9x" * 50_000)
    path = tmp_path / "huge.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "periods" in str(info.value)
    assert len(str(info.value)) < 2 * MESSAGE_LIMIT
    path.write_text(
        (scenario_dir() / "serial.yaml").read_text() + "bogus: [" + ", ".join(["1"] * 20_000) + "]\n"
    )
    with pytest.raises(ScenarioError, match="bogus: unknown key") as info:
        load_scenario(path)
    assert len(str(info.value)) < 2 * MESSAGE_LIMIT


def test_quote_keeps_short_values_and_cuts_long_ones() -> None:
    assert quote("abc") == "'abc'"
    q = quote("x" * 10_000)
    # repr has 10002 chars; limit 80 keeps 60 (40 at the start, 20 at the end): 9942 cut
    assert len(q) <= QUOTE_LIMIT and "[9942 chars]" in q
    assert q.startswith("'xxx") and q.endswith("xx'")
