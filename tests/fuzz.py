"""How hard the property tests try, chosen with ``HYPOTHESIS_PROFILE``.

* ``ci`` (the default, what ``.ci/run`` uses): each hostile-input property runs the example count
  written next to it (thousands for pure functions, fewer where each example drives the simulated
  bot), so the whole suite stays within a few minutes.
* ``nightly``: ten times as many examples, for a scheduled or pre-release run:
  ``HYPOTHESIS_PROFILE=nightly .venv/bin/python -m pytest tests/test_hostile_text.py``.
* ``dev``: a tenth, for quick iteration.

Properties use :func:`fuzz` instead of a bare ``settings(max_examples=…)`` so the profile scales
them; hypothesis's own profile of the same name applies to the other property tests.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
SCALE = {"ci": 1.0, "nightly": 10.0, "dev": 0.1}

if PROFILE not in SCALE:
    raise RuntimeError(f"HYPOTHESIS_PROFILE={PROFILE!r}: use one of {', '.join(SCALE)}")

settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("nightly", deadline=None, print_blob=True, max_examples=1000)
settings.register_profile("dev", deadline=None, max_examples=20)
settings.load_profile(PROFILE)


def fuzz(examples: int) -> settings:
    """Settings for a property that should try ``examples`` cases in CI (scaled by the profile)."""
    return settings(max_examples=max(1, int(examples * SCALE[PROFILE])), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
