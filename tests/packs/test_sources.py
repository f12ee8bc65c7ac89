import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command

from engine import Trainer
from packs_app.builtin import BUILTIN_PACKS
from packs_app.models import Pack, Upload
from packs_app.sources import Source, SourceError, fitting_block_size, resolve_source
from runs.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def packs():
    call_command("load_packs")


@pytest.fixture
def upload(student):
    upload, _ = Upload.objects.store("ada\nalan\ngrace", student, "names.txt")
    return upload


def test_resolves_a_builtin_pack(packs, student):
    source = resolve_source("chess_pgn", student)
    spec = BUILTIN_PACKS["chess_pgn"]
    assert isinstance(source, Source)
    assert source.ref == "chess_pgn" and source.title == spec.title
    assert source.documents == spec.lines()
    assert source.adherence_pattern == spec.adherence_pattern
    assert source.recommended_config == spec.recommended_config
    assert source.pack == Pack.objects.get(slug="chess_pgn") and source.upload is None


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nope", "There is no pack “nope”."),
        ("", "Choose a pack or one of your uploads."),
        ("upload:", "No upload upload: that you can use"),
        ("upload:deadbeef", "No upload upload:deadbeef that you can use"),
    ],
)
def test_unknown_refs(packs, student, ref, message):
    with pytest.raises(SourceError, match=message):
        resolve_source(ref, student)


def test_source_error_is_a_value_error():
    assert issubclass(SourceError, ValueError)


def test_disabled_pack_is_refused(packs, student):
    Pack.objects.filter(slug="json").update(enabled=False)
    with pytest.raises(SourceError, match="disabled"):
        resolve_source("json", student)
    assert resolve_source("json", student, include_disabled=True).pack.slug == "json"


def test_custom_pack_without_config_gets_defaults(student):
    Pack.objects.create(slug="haiku", title="Haiku", teaches="-", text="a b c\nd e f")
    source = resolve_source("haiku", student)
    assert source.recommended_config["num_steps"] > 0 and source.documents == ["a b c", "d e f"]


def test_owner_resolves_own_upload(student, upload):
    source = resolve_source(f"upload:{upload.id}", student)
    assert source.ref == f"upload:{upload.id}" and source.upload == upload and source.pack is None
    assert source.documents == ["ada", "alan", "grace"]
    assert source.adherence_pattern == "" and source.title == "names.txt"
    assert source.recommended_config["block_size"] == 16


@pytest.mark.parametrize("who", ["classmate", "outsider", "instructor", "anonymous"])
def test_others_cannot_resolve_a_private_upload(request, upload, who):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    with pytest.raises(SourceError, match="not yours or not shared"):
        resolve_source(f"upload:{upload.id}", user)


def test_shared_upload_is_visible_to_the_classroom(
    upload, classroom, classmate, instructor, outsider
):
    upload.shared_with.add(classroom)
    for user in (classmate, instructor):
        assert resolve_source(upload.ref, user).upload == upload
    with pytest.raises(SourceError):
        resolve_source(upload.ref, outsider)


def test_superuser_resolves_any_upload(upload, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x")
    assert resolve_source(upload.ref, admin).upload == upload


def test_fitting_block_size():
    assert fitting_block_size(["a" * 15]) == 16
    assert fitting_block_size(["a" * 16]) == 24
    assert fitting_block_size(["a" * 500]) == 64


def test_an_upload_used_as_a_runs_pack(student, upload):
    source = resolve_source(upload.ref, student)
    config = {**source.recommended_config, "num_steps": 5}
    run = Run.objects.start(student, source, config)
    run.refresh_from_db()
    assert run.upload == upload and run.pack is None and run.owner == student
    assert Run.objects.visible_to(student).filter(id=run.id).exists()
    trainer = Trainer(source.documents, **config)
    losses = [record.loss for record in trainer]
    assert len(losses) == 5
