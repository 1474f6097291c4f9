"""Foreign keys whose own index duplicates the start of a composite one lose it: one
B-tree less to write per row (issue 17). Only the index goes (core/migration_ops.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from atiende.core.migration_ops import drop_own_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_invitation_portalaccess_portalregistration'),
        ('cases', '0014_note_delivery_failed_index'),
        ('customers', '0002_contact_whatsapp_user_id'),
        ('directory', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        drop_own_indexes(
            [
                migrations.AlterField(
                    model_name='case',
                    name='assignee',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_cases', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='channel',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='directory.channel'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='group',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='cases', to='accounts.supportgroup'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='organization',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='customers.organization'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='requester',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='customers.contact'),
                ),
                migrations.AlterField(
                    model_name='note',
                    name='case',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='notes', to='cases.case'),
                ),
            ],
            [
                ("cases_case_assignee_id_28343c2e", "cases_case", "assignee_id"),
                ("cases_case_channel_id_04e45f90", "cases_case", "channel_id"),
                ("cases_case_group_id_6395295c", "cases_case", "group_id"),
                ("cases_case_organization_id_cb1292e0", "cases_case", "organization_id"),
                ("cases_case_requester_id_1c34c677", "cases_case", "requester_id"),
                ("cases_note_case_id_77ee1e2a", "cases_note", "case_id"),
            ],
        ),
    ]
