"""The command-line tools (engine.train, engine.bench) and the engine's size."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import train

ENGINE = Path(__file__).resolve().parents[2] / "engine"
LINE_BUDGET = 1010  # non-blank lines in engine/*.py: small enough to read in one sitting


def test_engine_stays_readable():
    lines = sum(
        1 for f in ENGINE.glob("*.py") for line in f.read_text().splitlines() if line.strip()
    )
    assert lines <= LINE_BUDGET, f"engine/ has {lines} non-blank lines (budget {LINE_BUDGET})"


def test_engine_imports_no_django():
    for f in ENGINE.glob("*.py"):
        assert "django" not in f.read_text().lower(), f.name


def test_train_prints_samples_and_progress(tmp_path, capsys):
    corpus = tmp_path / "names.txt"
    corpus.write_text("anna\nbob\n\ncarl\nanna\n", encoding="utf-8")
    train.main([str(corpus), "--steps", "20", "--n-embd", "8", "--n-head", "2",
                "--samples", "3"])
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 3 and "20/20" in err and "loss" in err
    with pytest.raises(SystemExit):
        train.main([str(corpus), "--steps", "5000"])
    assert "num_steps must be between 1 and 2000" in capsys.readouterr().err


def test_bench_prints_the_summary_line():
    env = {**os.environ, "PYTHONPATH": str(ENGINE.parent)}
    out = subprocess.run([sys.executable, "-m", "engine.bench", "10"], capture_output=True,
                         text=True, env=env, check=True, timeout=120).stdout
    last = out.strip().splitlines()[-1]
    assert last.startswith("bare_ms=") and " instrumented_ms=" in last
