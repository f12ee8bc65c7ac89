from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.html import format_html_join

from common.roles import INSTRUCTORS, is_instructor
from packs_app.forms import BlocklistEntryForm, PackAdminForm
from packs_app.models import BlocklistEntry, Pack, Upload
from packs_app.settings_table import settings_table


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


def instructors():
    return get_user_model().objects.filter(is_staff=True, groups__name=INSTRUCTORS)


@admin.register(Pack)
class PackAdmin(InstructorAccess, admin.ModelAdmin):
    """Built-in packs: administrators only (an instructor sees them; disabling one would
    take it from every classroom, so an instructor picks their classroom's packs on its
    settings page instead). Custom packs: their instructor's, shared on purpose."""

    form = PackAdminForm
    list_display = ["title", "slug", "builtin", "enabled", "document_count", "created_by"]
    list_filter = ["builtin", "enabled"]
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
        "probe_line",
        "probe_focus",
        "settings",
        "recommended_config",
        "enabled",
        "shared_with",
        "builtin",
        "created_by",
    ]
    filter_horizontal = ["shared_with"]

    @admin.display(description="recommended settings, as a table")
    def settings(self, pack):
        return settings_table(pack.recommended_config)

    @admin.display(description="documents")
    def document_count(self, pack):
        return len(pack.documents)

    def get_queryset(self, request):
        packs = super().get_queryset(request).select_related("created_by")
        if request.user.is_superuser:
            return packs
        user = request.user
        return packs.filter(
            Q(builtin=True) | Q(created_by=None) | Q(created_by=user) | Q(shared_with=user)
        ).distinct()

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.may_change(request.user):
            return False
        return super().has_change_permission(request, obj)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "shared_with":
            kwargs["queryset"] = instructors().exclude(pk=request.user.pk).order_by("username")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.builtin:
            # Built-in packs come from their generators (manage.py load_packs).
            return [
                "title",
                "slug",
                "teaches",
                "text",
                "adherence_pattern",
                "probe_line",
                "probe_focus",
                "builtin",
                "created_by",
                "settings",
            ]
        return ["builtin", "created_by", "settings"]

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None and obj.builtin else self.prepopulated_fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.builtin or not obj.may_change(request.user)):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.builtin = False
            # an administrator's pack is the site's (offered to every classroom)
            obj.created_by = None if request.user.is_superuser else request.user
        super().save_model(request, obj, form, change)

    def set_enabled(self, request, queryset, enabled):
        """Only the packs the user may change; says which were left alone."""
        mine = queryset.managed_by(request.user)
        count = mine.update(enabled=enabled)
        skipped = queryset.count() - count
        verb = "Enabled" if enabled else "Disabled"
        self.message_user(request, f"{verb} {count} pack{'s' if count != 1 else ''}.")
        if skipped:
            self.message_user(
                request,
                f"{skipped} left as they were: built-in packs are managed by the site's "
                "administrators, and another instructor's pack by that instructor. To stop "
                "offering a pack in your classroom, untick it on the classroom's settings page.",
                level=messages.WARNING,
            )

    @admin.action(description="Enable the selected packs")
    def enable(self, request, queryset):
        self.set_enabled(request, queryset, True)

    @admin.action(description="Disable the selected packs (no longer offered)")
    def disable(self, request, queryset):
        self.set_enabled(request, queryset, False)


class TermScopeFilter(admin.SimpleListFilter):
    title = "applies to"
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [("site", "the whole site"), ("mine", "my classrooms (my own terms)")]

    def queryset(self, request, queryset):
        if self.value() == "site":
            return queryset.filter(owner=None)
        if self.value() == "mine":
            return queryset.filter(owner=request.user)
        return queryset


@admin.register(BlocklistEntry)
class BlocklistEntryAdmin(InstructorAccess, admin.ModelAdmin):
    """Site-wide terms: administrators. An instructor's own terms: theirs, applied to the
    texts shared into their classrooms. Saving a term re-checks the stored uploads."""

    form = BlocklistEntryForm
    list_display = ["pattern", "category", "is_regex", "enabled", "applies_to", "note"]
    list_filter = [TermScopeFilter, "category", "is_regex", "enabled"]
    search_fields = ["pattern", "note"]

    @admin.display(description="applies to")
    def applies_to(self, entry):
        return "the whole site" if entry.owner_id is None else f"{entry.owner}'s classrooms"

    def get_queryset(self, request):
        terms = super().get_queryset(request).select_related("owner")
        if request.user.is_superuser:
            return terms
        return terms.for_instructor(request.user)

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["owner"]

    def may_change(self, request, obj):
        return request.user.is_superuser or obj.owner_id == request.user.pk

    def has_change_permission(self, request, obj=None):
        if obj is not None and not self.may_change(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not self.may_change(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.owner = request.user  # an instructor's terms are their own
        super().save_model(request, obj, form, change)
        blocked = Upload.objects.filter(blocked_by=obj).count()
        if blocked:
            self.message_user(
                request,
                f"{blocked} stored upload{'s' if blocked != 1 else ''} contain this term: "
                "unshared from the classrooms it covers and marked; their owners were told.",
                level=messages.WARNING,
            )


@admin.register(Upload)
class UploadAdmin(InstructorAccess, admin.ModelAdmin):
    instructor_may = ("view", "delete")
    list_display = ["id", "name", "owner_list", "document_count", "char_count", "last_uploaded_at"]
    list_filter = [UploadOwnerFilter, "last_uploaded_at"]
    search_fields = ["id", "name", "owners__username", "created_by__username"]
    readonly_fields = [
        "id",
        "name",
        "text",
        "created_by",
        "created_at",
        "last_uploaded_at",
        "blocked_reason",
    ]
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
