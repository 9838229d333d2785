import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from musictracker.db import optimize
from musictracker.models import Profile
from tracking import demo


class Command(BaseCommand):
    help = "Fill the database with a realistic listening history for one user (demo, benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--user", required=True, help="username (created, without password, if missing)"
        )
        parser.add_argument("--listens", type=int, default=50_000)
        parser.add_argument(
            "--years", type=float, default=None, help="span of the history (default: by size)"
        )
        parser.add_argument("--artists", type=int, default=300)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--time-zone", default=None, help="the user's time zone, if creating them"
        )

    def handle(self, *args, **o):
        if o["listens"] < 0 or o["artists"] < 30:
            raise CommandError("--listens must be ≥ 0 and --artists ≥ 30.")
        User = get_user_model()
        user, created = User.objects.get_or_create(username=o["user"])
        if created:
            user.set_unusable_password()
            user.save()
            self.stdout.write(
                f"Created user {user.username!r} without a password: set one with "
                f"`./manage.py changepassword {user.username}`."
            )
        profile, _ = Profile.objects.get_or_create(user=user)
        if o["time_zone"]:
            profile.time_zone = o["time_zone"]
            profile.save()
        started = time.monotonic()
        with tqdm(total=o["listens"], unit=" listens", disable=None, dynamic_ncols=True) as bar:
            result = demo.generate(
                user,
                listens=o["listens"],
                years=o["years"],
                artists=o["artists"],
                seed=o["seed"],
                progress=bar.update,
            )
        optimize()
        took = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.listens:,} listens of {result.tracks:,} tracks, {result.albums:,} albums and "
                f"{result.artists:,} artists; {result.collection} records in the collection "
                f"({took:.1f} s, {result.listens / max(took, 0.001):,.0f} listens/s)."
            )
        )
