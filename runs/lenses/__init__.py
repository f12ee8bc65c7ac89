"""The lenses: a run's model read part by part at a stored step, on any text.

- `views.py`: the page `/runs/<id>/lenses/` and its embedding-map fragment;
- `reading.py`: one reading (run, step, text, position, parts switched off) for the page;
- `ladder.py`: the logit lens ladder and the direct contributions to a logit;
- `ablation.py`: switching heads and blocks off, and the losses after;
- `roles.py`: head role scores, each a small pure function with its formula;
- `timeline.py`: role scores stored while training and read back over the run;
- `embedding_map.py`: the characters' embeddings on the final step's two principal directions;
- `inputs.py`: where the model at a step and the texts come from (the one place to repoint);
- `leapfrog.py`: a corpus on which a previous-token head must emerge.
"""
