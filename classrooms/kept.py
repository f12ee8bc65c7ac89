"""What the panel derives from a run's stored events, kept between renders in this process,
so a render reads again only the runs that changed.

A run's events are only ever appended, and every append moves `run.last_seq`; so anything
computed from its events stays true while its `last_seq` does. During a lesson most runs on
the panel are finished or waiting: a render (a page load or a socket push) then reads the
events of the few that are training, not of thirty. Page loads and pushes share what is
kept, so they show the same figures.
"""

import threading
from collections import OrderedDict

KEPT_RUNS = 2000  # entries per store: a few classrooms' worth of runs, a few MB


def run_key(run, *more):
    """A run's identity for what is kept: its id alone could come back (a test database
    reusing ids), its id with its owner and creation time cannot."""
    return (run.pk, run.owner_id, run.created_at, *more)


class Kept:
    """A bounded, thread-safe dict that forgets the least recently used entries. Sockets
    render in worker threads and pages in the server's thread, all sharing one store."""

    def __init__(self, size=KEPT_RUNS):
        self.size = size
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, default=None):
        with self.lock:
            value = self.entries.get(key, default)
            if key in self.entries:
                self.entries.move_to_end(key)
            return value

    def __setitem__(self, key, value):
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def __len__(self):
        return len(self.entries)

    def clear(self):
        with self.lock:
            self.entries.clear()


# the overlay's thinned curves: run_key(run, stride) -> (last_seq read, [(step, loss)])
CURVES = Kept()
# the results table's figures: run_key(run) -> (last_seq, RunFigures)
FIGURES = Kept()
# a run's newest eval or sample batch, as the table uses it: run_key(run, seq) -> value
NEWEST = Kept()
