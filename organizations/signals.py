"""Signals other apps subscribe to (in their AppConfig.ready), so this app never imports
a higher one."""

from django.dispatch import Signal

# sender=User; user, previous, actor
member_role_changed = Signal()
# sender=Invitation; invitation, user
invitation_accepted = Signal()
# sender=the seed command; organization. Later features add their demo data here.
demo_seeded = Signal()
