"""Run settings (a pack's recommendation, a classroom's defaults, a run's config) as a
readable table for the admin, instead of raw JSON: the setting in words, what it does,
and its value."""

from django.utils.html import format_html, format_html_join

# name -> (the setting in words, what it does, for someone who has never seen a transformer)
SETTING_WORDS = {
    "n_embd": ("Embedding size", "how many numbers describe each character inside the model"),
    "n_head": ("Attention heads", "how many separate ways each layer can look back at the text"),
    "n_layer": ("Layers", "how many attention + MLP blocks the model stacks"),
    "block_size": ("Context length", "how many characters the model sees at once"),
    "num_steps": ("Training steps", "how many updates the model gets (one document each)"),
    "learning_rate": ("Learning rate", "how big each update is; too big and the loss explodes"),
    "seed": ("Random seed", "the same seed, text and settings give the same run"),
    "temperature": ("Sampling temperature", "lower: safer, repetitive samples; higher: wilder"),
    "top_k": ("Top-k shown", "how many guesses are listed for each position"),
    "sample_count": ("Samples per batch", "how many texts the model writes each time"),
    "sample_interval": ("Sample every … steps", "how often the model writes samples"),
}


def settings_table(config, *, locked=()):
    """An HTML table of `config` ({name: value}); `locked` names are marked as fixed."""
    if not config:
        return format_html('<p class="help">{}</p>', "None set: the usual values apply.")
    rows = []
    for name, value in config.items():
        label, meaning = SETTING_WORDS.get(name, (name, ""))
        fixed = " (fixed for students)" if name in locked else ""
        rows.append((label, name, meaning, value, fixed))
    body = format_html_join(
        "",
        "<tr><th scope='row'>{} <code>{}</code></th><td>{}</td><td>{}{}</td></tr>",
        rows,
    )
    return format_html(
        '<table class="settings-table"><thead><tr><th>Setting</th><th>What it does</th>'
        "<th>Value</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )
