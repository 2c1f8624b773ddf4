"""Watches in a running process: the runtime, the scheduler, webhook delivery, the URL guard.

Nothing here is for other packages but the runtime the services hold.
"""

__all__: list[str] = []
