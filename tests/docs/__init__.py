"""Tests that keep the README, docs/ and examples/ honest: every code block runs."""
