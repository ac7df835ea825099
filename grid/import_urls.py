from django.urls import path

from . import export_views
from . import import_views as views

app_name = "imports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.job_detail, name="job-detail"),
    path("<int:pk>/progress/", views.job_progress, name="job-progress"),
    path("<int:pk>/confirm/", views.job_confirm, name="job-confirm"),
    path("<int:pk>/undo/", views.job_undo, name="job-undo"),
    path("template/", views.template_download, name="template"),
    path("export/", export_views.export, name="export"),
]
