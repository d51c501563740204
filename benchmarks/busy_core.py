"""Default fits on a quiet machine and beside a one-core CPU burner, with
``fit_threads=1`` and with torch's thread count (2 on a 2-core machine).

Run: python benchmarks/busy_core.py   (needs: pip install -e ".[benchmarks]")
"""

import subprocess
import sys
import time
import warnings

import torch
from sklearn.model_selection import train_test_split

import skresnet
from skresnet import ResNetClassifier
from skresnet.datasets import load_digits_images, load_ucr

warnings.filterwarnings("ignore")
torch.set_num_threads(2)
X, y = load_digits_images()
digits = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
gun = load_ucr("GunPoint")
sets = {"digits 8x8": digits, "GunPoint": gun}
rows = []
for burner in (False, True):
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if burner else None
    time.sleep(1 if burner else 0)
    try:
        for name, (Xtr, Xte, ytr, yte) in sets.items():
            for threads in (1, None):
                with skresnet.config_context(fit_threads=threads):
                    t = time.perf_counter()
                    clf = ResNetClassifier(random_state=0).fit(Xtr, ytr)
                    dt = time.perf_counter() - t
                state = "beside a burner" if burner else "quiet"
                used = threads or torch.get_num_threads()
                rows.append((name, state, used, round(dt, 1), round(clf.score(Xte, yte), 3)))
                print(rows[-1], flush=True)
    finally:
        if proc:
            proc.kill()
