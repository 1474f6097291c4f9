"""The sign-in pages. After signing in, staff go to the console and customers to the
portal, unless a safe `?next=` (a path on this site) says where they were going."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse_lazy

from atiende.accounts.signin import forms
from atiende.accounts.signin.tokens import reset_tokens

CONSOLE = "/console/"
PORTAL = "/portal/"


class _Page:
    """What every sign-in page shows around its form (site name, classification)."""

    def get_context_data(self, **kwargs):
        from atiende.configuration import selectors
        from atiende.core import site

        context = super().get_context_data(**kwargs)
        context.setdefault("organization", site.get("organization.name") or "atiende")
        context.setdefault("classification", selectors.classification_label())
        return context


def landing_for(user) -> str:
    return PORTAL if getattr(user, "is_customer", False) else CONSOLE


class SignInView(_Page, auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = forms.SignInForm
    redirect_authenticated_user = False

    def get_default_redirect_url(self):
        return landing_for(self.request.user)


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("accounts:login")  # type: ignore[assignment]  # a lazy URL is fine


class PasswordChangeView(_Page, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = forms.PasswordChangeForm
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(_Page, auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(_Page, auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = forms.PasswordResetForm
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    token_generator = reset_tokens

    def form_valid(self, form):
        # The link names the public address when there is one, never the Host header a
        # client sent (which, without a public URL, no ALLOWED_HOSTS list checks).
        public = urlsplit(settings.PUBLIC_URL) if settings.PUBLIC_URL else None
        form.save(
            domain_override=public.netloc if public else None,
            use_https=public.scheme == "https" if public else self.request.is_secure(),
            token_generator=self.token_generator,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            extra_email_context={
                "site_name": self._site_name(),
                "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            },
        )
        return redirect(self.get_success_url())

    def _site_name(self) -> str:
        from atiende.core import site

        return site.get("organization.name") or "atiende"


class PasswordResetDoneView(_Page, auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"
    extra_context = {"minutes": settings.PASSWORD_RESET_TIMEOUT // 60}


class PasswordResetConfirmView(_Page, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = forms.SetPasswordForm
    token_generator = reset_tokens
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(_Page, auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def csrf_failure(request, reason: str = ""):
    """A form posted without a valid CSRF token (an old tab, cookies off, another site):
    our page, in the person's language and under our CSP, instead of Django's (which has
    inline styles)."""
    from django.shortcuts import render

    from atiende.configuration import selectors
    from atiende.core import site

    context = {
        "organization": site.get("organization.name") or "atiende",
        "classification": selectors.classification_label(),
    }
    return render(request, "accounts/csrf_failure.html", context, status=403)
