"""How the bundled sample was built (`build_sample.py`) from the shared data."""

__all__: list[str] = []
