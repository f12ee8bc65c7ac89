"""Recommended run configs for the built-in packs, tuned with `manage.py pack_report`
so that each trains in seconds and at least 90% of 20 samples follow the template.
Chess and arithmetic train longer: their templates are learned early, but legal moves
and correct sums need more steps (see the "valid" column of the report). ABC music and
JSON train longer too: at 800 steps about 2% of their samples broke the template (600
samples over three seeds), too close to what a 20-sample check allows; at 2000 and 1200
steps it is about 0.5%."""

BASE = {
    "n_embd": 32,
    "n_head": 4,
    "n_layer": 1,
    "block_size": 32,
    "num_steps": 800,
    "learning_rate": 0.01,
    "temperature": 0.5,
    "seed": 42,
    "sample_count": 20,
    "sample_interval": 100,
    "top_k": 5,
}

RECOMMENDED_CONFIGS = {
    "regex": {**BASE, "block_size": 32},
    "abc_music": {**BASE, "block_size": 32, "num_steps": 2000},
    "chess_pgn": {**BASE, "block_size": 32, "num_steps": 1200},
    "sql_snippets": {**BASE, "block_size": 64},
    "arithmetic": {**BASE, "block_size": 16, "num_steps": 1500},
    "json": {**BASE, "block_size": 32, "num_steps": 1200},
}
