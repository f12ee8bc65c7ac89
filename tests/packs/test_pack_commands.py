"""pack_smoke and pack_report train through the real engine; both take seconds."""

import re
from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command

from packs_app import pack_training
from packs_app.management.commands import pack_smoke


def test_pack_smoke_passes(capsys):
    call_command("pack_smoke", "--steps", "60")
    out = capsys.readouterr().out
    assert sum(line.endswith(" ok") for line in out.splitlines()) == 6
    assert "pack smoke ok: 6 packs" in out


def test_pack_smoke_fails_when_the_loss_does_not_fall(monkeypatch):
    real = pack_training.train_builtin

    def stuck(spec, **kwargs):
        result = real(spec, **kwargs)
        return replace(result, final_loss=result.first_loss + 1, samples=["", ""])

    monkeypatch.setattr(pack_smoke, "train_builtin", stuck)
    with pytest.raises(CommandError, match="pack smoke failed for: arithmetic"):
        call_command("pack_smoke", "arithmetic", "--steps", "20")


def test_pack_smoke_unknown_pack():
    with pytest.raises(CommandError, match="no built-in pack"):
        call_command("pack_smoke", "klingon")


def test_pack_report_meets_the_target(capsys):
    call_command("pack_report", "--strict")
    lines = capsys.readouterr().out.strip().splitlines()
    match = re.fullmatch(r"min_adherence=(\d\.\d\d) packs=6", lines[-1])
    assert match and float(match.group(1)) >= 0.9
    rows = [line for line in lines if re.match(r"[a-z_]+ +\d+ ", line)]
    assert [row.split()[0] for row in rows] == [
        "regex",
        "abc_music",
        "chess_pgn",
        "sql_snippets",
        "arithmetic",
        "json",
    ]
    # the steadier figure, over 200 more samples per pack, clears the target too
    wide = [float(re.search(r" (\d+\.\d)% ", row).group(1)) for row in rows]
    assert len(wide) == 6 and min(wide) >= 90.0, wide
