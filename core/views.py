from django.http import JsonResponse


def healthz(request):
    """Placeholder; the API helper replaces this with database + broker checks."""
    return JsonResponse({"status": "ok"})
