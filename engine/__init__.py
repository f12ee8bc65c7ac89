"""MicroLLM Lab engine: a tiny character-level GPT in NumPy with explicit autograd."""

from .checkpoint import checkpoint_from_bytes, checkpoint_to_bytes
from .config import LIMITS, GPTConfig, check_limit, validate_train_config
from .lens import Inside, look_inside
from .model import GPT
from .record import StepRecord
from .trace import Trace, trace_token
from .trainer import Trainer
from .vocab import Vocab

__all__ = [
    "GPT",
    "LIMITS",
    "GPTConfig",
    "Inside",
    "StepRecord",
    "Trace",
    "Trainer",
    "Vocab",
    "check_limit",
    "checkpoint_from_bytes",
    "checkpoint_to_bytes",
    "look_inside",
    "trace_token",
    "validate_train_config",
]
