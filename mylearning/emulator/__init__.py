"""The embedded AWS. Only `server` imports moto, and only in the emulator's own process."""
