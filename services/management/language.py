"""The language of what the commands print for a person to read (create_admin's password,
seed_demo's summary, prune_calls's and rotate_token_keys's counts): the shell's locale, as
other programs read it (LC_ALL, LC_MESSAGES, LANG): zh_CN and the like give Simplified Chinese,
anything else English (docs/i18n.md)."""

import functools
import os

from django.utils import translation


def shell_language():
    value = next((os.environ[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG")
                  if os.environ.get(name)), "")
    return "zh-hans" if value.lower().startswith("zh") else "en"


def in_the_shells_language(handle):
    """A command's handle(), speaking the shell's language while it runs."""

    @functools.wraps(handle)
    def speaking(*args, **kwargs):
        with translation.override(shell_language()):
            return handle(*args, **kwargs)

    return speaking
