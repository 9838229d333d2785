from django.urls import path

from collection import views

app_name = "collection"

urlpatterns = [
    path("", views.collection_list, name="collection-list"),
]
