"""Tests of the reference server (eicontract.server)."""
