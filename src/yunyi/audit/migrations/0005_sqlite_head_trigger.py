"""On SQLite, move the chain head with every inserted audit entry (a trigger), so an append is
one statement there too (`yunyi.audit.sqlite_chain`). PostgreSQL moves the head in the append's
own statement and is left as it is."""

from django.db import migrations


def install_trigger(apps, schema_editor):
    from yunyi.audit.sqlite_chain import install_head_trigger

    install_head_trigger(schema_editor.connection)


def remove_trigger(apps, schema_editor):
    from yunyi.audit.sqlite_chain import remove_head_trigger

    remove_head_trigger(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0004_fewer_indexes"),
    ]

    operations = [
        migrations.RunPython(install_trigger, remove_trigger),
    ]
