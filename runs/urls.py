from django.urls import path

from runs import page, views
from runs.opview import views as opview

app_name = "runs"
urlpatterns = [
    path("", views.run_list, name="list"),
    path("new/", views.new_run, name="new"),
    path("<int:run_id>/", page.run_detail, name="detail"),
    path("<int:run_id>/cancel/", views.cancel_run, name="cancel"),
    path("<int:run_id>/export.json", views.export_json, name="export"),
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
