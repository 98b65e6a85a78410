"""Who may sign in to the workbench: local users first, then the hospital's directory.

The order is the safety property. A name that exists as a local user is decided by the local password
alone and the directory is never asked, so the break-glass admin signs in while the directory is down,
and no directory account can take over a local name. Only names unknown locally (or known as directory
users) go to the directory. Nobody signs themselves up: a directory user gets a row here only after the
directory has confirmed the password and a mapped group.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from medvault.directory._client import (
    DirectoryClient,
    DirectoryUnavailable,
    DirectoryUser,
    Refused,
    usable_input,
)
from medvault.directory._settings import DirectorySettings
from medvault.store import Principal, Role, Store
from medvault.store._directory_users import LDAP, LOCAL, admit_directory_user, find_user, name_holder
from medvault.store._store import ADMIN_KEY_OWNER

T = TypeVar("T")

# Reasons a user is told apart from "wrong name or password" (the password was right, so saying so
# reveals nothing an attacker could use): the i18n key the sign-in form shows for each.
UI_ERRORS = {
    "unmapped": "signin.not_enabled",
    "ambiguous_role": "signin.not_enabled",
    "name_taken": "signin.not_enabled",
    "identity_changed": "signin.not_enabled",
    "directory_unavailable": "signin.directory_unavailable",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A sign-in's result: the principal and its stamp, or a stable `reason` (audit `detail.reason`)."""

    principal: Principal | None
    stamp: str | None
    reason: str  # "ok", or why not: credentials, unmapped, directory_unavailable, ...
    source: str = ""  # "local" or "ldap": who decided
    cause: str = ""  # directory_unavailable: tls, timeout, unreachable, service_bind, search

    @property
    def ui_error(self) -> str | None:
        """The sign-in form's message key, None on success."""
        return None if self.principal else UI_ERRORS.get(self.reason, "signin.failed")


def directory_stamp(role: Role, external_id: str | None) -> str:
    """What a directory user's session rests on: the role and the directory entry."""
    return hashlib.sha256(f"ldap\0{role.value}\0{external_id}".encode()).hexdigest()


class Authenticator:
    """Sign-in and the session re-check for local and directory users."""

    def __init__(
        self,
        store: Store,
        settings: DirectorySettings,
        *,
        clock: Callable[[], float] = time.time,
        client: DirectoryClient | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.client = client or (DirectoryClient(settings) if settings.enabled else None)
        # When this process last had the directory confirm each user (epoch seconds, as `clock`): the
        # re-check interval. The grace runs from the confirmation kept in the users row, which every
        # process and a restart share.
        self._checked: dict[str, float] = {}

    async def authenticate(self, username: str, password: str) -> Outcome:
        """Check a typed name and password; at most `directory.timeout_s` (+ connect) for the directory."""
        if not usable_input(username, password):
            return Outcome(None, None, "credentials")
        # A name a local user holds, in any case or look-alike spelling, is decided locally (where only the
        # exact name can match): the directory never gets to vouch for a "Root" beside a local "root".
        record = await asyncio.to_thread(name_holder, self.store, username)
        if (record is not None and record.source == LOCAL) or self.client is None:
            return await self._local(username, password)
        return await self._directory(username, password)

    async def _local(self, username: str, password: str) -> Outcome:
        # Unknown names are checked too (against a dummy hash): the answer takes as long as a wrong password.
        principal = await asyncio.to_thread(self.store.verify_password, username, password)
        stamp = None if principal is None else await asyncio.to_thread(self.store.user_stamp, username)
        if principal is None or stamp is None:
            return Outcome(None, None, "credentials", LOCAL)
        return Outcome(principal, stamp, "ok", LOCAL)

    async def _directory(self, username: str, password: str) -> Outcome:
        assert self.client is not None
        try:
            found = await self._ask(self.client.sign_in, username, password)
        except Refused as refused:
            return Outcome(None, None, refused.reason, LDAP)
        except DirectoryUnavailable as down:
            return Outcome(None, None, "directory_unavailable", LDAP, down.cause)
        now = self.clock()
        refusal = await asyncio.to_thread(
            admit_directory_user, self.store, found.username, found.role, found.external_id, now
        )
        if refusal is not None:
            return Outcome(None, None, refusal, LDAP)
        self._checked[found.username] = now
        principal = Principal(user=found.username, role=found.role)
        return Outcome(principal, directory_stamp(found.role, found.external_id), "ok", LDAP)

    async def _ask(self, call: Callable[..., T], *args: str) -> T:
        """Run a directory call in a thread, but answer within the configured time whatever it does."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(call, *args), self.settings.budget_s)
        except TimeoutError:
            raise DirectoryUnavailable("timeout", "the directory did not answer in time") from None

    async def still_valid(self, username: str) -> str | None:
        """The user's current stamp, or None when their sessions must end (gone, disabled here or in the
        directory, moved out of every mapped group). The directory is asked at most every `recheck_s`;
        while it cannot be asked, sessions live on for `offline_grace_s` after its last confirmation by
        any process (`users.directory_confirmed`), so a restart does not start the grace again."""
        record = await asyncio.to_thread(find_user, self.store, username)
        if record is None or record.disabled:
            self._checked.pop(username, None)
            return None
        if record.source == LOCAL:
            return await asyncio.to_thread(self.store.user_stamp, username)
        if self.client is None:
            return None  # the directory was switched off: its users are out
        now = self.clock()
        checked = self._checked.get(username)
        if checked is not None and now - checked < self.settings.recheck_s:
            return directory_stamp(record.role, record.external_id)
        try:
            found = await self._ask(self.client.look_up, username)
        except Refused:
            self._checked.pop(username, None)
            return None
        except DirectoryUnavailable:
            confirmed = record.confirmed
            if confirmed is not None and now - confirmed <= self.settings.offline_grace_s:
                return directory_stamp(record.role, record.external_id)
            return None
        if found.external_id != record.external_id or found.username != username:
            return None
        # Records the confirmation, and a new role: a session opened under the old role ends.
        refusal = await asyncio.to_thread(
            admit_directory_user, self.store, username, found.role, found.external_id, now
        )
        if refusal is not None:
            return None
        self._checked[username] = now
        return directory_stamp(found.role, found.external_id)

    async def key_still_valid(self, principal: Principal) -> bool:
        """Whether an API key may still be used: a key made for a directory user (`keys create
        --directory`) ends with that user, and when the directory's groups now give another role. Keys of
        other owners (local users, named API clients, the bootstrap admin key) are the key table's
        business alone (`Store.authenticate_key` refuses those of a user disabled here)."""
        if principal.user == ADMIN_KEY_OWNER:  # break-glass: no account's or directory's to judge
            return True
        record = await asyncio.to_thread(find_user, self.store, principal.user)
        if record is None or record.source != LDAP:
            return True
        stamp = await self.still_valid(principal.user)
        return stamp is not None and stamp == directory_stamp(principal.role, record.external_id)


def admit_key_owner(
    store: Store, settings: DirectorySettings, username: str, role: Role | None
) -> DirectoryUser:
    """The directory user an API key is made for (`medvault keys create --directory`): looked up with the
    service account, given the role their groups give (a different `role` is refused), and recorded like
    a sign-in. Raises `Refused` or `DirectoryUnavailable`."""
    found = DirectoryClient(settings).look_up(username)
    if role is not None and role != found.role:
        raise Refused(f"role_mismatch: the directory's groups give {found.role.value}, not {role.value}")
    refusal = admit_directory_user(store, found.username, found.role, found.external_id, time.time())
    if refusal is not None:
        raise Refused(refusal)
    return found
