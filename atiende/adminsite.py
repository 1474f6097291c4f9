"""The Django admin, discovered with the URLconf instead of at django.setup().

Django's default admin app imports every installed app's `admin.py` at django.setup(),
and ours import services, the email intake and the configuration loader: a cost that
every process paid, the email poller, the MTA pipe and the worker included, which never
show an admin page (issue 17). INSTALLED_APPS names `AdminConfig` below, which does not
discover; `atiende/urls.py` calls `load()`, and so do the admin's system checks, so
`atiende check` sees every registration whichever check runs first.
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
    """The admin site with every installed app's `admin.py` imported, in the order of
    INSTALLED_APPS, as the default admin app does at start (imported on the first call)."""
    from django.contrib import admin

    admin.autodiscover()
    admin.site.site_header = "atiende — administración"
    admin.site.site_title = "atiende"
    return admin.site
