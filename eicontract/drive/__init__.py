"""Driving the target: whole-listing sweeps, the classify/job flow, the first-answer probe."""
