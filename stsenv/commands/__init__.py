"""The commands other than `serve` and `use`, one module each, registered by stsenv.cli."""
