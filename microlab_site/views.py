from django import forms
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from packs_app.models import Pack
from runs.models import Run


def home(request):
    recent_runs = []
    if request.user.is_authenticated:
        recent_runs = Run.objects.filter(owner=request.user).select_related("pack")[:5]
    return render(
        request,
        "home.html",
        {"packs": Pack.objects.offered().filter(builtin=True), "recent_runs": recent_runs},
    )


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=False,
        max_length=254,
        label="E-mail (optional)",
        help_text="Only to reset your password if you forget it.",
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("home")
        return render(request, "registration/signup.html", {"form": form}, status=400)
    return render(request, "registration/signup.html", {"form": form})
