import pytest
from django.contrib.auth.models import Group

from classrooms.models import Classroom, Membership
from common.roles import INSTRUCTORS
from packs_app.models import Pack

pytestmark = pytest.mark.django_db


def test_the_instructors_group_has_exactly_the_limited_permissions():
    group = Group.objects.get(name=INSTRUCTORS)
    perms = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert ("packs_app", "add_pack") in perms and ("packs_app", "change_pack") in perms
    assert ("packs_app", "delete_blocklistentry") in perms
    assert ("classrooms", "change_classroom") in perms
    assert ("classrooms", "delete_membership") in perms
    assert ("classrooms", "add_membership") not in perms  # students join with the code
    assert ("classrooms", "change_membership") not in perms
    assert not any(app == "auth" for app, _ in perms)  # no users, no passwords
    assert not any(app == "runs" for app, _ in perms)


def test_an_instructor_sees_only_their_own_classrooms(
    client, instructor, classroom, other_classroom
):
    client.force_login(instructor)
    body = client.get("/admin/classrooms/classroom/").content.decode()
    assert "Lesson 1" in body and "Another lesson" not in body
    response = client.get(f"/admin/classrooms/classroom/{other_classroom.pk}/change/")
    assert response.status_code == 302  # "doesn't exist" for them
    assert client.get(f"/admin/classrooms/classroom/{classroom.pk}/change/").status_code == 200
    body = client.get("/admin/classrooms/membership/").content.decode()
    assert "student" in body


def test_an_instructor_cannot_see_users_or_change_others_memberships(
    client, instructor, other_classroom, outsider
):
    other_classroom.join(outsider)
    membership = Membership.objects.get(classroom=other_classroom)
    client.force_login(instructor)
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get(f"/admin/auth/user/{outsider.pk}/password/").status_code == 403
    response = client.post(f"/admin/classrooms/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_a_classroom_added_in_the_admin_belongs_to_the_instructor(
    client, instructor, other_instructor
):
    client.force_login(instructor)
    response = client.post(
        "/admin/classrooms/classroom/add/",
        {
            "name": "Admin-made",
            "description": "",
            "join_code": "ADMN23",
            "join_open": "on",
            "default_config": "{}",
            "locked_fields": "[]",
            "max_active_runs": 3,
            "instructor": other_instructor.pk,  # ignored: the field is read-only for them
            "membership_set-TOTAL_FORMS": 0,
            "membership_set-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Classroom.objects.get(name="Admin-made").instructor == instructor


def test_an_instructor_cannot_enrol_anyone_in_the_admin(
    client, instructor, classroom, outsider, student
):
    """Joining shows the instructor a student's runs and uploads: only the student's own
    join code does it. In the admin an instructor sees and removes memberships."""
    client.force_login(instructor)
    assert client.get("/admin/classrooms/membership/add/").status_code == 403
    response = client.post(
        "/admin/classrooms/membership/add/", {"classroom": classroom.pk, "student": outsider.pk}
    )
    assert response.status_code == 403
    # nor through the classroom page's membership rows
    post_classroom(
        client,
        classroom,
        **{
            "membership_set-TOTAL_FORMS": 1,
            "membership_set-0-student": outsider.pk,
            "membership_set-0-classroom": classroom.pk,
        },
    )
    assert not classroom.has_member(outsider)
    # removing one of their students still works
    classroom.join(student)
    membership = Membership.objects.get(classroom=classroom, student=student)
    response = client.post(f"/admin/classrooms/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not classroom.has_member(student)


def test_a_superuser_may_enrol_in_the_admin(client, django_user_model, classroom, outsider):
    admin = django_user_model.objects.create_superuser("root", password="x-long-pass-99")
    client.force_login(admin)
    response = client.post(
        "/admin/classrooms/membership/add/", {"classroom": classroom.pk, "student": outsider.pk}
    )
    assert response.status_code == 302 and classroom.has_member(outsider)


def test_a_superuser_sees_every_classroom(client, django_user_model, classroom, other_classroom):
    admin = django_user_model.objects.create_superuser("root", password="x-long-pass-99")
    client.force_login(admin)
    body = client.get("/admin/classrooms/classroom/").content.decode()
    assert "Lesson 1" in body and "Another lesson" in body
    assert client.get("/admin/classrooms/funnelevent/").status_code == 200


def test_an_instructor_manages_packs_and_the_blocklist(client, instructor):
    client.force_login(instructor)
    assert client.get("/admin/packs_app/pack/").status_code == 200
    assert client.get("/admin/packs_app/blocklistentry/").status_code == 200
    assert client.get("/admin/classrooms/funnelevent/").status_code == 403


def post_classroom(client, classroom, **changes):
    """The admin's change page for `classroom`, posted with `changes` to its fields."""
    data = {
        "name": classroom.name,
        "description": "",
        "join_code": classroom.join_code,
        "join_open": "on",
        "default_config": "{}",
        "locked_fields": "[]",
        "max_active_runs": 3,
        "membership_set-TOTAL_FORMS": 0,
        "membership_set-INITIAL_FORMS": 0,
        **changes,
    }
    return client.post(f"/admin/classrooms/classroom/{classroom.pk}/change/", data)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"max_active_runs": 99}, {"max_active_runs": ["The site allows at most 3 active runs."]}),
        (
            {"default_config": '{"n_embd": 999, "bogus": 1}'},
            {
                "default_config": [
                    "Unknown setting “bogus”.",
                    "n_embd: Embedding size must be between 4 and 64 (got 999).",
                ]
            },
        ),
        (
            {"locked_fields": '["foo", "n_head"]'},
            {
                "locked_fields": [
                    "Unknown setting “foo”.",
                    "Give the heads a default before locking it.",
                ]
            },
        ),
        (
            {"join_code": "ab"},
            {
                "join_code": [
                    "A join code is six letters and digits, without 0, O, 1 or I "
                    "(they are easy to misread)."
                ]
            },
        ),
        (
            {"default_config": '{"n_embd": 30, "n_head": 4}'},
            {
                "default_config": [
                    "n_head: Attention heads must divide the embedding size: 4 does not divide 30."
                ]
            },
        ),
        (
            {"default_config": '{"n_embd": 32.5, "learning_rate": "fast"}'},
            {"default_config": ["n_embd: Enter a whole number.", "learning_rate: Enter a number."]},
        ),
        (
            {"default_config": "[1]", "locked_fields": '{"seed": 1}'},
            {
                "default_config": ['Give the defaults as a JSON object, e.g. {"seed": 7}.'],
                "locked_fields": ['Give the locked settings as a JSON list, e.g. ["seed"].'],
            },
        ),
    ],
)
def test_the_admin_refuses_what_the_settings_page_refuses(
    client, instructor, classroom, changes, expected
):
    client.force_login(instructor)
    response = post_classroom(client, classroom, **changes)
    assert response.status_code == 200, "the form should come back with errors"
    assert response.context["adminform"].form.errors == expected
    saved = Classroom.objects.get(pk=classroom.pk)
    assert saved.max_active_runs == 3 and saved.join_code == classroom.join_code
    assert saved.default_config == {} and saved.locked_fields == []


def test_the_admin_saves_valid_settings_as_the_settings_page_would(client, instructor, classroom):
    client.force_login(instructor)
    response = post_classroom(
        client,
        classroom,
        join_code=" abc 234 ",
        max_active_runs=2,
        default_config='{"seed": "7", "n_embd": 32, "n_head": 4.0, "learning_rate": 0.005}',
        locked_fields='["seed", "n_embd"]',
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    classroom.refresh_from_db()
    assert classroom.join_code == "ABC234" and classroom.max_active_runs == 2
    assert classroom.default_config == {
        "seed": 7,
        "n_embd": 32,
        "n_head": 4,
        "learning_rate": 0.005,
    }
    assert classroom.locked_fields == ["n_embd", "seed"]  # in the forms' order


def test_the_admin_offers_enabled_packs_and_keeps_chosen_ones(client, instructor, classroom):
    on = Pack.objects.create(slug="on", title="On", teaches="t", text="a")
    off = Pack.objects.create(slug="off", title="Off", teaches="t", text="a", enabled=False)
    chosen = Pack.objects.create(slug="was", title="Was on", teaches="t", text="a")
    classroom.offered_packs.set([chosen])
    chosen.enabled = False
    chosen.save()
    client.force_login(instructor)
    page = client.get(f"/admin/classrooms/classroom/{classroom.pk}/change/")
    field = page.context["adminform"].form.fields["offered_packs"]
    assert [field.label_from_instance(pack) for pack in field.queryset] == [
        "On",
        "Was on (disabled)",
    ]
    response = post_classroom(client, classroom, offered_packs=[chosen.pk, on.pk])
    assert response.status_code == 302
    assert set(classroom.offered_packs.all()) == {chosen, on}
    response = post_classroom(client, classroom, offered_packs=[off.pk])
    assert "offered_packs" in response.context["adminform"].form.errors
    assert set(classroom.offered_packs.all()) == {chosen, on}
