"""Next-bar return prediction: a small Lightning MLP on lagged features, scored walk-forward.

The daemon side (`service.py`, `routes.py`, `models.py`) stays light: it loads the bars,
checks the request and runs `worker.py` in a subprocess, where numpy, torch and
PyTorch Lightning load (`features.py`, `model.py`, `walk_forward.py`). See docs/trading.md.
"""
