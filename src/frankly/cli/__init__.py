"""The ``frankly`` command line: thin wrappers over frankly.batch and frankly.training.

Run ``frankly --help``; the entry point is :func:`frankly.cli.main.main`.
"""
