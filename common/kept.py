"""Figures derived from a run's stored events, kept between reads in this process so that a
read touches only what was stored since the last one.

A run's events are only ever appended, and every append moves `run.last_seq` (and its seq
grows); so anything computed from its events up to some seq stays true. The stores here are
bounded and thread-safe: sockets render in pool threads and pages in the server's thread.
"""

import threading
from collections import OrderedDict

KEPT_RUNS = 2000  # entries per store, unless a store says otherwise


def run_key(run, *more):
    """A run's identity for what is kept: its id alone could come back (a test database
    reusing ids), its id with its owner and creation time cannot."""
    return (run.pk, run.owner_id, run.created_at, *more)


class Kept:
    """A bounded, thread-safe dict that forgets the least recently used entries."""

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
