from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from advocacy.models import Activity, Click, Share
from advocacy.signals import activity_recorded, share_state_changed


def activity_record(
    *,
    kind: str,
    share: Share,
    occurred_at: datetime,
    click: Click | None = None,
    source_key: str = "",
) -> Activity | None:
    """Append an activity once: a repeat of the same source writes nothing and sends no
    signal. The signal goes out after the surrounding transaction commits."""
    key = source_key or f"{kind}:{click.event_id if click else share.pk}"
    try:
        with transaction.atomic():
            activity = Activity.objects.create(
                organization_id=share.organization_id,
                kind=kind,
                source_key=key,
                user_id=share.user_id,
                share=share,
                content_id=share.content_id,
                click=click,
                network=share.network,
                occurred_at=occurred_at,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: activity_recorded.send(sender=Activity, activity=activity))
    return activity


def share_state_announce(share_id: int) -> None:
    """Tell receivers (the archive) after commit that the share changed state; they read
    the share's state then."""
    transaction.on_commit(
        lambda: share_state_changed.send(sender=Share, share_id=share_id), robust=True
    )
