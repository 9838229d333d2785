from django.core.management.base import BaseCommand
from django.db import transaction
from django_q.models import Schedule

from musictracker.schedules import schedules


class Command(BaseCommand):
    help = "Apply musictracker/schedules.py to django-q2: upsert by name, delete unknown names."

    def handle(self, *args, **options):
        wanted = schedules()
        names = {s["name"] for s in wanted}
        with transaction.atomic():
            removed, _ = Schedule.objects.exclude(name__in=names).delete()
            for s in wanted:
                defaults = {"func": s["func"], "args": s.get("args"), "repeats": -1}
                if "cron" in s:
                    defaults.update(schedule_type=Schedule.CRON, cron=s["cron"], minutes=None)
                else:
                    defaults.update(schedule_type=Schedule.MINUTES, minutes=s["minutes"], cron=None)
                Schedule.objects.update_or_create(name=s["name"], defaults=defaults)
        self.stdout.write(f"{len(wanted)} schedules applied, {removed} removed.")
