"""The playground's inputs, checked against the run: its characters, its block size and the
steps whose parameters are stored. Every refusal says what was wrong and what to try."""

from django import forms
from django.core.validators import MaxValueValidator

from engine import LIMITS
from runs.page import VISIBLE

TEMPERATURE = LIMITS["temperature"]
SEED = LIMITS["seed"]


def shown(ch):
    """A character as a student can read it in a message."""
    return {" ": "space (␣)", "\n": "new line (↵)", "\t": "tab (⇥)"}.get(ch, f"“{ch}”")


def known_chars(vocab):
    return " ".join(VISIBLE.get(ch, ch) for ch in vocab)


def unknown_chars_error(text, vocab):
    """None when every character of `text` is in `vocab`; else a message naming the others."""
    unknown = sorted(set(text) - set(vocab))
    if not unknown:
        return None
    names = ", ".join(shown(ch) for ch in unknown[:12]) + (" …" if len(unknown) > 12 else "")
    are = "is" if len(unknown) == 1 else "are"
    it = "it" if len(unknown) == 1 else "them"
    return (
        f"{names} {are} not in this run's text, so the model has never seen {it}. "
        f"It knows: {known_chars(vocab)}"
    )


class PromptForm(forms.Form):
    """?step= (a step with stored parameters; default the newest) and ?text= (the prompt)."""

    step = forms.IntegerField(
        required=False,
        label="Step",
        error_messages={"invalid": "The step must be a whole number, one of those in the list."},
    )
    text = forms.CharField(required=False, strip=False, label="Your text")
    all = forms.BooleanField(required=False, label="Show every character")

    def __init__(self, run, steps, data=None):
        super().__init__(data)
        self.run, self.steps = run, steps
        self.block_size = int(run.config.get("block_size", 1))

    @property
    def max_chars(self):
        """The model reads block_size tokens at once, and the first one is BOS."""
        return self.block_size - 1

    def clean_step(self):
        step = self.cleaned_data.get("step")
        if not self.steps:
            raise forms.ValidationError(
                "No parameters of this model are stored yet: they are kept at its snapshot "
                "steps, the first at step 1. Try again once training has started."
            )
        if step is None:
            return self.steps[-1]
        if step not in self.steps:
            listed = ", ".join(str(s) for s in self.steps)
            raise forms.ValidationError(
                f"No parameters are stored for step {step}: this run keeps them at steps "
                f"{listed}. Pick one of those."
            )
        return step

    def clean_text(self):
        text = self.cleaned_data.get("text") or ""
        problem = unknown_chars_error(text, self.run.vocab)
        if problem:
            raise forms.ValidationError(problem)
        if len(text) > self.max_chars:
            raise forms.ValidationError(
                f"That is {len(text)} characters; this model reads at most {self.max_chars} "
                f"(its block size is {self.block_size} and the first place is taken by the "
                "start-of-text marker BOS). Shorten it."
            )
        return text


class GenerateForm(PromptForm):
    """The prompt plus the sampling settings and what has been generated so far (`gen`)."""

    temperature = forms.FloatField(
        required=False,
        label="Temperature",
        min_value=TEMPERATURE[0],
        max_value=TEMPERATURE[1],
        help_text="Below 1 the likely characters get likelier; above 1 the choice is wilder.",
        error_messages={
            "invalid": "Temperature must be a number, such as 0.8.",
            "min_value": f"Temperature must be between {TEMPERATURE[0]} and {TEMPERATURE[1]:g}.",
            "max_value": f"Temperature must be between {TEMPERATURE[0]} and {TEMPERATURE[1]:g}.",
        },
    )
    top_k = forms.IntegerField(
        required=False,
        label="Top-k",
        min_value=0,
        help_text="Draw only among the k likeliest characters (0: among all of them).",
        error_messages={
            "invalid": "Top-k must be a whole number, such as 5 (0: no cut).",
            "min_value": "Top-k must be 0 (no cut) or more.",
        },
    )
    seed = forms.IntegerField(
        required=False,
        label="Seed",
        min_value=SEED[0],
        max_value=SEED[1],
        help_text="The same seed and settings always draw the same text.",
        error_messages={
            "invalid": "The seed must be a whole number.",
            "min_value": f"The seed must be between 0 and {SEED[1]:,}.",
            "max_value": f"The seed must be between 0 and {SEED[1]:,}.",
        },
    )
    gen = forms.CharField(required=False, strip=False)
    mode = forms.ChoiceField(
        choices=[("next", "next"), ("end", "end"), ("reseed", "reseed")],
        error_messages={
            "required": "Press Next character, Generate to the end or New seed.",
            "invalid_choice": "Press Next character, Generate to the end or New seed.",
        },
    )

    DEFAULTS = {"temperature": 0.8, "top_k": 0, "seed": 1}

    def __init__(self, run, steps, data=None):
        super().__init__(run, steps, data)
        top_k = self.fields["top_k"]
        top_k.validators.append(
            MaxValueValidator(
                run.vocab_size,
                f"Top-k can be at most {run.vocab_size}: the model knows {run.vocab_size} "
                "characters (BOS included).",
            )
        )
        top_k.widget.attrs["max"] = run.vocab_size
        for name, value in self.DEFAULTS.items():
            self.fields[name].widget.attrs["placeholder"] = value

    def clean(self):
        data = super().clean()
        for name, value in self.DEFAULTS.items():
            if data.get(name) is None and name not in self.errors:
                data[name] = value
        gen = data.get("gen") or ""
        if unknown_chars_error(gen, self.run.vocab):
            self.add_error("gen", "The generated text was changed; press New seed to start over.")
        elif "text" in data and len(data["text"]) + len(gen) > self.block_size:
            self.add_error("gen", "The generated text is longer than the block; start over.")
        return data
