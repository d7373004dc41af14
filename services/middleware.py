"""Pages answer a services.errors.Refusal the way the API does, with its status and message:
404 and 403 with their pages, anything else with the 400 page."""

from django.shortcuts import render

from services.errors import Refusal

TEMPLATES = {403: "403.html", 404: "404.html"}


class RefusalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Refusal):
            return None
        template = TEMPLATES.get(exception.status, "400.html")
        return render(request, template, {"detail": str(exception.message)},
                      status=exception.status)
