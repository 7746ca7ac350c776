from __future__ import annotations

from typing import Any

from content.models import Content


def on_content_withdrawn(sender: Any, content: Content, **kwargs: Any) -> None:
    from advocacy.services.sharing import shares_recall

    shares_recall(content=content)
