"""Registers the eicontract pytest plugin for every run in this repository."""

pytest_plugins = ["eicontract.plugin"]
