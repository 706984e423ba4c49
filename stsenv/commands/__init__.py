"""One module per command, named after it, each with register(commands) for stsenv.cli."""
