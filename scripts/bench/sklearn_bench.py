"""scikit-learn's side of `npm run bench`: the same measurements on the same data, one core.

Usage: sklearn_bench.py fit-score DATA.f64 LABELS.u8 ROWS COLS REPEATS
       sklearn_bench.py e2e TRAIN.csv INPUT.csv OUTPUT.csv
Prints one JSON object on stdout.
"""
import json
import os
import pickle
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402


def best_of(repeats, fn):
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def fit_score(data_file, labels_file, rows, cols, repeats):
    x = np.fromfile(data_file, dtype="<f8").reshape(rows, cols)
    y = np.fromfile(labels_file, dtype=np.uint8)
    make = lambda: IsolationForest(n_estimators=100, max_samples=min(256, rows), random_state=0, n_jobs=1)
    fit_s, model = best_of(repeats, lambda: make().fit(x))
    score_s, scores = best_of(repeats, lambda: model.score_samples(x))
    one = x[:1]
    calls = 200
    single = []
    for i in range(calls):
        row = x[i % rows : i % rows + 1]
        t0 = time.perf_counter()
        model.score_samples(row)
        single.append(time.perf_counter() - t0)
    single.sort()
    return {
        "fit_s": fit_s,
        "score_s": score_s,
        "single_us": single[len(single) // 2] * 1e6,
        "model_bytes": len(pickle.dumps(model)),
        "roc_auc": float(roc_auc_score(y, -scores)),
    }


def e2e(train_file, input_file, output_file):
    import pandas as pd

    t0 = time.perf_counter()
    train = pd.read_csv(train_file)
    data = pd.read_csv(input_file)
    features = [c for c in train.columns if c not in ("timestamp", "label")]
    model = IsolationForest(n_estimators=100, max_samples=min(256, len(train)), random_state=0, n_jobs=1)
    model.fit(train[features].to_numpy())
    x = data[features].to_numpy()
    score = -model.score_samples(x)
    out = pd.DataFrame({"score": score, "is_anomaly": (score > 0.5).astype(int)})
    if "timestamp" in data.columns:
        out.insert(0, "timestamp", data["timestamp"])
    out.to_csv(output_file, index=False, float_format="%.6f")
    return {"seconds": time.perf_counter() - t0}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "fit-score":
        result = fit_score(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    elif mode == "e2e":
        result = e2e(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown mode {mode}")
    import sklearn

    result["sklearn"] = sklearn.__version__
    print(json.dumps(result))
