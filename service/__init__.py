"""The service process: settings, logging, signal handling, demo and one-shot export."""
