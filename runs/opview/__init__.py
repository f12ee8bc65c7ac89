"""The op view `/runs/<id>/steps/<step>/tokens/<pos>/ops/`: one token's computation graph,
and backpropagation stepped op by op.

- `views.py`: the page and its fragments (Step / Back / a node click, scalars, a weight);
- `trace.py`: the op view's model of a trace: a snapshot step traced at one position, with
  `op` backward steps done and a head chosen;
- `side.py`: the side panel: the current op's rule, gradients, numbers and facts; the
  weights the gradient reached; a node expanded to scalars;
- `render.py`: the graph's nodes drawn as SVG; `heatmaps.py`: tensors as compact heatmaps;
  `layout.py`: where every node of the graph goes; `numbers.py`: norms and number formats.
"""
