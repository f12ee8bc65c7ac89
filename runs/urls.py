from django.urls import path, register_converter

from runs import page, playground, views
from runs.lenses import views as lenses
from runs.opview import views as opview
from runs.playground_ops import OwnTextConverter

register_converter(OwnTextConverter, "owntext")
OWN_TEXT_OPS = "<int:run_id>/steps/<int:step>/text/<owntext:text>/tokens/<int:pos>/ops/"

app_name = "runs"
urlpatterns = [
    path("", views.run_list, name="list"),
    path("new/", views.new_run, name="new"),
    path("compare/", views.compare_runs, name="compare"),
    path("glossary/", views.glossary, name="glossary"),
    path("<int:run_id>/", page.run_detail, name="detail"),
    path("<int:run_id>/cancel/", views.cancel_run, name="cancel"),
    path("<int:run_id>/fork/", views.fork_run, name="fork"),
    path("<int:run_id>/export.json", views.export_json, name="export"),
    path("<int:run_id>/lenses/", lenses.lenses, name="lenses"),
    path("<int:run_id>/lenses/map/", lenses.lens_map, name="lens_map"),
    path("<int:run_id>/playground/", playground.playground, name="playground"),
    path("<int:run_id>/playground/predict/", playground.predict, name="playground_predict"),
    path(
        "<int:run_id>/playground/generate/",
        playground.generate_view,
        name="playground_generate",
    ),
    path("<int:run_id>/playground/game/", playground.game, name="playground_game"),
    path(OWN_TEXT_OPS, opview.opview, name="playground_ops"),
    path(f"{OWN_TEXT_OPS}nodes/<int:node_id>/", opview.node_scalars, name="playground_ops_scalars"),
    path(f"{OWN_TEXT_OPS}weights/<str:name>/", opview.weight_grad, name="playground_ops_weight"),
    path(
        f"{OWN_TEXT_OPS}nodes/<int:node_id>/chain/", opview.chain, name="playground_ops_chain"
    ),
    path(f"{OWN_TEXT_OPS}update/", opview.update, name="playground_ops_update"),
    path("<int:run_id>/snapshot/", page.snapshot_fragment, name="snapshot"),
    path("<int:run_id>/steps/<int:step>/tokens/<int:pos>/", page.token_fragment, name="token"),
    path("<int:run_id>/steps/<int:step>/tokens/<int:pos>/ops/", opview.opview, name="opview"),
    path(
        "<int:run_id>/steps/<int:step>/tokens/<int:pos>/ops/nodes/<int:node_id>/",
        opview.node_scalars,
        name="opview_scalars",
    ),
    path(
        "<int:run_id>/steps/<int:step>/tokens/<int:pos>/ops/nodes/<int:node_id>/chain/",
        opview.chain,
        name="opview_chain",
    ),
    path(
        "<int:run_id>/steps/<int:step>/tokens/<int:pos>/ops/update/",
        opview.update,
        name="opview_update",
    ),
    path(
        "<int:run_id>/steps/<int:step>/tokens/<int:pos>/ops/weights/<str:name>/",
        opview.weight_grad,
        name="opview_weight",
    ),
]
