from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("EAS services")

    def ready(self):
        from django.apps import apps
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from services import kept

        # A save or delete of a model that kept rows are read from makes them stale
        # (services/kept.py); so does a change of a many-to-many relation between them.
        watched = [apps.get_model(name) for name in kept.WATCHED]
        for model in watched:
            for signal in (post_save, post_delete):
                signal.connect(kept.changed, sender=model, dispatch_uid=f"kept-{model._meta}")
            for field in model._meta.local_many_to_many:
                m2m_changed.connect(kept.changed, sender=field.remote_field.through,
                                    dispatch_uid=f"kept-{field.remote_field.through._meta}")
