from django.urls import path

from . import export_views
from . import import_views as views

app_name = "imports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.job_detail, name="job-detail"),
    path("<int:pk>/progress/", views.job_progress, name="job-progress"),
    path("template/", views.template_download, name="template"),
    path("export/", export_views.export, name="export"),
]
