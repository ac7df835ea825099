"""The pairing ledger in Excel (liaison.ledger_views), under /pairing/ledger/."""

from django.urls import path

from . import ledger_views as views

app_name = "ledger"
urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("template/", views.template_download, name="template"),
    path("<int:pk>/", views.job_detail, name="job-detail"),
    path("<int:pk>/progress/", views.job_progress, name="job-progress"),
    path("<int:pk>/confirm/", views.job_confirm, name="job-confirm"),
]
