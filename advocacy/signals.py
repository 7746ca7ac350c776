"""The signals advocacy sends.

`activity_recorded`: something happened (a share published, a share link confirmed, a
click recorded, a share recalled). Sent once per Activity row, after commit. Receivers get
`activity` (an advocacy.models.Activity).

`share_state_changed`: a share reached a state that matters beyond the pipeline
(published, failed, outcome unknown, dismissed, cancelled, being deleted, deleted, asked to
delete, could not be deleted). Sent after commit; receivers get `share_id` and read the
share's state then (the archive keeps what left Portevoix). A lost signal is made up by
the receiver's own sweep, so it is sent robustly: a receiver's failure never undoes the
share's transition."""

from django.dispatch import Signal

activity_recorded = Signal()
share_state_changed = Signal()
