"""Classrooms in the admin. Instructors (the limited "Instructors" group) see and change
only the classrooms they teach, and see and remove those classrooms' memberships (students
join with the code, never by an instructor's hand); superusers see and do all."""

from django.contrib import admin

from classrooms.forms import ClassroomAdminForm
from classrooms.models import Classroom, FunnelEvent, Membership
from packs_app.settings_table import settings_table


def teaches_filter(request, prefix=""):
    """Row filter for the instructor's own classrooms ({} for a superuser)."""
    if request.user.is_superuser:
        return {}
    return {f"{prefix}instructor": request.user}


def may_enrol(request):
    """Only a superuser adds or changes memberships in the admin; an instructor sees and
    removes them (students join with the code: joining shows the instructor their work)."""
    return request.user.is_superuser


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["student"]
    readonly_fields = ["joined_at"]

    def has_add_permission(self, request, obj=None):
        return may_enrol(request) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return may_enrol(request) and super().has_change_permission(request, obj)


@admin.register(Classroom)
class ClassroomAdmin(admin.ModelAdmin):
    form = ClassroomAdminForm  # the settings page's rules
    list_display = ["name", "instructor", "join_code", "join_open", "student_count", "created_at"]
    list_filter = ["join_open"]
    search_fields = ["name", "description", "join_code", "instructor__username"]
    filter_horizontal = ["offered_packs"]
    inlines = [MembershipInline]
    readonly_fields = ["created_at", "spotlight_run", "settings"]

    @admin.display(description="run settings, as a table")
    def settings(self, classroom):
        return settings_table(classroom.default_config, locked=classroom.locked_fields)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(**teaches_filter(request))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("instructor")
        return fields

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser:
            obj.instructor = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="students")
    def student_count(self, obj):
        return obj.students.count()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["student", "classroom", "joined_at"]
    list_filter = ["classroom"]
    search_fields = ["student__username", "classroom__name"]
    raw_id_fields = ["student"]

    def has_add_permission(self, request):
        return may_enrol(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return may_enrol(request) and super().has_change_permission(request, obj)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(**teaches_filter(request, "classroom__"))
            .select_related("student", "classroom")
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "classroom":
            kwargs["queryset"] = Classroom.objects.filter(**teaches_filter(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        return self.list_filter if request.user.is_superuser else []


@admin.register(FunnelEvent)
class FunnelEventAdmin(admin.ModelAdmin):
    """Superusers only (instructors are not granted its permissions)."""

    list_display = ["user", "stage", "created_at"]
    list_filter = ["stage"]
    search_fields = ["user__username"]
