"""Every write of the privacy app: exports, erasure, participation, settings, retention."""
