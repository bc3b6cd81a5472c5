"""Peewee without its PostgreSQL driver until a PostgreSQL database connects.

Peewee imports psycopg2 (and tries psycopg 3) when it is itself imported, which costs a
program on SQLite tens of milliseconds at every start. `store/__init__.py` calls
`import_peewee` first, so peewee is imported with both drivers hidden; the first PostgreSQL
connection loads psycopg2 and gives peewee what its own import would have set.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

_HIDDEN = ("psycopg2", "psycopg")


def import_peewee() -> None:
    """Import peewee without its PostgreSQL drivers (unless it or they are already loaded)."""
    if "peewee" in sys.modules or any(name in sys.modules for name in _HIDDEN):
        return
    for name in _HIDDEN:
        sys.modules[name] = None  # type: ignore[assignment] # `import name` raises ImportError
    try:
        import peewee
    finally:
        for name in _HIDDEN:
            del sys.modules[name]
    adapter = getattr(peewee, "Psycopg2Adapter", None)
    if adapter is None or not hasattr(adapter, "check_driver"):
        # A peewee this code does not know: import it again, drivers and all.
        importlib.reload(peewee)
        return
    check_driver = adapter.check_driver

    def load_then_check(self: Any) -> None:
        load_psycopg2()
        if self.json_type is None:
            self.json_type = self.jsonb_type = peewee.Json_pg2
        check_driver(self)

    adapter.check_driver = load_then_check


def load_psycopg2() -> None:
    """Give peewee psycopg2 as its own import does; nothing when it already has it."""
    import peewee

    if peewee.psycopg2 is not None:
        return
    import psycopg2
    from psycopg2 import extensions, extras

    extras.register_uuid()
    peewee.pg_extensions = extensions
    peewee.pg_register_uuid = extras.register_uuid
    peewee.Json_pg2 = extras.Json
    adapter = peewee.Psycopg2Adapter
    adapter.txn_idle = extensions.TRANSACTION_STATUS_IDLE
    adapter.txn_inerror = extensions.TRANSACTION_STATUS_INERROR
    adapter.txn_unknown = extensions.TRANSACTION_STATUS_UNKNOWN
    peewee.psycopg2 = psycopg2
