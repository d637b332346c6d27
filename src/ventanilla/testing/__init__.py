"""Test support shipped with the package: factories and the shared two-organisation world."""
