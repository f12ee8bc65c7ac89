"""The lab's starter lessons, loaded with the built-in packs (`manage.py load_packs` sends
packs_loaded). Each is written for a student who has never seen a transformer: short,
concrete, one idea a step. tests/lessons/test_starter.py trains every step's prepared run
and checks that its challenge can be met as written.

Loading is idempotent: a starter lesson is found by its key, its steps by position."""

from django.db import transaction

from lessons.models import Lesson, Step

SMALL = {"n_embd": 16, "n_head": 2, "n_layer": 1, "block_size": 16, "seed": 1,
         "temperature": 0.5, "sample_count": 10, "sample_interval": 100, "top_k": 5}
SMALL_LOCKS = ["n_embd", "n_head", "n_layer", "block_size"]

LESSONS = [
    {
        "key": "loss-curve",
        "title": "What a loss curve says",
        "summary": "The loss is how surprised the model is by the next character; "
                   "training brings it down.",
        "steps": [
            {
                "title": "The uniform guess",
                "instructions": (
                    "A new model knows nothing, so it gives every character the same "
                    "chance. Its loss then is **ln(number of characters)**: the *uniform "
                    "guess*.\n\n"
                    "1. Start the run below (the settings are chosen for you).\n"
                    "2. On the run's page, look at the first point of the loss curve and at "
                    "the dashed line marked `ln(V)`."
                ),
                "pack": "arithmetic",
                "preset": {**SMALL, "num_steps": 300, "learning_rate": 0.01},
                "locked": [*SMALL_LOCKS, "num_steps", "learning_rate"],
                "reflection": "Where did the loss start, compared with the dashed line?",
            },
            {
                "title": "Falling loss",
                "instructions": (
                    "Each training step nudges the model to give the right next character "
                    "a higher chance, so the loss falls.\n\n"
                    "One step's loss is noisy, so the lab shows a **smoothed loss**: the "
                    "mean of the last 20 steps. Reach the target below."
                ),
                "pack": "arithmetic",
                "preset": {**SMALL, "num_steps": 600, "learning_rate": 0.01},
                "locked": SMALL_LOCKS,
                "challenge": {"kind": "train_loss", "target": 1.2, "by_step": 600},
                "reflection": "How many steps did it take to get below the target?",
            },
        ],
    },
    {
        "key": "learning-rate",
        "title": "Too high a learning rate",
        "summary": "The learning rate is the size of each step; too big and training blows up.",
        "steps": [
            {
                "title": "Diverge",
                "instructions": (
                    "The **learning rate** sets how far each step moves the model. This run "
                    "uses a huge one: `0.5`.\n\n"
                    "Start it and watch the loss curve. A loss that shoots up, or goes "
                    "above the uniform guess, means training *diverged*: each step "
                    "overshot."
                ),
                "pack": "arithmetic",
                "preset": {**SMALL, "num_steps": 200, "learning_rate": 0.5},
                "locked": [*SMALL_LOCKS, "learning_rate", "num_steps"],
                "reflection": "What did the loss curve do? What did the samples look like?",
            },
            {
                "title": "Fix it",
                "instructions": (
                    "Now choose the learning rate yourself. Try one ten or fifty times "
                    "smaller, and reach the target loss by step 400."
                ),
                "pack": "arithmetic",
                "preset": {**SMALL, "num_steps": 400, "learning_rate": 0.5},
                "locked": [*SMALL_LOCKS, "num_steps"],
                "challenge": {"kind": "train_loss", "target": 1.5, "by_step": 400},
                "reflection": "Which learning rate worked, and why do you think so?",
            },
        ],
    },
    {
        "key": "look-back",
        "title": "Attention learns to look back",
        "summary": "Attention lets a character look at the ones before it; one head often "
                   "learns to look at the character just before.",
        "steps": [
            {
                "title": "A previous-token head",
                "instructions": (
                    "Each **attention head** decides, for every letter, which earlier "
                    "letters to look at. At first it spreads its attention evenly: about "
                    "13% lands on the letter *just before*.\n\n"
                    "In *Leapfrog letters* each letter is one or two places after the letter "
                    "**two** before it, so guessing it needs a look back. Train this run "
                    "and open its **lenses**: the challenge is met when a head puts at least "
                    "half of its attention on the letter just before."
                ),
                "pack": "leapfrog",
                "preset": {**SMALL, "block_size": 32, "num_steps": 500,
                           "learning_rate": 0.01},
                "locked": [*SMALL_LOCKS, "num_steps"],
                "challenge": {"kind": "head_role", "role": "previous", "target": 0.5},
                "reflection": "Why would looking at the character before help to guess "
                              "the next one?",
            },
        ],
    },
    {
        "key": "memorising",
        "title": "Memorising or generalising",
        "summary": "A model can learn its training lines by heart instead of their pattern; "
                   "the validation loss tells.",
        "steps": [
            {
                "title": "Learn by heart",
                "instructions": (
                    "Some lines are **held out**: the model never trains on them. Their "
                    "loss, the **validation loss**, shows how well it does on text it has "
                    "not seen.\n\n"
                    "This run is big and long for a small text (60 lines). Compare the "
                    "training and validation curves at the end."
                ),
                "pack": "json",
                "preset": {**SMALL, "n_embd": 64, "n_head": 4, "n_layer": 2,
                           "block_size": 32, "num_steps": 1500, "learning_rate": 0.01},
                "locked": ["n_embd", "n_head", "n_layer", "block_size", "num_steps"],
                "reflection": "How far apart did the two curves end? What does the gap mean?",
            },
            {
                "title": "Close the gap",
                "instructions": (
                    "The **validation gap** is validation loss minus training loss. Change "
                    "the size or the number of steps so the gap at the end is small."
                ),
                "pack": "json",
                "preset": {**SMALL, "n_embd": 64, "n_head": 4, "n_layer": 2,
                           "block_size": 32, "num_steps": 1500, "learning_rate": 0.01},
                "locked": ["block_size"],
                "challenge": {"kind": "val_gap", "target": 0.3},
                "reflection": "What did you change, and why did it help?",
            },
        ],
    },
]


def load(packs_by_slug, say=None):
    """Create or update the starter lessons; returns them."""
    loaded = []
    packs_by_slug = {**packs_by_slug, **extra_packs()}
    with transaction.atomic():
        for spec in LESSONS:
            lesson, created = Lesson.objects.update_or_create(
                starter_key=spec["key"],
                defaults={"title": spec["title"], "summary": spec["summary"], "author": None},
            )
            # steps updated in place: students' runs and reflections on them stay
            for position, step in enumerate(spec["steps"], start=1):
                Step.objects.update_or_create(
                    lesson=lesson,
                    position=position,
                    defaults={
                        "title": step["title"],
                        "instructions": step["instructions"],
                        "opens": Step.Opens.NEW_RUN,
                        "pack": packs_by_slug.get(step["pack"]),
                        "preset": step["preset"],
                        "locked": step["locked"],
                        "challenge": step.get("challenge"),
                        "reflection": step.get("reflection", ""),
                    },
                )
            lesson.steps.filter(position__gt=len(spec["steps"])).delete()
            if say:
                say(f"{'created' if created else 'updated'} starter lesson {spec['key']}")
            loaded.append(lesson)
    return loaded


def on_packs_loaded(sender, packs, say=None, **kwargs):
    load({pack.slug: pack for pack in packs}, say)


def extra_packs():
    """Packs the starter lessons use beyond the built-in ones: Leapfrog letters, the corpus
    on which a previous-token head must emerge (runs/lenses/leapfrog.py)."""
    from runs.management.commands.lens_emergence import leapfrog_pack

    return {"leapfrog": leapfrog_pack()}
