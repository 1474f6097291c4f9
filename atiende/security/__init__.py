"""The hostile-input and fault suite: tests only (see docs/security.md)."""
