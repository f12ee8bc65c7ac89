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
# what a fork may change of its parent's settings (runs/fork.py); the rest is its parent's
FORK_FIELDS = ("num_steps", "learning_rate", "temperature", "sample_count", "sample_interval")


def engine_settings(config):
    """The Trainer keyword arguments of a run config (a fork's "history" included: the
    learning-rate schedules its steps before the fork took, see engine.trainer.fork_history)."""
    settings = {name: config[name] for name in CONFIG_FIELDS if name in config}
    if config.get("history"):
        settings["history"] = config["history"]
    return settings


def sample_batches(num_steps, sample_interval):
    """Sample batches a run generates: one every `sample_interval` steps, and one at the
    last step when it is not a multiple (engine.Trainer.step)."""
    return -(-num_steps // sample_interval)


def samples_per_run(config):
    """Samples a run stores in all: samples per batch × batches."""
    return config["sample_count"] * sample_batches(config["num_steps"], config["sample_interval"])
