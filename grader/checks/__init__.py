"""Judging: checks, comparisons, numerical gradients, statistics and the topics. Nothing here runs
student code itself; checks ask a Student for calls."""
