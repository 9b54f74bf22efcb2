"""Password hashes: Argon2id through argon2-cffi, computed off the event loop, with a decoy for unknown usernames."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hashes and checks passwords; argon2-cffi's defaults are RFC 9106's second recommendation (Argon2id, 64 MiB, t=3, p=4)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        # A hash nobody's password matches, checked for an unknown username so that it takes as long as a known one.
        self._decoy = self.hasher.hash("songda-console-decoy")

    async def hash(self, password: str) -> str:
        """Returns the PHC string of a new salted hash."""
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """Tells whether the password matches the hash."""
        return await asyncio.to_thread(self._matches, password_hash, password)

    async def spend(self, password: str) -> None:
        """Checks the password against the decoy, spending the time a real check takes."""
        await asyncio.to_thread(self._matches, self._decoy, password)

    def outdated(self, password_hash: str) -> bool:
        """Tells whether a hash was made with other parameters than today's, so a successful sign-in rehashes it."""
        return self.hasher.check_needs_rehash(password_hash)

    def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
