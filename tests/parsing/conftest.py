"""Parsing tests: fixture loader and hypothesis profiles.

Profiles: "ci" (default, 50 examples, keeps the suite fast) and "long" (1000
examples, for occasional deeper fuzzing):  HYPOTHESIS_PROFILE=long pytest tests/parsing
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
