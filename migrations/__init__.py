"""Numbered, append-only schema steps, recorded in each index's manifest.

Never edit or renumber a step that has shipped: add the next one. A step gets
the store and the model and must be safe on an index built by every earlier
step. `migrate` applies the pending ones in order; opening an index that is
behind is an error that says to run it.
"""

from migrations.runner import MIGRATIONS, Migration, migrate, open_live, pending

__all__ = ["MIGRATIONS", "Migration", "migrate", "open_live", "pending"]
