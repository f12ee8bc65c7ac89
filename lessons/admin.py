from django.contrib import admin

from lessons.models import Assignment, Lesson, Reflection, Step, StepRun


class StepInline(admin.StackedInline):
    model = Step
    extra = 0


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "starter_key"]
    inlines = [StepInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["lesson", "classroom", "assigned_at"]


@admin.register(StepRun)
class StepRunAdmin(admin.ModelAdmin):
    list_display = ["student", "step", "run", "verdict", "met_at_step"]
    list_filter = ["verdict"]
    raw_id_fields = ["run", "student"]


@admin.register(Reflection)
class ReflectionAdmin(admin.ModelAdmin):
    list_display = ["student", "step", "updated_at"]
