"""The original design's example code, kept once and imported by the tests that run it."""
