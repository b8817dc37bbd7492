"""Built-in detectors; third-party ones register under the `aitbc.detectors` entry point group."""
