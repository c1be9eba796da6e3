"""PostgreSQL triggers that NOTIFY `yunyi_auth` when what a bearer-token lookup reads changes, so
every process's token cache (`yunyi.identity.token_cache`) evicts at once: a token's checksum when
its row is updated or deleted (revocation), "*" for users, roles, clients, client policies and
launch contexts. NOTIFY is transactional: it is delivered when the change commits. Nothing on
SQLite, which has no cache."""

from django.conf import settings
from django.db import migrations

FUNCTIONS = (
    """
    CREATE OR REPLACE FUNCTION yunyi_auth_token_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('yunyi_auth', OLD.token_checksum);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION yunyi_auth_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('yunyi_auth', '*');
        RETURN NULL;
    END
    $$
    """,
)

# (trigger, table, events, function, per row)
TRIGGERS = (
    (
        "yunyi_auth_token",
        "oauth2_provider_accesstoken",
        "UPDATE OR DELETE",
        "yunyi_auth_token_changed",
        True,
    ),
    # The user's columns the lookup reads: a sign-in's `last_login` does not empty every cache.
    (
        "yunyi_auth_user",
        "accounts_user",
        "UPDATE OF username, first_name, last_name, email, phone, display_name, "
        "preferred_language, is_active, is_staff, is_superuser OR DELETE",
        "yunyi_auth_changed",
        False,
    ),
    (
        "yunyi_auth_role",
        "accounts_rolegrant",
        "INSERT OR UPDATE OR DELETE",
        "yunyi_auth_changed",
        False,
    ),
    (
        "yunyi_auth_client",
        "oauth2_provider_application",
        "UPDATE OR DELETE",
        "yunyi_auth_changed",
        False,
    ),
    (
        "yunyi_auth_policy",
        "identity_clientpolicy",
        "INSERT OR UPDATE OR DELETE",
        "yunyi_auth_changed",
        False,
    ),
    (
        "yunyi_auth_launch",
        "identity_launchcontext",
        "INSERT OR UPDATE OR DELETE",
        "yunyi_auth_changed",
        False,
    ),
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FUNCTIONS:
        schema_editor.execute(statement)
    for name, table, events, function, per_row in TRIGGERS:
        each = "ROW" if per_row else "STATEMENT"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER {name} AFTER {events} ON {table} "
            f"FOR EACH {each} EXECUTE FUNCTION {function}()"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, *_rest in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS yunyi_auth_token_changed()")
    schema_editor.execute("DROP FUNCTION IF EXISTS yunyi_auth_changed()")


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0003_ehr_launch"),
        ("accounts", "0003_guardian_link_names"),
        ("oauth2_provider", "0022_refreshtoken_token_family_index"),
        migrations.swappable_dependency(settings.OAUTH2_PROVIDER_APPLICATION_MODEL),
    ]

    operations = [migrations.RunPython(install, remove)]
