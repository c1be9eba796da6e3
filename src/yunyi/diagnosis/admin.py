"""The model registry in the admin, read-only: versions are written by `yunyi train-models`."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from yunyi.diagnosis.models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("task", "version", "is_active", "created_at", "sha256")
    list_filter = ("task", "is_active")
    readonly_fields = [field.name for field in ModelVersion._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
