"""Logging of the command-line tools: each long job logs to a file beside its
output (the terminal shows its progress bar)."""
import logging
import os


def log_to(path, name):
    """The tool's logger, writing to `path` (and only there: several tools run
    in one process by tools/run_tools.py each keep their own file)."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    path = os.path.abspath(path)
    for h in list(logger.handlers):
        if getattr(h, "baseFilename", None) != path:
            logger.removeHandler(h)
            h.close()
    if not logger.handlers:
        handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
    return logger


def close_under(folder):
    """Closes the tools' log files under `folder` (a streamed chunk's, before
    it is deleted: a long-lived process would keep them open)."""
    prefix = os.path.abspath(folder).rstrip("/") + "/"
    for logger in list(logging.Logger.manager.loggerDict.values()):
        for h in list(getattr(logger, "handlers", [])):
            if getattr(h, "baseFilename", "").startswith(prefix):
                logger.removeHandler(h)
                h.close()
