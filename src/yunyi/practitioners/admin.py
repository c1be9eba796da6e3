"""Doctors in the admin, read-only: profiles are the doctors' own, and licence decisions go
through "Licence review" (`/api/v1/licences`), which audits them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from yunyi.practitioners.models import DoctorProfile, Licence


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DoctorProfile)
class DoctorProfileAdmin(ReadOnlyAdmin):
    list_display = ("display_name", "title", "department", "city", "is_verified", "updated_at")
    list_filter = ("is_verified", "title", "department")
    search_fields = ("display_name", "hospital", "city")
    exclude = ("photo",)


@admin.register(Licence)
class LicenceAdmin(ReadOnlyAdmin):
    list_display = ("number_masked", "doctor", "status", "submitted_at", "reviewed_at")
    list_filter = ("status",)
    exclude = ("number_ciphertext", "number_index")
