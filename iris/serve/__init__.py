"""Ray Serve side of Iris: the app builder, deployments and the REST routes."""
