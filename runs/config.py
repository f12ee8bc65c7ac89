"""The settings of a run, in the order forms show them (also the Trainer's keywords)."""

MODEL_FIELDS = ("n_embd", "n_head", "n_layer", "block_size")
TRAIN_FIELDS = (
    "num_steps",
    "learning_rate",
    "temperature",
    "seed",
    "sample_count",
    "sample_interval",
    "top_k",
)
CONFIG_FIELDS = MODEL_FIELDS + TRAIN_FIELDS
