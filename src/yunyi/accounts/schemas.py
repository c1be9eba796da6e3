"""Request and response bodies of the accounts API. Requests refuse unknown fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorDetail


class SignupStartIn(StrictIn):
    channel: Literal["phone", "email"]
    address: str = Field(min_length=1, max_length=254)


class SignupStartOut(Schema):
    signup_id: str
    expires_in: int


class SignupConfirmIn(StrictIn):
    signup_id: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=16)
    password: str = Field(min_length=1, max_length=1024)
    display_name: str = Field(min_length=1, max_length=100, pattern=r"\S")


class RealNameOut(Schema):
    legal_name: str
    resident_id_masked: str
    birth_date: date
    sex: Literal["male", "female"]
    verified_at: datetime


class MfaOut(Schema):
    totp_enabled: bool
    required: bool


class MeOut(Schema):
    id: str
    username: str
    display_name: str
    email: str | None
    phone: str | None
    roles: list[str]
    preferred_language: Literal["zh-hans", "en"]
    real_name: RealNameOut | None
    mfa: MfaOut


class MePatchIn(StrictIn):
    display_name: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"\S")
    preferred_language: Literal["zh-hans", "en"] | None = None


class RealNameIn(StrictIn):
    legal_name: str = Field(min_length=1, max_length=64)
    resident_id: str = Field(min_length=1, max_length=32)


class TotpEnrolmentOut(Schema):
    device_id: int
    secret: str
    otpauth_uri: str
    qr_svg: str


class TotpCodeIn(StrictIn):
    code: str = Field(min_length=1, max_length=16)


class WardIn(StrictIn):
    legal_name: str = Field(min_length=1, max_length=64)
    resident_id: str = Field(min_length=1, max_length=32)
    relationship: Literal["parent", "legal_guardian", "other"]


class WardOut(Schema):
    id: str
    legal_name: str
    resident_id_masked: str
    birth_date: date
    sex: Literal["male", "female"]
    relationship: Literal["parent", "legal_guardian", "other"]
