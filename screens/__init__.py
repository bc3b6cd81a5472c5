"""The app's screens, one module per job; modals return typed values with `dismiss`."""
