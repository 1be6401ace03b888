"""Kernels that start as fork()s of a process that has imported everything already (the kernel fork server)."""
