import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classrooms.models import Classroom, Membership


def post_file(client, content, name="names.txt"):
    if isinstance(content, str):
        content = content.encode("utf-8")
    upload = SimpleUploadedFile(name, content, content_type="text/plain")
    return client.post(reverse("packs:upload"), {"file": upload})


@pytest.fixture
def classroom(instructor, student, classmate):
    """The instructor's classroom with student and classmate (outsider is not in it)."""
    room = Classroom.objects.create(name="Period 3", instructor=instructor)
    Membership.objects.create(classroom=room, student=student)
    Membership.objects.create(classroom=room, student=classmate)
    return room
