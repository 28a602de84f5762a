"""Pages of the statistics, the project record and the funder's reports."""

from django.urls import path

from reports import views

urlpatterns = [
    path("statistics/", views.statistics_page, name="statistics"),
    path("project/", views.project_page, name="project"),
    path("project/edit/", views.project_edit, name="project-edit"),
    path("project/partners/<int:pk>/", views.partner_edit, name="partner-edit"),
    path("project/budget/new/", views.budget_line_edit, name="budget-line-new"),
    path("project/budget/<int:pk>/", views.budget_line_edit, name="budget-line-edit"),
    path("project/budget/<int:pk>/delete/", views.budget_line_delete, name="budget-line-delete"),
    path("project/indicators/new/", views.indicator_edit, name="indicator-new"),
    path("project/indicators/<int:pk>/", views.indicator_edit, name="indicator-edit"),
    path("project/indicators/<int:pk>/delete/", views.indicator_delete, name="indicator-delete"),
    path("project/activities/", views.activity_list, name="activity-list"),
    path("project/activities/new/", views.activity_edit, name="activity-new"),
    path("project/activities/<uuid:public_id>/", views.activity_detail, name="activity-detail"),
    path("project/activities/<uuid:public_id>/edit/", views.activity_edit, name="activity-edit"),
    path("project/activities/<uuid:public_id>/delete/", views.activity_delete, name="activity-delete"),
    path("project/photos/<uuid:public_id>.jpg", views.photo_image, name="activity-photo"),
    path("project/photos/<uuid:public_id>/delete/", views.photo_delete, name="activity-photo-delete"),
    path("project/expenditure/", views.expenditure_list, name="expenditure-list"),
    path("project/expenditure/new/", views.expenditure_edit, name="expenditure-new"),
    path("project/expenditure/<uuid:public_id>/", views.expenditure_edit, name="expenditure-edit"),
    path("project/expenditure/<uuid:public_id>/delete/", views.expenditure_delete, name="expenditure-delete"),
    path("reports/", views.report_list, name="report-list"),
    path("reports/<uuid:public_id>/", views.report_detail, name="report-detail"),
    path("reports/<uuid:public_id>/download/", views.report_download, name="report-download"),
]
