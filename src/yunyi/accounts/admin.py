"""Admin for users: roles inline, the real-name identity read-only and masked (the ciphertext
and blind index are never shown)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yunyi.accounts.models import GuardianLink, RealNameIdentity, RoleGrant, User


class YunyiUserCreationForm(AdminUserCreationForm):  # type: ignore[type-arg]
    class Meta(AdminUserCreationForm.Meta):  # type: ignore[name-defined,misc]
        model = User
        fields = ("username",)


class YunyiUserChangeForm(UserChangeForm):  # type: ignore[type-arg]
    class Meta(UserChangeForm.Meta):  # type: ignore[name-defined,misc]
        model = User


class RoleGrantInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RoleGrant
    fk_name = "user"
    extra = 0
    fields = ("role", "granted_at", "granted_by")
    readonly_fields = ("granted_at", "granted_by")


class RealNameInline(admin.StackedInline):  # type: ignore[type-arg]
    model = RealNameIdentity
    fk_name = "user"
    can_delete = False
    extra = 0
    max_num = 0
    fields = ("legal_name", "resident_id_masked", "birth_date", "sex", "verified_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Verification goes through the service (checksum, encryption, uniqueness).
        return False


@admin.register(User)
class YunyiUserAdmin(UserAdmin):  # type: ignore[type-arg]
    form = YunyiUserChangeForm
    add_form = YunyiUserCreationForm
    inlines = (RoleGrantInline, RealNameInline)
    list_display = ("username", "display_name", "email", "phone", "is_active", "date_joined")
    search_fields = ("username", "display_name", "email", "phone")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Profile"), {"fields": ("display_name", "email", "phone", "preferred_language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )


@admin.register(GuardianLink)
class GuardianLinkAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("guardian", "ward", "relationship", "created_at")
    raw_id_fields = ("guardian", "ward")
