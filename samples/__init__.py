"""Synthetic sample bundles shipped with exaudit (package data `analyzer.samples`; `exaudit scan --demo`)."""
