from django import forms
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from packs_app.models import Pack
from runs import showcase
from runs.models import Run


def home(request):
    """The packs, each card opening its showcase run (anyone may explore one), and the
    student's recent runs."""
    recent_runs = []
    if request.user.is_authenticated:
        recent_runs = Run.objects.filter(owner=request.user).select_related("pack")[:5]
    packs = list(Pack.objects.offered().filter(builtin=True))
    showcases = showcase.for_packs(packs)
    for pack in packs:
        pack.showcase = showcases.get(pack.pk)
    return render(request, "home.html", {"packs": packs, "recent_runs": recent_runs})


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=False,
        max_length=254,
        label="E-mail (optional)",
        help_text="Only to reset your password if you forget it.",
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


def next_url(request):
    """Where to go after signing up or logging in (`next`, e.g. a classroom's join link),
    when it is a page of this site; else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else ""


@require_http_methods(["GET", "POST"])
def signup(request):
    """A new account; then on to `next` (a join link survives signing up)."""
    target = next_url(request)
    if request.user.is_authenticated:
        return redirect(target or "home")
    form = SignupForm(request.POST or None)
    context = {"form": form, "next": target}
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(target or "home")
        return render(request, "registration/signup.html", context, status=400)
    return render(request, "registration/signup.html", context)
