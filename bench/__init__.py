"""Benchmarks that count rather than time where timing would measure the emulator (`python -m bench.run`)."""
