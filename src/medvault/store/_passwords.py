"""The workbench password policy: a minimum length and no password from a short list of common ones."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

MIN_LENGTH = 12
POLICY = (
    f"at least {MIN_LENGTH} characters, not the user name, and none of the most common passwords; "
    "a few unrelated words make a good one"
)


@cache
def _common() -> frozenset[str]:
    text = files("medvault.store").joinpath("common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line and line[0] != "#")


def check_password(password: str, username: str) -> None:
    """Raise `ValueError` naming the rule `password` breaks (the message never repeats the password)."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password must be at least {MIN_LENGTH} characters")
    if password.casefold() == username.casefold():
        raise ValueError("password must not be the user name")
    if password.casefold() in _common():
        raise ValueError("password is one of the most common passwords; choose another")
