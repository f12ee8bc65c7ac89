"""What the panel derives from a run's stored events, kept between renders in this process,
so a render reads again only the runs that changed (common/kept.py says why that holds).

During a lesson most runs on the panel are finished or waiting: a render (a page load or a
socket push) then reads the events of the few that are training, not of thirty. Page loads
and pushes share what is kept, so they show the same figures.
"""

from common.kept import Kept, run_key

__all__ = ["CURVES", "FIGURES", "NEWEST", "run_key"]

# the overlay's thinned curves: run_key(run, stride) -> (last_seq read, [(step, loss)])
CURVES = Kept()
# the results table's figures: run_key(run) -> (last_seq, RunFigures)
FIGURES = Kept()
# a run's newest eval or sample batch, as the table uses it: run_key(run, seq) -> value
NEWEST = Kept()
