"""Every classroom page and action, for each person: the student and classmate (members),
the classroom's instructor, another classroom's instructor, an outsider, and anonymous."""

import pytest
from django.urls import reverse

from classrooms.models import Classroom
from tests.classrooms.conftest import falling, make_run

pytestmark = pytest.mark.django_db

PEOPLE = ["student", "classmate", "instructor", "other_instructor", "outsider", "anonymous"]


@pytest.fixture
def as_person(client, request, classroom, other_classroom):
    def login(name):
        if name != "anonymous":
            client.force_login(request.getfixturevalue(name))
        return client

    return login


# Expected status by person; 302 for anonymous = to the login page.
OUTSIDERS = {"other_instructor": 404, "outsider": 404}  # a classroom they can't see
MEMBERS_SEE = {"student": 200, "classmate": 200, "instructor": 200, **OUTSIDERS}
INSTRUCTOR_SEES = {"student": 403, "classmate": 403, "instructor": 200, **OUTSIDERS}
INSTRUCTOR_ACTS = {**INSTRUCTOR_SEES, "instructor": 302}  # POST, then back to the panel


def pages(classroom, run):
    """(url name, url args, method, expected status by person) for every classroom URL."""
    room = [classroom.pk]
    return [
        ("classrooms:detail", room, "get", MEMBERS_SEE),
        ("classrooms:edit", room, "get", INSTRUCTOR_SEES),
        ("classrooms:roster", room, "get", INSTRUCTOR_SEES),
        ("classrooms:funnel", room, "get", INSTRUCTOR_SEES),
        ("classrooms:spotlight", room, "get", MEMBERS_SEE),
        ("classrooms:student", [classroom.pk, run.owner_id], "get", INSTRUCTOR_SEES),
        ("classrooms:rotate_code", room, "post", INSTRUCTOR_ACTS),
        ("classrooms:set_join_open", room, "post", INSTRUCTOR_ACTS),
        ("classrooms:choose_spotlight", room, "post", INSTRUCTOR_ACTS),
        ("classrooms:cancel_run", [classroom.pk, run.pk], "post", INSTRUCTOR_ACTS),
        ("classrooms:remove_student", [classroom.pk, run.owner_id], "post", INSTRUCTOR_ACTS),
    ]


@pytest.mark.parametrize("person", PEOPLE)
def test_every_classroom_url_for_every_person(as_person, person, classroom, student):
    run = make_run(student, losses=falling(20), classroom=classroom)
    for name, args, method, expected in pages(classroom, run):
        client = as_person(person)
        url = reverse(name, args=args)
        data = {"run": run.pk, "open": "1"} if method == "post" else None
        response = getattr(client, method)(url, data)
        want = 302 if person == "anonymous" else expected[person]
        assert response.status_code == want, f"{person} {method} {url}"
        if person == "anonymous":
            assert reverse("login") in response.url


@pytest.mark.parametrize("person", ["student", "classmate", "other_instructor", "outsider"])
def test_nobody_but_the_instructor_changes_the_classroom(as_person, person, classroom, student):
    run = make_run(student, losses=falling(5))
    before = (classroom.join_code, classroom.join_open)
    client = as_person(person)
    client.post(reverse("classrooms:rotate_code", args=[classroom.pk]))
    client.post(reverse("classrooms:set_join_open", args=[classroom.pk]), {"open": "0"})
    client.post(reverse("classrooms:choose_spotlight", args=[classroom.pk]), {"run": run.pk})
    client.post(reverse("classrooms:cancel_run", args=[classroom.pk, run.pk]))
    client.post(reverse("classrooms:remove_student", args=[classroom.pk, student.pk]))
    classroom.refresh_from_db()
    run.refresh_from_db()
    assert (classroom.join_code, classroom.join_open) == before
    assert classroom.spotlight_run is None
    assert run.status == "running"
    assert classroom.has_member(student)


def test_list_needs_login_and_shows_own_classrooms(client, classroom, other_classroom, student):
    response = client.get(reverse("classrooms:list"))
    assert response.status_code == 302
    client.force_login(student)
    body = client.get(reverse("classrooms:list")).content.decode()
    assert "Lesson 1" in body and "Another lesson" not in body
    assert "Join a classroom" in body


def test_list_shows_the_empty_state(client, outsider):
    client.force_login(outsider)
    body = client.get(reverse("classrooms:list")).content.decode()
    assert "You are not in a classroom yet" in body


def test_instructor_list_shows_taught_classrooms(client, instructor, classroom, other_classroom):
    client.force_login(instructor)
    body = client.get(reverse("classrooms:list")).content.decode()
    assert "Classrooms you teach" in body and "Lesson 1" in body
    assert classroom.join_code in body and "Another lesson" not in body
    assert "You are not in a classroom yet" not in body  # that nudge is for students


@pytest.mark.parametrize("person", ["student", "outsider"])
def test_only_instructors_create_classrooms(client, request, person):
    client.force_login(request.getfixturevalue(person))
    assert client.get(reverse("classrooms:new")).status_code == 403
    response = client.post(reverse("classrooms:new"), {"name": "Mine"})
    assert response.status_code == 403
    assert not Classroom.objects.filter(name="Mine").exists()


def test_compare_only_runs_visible_to_the_viewer(
    client, classroom, student, classmate, outsider, instructor, other_instructor
):
    a = make_run(student, losses=falling(10))
    b = make_run(classmate, losses=falling(10))
    url = reverse("runs:compare") + f"?run={a.pk}&run={b.pk}"
    client.force_login(instructor)
    assert client.get(url).status_code == 200
    for person in (student, outsider, other_instructor):  # b is not shared: student can't see
        client.force_login(person)
        assert client.get(url).status_code == 404, person
    own = make_run(student, losses=falling(10))
    client.force_login(student)
    assert client.get(reverse("runs:compare") + f"?run={a.pk}&run={own.pk}").status_code == 200
    client.logout()
    assert client.get(url).status_code == 302


@pytest.mark.parametrize(
    "person, status, still_member",
    [
        ("student", 302, False),
        ("instructor", 302, True),  # told they cannot leave what they teach
        ("other_instructor", 404, True),
        ("outsider", 404, True),
        ("anonymous", 302, True),
    ],
)
def test_leave(as_person, person, status, still_member, classroom, student):
    response = as_person(person).post(reverse("classrooms:leave", args=[classroom.pk]))
    assert response.status_code == status
    assert classroom.has_member(student) == still_member
    assert as_person(person).get(reverse("classrooms:leave", args=[classroom.pk])).status_code in (
        302,
        404,
        405,
    )
