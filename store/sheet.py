"""Printable sign-in sheets: the session's facts and one signature box per attendee, as PDF."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

from store.errors import ValidationError
from store.models import Enrolment, Person, Session
from store.session_input import describe_when
from store.sessions import get_session
from store.settings import current_settings

FONT = "DejaVu"
"""The bundled Unicode font (Latin, Greek, Cyrillic and more), so any name prints."""

_FALLBACK_FONTS = (
    # CJK names print where the machine has one of these; DejaVu has no CJK glyphs.
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic-ttf/ukai.ttf",
    "/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf",
)

ROW_HEIGHT = 11.0
"""Millimetres per attendee: room to sign by hand."""
SHEET_STATUSES = ("enrolled", "attended")


@dataclass(frozen=True)
class SheetAttendee:
    """One line of the sheet."""

    name: str
    email: str
    department: str


@dataclass(frozen=True)
class SheetData:
    """Everything a sign-in sheet prints, read from the store in one go."""

    session_id: int
    title: str
    start: datetime
    end: datetime
    zone: ZoneInfo
    place: str
    trainer: str
    attendees: list[SheetAttendee]


def sheet_data(session_id: int | str) -> SheetData:
    """The session's facts and its enrolled (or attended) people, by name."""
    session: Session = get_session(session_id)
    if session.cancelled_at is not None:
        raise ValidationError(f"session {session.id} is cancelled", field="session")
    people = (
        Person.select(Person.name, Person.email, Person.department)
        .join(Enrolment)
        .where((Enrolment.session == session) & (Enrolment.status.in_(SHEET_STATUSES)))
        .order_by(Person.name, Person.email)
    )
    if session.type == "in_person":
        place = session.location or ""
    else:
        place = session.online_url or "online"
    trainer = session.trainer.person if session.trainer_id else None
    return SheetData(
        session_id=session.id,
        title=session.title,
        start=session.start,
        end=session.end,
        zone=current_settings().zone,
        place=place,
        trainer=f"{trainer.name} <{trainer.email}>" if trainer else "—",
        attendees=[SheetAttendee(p.name, p.email, p.department) for p in people],
    )


class _Sheet(FPDF):
    """A4 pages whose header repeats the session's facts and the table head."""

    def __init__(self, data: SheetData) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.data = data
        fonts = resources.files("store").joinpath("fonts")
        with resources.as_file(fonts.joinpath("DejaVuSans.ttf")) as regular:
            self.add_font(FONT, "", str(regular))
        with resources.as_file(fonts.joinpath("DejaVuSans-Bold.ttf")) as bold:
            self.add_font(FONT, "B", str(bold))
        fallbacks = []
        for index, path in enumerate(p for p in _FALLBACK_FONTS if Path(p).is_file()):
            self.add_font(f"fallback{index}", "", path)
            fallbacks.append(f"fallback{index}")
        if fallbacks:
            self.set_fallback_fonts(fallbacks, exact_match=False)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=False)
        self.set_title(f"Sign-in sheet: {data.title}")
        self.set_creator("rollcall")

    def header(self) -> None:
        """The session, its time in the site's zone, place, trainer, then the table head."""
        d = self.data
        width = self.epw
        self.set_font(FONT, "B", 15)
        self.multi_cell(width, 7, f"Sign-in sheet: {d.title}", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, "", 10)
        when = f"{describe_when(d.start, d.end, d.zone)} ({d.zone.key})"
        for label, value in (("When", when), ("Where", d.place), ("Trainer", d.trainer)):
            self.set_font(FONT, "B", 10)
            self.cell(20, 5.5, label)
            self.set_font(FONT, "", 10)
            self.multi_cell(width - 20, 5.5, value, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, "", 8)
        self.cell(
            width,
            5,
            f"Session #{d.session_id} · {len(d.attendees)} attendee(s) · "
            f"page {self.page_no()} of {{nb}}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(2)
        self.set_font(FONT, "B", 10)
        self.set_fill_color(230, 230, 230)
        for text, w in zip(("#", "Name", "Department", "Signature"), _widths(width), strict=True):
            self.cell(w, 7, text, border=1, fill=True)
        self.ln(7)


def _widths(width: float) -> tuple[float, float, float, float]:
    return (10.0, width * 0.40, width * 0.22, width - 10.0 - width * 0.62)


def render_sheet(data: SheetData) -> bytes:
    """The sign-in sheet as PDF bytes (pure: no database, no files)."""
    pdf = _Sheet(data)
    pdf.alias_nb_pages()
    pdf.add_page()
    widths = _widths(pdf.epw)
    bottom = pdf.h - pdf.b_margin
    for number, person in enumerate(data.attendees, start=1):
        if pdf.get_y() + ROW_HEIGHT > bottom:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_font(FONT, "", 9)
        pdf.cell(widths[0], ROW_HEIGHT, str(number), border=1, align="R")
        x = pdf.get_x()
        # The name above the email, both inside one bordered cell.
        pdf.rect(x, y, widths[1], ROW_HEIGHT)
        pdf.set_font(FONT, "B", 10)
        pdf.set_xy(x + 1, y + 1)
        pdf.cell(widths[1] - 2, 5, _fit(pdf, person.name, widths[1] - 2))
        pdf.set_font(FONT, "", 7.5)
        pdf.set_xy(x + 1, y + 5.5)
        pdf.cell(widths[1] - 2, 4, _fit(pdf, person.email, widths[1] - 2))
        pdf.set_xy(x + widths[1], y)
        pdf.set_font(FONT, "", 9)
        pdf.cell(widths[2], ROW_HEIGHT, _fit(pdf, person.department, widths[2] - 2), border=1)
        pdf.cell(widths[3], ROW_HEIGHT, "", border=1)
        pdf.set_xy(pdf.l_margin, y + ROW_HEIGHT)
    if not data.attendees:
        pdf.set_font(FONT, "", 10)
        pdf.cell(pdf.epw, ROW_HEIGHT, "Nobody is enrolled on this session yet.", border=1)
    return bytes(pdf.output())


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """`text`, shortened with an ellipsis when it is wider than `width` in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def write_sheet(session_id: int | str, path: str | os.PathLike[str]) -> Path:
    """Write the session's sign-in sheet to `path` (atomically: a temp file, then a rename)."""
    data = sheet_data(session_id)
    target = Path(path).expanduser()
    if target.is_dir():
        raise ValidationError(f"{target} is a directory; give a file name", field="pdf")
    content = render_sheet(data)
    temp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".sheet-", suffix=".pdf", dir=target.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(temp, target)
    except OSError as exc:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise ValidationError(f"cannot write {target}: {exc}", field="pdf") from exc
    return target


def default_sheet_path(session_id: int, title: str) -> Path:
    """Where the app offers to save a sheet: the user's Documents folder, else home."""
    home = Path.home()
    folder = home / "Documents"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in title).strip("-")[:40]
    name = f"sign-in-{session_id}-{safe or 'session'}.pdf"
    return (folder if folder.is_dir() else home) / name
