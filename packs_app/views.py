from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from common import funnel
from common.classroom_hooks import classrooms
from packs_app.forms import ShareForm, UploadForm
from packs_app.models import Upload
from packs_app.recheck import share_refusal
from packs_app.uploads import declared_too_large, limit_upload_size
from packs_app.validation import clean_file_name, size_limit_text


def upload_page_context(request, form, selected_id=None):
    user = request.user
    selected = None
    if selected_id:
        selected = Upload.objects.visible_to(user).filter(id=selected_id).first()
    mine = classrooms().of_user(user)
    return {
        "form": form,
        "uploads": user.uploads.prefetch_related("shared_with"),
        "shared_uploads": Upload.objects.visible_to(user).exclude(owners=user),
        "selected": selected,
        "selected_is_mine": selected is not None and selected.owners.filter(id=user.id).exists(),
        "share_form": ShareForm(classrooms=mine),
        "has_classrooms": bool(mine),
        "size_limit": size_limit_text(),
    }


# The CSRF check reads the body, so it runs after the size limit is in place (csrf_protect
# below); this is the pattern Django documents for changing upload handlers in a view.
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    if request.method == "POST":
        if declared_too_large(request):
            form = UploadForm(too_large=True, data={}, files={})
            return render(
                request, "packs_app/upload.html", upload_page_context(request, form), status=413
            )
        limit_upload_size(request)
    return upload_form(request)


@csrf_protect
def upload_form(request):
    if request.method == "GET":
        context = upload_page_context(request, UploadForm(), request.GET.get("upload"))
        return render(request, "packs_app/upload.html", context)
    data, files = request.POST, request.FILES  # parsed here, through the size limit
    form = UploadForm(data, files, too_large=getattr(request, "upload_too_large", False))
    if not form.is_valid():
        context = upload_page_context(request, form)
        return render(request, "packs_app/upload.html", context, status=form.status)
    name = clean_file_name(form.files["file"].name)
    upload, created = Upload.objects.store(form.cleaned_data["file"], request.user, name)
    funnel.record(request.user, funnel.UPLOADED_TEXT)
    if created:
        messages.success(request, f"Uploaded {name}.")
    else:  # only ever the student's own earlier upload
        messages.info(request, f"{name}: you uploaded this text before as {upload.title}.")
    return redirect(f"{reverse('packs:upload')}?upload={upload.id}#summary")


def owned_upload(request, upload_id):
    return get_object_or_404(request.user.uploads, id=upload_id)


@login_required
@require_POST
def share(request, upload_id):
    upload = owned_upload(request, upload_id)
    form = ShareForm(request.POST, classrooms=classrooms().of_user(request.user))
    if form.is_valid():
        classroom = form.cleaned_data["classroom"]
        refusal = share_refusal(upload, classroom)
        if refusal:
            messages.error(request, f"Not shared with {classroom.name}: {refusal}")
            return redirect(f"{reverse('packs:upload')}?upload={upload.id}#summary")
        upload.shared_with.add(classroom)
        messages.success(request, f"Shared with {classroom.name}.")
    else:
        messages.error(request, "Choose one of your classrooms to share with.")
    return redirect(f"{reverse('packs:upload')}?upload={upload.id}#summary")


@login_required
@require_POST
def unshare(request, upload_id, classroom_id):
    upload = owned_upload(request, upload_id)
    classroom = get_object_or_404(classrooms().of_user(request.user), id=classroom_id)
    upload.shared_with.remove(classroom)
    messages.success(request, f"No longer shared with {classroom.name}.")
    return redirect(f"{reverse('packs:upload')}?upload={upload.id}#summary")


@login_required
@require_POST
def remove(request, upload_id):
    upload = owned_upload(request, upload_id)
    upload.remove_owner(request.user)
    messages.success(request, f"Removed {upload.title} from your uploads.")
    return redirect("packs:upload")
