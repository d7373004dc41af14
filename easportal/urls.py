from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from services import gateway

urlpatterns = [
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("services.api.urls")),
    # The gateway: the service itself, for scripts with a personal key (services/gateway.py).
    path("gw/<slug:slug>", gateway.gateway, name="gateway"),
    path("gw/<slug:slug>/", gateway.gateway),
    path("gw/<slug:slug>/<path:rest>", gateway.gateway, name="gateway_path"),
    path("", include("services.urls")),
]

# Any error nothing answered: 503 while the database cannot be reached, else the 500 page.
handler500 = "services.middleware.server_error"
