"""taskhub: one serverless backend for the task APIs engineering teams script against."""

__version__ = "0.1.0"
