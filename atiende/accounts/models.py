from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models


class Role(models.TextChoices):
    AGENT = "agent", "Agente"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Administrador"
    CUSTOMER = "customer", "Cliente"


STAFF_ROLES = {Role.AGENT, Role.SUPERVISOR, Role.ADMIN}


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("role", Role.ADMIN)
        fields.setdefault("name", email)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: agents, supervisors, admins and customers' contacts."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    contact = models.OneToOneField(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="user",
        help_text="Para usuarios clientes: el contacto (y su organización) que representan.",
    )
    level = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Nivel de escalamiento (de la escalera configurada) del que este usuario es responsable.",
    )
    is_active = models.BooleanField(default=True)
    is_superuser = None  # the role decides, see has_perm
    date_joined = models.DateTimeField(auto_now_add=True)

    objects = UserManager()
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = "usuario"
        verbose_name_plural = "usuarios"

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_staff(self) -> bool:  # Django admin access
        return self.is_active and self.role == Role.ADMIN

    def has_perm(self, perm, obj=None) -> bool:
        return (self.is_active and self.role == Role.ADMIN) or super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        return (self.is_active and self.role == Role.ADMIN) or super().has_module_perms(app_label)

    @property
    def is_agent(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER


class SupportGroup(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    members = models.ManyToManyField(User, blank=True, related_name="support_groups")

    class Meta:
        ordering = ["name"]
        verbose_name = "grupo de soporte"
        verbose_name_plural = "grupos de soporte"

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the token is shown once, at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "token de API"
        verbose_name_plural = "tokens de API"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.email})"


class SignInOutcome(models.TextChoices):
    PENDING = "pending", "En curso"
    SUCCEEDED = "succeeded", "Correcto"
    FAILED = "failed", "Fallido"
    REFUSED = "refused", "Rechazado (bloqueo)"


class SignInAttempt(models.Model):
    """One try to sign in with a password, by any way in (accounts/signin/throttle.py).

    Kept in the database so the throttle holds across processes and machines. `email` is
    what was typed (normalised), whether or not such an account exists."""

    at = models.DateTimeField()
    email = models.CharField(max_length=254)
    address = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=SignInOutcome.choices, default=SignInOutcome.PENDING
    )

    class Meta:
        indexes = [
            models.Index(fields=["email", "at"], name="signin_attempt_email"),
            models.Index(fields=["address", "at"], name="signin_attempt_address"),
        ]
        verbose_name = "intento de inicio de sesión"
        verbose_name_plural = "intentos de inicio de sesión"

    def __str__(self) -> str:
        return f"{self.email} desde {self.address or '?'} ({self.get_outcome_display()})"
