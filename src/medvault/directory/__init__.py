"""Workbench sign-in against the hospital's LDAP / Active Directory, behind the dmz airlock.

    auth = Authenticator(store, settings.directory)
    outcome = await auth.authenticate(username, password)    # local users first, then the directory
    stamp = await auth.still_valid(outcome.principal.user)   # the session re-check

ldap3 is the client: pure Python (no libldap/OpenSSL build against the system's OpenLDAP), connect and
receive timeouts per connection, TLS through Python's `ssl` with the CA file from the config.
"""

from __future__ import annotations

from medvault.directory._auth import UI_ERRORS, Authenticator, Outcome, admit_key_owner, directory_stamp
from medvault.directory._client import DirectoryClient, DirectoryUnavailable, DirectoryUser, Refused
from medvault.directory._settings import DirectorySettings, airlock_problem

__all__ = [
    "UI_ERRORS",
    "Authenticator",
    "DirectoryClient",
    "DirectorySettings",
    "DirectoryUnavailable",
    "DirectoryUser",
    "Outcome",
    "Refused",
    "admit_key_owner",
    "airlock_problem",
    "directory_stamp",
]
