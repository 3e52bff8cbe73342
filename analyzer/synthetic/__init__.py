"""Synthetic exports, written the way PowerShell writes them, for samples, tests and benchmarks.

Everything produced here is labelled synthetic by its callers; nothing here reads customer data.
"""
