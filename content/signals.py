"""Signals that the apps above subscribe to (sharing cancels shares on withdrawal; points
are paid for accepted suggestions and charter acceptances)."""

from django.dispatch import Signal

# sender=Content; content, actor
content_withdrawn = Signal()
# sender=Suggestion; suggestion
suggestion_accepted = Signal()
# sender=CharterAcceptance; acceptance
charter_accepted = Signal()
# sender=Content; content. Sent once per content item, after the commit of its first
# announcement to its audience (Slack and Teams channels post it).
content_published = Signal()
