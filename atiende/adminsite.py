"""The Django admin without autodiscovery: its modules are imported with the URLconf.

Django's default admin app imports every installed app's `admin.py` at django.setup(),
and ours import services, the email intake and the configuration loader: a cost that
every process paid, the email poller, the MTA pipe and the worker included, which never
show an admin page (issue 17). INSTALLED_APPS names `AdminConfig` below instead;
`atiende/urls.py` calls `load()`, and so do the admin's system checks, so `atiende check`
sees every registration whichever check runs first. `tests/test_process_start.py` fails
when an app's `admin.py` is missing from `load()`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks


class AdminConfig(SimpleAdminConfig):
    def ready(self) -> None:
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(_check_admin_app, checks.Tags.admin)


def _check_admin_app(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    load()
    return check_admin_app(app_configs, **kwargs)


def load() -> AdminSite:
    """The admin site with every app's registrations (imported on the first call)."""
    from django.contrib import admin
    from django.contrib.auth import admin as auth_admin  # noqa: F401 - Group

    from atiende.accounts import admin as accounts_admin  # noqa: F401
    from atiende.cases import admin as cases_admin  # noqa: F401
    from atiende.channels import admin as channels_admin  # noqa: F401
    from atiende.channels.email import admin as email_admin  # noqa: F401
    from atiende.channels.phone import admin as phone_admin  # noqa: F401
    from atiende.channels.whatsapp import admin as whatsapp_admin  # noqa: F401
    from atiende.configuration import admin as configuration_admin  # noqa: F401
    from atiende.console.canned import admin as canned_admin  # noqa: F401
    from atiende.core import admin as core_admin  # noqa: F401
    from atiende.customers import admin as customers_admin  # noqa: F401
    from atiende.escalations import admin as escalations_admin  # noqa: F401
    from atiende.notifications import admin as notifications_admin  # noqa: F401
    from atiende.worker import admin as worker_admin  # noqa: F401

    admin.site.site_header = "atiende — administración"
    admin.site.site_title = "atiende"
    return admin.site
