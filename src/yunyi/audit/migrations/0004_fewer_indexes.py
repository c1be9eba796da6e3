"""Fewer indexes on the audit trail, which every audited request inserts into: one index by
object id (then type) instead of two, and no LIKE-pattern twins of the action and actor indexes
(Django adds one for each `db_index` text column on PostgreSQL; the trail is only looked up by
equality). Nine indexes become six."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_verbose_names_object_index'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='auditentry',
            name='audit_audit_object__3eefc4_idx',
        ),
        migrations.RemoveIndex(
            model_name='auditentry',
            name='audit_entry_object_id_idx',
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(max_length=64, verbose_name='action'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='actor_id',
            field=models.CharField(blank=True, max_length=64, verbose_name='actor id'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['object_id', 'object_type'], name='audit_entry_object_idx'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['actor_id'], name='audit_entry_actor_idx'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['action'], name='audit_entry_action_idx'),
        ),
    ]
