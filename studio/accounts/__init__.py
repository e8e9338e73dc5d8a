"""Accounts: login, logout and API tokens for scripts."""
