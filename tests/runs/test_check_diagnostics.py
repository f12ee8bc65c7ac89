"""`manage.py check_diagnostics` on one pack and seed: real training, a few seconds."""

import re

from django.core.management import call_command


def test_the_recommended_arithmetic_run_is_quiet_and_the_bad_runs_are_caught(capsys):
    call_command("check_diagnostics", "--seeds", "1", "--packs", "arithmetic")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("arithmetic    seed 0  steps   300") and lines[0].endswith("quiet")
    # diverged, not learning and memorising (the old 1500-step arithmetic run) must be found
    assert sum("must find" in line for line in lines) == 3
    assert "must find memorising: found ['memorising']" in lines[-2]
    assert re.fullmatch(
        r"runs=1 false_alarms=0 memorising=0 must_fire=3 missed=0 seconds=\d+", lines[-1]
    )
