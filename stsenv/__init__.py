"""stsenv: AWS temporary credentials, cached and shared by every terminal and SDK of the user."""

__version__ = "0.1.0"
