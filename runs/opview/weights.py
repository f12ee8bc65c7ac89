"""The op view's weights panel: every weight matrix backward has reached, this token's
gradient beside the whole step's, and the Adam update the step applied; one weight's
gradient heatmaps on demand."""

from engine.model import param_group
from runs.models import Kind, RunEvent
from runs.opview.heatmaps import PANEL_CELLS, heatmap
from runs.opview.numbers import cosine, norm, shape_text


def weights_panel(view):
    """Once backward reaches a parameter: every weight matrix reached, with this token's
    gradient norm, the whole step's (recomputed from the stored parameters) and the
    Adam update of the step (per matrix when stored, else per group from the scalars)."""
    reached = [n for n in view.trace.tape.params() if n.id in view.done]
    if not reached:
        return {"weights": None}
    scalars = (
        RunEvent.objects.filter(run=view.run, kind=Kind.STEP, step=view.step)
        .values_list("data", flat=True)
        .first()
    ) or {}
    updates = update_norms(view)
    step_grads = view.step_grads()
    group_grads = scalars.get("grad_norms") or {}
    group_updates = scalars.get("update_norms") or {}
    rows = []
    for node in reached:
        group = param_group(node.name)
        rows.append(
            {
                "name": node.name,
                "shape": shape_text(node.value),
                "token_norm": norm(node.grad),
                "step_norm": norm(step_grads[node.name]),
                "alignment": cosine(node.grad, step_grads[node.name]),
                "update_norm": updates.get(node.name),
                "group": group,
                "group_grad_norm": group_grads.get(group),
                "group_update_norm": group_updates.get(group),
            }
        )
    return {
        "weights": rows,
        "weights_lr": scalars.get("lr"),
        "weights_positions": len(view.line) - 1,
        "updates_per_matrix": bool(updates),
    }


def update_norms(view):
    """Per-matrix norm of the Adam update this step applied: stored with the snapshot,
    or the difference to the next step's stored parameters; {} when neither exists."""
    stored = view.snapshot.get("param_update_norms")
    if stored:
        return stored
    after = view.run.params_at(view.step + 1)
    if after is None:
        return {}
    return {name: norm(after[name] - p) for name, p in view.model.params.items()}


def weight_maps(view, node):
    """One weight's gradient heatmaps: this token's and the whole step's."""
    step_grad = view.step_grads()[node.name]
    return {
        "name": node.name,
        "shape": shape_text(node.value),
        "token_norm": norm(node.grad),
        "step_norm": norm(step_grad),
        "token_map": heatmap(node.grad, token_row=False, cells=PANEL_CELLS),
        "step_map": heatmap(step_grad, token_row=False, cells=PANEL_CELLS),
    }
