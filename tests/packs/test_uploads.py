"""The upload page: every rule posts a bad file through the real view and checks the
message, the status and that nothing was stored."""

import hashlib

import pytest
from django.urls import reverse

from classrooms.models import Classroom
from packs_app.models import Upload
from packs_app.uploads import SizeLimitUploadHandler
from tests.packs.conftest import post_file

pytestmark = pytest.mark.django_db
URL = "/packs/upload/"
NAMES = "ada\nalan\r\ngrace   \n\n\nlinus\n"


def page(response):
    return response.content.decode()


def test_url_name():
    assert reverse("packs:upload") == URL


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = post_file(client, NAMES)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Upload.objects.exists()


def test_empty_state(client, student):
    client.force_login(student)
    response = client.get(URL)
    assert response.status_code == 200
    html = page(response)
    assert "No uploads yet" in html
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html
    assert "upload.js" in html and "packs.css" in html


def test_successful_upload_shows_counts_preview_and_train_link(client, student):
    client.force_login(student)
    response = post_file(client, NAMES)
    upload = Upload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?upload={upload.id}#summary"
    assert upload.text == "ada\nalan\ngrace\nlinus"  # newlines, trailing spaces, empty lines
    digest = hashlib.sha256(f"{student.pk}\n{upload.text}".encode()).hexdigest()[:20]
    assert upload.id == digest
    assert list(upload.owners.all()) == [student] and upload.created_by == student
    assert upload.name == "names.txt"
    html = page(client.get(response["Location"]))
    assert '<dd id="stat-documents">4</dd>' in html
    assert f'<dd id="stat-characters">{len(upload.text)}</dd>' in html
    assert f'<dd id="stat-unique">{len(set(upload.text))}</dd>' in html
    assert "grace\nlinus" in html  # the preview
    assert f'href="/runs/new/?pack=upload:{upload.id}"' in html and "Train on this" in html
    assert "Uploaded names.txt." in html
    assert "No uploads yet" not in html


def test_the_list_shows_only_my_uploads(client, student, classmate):
    client.force_login(classmate)
    post_file(client, "classmate text\n", name="theirs.txt")
    client.get(URL)  # shows (and clears) the success message
    client.force_login(student)
    post_file(client, "my text\n", name="mine.txt")
    html = page(client.get(URL))
    assert "mine.txt" in html and "theirs.txt" not in html


def test_same_text_twice_from_one_student_is_one_copy(client, student):
    client.force_login(student)
    post_file(client, NAMES)
    response = post_file(client, NAMES.replace("\n", "\r\n"), name="again.txt")
    upload = Upload.objects.get()  # same after preprocessing
    assert response["Location"].startswith(f"{URL}?upload={upload.id}")
    assert "you uploaded this text before as names.txt" in page(client.get(response["Location"]))


@pytest.mark.services
def test_the_same_text_from_a_stranger_reveals_nothing(client, student, classmate, instructor):
    """De-duplication is invisible across users: the second uploader gets their own upload,
    name and sharing, and nothing about the first."""
    from classrooms.models import Classroom

    classroom = Classroom.objects.create(name="Secret Club", instructor=instructor)
    classroom.join(student)
    client.force_login(student)
    client.get(post_file(client, NAMES, name="A_private_notes.txt")["Location"])  # its message
    first = Upload.objects.get()
    first.shared_with.add(classroom)
    client.force_login(classmate)
    response = post_file(client, NAMES, name="mine.txt")
    html = page(client.get(response["Location"]))
    theirs = Upload.objects.exclude(pk=first.pk).get()
    assert list(theirs.owners.all()) == [classmate] and theirs.name == "mine.txt"
    assert theirs.id != first.id and not theirs.shared_with.exists()
    assert "Uploaded mine.txt." in html and "before" not in html
    for leak in ("A_private_notes", "Secret Club", first.id):
        assert leak not in html, leak
    assert list(first.owners.all()) == [student] and first.name == "A_private_notes.txt"


@pytest.mark.services
def test_a_bidi_override_in_a_file_name_is_neutralised(client, student):
    client.force_login(student)
    response = post_file(client, NAMES, name="invoice\u202efdp.txt")
    assert Upload.objects.get().name == "invoicefdp.txt"
    assert "\u202e" not in page(client.get(response["Location"]))


@pytest.mark.services
def test_a_nul_byte_in_the_file_is_a_400_with_the_line(client, student):
    client.force_login(student)
    response = post_file(client, b"ok line\nbad\x00line\n")
    assert response.status_code == 400
    assert "Line 2 contains a NUL character" in page(response)
    assert not Upload.objects.exists()


def test_a_utf8_bom_is_dropped(client, student):
    client.force_login(student)
    post_file(client, b"\xef\xbb\xbfhello\nworld\n")
    assert Upload.objects.get().text == "hello\nworld"


def test_upload_accepts_upper_case_extension_and_unicode(client, student):
    client.force_login(student)
    response = post_file(client, "naïve café\nZürich\n", name="CITIES.TXT")
    assert response.status_code == 302
    assert Upload.objects.get().text == "naïve café\nZürich"


def rejected(client, user, content, name="names.txt"):
    client.force_login(user)
    response = post_file(client, content, name)
    assert not Upload.objects.exists(), "nothing may be stored on a refusal"
    return response.status_code, page(response)


@pytest.mark.parametrize("name", ["names.csv", "names.txt.exe", "names", "names.md"])
def test_only_txt_files(client, student, name):
    status, html = rejected(client, student, NAMES, name)
    assert status == 400 and "Only .txt files can be uploaded." in html


def test_too_large_declared_length_refused_before_parsing(client, student):
    status, html = rejected(client, student, b"a\n" * 150_000)  # 300 KB
    assert status == 413 and "larger than 200 KB" in html


def test_too_large_stopped_by_the_upload_handler(client, student):
    # Just over the limit: the Content-Length check lets it through, the handler stops it.
    status, html = rejected(client, student, b"a" * (200 * 1024 + 100))
    assert status == 413 and "larger than 200 KB" in html


def test_exactly_at_the_size_limit_is_fine(client, student):
    client.force_login(student)
    content = (b"abc" + b" " * 96 + b"\n") * 2048  # 204,800 bytes; 8,191 characters kept
    assert len(content) == 200 * 1024
    response = post_file(client, content)
    assert response.status_code == 302 and Upload.objects.count() == 1


def test_size_handler_stops_reading_past_the_limit(rf):
    request = rf.post("/")
    handler = SizeLimitUploadHandler(request)
    handler.new_file("file", "a.txt", "text/plain", 10**6)
    assert handler.receive_data_chunk(b"x" * 200 * 1024, 0) is not None
    from django.core.files.uploadhandler import StopUpload

    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x", 200 * 1024)
    assert request.upload_too_large


def test_not_utf8(client, student):
    status, html = rejected(client, student, "café\n".encode("latin-1"))
    assert status == 400 and "not UTF-8 text" in html


def test_too_many_unique_characters(client, student):
    text = "".join(chr(0x100 + i) for i in range(300))
    status, html = rejected(client, student, text)
    assert status == 400 and "uses 300 different characters; the limit is 256" in html


@pytest.mark.services
def test_one_size_rule_exactly_at_the_limit_is_accepted(client, student):
    """204,800 bytes is "at most 200 KB": no second rule in characters refuses it."""
    text = "abcdefghi\n" * 20_480  # 204,800 bytes
    assert len(text.encode()) == 204_800
    status, html = rejected(client, student, text + "x")
    assert status == 413 and "larger than 200 KB (204,800 bytes)" in html
    assert post_file(client, text).status_code == 302


def test_preprocessing_counts_not_raw_size(client, student):
    # trailing spaces and empty lines go before the size is checked again
    client.force_login(student)
    response = post_file(client, "abc" + " " * 96 + "\n\n" + "abc\n" * 100)
    assert response.status_code == 302


@pytest.mark.parametrize("content", [b"", b"\n\n\n", b"   \n\t\n", b"\xef\xbb\xbf\r\n"])
def test_at_least_one_document(client, student, content):
    status, html = rejected(client, student, content)
    assert status == 400 and "no documents" in html


def test_missing_file(client, student):
    client.force_login(student)
    response = client.post(URL, {})
    assert response.status_code == 400 and "This field is required." in page(response)
    assert not Upload.objects.exists()


@pytest.mark.parametrize(
    ("content", "category"),
    [
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n", "secrets such as keys and tokens"),
        ("key AKIAIOSFODNN7EXAMPLE here\n", "secrets such as keys and tokens"),
        ("hello <SCRIPT>alert(1)</script>\n", "script or markup injection"),
        ("now RM -RF / please\n", "destructive commands"),
        ("drop database school;\n", "destructive commands"),
    ],
)
def test_blocklisted_content_names_the_category_not_the_text(client, student, content, category):
    status, html = rejected(client, student, content)
    assert status == 400
    assert f"blocked content ({category})" in html
    for secret in ("AKIAIOSFODNN7EXAMPLE", "alert(1)", "RM -RF", "PRIVATE KEY", "drop database"):
        assert secret not in html


def test_outsider_cannot_see_someone_elses_upload(client, student, outsider):
    client.force_login(student)
    post_file(client, "a private poem\n")
    upload = Upload.objects.get()
    client.force_login(outsider)
    html = page(client.get(f"{URL}?upload={upload.id}"))
    assert "a private poem" not in html and "Train on this" not in html


def test_share_with_my_classroom(client, student, classmate, outsider, classroom):
    client.force_login(student)
    post_file(client, "shared lines\n")
    upload = Upload.objects.get()
    response = client.post(reverse("packs:share", args=[upload.id]), {"classroom": classroom.id})
    assert response.status_code == 302
    assert list(upload.shared_with.all()) == [classroom]
    client.force_login(classmate)
    html = page(client.get(URL))
    assert "Shared with your classrooms" in html and upload.title in html
    assert "shared lines" in page(client.get(f"{URL}?upload={upload.id}"))
    client.force_login(outsider)
    assert "shared lines" not in page(client.get(f"{URL}?upload={upload.id}"))


def test_cannot_share_with_a_classroom_i_am_not_in(client, student, outsider, make_user):
    other = Classroom.objects.create(name="Other", instructor=make_user("teacher2"))
    client.force_login(student)
    post_file(client, "lines\n")
    upload = Upload.objects.get()
    client.post(reverse("packs:share", args=[upload.id]), {"classroom": other.id})
    assert not upload.shared_with.exists()


def test_only_owners_share_unshare_or_remove(client, student, classmate, classroom):
    client.force_login(student)
    post_file(client, "lines\n")
    upload = Upload.objects.get()
    upload.shared_with.add(classroom)
    client.force_login(classmate)
    assert client.post(reverse("packs:share", args=[upload.id]), {}).status_code == 404
    url = reverse("packs:unshare", args=[upload.id, classroom.id])
    assert client.post(url).status_code == 404
    assert client.post(reverse("packs:remove", args=[upload.id])).status_code == 404
    assert Upload.objects.filter(id=upload.id, shared_with=classroom).exists()
    client.force_login(student)
    assert client.post(url).status_code == 302
    assert not upload.shared_with.exists()


def test_remove_keeps_the_copy_of_another_owner(client, student, classmate):
    for user in (student, classmate):
        client.force_login(user)
        post_file(client, "same\n")
    theirs = classmate.uploads.get()
    client.post(reverse("packs:remove", args=[theirs.id]))  # classmate
    assert list(Upload.objects.all()) == [student.uploads.get()]
    client.force_login(student)
    client.post(reverse("packs:remove", args=[student.uploads.get().id]))
    assert not Upload.objects.exists()


def test_share_and_remove_need_post_and_login(client, student):
    client.force_login(student)
    post_file(client, "lines\n")
    upload = Upload.objects.get()
    assert client.get(reverse("packs:remove", args=[upload.id])).status_code == 405
    client.logout()
    response = client.post(reverse("packs:remove", args=[upload.id]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Upload.objects.exists()


def test_csrf_is_enforced_on_upload(student):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(student)
    response = post_file(client, NAMES)
    assert response.status_code == 403 and not Upload.objects.exists()


def test_too_large_with_csrf_enforced_still_says_413(student):
    """The CSRF check runs after the size limit: the token (sent before the file, as
    browsers do) is still read, and the oversized file is refused with 413, not 403."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(student)
    client.get(URL)
    token = client.cookies["csrftoken"].value
    big = SimpleUploadedFile("big.txt", b"a" * (200 * 1024 + 100), "text/plain")
    response = client.post(URL, {"csrfmiddlewaretoken": token, "file": big})
    assert response.status_code == 413 and "larger than 200 KB" in page(response)
    assert not Upload.objects.exists()
    ok = SimpleUploadedFile("ok.txt", b"fine\n", "text/plain")
    assert client.post(URL, {"csrfmiddlewaretoken": token, "file": ok}).status_code == 302


def test_rows_shared_by_several_owners_are_split(student, classmate):
    """packs_app migration 0005: each later owner gets their own copy, and their runs."""
    import importlib

    from django.apps import apps

    from packs_app.sources import resolve_source
    from runs.models import Run
    from tests.runs.conftest import TINY

    split = importlib.import_module("packs_app.migrations.0005_upload_one_copy_per_owner")
    shared = Upload.objects.create(id="legacy", text="ab\nba", name="first.txt", created_by=student)
    shared.owners.add(student, classmate)
    run = Run.objects.start(classmate, resolve_source(shared.ref, classmate), TINY)
    split.split_shared_rows(apps, None)
    assert list(shared.owners.all()) == [student]
    theirs = classmate.uploads.get()
    assert theirs.text == shared.text and theirs.name == "" and theirs.pk != shared.pk
    assert Run.objects.get(pk=run.pk).upload_id == theirs.pk
