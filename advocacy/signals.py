"""The one signal advocacy sends: something happened (a share published, a share link
confirmed, a click recorded, a share recalled). Sent once per Activity row, after commit.
Receivers get `activity` (an advocacy.models.Activity)."""

from django.dispatch import Signal

activity_recorded = Signal()
