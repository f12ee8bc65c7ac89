import pytest
from django.urls import reverse

from classrooms.models import Classroom, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(instructor):
    return Classroom.objects.create(name="Lesson 1", instructor=instructor)


def test_join_page_prefills_the_code(client, outsider, room):
    client.force_login(outsider)
    response = client.get(reverse("classrooms:join") + f"?code={room.join_code}")
    assert response.status_code == 200
    assert f'value="{room.join_code}"' in response.content.decode()


def test_a_student_joins_with_the_code_in_any_case_and_spacing(client, outsider, room):
    client.force_login(outsider)
    typed = " ".join(room.join_code.lower())
    response = client.post(reverse("classrooms:join"), {"code": typed})
    assert response.status_code == 302
    assert response.url == reverse("classrooms:detail", args=[room.pk])
    assert room.has_member(outsider)
    # joining twice is harmless
    assert client.post(reverse("classrooms:join"), {"code": room.join_code}).status_code == 302
    assert Membership.objects.filter(classroom=room, student=outsider).count() == 1


@pytest.mark.parametrize(
    "code, message",
    [("", "This field is required"), ("ZZZZZZ", "No classroom has this code")],
)
def test_a_wrong_code_is_a_400_and_stores_nothing(client, outsider, room, code, message):
    client.force_login(outsider)
    response = client.post(reverse("classrooms:join"), {"code": code})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Membership.objects.exists()


def test_a_closed_classroom_refuses_with_a_clear_message(client, outsider, room):
    room.set_join_open(False)
    client.force_login(outsider)
    response = client.post(reverse("classrooms:join"), {"code": room.join_code})
    assert response.status_code == 400
    assert "closed to new students" in response.content.decode()
    assert not room.has_member(outsider)


def test_a_rotated_code_stops_working(client, outsider, room):
    old = room.join_code
    room.rotate_code()
    assert room.join_code != old
    client.force_login(outsider)
    assert client.post(reverse("classrooms:join"), {"code": old}).status_code == 400
    assert client.post(reverse("classrooms:join"), {"code": room.join_code}).status_code == 302


def test_the_instructor_cannot_join_their_own_classroom(client, instructor, room):
    client.force_login(instructor)
    response = client.post(reverse("classrooms:join"), {"code": room.join_code})
    assert response.status_code == 400
    assert "You teach Lesson 1" in response.content.decode()
    assert not Membership.objects.exists()


def test_anonymous_is_sent_to_log_in_and_nothing_is_stored(client, room):
    response = client.post(reverse("classrooms:join"), {"code": room.join_code})
    assert response.status_code == 302 and reverse("login") in response.url
    assert not Membership.objects.exists()


def test_a_student_can_be_in_several_classrooms(client, outsider, room, other_instructor=None):
    from common.roles import make_instructor

    second_teacher = type(outsider).objects.create_user("teacher2", password="x-long-pass-99")
    make_instructor(second_teacher)
    second = Classroom.objects.create(name="Lesson 2", instructor=second_teacher)
    client.force_login(outsider)
    client.post(reverse("classrooms:join"), {"code": room.join_code})
    client.post(reverse("classrooms:join"), {"code": second.join_code})
    body = client.get(reverse("classrooms:list")).content.decode()
    assert "Lesson 1" in body and "Lesson 2" in body


def test_rotate_and_close_from_the_panel(client, instructor, room):
    client.force_login(instructor)
    old = room.join_code
    response = client.post(
        reverse("classrooms:rotate_code", args=[room.pk]), headers={"HX-Request": "true"}
    )
    room.refresh_from_db()
    assert response.status_code == 200 and room.join_code != old
    assert room.join_code in response.content.decode()
    client.post(reverse("classrooms:set_join_open", args=[room.pk]), {"open": "0"})
    room.refresh_from_db()
    assert not room.join_open
    client.post(reverse("classrooms:set_join_open", args=[room.pk]), {"open": "1"})
    room.refresh_from_db()
    assert room.join_open


def test_remove_a_student_and_their_shared_runs_are_unshared(client, instructor, student, room):
    from tests.classrooms.conftest import make_run

    room.join(student)
    run = make_run(student, classroom=room)
    room.spotlight(run)
    client.force_login(instructor)
    response = client.post(reverse("classrooms:remove_student", args=[room.pk, student.pk]))
    assert response.status_code == 302
    room.refresh_from_db()
    run.refresh_from_db()
    assert not room.has_member(student)
    assert run.classroom is None and room.spotlight_run is None
    # from the panel (htmx): the roster comes back without them
    room.join(student)
    response = client.post(
        reverse("classrooms:remove_student", args=[room.pk, student.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'id="roster"' in response.content.decode()
    assert f'data-student="{student.username}"' not in response.content.decode()
    assert not room.has_member(student)
    # removing someone who is not in it is a 404
    response = client.post(reverse("classrooms:remove_student", args=[room.pk, student.pk]))
    assert response.status_code == 404


def test_a_student_leaves(client, student, room):
    room.join(student)
    client.force_login(student)
    response = client.post(reverse("classrooms:leave", args=[room.pk]))
    assert response.status_code == 302
    assert not room.has_member(student)


def join_link(room):
    return reverse("classrooms:join") + f"?code={room.join_code}"


def test_the_join_page_names_the_classroom_and_says_what_the_instructor_sees(
    client, outsider, room
):
    client.force_login(outsider)
    html = client.get(join_link(room)).content.decode()
    assert "Join Lesson 1" in html and "What your instructor will see" in html
    assert "Every run you start" in html and "private" in html


def test_a_join_link_survives_signing_up(client, room):
    response = client.get(join_link(room))
    assert response.status_code == 302 and reverse("login") in response.url
    login_page = client.get(response.url).content.decode()
    signup_href = login_page.split('New here? <a href="')[1].split('"')[0]
    assert signup_href.startswith(reverse("signup") + "?next=")
    signup_page = client.get(signup_href.replace("&amp;", "&")).content.decode()
    assert 'name="next"' in signup_page and "join the classroom" in signup_page
    password = "a-long-pass-phrase-1"
    response = client.post(
        signup_href.replace("&amp;", "&"),
        {
            "username": "newbie",
            "password1": password,
            "password2": password,
            "next": join_link(room),
        },
    )
    assert response.status_code == 302 and response.url == join_link(room)
    assert client.post(reverse("classrooms:join"), {"code": room.join_code}).url == reverse(
        "classrooms:detail", args=[room.pk]
    )
    assert room.students.filter(username="newbie").exists()


def test_a_join_link_survives_logging_in(client, outsider, room):
    from tests.conftest import PASSWORD

    response = client.post(
        reverse("login"), {"username": "outsider", "password": PASSWORD, "next": join_link(room)}
    )
    assert response.status_code == 302 and response.url == join_link(room)


def test_signup_never_sends_to_another_site(client):
    password = "a-long-pass-phrase-1"
    response = client.post(
        reverse("signup"),
        {
            "username": "newbie",
            "password1": password,
            "password2": password,
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302 and response.url == reverse("home")
