"""The main job runs end to end: `python -m skresnet demo --quick`."""

import subprocess
import sys


def test_demo_prints_a_row_per_model():
    """The demo command fits all three estimators and their baselines and prints the table."""
    out = subprocess.run(
        [sys.executable, "-m", "skresnet", "demo", "--quick"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    for name in ("ResNetClassifier", "ResidualMLPRegressor", "TCNForecaster", "seasonal naive"):
        assert name in out
    assert "total" in out
