"""The `rollcall` program: the scripting interface, opening the app when no command is given."""

from __future__ import annotations

from store.settings import Settings


def open_app(
    settings: Settings,
    as_email: str | None,
    *,
    restricted: bool = False,
    kiosk_session: int | None = None,
) -> None:
    """Run the Textual app; imported only now so scripting commands never load Textual."""
    from tui.app import run_app

    run_app(settings, as_email=as_email, restricted=restricted, kiosk_session=kiosk_session)


def main() -> None:
    """Entry point of the `rollcall` console script."""
    from cli import main as cli_main

    cli_main(obj=open_app)
