"""Benchmarks: each module's `main()` starts real servers, drives them and prints its figures.

Benchmarks are not tests: they print numbers (and ratios against a baseline measured in the same
run). Run them all with `make bench` (`python -m bench`), or one with `python -m bench api_me`.
"""
