"""AI market surveillance: a monitor over committed exchange activity, its detectors and alerts."""
