"""Forms of the server's sign-in and consent pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from oauth2_provider.forms import AllowForm


class PasswordStepForm(forms.Form):
    identifier = forms.CharField(
        label=_("Username, mobile number or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # After a failed attempt the identifier comes back filled: put the cursor where the
        # person types next. (An attribute, not a script: the page's CSP allows no inline code.)
        if self["identifier"].value():
            self.fields["identifier"].widget.attrs.pop("autofocus", None)
            self.fields["password"].widget.attrs["autofocus"] = True


class CodeStepForm(forms.Form):
    code = forms.RegexField(
        label=_("6-digit code from your authenticator app"),
        regex=r"^\s*[0-9]{6}\s*$",
        max_length=12,
        error_messages={"invalid": _("Enter the 6 digits shown in your authenticator app.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "pattern": "[0-9]{6}",
            }
        ),
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip()


class LaunchAllowForm(AllowForm):
    """The consent form, plus the patient record a `launch/patient` app opens (SMART standalone
    launch): the user's own or a ward's, checked against what they may open on submit."""

    launch_patient = forms.CharField(required=False, max_length=64)
    # SMART EHR launch: the opaque launch id the app passed to /o/authorize, redeemed on submit.
    launch = forms.CharField(required=False, max_length=128, widget=forms.HiddenInput)
