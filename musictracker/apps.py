from django.apps import AppConfig


class MusictrackerConfig(AppConfig):
    name = "musictracker"
    verbose_name = "Accounts and jobs"

    def ready(self) -> None:
        from django_q.signals import post_execute

        from musictracker import throttle  # noqa: F401  (connects the login signals)

        post_execute.connect(_task_finished, dispatch_uid="musictracker-task-metrics")


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
