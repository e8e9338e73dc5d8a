"""Runs: executing teams, their events and checkpoints."""
