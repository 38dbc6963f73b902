"""Endpoint handlers, one module per resource: (HttpRequest, Services) -> HttpResponse."""
