"""Gamification models: the points ledger and what derives from it (points.py), challenges
(campaigns.py) and the rewards catalogue (rewards.py)."""

from challenges.models.campaigns import *  # noqa: F403
from challenges.models.display import *  # noqa: F403
from challenges.models.points import *  # noqa: F403
from challenges.models.rewards import *  # noqa: F403
