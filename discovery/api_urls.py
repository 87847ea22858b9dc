from django.urls import path

from discovery import api

urlpatterns = [
    path("search/", api.SearchView.as_view(), name="api-search"),
    path("categories/", api.CategoryListView.as_view(), name="api-categories"),
    path("categories/<path:name>/", api.CategoryDetailView.as_view(), name="api-category"),
]
