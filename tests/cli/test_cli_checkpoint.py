"""``evaluate --checkpoint BACKEND:PATH``: a trained policy scored like a baseline; refused on another
scenario before anything is unpickled; every option that loads a checkpoint says to trust it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from invmgmt_marl.cli import build_parser, main
from invmgmt_marl.cli._common import TRUST_NOTE


def _actions(p: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, argparse.Action]]:
    out = []
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sub in a.choices.items():
                out += _actions(sub, f"{prefix}{name} ")
        else:
            out.append((prefix, a))
    return out


def test_every_option_that_loads_a_checkpoint_says_trust_it() -> None:
    loaders = [
        (cmd, a) for cmd, a in _actions(build_parser()) if a.dest in ("checkpoint", "policy_checkpoint")
    ]
    assert [cmd for cmd, _ in loaders] == ["evaluate "]
    for _, a in loaders:
        assert a.help is not None and TRUST_NOTE in a.help


def test_checkpoint_spec_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["evaluate", "--checkpoint", "onnx:model.onnx"]) == 2
    assert "expected sb3:PATH or rllib:PATH, got 'onnx:model.onnx'" in capsys.readouterr().err
    assert main(["evaluate", "--checkpoint", f"sb3:{tmp_path / 'none.zip'}"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["evaluate", "--checkpoint", "sb3:x.zip", "--tune"]) == 2
    assert "--tune and --option are for baselines" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_a_trained_sb3_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("stable_baselines3")
    run = tmp_path / "run"
    argv = ["train", "--backend", "sb3", "--iterations", "1", "--steps-per-iteration", "256"]
    assert main([*argv, "--eval-episodes", "1", "--no-reference", "--out", str(run)]) == 0
    capsys.readouterr()
    ckpt = f"sb3:{run / 'sb3_ppo.zip'}"
    assert main(["evaluate", "--checkpoint", ckpt, "--episodes", "2", "--periods", "10", "--no-bound"]) == 0
    assert "ObservationPolicy" in capsys.readouterr().out
    # trained on serial's 3 agents: refused on hmarl with the mismatch named, as one line
    assert main(["evaluate", "--scenario", "hmarl", "--checkpoint", ckpt, "--episodes", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "trained on scenario 'serial', which does not match 'hmarl'" in err
