"""The run settings in words: the one place their labels and explanations are written.

The new-run form (its labels, and under each field what it means and what changing it will
likely do), the glossary page, the classroom rules' messages and the admin's settings tables
all read SETTINGS, so a setting is called the same everywhere.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SettingWords:
    title: str  # "Embedding size": a heading or a table's row
    label: str  # the form's label, with the name a paper would use
    short: str  # inside a sentence: "The embedding size is fixed at 32."
    means: str  # one sentence: what it is, for someone who has never seen a transformer
    change: str  # one sentence: what changing it will likely do


SETTINGS = {
    "n_embd": SettingWords(
        "Embedding size", "Embedding size (n_embd)", "embedding size",
        "How many numbers describe each character inside the model.",
        "Bigger can learn more patterns but trains slower and can memorise; smaller is "
        "faster but may not fit the text's patterns.",
    ),
    "n_head": SettingWords(
        "Attention heads", "Attention heads (n_head)", "heads",
        "How many separate ways each layer can look back at earlier characters.",
        "More heads can follow several things at once (a bracket, the last digit), each "
        "with fewer numbers; it must divide the embedding size.",
    ),
    "n_layer": SettingWords(
        "Layers", "Layers (n_layer)", "layers",
        "How many attention + MLP blocks the model stacks, one after the other.",
        "A second layer can combine what the first found; it doubles the work per step.",
    ),
    "block_size": SettingWords(
        "Context length", "Block size (context length)", "block size",
        "How many characters the model reads at once (its context).",
        "Too small and it never sees the ends of long lines; bigger costs time and memory.",
    ),
    "num_steps": SettingWords(
        "Training steps", "Training steps", "steps",
        "How many updates the model gets; each step trains on one line of the text.",
        "More steps usually lower the loss, until the model starts to memorise its lines.",
    ),
    "learning_rate": SettingWords(
        "Learning rate", "Learning rate", "learning rate",
        "How big each update is; it falls in a straight line to 0 at the last step.",
        "Higher learns faster but can make the loss jump or explode (diverge); lower is "
        "steadier but slower.",
    ),
    "temperature": SettingWords(
        "Sampling temperature", "Sampling temperature", "temperature",
        "How adventurous the model is when it writes samples (it does not change training).",
        "Lower gives safer, more repetitive text; higher gives wilder text with more mistakes.",
    ),
    "seed": SettingWords(
        "Random seed", "Random seed", "seed",
        "Picks the starting weights, the order of the lines and the held-out lines.",
        "The same seed, text and settings give the very same run; another seed shows how "
        "much of a result is luck.",
    ),
    "sample_count": SettingWords(
        "Samples per batch", "Samples per batch", "sample count",
        "How many texts the model writes each time it is asked to.",
        "More samples show its habits better but fill the run's sample budget sooner.",
    ),
    "sample_interval": SettingWords(
        "Sample every … steps", "Sample every … steps", "sample interval",
        "How often, in steps, the model writes samples while it trains.",
        "Smaller shows the writing improve in finer detail; it does not change training.",
    ),
    "top_k": SettingWords(
        "Top-k shown", "Top-k shown per position", "top-k",
        "How many of the model's best guesses the run page lists for each character.",
        "Only what you see changes, not the model.",
    ),
}

# Words the glossary explains besides the settings: (term, anchor, explanation).
TERMS = (
    ("Loss", "loss", "How surprised the model is by the right next character, on average: "
     "−ln(the probability it gave it). 0 is a perfect guess."),
    ("Uniform guess", "uniform-guess", "The loss of giving every character the same "
     "probability, ln(number of characters): a model at this line has learnt nothing yet."),
    ("Validation loss", "validation-loss", "The loss on lines held out of training. When "
     "it rises while the training loss falls, the model is memorising its lines."),
    ("Probe line", "probe-line", "One line the run follows from start to end, so you can "
     "watch its predictions for the same characters improve."),
    ("Diverged", "diverged", "The loss exploded (usually the learning rate was too high): "
     "the model's numbers grew out of control and its predictions mean nothing."),
    ("Fork", "fork", "A new run that is exactly another run up to a step, then trains on "
     "with changed settings: the lab replays the first run's steps, since the same settings "
     "and seed always give the same steps."),
)
