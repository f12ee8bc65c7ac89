"""What every app shares and that belongs to none: roles, the live-socket base class, the
analytics funnel, and the hooks through which the classroom layer reaches the layers below.
Imports no app of the lab (import-linter checks it)."""
