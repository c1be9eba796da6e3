"""Documents as compact JSON text instead of JSONB (`yunyi.emr.fields.DocumentField`): nothing
queries inside a document, and PostgreSQL spent more CPU printing JSONB back to text on every read
than on finding the rows. PostgreSQL converts each stored document with JSONB's own text form,
rewriting both tables under a lock (about 25 s per million resources here); SQLite keeps the
text it has."""

from django.db import migrations

import yunyi.emr.fields


class Migration(migrations.Migration):
    dependencies = [("emr", "0007_record_access_keyed_by_lookup")]

    operations = [
        migrations.AlterField(
            model_name="currentresource",
            name="document",
            field=yunyi.emr.fields.DocumentField(null=True),
        ),
        migrations.AlterField(
            model_name="resourceversion",
            name="document",
            field=yunyi.emr.fields.DocumentField(null=True),
        ),
    ]
