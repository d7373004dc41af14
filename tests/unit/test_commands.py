import io
import stat
import subprocess
import sys

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext

from tests.helpers import BASE_DIR, manage


def test_create_admin_prints_a_generated_password_once(db):
    out = io.StringIO()
    call_command("create_admin", stdout=out)
    password = out.getvalue().split("password: ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)

    again = io.StringIO()
    call_command("create_admin", stdout=again)
    assert again.getvalue() == ""
    assert get_user_model().objects.count() == 1


def test_commands_print_in_the_shells_language(db, monkeypatch, settings):
    """Issue 15: a Chinese shell (LANG=zh_CN.UTF-8) reads the commands' output in Chinese; the
    language is the command's only, not the process's afterwards."""
    translation.activate("en")  # not what an earlier test left active in this thread
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    out = io.StringIO()
    call_command("create_admin", stdout=out)
    password = out.getvalue().split("：", 1)[1].split()[0]
    assert "admin" in out.getvalue() and "password" not in out.getvalue()
    assert get_user_model().objects.get(username="admin").check_password(password)
    settings.EASPORTAL_HISTORY_DAYS = 0
    pruned = io.StringIO()
    call_command("prune_calls", stdout=pruned)
    with translation.override("zh-hans"):
        expected = gettext("History retention is off (0 days): nothing deleted.")
    assert pruned.getvalue().strip() == expected != "History retention is off (0 days): " \
        "nothing deleted."
    assert translation.get_language() != "zh-hans"


def test_create_admin_does_nothing_when_a_user_exists(alice):
    call_command("create_admin", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="admin").exists()


def write_env(path):
    return subprocess.run([sys.executable, "scripts/write_env.py", str(path)], cwd=BASE_DIR,
                          capture_output=True, text=True, check=True)


def test_write_env_writes_private_working_settings_once(tmp_path):
    env_file = tmp_path / ".env"
    write_env(env_file)
    text = env_file.read_text()
    assert "DEBUG=1" in text and "SECRET_KEY=" in text and "EASPORTAL_TOKEN_KEYS=" in text
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    # Django starts with what it wrote, even with DEBUG off: the secrets are strong enough.
    production_like = text.replace("DEBUG=1", "DEBUG=0")
    env_file.write_text(production_like)
    assert manage("check", EASPORTAL_ENV_FILE=str(env_file)).returncode == 0

    write_env(env_file)
    assert env_file.read_text() == production_like  # an existing .env is never overwritten


def test_prune_calls_deletes_what_is_older_than_the_retention(service, bob, settings):
    from datetime import timedelta

    from django.utils import timezone

    from services.models import Call

    def a_call(days_ago):
        return Call.objects.create(
            team=service.team, service=service, service_slug="chat", service_name="Chat",
            user=bob, username="bob", endpoint="public", method="GET", url="http://x",
            status=200, status_class="2xx", elapsed_ms=1.0,
            created_at=timezone.now() - timedelta(days=days_ago))

    from services.models import ProbeHour
    from services.models.probes import hour_number

    old, recent = a_call(40), a_call(10)
    old_probe = a_call(31)
    old_probe.source = "probe"
    old_probe.save()
    now = hour_number(timezone.now())
    for hours_ago in (31 * 24, 29 * 24):
        ProbeHour.objects.create(service=service, hour=now - hours_ago, checks=1, ups=1)
    settings.EASPORTAL_HISTORY_DAYS = 30
    out = io.StringIO()
    call_command("prune_calls", stdout=out)
    assert ("Deleted 2 call(s) and 1 hourly probe count(s) older than 30 day(s)."
            in out.getvalue())
    assert list(ProbeHour.objects.values_list("hour", flat=True)) == [now - 29 * 24]
    assert list(Call.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Call.objects.filter(pk=old.pk).exists()

    settings.EASPORTAL_HISTORY_DAYS = 0
    call_command("prune_calls", stdout=io.StringIO())
    assert Call.objects.count() == 1
