"""The op view's pages: the first load renders the whole page; Step, Back, Reset, Play and
a click on a node hx-get the same URL and get the side panel plus out-of-band controls,
state and weights panel back (templates/runs/opview.html). Scalars and weight heatmaps load
on demand."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from common import funnel
from runs.opview.chain import chain_rule
from runs.opview.render import graph
from runs.opview.scalars import node_scalars as scalars_of
from runs.opview.side import current_op
from runs.opview.trace import OpView
from runs.opview.update import apply_update
from runs.opview.weights import weight_maps, weights_panel
from runs.page import query_int, visible_run


def page_context(view):
    """The side panel, the controls and the weights panel at the view's backward step."""
    return {**view.base_context(), "current": current_op(view), **weights_panel(view)}


@login_required
@require_GET
def opview(request, run_id, step, pos):
    """The page; an htmx request (Step, Back, Reset, Play, a node click) gets the side panel
    with the controls, the state and the weights panel out of band (and empties the scalar
    and weight panels, which belonged to the previous step)."""
    run = visible_run(request, run_id)
    view = OpView(run, step, pos, query_int(request, "op"), request.GET.get("head"))
    context = page_context(view)
    if request.htmx and not request.htmx.history_restore_request:
        html = render_to_string("runs/opview.html#side", context, request)
        oob = {**context, "oob": True}
        for name in ("controls", "state", "weights", "scalars_slot", "weight_slot", "update_slot"):
            html += render_to_string(f"runs/opview.html#{name}", oob, request)
        return HttpResponse(html)
    context.update(graph(view))
    funnel.record(request.user, funnel.OPENED_OP_VIEW)
    return render(request, "runs/opview.html", context)


@login_required
@require_GET
def node_scalars(request, run_id, step, pos, node_id):
    """One node expanded to exact numbers: the token's row (of head `?head=`), its gradient
    when backward (`?op=`) has reached it, and for attention the dot products per key."""
    run = visible_run(request, run_id)
    view = OpView(run, step, pos, query_int(request, "op"))
    if not 0 <= node_id < len(view.trace.nodes):
        raise Http404("no such node")
    context = {**view.base_context(), **scalars_of(view, node_id, query_int(request, "head"))}
    return render(request, "runs/opview.html#scalars", context)


@login_required
@require_GET
def weight_grad(request, run_id, step, pos, name):
    """The gradient heatmap of one weight matrix: this token's and the whole step's."""
    run = visible_run(request, run_id)
    view = OpView(run, step, pos, query_int(request, "op"))
    node = next((n for n in view.trace.tape.params() if n.name == name), None)
    if node is None:
        raise Http404("no such weight")
    context = {**view.base_context(), "weight": weight_maps(view, node)}
    return render(request, "runs/opview.html#weight", context)


@login_required
@require_GET
def chain(request, run_id, step, pos, node_id):
    """The chain rule on one number: how entry `?i=` (a flat index) of node `node_id`'s
    gradient was made from the ops that read it, once backward (`?op=`) has passed it."""
    run = visible_run(request, run_id)
    view = OpView(run, step, pos, query_int(request, "op"))
    if not 0 <= node_id < len(view.trace.nodes):
        raise Http404("no such node")
    node = view.trace.nodes[node_id]
    index = query_int(request, "i")
    if index is None or not 0 <= index < max(1, node.grad.size if node.grad is not None else 1):
        raise Http404("no such entry")
    context = view.base_context()
    if node.id in view.done:
        context.update(chain_rule(view, node_id, index))
    elif node.kind == "input":
        context["chain_ids"] = node.label
    else:
        context["chain_missing"] = node.label
    return render(request, "runs/opview.html#chain", context)


@login_required
@require_GET
def update(request, run_id, step, pos):
    """Apply the update: Adam's numbers for the token's row of every weight the token's
    gradient reached, and the model after the step (recomputed by replaying the run)."""
    run = visible_run(request, run_id)
    view = OpView(run, step, pos, query_int(request, "op"))
    return render(request, "runs/opview.html#update", {**view.base_context(), **apply_update(view)})
