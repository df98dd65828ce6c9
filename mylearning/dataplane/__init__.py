"""The data plane: what the embedded AWS runs (task agent, course images, load balancers, proxy, telemetry)."""
