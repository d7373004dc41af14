"""What error reports may show (settings.DEFAULT_EXCEPTION_REPORTER_FILTER): Django's filter,
active with DEBUG on as well. `make run` turns DEBUG on, and its debug page goes to whoever
made the request fail, a team member too; a service's token must be on it no more than in a
report mailed to the admins. So the functions that hold a plaintext token are marked with
@sensitive_variables() (every local of theirs, and of everything they call, is hidden), the
views that receive one with @sensitive_post_parameters("token"), and this filter applies both
whatever DEBUG says."""

import re

from django.views.debug import SafeExceptionReporterFilter


class ReporterFilter(SafeExceptionReporterFilter):
    # Django's names of settings and request headers (META) whose values are hidden, and AUTH:
    # an Authorization header carries a personal key (the JSON API, the gateway).
    hidden_settings = re.compile("API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE",
                                 flags=re.IGNORECASE)

    def is_active(self, request):
        return True
