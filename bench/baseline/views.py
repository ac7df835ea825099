from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from .models import Household


@login_required
def household_list(request):
    """25 households of one community (``?community=<id>``), a paginated plain table.

    One count (index-only on the address index) and one query of 25 rows with their compound and
    building joined, ordered by the index: with the session and the user, 4 queries a page.
    """
    try:
        community = int(request.GET.get("community", "0"))
    except ValueError:
        community = 0
    households = (
        Household.objects.filter(community_id=community)
        .select_related("compound", "building")
        .order_by("compound_id", "building_id", "unit", "room")
    )
    page = Paginator(households, 25).get_page(request.GET.get("page"))
    return render(request, "baseline/household_list.html", {"page": page})
