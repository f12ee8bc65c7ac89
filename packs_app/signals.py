"""What packs_app announces to the apps above it (which connect in their AppConfig.ready)."""

from django.dispatch import Signal

# Sent by `manage.py load_packs` once the built-in packs are loaded: packs=[Pack],
# say=a function printing a line for whoever ran the command. The runs app trains the
# packs' showcase runs on it.
packs_loaded = Signal()
