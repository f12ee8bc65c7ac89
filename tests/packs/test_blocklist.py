import pytest
from django.core.exceptions import ValidationError

from packs_app.builtin import BUILTIN_PACKS
from packs_app.models import BlocklistEntry, Upload
from packs_app.validation import UploadRejected, check_text
from tests.packs.conftest import post_file

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/packs_app/blocklistentry/add/"


def test_starting_set_covers_three_categories():
    categories = set(BlocklistEntry.objects.values_list("category", flat=True))
    assert categories == {"secrets", "injection", "destructive"}
    for category in categories:
        assert BlocklistEntry.objects.filter(category=category, enabled=True).count() >= 3
    for entry in BlocklistEntry.objects.all():
        entry.full_clean()  # every shipped pattern is valid


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "secrets"),
        ("-----BEGIN PRIVATE KEY-----", "secrets"),
        ("aws AKIAIOSFODNN7EXAMPLE", "secrets"),
        ("token ghp_" + "a" * 36, "secrets"),
        ("OPENAI sk-proj-abcdefghijklmnopqrstuvwx", "secrets"),
        ('api_key = "abcd1234efgh5678"', "secrets"),
        ("<ScRiPt src=x>", "injection"),
        ("<a href='JAVASCRIPT:alert(1)'>", "injection"),
        ('<img src=x onerror="boom()">', "injection"),
        ("<iframe src=evil>", "injection"),
        ("sudo rm -rf /", "destructive"),
        ("rm -fr ~", "destructive"),
        ("Drop   Database lab;", "destructive"),
        ("mkfs.ext4 /dev/sda1", "destructive"),
        ("dd if=/dev/zero of=/dev/sda", "destructive"),
        (":(){ :|:& };:", "destructive"),
        # the bypasses of issue 11: normalised, then the markup rules
        ("<scr\u200bipt>alert(1)</scr\u200bipt>", "injection"),  # a zero-width space
        ("<details open ontoggle=alert(1)>", "injection"),
        ("<svg><animate onbegin=alert(1) attributeName=x>", "injection"),
        ("<a href='java&#x09;script:alert(1)'>x</a>", "injection"),
        ("<a href='java\tscript:alert(1)'>x</a>", "injection"),
        ("<a href='&#106;avascript:alert(1)'>x</a>", "injection"),
        ("</script><b>", "injection"),
        ("<\uff53\uff43\uff52\uff49\uff50\uff54>", "injection"),  # fullwidth letters
        ("<sc\u202eript>", "injection"),  # a bidirectional override
        ("&lt;script&gt;", "injection"),
    ],
)
def test_starting_set_blocks(text, category):
    entry, line = BlocklistEntry.objects.first_match(text)
    assert entry.category == category and line == 0
    with pytest.raises(UploadRejected) as rejected:
        check_text(f"line one\n{text}\nline three")
    assert entry.get_category_display() in rejected.value.message
    assert text.strip() not in rejected.value.message


@pytest.mark.parametrize(
    "text",
    [
        "the script of the play",
        "I dropped the database course",
        "rm notes.txt",
        "javascript is a language",
        "skeleton key",
        "the password is long",
    ],
)
def test_ordinary_text_passes(text):
    assert check_text(text) == text


@pytest.mark.parametrize("slug", list(BUILTIN_PACKS))
def test_builtin_packs_pass_the_upload_rules(slug):
    text = BUILTIN_PACKS[slug].text()
    assert check_text(text) == text.rstrip("\n")


def test_phrase_is_case_insensitive_and_literal():
    entry = BlocklistEntry.objects.create(category="secrets", pattern="Open.Sesame")
    assert entry.matches("say OPEN.SESAME now")
    assert not entry.matches("say openXsesame now")  # a phrase, not a regex


@pytest.mark.parametrize(
    "text", ["Banana   Split", "banana\tsplit", "a BANANA \t SPLIT b", "banana\u00a0split"]
)
def test_phrase_matches_any_run_of_spaces_between_words(text):
    BlocklistEntry.objects.create(pattern="banana split")
    with pytest.raises(UploadRejected, match="Line 2 contains a blocked term"):
        check_text(f"fine\n{text}")


@pytest.mark.parametrize("text", ["bananasplit", "banana\nsplit", "banana-split"])
def test_phrase_words_stay_words_on_one_line(text):
    BlocklistEntry.objects.create(pattern="banana split")
    assert check_text(text) == text


def test_an_instructors_own_term_names_no_category():
    entry = BlocklistEntry.objects.create(pattern="Banana split", note="class in-joke")
    assert entry.category == BlocklistEntry.Category.OTHER  # the default
    with pytest.raises(UploadRejected) as rejected:
        check_text("one\ntwo\nthree banana split")
    message = rejected.value.message
    assert message == "Line 3 contains a blocked term. Remove it and try again."
    for category in BlocklistEntry.Category:
        assert category.label not in message


def test_the_line_number_is_the_files_not_the_preprocessed_texts():
    # empty lines are dropped by preprocessing; the student counts them in their editor
    with pytest.raises(UploadRejected) as rejected:
        check_text("one\r\n\n  \ntwo\n\nrun: rm -rf / now\nthree")
    assert rejected.value.message == (
        "Line 6 contains blocked content (destructive commands). Remove it and try again."
    )


def test_disabled_entries_are_ignored():
    BlocklistEntry.objects.update(enabled=False)
    assert check_text("<script>") == "<script>"


def test_a_broken_stored_regex_never_crashes_an_upload(client, student):
    BlocklistEntry.objects.create(category="secrets", pattern="([unclosed", is_regex=True)
    client.force_login(student)
    assert post_file(client, "fine text\n").status_code == 302


def test_model_validation_rejects_bad_regex():
    entry = BlocklistEntry(category="secrets", pattern="([unclosed", is_regex=True)
    with pytest.raises(ValidationError) as error:
        entry.full_clean()
    assert "Not a valid regular expression" in str(error.value.message_dict["pattern"])
    entry = BlocklistEntry(category="secrets", pattern="a*", is_regex=True)
    with pytest.raises(ValidationError, match="matches empty text"):
        entry.full_clean()


def test_blocklist_admin_round_trip(client, admin_user, student):
    client.force_login(admin_user)  # a site-wide term: an administrator's
    assert client.get("/admin/packs_app/blocklistentry/").status_code == 200
    data = {"category": "destructive", "pattern": "shutdown -h now", "enabled": "on"}
    response = client.post(ADD_URL, {**data, "note": "turns the lab off"})
    assert response.status_code == 302
    entry = BlocklistEntry.objects.get(pattern="shutdown -h now")
    assert entry.category == "destructive" and not entry.is_regex

    # a bad regular expression is a form error, never stored
    response = client.post(ADD_URL, {**data, "pattern": "(oops", "is_regex": "on"})
    assert response.status_code == 200
    assert "Not a valid regular expression" in response.content.decode()
    assert not BlocklistEntry.objects.filter(pattern="(oops").exists()

    # the new entry blocks uploads, by category and line
    student_client = type(client)()
    student_client.force_login(student)
    response = post_file(student_client, "first\nthen SHUTDOWN  -H NOW\n")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Line 2 contains blocked content (destructive commands)" in html
    assert not Upload.objects.exists()

    # disabled in the admin: allowed again
    change = f"/admin/packs_app/blocklistentry/{entry.id}/change/"
    response = client.post(change, {**data, "enabled": ""})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert not entry.enabled
    assert post_file(student_client, "then SHUTDOWN -H NOW\n").status_code == 302

    response = client.post(f"/admin/packs_app/blocklistentry/{entry.id}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not BlocklistEntry.objects.filter(id=entry.id).exists()


def test_blocklist_admin_offers_a_term_without_a_category(client, admin_user, student):
    """A custom term is filed as "other" unless the administrator picks a category, and
    students are then told of a blocked term, not of a category nobody chose."""
    client.force_login(admin_user)
    html = client.get(ADD_URL).content.decode()
    assert '<option value="other" selected>' in html
    data = {"category": "other", "pattern": "banana split", "enabled": "on"}
    assert client.post(ADD_URL, data).status_code == 302
    student_client = type(client)()
    student_client.force_login(student)
    response = post_file(student_client, "Banana   Split\n")
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "Line 1 contains a blocked term. Remove it and try again."
    ]


@pytest.mark.parametrize("who", ["student", "outsider"])
def test_students_cannot_manage_the_blocklist(client, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get("/admin/packs_app/blocklistentry/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.post(ADD_URL, {"category": "secrets", "pattern": "x", "enabled": "on"})
    assert not BlocklistEntry.objects.filter(pattern="x").exists()
