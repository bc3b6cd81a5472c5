"""Every screen's keys in one table, by screen: the key bar, the help and the palette read them.

A screen takes its row with ``BINDINGS = KEYMAP["sessions"]``. Each binding has an id, the name
the ``[keymap]`` table of the config file remaps it by (``session-new = "N"``); the ids are
unique across the table, so one remapping means one key.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType


def _list_keys(area: str, item: str) -> list[BindingType]:
    """The keys the people and trainers lists share; ids ``<area>-search``, ``<item>-new``..."""
    return [
        Binding("slash", "search", "Search", id=f"{area}-search"),
        Binding("n", "new", "New", id=f"{item}-new"),
        Binding("enter", "open", "Open", id=f"{item}-open"),
        Binding("e", "edit", "Edit", id=f"{item}-edit"),
        Binding("d", "toggle_active", "(De)activate", id=f"{item}-deactivate"),
        Binding("escape", "clear", "Clear", show=False, id=f"{area}-clear"),
    ]


KEYMAP: dict[str, list[BindingType]] = {
    "sessions": [  # screens/sessions.py: SessionsScreen
        Binding("slash", "search", "Search", id="sessions-search"),
        Binding("n", "new", "New", id="session-new"),
        Binding("e", "edit", "Edit", id="session-edit"),
        Binding("c", "cancel_session", "Cancel", id="session-cancel"),
        Binding("d", "delete", "Delete", id="session-delete"),
        Binding("t", "focus_trainer", "Trainer", id="sessions-trainer-filter"),
        Binding("s", "focus_status", "Status", id="sessions-status-filter"),
        Binding("w", "pick_dates", "When", id="sessions-date-filter"),
        Binding("r", "reload", "Reload", id="sessions-reload", show=False),
        Binding(
            "i",
            "import_attendance",
            "Import attendance",
            id="sessions-import-attendance",
            show=False,
        ),
        Binding("escape", "clear", "Clear", id="sessions-clear", show=False),
        Binding("q", "app.quit", "Quit", id="quit"),
    ],
    "session": [  # screens/session.py: SessionScreen
        Binding("a", "mark('attended')", "Attended", id="register-attended"),
        Binding("n", "mark('no-show')", "No-show", id="register-no-show"),
        Binding("u", "unmark", "Unmark", id="register-unmark", show=False),
        Binding("p", "promote", "Promote", id="waitlist-promote"),
        Binding("w", "invite_next", "Invite next", id="waitlist-invite-next", show=False),
        Binding("m", "email", "Email", id="session-email"),
        Binding("plus,i", "add_people", "Add", id="session-add-people", key_display="+"),
        Binding("x", "remove", "Remove", id="session-remove-person"),
        Binding("o", "note", "Note", id="enrolment-note"),
        Binding("f", "finalise", "Finalise", id="session-finalise"),
        Binding("e", "edit", "Edit", id="session-page-edit", show=False),
        Binding("t", "replace_trainer", "Replace trainer", id="session-replace-trainer"),
        Binding("s", "sheet", "Sign-in sheet", id="session-sign-in-sheet"),
        Binding("c", "cancel_session", "Cancel session", id="session-page-cancel", show=False),
        Binding("r", "reload", "Reload", id="session-reload", show=False),
        Binding("escape", "back", "Back", id="session-back"),
    ],
    "session-form": [  # screens/session_form.py: SessionForm
        Binding("ctrl+s", "save", "Save", id="form-save", priority=True),
        Binding("escape", "abandon", "Back", id="form-abandon"),
    ],
    "people": [  # screens/people.py: PeopleScreen
        *_list_keys("people", "person"),
        Binding("i", "import_csv", "Import CSV", id="people-import"),
    ],
    "person": [  # screens/person.py: PersonScreen
        Binding("escape", "back", "Back", id="person-page-back"),
        Binding("e", "edit", "Edit", id="person-page-edit"),
        Binding("r", "reload", "Reload", id="person-page-reload", show=False),
    ],
    "person-form": [  # screens/people.py: PersonForm
        Binding("ctrl+s", "save", "Save", priority=True, id="person-save"),
        Binding("escape", "abandon", "Back", id="person-abandon"),
        Binding("ctrl+f", "pick_person", "Pick manager", priority=True, id="person-pick-manager"),
    ],
    "person-import": [  # screens/people.py: ImportModal
        Binding("escape", "abandon", "Back", id="import-abandon"),
        Binding("ctrl+s", "import_now", "Import", priority=True, id="import-run"),
    ],
    "people-picker": [  # screens/people_picker.py: PeoplePicker
        Binding("escape", "abandon", "Back", id="picker-abandon"),
        Binding("down", "to_list", "List", show=False, id="picker-to-list"),
    ],
    "trainers": _list_keys("trainers", "trainer"),
    "trainer-form": [  # screens/trainers.py: TrainerForm
        Binding("ctrl+s", "save", "Save", priority=True, id="trainer-save"),
        Binding("escape", "abandon", "Back", id="trainer-abandon"),
        Binding("ctrl+f", "pick_person", "Pick person", priority=True, id="trainer-pick-person"),
    ],
    "pathways": [  # screens/pathways.py: PathwaysScreen
        Binding("n", "new_pathway", "New", id="pathway-new"),
        Binding("e", "edit_pathway", "Edit", id="pathway-edit"),
        Binding("a", "add_requirement", "Add step", id="pathway-require"),
        Binding("x", "remove_requirement", "Remove step", id="pathway-unrequire"),
        Binding("left_square_bracket", "move(-1)", "Step up", id="pathway-step-up"),
        Binding("right_square_bracket", "move(1)", "Step down", id="pathway-step-down"),
        Binding("p", "progress", "Progress", id="pathway-progress"),
        Binding("delete", "delete_pathway", "Delete", id="pathway-delete", show=False),
        Binding("tab", "switch_list", "Switch list", id="pathway-switch", show=False),
        Binding("r", "reload", "Reload", id="pathway-reload", show=False),
    ],
    "pathway-progress": [  # screens/pathways.py: ProgressDialog
        Binding("escape", "dismiss", "Close", id="pathway-progress-close"),
    ],
    "reports": [  # screens/reports.py: ReportsScreen
        Binding("x", "export", "Export CSV", id="report-export"),
        Binding("d", "days", "Days", id="report-days"),
        Binding("p", "period", "Period", id="report-period"),
        Binding("b", "book_next", "Book next session", id="report-book-next"),
        Binding("i", "register_interest", "Register interest", id="report-interest"),
        Binding("r", "reload", "Reload", id="report-reload"),
        Binding("tab", "switch_focus", "Switch", id="report-switch", show=False),
    ],
    "mail": [  # screens/mail.py: MailScreen
        Binding("s", "send_now", "Send now", id="mail-send-now"),
        Binding("g", "poll_now", "Poll now", id="mail-poll-now"),
        Binding("r", "retry_failed", "Retry failed", id="mail-retry-failed"),
        Binding("f", "filter", "Filter", id="mail-filter"),
        Binding("o", "tab('outbox')", "Outbox", id="mail-outbox", show=False),
        Binding("i", "tab('inbox')", "Inbox", id="mail-inbox", show=False),
        Binding(
            "right_square_bracket", "page(1)", "Next page", id="mail-next-page", key_display="]"
        ),
        Binding(
            "left_square_bracket", "page(-1)", "Previous page", id="mail-prev-page", key_display="["
        ),
        Binding("ctrl+r", "reload", "Reload", id="mail-reload", show=False),
    ],
    "email-form": [  # screens/email_form.py: EmailForm
        Binding("escape", "abandon", "Back", id="email-abandon"),
        Binding("ctrl+s", "send", "Send", priority=True, id="email-send"),
        Binding("ctrl+t", "toggle_waitlist", "Waitlisted", id="email-waitlisted"),
    ],
    "audit": [  # screens/audit.py: AuditScreen
        Binding("slash", "search", "Filter", id="audit-filter"),
        Binding("escape", "leave_filter", "Back to the list", show=False, id="audit-leave"),
        Binding(
            "right_square_bracket", "page(1)", "Next page", id="audit-next-page", key_display="]"
        ),
        Binding(
            "left_square_bracket",
            "page(-1)",
            "Previous page",
            id="audit-prev-page",
            key_display="[",
        ),
        Binding("ctrl+f", "pick_person", "Pick person", priority=True, id="audit-pick-person"),
        Binding("ctrl+r", "reload", "Reload", id="audit-reload", show=False),
    ],
    "requests": [  # screens/requests.py: RequestsScreen
        Binding("a", "decide('approve')", "Approve", id="requests-approve"),
        Binding("d", "decide('decline')", "Decline", id="requests-decline"),
        Binding("ctrl+r", "reload", "Reload", id="requests-reload", show=False),
    ],
    "team": [  # screens/team.py: TeamScreen
        Binding("m", "tab('members')", "People", id="team-members"),
        Binding("b", "tab('bookings')", "Bookings", id="team-bookings"),
        Binding("a", "tab('attendance')", "Attendance", id="team-attendance"),
        Binding("u", "tab('due')", "Due", id="team-due"),
        Binding("enter", "open", "Open", id="team-open"),
        Binding("r", "reload", "Reload", id="team-reload", show=False),
    ],
    "learner": [  # screens/learner.py: LearnerScreen
        Binding("b", "book", "Book", id="learner-book"),
        Binding("c", "cancel_booking", "Cancel booking", id="learner-cancel"),
        Binding("r", "reload", "Reload", id="learner-reload"),
        Binding("a", "accept_offer", "Accept offer", id="learner-accept-offer"),
        Binding("i", "register_interest", "Interested", id="learner-interest"),
        Binding("q", "app.quit", "Quit", id="learner-quit"),
    ],
    "kiosk": [  # screens/kiosk.py: KioskScreen
        # Priority: the input's own ctrl+x (cut) must not swallow the exit key.
        Binding("ctrl+x", "exit_prompt", show=False, priority=True, id="kiosk-exit"),
    ],
    "help": [  # screens/help.py: HelpScreen
        Binding("escape,q,question_mark", "close", "Close", id="help-close"),
    ],
    "date-filter": [  # screens/date_filter.py: DateFilterModal
        Binding("escape", "abandon", "Back", id="date-filter-back"),
    ],
    "confirm": [  # screens/dialogs.py: ConfirmModal
        Binding("escape", "answer(False)", "No", id="confirm-no"),
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
    ],
    "text": [  # screens/dialogs.py: TextModal
        Binding("escape", "abandon", "Back", id="text-abandon"),
    ],
    "notice": [  # screens/dialogs.py: NoticeModal
        Binding("escape", "close", "Close", id="notice-close"),
    ],
    "form": [  # screens/dialogs.py: FormModal
        Binding("escape", "abandon", "Back", id="form-back"),
    ],
}
