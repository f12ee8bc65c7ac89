"""manage.py bench_lenses prints its figures, the last line as key=value pairs, and leaves
nothing behind."""

import re
from io import StringIO

from django.core.management import call_command

from runs.models import Run


def test_bench_lenses_prints_the_four_figures_last(db):
    out = StringIO()
    call_command("bench_lenses", "--steps", "4", "--repeat", "2", stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    assert re.fullmatch(r"lens_ms=\d+ ablate_ms=\d+ roles_ms=\d+ timeline_ms=\d+", last)
    assert "lens_cpu_ms=" in out.getvalue()
    assert not Run.objects.exists()  # rolled back
