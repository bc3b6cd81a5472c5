"""Tests of the scripting interface, run as a subprocess."""
