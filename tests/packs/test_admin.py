import pytest
from django.core.management import call_command
from django.http import HttpRequest

from packs_app.models import BlocklistEntry, Pack, Upload
from packs_app.sources import DEFAULT_CONFIG, resolve_source
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
PACKS = "/admin/packs_app/pack/"
UPLOADS = "/admin/packs_app/upload/"
BLOCKLIST = "/admin/packs_app/blocklistentry/"

HAIKU = "old pond   \r\nfrog leaps in\r\n\r\nwater sound\n"


def pack_form(**changes):
    data = {
        "title": "Haiku lines",
        "slug": "haiku",
        "teaches": "Short lines of lowercase words.",
        "text": HAIKU,
        "adherence_pattern": "[a-z ]+",
        "recommended_config": "",
        "enabled": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def admin_client(client, instructor):
    assert client.login(request=HttpRequest(), username=instructor.username, password=PASSWORD)
    return client


def errors_of(response):
    assert response.status_code == 200, "the form should come back with errors"
    return response.context["adminform"].form.errors


def test_custom_pack_admin_round_trip(admin_client, instructor, student):
    assert admin_client.get(f"{PACKS}add/").status_code == 200
    response = admin_client.post(f"{PACKS}add/", pack_form())
    assert response.status_code == 302, errors_of(response)
    pack = Pack.objects.get(slug="haiku")
    assert pack.text == "old pond\nfrog leaps in\nwater sound"  # preprocessed like an upload
    assert not pack.builtin and pack.enabled and pack.created_by == instructor
    assert pack.recommended_config == DEFAULT_CONFIG
    assert resolve_source("haiku", student).documents == [
        "old pond",
        "frog leaps in",
        "water sound",
    ]

    change = f"{PACKS}{pack.id}/change/"
    response = admin_client.post(change, pack_form(title="Haiku", enabled=None))
    assert response.status_code == 302, errors_of(response)
    pack.refresh_from_db()
    assert pack.title == "Haiku" and not pack.enabled
    assert pack not in Pack.objects.offered()

    response = admin_client.post(f"{PACKS}{pack.id}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Pack.objects.filter(id=pack.id).exists()


def test_a_custom_pack_names_its_probe_line(admin_client, student):
    form = pack_form(adherence_pattern="", probe_line="old frog", probe_focus="4")
    response = admin_client.post(f"{PACKS}add/", form)
    assert response.status_code == 302, errors_of(response)
    source = resolve_source("haiku", student)
    assert (source.probe_line, source.probe_focus) == ("old frog", 4)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"adherence_pattern": "[a-z"}, "adherence_pattern", "Not a valid regular expression"),
        ({"adherence_pattern": "[a-z]+"}, "adherence_pattern", "line 1"),  # spaces in lines
        ({"text": "ok line\n<script>x</script>"}, "text", "script or markup injection"),
        ({"text": "\n \n"}, "text", "This field is required."),
        ({"text": "".join(chr(0x400 + i) for i in range(300))}, "text", "different characters"),
        ({"text": "ab\n" * 70_000}, "text", "larger than 200 KB (204,800 bytes)"),
        ({"recommended_config": '{"n_embd": 100}'}, "recommended_config", "n_embd must be"),
        ({"recommended_config": '{"colour": 1}'}, "recommended_config", "unknown setting"),
        ({"recommended_config": '{"n_embd": 30, "n_head": 4}'}, "recommended_config", "divide"),
        ({"recommended_config": "[1, 2]"}, "recommended_config", "JSON object"),
        ({"probe_line": "old frog!"}, "probe_line", "characters the text does not: '!'"),
        ({"probe_focus": "2"}, "probe_focus", "Give a probe line first"),
        ({"probe_line": "old frog", "probe_focus": "9"}, "probe_focus", "0 to 8"),
    ],
)
def test_invalid_custom_pack_is_a_form_error(admin_client, changes, field, message):
    if field != "adherence_pattern":
        changes = {"adherence_pattern": "", **changes}
    response = admin_client.post(f"{PACKS}add/", pack_form(**changes))
    errors = errors_of(response)
    assert message in " ".join(errors[field])
    assert not Pack.objects.filter(slug="haiku").exists()


def test_builtin_packs_are_the_administrators(admin_client, client, admin_user):
    call_command("load_packs")
    pack = Pack.objects.get(slug="arithmetic")
    change = f"{PACKS}{pack.id}/change/"
    html = admin_client.get(change).content.decode()  # an instructor: view only
    assert 'name="text"' not in html and 'name="enabled"' not in html
    assert admin_client.post(change, {"recommended_config": "{}"}).status_code == 403
    ids = [pack.id]
    admin_client.post(PACKS, {"action": "disable", "_selected_action": ids})
    pack.refresh_from_db()
    assert pack.enabled  # another instructor's class keeps it
    client.force_login(admin_user)  # a site administrator
    html = client.get(change).content.decode()
    assert 'name="text"' not in html and 'name="enabled"' in html
    config = '{"num_steps": 300}'
    response = client.post(change, {"recommended_config": config, "text": "hacked"})
    assert response.status_code == 302
    pack.refresh_from_db()
    assert not pack.enabled and pack.recommended_config == {"num_steps": 300}
    assert pack.text.startswith("1+1=2")
    assert client.post(f"{PACKS}{pack.id}/delete/", {"post": "yes"}).status_code == 403
    assert Pack.objects.filter(id=pack.id).exists()


def test_enable_and_disable_actions(client, admin_user):
    call_command("load_packs")  # the six built-in packs, and the starter lessons' Leapfrog
    offered = Pack.objects.offered().count()
    client.force_login(admin_user)
    ids = list(Pack.objects.filter(slug__in=["json", "regex"]).values_list("id", flat=True))
    client.post(PACKS, {"action": "disable", "_selected_action": ids})
    assert Pack.objects.offered().count() == offered - 2
    client.post(PACKS, {"action": "enable", "_selected_action": ids})
    assert Pack.objects.offered().count() == offered


def test_pack_changelist(admin_client):
    call_command("load_packs")
    html = admin_client.get(PACKS).content.decode()
    assert "Chess openings" in html and "JSON records" in html
    html = admin_client.get(f"{PACKS}?q=chess").content.decode()
    assert "Chess openings" in html and "JSON records" not in html
    assert admin_client.get(f"{PACKS}?builtin__exact=1&enabled__exact=1").status_code == 200


def test_packs_are_listed_builtin_first_then_by_title(admin_client, instructor):
    call_command("load_packs")
    mine = {"teaches": "t", "text": "a", "created_by": instructor}
    Pack.objects.create(slug="zed", title="A custom pack", **mine)
    Pack.objects.create(slug="abc", title="Zebra lines", **mine)
    packs = list(admin_client.get(PACKS).context["cl"].result_list)
    builtin = [pack.title for pack in packs if pack.builtin]
    assert builtin == sorted(builtin) and len(builtin) == 6
    rest = [pack.title for pack in packs[6:]]  # with the starter lessons' Leapfrog letters
    assert rest == sorted(rest) and {"A custom pack", "Zebra lines"} <= set(rest)


@pytest.mark.parametrize("pattern", ["", "   "])
def test_a_blank_blocklist_pattern_is_one_error(admin_client, pattern):
    entries = BlocklistEntry.objects.count()  # the starting set
    data = {"category": "secrets", "pattern": pattern, "enabled": "on"}
    response = admin_client.post(f"{BLOCKLIST}add/", data)
    assert errors_of(response) == {"pattern": ["The pattern cannot be blank."]}
    assert BlocklistEntry.objects.count() == entries


def test_uploads_by_owner(admin_client, classroom, student, classmate):
    mine, _ = Upload.objects.store("student text", student, "mine.txt")
    theirs, _ = Upload.objects.store("classmate text", classmate, "theirs.txt")
    html = admin_client.get(UPLOADS).content.decode()
    assert "mine.txt" in html and "theirs.txt" in html
    html = admin_client.get(f"{UPLOADS}?owner={student.id}").content.decode()
    assert "mine.txt" in html and "theirs.txt" not in html
    html = admin_client.get(f"{UPLOADS}?q=classmate").content.decode()
    assert "theirs.txt" in html and "mine.txt" not in html
    assert admin_client.get(f"{UPLOADS}{mine.id}/change/").status_code == 200
    assert admin_client.get(f"{UPLOADS}add/").status_code == 403


@pytest.mark.parametrize("who", ["student", "outsider"])
def test_students_cannot_use_the_packs_admin(client, request, who):
    client.force_login(request.getfixturevalue(who))
    for url in (PACKS, f"{PACKS}add/", UPLOADS):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.post(f"{PACKS}add/", pack_form())
    assert not Pack.objects.filter(slug="haiku").exists()


def test_anonymous_cannot_use_the_packs_admin(client):
    response = client.get(PACKS)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_instructors_see_only_their_students_uploads(client, classroom, instructor, outsider):
    student = classroom.students.get(username="student")
    mine, _ = Upload.objects.store("student text", student, "mine.txt")
    private, _ = Upload.objects.store("outsider text", outsider, "private.txt")
    client.force_login(instructor)
    listed = {u.pk for u in client.get(UPLOADS).context["cl"].result_list}
    assert listed == {mine.pk}
    assert client.get(f"{UPLOADS}{private.id}/change/").status_code == 302  # not found: redirect
    # the owner filter offers the instructor's students, never everyone's names
    owners = dict(client.get(UPLOADS).context["cl"].filter_specs[0].lookup_choices)
    assert set(owners.values()) == {"student"}
