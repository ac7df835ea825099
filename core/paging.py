"""Paging that does not count a city per request.

Django's ``Paginator`` runs ``COUNT(*)`` of the whole list on every page. A community's list is
counted through its index in about a millisecond (the count does not grow with the city), but a
city-wide admin's list is a million rows: 50 ms a request. The cap is low on purpose: counting
10,000 rows of a city-wide search costs 3–8 ms, 1,000 rows a tenth of that, and "more than 1,000"
tells an admin as much. ``CappedPaginator`` counts at most
``cap + 1`` rows (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``): below the cap the count is exact,
above it the page says "more than 1,000" and paging goes on by next / previous (each page
reads one row more than it shows to know whether there is a next one).

Views pick the cap from the scope (``count_cap``): exact for users whose grants bound the list,
capped for those who act everywhere.
"""

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

from .access import is_global

COUNT_CAP = 1_000
MAX_OFFSET = 2**62  # an OFFSET beyond a bigint overflows; no list comes near it


def count_cap(user, action: str) -> int | None:
    """The cap for a list in ``user``'s scope: None (an exact count) unless the user acts everywhere."""
    return COUNT_CAP if is_global(user, action) else None


class CappedPage(Page):
    """A page that knows whether a next one exists without the total (read one row ahead)."""

    def __init__(self, object_list, number, paginator, has_more: bool):
        super().__init__(object_list, number, paginator)
        self._has_more = has_more

    def has_next(self):
        return self._has_more

    def end_index(self):
        return (self.number - 1) * self.paginator.per_page + len(self)


class CappedPaginator(Paginator):
    """A ``Paginator`` whose count stops at ``cap`` (None: an exact count, Django's behaviour).

    ``capped`` tells whether there are more rows than ``count``; then ``num_pages`` is the pages
    the cap covers and any later page number is still served (empty past the end).
    """

    def __init__(self, object_list, per_page, *, cap: int | None = COUNT_CAP, count_rows=None, **kwargs):
        """``count_rows``: the same rows to count, when ``object_list`` joins tables only to show
        them (a values list of related names): counting it would join them for nothing."""
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.count_rows = count_rows if count_rows is not None else object_list

    @cached_property
    def _counted(self) -> int:
        if self.cap is None:
            return super().count if self.count_rows is self.object_list else self.count_rows.count()
        return self.count_rows.order_by()[: self.cap + 1].count()

    @cached_property
    def capped(self) -> bool:
        return self.cap is not None and self._counted > self.cap

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap) if self.cap is not None else self._counted

    def validate_number(self, number):
        if not self.capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            return super().validate_number(number)  # raises PageNotAnInteger
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if number > MAX_OFFSET // self.per_page:
            raise EmptyPage(self.error_messages["no_results"])
        return number  # past the cap: the page itself finds out whether it is empty

    def page(self, number):
        number = self.validate_number(number)
        if not self.capped:
            page = super().page(number)
            return CappedPage(page.object_list, page.number, self, page.has_next())
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, len(rows) > self.per_page)

    def get_page(self, number):
        """Like Django's: a page number that is not one is page 1, one past the end the last covered page."""
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(max(self.num_pages, 1))
