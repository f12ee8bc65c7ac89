from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.html import format_html_join

from common.roles import is_instructor
from packs_app.forms import BlocklistEntryForm, PackAdminForm
from packs_app.models import BlocklistEntry, Pack, Upload


class InstructorAccess:
    """Instructors (staff in the Instructors group) manage packs without per-model
    permissions; superusers keep Django's usual rules."""

    instructor_may = ("view", "add", "change", "delete")

    def _allowed(self, request, action):
        return action in self.instructor_may and is_instructor(request.user)

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self._allowed(request, "view")

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self._allowed(request, "view")

    def has_add_permission(self, request):
        return super().has_add_permission(request) or self._allowed(request, "add")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or self._allowed(request, "change")

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) or self._allowed(request, "delete")


class UploadOwnerFilter(admin.SimpleListFilter):
    """Uploads by owner, listing only the accounts the viewer may see: an instructor's own
    students (a superuser sees everyone)."""

    title = "owner"
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(uploads__isnull=False)
        if not request.user.is_superuser:
            users = users.filter(classrooms__instructor=request.user)
        return [(u.pk, u.username) for u in users.distinct().order_by("username")]

    def queryset(self, request, queryset):
        return queryset.filter(owners=self.value()) if self.value() else queryset


@admin.register(Pack)
class PackAdmin(InstructorAccess, admin.ModelAdmin):
    form = PackAdminForm
    list_display = ["title", "slug", "builtin", "enabled", "document_count", "created_by"]
    list_filter = ["builtin", "enabled"]
    list_editable = ["enabled"]
    ordering = ["-builtin", "title"]  # as students see them (Pack.objects.offered())
    search_fields = ["title", "slug", "teaches"]
    prepopulated_fields = {"slug": ["title"]}
    actions = ["enable", "disable"]
    fields = [
        "title",
        "slug",
        "teaches",
        "text",
        "adherence_pattern",
        "recommended_config",
        "enabled",
        "builtin",
        "created_by",
    ]

    @admin.display(description="documents")
    def document_count(self, pack):
        return len(pack.documents)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.builtin:
            # Built-in packs come from their generators (manage.py load_packs).
            return [
                "title",
                "slug",
                "teaches",
                "text",
                "adherence_pattern",
                "builtin",
                "created_by",
            ]
        return ["builtin", "created_by"]

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None and obj.builtin else self.prepopulated_fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.builtin:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.builtin = False
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Enable the selected packs")
    def enable(self, request, queryset):
        queryset.update(enabled=True)

    @admin.action(description="Disable the selected packs (no longer offered)")
    def disable(self, request, queryset):
        queryset.update(enabled=False)


@admin.register(BlocklistEntry)
class BlocklistEntryAdmin(InstructorAccess, admin.ModelAdmin):
    form = BlocklistEntryForm
    list_display = ["pattern", "category", "is_regex", "enabled", "note"]
    list_filter = ["category", "is_regex", "enabled"]
    list_editable = ["enabled"]
    search_fields = ["pattern", "note"]


@admin.register(Upload)
class UploadAdmin(InstructorAccess, admin.ModelAdmin):
    instructor_may = ("view", "delete")
    list_display = ["id", "name", "owner_list", "document_count", "char_count", "last_uploaded_at"]
    list_filter = [UploadOwnerFilter, "last_uploaded_at"]
    search_fields = ["id", "name", "owners__username", "created_by__username"]
    readonly_fields = ["id", "name", "text", "created_by", "created_at", "last_uploaded_at"]
    fields = [*readonly_fields, "owners", "shared_with"]
    filter_horizontal = ["owners", "shared_with"]
    date_hierarchy = "last_uploaded_at"

    def get_queryset(self, request):
        uploads = super().get_queryset(request).prefetch_related("owners")
        if request.user.is_superuser:
            return uploads
        # An instructor sees only the uploads of students in the classrooms they teach.
        return uploads.filter(owners__classrooms__instructor=request.user).distinct()

    @admin.display(description="owners")
    def owner_list(self, upload):
        return format_html_join(", ", "{}", ((owner.username,) for owner in upload.owners.all()))

    @admin.display(description="documents")
    def document_count(self, upload):
        return len(upload.documents)

    @admin.display(description="characters")
    def char_count(self, upload):
        return upload.char_count

    def has_add_permission(self, request):
        return False  # uploads come through the upload page and its checks
