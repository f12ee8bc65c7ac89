import pytest
from django.contrib.auth.models import Group

from classrooms.models import Classroom, Membership
from microlab_site.roles import INSTRUCTORS

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
            "join_code": "ADMIN2",
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
    response = client.post(
        f"/admin/classrooms/classroom/{classroom.pk}/change/",
        {
            "name": classroom.name,
            "description": "",
            "join_code": classroom.join_code,
            "join_open": "on",
            "default_config": "{}",
            "locked_fields": "[]",
            "max_active_runs": 3,
            "membership_set-TOTAL_FORMS": 1,
            "membership_set-INITIAL_FORMS": 0,
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
