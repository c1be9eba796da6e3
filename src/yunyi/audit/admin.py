"""The audit trail in the admin: for reading only. Nobody, not even a superuser, adds, changes
or deletes entries here (the database refuses it anyway)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yunyi.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = (
        "seq",
        "at",
        "action",
        "outcome",
        "alert",
        "actor_id",
        "actor_role",
        "object_type",
        "object_id",
        "client_id",
    )
    list_filter = ("action", "outcome", "alert")
    search_fields = ("object_id",)
    search_help_text = _("Exact object id")
    ordering = ("-seq",)
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEntry], search_term: str
    ) -> tuple[QuerySet[AuditEntry], bool]:
        # An exact match, not Django's case-insensitive LIKE: ids are exact, and a LIKE scans
        # millions of rows where equality uses the object index.
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(object_id=term), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
