"""Points, levels, badges and leaderboards: navigation, notification kinds, signal
receivers and demo data, connected from ChallengesConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from advocacy.signals import activity_recorded
    from challenges import (
        points_admin,  # noqa: F401  (registers the Django admin pages)
        receivers,
    )
    from challenges.demo_points import seed_demo_points
    from challenges.models import Score
    from challenges.points_selectors import profile_points_context
    from challenges.services.leaderboards import (
        on_memberships_changed,
        on_score_saved,
        on_team_changed,
        on_user_saved,
    )
    from content.signals import charter_accepted, suggestion_accepted
    from notifications.kinds import kind_register
    from organizations.models import Team, User
    from organizations.navigation import nav_register
    from organizations.profile_sections import profile_section_register
    from organizations.signals import demo_seeded

    nav_register(url_name="leaderboard", label=_("Leaderboard"), order=30)
    kind_register("challenges.level_up", _("I reach a new level"), email_default=False)
    kind_register("challenges.badge", _("I earn a badge"), email_default=False)
    activity_recorded.connect(receivers.on_activity_recorded, dispatch_uid="points-activity")
    suggestion_accepted.connect(receivers.on_suggestion_accepted, dispatch_uid="points-suggestion")
    charter_accepted.connect(receivers.on_charter_accepted, dispatch_uid="points-charter")
    post_save.connect(on_user_saved, sender=User, dispatch_uid="points-leaderboard-user")
    post_save.connect(on_score_saved, sender=Score, dispatch_uid="points-leaderboard-score")
    post_save.connect(on_team_changed, sender=Team, dispatch_uid="points-leaderboard-team")
    post_delete.connect(on_team_changed, sender=Team, dispatch_uid="points-leaderboard-team-gone")
    m2m_changed.connect(
        on_memberships_changed, sender=User.teams.through, dispatch_uid="points-leaderboard-teams"
    )
    profile_section_register(
        key="points",
        template_name="challenges/profile_points.html",
        context=profile_points_context,
        order=10,
    )
    # After advocacy's demo (its shares, clicks and activity), before the campaigns' demo.
    demo_seeded.connect(seed_demo_points, dispatch_uid="points-demo")
