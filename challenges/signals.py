"""Signals the apps above subscribe to (the Slack and Teams channels post launches and
results), so that this app never imports them."""

from django.dispatch import Signal

# sender=Challenge; challenge. Sent once, after the commit that announces the launch.
challenge_launched = Signal()
# sender=Challenge; challenge. Sent once, after the commit that finishes paying the results.
challenge_results_announced = Signal()
