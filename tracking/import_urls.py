from django.urls import path

from tracking import import_views

app_name = "tracking-imports"

urlpatterns = [
    path("upload/", import_views.import_upload, name="import-upload"),
    path("export/<str:fmt>/", import_views.export_download, name="export-download"),
]
