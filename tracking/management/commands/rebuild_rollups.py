from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tracking import listens


class Command(BaseCommand):
    help = "Recompute the statistics rollups from the listens (all users, or --user NAME)."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="only this user")

    def handle(self, *args, **options):
        users = get_user_model().objects.order_by("pk")
        if options["user"]:
            users = users.filter(username=options["user"])
            if not users.exists():
                raise CommandError(f"No user named {options['user']!r}.")
        for user in users:
            n = listens.rebuild_rollups(user)
            self.stdout.write(f"{user.username}: rollups rebuilt from {n} listens")
