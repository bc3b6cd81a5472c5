"""Attendance from a CSV file, previewed by line before anything is written."""

from __future__ import annotations

from typing import Any

from screens.people import ImportModal


class AttendanceImportModal(ImportModal):
    """The people import's preview, for attendance marks (session_id,email,status)."""

    HEADING = "Import attendance from CSV (session_id,email,status: attended or no-show)"
    PLACEHOLDER = "path/to/attendance.csv, enter to preview"

    def check(self, text: str) -> Any:
        """Check every line without writing."""
        from store.attendance_import import preview_attendance_csv

        return preview_attendance_csv(text)

    def run(self, text: str) -> Any:
        """Mark every row (enrolling those not on the session yet) or none."""
        from store.attendance_import import import_attendance_csv

        return import_attendance_csv(text)

    def headline(self, summary: Any) -> str:
        """Marks and enrolments the file would make."""
        joining = sum(1 for row in summary.rows if row.enrol)
        return f"{len(summary.rows)} mark(s), {joining} enrolled after the fact"

    def rows(self, summary: Any) -> list[str]:
        """One line per mark."""
        return [
            f"{'+' if row.enrol else '·'} #{row.session_id} {row.session_title}: "
            f"{row.name} <{row.email}> {row.status.replace('_', '-')}"
            for row in summary.rows[:100]
        ]

    def done_text(self, result: Any) -> str:
        """What the notification says after the import."""
        return f"Attendance imported: {len(result.rows)} mark(s)"
