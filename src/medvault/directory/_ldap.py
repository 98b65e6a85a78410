"""ldap3, imported once and quietly.

ldap3 2.9.1 (the latest release) reads pyasn1's old names, which pyasn1 0.6 answers with a
DeprecationWarning at import time; the names still work. Everything in this package imports ldap3 from
here, so the warning is silenced for that one import and nowhere else.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3 import BASE, NONE, SIMPLE, SUBTREE, SYNC, Connection, Server, Tls
    from ldap3.core.exceptions import LDAPException
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import LDAPInvalidDnError, parse_dn

__all__ = [
    "BASE",
    "NONE",
    "SIMPLE",
    "SUBTREE",
    "SYNC",
    "Connection",
    "LDAPException",
    "LDAPInvalidDnError",
    "Server",
    "Tls",
    "escape_filter_chars",
    "parse_dn",
]
