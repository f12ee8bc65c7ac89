import pytest
from django.test import override_settings
from django.urls import reverse

from classrooms.models import Classroom
from packs_app.models import Pack
from runs.policy import run_policy_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def packs():
    return [
        Pack.objects.create(slug="abc", title="ABC", teaches="t", text="abc\nabd"),
        Pack.objects.create(slug="xyz", title="XYZ", teaches="t", text="xyz\nxyy"),
    ]


def post_settings(client, classroom, **rules):
    data = {"about-name": classroom.name, "about-description": "", "rules-max_active_runs": 3}
    data.update({f"rules-{k}": v for k, v in rules.items()})
    return client.post(reverse("classrooms:edit", args=[classroom.pk]), data)


def test_create_a_classroom(client, instructor):
    client.force_login(instructor)
    response = client.post(reverse("classrooms:new"), {"name": "Tuesday", "description": "x"})
    room = Classroom.objects.get(name="Tuesday")
    assert response.status_code == 302 and room.instructor == instructor
    assert len(room.join_code) == 6 and room.join_open and room.max_active_runs == 3


def test_create_without_a_name_is_a_400(client, instructor):
    client.force_login(instructor)
    response = client.post(reverse("classrooms:new"), {"name": ""})
    assert response.status_code == 400
    assert not Classroom.objects.exists()


def test_save_packs_defaults_locks_and_limit(client, instructor, classroom, student, packs):
    client.force_login(instructor)
    response = post_settings(
        client,
        classroom,
        offered_packs=[packs[0].pk],
        max_active_runs=2,
        config_seed=7,
        config_n_embd=32,
        config_n_head=4,
        locked_fields=["seed", "n_embd"],
    )
    assert response.status_code == 302
    classroom.refresh_from_db()
    assert classroom.default_config == {"seed": 7, "n_embd": 32, "n_head": 4}
    assert classroom.locked_fields == ["n_embd", "seed"]
    assert classroom.max_active_runs == 2
    policy = run_policy_for(student, classroom)
    assert list(policy.offered_packs) == [packs[0]]
    assert policy.lock({"seed": 1, "n_embd": 16, "n_head": 2}) == {
        "seed": 7,
        "n_embd": 32,
        "n_head": 2,
    }
    assert policy.errors(packs[1], {"seed": 1}) == {
        "pack": "XYZ is not offered in Lesson 1.",
        "seed": "The seed is fixed at 7 in Lesson 1.",
    }
    assert "__all__" in policy.errors(packs[0], {"seed": 7}, active_runs=2)
    assert policy.errors(packs[0], {"seed": 7}, active_runs=1) == {}


@pytest.mark.parametrize(
    "rules, message",
    [
        ({"max_active_runs": 4}, "at most 3 active runs"),
        ({"max_active_runs": 0}, "greater than or equal to 1"),
        ({"locked_fields": ["seed"]}, "Give the seed a default before locking it"),
        ({"config_n_embd": 500}, "Embedding size must be between 4 and 64 (got 500)."),
        ({"config_n_embd": 30, "config_n_head": 4}, "must divide the embedding size"),
        ({"config_learning_rate": 5}, "must be between 0.00001 and 1 (got 5)."),
    ],
)
def test_invalid_settings_are_a_400_and_change_nothing(
    client, instructor, classroom, rules, message
):
    client.force_login(instructor)
    response = post_settings(client, classroom, **rules)
    assert response.status_code == 400
    assert message in response.content.decode()
    classroom.refresh_from_db()
    assert classroom.default_config == {} and classroom.locked_fields == []
    assert classroom.max_active_runs == 3


def test_limits_read_as_on_the_new_run_form(client, instructor, classroom):
    """Plain numbers (runs.forms.limit_text), never 1e-05."""
    client.force_login(instructor)
    body = client.get(reverse("classrooms:edit", args=[classroom.pk])).content.decode()
    assert "0.00001 – 1; blank: the pack&#x27;s recommendation." in body
    assert "0 – 4,294,967,295; blank" in body
    assert "1e-05" not in body


def test_a_pack_disabled_since_it_was_chosen_stays_chosen(client, instructor, classroom, packs):
    """Only enabled packs are offered, but one the classroom already offers stays ticked
    (marked): saving the page must not drop it, which would offer every pack instead."""
    hidden = Pack.objects.create(slug="off", title="Off", teaches="t", text="a", enabled=False)
    classroom.offered_packs.set([packs[1]])
    packs[1].enabled = False
    packs[1].save()
    client.force_login(instructor)
    page = client.get(reverse("classrooms:edit", args=[classroom.pk]))
    choices = page.context["rules"].fields["offered_packs"]
    assert [choices.label_from_instance(p) for p in choices.queryset] == ["ABC", "XYZ (disabled)"]
    assert hidden not in choices.queryset
    assert post_settings(client, classroom, offered_packs=[packs[1].pk]).status_code == 302
    assert list(classroom.offered_packs.all()) == [packs[1]]
    assert post_settings(client, classroom, offered_packs=[hidden.pk]).status_code == 400


@override_settings(LAB_MAX_ACTIVE_RUNS=2)
def test_the_limit_never_exceeds_the_site_maximum(classroom, student):
    classroom.max_active_runs = 3
    classroom.save()
    assert run_policy_for(student, classroom).max_active_runs == 2
    assert run_policy_for(student, None).max_active_runs == 2


def test_policy_refuses_a_stranger(classroom, outsider):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run_policy_for(outsider, classroom)


def test_no_packs_ticked_means_every_enabled_pack(classroom, student, packs):
    packs[1].enabled = False
    packs[1].save()
    assert list(run_policy_for(student, classroom).offered_packs) == [packs[0]]


def test_the_student_page_shows_the_rules(client, classroom, student, packs):
    classroom.default_config = {"seed": 3}
    classroom.locked_fields = ["seed"]
    classroom.save()
    client.force_login(student)
    body = client.get(reverse("classrooms:detail", args=[classroom.pk])).content.decode()
    assert "seed 3" in body and "up to <strong>3</strong>" in body
    assert f"?classroom={classroom.pk}" in body


def test_a_classroom_description_is_bounded(client, instructor):

    client.force_login(instructor)
    response = client.post(reverse("classrooms:new"), {"name": "Big", "description": "x" * 2_001})
    assert response.status_code == 400
    assert "at most 2000 characters (it has 2001)" in response.content.decode()
    assert not Classroom.objects.exists()
    response = client.post(reverse("classrooms:new"), {"name": "Ok", "description": "x" * 2_000})
    assert response.status_code == 302
