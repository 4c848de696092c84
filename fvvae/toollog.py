"""Logging of the command-line tools: each long job logs to a file beside its
output (the terminal shows its progress bar)."""
import logging


def log_to(path, name):
    logging.basicConfig(filename=path, level=logging.INFO, format="%(asctime)s %(message)s")
    return logging.getLogger(name)
