"""Who owns packs and blocked terms: built-in packs are the administrators'; a custom pack
is its instructor's and shared with other instructors only on purpose; a blocked term is
site-wide (administrators) or an instructor's own; two instructors are kept apart."""

import pytest

from classrooms.models import Classroom
from notices.models import Notice
from packs_app.models import BlocklistEntry, Pack, Upload
from packs_app.sources import SourceError, resolve_source
from runs.policy import run_policy_for
from tests.packs.conftest import post_file

pytestmark = pytest.mark.django_db
PACKS = "/admin/packs_app/pack/"
TERMS = "/admin/packs_app/blocklistentry/"


@pytest.fixture
def other_instructor(make_user):
    return make_user("other_instructor", instructor=True)


@pytest.fixture
def other_room(other_instructor, outsider):
    room = Classroom.objects.create(name="Room B", instructor=other_instructor)
    room.join(outsider)
    return room


@pytest.fixture
def packs(instructor, other_instructor):
    builtin = Pack.objects.create(
        slug="sums", title="Sums", teaches="t", text="1+1=2", builtin=True
    )
    mine = Pack.objects.create(
        slug="mine", title="Mine", teaches="t", text="a", created_by=instructor
    )
    theirs = Pack.objects.create(
        slug="theirs", title="Theirs", teaches="t", text="b", created_by=other_instructor
    )
    return builtin, mine, theirs


def test_each_classroom_offers_its_instructors_packs_only(
    classroom, other_room, student, outsider, packs, other_instructor
):
    builtin, mine, theirs = packs
    assert set(run_policy_for(student, classroom).offered_packs) == {builtin, mine}
    assert set(run_policy_for(outsider, other_room).offered_packs) == {builtin, theirs}
    theirs.shared_with.add(classroom.instructor)  # shared on purpose
    assert set(run_policy_for(student, classroom).offered_packs) == {builtin, mine, theirs}
    assert run_policy_for(student, classroom).errors(theirs) == {}
    theirs.shared_with.clear()
    assert "not offered in Period 3" in run_policy_for(student, classroom).errors(theirs)["pack"]


def test_the_admin_keeps_two_instructors_apart(client, instructor, other_instructor, packs):
    builtin, mine, theirs = packs
    client.force_login(instructor)
    listed = {p.slug for p in client.get(PACKS).context["cl"].result_list}
    assert listed == {"sums", "mine"}
    assert client.get(f"{PACKS}{theirs.pk}/change/").status_code == 302  # not theirs to see
    response = client.post(f"{PACKS}{theirs.pk}/change/", {"title": "hijacked"})
    theirs.refresh_from_db()
    assert response.status_code == 302 and theirs.title == "Theirs"
    assert client.post(f"{PACKS}{theirs.pk}/delete/", {"post": "yes"}).status_code == 302
    assert Pack.objects.filter(pk=theirs.pk).exists()
    # shared with them: visible, not changeable
    theirs.shared_with.add(instructor)
    html = client.get(f"{PACKS}{theirs.pk}/change/").content.decode()
    assert 'name="title"' not in html and "Theirs" in html
    assert client.post(f"{PACKS}{theirs.pk}/change/", {"title": "x"}).status_code == 403
    # their own: changeable, and the share list offers other instructors only
    form = client.get(f"{PACKS}{mine.pk}/change/").context["adminform"].form
    assert list(form.fields["shared_with"].queryset) == [other_instructor]


def test_an_instructors_term_covers_their_classrooms_only(
    client, instructor, other_instructor, classroom, other_room, student, outsider
):
    client.force_login(other_instructor)
    data = {"category": "other", "pattern": "banana split", "enabled": "on"}
    assert client.post(f"{TERMS}add/", data).status_code == 302
    term = BlocklistEntry.objects.get(pattern="banana split")
    assert term.owner == other_instructor
    client.force_login(instructor)  # the other instructor's term: not listed, not changeable
    assert term not in client.get(TERMS).context["cl"].result_list
    assert client.post(f"{TERMS}{term.pk}/delete/", {"post": "yes"}).status_code == 302
    assert BlocklistEntry.objects.filter(pk=term.pk).exists()
    # uploads are checked against site-wide terms only ...
    client.force_login(student)
    assert post_file(client, "a banana split\n").status_code == 302
    upload = Upload.objects.get()
    # ... and against an instructor's own when shared into their classroom
    client.force_login(outsider)
    upload.owners.add(outsider)
    response = client.post(f"/packs/upload/{upload.id}/share/", {"classroom": other_room.pk})
    assert not upload.shared_with.filter(pk=other_room.pk).exists()
    assert (
        "Not shared with Room B: Line 1 contains a blocked term"
        in client.get(response.url).content.decode()
    )
    client.force_login(student)  # the first instructor's classroom: no such term
    client.post(f"/packs/upload/{upload.id}/share/", {"classroom": classroom.pk})
    assert upload.shared_with.filter(pk=classroom.pk).exists()


def test_a_new_term_rechecks_stored_uploads(
    client, admin_user, instructor, classroom, student, classmate
):
    client.force_login(student)
    assert post_file(client, "hello\nthe secret is hunter2\n").status_code == 302
    upload = Upload.objects.get()
    upload.shared_with.add(classroom)
    assert resolve_source(upload.ref, classmate)  # a classmate may train on it
    # the instructor blocks a term of their own: unshared from their classroom, marked
    client.force_login(instructor)
    data = {"category": "other", "pattern": "hunter2", "enabled": "on"}
    response = client.post(f"{TERMS}add/", data, follow=True)
    assert "contain this term" in response.content.decode()
    upload.refresh_from_db()
    assert (
        not upload.shared_with.exists()
        and "Line 2 contains a blocked term" in upload.blocked_reason
    )
    (notice,) = Notice.objects.filter(user=student)
    assert upload.title in notice.text and "no longer shared with Period 3" in notice.text
    with pytest.raises(SourceError):
        resolve_source(upload.ref, classmate)
    # the owner's new run in that classroom is refused with the reason; elsewhere it may run
    policy = run_policy_for(student, classroom)
    assert "Line 2 contains a blocked term" in policy.errors(None, upload=upload)["pack"]
    assert resolve_source(upload.ref, student).upload == upload
    # a site-wide term refuses every new run on it
    client.force_login(admin_user)
    client.post(f"{TERMS}add/", {"category": "secrets", "pattern": "secret is", "enabled": "on"})
    upload.refresh_from_db()
    with pytest.raises(SourceError, match="cannot be trained on"):
        resolve_source(upload.ref, student)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_settings_page_offers_the_instructors_own_packs(
    client, instructor, classroom, packs, other_instructor
):
    builtin, mine, theirs = packs
    client.force_login(instructor)
    form = client.get(f"/classrooms/{classroom.pk}/edit/").context["rules"]
    assert set(form.fields["offered_packs"].queryset) == {builtin, mine}
    response = client.post(
        f"/classrooms/{classroom.pk}/edit/",
        {"about-name": "Period 3", "rules-offered_packs": [theirs.pk], "rules-max_active_runs": 3},
    )
    assert response.status_code == 400 and not classroom.offered_packs.exists()
