from django.http import Http404
from django.shortcuts import render

from discovery import services

SORT_CHOICES = [("viewers", "Most viewers"), ("newest", "Newest")]


def search(request):
    """The header's search box: rooms by title, tag, category or broadcaster, live first."""
    query = request.GET.get("q", "")
    listing = services.search_rooms(query, request.GET.get("sort"), request.GET.get("page"))
    context = {
        "query": query[: services.matching.MAX_QUERY_CHARS],
        "listing": listing,
        "sort_choices": SORT_CHOICES,
    }
    return render(request, "discovery/search.html", context)


def categories(request):
    return render(request, "discovery/categories.html", {"categories": services.categories()})


def category(request, name: str):
    """A category's live rooms. `?fragment=live` answers only the grid, which
    static/js/directory.js swaps in when a room goes live or offline."""
    if len(name) > services.MAX_CATEGORY_CHARS:
        raise Http404("No such category.")
    listing = services.category(name, request.GET.get("sort"), request.GET.get("page"))
    context = {
        "name": name,
        "listing": listing,
        "live_rooms": listing.page.object_list,
        "sort_choices": SORT_CHOICES,
    }
    if request.GET.get("fragment") == "live":
        return render(request, "discovery/category_grid.html", context)
    return render(request, "discovery/category.html", context)
