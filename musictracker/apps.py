from django.apps import AppConfig


class MusictrackerConfig(AppConfig):
    name = "musictracker"
    verbose_name = "Accounts and jobs"

    def ready(self) -> None:
        from django_q.signals import post_execute

        from musictracker import throttle  # noqa: F401  (connects the login signals)

        post_execute.connect(_task_finished, dispatch_uid="musictracker-task-metrics")

        # Revoking a token or deactivating a user takes effect at once in this process (and
        # within ApiToken's TOKEN_CACHE_SECONDS in the others).
        from django.conf import settings
        from django.db.models.signals import post_delete, post_save

        from musictracker.models import forget_cached_tokens

        for sender in ("musictracker.ApiToken", settings.AUTH_USER_MODEL):
            for signal in (post_save, post_delete):
                signal.connect(
                    forget_cached_tokens, sender=sender, dispatch_uid=f"forget-tokens-{sender}"
                )


def _task_finished(sender, task, **kwargs) -> None:
    """Record each background task's duration and outcome (django-q2's post_execute signal)."""
    import logging

    from musictracker import metrics

    started, stopped = task.get("started"), task.get("stopped")
    name = str(task.get("func", "?")).rsplit(".", 1)[-1]
    if started and stopped:
        metrics.observe("task_duration_seconds", (stopped - started).total_seconds(), task=name)
    outcome = "success" if task.get("success") else "failure"
    metrics.inc("tasks_total", task=name, outcome=outcome)
    logging.getLogger("musictracker.tasks").info(
        "task=%s outcome=%s result=%s", name, outcome, str(task.get("result", ""))[:200]
    )
