"""Pagination of the feed (page and API) that reads the total with the page."""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window


class CountInPagePaginator(Paginator):
    """Reads the total with the page, as a window count in the same query, rather than a
    COUNT query before it. Only a page past the end (no row to carry the total) or a
    DISTINCT query (the window would count duplicates) pays the separate COUNT."""

    def get_page(self, number: Any) -> Page:
        # As Paginator.get_page, without counting before reading the page.
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(self.num_pages)

    def page(self, number: Any) -> Page:
        object_list = self.object_list
        if not isinstance(object_list, QuerySet) or object_list.query.distinct or self.orphans:
            return super().page(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            return super().page(number)  # its own error
        if number < 1:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(
            object_list.annotate(feed_total=Window(Count("pk")))[bottom : bottom + self.per_page]
        )
        if not rows:
            return super().page(number)  # empty feed, or past the end: COUNT and its error
        first = rows[0]
        total = first["feed_total"] if isinstance(first, dict) else first.feed_total
        self.__dict__["count"] = total  # Paginator.count is a cached property
        return self._get_page(rows, number, self)
