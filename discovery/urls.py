from django.urls import path

from discovery import views

app_name = "discovery"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("categories/", views.categories, name="categories"),
    path("categories/<path:name>/", views.category, name="category"),
]
