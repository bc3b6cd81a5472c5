"""Reusable widgets: the paged table, the status line and the form pickers."""
