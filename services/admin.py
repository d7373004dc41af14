from django.contrib import admin

from services.models import AuditEvent, Membership, Service, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    # token_encrypted is not editable and never listed: the admin shows the hint only.
    list_display = ["name", "slug", "team", "kind", "gateway", "region", "updated_at"]
    list_filter = ["kind", "gateway", "team"]
    search_fields = ["name", "slug", "public_endpoint", "vpc_endpoint"]
    readonly_fields = ["token_hint", "created_by", "updated_by", "created_at", "updated_at"]
    exclude = ["token_encrypted"]

    def has_add_permission(self, request):
        # A service needs a token, which only the portal's own form takes.
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["team", "user", "role"]
    list_filter = ["role", "team"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "username", "action", "service_slug"]
    list_filter = ["action"]
    search_fields = ["username", "service_slug"]

    # An audit trail is read, not written, from the admin.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
