"""Imports every per-service rule module so their rules register."""
