from django.contrib import admin

from common.classroom_hooks import classrooms
from common.roles import is_instructor
from packs_app.settings_table import settings_table
from runs.models import Run


class TaughtClassroomFilter(admin.SimpleListFilter):
    """Runs started in (or shared with) a classroom one teaches: the run's own classroom,
    not its owner's (a member's private run is in no classroom)."""

    title = "classroom"
    parameter_name = "classroom"

    def lookups(self, request, model_admin):
        return [(c.pk, c.name) for c in classrooms().taught_by(request.user)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(classroom=self.value())


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = [
        "id", "owner", "pack", "upload", "classroom", "status",
        "current_step", "num_steps", "loss", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "pack", TaughtClassroomFilter]
    search_fields = ["=id", "owner__username", "pack__slug", "pack__title", "upload__name"]
    list_select_related = ["owner", "pack", "upload", "classroom"]
    date_hierarchy = "created_at"

    @admin.display(description="final loss", ordering="final_loss")
    def loss(self, run):
        return None if run.final_loss is None else f"{run.final_loss:.3f}"

    @admin.display(description="settings, as a table")
    def settings(self, run):
        return settings_table(run.config)

    def get_readonly_fields(self, request, obj=None):
        return ["settings", *(field.name for field in Run._meta.fields)]

    def get_queryset(self, request):
        runs = super().get_queryset(request)
        if request.user.is_superuser:
            return runs
        return runs.filter(pk__in=Run.objects.visible_to(request.user).values("pk"))

    def has_module_permission(self, request):
        return is_instructor(request.user)

    def has_view_permission(self, request, obj=None):
        return is_instructor(request.user)

    def has_add_permission(self, request):
        return False  # runs start from the new-run page, with its checks

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
