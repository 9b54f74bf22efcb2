"""Delivery's rules: the states a notice and its recipients move through."""

from enum import StrEnum


class NoticeStatus(StrEnum):
    registered = "registered"


class RecipientStatus(StrEnum):
    pending = "pending"
