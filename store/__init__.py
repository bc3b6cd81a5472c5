"""rollcall's store: the Peewee models, database setup and the domain rules.

Nothing in this package imports Textual, Rich, `tui`, `screens` or `mail`.
"""

from store.pg_driver import import_peewee

import_peewee()
