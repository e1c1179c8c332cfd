from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = "Practice"

    def ready(self) -> None:
        from django.contrib.auth.models import User
        from django.db.models.signals import post_save, pre_save

        from practice.logins import _user_post_save, _user_pre_save

        pre_save.connect(_user_pre_save, sender=User, dispatch_uid="practice.logins.user_pre_save")
        post_save.connect(_user_post_save, sender=User, dispatch_uid="practice.logins.user_post_save")
