"""Model configuration and the lab's limits (the site's forms show LIMITS next to fields)."""

import math
from dataclasses import asdict, dataclass
from numbers import Integral, Real

# field -> (lowest, highest) allowed value, both inclusive
LIMITS = {
    "vocab_size": (2, 1024),
    "n_embd": (4, 64),
    "n_head": (1, 8),
    "n_layer": (1, 2),
    "block_size": (1, 64),
    "num_steps": (1, 2000),
    "learning_rate": (1e-5, 1.0),
    "seed": (0, 2**32 - 1),
    "top_k": (1, 20),
    "sample_interval": (1, 2000),
    "sample_count": (0, 20),
    "temperature": (0.05, 2.0),
}
REAL_FIELDS = {"learning_rate", "temperature"}
DTYPES = ("float32", "float64")


def check_limit(name, value):
    """Return `value` if it is within LIMITS[name], else raise ValueError naming both."""
    lo, hi = LIMITS[name]
    if name in REAL_FIELDS:
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a number (got {value!r})")
    elif isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer (got {value!r})")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi} (got {value})")
    return value


def validate_train_config(**settings):
    """Check any settings of a run (n_embd, n_head, ..., num_steps, learning_rate, seed,
    top_k, ...) against LIMITS, and that n_head divides n_embd when both are given."""
    for name, value in settings.items():
        if name not in LIMITS:
            raise ValueError(f"unknown setting {name!r}")
        check_limit(name, value)
    n_embd, n_head = settings.get("n_embd"), settings.get("n_head")
    if n_embd is not None and n_head is not None and n_embd % n_head:
        raise ValueError(f"n_head must divide n_embd (got n_head={n_head}, n_embd={n_embd})")


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    n_embd: int
    n_head: int
    n_layer: int
    block_size: int
    dtype: str = "float32"

    def __post_init__(self):
        fields = ("vocab_size", "n_embd", "n_head", "n_layer", "block_size")
        validate_train_config(**{name: getattr(self, name) for name in fields})
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)} (got {self.dtype!r})")

    @property
    def head_dim(self):
        return self.n_embd // self.n_head

    def to_dict(self):
        return asdict(self)
