"""Run, RunEvent and Checkpoint models."""
