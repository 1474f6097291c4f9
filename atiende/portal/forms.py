"""The portal's forms: parsing and plain-words choices. Writing is the services' job."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

KINDS = [
    ("request", _("Requerimiento: necesito algo (un acceso, una información, un servicio)")),
    ("change", _("Cambio: quiero modificar algo que ya funciona")),
    ("incident", _("Incidente: algo dejó de funcionar o funciona mal")),
    ("critical", _("Incidente crítico: el servicio está caído para mi organización")),
]

IMPACTS = [
    ("one", _("Solo a mí")),
    ("some", _("A varias personas o a un área")),
    ("all", _("A toda la organización o a sus clientes")),
]
URGENCIES = [
    ("can_wait", _("Puede esperar unos días")),
    ("soon", _("Lo necesito hoy")),
    ("now", _("No podemos trabajar: es urgente")),
]

# Impact by urgency → priority (the usual matrix: the higher both, the higher the priority).
PRIORITY = {
    ("one", "can_wait"): "low",
    ("one", "soon"): "moderate",
    ("one", "now"): "high",
    ("some", "can_wait"): "moderate",
    ("some", "soon"): "moderate",
    ("some", "now"): "high",
    ("all", "can_wait"): "moderate",
    ("all", "soon"): "high",
    ("all", "now"): "high",
}


def type_and_priority(kind: str, impact: str, urgency: str) -> tuple[str, str]:
    if kind == "critical":
        return "incident", "critical"
    return kind, PRIORITY[(impact, urgency)]


class NewCaseForm(forms.Form):
    kind = forms.ChoiceField(label=_("¿Qué necesita?"), choices=KINDS, widget=forms.RadioSelect)
    subject = forms.CharField(label=_("Asunto"), max_length=300)
    description = forms.CharField(
        label=_("Descripción"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000
    )
    impact = forms.ChoiceField(
        label=_("¿A quién afecta?"), choices=IMPACTS, initial="one", widget=forms.RadioSelect
    )
    urgency = forms.ChoiceField(
        label=_("¿Qué tan urgente es?"), choices=URGENCIES, initial="soon", widget=forms.RadioSelect
    )

    def clean_subject(self):
        value = self.cleaned_data["subject"]
        if "\n" in value or "\r" in value:
            raise forms.ValidationError(_("El asunto debe ser una sola línea."))
        return value


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comentario"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20000
    )


class EscalationForm(forms.Form):
    reason = forms.CharField(
        label=_("¿Por qué pide escalar el caso?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("¿Qué sigue fallando?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
    )


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("¿Cómo califica la atención? (1 = muy mala, 5 = excelente)"),
        choices=[(i, str(i)) for i in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comentario (opcional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
    )


class FollowerForm(forms.Form):
    email = forms.EmailField(label=_("Correo del colega"), max_length=254)


class InvitationForm(forms.Form):
    password1 = forms.CharField(
        label=_("Contraseña nueva"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )
    password2 = forms.CharField(
        label=_("Repita la contraseña"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("Las dos contraseñas no coinciden."))
        return data


class RegistrationForm(forms.Form):
    name = forms.CharField(label=_("Nombre completo"), max_length=200)
    email = forms.EmailField(label=_("Correo de su organización"), max_length=254)
