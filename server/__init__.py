"""Front doors: the API and page (`app`), the CLI (`cli`), settings. The only code that reads the environment.

Public names resolve lazily (see `search._exports`); modules not listed here are
the package's internals.
"""

from search._exports import lazy_exports

__all__ = [
    "Models",
    "Services",
    "Settings",
    "create_app",
    "load_models",
    "load_settings",
]

_EXPORTS = {
    "Models": "server.profiles",
    "Services": "server.services",
    "Settings": "server.settings",
    "create_app": "server.app",
    "load_models": "server.profiles",
    "load_settings": "server.settings",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
