"""The camera registry: elderships (sites), their cameras, and the data controller's details."""
