"""The API's route handlers, one module per resource; `server.app` mounts them.

Nothing here is for other packages: the handlers are reached over HTTP.
"""

__all__: list[str] = []
