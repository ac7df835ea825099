from django.urls import path

from . import views

app_name = "grid"

urlpatterns = [
    # Org tree
    path("tree/", views.tree, name="tree"),
    path("tree/new-community/", views.community_create, name="community-create"),
    path("tree/<int:pk>/", views.node_detail, name="node-detail"),
    path("tree/<int:pk>/children/", views.tree_children, name="tree-children"),
    path("tree/<int:pk>/add-child/", views.node_add_child, name="node-add-child"),
    path("tree/<int:pk>/rename/", views.node_rename, name="node-rename"),
    path("tree/<int:pk>/move/", views.node_move, name="node-move"),
    path("tree/<int:pk>/deactivate/", views.node_deactivate, name="node-deactivate"),
    path("tree/<int:pk>/reactivate/", views.node_reactivate, name="node-reactivate"),
    # Households
    path("households/", views.household_list, name="household-list"),
    path("households/new/", views.household_create, name="household-create"),
    path("households/<int:pk>/", views.household_detail, name="household-detail"),
    path("households/<int:pk>/reveal/", views.household_reveal, name="household-reveal"),
    path("households/<int:pk>/edit/", views.household_edit, name="household-edit"),
    path("households/<int:pk>/move-out/", views.household_move_out, name="household-move-out"),
    # Grids
    path("grids/", views.grid_list, name="grid-list"),
    path("grids/<int:pk>/", views.grid_detail, name="grid-detail"),
    path("grids/<int:pk>/colour/", views.grid_colour, name="grid-colour"),
    path("grids/<int:pk>/buildings/", views.grid_buildings, name="grid-buildings"),
    path("grids/<int:pk>/posts/new/", views.grid_post_create, name="grid-post-create"),
    path("grids/posts/<int:pk>/fill/", views.grid_post_fill, name="grid-post-fill"),
    path("grids/posts/<int:pk>/vacate/", views.grid_post_vacate, name="grid-post-vacate"),
    path("grids/posts/<int:pk>/holder-phone/", views.grid_post_holder_phone, name="grid-post-holder-phone"),
]
