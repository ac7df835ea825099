from django.urls import path

from . import export_views as views

app_name = "exports"
urlpatterns = [
    path("<int:pk>/", views.job_detail, name="job-detail"),
    path("<int:pk>/progress/", views.job_progress, name="job-progress"),
    path("<int:pk>/download/", views.job_download, name="job-download"),
]
