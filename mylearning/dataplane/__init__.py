"""The data plane: what runs the tasks, load balancers and proxies of the embedded AWS."""
